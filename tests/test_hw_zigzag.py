"""ZigZag backend: cache key, atomic write and corrupt-entry recovery with a fake runner (always
run), and a cross-check of the analytic Eyeriss-like model against ZigZag on ZigZag's own
eyeriss_like.yaml hardware (skipped without zigzag-dse)."""
import json
import os

import pytest

from hwmodels.accel import accelerator_target, build_accelerator
from hwmodels.accel import zigzag_backend as zb
from hwmodels.accel.zigzag_backend import ZigZagTarget
from partitioner.types import ConvShape, LayerProfile


def _conv(name, c: ConvShape) -> LayerProfile:
    return LayerProfile(1, name, "conv2d", ((c.in_channels, c.in_h, c.in_w),),
                        (c.out_channels, c.out_h, c.out_w), c.macs, c.weight_elements, 0, 0, 0, c)


def _relu(name, shape) -> LayerProfile:
    return LayerProfile(1, name, "relu", (shape,), shape, 0, 0, 0, 0, 0)


# LeNet-5's two convs and a scaled-down AlexNet conv3 (16 -> 32 channels on its 13 x 13 map).
LAYERS = [_conv("lenet_conv1", ConvShape(1, 6, 32, 32, 28, 28, 5, 5)),
          _conv("lenet_conv2", ConvShape(6, 16, 14, 14, 10, 10, 5, 5)),
          _conv("alexnet_conv3_small", ConvShape(16, 32, 15, 15, 13, 13, 3, 3))]


@pytest.fixture
def cache_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SPLITSIM_CACHE_DIR", str(tmp_path))
    return tmp_path / "zigzag"


def _fake_target(calls, hw_yaml, **kw):
    def runner(workload, hardware, mapping, opt, dump, lpf_limit):
        assert os.path.isdir(dump) and hardware == str(hw_yaml)
        calls.append(workload[0]["loop_sizes"])
        b, k, c, oy, ox, fy, fx = workload[0]["loop_sizes"]
        return {"energy_pj": 1.0 * b * k * c * oy * ox * fy * fx, "cycles": 1000.0}
    model = build_accelerator("eyeriss", {"backend": "zigzag",
                                          "zigzag_hardware_yaml": str(hw_yaml)})
    return ZigZagTarget(model, runner=runner, **kw)


def _payloads(folder):
    return sorted(p for p in folder.iterdir() if p.suffix == ".res")


def test_cache_key_atomic_write_and_corrupt_entry(cache_env, tmp_path, monkeypatch):
    hw = tmp_path / "hw.yaml"
    hw.write_text("operational_array: {dimensions: [D1, D2], sizes: [14, 12]}\n")
    calls = []
    t = _fake_target(calls, hw)
    layer = LAYERS[2]
    cost = t.layer_cost(layer, 2, "float32")
    assert cost.latency_s == pytest.approx(1000 / 200e6)
    assert cost.energy_j == pytest.approx(2 * layer.macs * 1e-12)
    assert calls == [[2, 32, 16, 13, 13, 3, 3]]
    # The key holds shape, batch, hardware path + hash and ZigZag version.
    fields = t.key_fields(layer, 2)
    assert fields["shape"] == {"C": 16, "M": 32, "G": 1, "H": 15, "W": 15, "R": 3, "S": 3,
                               "E": 13, "F": 13, "stride_h": 1, "stride_w": 1}
    assert fields["batch"] == 2 and fields["hardware_yaml"] == str(hw.resolve())
    assert fields["hardware_sha256"] == zb.file_sha256(hw)
    assert fields["zigzag_version"] == zb.zigzag_version()
    # one entry of the artifact cache: payload and checksummed sidecar, no temp file left
    payload, sidecar = t.cache.paths("zigzag", fields, ".res")
    assert _payloads(cache_env) == [payload] and sidecar.is_file()
    assert t.cache.paths("zigzag", {**fields, "batch": 1}, ".res")[0] != payload
    assert json.loads(sidecar.read_text())["key"] == fields
    assert not [p for p in cache_env.iterdir() if p.name.endswith(".tmp")]

    # A fresh target (new process) reads the entry: no runner call; other batch: one call.
    t2 = _fake_target(calls, hw)
    assert t2.layer_cost(layer, 2, "float32") == cost and len(calls) == 1
    t2.layer_cost(layer, 1, "float32")
    assert len(calls) == 2 and len(_payloads(cache_env)) == 2

    # Editing the hardware YAML changes its hash: a new entry and a new call.
    original = hw.read_text()
    hw.write_text(original + "# edited\n")
    t3 = _fake_target(calls, hw)
    t3.layer_cost(layer, 2, "float32")
    assert len(calls) == 3 and len(_payloads(cache_env)) == 3

    # A corrupt entry is dropped, the layer recomputed and the entry written anew.
    hw.write_text(original)
    payload.write_text("{not json")
    t4 = _fake_target(calls, hw)
    assert t4.layer_cost(layer, 2, "float32") == cost
    assert len(calls) == 4
    assert json.loads(payload.read_text())["cycles"] == 1000.0

    # Writes are atomic: a failure before the rename leaves no entry and no temp file.
    import core.atomic
    monkeypatch.setattr(core.atomic.os, "replace",
                        lambda *a, **k: (_ for _ in ()).throw(OSError("disk")))
    with pytest.raises(OSError):
        _fake_target(calls, hw).layer_cost(LAYERS[0], 1, "float32")
    assert len(_payloads(cache_env)) == 3
    assert not [p for p in cache_env.iterdir() if p.name.endswith(".tmp")]


def test_groups_non_mac_layers_and_bypass(cache_env, tmp_path):
    hw = tmp_path / "hw.yaml"
    hw.write_text("operational_array: {dimensions: [D1, D2], sizes: [14, 12]}\n")
    calls = []
    t = _fake_target(calls, hw, use_cache=False)
    grouped = _conv("g", ConvShape(8, 8, 10, 10, 8, 8, 3, 3, groups=4))
    relu = _relu("r", (8, 8, 8))
    costs = t.layer_costs([grouped, relu, grouped], 1, "float32")
    assert len(calls) == 2 and not cache_env.exists()                  # bypassed: no cache
    assert calls[0] == [1, 2, 2, 8, 8, 3, 3]                            # one group ...
    assert costs[0].latency_s == pytest.approx(4 * 1000 / 200e6)       # ... times 4
    analytic = accelerator_target("eyeriss").layer_cost(relu, 1, "float32")
    assert costs[1] == analytic                                          # non-MAC: analytic


def test_bad_settings(tmp_path):
    model = build_accelerator("eyeriss", {"backend": "zigzag"})
    with pytest.raises(ValueError, match="zigzag_hardware_yaml"):
        ZigZagTarget(model, runner=lambda *a: {})
    model = build_accelerator("eyeriss", {"backend": "zigzag",
                                          "zigzag_hardware_yaml": str(tmp_path / "nope.yaml")})
    with pytest.raises(ValueError, match="no such file"):
        ZigZagTarget(model, runner=lambda *a: {})


def test_missing_zigzag_is_a_clear_error(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_zigzag(name, *args, **kwargs):
        if name == "zigzag" or name.startswith("zigzag."):
            raise ImportError("No module named 'zigzag'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_zigzag)
    with pytest.raises(ValueError, match='"backend" zigzag needs the zigzag-dse package: '
                                         "pip install zigzag-dse"):
        accelerator_target("eyeriss", {"backend": "zigzag",
                                       "zigzag_hardware_yaml": "eyeriss_like.yaml"})


def test_row_stationary_mapping():
    m = zb.row_stationary_mapping(C=16, M=32, R=3, E=13, sizes=(14, 12))
    assert m[0]["spatial_mapping"] == {"D1": ["OY, 13"], "D2": ["FY, 3", "C, 4"]}
    assert [e["name"] for e in m] == ["Conv", "default"]
    m = zb.row_stationary_mapping(C=1, M=6, R=5, E=5, sizes=(14, 12))
    assert m[0]["spatial_mapping"] == {"D1": ["OY, 5", "K, 2"], "D2": ["FY, 5"]}


# Measured (zigzag-dse 3.9.1, eyeriss_like.yaml, batch 1, opt latency), ZigZag / analytic:
#                       row_stationary mapping       ZigZag's default.yaml (K x C)
#   lenet_conv1         cycles 2.35, energy 0.59     cycles 26.7, energy 0.71
#   lenet_conv2         cycles 1.53, energy 0.65     cycles 3.19, energy 0.66
#   alexnet_conv3_small cycles 1.53, energy 0.83     cycles 2.81, energy 0.68
# Both models price the same MACs and count accesses per level, but neither is calibrated to
# the other: ZigZag's eyeriss_like costs (0.5 pJ MAC, 1-1.5 pJ RF, 1000 pJ DRAM word) are its
# own, and its array has no Eyeriss multicast. So the check is "same order": within 3x on
# cycles and energy with the Eyeriss-like (row-stationary) mapping, the preset's dataflow.
TOLERANCE = 3.0


@pytest.fixture(scope="module")
def zigzag():
    return pytest.importorskip("zigzag.api")


def test_analytic_eyeriss_agrees_with_zigzag(zigzag, cache_env, monkeypatch):
    target = accelerator_target("eyeriss", {"backend": "zigzag",
                                            "zigzag_hardware_yaml": "eyeriss_like.yaml"})
    assert isinstance(target, ZigZagTarget) and target.mapping_yaml == zb.ROW_STATIONARY
    analytic = build_accelerator("eyeriss")
    zz = target.layer_costs(LAYERS, 1, "float32")
    assert target.zigzag_calls == len(LAYERS)
    from hwmodels.accel.shapes import layer_arrays
    an = analytic.evaluate(layer_arrays(LAYERS), 1)
    for layer, z, t_a, e_a in zip(LAYERS, zz, an.latency_s, an.energy_j):
        assert 1 / TOLERANCE < z.latency_s / t_a < TOLERANCE, layer.name
        assert 1 / TOLERANCE < z.energy_j / e_a < TOLERANCE, layer.name

    # Second call: from the cache, ZigZag is not called (even in a fresh target).
    def boom(*a, **k):
        raise AssertionError("ZigZag called despite the cache")
    monkeypatch.setattr(zigzag, "get_hardware_performance_zigzag", boom)
    again = accelerator_target("eyeriss", {"backend": "zigzag",
                                           "zigzag_hardware_yaml": "eyeriss_like.yaml"})
    assert again.layer_costs(LAYERS, 1, "float32") == zz
    assert again.zigzag_calls == 0
