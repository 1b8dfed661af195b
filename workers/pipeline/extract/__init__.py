"""Extract stage: body, metadata, language, entities and near-duplicate fingerprint of a page."""

__all__: list[str] = []
