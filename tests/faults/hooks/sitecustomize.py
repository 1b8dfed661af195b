"""Test-only: make the extractor misbehave on pages that ask for it (tests/faults/test_poison.py), and
each stage meet one Redis outage mid-task (tests/faults/test_outages.py, NEWSWORKERS_TEST_FAULT_OUTAGES).

Loaded only when a fault test puts this folder on PYTHONPATH and sets
NEWSWORKERS_TEST_FAULT_HOOKS=1 for the processes it starts. It wraps
``workers.pipeline.extract.article.extract_article`` before the tasks module imports it; a page
carrying ``<meta name="newsworkers-test-fault" content="KIND">`` then makes the
extraction raise, hang (past the soft time limit), allocate without bound, or
kill its own worker child the way the kernel's OOM killer would. Production
code holds no such rule.
"""

from __future__ import annotations

import os

if os.environ.get("NEWSWORKERS_TEST_FAULT_HOOKS") == "1":
    import re
    import signal
    import time
    from typing import Any

    import workers.pipeline.extract.article

    _real = workers.pipeline.extract.article.extract_article
    _MARK = re.compile(r'<meta name="newsworkers-test-fault" content="(\w+)">')

    def extract_article(page: Any, *args: Any, **kwargs: Any) -> Any:
        found = _MARK.search(page.html[:2000])
        kind = found.group(1) if found else None
        if kind == "raise":
            raise RuntimeError("the extractor blew up on this page")
        if kind == "hang":
            time.sleep(3600)  # the soft time limit interrupts this
        if kind == "memory":
            hog = [bytearray(64 * 2**20) for _ in range(10_000)]  # 640 GB: the heap cap stops it
            del hog
        if kind == "crash":
            os.kill(os.getpid(), signal.SIGKILL)
        return _real(page, *args, **kwargs)

    workers.pipeline.extract.article.extract_article = extract_article

if os.environ.get("NEWSWORKERS_TEST_FAULT_OUTAGES"):
    # tests/faults/test_outages.py: the poll, fetch, extract and index stages each meet Redis out of reach in
    # the middle of a task, once (the first of their tasks to get there, across the run's processes).
    from pathlib import Path
    from typing import Any

    import redis

    import workers.worker.tasks

    _marks = Path(os.environ["NEWSWORKERS_TEST_FAULT_OUTAGES"])

    def _first_time(stage: str) -> bool:
        try:
            os.close(os.open(_marks / stage, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return False
        return True

    def _outage_once(stage: str, real: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if _first_time(stage):
                raise redis.ConnectionError(f"injected: Redis went away in the middle of a {stage} task")
            return real(*args, **kwargs)
        return wrapped

    workers.worker.tasks._poll = _outage_once("poll", workers.worker.tasks._poll)
    workers.worker.tasks.fetch_page = _outage_once("fetch", workers.worker.tasks.fetch_page)
    workers.worker.tasks.extract_pages = _outage_once("extract", workers.worker.tasks.extract_pages)
    workers.worker.tasks._index_payloads = _outage_once("index", workers.worker.tasks._index_payloads)
