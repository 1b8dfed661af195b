"""The network edge: the shared HTTP client, the address guard, the XML guard, politeness and robots.txt."""

__all__: list[str] = []
