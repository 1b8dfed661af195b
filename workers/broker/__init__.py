"""The message broker: the stage topology declared once, delivery counts, delayed messages, the transport."""

__all__: list[str] = []
