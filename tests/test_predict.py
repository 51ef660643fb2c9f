"""`sim predict` and whole-network `sim calibrate` through the CLI: outputs, and exit 2 with
the row and column of every bad input."""
import numpy as np
import pandas as pd
import pytest
import yaml

from hwmodels.folding import converter_removed
from hwmodels.netcost import LayerTable, network_costs
from hwmodels.presets import device_preset
from partitioner.profile import profile_model
from sim.cli import main

NB = "nb201:|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|" \
     "nor_conv_3x3~2|"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_predict_keeps_columns_and_equals_the_cost_model(tmp_path, capsys):
    models = tmp_path / "models.csv"
    pd.DataFrame({"model": ["lenet5", NB, "cifar10"], "tag": ["a", "b", "c"],
                  "input_shape": ["", "", "3,32,32"], "batch_size": [1, 4, 2]}).to_csv(
        models, index=False)
    out = tmp_path / "pred.csv"
    code, _, err = run(capsys, "predict", str(models), "--device", "jetson-tx2-gpu",
                       "--out", str(out))
    assert code == 0, err
    pred = pd.read_csv(out, keep_default_na=False)
    assert list(pred.columns) == ["model", "tag", "input_shape", "batch_size", "latency_ms",
                                  "energy_mj"]
    dev = device_preset("jetson-tx2-gpu")
    for i, (m, b) in enumerate([("lenet5", 1), (NB, 4), ("cifar10", 2)]):
        lat, en = network_costs(dev, LayerTable.from_layers([profile_model(m).layers]), b)
        assert pred["latency_ms"][i] == pytest.approx(lat[0] * 1e3, rel=1e-5)
        assert pred["energy_mj"][i] == pytest.approx(en[0] * 1e3, rel=1e-5)
    # --batch-size overrides the column; an accelerator preset works too
    code, _, err = run(capsys, "predict", str(models), "--device", "eyeriss", "--batch-size",
                       "1", "--out", str(out))
    assert code == 0, err
    assert (pd.read_csv(out)["latency_ms"] > 0).all()


@pytest.mark.parametrize("content, needle", [
    ("name\nlenet5\n", "column model is missing"),
    ("model\nlenet5\nno-such-net\n", "row 2, column model"),
    ("model,batch_size\nlenet5,0\n", "row 1, column batch_size"),
    ("model,input_shape\nlenet5,3;x\n", "row 1, column input_shape"),
])
def test_predict_bad_input_exits_2(tmp_path, capsys, content, needle):
    models = tmp_path / "m.csv"
    models.write_text(content)
    code, _, err = run(capsys, "predict", str(models), "--device", "titan-xp", "--out",
                       str(tmp_path / "o.csv"))
    assert code == 2 and needle in err and "Traceback" not in err
    assert not (tmp_path / "o.csv").exists()


def measured_csv(tmp_path, rows=12, bad=None):
    """Whole-network measurements made from the titan-xp preset with 25 % more overhead."""
    archs = pd.read_csv("hwmodels/data/nb201-latency-ms.csv", nrows=rows)["arch"]
    models = ["nb201:" + a for a in archs]
    slower = device_preset("titan-xp")
    from dataclasses import replace
    slower = replace(slower, launch_overhead_us=slower.launch_overhead_us * 1.25,
                     launch_overhead_by_op_us={k: v * 1.25 for k, v in
                                               slower.launch_overhead_by_op_us.items()})
    table = LayerTable.from_layers([profile_model(m).layers for m in models])
    lat = network_costs(slower, table, 1)[0] * 1e3
    df = pd.DataFrame({"model": models, "latency_ms": lat, "energy_mj": lat * 180.0})
    if bad:
        df.loc[bad[0], bad[1]] = bad[2]
    path = tmp_path / "measured.csv"
    df.to_csv(path, index=False)
    return path, lat


def test_calibrate_whole_networks_writes_a_preset_usable_by_path(tmp_path, capsys):
    measured, lat = measured_csv(tmp_path)
    out = tmp_path / "txp.yaml"
    code, stdout, err = run(capsys, "calibrate", str(measured), "--device", "titan-xp",
                            "--out", str(out), "--name", "titan-xp-lab")
    assert code == 0, err
    raw = yaml.safe_load(out.read_text())
    assert raw["name"] == "titan-xp-lab"
    assert len(raw["calibration"]["rows"]) == 12
    assert raw["calibration"]["rms_log_residual"]["value"] < 0.01   # exact synthetic data
    assert raw["active_power_w"]["value"] == pytest.approx(180.0, rel=1e-3)
    # every row also predicted by a fit that did not see it, beside the two-feature regression
    held = raw["calibration"]["cross_validation"]
    assert held["method"].startswith("10-fold") and held["mape_pct"]["value"] < 1.0
    assert held["baseline_mape_pct"]["value"] > held["mape_pct"]["value"]
    assert all(row["held_out_predicted_ms"] > 0 for row in raw["calibration"]["rows"])
    assert "held out (10-fold): MAPE" in stdout and "regression predicts" not in stdout
    fitted = device_preset(str(out))
    assert fitted.launch_overhead_us == pytest.approx(25 * 1.25, rel=0.1)
    # the fitted file works wherever a device name does
    from sim.config import load_scenario
    scenario = load_scenario("configs/tx2_lenet.yaml", [f"cloud.device={out}"])
    assert scenario.cloud.name == "titan-xp-lab"


def test_calibrate_says_when_the_regression_predicts_better_held_out(tmp_path, capsys):
    """Latencies exactly linear in (kernels, MACs): the regression has no held-out error, the
    roofline preset does, and the printout says so."""
    archs = pd.read_csv("hwmodels/data/nb201-latency-ms.csv", nrows=14)["arch"]
    models = ["nb201:" + a for a in archs]
    table = LayerTable.from_layers([profile_model(m).layers for m in models])
    lat = 2.0 + 0.05 * table.kernels() + 3e-7 * table.total_macs()
    measured = tmp_path / "linear.csv"
    pd.DataFrame({"model": models, "latency_ms": lat}).to_csv(measured, index=False)
    code, stdout, err = run(capsys, "calibrate", str(measured), "--device", "titan-xp",
                            "--out", str(tmp_path / "lin.yaml"))
    assert code == 0, err
    held = yaml.safe_load((tmp_path / "lin.yaml").read_text())["calibration"][
        "cross_validation"]
    assert held["baseline_median_ape_pct"]["value"] < 1e-6 < held["median_ape_pct"]["value"]
    assert "the two-feature regression predicts these networks better" in stdout


def test_calibrate_marks_parameters_the_networks_did_not_decide(tmp_path, capsys):
    """Latencies made by a Pi 4 with no common per-kernel overhead: the fit drives that
    overhead to its floor, and the preset and the printout say it is a limit of the fit, not a
    measured figure; a parameter no prediction depends on is marked too; the others are not."""
    from dataclasses import replace
    archs = pd.read_csv("hwmodels/data/nb201-latency-ms.csv", nrows=12)["arch"]
    models = ["nb201:" + a for a in archs]
    pi = device_preset("raspberry-pi-4")
    profiles = [profile_model(m).layers for m in models]
    table = LayerTable.from_layers(profiles, [     # what TensorFlow Lite leaves running
        converter_removed(m, [layer.op_type for layer in p]) for m, p in zip(models, profiles)])
    lat = network_costs(replace(pi, launch_overhead_us=0.0), table, 1)[0] * 1e3
    measured = tmp_path / "pi.csv"
    pd.DataFrame({"model": models, "latency_ms": lat}).to_csv(measured, index=False)
    out = tmp_path / "pi.yaml"
    code, stdout, err = run(capsys, "calibrate", str(measured), "--device", "raspberry-pi-4",
                            "--out", str(out))
    assert code == 0, err
    raw = yaml.safe_load(out.read_text())
    assert raw["calibration"]["at_bounds"] == {"launch_overhead_us": "lower"}
    assert raw["launch_overhead_us"]["value"] == pytest.approx(1e-3, rel=1e-2)
    assert "lower bound" in raw["launch_overhead_us"]["source"]
    assert "bound" not in raw["memory_efficiency"]["source"]
    marked = [line for line in stdout.splitlines() if "bound:" in line]
    assert len(marked) == 1 and marked[0].strip().startswith("launch_overhead_us = ")
    # elementwise kernels are memory bound on the Pi at any efficiency in range: the networks
    # say nothing about their compute efficiency, and the preset says so
    not_informed = raw["calibration"]["not_informed"]
    assert "efficiency.default" in not_informed and "efficiency.conv2d" not in not_informed
    assert "not a measured figure" in raw["efficiency"]["default"]["source"]
    assert raw["efficiency"]["default"]["value"] == pytest.approx(
        pi.efficiency["default"], rel=1e-3)
    assert "not informed" in next(line for line in stdout.splitlines()
                                  if "efficiency.default" in line)
    assert "not a measured" not in raw["efficiency"]["conv2d"]["source"]


@pytest.mark.parametrize("bad, needle", [
    ((3, "latency_ms", -1.0), "row 4, column latency_ms"),
    ((0, "model", "nb201:|bogus~0|"), "row 1, column model"),
])
def test_calibrate_bad_measurements_exit_2(tmp_path, capsys, bad, needle):
    measured, _ = measured_csv(tmp_path, bad=bad)
    out = tmp_path / "x.yaml"
    code, _, err = run(capsys, "calibrate", str(measured), "--device", "titan-xp", "--out",
                       str(out))
    assert code == 2 and needle in err and not out.exists()


def test_calibrate_too_few_rows_and_no_convergence_write_nothing(tmp_path, capsys,
                                                                 monkeypatch):
    measured, _ = measured_csv(tmp_path, rows=3)
    out = tmp_path / "x.yaml"
    code, _, err = run(capsys, "calibrate", str(measured), "--device", "titan-xp", "--out",
                       str(out))
    assert code == 2 and "cannot fit" in err and not out.exists()

    import hwmodels.calibrate_net as cn
    real = cn.least_squares

    def failing(*a, **k):
        sol = real(*a, **k)
        sol.success, sol.message = False, "iteration limit"
        return sol
    monkeypatch.setattr(cn, "least_squares", failing)
    measured, _ = measured_csv(tmp_path)
    code, _, err = run(capsys, "calibrate", str(measured), "--device", "titan-xp", "--out",
                       str(out))
    assert code == 2 and "did not converge" in err and not out.exists()


def test_per_layer_measurements_still_calibrate(tmp_path, capsys):
    """The per-layer format (op_type, flops, latency_ms) goes through the per-layer fit."""
    rows = [{"op_type": "conv2d", "flops": f, "latency_ms": 0.05 + f / 4e9}
            for f in np.logspace(6, 10, 12)]
    measured = tmp_path / "layers.csv"
    pd.DataFrame(rows).to_csv(measured, index=False)
    out = tmp_path / "tx2.yaml"
    code, stdout, err = run(capsys, "calibrate", str(measured), "--device", "jetson-tx2-gpu",
                            "--out", str(out))
    assert code == 0, err
    assert "fitted 12 layers" in stdout
    assert "conv2d" in yaml.safe_load(out.read_text())["efficiency_fit"]
    assert device_preset(str(out)).name == "jetson-tx2-gpu-calibrated"
