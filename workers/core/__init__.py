"""Foundations every layer uses: errors, the typed records, document ids, logs, dates, child processes."""

__all__: list[str] = []
