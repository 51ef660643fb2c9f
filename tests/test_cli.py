"""The `sim` CLI end to end: outputs of `sim run`, and exit 2 with one line per user mistake."""
import json
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.config import load_scenario
from sim.costs import NoiseCostModel
from sim.table import RESULT_COLUMNS, cut_costs
from sim.profiles import scenario_graph

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_writes_every_output(tmp_path, capsys):
    code, out, err = run_cli(capsys, "run", str(CONFIGS / "tx2_lenet.yaml"), "--out",
                             str(tmp_path), "--no-privacy")
    assert code == 0, err
    assert "| cut |" in out and "total / cloud-only" in out
    results = pd.read_csv(tmp_path / "results.csv")
    assert list(results.columns)[:len(RESULT_COLUMNS)] == RESULT_COLUMNS
    assert {"edge_queue_ms", "cloud_queue_ms", "latency_ci95_ms", "sim_total_mj",
            "bottleneck_utilization"} <= set(results.columns)
    parts = ["edge_queue_ms", "edge_compute_ms", "noise_ms", "uplink_ms", "cloud_queue_ms",
             "cloud_compute_ms", "downlink_ms"]
    assert (results[parts].sum(axis=1) - results["latency_ms"]).abs().max() < 1e-3
    # no request is faster than the bare path of an isolated one (services and propagation;
    # the isolated figure also pays a promotion that requests under load mostly skip)
    scenario = load_scenario(CONFIGS / "tx2_lenet.yaml")
    isolated = cut_costs(scenario_graph(scenario), scenario.edge, scenario.cloud, scenario.link,
                         NoiseCostModel.from_spec(scenario.noise))["latency_ms"]
    bare = isolated - scenario.link.promotion_ms
    assert (results["latency_p99_ms"] >= bare - 1e-6).all()
    assert (results["latency_ms"] >= bare - 1e-6).all()
    assert results["latency_isolated_ms"].tolist() == pytest.approx(isolated.tolist(), rel=1e-6)
    assert results["cut"].tolist() == list(range(13))
    assert results["mi_bits"].isna().all()          # empty, never silently zero
    for name in ("energy_breakdown.md", "energy_breakdown.csv", "energy_breakdown.tex",
                 "plots/energy_per_cut.png", "plots/latency_per_cut.png",
                 "plots/energy_per_cut.pdf", "report.html"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert not list((tmp_path / "plots").glob("privacy*"))    # not evaluated: not drawn
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["config"]["workload"]["model"] == "lenet5"
    assert record["versions"]["torch"].startswith("2.")
    assert "not evaluated" in record["privacy"]
    assert record["simulation"]["0"]["latency_ms"]["ci95_low"] <= results.loc[0, "latency_ms"]
    assert record["sources"]["edge.device.memory_bandwidth_gbps"].startswith("vendor")
    bd = pd.read_csv(tmp_path / "energy_breakdown.csv")
    assert bd.loc[0, "total_norm"] == pytest.approx(1.0)


def test_run_formats_and_set(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "run", str(CONFIGS / "tx2_lenet.yaml"), "--out",
                           str(tmp_path), "--format", "csv", "--set", "link.preset=lte")
    assert code == 0
    assert out.splitlines()[0].startswith("cut,after_layer,edge_mj")
    code, out, _ = run_cli(capsys, "run", str(CONFIGS / "tx2_lenet.yaml"), "--out",
                           str(tmp_path), "--format", "latex")
    assert code == 0 and r"\begin{tabular}" in out


def bad(capsys, tmp_path, *extra, config="tx2_vgg16.yaml"):
    code, out, err = run_cli(capsys, "validate", str(CONFIGS / config), *extra)
    assert code == 2
    assert "Traceback" not in err
    return err.strip().splitlines()


def test_unknown_key(capsys, tmp_path):
    lines = bad(capsys, tmp_path, "--set", "workload.modle=vgg16")
    assert lines == ["error: workload.modle: unknown key; valid keys: model, input_shape, "
                     "batch_size, input_dtype, activation_dtype, num_classes, compute_dtype"]


def test_misspelled_preset_lists_known_names(capsys, tmp_path):
    (line,) = bad(capsys, tmp_path, "--set", "edge.device=jetson-tx2-gpo")
    assert line.startswith("error: edge.device: unknown device 'jetson-tx2-gpo'; known: ")
    assert "jetson-tx2-gpu" in line and "titan-xp" in line
    (line,) = bad(capsys, tmp_path, "--set", "link.preset=wfi")
    assert "link: unknown link preset 'wfi'" in line and "wifi" in line and "lte" in line


def test_negative_bandwidth(capsys, tmp_path):
    (line,) = bad(capsys, tmp_path, "--set", "link.uplink_mbps=-5")
    assert line == 'error: link.uplink_mbps: must be > 0, got -5.0 (link "wifi")'


def test_missing_config_file(capsys, tmp_path):
    code, _, err = run_cli(capsys, "run", str(tmp_path / "nope.yaml"))
    assert code == 2
    assert err.strip() == f"error: config file '{tmp_path / 'nope.yaml'}' not found"


def test_cut_out_of_range(capsys, tmp_path):
    (line,) = bad(capsys, tmp_path, "--set", "privacy.cuts=[3, 41]")
    assert line.startswith("error: privacy.cuts: [41] not valid for vgg16 (cuts 0..40)")


def test_every_problem_reported_at_once(capsys, tmp_path):
    lines = bad(capsys, tmp_path, "--set", "link.uplink_mbps=0", "--set", "cloud.gpus=0",
                "--set", "sim.arrival.rate_hz=-2", "--set", "edge.power_mode=turbo")
    keys = sorted(line.split(":")[1].strip() for line in lines)
    assert keys == ["cloud.gpus", "edge.power_mode", "link.uplink_mbps", "sim.arrival.rate_hz"]


def test_bad_yaml_and_not_a_mapping(capsys, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("workload: {model: vgg16\nedge: [")
    code, _, err = run_cli(capsys, "validate", str(broken))
    assert code == 2 and "is not valid YAML (line" in err
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    code, _, err = run_cli(capsys, "validate", str(listy))
    assert code == 2 and "expected a mapping of sections" in err


def test_failed_run_keeps_earlier_outputs(tmp_path, capsys):
    assert run_cli(capsys, "run", str(CONFIGS / "tx2_lenet.yaml"), "--out", str(tmp_path))[0] == 0
    before = (tmp_path / "results.csv").read_bytes()
    code, _, _ = run_cli(capsys, "run", str(CONFIGS / "tx2_lenet.yaml"), "--out", str(tmp_path),
                         "--set", "link.uplink_mbps=-1")
    assert code == 2
    assert (tmp_path / "results.csv").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_profile_and_devices(capsys):
    code, out, _ = run_cli(capsys, "profile", "resnet18")
    assert code == 0 and "1,814,073,344 MACs" in out and "24 valid cuts" in out
    code, _, err = run_cli(capsys, "profile", "resnet19")
    assert code == 2 and "known:" in err and "resnet18" in err
    code, out, _ = run_cli(capsys, "devices")
    assert code == 0 and "jetson-tx2-gpu" in out and "lte" in out and "Huang" in out


@pytest.mark.parametrize("config", sorted(p.name for p in CONFIGS.glob("*.yaml")))
def test_shipped_configs_validate(capsys, config):
    code, out, err = run_cli(capsys, "validate", str(CONFIGS / config))
    assert code == 0, err


def test_file_names_in_a_config_are_relative_to_its_folder(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "arrivals.csv").write_text("\n".join(str(0.5 * i) for i in range(1, 301)) + "\n")
    config = (CONFIGS / "tx2_lenet.yaml").read_text()
    (folder / "traced.yaml").write_text(config)
    monkeypatch.chdir(tmp_path)                      # not the config's folder
    code, out, err = run_cli(capsys, "validate", str(folder / "traced.yaml"), "--set",
                             "sim={requests: 300, warmup_requests: 10, arrival: "
                             "{process: trace, trace_path: arrivals.csv}}")
    assert code == 0, err
    (folder / "arrivals.csv").write_text("0.5\n0.4\n")
    code, _, err = run_cli(capsys, "validate", str(folder / "traced.yaml"), "--set",
                           "sim={requests: 2, warmup_requests: 0, arrival: "
                           "{process: trace, trace_path: arrivals.csv}}")
    assert code == 2 and "arrivals.csv" in err and "Traceback" not in err


@pytest.mark.parametrize("sets,expect", [
    (["edge={accelerator: {preset: bitfusion, act_bits: 0}}"],
     "error: edge.accelerator.act_bits: must be an integer in 1..16, got 0"),
    (["edge={accelerator: {preset: systolic, dataflow: rs}}"],
     "error: edge.accelerator.dataflow: 'rs' is not one of os, ws, is"),
    (["link.bandwidth_trace_csv=/nonexistent/bw.csv"], "error: link.bandwidth_trace_csv"),
])
def test_bad_hardware_input_exits_2(capsys, tmp_path, sets, expect):
    args = [a for s in sets for a in ("--set", s)]
    (line,) = bad(capsys, tmp_path, *args)
    assert line.startswith(expect)
