"""FBNet block lists (`fbnet:<ops>`), parsed without importing torch (`sim validate` checks
a model name in milliseconds); the networks are `partitioner.models.fbnet`."""
from __future__ import annotations

from core.errors import UserError

PRIMITIVES = ("k3_e1", "k3_e1_g2", "k3_e3", "k3_e6", "k5_e1", "k5_e1_g2", "k5_e3", "k5_e6",
              "skip")
STAGE_BLOCKS = (1, 4, 4, 4, 4, 4, 1)
STAGE_CHANNELS = (16, 24, 32, 64, 112, 184, 352)
STEM_CHANNELS = 16
# (stem stride, stage strides, head channels) of each setting
SETTINGS = {"imagenet": (2, (1, 2, 2, 2, 1, 2, 1), 1984),
            "cifar": (1, (1, 1, 2, 2, 1, 2, 1), 1504)}


def parse_ops(ops: str) -> tuple[str, ...]:
    """22 block names from `0123...` (indices into PRIMITIVES) or `k3_e1,skip,...`."""
    n = sum(STAGE_BLOCKS)
    names = ops.split(",") if "," in ops else [
        PRIMITIVES[int(d)] if d.isdigit() and int(d) < len(PRIMITIVES) else d for d in ops]
    unknown = sorted({b for b in names if b not in PRIMITIVES})
    if len(names) != n or unknown:
        raise UserError(f"fbnet blocks {ops!r}: expected {n} digits 0-{len(PRIMITIVES) - 1} "
                        f"or {n} comma-separated names from {', '.join(PRIMITIVES)}"
                        + (f"; unknown {', '.join(unknown)}" if unknown else "")
                        + f"; got {len(names)}")
    return tuple(names)
