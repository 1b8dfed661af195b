"""Fetch stage: one article page, politely, decoded to text and archived."""

__all__: list[str] = []
