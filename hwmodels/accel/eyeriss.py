"""Eyeriss-like row-stationary (RS) array: cycles and access counts per memory level.

An analytic reading of the RS dataflow (Chen et al., ISCA 2016; JSSC 2017) with 16-bit words:

* A PE runs a 1-D convolution: one filter row (S weights) over one ifmap row, one MAC a cycle.
  A PE set is R PE rows (filter rows) x E PE columns (output rows), folded to the array's
  12 x 14 (E in strips of 14; R > 12 in row folds); the array holds T = floor(12 / R) x
  floor(14 / E) sets. The sets split the C channels and M filters between them (sc x sm <= T,
  the split with the fewest cycles, as Eyeriss's mapper picks it), so a layer takes
      N x row folds x E strips x ceil(C / sc) x ceil(M / sm) x F x S   cycles (per group),
  and shapes that fill the array badly (1x1 kernels on few channels, small maps, fully
  connected layers, depthwise groups) lose utilization by these ceilings, not by a factor.
* A PE's register file (RF) holds q channels of an ifmap row segment and p filters x q channels
  of filter rows (q <= ifmap_spad_words // S, p <= filter_spad_words // (q S), p <= psum_spad).
* Access counts for N images of a layer (per group; groups multiply):
    ALU  = MACs
    RF   = 4 x MACs                       (ifmap read, weight read, psum read and write)
    GB   = ifmap N I x ceil(M / (p sm))                (ifmap re-read per filter pass)
         + weights M C R S x ceil(E / 14)              (re-read per output-row strip)
         + psums N M E F x (2 ceil(C / (q sc)) - 1)    (spilled per channel pass)
    array = GB ifmap reads x min(R, 12)     (diagonal multicast of each ifmap row)
          + GB weight reads x min(E, 14)    (horizontal multicast of each filter row)
          + N M E F ceil(C / q) (min(R, 12) - 1)       (vertical psum accumulation)
    DRAM = what the finite global buffer lets through (common.dram_words): compulsory
           (N I + M C R S + N M E F) when a layer fits, else tiled; I = C min(H, E R)
           min(W, F S) is the ifmap the windows touch (LayerArrays.ifmap_read).
* Cycles = max(compute / array_efficiency, GB words / gb_words_per_cycle, DRAM words /
  dram_words_per_cycle): large feature maps and fully connected layers become bandwidth-bound.
* Energy = e_mac x (ALU + RF + 2 array + 6 GB) on chip, + 200 e_mac x DRAM off chip
  (normalized costs of ISCA 2016 Table IV) + static power x time.
* Element-wise layers that the RS datapath folds into the producing conv (`fused_op_types`:
  ReLU on the ofmap write-back, inference batch norm folded into the weights) take no cycles
  and no buffer round trip, only their one operation per element;
  pooling follows `pool_mapping` (shapes.pool_as_conv); other layers stream (common).

`array_efficiency` and `energy_per_mac_pj` are calibrated on AlexNet's conv layers at batch 4
(34.7 frames/s, 278 mW chip power, JSSC 2017); the counts themselves are model outputs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from core.schema import FieldError
from hwmodels.accel.common import (check_non_negative, check_positive, dram_words,
                                   streaming_cost)
from hwmodels.accel.shapes import LayerArrays, check_pool_mapping, pool_as_conv
from hwmodels.accel.target import AccelResult

WORD_BYTES = 2                     # the RS array's 16-bit words


def _ceil(x: np.ndarray, y: np.ndarray | float) -> np.ndarray:
    return np.ceil(x / y)


def set_split(sets: np.ndarray, C: np.ndarray, M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sc, sm): PE sets given to channels and to filters, sc x sm <= sets, fewest cycles.

    Ties go to the larger channel split (psums accumulate inside the array, not in the GB).
    """
    sc = np.arange(1.0, float(sets.max()) + 1.0)[None, :]
    sm = np.floor(sets[:, None] / sc)
    work = np.where(sm >= 1, np.ceil(C[:, None] / sc) * np.ceil(M[:, None] / np.maximum(sm, 1)),
                    np.inf)
    best = work.shape[1] - 1 - np.argmin(work[:, ::-1], axis=1)
    sc_best = sc[0, best]
    return sc_best, np.floor(sets / sc_best)


@dataclass(frozen=True)
class EyerissModel:
    name: str
    kind: Literal["eyeriss"]
    pe_rows: int
    pe_cols: int
    clock_mhz: float
    ifmap_spad_words: int
    filter_spad_words: int
    psum_spad_words: int
    global_buffer_kib: float
    energy_per_mac_pj: float
    rf_access_multiple: float
    array_access_multiple: float
    gb_access_multiple: float
    dram_access_multiple: float
    array_efficiency: float
    dram_words_per_cycle: float
    gb_words_per_cycle: float
    static_power_w: float
    active_power_w: float
    idle_power_w: float
    pool_mapping: Literal["vector", "depthwise_conv", "dense_conv"] = "vector"
    fused_op_types: tuple[str, ...] = ()
    backend: Literal["analytic", "zigzag"] = "analytic"
    zigzag_hardware_yaml: str | None = None
    noise_host: str | None = None           # device preset whose CPU cores run the noise kernel

    def __post_init__(self) -> None:
        where = f'accelerator "{self.name}"'
        check_positive(self, "pe_rows", "pe_cols", "clock_mhz", "ifmap_spad_words",
                       "filter_spad_words", "psum_spad_words", "global_buffer_kib",
                       "energy_per_mac_pj", "dram_words_per_cycle", "gb_words_per_cycle",
                       "active_power_w", where=where)
        check_non_negative(self, "rf_access_multiple", "array_access_multiple",
                           "gb_access_multiple", "dram_access_multiple", "static_power_w",
                           "idle_power_w", where=where)
        if not 0 < self.array_efficiency <= 1:
            raise FieldError("array_efficiency", f'must be in (0, 1], got '
                             f"{self.array_efficiency} ({where})")
        check_pool_mapping(self.pool_mapping, f" ({where})")

    @property
    def num_pes(self) -> int:
        return self.pe_rows * self.pe_cols

    def with_activation_dtype(self, dtype: str) -> "EyerissModel":
        """Itself: the RS datapath is 16-bit fixed point whatever the workload's dtype."""
        return self

    def evaluate(self, a: LayerArrays, batch_size: int) -> AccelResult:
        fused = np.isin(np.array(a.op_types, dtype=object), self.fused_op_types) & ~a.is_mac
        a = pool_as_conv(a, self.pool_mapping)
        n = float(batch_size)
        C, M, G, R, S, E, F = a.C, a.M, a.G, a.R, a.S, a.E, a.F
        rows, cols = float(self.pe_rows), float(self.pe_cols)
        r_used, e_used = np.minimum(R, rows), np.minimum(E, cols)
        sets = np.floor(rows / r_used) * np.floor(cols / e_used)
        sc, sm = set_split(sets, C, M)
        e_strips, row_folds = _ceil(E, cols), _ceil(R, rows)
        compute_cycles = (G * n * row_folds * e_strips * _ceil(C, sc) * _ceil(M, sm) * F * S
                          / self.array_efficiency)
        util_spatial = a.macs / (compute_cycles * self.array_efficiency * self.num_pes / n)

        cs, ms = _ceil(C, sc), _ceil(M, sm)          # channels and filters each set works on
        q = np.clip(np.floor(self.ifmap_spad_words / S), 1.0, cs)
        p = np.clip(np.floor(self.filter_spad_words / (q * S)), 1.0,
                    np.minimum(ms, self.psum_spad_words))
        gb_ifmap = G * n * a.ifmap_read * _ceil(ms, p)
        gb_weight = G * M * C * R * S * e_strips
        gb_psum = G * n * M * E * F * (2.0 * _ceil(cs, q) - 1.0)
        array = (gb_ifmap * r_used + gb_weight * e_used
                 + G * n * M * E * F * _ceil(C, q) * (r_used - 1.0))
        # Filter rows and ifmap segments resident in the PEs' spads count as on-chip storage.
        buffer_words = (self.global_buffer_kib * 1024 / WORD_BYTES + self.num_pes
                        * (self.ifmap_spad_words + self.filter_spad_words + self.psum_spad_words))
        dram = dram_words(a, batch_size, buffer_words)
        mac = a.is_mac
        zero = np.zeros(len(a))
        macs = n * a.macs
        rf = np.where(mac, 4.0 * macs, zero)
        gb = np.where(mac, gb_ifmap + gb_weight + gb_psum, zero)
        array = np.where(mac, array, zero)
        cycles = np.where(mac, np.maximum.reduce([compute_cycles, gb / self.gb_words_per_cycle,
                                                  dram / self.dram_words_per_cycle]), zero)

        s_ops, s_gb, s_cycles = streaming_cost(a, batch_size, self.num_pes,
                                               self.gb_words_per_cycle)
        # A fused layer's one operation per element happens on the conv's write-back: its
        # energy stays, its cycles and buffer round trip do not.
        s_cycles, s_gb = np.where(fused, 0.0, s_cycles), np.where(fused, 0.0, s_gb)
        cycles = cycles + s_cycles
        gb = gb + s_gb
        alu = macs + s_ops
        latency_s = cycles / (self.clock_mhz * 1e6)
        e_pj = self.energy_per_mac_pj
        onchip_j = e_pj * 1e-12 * (alu + self.rf_access_multiple * rf
                                   + self.array_access_multiple * array
                                   + self.gb_access_multiple * gb) + self.static_power_w * latency_s
        dram_j = e_pj * 1e-12 * self.dram_access_multiple * dram
        with np.errstate(invalid="ignore", divide="ignore"):
            util = np.where(cycles > 0, macs / (self.num_pes * np.maximum(cycles, 1e-30)), 0.0)
        return AccelResult(a.names, cycles, latency_s, macs,
                           {"mac": alu, "rf": rf, "array": array, "gb": gb, "dram": dram},
                           onchip_j, dram_j, util,
                           extra={"spatial_utilization": np.where(mac, util_spatial, 0.0),
                                  "compute_cycles": np.where(mac, compute_cycles, zero)})
