"""Systolic array (TPU-like) whose compute cycles follow SCALE-Sim's model (os / ws / is).

A conv layer is a GEMM: ofmap pixels Npx = N E F, window Win = R S C, filters M. Each dataflow
maps two operand dimensions onto the array's rows x cols (Sr x Sc, folded) and streams the third
(T) through it. Per fold, SCALE-Sim's demand matrices last (scalesim 3.0.0, compute/*.py):
    os: Sr = Npx, Sc = M,   T = Win:  T + rows + cols - 2 cycles
    ws: Sr = Win, Sc = M,   T = Npx:  2 rows + cols + T - 2   (rows cycles to load weights)
    is: Sr = Win, Sc = Npx, T = M:    2 rows + cols + T - 2
times ceil(Sr / rows) x ceil(Sc / cols) folds. SRAM traffic follows the same folds (the
streamed operand is re-read once per fold of the other dimension); DRAM traffic is compulsory.
Energy = e_mac (MACs + 6 SRAM accesses) + 200 e_mac DRAM accesses, the normalized costs of the
Eyeriss-like model, so the two targets are priced in the same currency.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from hwmodels.accel.common import check_non_negative, check_positive, streaming_cost
from hwmodels.accel.shapes import LayerArrays
from hwmodels.accel.target import AccelResult

DATAFLOWS = ("os", "ws", "is")


def fold_dims(dataflow: str, npx, win, nfilt):
    """(Sr, Sc, T) of SCALE-Sim's mapping for one dataflow."""
    if dataflow == "os":
        return npx, nfilt, win
    if dataflow == "ws":
        return win, nfilt, npx
    if dataflow == "is":
        return win, npx, nfilt
    raise ValueError(f'"dataflow" must be one of os, ws, is, got {dataflow!r}')


def systolic_cycles(dataflow: str, rows: int, cols: int, npx, win, nfilt):
    """SCALE-Sim compute cycles (no memory stalls) and the fold counts."""
    sr, sc, t = fold_dims(dataflow, npx, win, nfilt)
    row_fold, col_fold = np.ceil(sr / rows), np.ceil(sc / cols)
    per_fold = t + rows + cols - 2 if dataflow == "os" else 2 * rows + cols + t - 2
    return row_fold * col_fold * per_fold, sr, sc, t, row_fold, col_fold


@dataclass(frozen=True)
class SystolicModel:
    name: str
    kind: Literal["systolic"]
    rows: int
    cols: int
    dataflow: Literal["os", "ws", "is"]
    clock_mhz: float
    sram_kib: float
    energy_per_mac_pj: float
    sram_access_multiple: float
    dram_access_multiple: float
    dram_words_per_cycle: float
    static_power_w: float
    active_power_w: float
    idle_power_w: float
    backend: Literal["analytic", "zigzag"] = "analytic"
    zigzag_hardware_yaml: str | None = None

    def __post_init__(self) -> None:
        where = f'accelerator "{self.name}"'
        if self.dataflow not in DATAFLOWS:
            raise ValueError(f'"dataflow" must be one of os, ws, is, got {self.dataflow!r} '
                             f"({where})")
        check_positive(self, "rows", "cols", "clock_mhz", "sram_kib", "energy_per_mac_pj",
                       "dram_words_per_cycle", "active_power_w", where=where)
        check_non_negative(self, "sram_access_multiple", "dram_access_multiple",
                           "static_power_w", "idle_power_w", where=where)

    def evaluate(self, a: LayerArrays, batch_size: int) -> AccelResult:
        n = float(batch_size)
        npx, win, nf = n * a.E * a.F, a.R * a.S * a.C, a.M
        cyc, sr, sc, t, row_fold, col_fold = systolic_cycles(self.dataflow, self.rows,
                                                             self.cols, npx, win, nf)
        # Streamed operand re-read per fold of the other dimension; stationary one read once.
        streamed = t * sr * col_fold
        if self.dataflow == "os":
            sram = streamed + t * sc * row_fold + sr * sc
        else:
            sram = streamed + sr * sc + t * sc * row_fold
        G, mac = a.G, a.is_mac
        zero = np.zeros(len(a))
        macs = n * a.macs
        dram = np.where(mac, G * (n * a.C * a.H * a.W + a.M * a.C * a.R * a.S
                                  + n * a.M * a.E * a.F), zero)
        sram = np.where(mac, G * sram, zero)
        cycles = np.where(mac, np.maximum(G * cyc, dram / self.dram_words_per_cycle), zero)
        s_ops, s_acc, s_cyc = streaming_cost(a, batch_size, self.cols, self.cols)
        cycles, sram, alu = cycles + s_cyc, sram + s_acc, macs + s_ops
        latency_s = cycles / (self.clock_mhz * 1e6)
        e = self.energy_per_mac_pj * 1e-12
        onchip_j = e * (alu + self.sram_access_multiple * sram) + self.static_power_w * latency_s
        dram_j = e * self.dram_access_multiple * dram
        pes = self.rows * self.cols
        util = np.where(cycles > 0, macs / (pes * np.maximum(cycles, 1e-30)), 0.0)
        return AccelResult(a.names, cycles, latency_s, macs,
                           {"mac": alu, "gb": sram, "dram": dram}, onchip_j, dram_j, util,
                           extra={"compute_cycles": np.where(mac, G * cyc, zero)})
