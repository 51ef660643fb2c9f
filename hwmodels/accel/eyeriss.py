"""Eyeriss-like row-stationary (RS) array: cycles and access counts per memory level.

An analytic reading of the RS dataflow (Chen et al., ISCA 2016; JSSC 2017) with 16-bit words:

* A PE runs a 1-D convolution: one filter row (S weights) over one ifmap row. Its register
  file (RF) holds q channels of an ifmap row segment and p filters x q channels of filter rows
  (q = ifmap_spad_words // S, p = filter_spad_words // (q S), p <= psum_spad_words).
* A PE set is R PE rows (filter rows) x E PE columns (output rows); it is folded to the array's
  12 x 14 and replicated sets_v x sets_h times across channels (vertically, psums accumulate)
  and filters (horizontally). Spatial utilization = active PEs / 168.
* Access counts for N images of a layer (per group; groups multiply):
    ALU  = MACs
    RF   = 4 x MACs                       (ifmap read, weight read, psum read and write)
    GB   = ifmap N C H W x ceil(M / (p sets_h))        (ifmap re-read per filter pass)
         + weights M C R S x ceil(E / 14)              (re-read per output-row strip)
         + psums N M E F x (2 ceil(C / (q sets_v)) - 1) (spilled per channel pass)
    array = GB ifmap reads x min(R, 12)     (diagonal multicast of each ifmap row)
          + GB weight reads x min(E, 14)    (horizontal multicast of each filter row)
          + N M E F ceil(C / q) (min(R, 12) - 1)       (vertical psum accumulation)
    DRAM = N C H W + M C R S + N M E F      (compulsory traffic: the GB tiling keeps it so)
* Energy = e_mac x (ALU + RF + 2 array + 6 GB) on chip, + 200 e_mac x DRAM off chip
  (normalized costs of ISCA 2016 Table IV). Cycles = max(MACs / (168 x utilization x
  array_efficiency), DRAM words / dram_words_per_cycle).

`array_efficiency` and `energy_per_mac_pj` are calibrated on AlexNet's conv layers at batch 4
(34.7 frames/s, 278 mW chip power, JSSC 2017); the counts themselves are model outputs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from hwmodels.accel.common import check_non_negative, check_positive, streaming_cost
from hwmodels.accel.shapes import LayerArrays
from hwmodels.accel.target import AccelResult


def _ceil(x: np.ndarray, y: np.ndarray | float) -> np.ndarray:
    return np.ceil(x / y)


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
    backend: Literal["analytic", "zigzag"] = "analytic"
    zigzag_hardware_yaml: str | None = None

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
            raise ValueError(f'"array_efficiency" must be in (0, 1], got '
                             f"{self.array_efficiency} ({where})")

    @property
    def num_pes(self) -> int:
        return self.pe_rows * self.pe_cols

    def evaluate(self, a: LayerArrays, batch_size: int) -> AccelResult:
        n = float(batch_size)
        C, M, G, H, W, R, S, E, F = a.C, a.M, a.G, a.H, a.W, a.R, a.S, a.E, a.F
        rows, cols = float(self.pe_rows), float(self.pe_cols)
        r_used = np.minimum(R, rows)
        e_used = np.minimum(E, cols)
        sets_v = np.maximum(1.0, np.floor(rows / r_used))
        sets_h = np.maximum(1.0, np.floor(cols / e_used))
        active = r_used * e_used * sets_v * sets_h
        util_spatial = active / self.num_pes
        q = np.clip(np.floor(self.ifmap_spad_words / S), 1.0, C)
        p = np.clip(np.floor(self.filter_spad_words / (q * S)), 1.0,
                    np.minimum(M, self.psum_spad_words))
        filter_passes = _ceil(M, p * sets_h)
        channel_passes = _ceil(C, q * sets_v)
        e_strips = _ceil(E, cols)

        macs = n * a.macs
        gb_ifmap = G * n * C * H * W * filter_passes
        gb_weight = G * M * C * R * S * e_strips
        gb_psum = G * n * M * E * F * (2.0 * channel_passes - 1.0)
        array = (gb_ifmap * r_used + gb_weight * e_used
                 + G * n * M * E * F * _ceil(C, q) * (r_used - 1.0))
        dram = G * (n * C * H * W + M * C * R * S + n * M * E * F)
        mac = a.is_mac
        zero = np.zeros(len(a))
        rf = np.where(mac, 4.0 * macs, zero)
        gb = np.where(mac, gb_ifmap + gb_weight + gb_psum, zero)
        array = np.where(mac, array, zero)
        dram = np.where(mac, dram, zero)
        compute_cycles = macs / (self.num_pes * util_spatial * self.array_efficiency)
        cycles = np.where(mac, np.maximum(compute_cycles, dram / self.dram_words_per_cycle),
                          zero)

        s_ops, s_gb, s_cycles = streaming_cost(a, batch_size, self.num_pes,
                                               self.gb_words_per_cycle)
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
                           extra={"spatial_utilization": np.where(mac, util_spatial, 0.0)})
