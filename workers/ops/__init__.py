"""Operating a deployment: the runner, scheduler, status, backup, retention, takedowns, one-shot jobs."""

__all__: list[str] = []
