"""Short names and acronyms joined to their long form across articles, through a real Redis and the real model."""

from __future__ import annotations

import redis

from workers.entities.long_forms import LongForms, joined_short_forms
from workers.entities.merge import ArticleEntities
from workers.entities.recognizer import recognizer_for
from workers.settings import Settings


def _article(organizations: list[str], aliases: list[str]) -> ArticleEntities:
    found = ArticleEntities(aliases=list(aliases), aliases_by_kind={"organizations": list(aliases)} if aliases else {})
    found.by_kind["organizations"] = list(organizations)
    return found


def test_an_acronym_another_article_defined_takes_its_long_form(redis_url: str, namespace: str) -> None:
    settings = Settings(redis_url=redis_url, namespace=namespace)
    first = recognizer_for(settings, redis.Redis.from_url(redis_url))
    second = recognizer_for(settings, redis.Redis.from_url(redis_url))
    defined = first.entities("The UN Food and Agriculture Organization (FAO) warned of locust swarms. The FAO "
                             "said the swarms were the worst in 25 years.", "en")
    (long_form,) = defined["organizations"]
    assert "Food and Agriculture Organization" in long_form
    later = second.article_entities("Farmers in Kenya asked the FAO for help on Monday, officials in Nairobi said.",
                                    "en")
    assert later.by_kind["organizations"] == [long_form]
    assert "FAO" in later.aliases_by_kind["organizations"]  # the short form stays searchable
    alone = recognizer_for(Settings(redis_url=redis_url, namespace=f"{namespace}-other"),
                           redis.Redis.from_url(redis_url))
    assert alone.entities("Farmers in Kenya asked the FAO for help on Monday.", "en")["organizations"] == ["FAO"]


def test_a_short_form_joined_two_ways_stays_as_written(redis_url: str, namespace: str) -> None:
    store = LongForms(redis.Redis.from_url(redis_url), namespace)
    store.apply(_article(["Royal Dutch Shell"], ["Shell"]))
    assert store.apply(_article(["Shell"], [])).by_kind["organizations"] == ["Royal Dutch Shell"]
    store.apply(_article(["Shell Oil Company Shell"], ["Shell"]))  # a second long form: ambiguous for good
    assert store.apply(_article(["Shell"], [])).by_kind["organizations"] == ["Shell"]
    store.apply(_article(["Royal Dutch Shell"], ["Shell"]))
    assert store.apply(_article(["Shell"], [])).by_kind["organizations"] == ["Shell"]


def test_only_last_words_and_initials_are_short_forms() -> None:
    found = _article(["Microsoft Teams", "European Central Bank"], ["Microsoft", "Teams", "ECB"])
    assert joined_short_forms(found) == {"organizations": {"teams": "Microsoft Teams",
                                                           "ecb": "European Central Bank"}}
