"""Bit-flexible (Bit Fusion-like) accelerator: throughput and energy scale with bit widths.

Sharma et al. (ISCA 2018): 2-bit "BitBricks" fuse into wider multipliers; a multiply of an
a-bit activation by a w-bit weight takes ceil(a/2) x ceil(w/2) bricks. A Fusion Unit of
`bricks_per_unit` bricks therefore does bricks_per_unit / (ceil(a/2) ceil(w/2)) MACs per cycle
(16 bricks: one 8x8, four 4x4, sixteen 2x2; a 16x16 multiply takes 4 cycles). The units form a
rows x cols weight-stationary array (window on rows, filters on cols), so spatial utilization
is that of the folds. Registers pass an activation, a weight and a full-width psum per MAC.
Memory traffic is counted in 16-bit words scaled by bits / 16, priced like
the Eyeriss-like model (6 e_mac per buffer word, 200 e_mac per DRAM word), and a multiply costs
energy_per_mac_pj x bricks / 64 (a 16x16 multiply = 64 bricks = one Eyeriss MAC).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from hwmodels.accel.common import check_non_negative, check_positive, streaming_cost
from hwmodels.accel.shapes import LayerArrays
from hwmodels.accel.target import AccelResult

MAX_BITS = 16


@dataclass(frozen=True)
class BitWidths:
    act_bits: int
    weight_bits: int

    def __post_init__(self) -> None:
        for name in ("act_bits", "weight_bits"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_BITS:
                raise ValueError(f'"{name}" must be an integer in 1..{MAX_BITS}, got {v!r}')


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

    def __post_init__(self) -> None:
        where = f'accelerator "{self.name}"'
        BitWidths(self.act_bits, self.weight_bits)        # same checks as per-layer widths
        check_positive(self, "rows", "cols", "bricks_per_unit", "brick_bits", "clock_mhz",
                       "buffer_kib", "energy_per_mac_pj", "dram_words_per_cycle",
                       "active_power_w", where=where)
        check_non_negative(self, "rf_access_multiple", "gb_access_multiple", "dram_access_multiple",
                           "static_power_w", "idle_power_w", where=where)
        if not 0 < self.array_efficiency <= 1:
            raise ValueError(f'"array_efficiency" must be in (0, 1], got '
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
        macs_per_unit_cycle = self.bricks_per_unit / bricks
        win, nf = a.R * a.S * a.C, a.M
        util = (win / (np.ceil(win / self.rows) * self.rows)
                * nf / (np.ceil(nf / self.cols) * self.cols))
        units = self.rows * self.cols
        macs = n * a.macs
        mac, G = a.is_mac, a.G
        zero = np.zeros(len(a))
        compute_cycles = macs / (units * macs_per_unit_cycle * util * self.array_efficiency)
        a16, w16 = act / 16.0, wt / 16.0
        # Weight-stationary folds: ifmap re-read per filter fold, psums per window fold.
        npx = n * a.E * a.F
        gb = G * (npx * win * np.ceil(nf / self.cols) * a16 + nf * win * w16
                  + npx * nf * np.ceil(win / self.rows) * a16)
        dram = G * ((n * a.C * a.H * a.W + n * a.M * a.E * a.F) * a16 + a.M * win * w16)
        gb, dram = np.where(mac, gb, zero), np.where(mac, dram, zero)
        cycles = np.where(mac, np.maximum(compute_cycles, dram / self.dram_words_per_cycle),
                          zero)
        s_ops, s_acc, s_cyc = streaming_cost(a, batch_size, units, self.cols)
        s_acc = s_acc * a16                      # activations at the layer's width
        cycles, gb = cycles + s_cyc, gb + s_acc
        latency_s = cycles / (self.clock_mhz * 1e6)
        e = self.energy_per_mac_pj * 1e-12
        brick_ops = macs * bricks
        # Per MAC the unit's registers pass an activation and a weight at their widths and a
        # full-width partial sum, counted in 16-bit word equivalents.
        rf = macs * (a16 + w16 + 1.0)
        onchip_j = (e * (brick_ops / 64.0 + s_ops + self.rf_access_multiple * rf
                         + self.gb_access_multiple * gb)
                    + self.static_power_w * latency_s)
        dram_j = e * self.dram_access_multiple * dram
        u = np.where(cycles > 0, macs / (units * macs_per_unit_cycle * np.maximum(cycles, 1e-30)),
                     0.0)
        return AccelResult(a.names, cycles, latency_s, macs,
                           {"mac": brick_ops, "rf": rf, "gb": gb, "dram": dram}, onchip_j, dram_j, u,
                           extra={"act_bits": act, "weight_bits": wt})
