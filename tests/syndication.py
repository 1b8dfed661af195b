"""A generated corpus of syndicated wire copies and distinct same-event stories, from real article texts.

Each real base text becomes one story told by several outlets: edited
headlines, endings trimmed or extended with the outlet's own paragraphs, a
paragraph dropped, boilerplate above and below, spelling changes. Beside
them, "same event" stories: another real article's body with the headline and
a quoted sentence or two of the base in it, which must NOT join the cluster.
Used by tests/test_near_duplicates.py and bench/near_duplicates.py.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GROUND_TRUTH = ROOT.parent / "shared" / "data" / "article-extraction" / "dev" / "ground-truth.json"
SEED_PAGES = ROOT / "seeds" / "articles"

_BOILERPLATE = [
    "Sign up for our morning newsletter to get the day's top stories in your inbox.",
    "Copyright 2020 The Associated Press. All rights reserved. This material may not be published, broadcast, "
    "rewritten or redistributed.",
    "Reporting by staff; editing by the news desk. Our Standards: The Trust Principles.",
    "Follow us on Twitter and Facebook for the latest updates.",
    "Advertisement",
    "Related coverage: more stories from our world desk.",
    "This article originally appeared on a partner site and is republished with permission.",
]
_SPELLING = {"color": "colour", "center": "centre", "organization": "organisation", "said": "stated",
             "percent": "per cent", "program": "programme"}
_SENTENCE = re.compile(r"(?<=[.!?。])\s+")


@dataclass(frozen=True, slots=True)
class Story:
    doc_id: str
    title: str
    body: str
    truth: str  # the story this text is a copy of; distinct stories have their own


def base_texts(min_words: int = 150) -> list[tuple[str, str]]:
    """(title, body) of real articles: the dev ground truths when present, else the seed pages."""
    texts: list[tuple[str, str]] = []
    if GROUND_TRUTH.is_file():
        for key, entry in sorted(json.loads(GROUND_TRUTH.read_text()).items()):
            texts.append((key, entry["articleBody"]))
    else:
        import trafilatura

        for path in sorted(SEED_PAGES.glob("*.html")):
            body = trafilatura.extract(path.read_text(errors="replace")) or ""
            texts.append((path.stem.replace("-", " "), body))
    kept: list[tuple[str, str]] = []
    shingled: list[set[str]] = []
    for title, body in texts:
        if len(body.split()) < min_words:
            continue
        # The real set itself holds a few pages sharing much of their text; their copies would be true
        # near-duplicates of one another, so only the first of them is a base (exact shingle overlap).
        words = re.findall(r"\w+", body.casefold())
        own = {" ".join(words[i:i + 5]) for i in range(len(words) - 4)}
        if any(len(own & other) / min(len(own), len(other)) > 0.2 for other in shingled):
            continue
        kept.append((title, body))
        shingled.append(own)
    return kept


def _paragraphs(body: str) -> list[str]:
    parts = [p.strip() for p in body.split("\n") if p.strip()]
    if len(parts) >= 4:
        return parts
    sentences = _SENTENCE.split(" ".join(body.split()))
    return [" ".join(sentences[i:i + 3]) for i in range(0, len(sentences), 3)]


def syndicated_variant(title: str, body: str, other: str, rng: random.Random) -> tuple[str, str]:
    """One outlet's copy of a wire story: a different headline, ending and boilerplate."""
    paragraphs = _paragraphs(body)
    if rng.random() < 0.5:  # trimmed ending: outlets cut wire copy to fit
        keep = max(2, round(len(paragraphs) * rng.uniform(0.5, 0.95)))
        paragraphs = paragraphs[:keep]
    if rng.random() < 0.3 and len(paragraphs) > 4:  # one paragraph dropped in the middle
        del paragraphs[rng.randrange(1, len(paragraphs) - 1)]
    if rng.random() < 0.5:  # extended ending: the outlet's own paragraphs on the subject
        extra = _paragraphs(other)
        paragraphs += extra[: rng.randint(1, max(1, len(paragraphs) // 5))]
    if rng.random() < 0.5:
        text = "\n".join(paragraphs)
        for us, uk in _SPELLING.items():
            text = re.sub(rf"\b{us}\b", uk, text)
        paragraphs = text.split("\n")
    above = rng.sample(_BOILERPLATE, rng.randint(0, 2))
    below = rng.sample(_BOILERPLATE, rng.randint(0, 3))
    headline = rng.choice([title, f"{title} - report", f"UPDATE 2-{title}", title.upper(), f"{title} | World news"])
    return headline, "\n".join([*above, *paragraphs, *below])


def same_event_story(title: str, body: str, other: str, rng: random.Random) -> tuple[str, str]:
    """Another outlet's own story on the same event: its own text, the same quote or two and headline."""
    sentences = _SENTENCE.split(" ".join(body.split()))
    # A quote is a sentence, not a page: texts without sentence ends give a few words.
    quoted = [" ".join(q.split()[:40]) for q in rng.sample(sentences, min(len(sentences), rng.randint(1, 3)))]
    paragraphs = _paragraphs(other)
    for sentence in quoted:
        paragraphs.insert(rng.randrange(0, len(paragraphs) + 1), sentence)
    return f"{title}: what we know", "\n".join(paragraphs)


def corpus(stories: int, copies: int, distinct: int, seed: int = 6) -> list[Story]:
    """``stories`` real bases, each with ``copies`` syndicated variants (plus the original) and ``distinct``
    same-event stories. The real texts are split in three apart pools (story bases, bodies of the distinct
    stories, outlets' extra paragraphs) so that no two stories share a base by accident."""
    rng = random.Random(seed)
    bases = base_texts()
    third = len(bases) // 3
    if third < 2:
        raise RuntimeError("need at least six real article texts (shared dev set or seeds/articles)")
    story_bases, own_texts, extra_texts = bases[:third], [b for _, b in bases[third:2 * third]], \
        [b for _, b in bases[2 * third:]]
    out: list[Story] = []
    counter = itertools.count()
    for n in range(stories):
        title, body = story_bases[n % len(story_bases)]
        story = f"s{n % len(story_bases)}"
        out.append(Story(f"d{next(counter):05d}", title, body, story))
        for _ in range(copies):
            headline, text = syndicated_variant(title, body, rng.choice(extra_texts), rng)
            out.append(Story(f"d{next(counter):05d}", headline, text, story))
        for k in range(distinct):
            # Two distinct stories written on the same text are copies of each other, and count as such.
            own = (n * distinct + k) % len(own_texts)
            headline, text = same_event_story(title, body, own_texts[own], rng)
            out.append(Story(f"d{next(counter):05d}", headline, text, f"own{own}"))
    rng.shuffle(out)
    return out


def pair_scores(truth: dict[str, str], predicted: dict[str, str]) -> tuple[float, float]:
    """Pairwise precision and recall of a clustering: doc → true story, doc → predicted cluster."""
    docs = sorted(truth)
    tp = fp = fn = 0
    for a, b in itertools.combinations(docs, 2):
        same_true, same_pred = truth[a] == truth[b], predicted[a] == predicted[b]
        tp += same_true and same_pred
        fp += same_pred and not same_true
        fn += same_true and not same_pred
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)
