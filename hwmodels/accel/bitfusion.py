"""Bit-flexible (Bit Fusion-like) accelerator: throughput and energy scale with bit widths.

Sharma et al. (ISCA 2018): 2-bit "BitBricks" fuse into wider multipliers; a multiply of an
a-bit activation by a w-bit weight takes ceil(a/2) x ceil(w/2) bricks. A Fusion Unit of
`bricks_per_unit` bricks therefore makes bricks_per_unit / (ceil(a/2) ceil(w/2)) products a
cycle (16 bricks: one 8x8, four 4x4, sixteen 2x2; a 16x16 multiply takes 4 cycles), `lanes` of
them side by side along the input channels, summed by the unit's shift-add tree. The units form
a rows x cols weight-stationary array: a row holds `lanes` channels of one kernel tap, a column
one filter; kernel taps, channel chunks (ceil(C / (rows lanes))) and filter chunks are folds, so
shapes with few channels (a first layer, 1x1-channel inputs) waste lanes at low widths, as the
public simulator's channel-wise conv mode does (hsharma35/bitfusion). Registers pass an
activation and a weight per product and one full-width psum per unit and cycle. Memory traffic
is counted in 16-bit words scaled by bits / 16, priced like the Eyeriss-like model (6 e_mac per
buffer word, 200 e_mac per DRAM word; DRAM through the finite buffer, common.dram_words), and a
multiply costs energy_per_mac_pj x bricks / 64 (a 16x16 multiply = 64 bricks = one Eyeriss MAC).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from core.schema import FieldError
from hwmodels.accel.common import (check_non_negative, check_positive, dram_words,
                                   streaming_cost)
from hwmodels.accel.shapes import LayerArrays
from hwmodels.accel.target import AccelResult

MAX_BITS = 16
WORD_BYTES = 2                     # buffer capacity in 16-bit words, as the Eyeriss model


@dataclass(frozen=True)
class BitWidths:
    act_bits: int
    weight_bits: int

    def __post_init__(self) -> None:
        for name in ("act_bits", "weight_bits"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_BITS:
                raise FieldError(name, f'must be an integer in 1..{MAX_BITS}, got {v!r}')


@dataclass(frozen=True)
class BitFusionModel:
    name: str
    kind: Literal["bitfusion"]
    rows: int
    cols: int
    bricks_per_unit: int
    brick_bits: int
    clock_mhz: float
    buffer_kib: float
    energy_per_mac_pj: float                 # a 16x16-bit MAC (same unit as the Eyeriss model)
    rf_access_multiple: float
    gb_access_multiple: float
    dram_access_multiple: float
    array_efficiency: float
    dram_words_per_cycle: float
    static_power_w: float
    active_power_w: float
    idle_power_w: float
    act_bits: int = 8                        # defaults for layers not listed in layer_bits
    weight_bits: int = 8
    layer_bits: dict[str, BitWidths] = field(default_factory=dict)
    backend: Literal["analytic", "zigzag"] = "analytic"
    zigzag_hardware_yaml: str | None = None
    noise_host: str | None = None           # device preset whose CPU cores run the noise kernel

    def __post_init__(self) -> None:
        where = f'accelerator "{self.name}"'
        BitWidths(self.act_bits, self.weight_bits)        # same checks as per-layer widths
        check_positive(self, "rows", "cols", "bricks_per_unit", "brick_bits", "clock_mhz",
                       "buffer_kib", "energy_per_mac_pj", "dram_words_per_cycle",
                       "active_power_w", where=where)
        check_non_negative(self, "rf_access_multiple", "gb_access_multiple", "dram_access_multiple",
                           "static_power_w", "idle_power_w", where=where)
        if not 0 < self.array_efficiency <= 1:
            raise FieldError("array_efficiency", f'must be in (0, 1], got '
                             f"{self.array_efficiency} ({where})")

    def bits_of(self, names) -> tuple[np.ndarray, np.ndarray]:
        d = BitWidths(self.act_bits, self.weight_bits)
        bw = [self.layer_bits.get(nm, d) for nm in names]
        return (np.array([b.act_bits for b in bw], float),
                np.array([b.weight_bits for b in bw], float))

    def with_activation_dtype(self, dtype: str) -> "BitFusionModel":
        """Itself: its widths are the configured per-layer ones (act_bits, layer_bits)."""
        return self

    def evaluate(self, a: LayerArrays, batch_size: int) -> AccelResult:
        n = float(batch_size)
        act, wt = self.bits_of(a.names)
        bricks = np.ceil(act / self.brick_bits) * np.ceil(wt / self.brick_bits)
        fused = self.bricks_per_unit / bricks       # products a unit makes per cycle
        lanes = np.maximum(1.0, np.floor(fused))    # ... side by side along input channels
        passes = np.maximum(1.0, np.ceil(1.0 / fused))   # wider than a unit: several cycles
        units = self.rows * self.cols
        macs = n * a.macs
        mac, G = a.is_mac, a.G
        zero = np.zeros(len(a))
        # Weight stationary (Sharma et al. 2018, Sec. V; the public simulator's channel-wise
        # mode): each row holds `lanes` input channels of one kernel tap, columns hold filters;
        # kernel taps and channel chunks are folds whose psums accumulate in the output buffer.
        chan_folds = np.ceil(a.C / (self.rows * lanes))
        filt_folds = np.ceil(a.M / self.cols)
        tap_folds = a.R * a.S * chan_folds
        npx = n * a.E * a.F
        compute_cycles = (G * npx * tap_folds * filt_folds * passes) / self.array_efficiency
        a16, w16 = act / 16.0, wt / 16.0
        win = a.R * a.S * a.C
        # Buffer words (16-bit equivalents): ifmap re-read per filter fold, weights once,
        # full-width psums read and written per tap fold but the first.
        gb = G * (npx * win * filt_folds * a16 + a.M * win * w16
                  + npx * a.M * (2.0 * tap_folds - 1.0))
        dram = dram_words(a, batch_size, self.buffer_kib * 1024 / WORD_BYTES, a16, w16)
        gb = np.where(mac, gb, zero)
        cycles = np.where(mac, np.maximum(compute_cycles, dram / self.dram_words_per_cycle),
                          zero)
        s_ops, s_acc, s_cyc = streaming_cost(a, batch_size, units, self.cols)
        s_acc = s_acc * a16                      # activations at the layer's width
        cycles, gb = cycles + s_cyc, gb + s_acc
        latency_s = cycles / (self.clock_mhz * 1e6)
        e = self.energy_per_mac_pj * 1e-12
        brick_ops = macs * bricks
        # Per MAC the unit's registers pass an activation and a weight at their widths; its
        # shift-add tree sums its `lanes` products into one full-width psum before passing it
        # on, so a psum register access serves `lanes` MACs (16-bit word equivalents).
        rf = macs * (a16 + w16 + 1.0 / lanes)
        onchip_j = (e * (brick_ops / 64.0 + s_ops + self.rf_access_multiple * rf
                         + self.gb_access_multiple * gb)
                    + self.static_power_w * latency_s)
        dram_j = e * self.dram_access_multiple * dram
        peak = units * np.minimum(fused, lanes) / passes
        u = np.where(cycles > 0, macs / (peak * np.maximum(cycles, 1e-30)), 0.0)
        return AccelResult(a.names, cycles, latency_s, macs,
                           {"mac": brick_ops, "rf": rf, "gb": gb, "dram": dram}, onchip_j,
                           dram_j, u,
                           extra={"act_bits": act, "weight_bits": wt,
                                  "compute_cycles": np.where(mac, compute_cycles, zero)})
