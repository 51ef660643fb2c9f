"""The `sim` command line. User mistakes exit 2 with one line per problem, never a traceback."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from core.errors import UserError
from core.registry import UnknownNameError
from noise.collection import CollectionError
from sim.commands import COMMANDS


DEVICES_DESCRIPTION = (
    "Every device, accelerator and link preset: each figure with its value and source. "
    "Accelerators (edge.accelerator: eyeriss | systolic | bitfusion, or a mapping of their "
    "fields) are priced by analytic models (all VGG-16 layers in under 1 ms). With "
    "`backend: zigzag` and `zigzag_hardware_yaml: eyeriss_like.yaml` (a path, or a hardware "
    "YAML shipped with zigzag-dse; pip install zigzag-dse) conv and linear layers are priced "
    "by ZigZag's mapping search instead: about 0.2-2 s per distinct layer shape on first use "
    "(the 25 conv shapes of AlexNet, VGG-16 and ResNet-18: 18 s on 2 cores), then read from "
    "its per-layer cache under the cache directory ($SPLITSIM_CACHE_DIR, default "
    "~/.cache/splitsim).")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sim", description="Hardware-aware simulation of privacy-preserving split DNN "
                                "inference (Shredder, Cloak).")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="evaluate every valid cut of a scenario and write reports")
    r.add_argument("config", help="scenario YAML, e.g. configs/tx2_vgg16.yaml")
    r.add_argument("--out", help="output folder (default results/<config name>/)")
    r.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="override a config key before validation (repeatable)")
    r.add_argument("--format", choices=["md", "csv", "latex"], default="md",
                   help="format of the table printed to the terminal")
    r.add_argument("--cache-dir", help="trained models and noise (default $SPLITSIM_CACHE_DIR, "
                                       "else ~/.cache/splitsim)")
    r.add_argument("--no-privacy", action="store_true",
                   help="skip the privacy evaluation (privacy columns stay empty)")
    r.add_argument("--include-saturated", action="store_true",
                   help="let the printed lowest-energy cut be a saturated one (a stage offered "
                        "more work than it serves: its energy per request is finite, its "
                        "latency is empty, so it is never the lowest-latency cut); by default "
                        "saturated cuts are skipped")

    from sim.sweep.cli import add_sweep_arguments
    add_sweep_arguments(sub.add_parser(
        "sweep", help="sweep config keys over a grid or a Latin hypercube; best cut per "
                      "configuration and the Pareto front"))

    v = sub.add_parser("validate", help="check a config and list every problem at once")
    v.add_argument("config")
    v.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")

    sub.add_parser("devices", help="list device, accelerator and link presets with sources",
                   description=DEVICES_DESCRIPTION)

    pr = sub.add_parser("profile", help="per-layer table: MACs, params, bytes, valid cuts")
    pr.add_argument("model", help="zoo name, nb201:<genotype>, path/file.py:factory or file.onnx")
    pr.add_argument("--input-shape", help="e.g. 3,224,224 (default: the model's own)")
    pr.add_argument("--activation-dtype", default="float32")
    pr.add_argument("--format", choices=("md", "csv"), default="md")
    pr.add_argument("--device", help="add per-layer latency_ms and energy_mj on this device or "
                                     "accelerator preset")
    pr.add_argument("--out", help="write the table to this file instead of stdout")
    c = sub.add_parser("calibrate", help="fit a device preset to measured whole networks "
                                         "or per-layer data")
    c.add_argument("measured", metavar="MEASURED.csv",
                   help="whole networks: model, latency_ms; optional input_shape, batch_size, "
                        "energy_mj. Per layer: op_type, flops (or macs), latency_ms; optional "
                        "moved_bytes, power_w")
    c.add_argument("--device", required=True,
                   help="preset (name or .yaml file) to start from, e.g. jetson-tx2-gpu")
    c.add_argument("--out", help="preset YAML to write (default <device>-calibrated.yaml)")
    c.add_argument("--name", help="name of the fitted preset (default <device>-calibrated)")
    c.add_argument("--cache-dir", help="profile cache (default $SPLITSIM_CACHE_DIR, else "
                                       "~/.cache/splitsim)")

    pd_ = sub.add_parser("predict", help="latency and energy of many networks on one device")
    pd_.add_argument("models", metavar="MODELS.csv",
                     help="column model (any model source); optional input_shape, batch_size")
    pd_.add_argument("--device", required=True,
                     help="device or accelerator preset name, or a preset .yaml file")
    pd_.add_argument("--batch-size", type=int, help="batch size for every row (overrides the "
                                                     "batch_size column)")
    pd_.add_argument("--out", default="predictions.csv", help="CSV to write")
    pd_.add_argument("--cache-dir", help="profile cache (default $SPLITSIM_CACHE_DIR, else "
                                         "~/.cache/splitsim)")

    ch = sub.add_parser("check-hw", help="accuracy of the device models against the vendored "
                                         "NAS-Bench-201 measurements (report table, scatter)")
    ch.add_argument("--out", default="results/hw-accuracy", help="output folder")
    ch.add_argument("--columns", help="device columns to check (comma-separated; default all)")
    ch.add_argument("--sample", type=int, help="evaluate on this many networks drawn with the "
                                               "seed (default all 15,625)")
    ch.add_argument("--seed", type=int, default=0)
    ch.add_argument("--cache-dir", help="profile cache")
    ch.add_argument("--draw-bound", action="store_true",
                    help="also fit each preset to every network and rescale it on each "
                         "calibration draw: what the best shape reaches from those networks "
                         "(a bound, it sees every measurement), beside free layer costs and "
                         "boosted trees learned from 80 %% of the networks (5 folds): what "
                         "thousands of measurements allow (adds about 30 s)")
    ch.add_argument("--draws", type=int, default=0, metavar="N",
                    help="also calibrate on the draws of seeds 0..N-1 and report the spread "
                         "and how many meet each target (about 1.5 s per draw for all columns; "
                         "default 0: none)")

    ac = sub.add_parser("accel-compare", help="per-layer Bit Fusion-like vs Eyeriss-like table "
                                              "(speedup, energy reduction)")
    ac.add_argument("config")
    ac.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")
    ac.add_argument("--format", choices=["md", "csv", "latex"], default="md")

    nz = sub.add_parser("noise", help="noise collections (Shredder)")
    nz_sub = nz.add_subparsers(dest="noise_command", required=True, metavar="NOISE_COMMAND")
    nt = nz_sub.add_parser("train", help="learn and save the noise collection(s) for the "
                                          "configured cuts")
    nt.add_argument("config")
    nt.add_argument("--cut", type=int, action="append", default=None,
                    help="cut to train at (repeatable; default: privacy.cuts when it lists cuts)")
    nt.add_argument("--out", help="output folder (default results/<config name>/noise/)")
    nt.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")
    return p


# Commands where torch trains and evaluates networks, so its thread pool matters. The others
# only trace (or read cached profiles) and skip torch's second of start-up: `sim validate`
# answers in about 0.2 s, a warm `sim predict` of 15,625 networks in about 1.5 s.
TORCH_COMPUTE_COMMANDS = frozenset({"run", "sweep", "noise train"})


def torch_threads() -> int | None:
    """Threads for torch's intra-op pool: $OMP_NUM_THREADS when the user set it (None: leave
    torch alone), else half the cores. The numba noise kernels and other processes share the
    machine, and OpenMP threads that outnumber the free cores stall at every parallel region.
    Measured on 2 cores: LeNet privacy (cold) 12 s with 1 or 2 threads alone, but 115 s with
    2 threads beside one busy process; tx2_vgg16 cold 38 s with 1 thread, 49 s with 2."""
    if os.environ.get("OMP_NUM_THREADS"):
        return None
    return max(1, (os.cpu_count() or 1) // 2)


def console_main() -> int:
    """The `sim` console script: piping into `head` must end quietly, not with a
    BrokenPipeError traceback. Only here: `main` is also called in-process (tests, notebooks),
    where a process-wide SIGPIPE default would kill the caller on any broken socket."""
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    return main()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # -v works anywhere on the line, not only before the subcommand
    verbose = any(a in ("-v", "--verbose") for a in argv)
    args = build_parser().parse_args([a for a in argv if a not in ("-v", "--verbose")])
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    name = args.command if args.command != "noise" else f"noise {args.noise_command}"
    threads = torch_threads()
    if threads is not None and name in TORCH_COMPUTE_COMMANDS:
        import torch
        torch.set_num_threads(threads)
    try:
        return COMMANDS.get(name)(args)
    except (UserError, UnknownNameError, CollectionError) as exc:
        problems = exc.problems if isinstance(exc, UserError) else [str(exc)]
        for line in problems:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except OSError as exc:          # a place the machine will not let us read or write
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2

