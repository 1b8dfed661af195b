"""The four stages, in reading order: poll → fetch → extract → index. Plain functions, free of Celery."""

__all__: list[str] = []
