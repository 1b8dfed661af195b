"""Short names and acronyms joined to their long form across the corpus, through Redis.

Within an article, "Teams" joins "Microsoft Teams" and "FAO" the "Food and Agriculture Organization" the text
defines (:mod:`workers.entities.merge`). An article that writes only the short form has nothing to join it
to, so each join is remembered per kind (HSETNX: the first article's long form wins), and a later article's
lone short form takes it. A short form two articles joined to different long forms is ambiguous ("Shell",
"ECB"): it is marked so, for good, and stays as written.
"""

from __future__ import annotations

from redis import Redis

from workers.entities.merge import ArticleEntities
from workers.entities.normalize import comparison_key
from workers.state.keys import Keys

__all__ = ["LongForms", "joined_short_forms"]

_AMBIGUOUS = ""
_KINDS = ("organizations", "locations", "events")  # a surname across articles names too many people
_MAX_ACRONYM = 6


def _short(name: str) -> bool:
    letters = name.replace(".", "").replace("&", "")
    return " " not in name and ((letters.isupper() and 2 <= len(letters) <= _MAX_ACRONYM) or name[:1].isupper())


def _initials(name: str) -> str:
    return "".join(word[0] for word in name.replace("-", " ").split() if word[:1].isupper())


def _stands_for(acronym: str, name: str) -> bool:
    """"FAO" for "(UN) Food and Agriculture Organization": the initials, after any qualifying first words."""
    letters = acronym.replace(".", "")
    return letters.isupper() and len(letters) >= 2 and _initials(name).endswith(letters)


def joined_short_forms(found: ArticleEntities) -> dict[str, dict[str, str]]:
    """Per kind, each one-word spelling the article merged away -> the one long name it is the last word or the
    initials of."""
    joins: dict[str, dict[str, str]] = {}
    for kind in _KINDS:
        names = found.by_kind.get(kind, [])
        for alias in found.aliases_by_kind.get(kind, []):
            if not _short(alias):
                continue
            key = comparison_key(alias)
            # The last word ("Teams" of "Microsoft Teams", "Shell" of "Royal Dutch Shell"), never the first: a
            # "Microsoft" joined to "Microsoft Teams" in one article must not rename every Microsoft after it.
            targets = [n for n in names if len(n.split()) > 1 and (
                comparison_key(n).split()[-1] == key or _stands_for(alias, n))]
            if len(targets) == 1:
                joins.setdefault(kind, {})[key] = targets[0]
    return joins


class LongForms:
    """The corpus-wide long forms of short names, stored under ``{namespace}:entity:long-form:*``."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.keys = Keys(namespace)

    def apply(self, found: ArticleEntities) -> ArticleEntities:
        """Remember the article's joins, then give its lone short names the long form another article joined."""
        joins = joined_short_forms(found)
        pipe = self.redis.pipeline(transaction=False)
        flat = [(kind, key, long) for kind, pairs in joins.items() for key, long in pairs.items()]
        for kind, key, long in flat:
            pipe.hsetnx(self.keys.entity_long_forms(kind), key, long)
        for kind, key, _ in flat:
            pipe.hget(self.keys.entity_long_forms(kind), key)
        lone = [(kind, name) for kind in _KINDS for name in found.by_kind.get(kind, []) if _short(name)]
        for kind, name in lone:
            pipe.hget(self.keys.entity_long_forms(kind), comparison_key(name))
        answers = pipe.execute()
        stored = answers[len(flat):len(flat) * 2]
        disagree = [(kind, key) for (kind, key, long), value in zip(flat, stored, strict=True)
                    if value is not None and _text(value) not in (long, _AMBIGUOUS)]
        if disagree:
            pipe = self.redis.pipeline(transaction=False)
            for kind, key in disagree:
                pipe.hset(self.keys.entity_long_forms(kind), key, _AMBIGUOUS)
            pipe.execute()
        renames: dict[str, dict[str, str]] = {}
        for (kind, name), value in zip(lone, answers[len(flat) * 2:], strict=True):
            long = _text(value)
            if long and long != name and (kind, comparison_key(name)) not in disagree:
                renames.setdefault(kind, {})[name] = long
        return _renamed(found, renames) if renames else found


def _renamed(found: ArticleEntities, renames: dict[str, dict[str, str]]) -> ArticleEntities:
    result = ArticleEntities(by_kind={k: list(v) for k, v in found.by_kind.items()}, aliases=list(found.aliases),
                             aliases_by_kind={k: list(v) for k, v in found.aliases_by_kind.items()},
                             extracted=found.extracted)
    for kind, mapping in renames.items():
        result.by_kind[kind] = list(dict.fromkeys(mapping.get(n, n) for n in found.by_kind[kind]))
        moved = [short for short in mapping if short not in result.by_kind[kind]]
        result.aliases = list(dict.fromkeys([*result.aliases, *moved]))
        result.aliases_by_kind[kind] = list(dict.fromkeys([*result.aliases_by_kind.get(kind, []), *moved]))
    return result


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value
