"""Model sources, graph extraction, operator counts, profiles, cuts and splits."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of this package's source: cached profiles are keyed by it, so an edit to the
    profiler invalidates them."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]
