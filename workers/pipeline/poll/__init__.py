"""Poll stage: feeds fetched and parsed, new items found, the schedule and back-pressure."""

__all__: list[str] = []
