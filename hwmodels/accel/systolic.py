"""Systolic array (TPU-like) whose compute cycles follow SCALE-Sim's model (os / ws / is).

A conv layer is a GEMM: ofmap pixels Npx = N E F, window Win = R S C, filters M. Each dataflow
maps two operand dimensions onto the array's rows x cols (Sr x Sc, folded) and streams the third
(T) through it. Per fold, SCALE-Sim's demand matrices last (scalesim 3.0.0, compute/*.py):
    os: Sr = Npx, Sc = M,   T = Win:  T + rows + cols - 2 cycles
    ws: Sr = Win, Sc = M,   T = Npx:  2 rows + cols + T - 2   (rows cycles to load weights)
    is: Sr = Win, Sc = Npx, T = M:    2 rows + cols + T - 2
times ceil(Sr / rows) x ceil(Sc / cols) folds.

Bit width: the PEs multiply `mac_bits`-wide operands; wider `bits` take ceil(bits / mac_bits)^2
passes (the TPU runs 8x16-bit products at half and 16x16 at quarter speed), narrower ones one
pass at (bits / mac_bits)^2 of the multiply energy (a multiplier's energy grows with the product
of its operand widths: Horowitz, ISSCC 2014). Every operand moves `bits / 8` bytes.

Memory: SRAM traffic follows the folds (the streamed operand is re-read once per fold of the
other dimension); DRAM traffic is what an on-chip memory of `sram_kib` lets through
(common.dram_words: compulsory when a layer fits, else tiled); a layer takes at least its DRAM
bytes / `dram_bytes_per_cycle` cycles. Energy = MACs x MAC energy + SRAM and DRAM bytes x their
per-byte energies + static power x time, where static power and area grow with the PE count
and the SRAM capacity (shares of the TPU's die and idle power, see the preset).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from core.schema import FieldError
from hwmodels.accel.common import check_non_negative, check_positive, dram_words, streaming_cost
from hwmodels.accel.shapes import LayerArrays
from hwmodels.accel.target import AccelResult
from partitioner.types import dtype_bytes

DATAFLOWS = ("os", "ws", "is")
MAX_BITS = 32


def fold_dims(dataflow: str, npx, win, nfilt):
    """(Sr, Sc, T) of SCALE-Sim's mapping for one dataflow."""
    if dataflow == "os":
        return npx, nfilt, win
    if dataflow == "ws":
        return win, nfilt, npx
    if dataflow == "is":
        return win, npx, nfilt
    raise FieldError("dataflow", f'must be one of os, ws, is, got {dataflow!r}')


def systolic_cycles(dataflow: str, rows: int, cols: int, npx, win, nfilt):
    """SCALE-Sim compute cycles (no memory stalls) and the fold counts."""
    sr, sc, t = fold_dims(dataflow, npx, win, nfilt)
    row_fold, col_fold = np.ceil(sr / rows), np.ceil(sc / cols)
    per_fold = t + rows + cols - 2 if dataflow == "os" else 2 * rows + cols + t - 2
    return row_fold * col_fold * per_fold, sr, sc, t, row_fold, col_fold


def bit_passes(bits: int, mac_bits: int) -> int:
    """Passes through a mac_bits-wide multiplier for a bits x bits product."""
    return (-(-bits // mac_bits)) ** 2


def mac_energy_scale(bits: int, mac_bits: int) -> float:
    """Multiply energy relative to one mac_bits x mac_bits product."""
    return float(bit_passes(bits, mac_bits)) if bits > mac_bits else (bits / mac_bits) ** 2


@dataclass(frozen=True)
class SystolicModel:
    name: str
    kind: Literal["systolic"]
    rows: int
    cols: int
    dataflow: Literal["os", "ws", "is"]
    clock_mhz: float
    sram_kib: float
    mac_bits: int
    energy_per_mac_pj: float                 # one mac_bits x mac_bits MAC with its accumulate
    sram_energy_pj_per_byte: float
    dram_energy_pj_per_byte: float
    dram_bytes_per_cycle: float
    static_power_w: float                    # neither array nor SRAM (I/O, control)
    static_power_mw_per_pe: float
    static_power_mw_per_kib: float           # SRAM leakage
    area_mm2: float                          # neither array nor SRAM
    area_mm2_per_pe: float
    area_mm2_per_kib: float
    active_power_w: float
    idle_power_w: float | None = None        # None: the configured chip's static power
    bits: int | None = None                  # operand width; None: the activation dtype's
    backend: Literal["analytic", "zigzag"] = "analytic"
    zigzag_hardware_yaml: str | None = None
    noise_host: str | None = None           # device preset whose CPU cores run the noise kernel

    def __post_init__(self) -> None:
        where = f'accelerator "{self.name}"'
        if self.dataflow not in DATAFLOWS:
            raise FieldError("dataflow", f'must be one of os, ws, is, got {self.dataflow!r} '
                             f"({where})")
        check_positive(self, "rows", "cols", "clock_mhz", "sram_kib", "mac_bits",
                       "energy_per_mac_pj", "dram_bytes_per_cycle", "active_power_w",
                       where=where)
        check_non_negative(self, "sram_energy_pj_per_byte", "dram_energy_pj_per_byte",
                           "static_power_w", "static_power_mw_per_pe",
                           "static_power_mw_per_kib", "area_mm2", "area_mm2_per_pe",
                           "area_mm2_per_kib", where=where)
        if self.idle_power_w is None:
            # An idle chip still leaks: its idle power follows the array and SRAM it has.
            object.__setattr__(self, "idle_power_w", self.array_static_power_w)
        check_non_negative(self, "idle_power_w", where=where)
        if self.bits is not None and (isinstance(self.bits, bool) or not isinstance(self.bits, int)
                                      or not 1 <= self.bits <= MAX_BITS):
            raise FieldError("bits", f'must be an integer in 1..{MAX_BITS}, got {self.bits!r} '
                             f"({where})")

    @property
    def num_pes(self) -> int:
        return self.rows * self.cols

    @property
    def array_static_power_w(self) -> float:
        return self.static_power_w + 1e-3 * (self.static_power_mw_per_pe * self.num_pes
                                             + self.static_power_mw_per_kib * self.sram_kib)

    @property
    def total_area_mm2(self) -> float:
        return (self.area_mm2 + self.area_mm2_per_pe * self.num_pes
                + self.area_mm2_per_kib * self.sram_kib)

    def with_activation_dtype(self, dtype: str) -> "SystolicModel":
        """Operands at the workload's activation width unless `bits` is set."""
        return self if self.bits is not None else replace(self, bits=8 * dtype_bytes(dtype))

    def evaluate(self, a: LayerArrays, batch_size: int) -> AccelResult:
        bits = self.bits if self.bits is not None else self.mac_bits
        passes = bit_passes(bits, self.mac_bits)
        bytes_per_word = bits / 8.0
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
        dram_b = dram_words(a, batch_size, self.sram_kib * 1024 / bytes_per_word) * bytes_per_word
        sram_b = np.where(mac, G * sram, zero) * bytes_per_word
        compute = np.where(mac, G * cyc * passes, zero)
        cycles = np.where(mac, np.maximum(compute, dram_b / self.dram_bytes_per_cycle), zero)
        s_ops, s_acc, s_cyc = streaming_cost(a, batch_size, self.cols, self.cols)
        cycles, sram_b = cycles + s_cyc, sram_b + s_acc * bytes_per_word
        latency_s = cycles / (self.clock_mhz * 1e6)
        e_mac = self.energy_per_mac_pj * mac_energy_scale(bits, self.mac_bits)
        onchip_j = (1e-12 * (e_mac * macs + self.energy_per_mac_pj * s_ops
                             + self.sram_energy_pj_per_byte * sram_b)
                    + self.array_static_power_w * latency_s)
        dram_j = 1e-12 * self.dram_energy_pj_per_byte * dram_b
        util = np.where(cycles > 0, macs / (self.num_pes * np.maximum(cycles, 1e-30)), 0.0)
        return AccelResult(a.names, cycles, latency_s, macs,
                           {"mac": macs + s_ops, "gb": sram_b / bytes_per_word,
                            "dram": dram_b / bytes_per_word}, onchip_j, dram_j, util,
                           extra={"compute_cycles": np.where(mac, G * cyc, zero),
                                  "dram_bytes": dram_b, "sram_bytes": sram_b})
