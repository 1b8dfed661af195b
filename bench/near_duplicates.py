"""Near-duplicate clustering: precision and recall on a generated syndication set, and its cost.

The set (tests/syndication.py) is built from real article texts (the dev
ground truths when ../shared/data is there, else the seed pages): each story
with several syndicated copies (edited headlines, trimmed or extended
endings, boilerplate, spelling) and distinct same-event stories that must not
join it. Scores are pairwise: of the pairs put in one cluster, how many
belong together (precision); of the pairs that belong together, how many
were (recall).

The raw baseline, in the same run: datasketch's in-memory ``MinHashLSH``
(Jaccard only, one process, no Redis) on the same texts and signatures. The
ratio is our throughput (shared LSH in Redis, atomic scripts) against it.

    .venv/bin/python bench/near_duplicates.py [--stories 36] [--copies 8] [--distinct 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from datasketch import MinHash, MinHashLSH  # noqa: E402

from tests.syndication import corpus, pair_scores  # noqa: E402
from workers.neardup.clusters import ClusterStore  # noqa: E402
from workers.neardup.fingerprint import FingerprintParams, fingerprint  # noqa: E402
from workers.settings import Settings  # noqa: E402
from workers.state.embedded_redis import EmbeddedRedis  # noqa: E402

T0 = datetime(2020, 1, 27, tzinfo=UTC)


def ours(stories: list, redis_url: str, params: FingerprintParams) -> tuple[dict[str, str], float]:
    store = ClusterStore(redis.Redis.from_url(redis_url, decode_responses=True), f"bench{uuid.uuid4().hex[:6]}",
                         params)
    started = time.perf_counter()
    for n, story in enumerate(stories):
        store.add(story.doc_id, story.body, T0 + timedelta(minutes=n))
    elapsed = time.perf_counter() - started
    final = store.clusters([s.doc_id for s in stories])
    return {s.doc_id: final[s.doc_id][0] if s.doc_id in final else s.doc_id for s in stories}, elapsed


def raw_datasketch(stories: list, params: FingerprintParams) -> tuple[dict[str, str], float]:
    lsh = MinHashLSH(threshold=params.jaccard_threshold, num_perm=params.num_perm)
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    started = time.perf_counter()
    for story in stories:
        parent[story.doc_id] = story.doc_id
        found = fingerprint(story.body, params)
        if found is None:
            continue
        minhash = MinHash(num_perm=params.num_perm, hashvalues=found.hashvalues, scheme="affine32")
        for other in lsh.query(minhash):
            parent[root(other)] = root(story.doc_id)
        lsh.insert(story.doc_id, minhash)
    elapsed = time.perf_counter() - started
    return {d: root(d) for d in parent}, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=36)
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--distinct", type=int, default=3)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    params = FingerprintParams.from_settings(Settings())
    stories = corpus(args.stories, args.copies, args.distinct, seed=args.seed)
    truth = {s.doc_id: s.truth for s in stories}
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp)) as server:
        predicted, our_s = ours(stories, server.url, params)
    raw_predicted, raw_s = raw_datasketch(stories, params)
    precision, recall = pair_scores(truth, predicted)
    raw_precision, raw_recall = pair_scores(truth, raw_predicted)
    report = {
        "documents": len(stories), "stories": args.stories, "copies_per_story": args.copies,
        "distinct_same_event_per_story": args.distinct, "params": params.tag,
        "precision": round(precision, 4), "recall": round(recall, 4),
        "raw_minhashlsh_precision": round(raw_precision, 4), "raw_minhashlsh_recall": round(raw_recall, 4),
        "docs_per_s": round(len(stories) / our_s, 1), "raw_docs_per_s": round(len(stories) / raw_s, 1),
        "ratio": round(raw_s / our_s, 3),
    }
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>30}: {value}")


if __name__ == "__main__":
    main()
