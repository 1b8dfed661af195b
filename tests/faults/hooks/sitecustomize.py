"""Test-only: make the extractor misbehave on pages that ask for it (tests/faults/test_poison.py).

Loaded only when a fault test puts this folder on PYTHONPATH and sets
NEWSWORKERS_TEST_FAULT_HOOKS=1 for the processes it starts. It wraps
``workers.extract.extract_article`` before the tasks module imports it; a page
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

    import workers.extract

    _real = workers.extract.extract_article
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

    workers.extract.extract_article = extract_article
