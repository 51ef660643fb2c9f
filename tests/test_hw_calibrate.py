"""`sim calibrate`: data generated from known parameters plus noise is fitted back."""
import numpy as np
import pandas as pd
import pytest
import yaml

from hwmodels.calibrate import calibrate_csv, write_preset_yaml
from hwmodels.device import Regression
from hwmodels.presets import build_model, device_preset, strip_sources

TRUE = {"conv2d": (-0.60, 0.12), "linear": (-0.20, 0.05)}
TRUE_LAUNCH_US = 25.0


def synth(tmp_path, with_power=True, noise=0.02, seed=0):
    rng = np.random.default_rng(seed)
    dev = device_preset("jetson-tx2-gpu")
    rows = []
    for op, (a, b) in TRUE.items():
        for flops in np.logspace(6, 10.5, 25):
            eff = Regression("log", a, b, 1e-3, 1.0)(flops)
            t = TRUE_LAUNCH_US * 1e-6 + flops / (dev.peak_flops("float32") * eff)
            row = {"op_type": op, "flops": flops, "moved_bytes": 1.0,
                   "latency_ms": t * 1e3 * np.exp(rng.normal(0, noise))}
            if with_power:
                row["power_w"] = 4.0 + 0.8 * np.log10(flops) + rng.normal(0, 0.05)
            rows.append(row)
    path = tmp_path / "measured.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_round_trip_recovers_parameters(tmp_path):
    preset, report = calibrate_csv(synth(tmp_path), "jetson-tx2-gpu")
    assert report["launch_overhead_us"] == pytest.approx(TRUE_LAUNCH_US, rel=0.25)
    for op, (a, b) in TRUE.items():
        fit = report["latency"][op]
        assert fit["intercept"] == pytest.approx(a, abs=0.03)
        assert fit["slope"] == pytest.approx(b, abs=0.005)
        assert fit["rms_log_residual"] < 0.03          # about the 2 % noise put in
        assert report["power"][op]["slope"] == pytest.approx(0.8, abs=0.05)
        assert report["power"][op]["intercept"] == pytest.approx(4.0, abs=0.4)


def test_written_preset_is_sourced_and_builds(tmp_path):
    preset, _ = calibrate_csv(synth(tmp_path), "jetson-tx2-gpu")
    out = write_preset_yaml(preset, tmp_path / "out" / "tx2-fitted.yaml")
    raw = yaml.safe_load(out.read_text())
    values, _, unsourced = strip_sources(raw)
    assert unsourced == []
    dev, problems = build_model("devices", values, str(out))
    assert problems == [] and set(dev.efficiency_fit) == {"conv2d", "linear"}
    assert "rms_log_residual" in raw["calibration"]["latency"]["conv2d"]
    # The fitted device reproduces the generating model within the noise.
    eff = dev.op_efficiency("conv2d", 1e9)
    assert eff == pytest.approx(-0.60 + 0.12 * 9, abs=0.02)
    assert not list(out.parent.glob(".*"))           # no temporary file left behind


def test_latency_only_has_no_power_fit(tmp_path):
    preset, report = calibrate_csv(synth(tmp_path, with_power=False), "jetson-tx2-gpu")
    assert "power_fit" not in preset and report["power"] == {}


@pytest.mark.parametrize("content, match", [
    ("op_type,latency_ms\nconv2d,1\n", "lacks column"),
    ("op_type,flops,latency_ms\nconv2d,1e6,-1\nconv2d,1e7,1\nconv2d,1e8,1\n", "latency_ms"),
    ("op_type,flops,latency_ms\nconv2d,1e6,1\n", "at least 3 rows"),
])
def test_bad_csv_is_value_error(tmp_path, content, match):
    p = tmp_path / "m.csv"
    p.write_text(content)
    with pytest.raises(ValueError, match=match):
        calibrate_csv(p, "jetson-tx2-gpu")


def test_unreadable_csv_and_unknown_device(tmp_path):
    with pytest.raises(ValueError, match="cannot read"):
        calibrate_csv(tmp_path / "missing.csv", "jetson-tx2-gpu")
    with pytest.raises(KeyError, match="known"):
        calibrate_csv(synth(tmp_path), "jetson-tx9")


# ----------------------------------------------------------------------------- whole networks
from dataclasses import replace  # noqa: E402

from core.errors import UserError  # noqa: E402
from hwmodels.calibrate_net import fit_networks, fit_parameters  # noqa: E402
from hwmodels.netcost import network_costs  # noqa: E402
from hwmodels.networks import network_table, parse_networks  # noqa: E402

ZOO_ROWS = [("lenet5", "", 1), ("lenet5", "", 64), ("cifar10", "", 1), ("cifar10", "", 32),
            ("svhn", "", 1), ("svhn", "", 256), ("resnet18", "3,64,64", 1),
            ("resnet18", "3,64,64", 16), ("alexnet", "", 1), ("alexnet", "", 8),
            ("mlp5", "", 1), ("mlp5", "", 128), ("resnet18", "3,32,32", 4)]
# The "true" device the synthetic measurements come from: titan-xp with other figures (own
# overheads for the op types the preset gives one: the ones a fit can tell apart).
TRUE_DEV = dict(launch_overhead_us=30.0, memory_efficiency=0.7,
                launch_overhead_by_op_us={"conv2d": 55.0, "batchnorm2d": 45.0},
                efficiency={"conv2d": 0.62, "linear": 0.35, "default": 0.25})


@pytest.fixture(scope="module")
def zoo_table():
    df = pd.DataFrame(ZOO_ROWS, columns=["model", "input_shape", "batch_size"])
    nets = parse_networks(df, "zoo.csv")
    return nets, network_table(nets, "zoo.csv", use_cache=False)


def synthetic_measurements(nets, table, noise=0.01, seed=0):
    true = replace(device_preset("titan-xp"), efficiency_fit={}, **TRUE_DEV)
    lat_s, _ = network_costs(true, table, nets.batch_sizes)
    rng = np.random.default_rng(seed)
    return true, lat_s * 1e3 * np.exp(rng.normal(0, noise, len(lat_s)))


def test_whole_network_fit_recovers_known_device(zoo_table):
    nets, table = zoo_table
    true, measured = synthetic_measurements(nets, table)
    fit = fit_networks(device_preset("titan-xp"), table, nets.batch_sizes, measured,
                       energy_mj=measured * 200.0)   # mJ = 200 W x ms
    # The figures these networks pin down come back within 15 % (1 % noise put in).
    # conv layers come in many sizes: a power law in size, whose slope must come back ~0
    assert fit.params["efficiency_fit.conv2d.intercept"] == pytest.approx(0.62, rel=0.05)
    assert fit.params["efficiency_fit.conv2d.slope"] == pytest.approx(0.0, abs=0.03)
    assert fit.params["memory_efficiency"] == pytest.approx(0.7, rel=0.1)
    per_conv_us = fit.params["launch_overhead_by_op_us.conv2d"]
    assert per_conv_us == pytest.approx(55.0, rel=0.15)
    assert fit.params["launch_overhead_us"] == pytest.approx(30.0, rel=0.15)
    assert np.sqrt(np.mean(fit.log_residuals ** 2)) < 0.02
    assert fit.power_w == pytest.approx(200.0, rel=0.01)
    # and the fitted device predicts the generating one on every network within 3 %
    ref, _ = network_costs(true, table, nets.batch_sizes)
    got, _ = network_costs(fit.device, table, nets.batch_sizes)
    assert np.max(np.abs(got / ref - 1)) < 0.03


def test_own_overheads_only_for_op_types_the_preset_names(zoo_table):
    _, table = zoo_table
    titan = device_preset("titan-xp")           # names conv2d and batchnorm2d
    keys = {p.key for p in fit_parameters(titan, table)}
    # linear, relu, maxpool2d, ... vary too, but share the common overhead
    assert {k for k in keys if k.startswith("launch_overhead")} == {
        "launch_overhead_us", "launch_overhead_by_op_us.conv2d",
        "launch_overhead_by_op_us.batchnorm2d"}
    with_linear = replace(titan, launch_overhead_by_op_us={
        **titan.launch_overhead_by_op_us, "linear": 25.0})
    assert "launch_overhead_by_op_us.linear" in {p.key for p in fit_parameters(with_linear,
                                                                               table)}


def test_fewer_rows_than_parameters_is_user_error(zoo_table):
    nets, table = zoo_table
    _, measured = synthetic_measurements(nets, table)
    n_params = len(fit_parameters(device_preset("titan-xp"), table))
    few = table.select(range(n_params - 1))
    with pytest.raises(UserError, match=f"cannot fit {n_params} parameters"):
        fit_networks(device_preset("titan-xp"), few, nets.batch_sizes[:n_params - 1],
                     measured[:n_params - 1])


def test_fit_finds_a_pooling_slower_than_its_bytes_allow():
    """At batch 256 the preset's pooling is memory-bound, where its efficiency has no effect on
    latency; the fit must still find a truly compute-bound (slow) pooling."""
    archs = pd.read_csv("hwmodels/data/nb201-latency-ms.csv", nrows=40)["arch"]
    df = pd.DataFrame({"model": ["nb201:" + a for a in archs]})
    table = network_table(parse_networks(df, "nb.csv"), "nb.csv", use_cache=False)
    base = device_preset("titan-xp")
    true = replace(base, efficiency={**base.efficiency, "avgpool2d": 0.002})
    batches = np.full(len(archs), 256)
    measured = network_costs(true, table, batches)[0] * 1e3
    fit = fit_networks(base, table, batches, measured)
    assert fit.params["efficiency.avgpool2d"] == pytest.approx(0.002, rel=0.2)


def test_fit_recovers_the_host_call_of_skip_edges():
    """NAS-Bench-201 networks vary in skip edges, each an identity module call that launches no
    kernel: a device whose such call costs 12 us (the preset says 5) is found from 40 of them."""
    archs = pd.read_csv("hwmodels/data/nb201-latency-ms.csv", nrows=40)["arch"]
    df = pd.DataFrame({"model": ["nb201:" + a for a in archs]})
    table = network_table(parse_networks(df, "nb.csv"), "nb.csv", use_cache=False)
    base = device_preset("titan-xp")
    assert "call_overhead_us" in {p.key for p in fit_parameters(base, table)}
    true = replace(base, call_overhead_us=12.0)
    ones = np.ones(len(archs), dtype=int)
    fit = fit_networks(base, table, ones, network_costs(true, table, ones)[0] * 1e3)
    assert fit.params["call_overhead_us"] == pytest.approx(12.0, rel=0.1)
    # no such parameter where the preset prices none (a converter or compiler deploys it)
    assert "call_overhead_us" not in {
        p.key for p in fit_parameters(replace(base, call_overhead_us=0.0), table)}


# ----------------------------------------------------------------------------- held out
from hwmodels.crossval import CV_FOLDS, cross_validate, cv_folds  # noqa: E402


def test_cv_folds_partition_the_rows():
    assert [f.tolist() for f in cv_folds(4)] == [[0], [1], [2], [3]]     # leave-one-out
    folds = cv_folds(25)
    assert len(folds) == CV_FOLDS and {len(f) for f in folds} == {2, 3}
    assert sorted(np.concatenate(folds).tolist()) == list(range(25))
    assert all(np.array_equal(a, b) for a, b in zip(folds, cv_folds(25)))   # seeded


def test_held_out_prediction_never_sees_its_own_measurement():
    data = pd.read_csv("hwmodels/data/nb201-latency-ms.csv", nrows=8)   # leave-one-out
    table = network_table(parse_networks(pd.DataFrame({"model": "nb201:" + data["arch"]}),
                                         "nb.csv"), "nb.csv", use_cache=False)
    measured, batches = data["raspi4_ms"].to_numpy(), np.ones(8, dtype=int)
    pi = device_preset("raspberry-pi-4")
    cv, why_not = cross_validate(pi, table, batches, measured)
    assert why_not == "" and cv.method == "leave-one-out"
    spoiled = measured.copy()
    spoiled[3] *= 3.0                                    # one wild measurement
    cv2, _ = cross_validate(pi, table, batches, spoiled)
    assert cv2.predicted_ms[3] == pytest.approx(cv.predicted_ms[3], rel=1e-9)
    assert cv2.baseline_ms[3] == pytest.approx(cv.baseline_ms[3], rel=1e-9)
    assert not np.allclose(cv2.predicted_ms, cv.predicted_ms)   # the others' fits did see it
    assert cv2.summary(spoiled)["mape_pct"] > cv.summary(measured)["mape_pct"]


def test_held_out_error_is_small_where_the_model_family_holds_the_truth(zoo_table):
    nets, table = zoo_table
    _, measured = synthetic_measurements(nets, table, noise=0.0)
    cv, _ = cross_validate(device_preset("titan-xp"), table, nets.batch_sizes, measured)
    assert cv.method == "10-fold"
    summary = cv.summary(measured)        # measured: 0.08 % median, 0.2 % mean
    assert summary["median_ape_pct"] < 0.5 and summary["mape_pct"] < 1.0
    assert summary["baseline_mape_pct"] > 5.0              # the regression cannot: 12.9 %
    # a fold left with fewer networks than parameters: no estimate, and the reason
    few, why_not = cross_validate(device_preset("titan-xp"), table.select(range(5)),
                                  nets.batch_sizes[:5], measured[:5])
    assert few is None and "cannot fit" in why_not
