"""The sweep folder: a manifest naming the arguments, one part per finished chunk, the merge.

Layout of OUT/:
    manifest.json            the arguments' fingerprint and hash, the chunking, `complete`
    parts/chunk-NNNNNN.npy   full-precision figures of the chunk's rows (written first)
    parts/chunk-NNNNNN.json  the privacy provenance sentences of the chunk's rows and the
                             SHA-256 of the other two files
    parts/chunk-NNNNNN.csv   the chunk's sweep.csv rows (written last: a chunk is done iff it
                             exists and the checksums hold; a part that fails them, truncated
                             or edited, is logged, removed and computed again)
    sweep.csv                header + parts in chunk order, written once all parts exist
A killed sweep leaves whole parts and at most some `.tmp` files, which a restart removes;
started again with the same arguments it computes only the chunks with no part.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.atomic import write_atomic, write_text_atomic
from core.errors import UserError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class SweepStore:
    out_dir: Path
    sweep_hash: str
    n_chunks: int

    @property
    def parts(self) -> Path:
        return self.out_dir / "parts"

    def text_path(self, chunk: int) -> Path:
        return self.parts / f"chunk-{chunk:06d}.csv"

    def figures_path(self, chunk: int) -> Path:
        return self.parts / f"chunk-{chunk:06d}.npy"

    def notes_path(self, chunk: int) -> Path:
        return self.parts / f"chunk-{chunk:06d}.json"

    # ------------------------------------------------------------------ manifest
    def open(self, manifest: dict, restart: bool) -> dict:
        """Start or resume; refuse a folder that holds a sweep made with other arguments."""
        path = self.out_dir / MANIFEST
        if path.exists() and restart:
            self.clear()
        if path.exists():
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raise UserError(f"--out {self.out_dir}: {MANIFEST} is unreadable; remove the "
                                "folder or pass --restart") from None
            if old.get("hash") != self.sweep_hash:
                raise UserError(
                    f"--out {self.out_dir}: holds a sweep made with different arguments (hash "
                    f"{old.get('hash')}, these arguments give {self.sweep_hash}); use another "
                    "--out, or --restart to discard it")
            self._remove_temporaries()
            return old
        record = {**manifest, "hash": self.sweep_hash, "n_chunks": self.n_chunks,
                  "complete": False}
        self.parts.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
        return record

    def mark_complete(self, record: dict, privacy_notes: tuple[str, ...]) -> None:
        record = {**record, "complete": True, "privacy_provenance": list(privacy_notes)}
        write_text_atomic(self.out_dir / MANIFEST,
                          json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")

    def clear(self) -> None:
        for name in (MANIFEST, "sweep.csv", "best.csv", "pareto.csv"):
            (self.out_dir / name).unlink(missing_ok=True)
        shutil.rmtree(self.parts, ignore_errors=True)

    def _remove_temporaries(self) -> None:
        for tmp in list(self.parts.glob(".*.tmp")) + list(self.out_dir.glob(".*.tmp")):
            log.info("removing %s left by an interrupted write", tmp)
            tmp.unlink(missing_ok=True)

    # ------------------------------------------------------------------ parts
    def done(self) -> set[int]:
        return {c for c in range(self.n_chunks)
                if all(p.exists() for p in self._files(c)) and self._intact(c)}

    def _files(self, chunk: int) -> tuple[Path, Path, Path]:
        return self.text_path(chunk), self.figures_path(chunk), self.notes_path(chunk)

    def _intact(self, chunk: int) -> bool:
        """The part's files match the checksums its notes recorded; else they are removed."""
        try:
            sums = json.loads(self.notes_path(chunk).read_text(encoding="utf-8"))["sha256"]
            ok = (_sha256(self.text_path(chunk).read_bytes()) == sums["csv"]
                  and _sha256(self.figures_path(chunk).read_bytes()) == sums["npy"])
        except (OSError, ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            log.warning("sweep part %d in %s is corrupt or incomplete: computing it again",
                        chunk, self.parts)
            for p in self._files(chunk):
                p.unlink(missing_ok=True)
        return ok

    def write_part(self, chunk: int, text: str, figures: np.ndarray,
                   privacy_notes: tuple[str, ...]) -> None:
        buf = io.BytesIO()
        np.save(buf, figures)
        npy = buf.getvalue()
        write_atomic(self.figures_path(chunk), lambda tmp: Path(tmp).write_bytes(npy))
        notes = {"privacy_notes": list(privacy_notes),
                 "sha256": {"csv": _sha256(text.encode("utf-8")), "npy": _sha256(npy)}}
        write_text_atomic(self.notes_path(chunk), json.dumps(notes) + "\n")
        write_text_atomic(self.text_path(chunk), text)

    def read_part(self, chunk: int) -> tuple[str, np.ndarray, tuple[str, ...]]:
        notes = json.loads(self.notes_path(chunk).read_text(encoding="utf-8"))
        return (self.text_path(chunk).read_text(encoding="utf-8"),
                np.load(self.figures_path(chunk), allow_pickle=False),
                tuple(notes["privacy_notes"]))

    def merge(self, header: str, texts: dict[int, str]) -> Path:
        """sweep.csv from every part in chunk order; `texts` holds the chunks still in memory."""
        path = self.out_dir / "sweep.csv"

        def write(tmp: str) -> None:
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                f.write(header)
                for chunk in range(self.n_chunks):
                    f.write(texts[chunk] if chunk in texts
                            else self.text_path(chunk).read_text(encoding="utf-8"))
        write_atomic(path, write)
        return path


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
