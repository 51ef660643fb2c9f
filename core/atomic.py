"""Atomic file writes: a reader never sees half a file, and a failed write keeps the old one.

A write goes to `.<name>.<pid>.<random>.tmp` beside the target and is renamed over it. A
process killed mid-write leaves that temporary behind; the next write of the same target
removes the temporaries of processes that no longer run (those of a live writer stay), so
kills leave no debris that later runs keep. Finished files get the permissions the umask
gives (the temporary is created 0600).
Lives in the lowest package so that every layer (hwmodels, noise, sim) shares one copy.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Callable

# A name that becomes one file or folder name: a single path component, no separator, not
# hidden and not "..", of bounded length.
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
MAX_NAME_CHARS = 100


def is_safe_name(name: str) -> bool:
    return len(name) <= MAX_NAME_CHARS and _SAFE_NAME.fullmatch(name) is not None


def to_safe_name(text: str) -> str:
    """`text` made a safe name (characters outside the set become `_`), or "" if none is left."""
    return re.sub(r"[^A-Za-z0-9._+-]", "_", text).lstrip("._+-")[:MAX_NAME_CHARS]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:          # someone else's live process
        return True
    return True


def remove_stale_temporaries(path: Path) -> None:
    """Temporaries of `path` left by writers that died."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        parts = tmp.name[len(path.name) + 2:].split(".")
        if parts and parts[0].isdigit() and not _alive(int(parts[0])):
            tmp.unlink(missing_ok=True)


def check_output_dir(path: str | Path, what: str) -> Path:
    """`path` is, or can become, a writable folder; else a UserError naming `what`."""
    from core.errors import UserError

    path = Path(path)
    try:
        if path.exists() and not path.is_dir():
            raise UserError(f"{what} {str(path)!r} is a file, not a folder")
        existing = next(p for p in (path, *path.parents) if p.exists())
        if not existing.is_dir():
            raise UserError(f"{what} {str(path)!r}: {str(existing)!r} is a file, not a folder")
    except OSError as exc:                     # e.g. a name longer than the file system allows
        raise UserError(f"{what} {str(path)[:80]!r}: {exc.strerror or exc}") from None
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"{what} {str(path)!r}: {str(existing)!r} is not writable")
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | Path, writer: Callable[[str], None]) -> None:
    """Call `writer(tmp_path)`, then rename the finished file over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                               dir=path.parent)
    os.close(fd)
    try:
        writer(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    def _write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    write_atomic(path, _write)
