"""The Celery worker: the app, thin tasks, and the middleware every task runs inside."""

__all__: list[str] = []
