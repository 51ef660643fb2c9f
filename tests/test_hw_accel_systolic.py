"""Systolic (TPU-like) model: bit width, SRAM capacity, static power and area against hand
counts."""
import pytest

from hwmodels.accel import accelerator_target, build_accelerator, conv_arrays
from hwmodels.accel.common import dram_words
from hwmodels.accel.systolic import bit_passes, mac_energy_scale, systolic_cycles
from partitioner.types import ConvShape, LayerProfile

CONV = ConvShape(64, 64, 58, 58, 56, 56, 3, 3)      # 115.6 M MACs, compute-bound on 256 x 256


def test_bit_width_sets_passes_and_mac_energy():
    assert [bit_passes(b, 8) for b in (2, 4, 8, 12, 16, 32)] == [1, 1, 1, 4, 4, 16]
    assert mac_energy_scale(4, 8) == 0.25 and mac_energy_scale(16, 8) == 4.0
    a = conv_arrays([CONV])
    r = {b: build_accelerator("systolic", {"bits": b}).evaluate(a, 1) for b in (4, 8, 16)}
    npx, win = 56 * 56, 9 * 64
    base, *_ = systolic_cycles("ws", 256, 256, npx, win, 64)
    assert r[8].cycles[0] == base and r[4].cycles[0] == base      # narrower: no faster
    assert r[16].cycles[0] == 4 * base                            # 16 x 16 on 8-bit MACs
    # Bytes follow the width: SRAM and DRAM bytes double from 8 to 16 bits.
    assert r[16].extra["sram_bytes"][0] == pytest.approx(2 * r[8].extra["sram_bytes"][0])
    assert r[16].extra["dram_bytes"][0] == pytest.approx(2 * r[8].extra["dram_bytes"][0])
    macs = CONV.macs
    m8 = build_accelerator("systolic", {"bits": 8})
    expect = (1e-12 * (0.3 * macs + 2.5 * r[8].extra["sram_bytes"][0])
              + m8.array_static_power_w * base / 700e6)
    assert r[8].onchip_energy_j[0] == pytest.approx(expect)
    assert r[8].dram_energy_j[0] == pytest.approx(162.5e-12 * r[8].extra["dram_bytes"][0])
    assert r[4].energy_j[0] < r[8].energy_j[0] < r[16].energy_j[0]


def _conv_layer(c: ConvShape) -> LayerProfile:
    return LayerProfile(1, "conv2d_1", "conv2d", ((c.in_channels, c.in_h, c.in_w),),
                        (c.out_channels, c.out_h, c.out_w), c.macs, 0, 0, 0, 0, c)


def test_activation_dtype_sets_the_width_unless_bits_is_given():
    layer = _conv_layer(CONV)
    t = accelerator_target("systolic")
    i8, f16 = t.layer_cost(layer, 1, "int8"), t.layer_cost(layer, 1, "float16")
    assert f16.latency_s == pytest.approx(4 * i8.latency_s)
    assert f16.energy_j > 2 * i8.energy_j
    fixed = accelerator_target("systolic", {"bits": 8})
    assert fixed.layer_cost(layer, 1, "float16").latency_s == pytest.approx(i8.latency_s)
    with pytest.raises(ValueError, match="bits"):
        accelerator_target("systolic", {"bits": 0})


def test_sram_capacity_sets_dram_traffic():
    a = conv_arrays([ConvShape(256, 256, 58, 58, 56, 56, 3, 3)])
    # ifmap 256*58*58 + weights 256*256*9 + ofmap 256*56*56 = 2,251,264 bytes at 8 bits: it fits
    # 28 MiB (compulsory) but not 256 KiB, where it is tiled as common.dram_words says.
    big = build_accelerator("systolic", {"bits": 8}).evaluate(a, 1)
    small = build_accelerator("systolic", {"bits": 8, "sram_kib": 256}).evaluate(a, 1)
    assert big.extra["dram_bytes"][0] == 256 * 58 * 58 + 256 * 256 * 9 + 256 * 56 * 56
    assert small.extra["dram_bytes"][0] == pytest.approx(dram_words(a, 1, 256 * 1024)[0])
    assert small.extra["dram_bytes"][0] > 1.5 * big.extra["dram_bytes"][0]
    assert small.dram_energy_j[0] > big.dram_energy_j[0]


def test_static_power_and_area_grow_with_the_array():
    m = {n: build_accelerator("systolic", {"rows": n, "cols": n, "bits": 8}) for n in (32, 256)}
    sram_w = 0.2832e-3 * 28672
    assert m[256].array_static_power_w == pytest.approx(13.16 + 0.1025e-3 * 65536 + sram_w)
    assert m[256].array_static_power_w == pytest.approx(28.0, rel=0.01)    # the TPU's idle
    assert m[32].array_static_power_w == pytest.approx(13.16 + 0.1025e-3 * 1024 + sram_w)
    assert m[256].total_area_mm2 == pytest.approx(331, rel=0.01)
    small_sram = build_accelerator("systolic", {"sram_kib": 1024})
    assert small_sram.array_static_power_w == pytest.approx(13.16 + 6.7174 + 0.29, rel=1e-3)
    # A small layer (ws: 144-deep window, 16 filters, 1024 pixels) fills 256 x 256 badly:
    # 1 fold of 2*256 + 256 + 1024 - 2 = 1790 cycles against 5 folds of 2*32 + 32 + 1022 = 5590
    # on 32 x 32; the big array is 3.1x faster but holds 7.7 W more static power.
    a = conv_arrays([ConvShape(16, 16, 34, 34, 32, 32, 3, 3)])
    r32, r256 = m[32].evaluate(a, 1), m[256].evaluate(a, 1)
    assert (r32.cycles[0], r256.cycles[0]) == (5590, 1790)
    assert r256.utilization[0] == pytest.approx(16 * 16 * 9 * 1024 / (65536 * 1790))
    static_j = {n: m[n].array_static_power_w * c / 700e6 for n, c in ((32, 5590), (256, 1790))}
    dynamic_j = r32.onchip_energy_j[0] - static_j[32]
    assert r256.onchip_energy_j[0] - static_j[256] == pytest.approx(dynamic_j, rel=0.5)
    assert static_j[256] == pytest.approx(28.0 * 1790 / 700e6, rel=1e-3)


def test_idle_power_follows_the_configured_chip():
    assert accelerator_target("systolic").idle_power_w == pytest.approx(28.0, rel=0.01)
    small = accelerator_target("systolic", {"rows": 16, "cols": 16, "sram_kib": 256})
    assert small.idle_power_w == pytest.approx(13.16 + 0.1025e-3 * 256 + 0.2832e-3 * 256)
    assert accelerator_target("systolic", {"idle_power_w": 1.5}).idle_power_w == 1.5
