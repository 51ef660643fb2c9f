"""Regression tests for the reliability defects (issue 18, D1-D14): each bad input exits 2 with
an `error:` line naming the key or file before any work, or runs correctly; nothing partial is
written; numbers are finite."""
import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from partitioner.zoo import build_model
from sim.cli import main

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
LENET = str(CONFIGS / "tx2_lenet.yaml")
VGG = str(CONFIGS / "tx2_vgg16.yaml")


def cli(capsys, *args: str, bound_s: float = 60.0) -> tuple[int, str]:
    """Run the CLI in-process: no traceback, and a refusal comes before any work (bound_s)."""
    t0 = time.perf_counter()
    code = main(list(args))
    err = capsys.readouterr().err
    assert time.perf_counter() - t0 < bound_s, args
    assert "Traceback" not in err
    return code, err


def refused(capsys, *args: str, says: str, bound_s: float = 60.0) -> str:
    code, err = cli(capsys, *args, bound_s=bound_s)
    assert code == 2, err
    assert all(line.startswith("error: ") for line in err.strip().splitlines()), err
    assert says in err, err
    return err


# ------------------------------------------------------------------- D4: non-finite, overflow
@pytest.mark.parametrize("key,value", [
    ("link.alpha_up_mw_per_mbps", ".inf"), ("link.beta_mw", ".inf"),
    ("link.uplink_mbps", ".inf"), ("link.downlink_mbps", "1e308"),
    ("sim.arrival.rate_hz", ".inf"), ("sim.arrival.rate_hz", ".nan"),
    ("edge.device.active_power_w", ".inf"), ("link.rtt_ms", ".nan"),
])
def test_d4_non_finite_values_are_refused(capsys, key, value):
    refused(capsys, "validate", LENET, "--set", f"{key}={value}", says=f"error: {key}: ")


def test_d4_batch_size_that_would_overflow_bytes(capsys):
    refused(capsys, "validate", LENET, "--set", "workload.batch_size=1000000000000000000",
            says="workload.batch_size: ")


# ------------------------------------------------------------------- D5: bounded work
@pytest.mark.parametrize("key,value", [
    ("sim.requests", 10 ** 8), ("sim.clients", 10 ** 7), ("cloud.gpus", 10 ** 9),
    ("cloud.max_batch", 10 ** 9), ("sim.replications", 10 ** 9),
])
def test_d5_sizes_past_their_ceiling_are_refused_up_front(capsys, key, value):
    err = refused(capsys, "run", LENET, "--no-privacy", "--set", f"{key}={value}",
                  "--set", "sim.ci_rel_tol=0", says=f"{key}: is {value:,}; at most")
    assert len(err) < 400


def test_d5_sweep_sample_past_its_ceiling(capsys, tmp_path):
    refused(capsys, "sweep", LENET, "--grid", "link.uplink_mbps=1:100", "--sample",
            "1000000000", "--cost-only", "--out", str(tmp_path / "s"),
            says="1,000,000,000 configurations; at most 1,000,000")
    assert not (tmp_path / "s").exists()


def test_d5_alias_bomb_in_cuts_is_refused_quickly(capsys, tmp_path):
    bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdef", "bcdefg"))
    config = tmp_path / "bomb.yaml"
    config.write_text(bomb + (CONFIGS / "tx2_lenet.yaml").read_text().replace(
        "cuts: [8, 12]", "cuts: *g"))
    err = refused(capsys, "validate", str(config), says="once aliases are expanded")
    assert len(err) < 400


# ------------------------------------------------------------------- D6: shapes
@pytest.mark.parametrize("shape", ["[3, 8, 8]", "[3, 224]", "[]"])
def test_d6_input_shape_the_network_cannot_take(capsys, shape):
    refused(capsys, "validate", VGG, "--set", f"workload.input_shape={shape}",
            says="error: ")


# ------------------------------------------------------------------- D7: what a file holds
@pytest.mark.parametrize("content,says", [
    (b"\xff\xfe\x00n\x00a\x00m\x00e", "is not UTF-8 text"),                  # UTF-16
    (b"\x89PNG\r\n\x1a\n\x00\x00", "is not UTF-8 text"),                      # binary
    (b"name: x\n" + b"edge: " + b"{a: " * 200 + b"1" + b"}" * 200, "nesting deeper than"),
    (b"x: &x [*x]\nname: y\n", "recursive alias"),
    (b"sim: {requests: " + b"9" * 5000 + b"}\n", "YAML cannot represent"),
])
def test_d7_files_that_are_not_configs(capsys, tmp_path, content, says):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    refused(capsys, "validate", str(path), says=says)


def test_d7_overlong_preset_name_and_sourced_value_as_device(capsys):
    refused(capsys, "validate", LENET, "--set", "link.preset=" + "x" * 300,
            says="is not a link preset name")
    refused(capsys, "validate", LENET, "--set", "edge.device={value: 1, source: s}",
            says="edge.device: expected a preset name or a mapping of fields")


# ------------------------------------------------------------------- D8: validate = run
@pytest.mark.parametrize("sets,says", [
    (["link=null"], "link: required section is missing"),
    ([f"name={'n' * 1_000_000}"], "name: "),
    (["link.rtt_ms=.nan"], "link.rtt_ms: must be a finite number"),
])
def test_d8_what_validate_accepts_runs(capsys, tmp_path, sets, says):
    args = [a for s in sets for a in ("--set", s)]
    refused(capsys, "validate", LENET, *args, says=says)
    refused(capsys, "run", LENET, "--no-privacy", "--out", str(tmp_path / "o"), *args,
            says=says)
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------- D9: places to write
def test_d9_out_and_cache_dir_that_are_files(capsys, tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    refused(capsys, "run", LENET, "--no-privacy", "--out", str(a_file), says="is a file")
    refused(capsys, "run", LENET, "--no-privacy", "--out", str(a_file / "sub"),
            says="is a file, not a folder")
    refused(capsys, "noise", "train", LENET, "--cut", "8", "--out", str(a_file),
            says="is a file")
    refused(capsys, "sweep", LENET, "--grid", "link.uplink_mbps=1,2", "--cost-only",
            "--out", str(a_file), says="is a file")
    refused(capsys, "run", LENET, "--no-privacy", "--cache-dir", str(a_file),
            "--out", str(tmp_path / "o"), says="cache folder")
    assert a_file.read_text() == "x"


def test_d9_cache_payload_replaced_by_a_folder_is_rebuilt(capsys, tmp_path):
    cache = tmp_path / "cache"
    assert cli(capsys, "run", LENET, "--no-privacy", "--out", str(tmp_path / "a"),
               "--cache-dir", str(cache))[0] == 0
    payloads = list((cache / "profiles").glob("*.profile"))
    assert payloads
    for p in payloads:
        p.unlink()
        p.mkdir()
    assert cli(capsys, "run", LENET, "--no-privacy", "--out", str(tmp_path / "b"),
               "--cache-dir", str(cache))[0] == 0
    assert all(p.is_file() for p in payloads)
    assert ((tmp_path / "a" / "results.csv").read_bytes()
            == (tmp_path / "b" / "results.csv").read_bytes())


# ------------------------------------------------------------------- D12: duplicate keys
def test_d12_a_section_given_twice(capsys, tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text((CONFIGS / "tx2_lenet.yaml").read_text() + "\nworkload: {model: vgg16}\n")
    refused(capsys, "validate", str(path), says="key 'workload' is given twice")


# ------------------------------------------------------------------- D14: containment
def test_d14_names_and_presets_stay_inside(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    refused(capsys, "run", LENET, "--no-privacy", "--set", "name=../../escaped",
            says="name: '../../escaped' must be")
    assert not (tmp_path.parent.parent / "escaped").exists()
    outside = tmp_path / "x.yaml"
    outside.write_text("peak_gflops: {fp32: 1}\n")
    refused(capsys, "validate", LENET, "--set", "edge.device=../../../" + str(tmp_path) + "/x",
            says="is not a device name")


def test_d14_written_files_follow_the_umask(capsys, tmp_path):
    old = os.umask(0o022)
    try:
        assert cli(capsys, "run", LENET, "--no-privacy", "--out", str(tmp_path / "o"))[0] == 0
    finally:
        os.umask(old)
    assert (tmp_path / "o" / "results.csv").stat().st_mode & 0o777 == 0o644


def test_missing_collection_file_is_reported_by_validate(capsys, tmp_path):
    refused(capsys, "validate", LENET, "--set", f"noise.collection_path={tmp_path}/none.npz",
            says=f"noise.collection_path: file '{tmp_path}/none.npz' not found")


def test_verbose_flag_after_the_subcommand(capsys, tmp_path):
    code, _ = cli(capsys, "validate", LENET, "-v")
    assert code == 0


# ------------------------------------------------------------------- D1, D2: content keys
def _weights(path: Path, seed: int) -> Path:
    torch.manual_seed(seed)
    torch.save(build_model("lenet5", (1, 28, 28), 2).state_dict(), path)
    return path


@pytest.mark.slow
def test_d2_replacing_the_weights_file_gives_new_results(capsys, tmp_path):
    weights = _weights(tmp_path / "w.pt", 0)
    args = ["run", LENET, "--cache-dir", str(tmp_path / "c"), "--set",
            f"privacy.weights={weights}", "--set", "privacy.cuts=[8]", "--set",
            "report.plots=false", "--set", "noise.method=none"]
    assert cli(capsys, *args, "--out", str(tmp_path / "a"), bound_s=900)[0] == 0
    _weights(weights, 1)                       # same path, other weights
    assert cli(capsys, *args, "--out", str(tmp_path / "b"), bound_s=900)[0] == 0
    a = json.loads((tmp_path / "a" / "run.json").read_text())["privacy_provenance"]
    b = json.loads((tmp_path / "b" / "run.json").read_text())["privacy_provenance"]
    assert b["per_cut"]["8"]["result_cache_hit"] is False
    assert a["per_cut"]["8"]["mi_bits"] != b["per_cut"]["8"]["mi_bits"]


@pytest.mark.slow
def test_d1_a_collection_file_is_read_even_with_a_warm_cache(capsys, tmp_path):
    args = ["run", LENET, "--cache-dir", str(tmp_path / "c"), "--set", "privacy.cuts=[8]",
            "--set", "report.plots=false"]
    assert cli(capsys, *args, "--out", str(tmp_path / "a"), bound_s=900)[0] == 0   # warm
    junk = tmp_path / "junk.npz"
    junk.write_bytes(np.random.default_rng(0).bytes(8192))
    refused(capsys, *args, "--out", str(tmp_path / "b"), "--set",
            f"noise.collection_path={junk}", says="collection", bound_s=900)


@pytest.mark.slow
def test_d1_a_collection_from_noise_train_gives_its_own_figures_in_a_run(capsys, tmp_path):
    """`sim noise train` learns on the network `sim run` measures (same weights and data):
    its collection, given as noise.collection_path, reproduces the printed figures (it used
    to be trained on another model: 3.06 points printed, 30.64 measured)."""
    cache = ["--set", f"privacy.cache_dir={tmp_path / 'c'}"]
    assert main(["noise", "train", LENET, "--cut", "8", "--out", str(tmp_path / "noise"),
                 *cache]) == 0
    out = capsys.readouterr().out
    printed = re.search(r"loss (-?[\d.]+) points\); 1/SNR [\d.]+ \((-?[\d.]+) dB\)", out)
    loss_pct, snr_db = float(printed[1]), float(printed[2])
    collection = tmp_path / "noise" / "lenet5_cut8.npz"
    assert cli(capsys, "run", LENET, "--out", str(tmp_path / "run"), *cache, "--set",
               "privacy.cuts=[8]", "--set", "report.plots=false", "--set",
               f"noise.collection_path={collection}", bound_s=900)[0] == 0
    row = pd.read_csv(tmp_path / "run" / "results.csv").set_index("cut").loc[8]
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["privacy_provenance"]["per_cut"]["8"]["noise_collection"] == str(collection)
    assert abs(row["accuracy_loss_pct"] - loss_pct) <= row["accuracy_loss_ci95"]
    assert abs(row["snr_db"] - snr_db) <= 0.5


# ------------------------------------------------------------------- D10: data and weights
def _png_header(path: Path, width: int, height: int) -> None:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(
        ">IIBBBBB", width, height, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b""))


def _image_folder(root: Path, per_class: int) -> Path:
    from PIL import Image
    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 255, (28, 28), dtype=np.uint8)).save(
                root / cls / f"{i}.png")
    return root


def _privacy_run(capsys, tmp_path, *sets: str) -> str:
    args = ["run", LENET, "--out", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c"),
            "--set", "privacy.cuts=[8]", "--set", "report.plots=false"]
    return refused(capsys, *args, *[a for s in sets for a in ("--set", s)], says="error: ")


def test_d10_an_image_folder_too_small_for_the_figures(capsys, tmp_path):
    folder = _image_folder(tmp_path / "imgs", 12)
    err = _privacy_run(capsys, tmp_path, f"privacy.data={folder}")
    assert "its test split holds 5 samples; the privacy figures need at least 10" in err


def test_d10_an_image_claiming_40000_by_40000_pixels_is_not_decoded(capsys, tmp_path):
    folder = _image_folder(tmp_path / "imgs", 15)
    _png_header(folder / "a" / "huge.png", 40000, 40000)
    err = _privacy_run(capsys, tmp_path, f"privacy.data={folder}")
    assert "huge.png: claims more pixels" in err


@pytest.mark.parametrize("case", ["truncated", "label_1e9"])
def test_d10_bad_npz(capsys, tmp_path, case):
    path = tmp_path / "d.npz"
    x = np.random.default_rng(0).random((100, 1, 28, 28)).astype(np.float32)
    if case == "truncated":
        np.savez(path, x=x, y_public=np.arange(100) % 2)
        path.write_bytes(path.read_bytes()[:500])
        says = "not a readable .npz"
    else:
        np.savez(path, x=x, y_public=np.array([0, 10 ** 9] * 50))
        says = "'y_public' holds label 1000000000; labels are class numbers 0..999"
    assert says in _privacy_run(capsys, tmp_path, f"privacy.data={path}")


def test_d10_weights_holding_nan(capsys, tmp_path):
    state = build_model("lenet5", (1, 28, 28), 2).state_dict()
    state["0.weight"][0, 0, 0, 0] = float("nan")
    torch.save(state, tmp_path / "w.pt")
    err = _privacy_run(capsys, tmp_path, f"privacy.weights={tmp_path / 'w.pt'}")
    assert "holds NaN or infinite values in 0.weight" in err


@pytest.mark.parametrize("time_s", ["nan", "inf"])
def test_d14_bandwidth_trace_times_must_be_finite(capsys, tmp_path, time_s):
    trace = tmp_path / "bw.csv"
    trace.write_text(f"time_s,uplink_mbps,downlink_mbps\n0,10,40\n{time_s},20,40\n")
    refused(capsys, "validate", LENET, "--set", f"link.bandwidth_trace_csv={trace}",
            says="time_s must start at 0 and increase")


def test_ux_a_grid_of_inline_accelerators_beside_a_second_key(capsys, tmp_path):
    code, err = cli(capsys, "sweep", str(CONFIGS / "eyeriss_alexnet.yaml"), "--grid",
                    "edge.accelerator={preset: eyeriss},{preset: systolic}", "--grid",
                    "link.uplink_mbps=10,20", "--cost-only", "--out", str(tmp_path / "s"),
                    "--no-progress")
    assert code == 0, err
    assert list((tmp_path / "s" / "plots").glob("*heatmap*.png"))


# ------------------------------------------------------------------- profile and calibrate
@pytest.mark.parametrize("shape,says", [("3,0,224", "dimensions must be >= 1"),
                                        ("3,-1,224", "dimensions must be >= 1"),
                                        ("3,99999999999999999999,224", "elements per sample")])
def test_d6_profile_input_shapes(capsys, shape, says):
    refused(capsys, "profile", "vgg16", "--input-shape", shape, says=says)


@pytest.mark.parametrize("row,says", [
    (",1000,0.1", '"op_type" is empty in row 2'),
    ("conv2d,inf,0.1", '"flops" must be a finite number > 0 in every row'),
    ("conv2d,-5,0.1", "row 2 (row 1 is the header) has '-5"),
])
def test_d10_calibrate_csv_rows_are_named(capsys, tmp_path, row, says):
    csv = tmp_path / "m.csv"
    csv.write_text("op_type,flops,latency_ms\n" + row + "\nconv2d,2000,0.2\nconv2d,4000,0.3\n"
                   "conv2d,8000,0.5\n")
    refused(capsys, "calibrate", str(csv), "--device", "titan-xp", "--out",
            str(tmp_path / "p.yaml"), says=says)
    assert not (tmp_path / "p.yaml").exists()


def test_d9_calibrate_out_a_folder(capsys, tmp_path):
    csv = tmp_path / "m.csv"
    csv.write_text("op_type,flops,latency_ms\nconv2d,1000,0.1\nconv2d,2000,0.2\n"
                   "conv2d,4000,0.3\nconv2d,8000,0.5\n")
    refused(capsys, "calibrate", str(csv), "--device", "titan-xp", "--out", str(tmp_path),
            says="is a folder")


def test_ux_api_sweep_takes_inline_mappings_like_the_cli(tmp_path):
    from sim import api
    s = api.sweep(CONFIGS / "eyeriss_alexnet.yaml", cost_only=True, out_dir=tmp_path,
                  grid={"edge.accelerator": [{"preset": "eyeriss"}, {"preset": "systolic"}]})
    assert len(s.best) == 2
    assert s.rows.groupby("config")["edge_compute_ms"].sum().nunique() == 2
