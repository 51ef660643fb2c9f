"""A content-checked cache of trained models and learned noise.

Each entry is a payload file plus a JSON sidecar `{key, sha256, bytes}`, both written
atomically (temporary file + os.replace). The sidecar is written last, so a crash between the
two leaves an entry without a valid sidecar, which counts as absent. Reading verifies the
checksum before the payload is parsed; a mismatch, a short file or a parse failure is logged,
the entry deleted and rebuilt: a corrupt entry is never used.
Processes sharing the cache (a parallel sweep) take an exclusive lock per entry, so one builds
while the others wait and then read it: no work is duplicated, and nobody takes an entry that
is half written (payload there, sidecar not yet) for a corrupt one and deletes it.

Models are stored as a state_dict through `torch.save` and read with
`torch.load(weights_only=True)`; noise collections as their own `.npz` format.
Directory: an explicit argument (`sim run --cache-dir`), else `$SPLITSIM_CACHE_DIR`, else
`~/.cache/splitsim`.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from core.atomic import check_output_dir, write_atomic

log = logging.getLogger(__name__)

ENV_VAR = "SPLITSIM_CACHE_DIR"
T = TypeVar("T")


def cache_dir(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return Path.home() / ".cache" / "splitsim"


def key_digest(key: dict[str, Any]) -> str:
    text = json.dumps(key, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_digest(path: str | os.PathLike | None) -> str | None:
    """SHA-256 of a user file's bytes, for cache keys: a key that names a file by its path
    alone would return old results after the file is replaced. None for no file."""
    if path is None:
        return None
    try:
        return _sha256(Path(path))
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"


@contextmanager
def entry_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on `path` (POSIX flock; released if the holder dies)."""
    try:
        import fcntl
    except ImportError:       # not POSIX: no cross-process lock, entries are still verified
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class ArtifactCache:
    """Payload + sidecar entries under `root/<kind>/<digest><suffix>`."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = cache_dir(root)
        # named by --cache-dir or $SPLITSIM_CACHE_DIR: a mistake there is the user's
        check_output_dir(self.root, f"cache folder (--cache-dir or ${ENV_VAR})")

    def paths(self, kind: str, key: dict[str, Any], suffix: str) -> tuple[Path, Path]:
        base = self.root / kind / key_digest(key)
        return base.with_suffix(suffix), base.with_suffix(".json")

    def _valid(self, payload: Path, sidecar: Path, key: dict[str, Any]) -> str | None:
        """None when the entry is intact, else why not."""
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return f"unreadable sidecar ({exc})"
        if not isinstance(meta, dict) or json.dumps(meta.get("key"), sort_keys=True,
                                                     default=str) != json.dumps(
                                                         key, sort_keys=True, default=str):
            return "sidecar key does not match"
        if not payload.is_file():
            return "payload missing"
        if payload.stat().st_size != meta.get("bytes"):
            return f"payload has {payload.stat().st_size} bytes, sidecar says {meta.get('bytes')}"
        if _sha256(payload) != meta.get("sha256"):
            return "checksum mismatch"
        return None

    def _drop(self, *paths: Path) -> None:
        for p in paths:
            if p.is_dir() and not p.is_symlink():    # something else put a folder there
                shutil.rmtree(p, ignore_errors=True)
                continue
            try:
                p.unlink()
            except FileNotFoundError:
                pass

    def get_or_build(self, kind: str, key: dict[str, Any], suffix: str,
                     build: Callable[[], T], save: Callable[[T, str], None],
                     load: Callable[[str], T]) -> tuple[T, bool, str]:
        """(object, hit, digest): a verified cached object, or a freshly built and stored one."""
        payload, sidecar = self.paths(kind, key, suffix)
        with entry_lock(sidecar.with_suffix(".lock")):
            return self._get_or_build(payload, sidecar, key, build, save, load)

    def _get_or_build(self, payload: Path, sidecar: Path, key: dict[str, Any],
                      build: Callable[[], T], save: Callable[[T, str], None],
                      load: Callable[[str], T]) -> tuple[T, bool, str]:
        digest = payload.stem
        if sidecar.exists() or payload.exists():
            problem = self._valid(payload, sidecar, key)
            if problem is None:
                try:
                    return load(str(payload)), True, digest
                except Exception as exc:   # any parse failure means the entry is unusable
                    problem = f"load failed ({type(exc).__name__}: {exc})"
            log.warning("cache entry %s is corrupt (%s): deleted, rebuilding", payload, problem)
            self._drop(sidecar, payload)
        obj = build()
        write_atomic(payload, lambda tmp: save(obj, tmp))
        meta = {"key": key, "sha256": _sha256(payload), "bytes": payload.stat().st_size}
        text = json.dumps(meta, sort_keys=True, indent=1, default=str)
        write_atomic(sidecar, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        return obj, False, digest


def save_state_dict(state: dict, path: str) -> None:
    import torch
    torch.save(state, path)


def load_state_dict(path: str) -> dict:
    import torch
    # weights_only: a cache file (or a user's file) can never run code when loaded
    return torch.load(path, map_location="cpu", weights_only=True)
