"""Implementations of the `sim` subcommands, registered into COMMANDS (`sim.cli` parses the
arguments and dispatches). Each command imports what it needs when it runs: `sim validate`
must answer without loading pandas, numba or torch."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.atomic import check_output_dir
from core.registry import Registry
from sim.config import load_scenario
from core.errors import UserError


COMMANDS: Registry = Registry("command")
command = COMMANDS.register


@command("run")
def cmd_run(args: argparse.Namespace) -> int:
    from sim.operating_costs import best_cuts_line, latency_display
    from sim.report import markdown_table
    from sim.run import run_scenario
    from sim.table import BREAKDOWN_HEADERS, LATENCY_HEADERS

    scenario = load_scenario(args.config, args.set)
    out_dir = check_output_dir(Path(args.out) if args.out else Path("results") / scenario.name,
                               "--out")
    result = run_scenario(scenario, out_dir, privacy=not args.no_privacy,
                          progress=sys.stderr.isatty(), cache_dir=args.cache_dir)
    bd = result.breakdown
    if args.format == "csv":
        print(bd.to_csv(index=False, float_format="%.6g"), end="")
    elif args.format == "latex":
        from sim.report import latex_table
        print(latex_table(bd, BREAKDOWN_HEADERS, result.caption), end="")
    else:
        print(result.caption + "\n")
        print(markdown_table(bd, BREAKDOWN_HEADERS))
        print("\nLatency (simulated, mean and p99) by cut:\n")
        print(markdown_table(latency_display(result.results), LATENCY_HEADERS))
        _print_privacy(result.results)
        # saturated cuts (no steady state) only with --include-saturated; cuts whose noise
        # breaks the accuracy budget on test never
        line = best_cuts_line(result.results, args.include_saturated)
        if line:
            print("\n" + line)
        saturated = result.results.loc[result.results["saturated"].astype(bool), "cut"]
        if len(saturated):
            print(f"note: cuts {', '.join(map(str, saturated))} are saturated (a stage is "
                  "offered more work than it serves): no latency is given for them; "
                  "max_rate_hz in results.csv is the rate each would sustain")
        print(f"wrote {len(result.files)} files to {out_dir}/ in {result.wall_s['total_s']:.1f} s")
    return 0


def _print_privacy(results) -> None:
    from sim.privacy import privacy_display, privacy_title
    from sim.report import markdown_table
    from sim.table import PRIVACY_HEADERS

    shown = privacy_display(results)
    if not len(shown):
        return
    print("\n" + privacy_title(results) + "\n")
    print(markdown_table(shown, PRIVACY_HEADERS))
    over = shown.loc[shown["within_budget"] == "NO", "cut"]
    if len(over):
        print(f"note: at cuts {', '.join(map(str, over))} the noise breaks the accuracy budget "
              "(noise.allowed_loss_pct) on the test split")


@command("sweep")
def cmd_sweep(args: argparse.Namespace) -> int:
    from sim.sweep.cli import cmd_sweep as run_sweep_command
    return run_sweep_command(args)


@command("validate")
def cmd_validate(args: argparse.Namespace) -> int:
    from sim.profiles import scenario_graph

    scenario = load_scenario(args.config, args.set, check_cuts=True)
    scenario_graph(scenario)            # the network must profile at the configured shape
    print(f"{args.config}: OK (scenario {scenario.name}, config hash {scenario.config_hash})")
    return 0


@command("devices")
def cmd_devices(args: argparse.Namespace) -> int:
    from hwmodels.catalog import devices_table

    category = None
    for row in devices_table():
        if row.category != category:
            category = row.category
            print(f"\n## {category}")
        figures = ", ".join(f"{k}={v}" for k, v in row.figures.items())
        modes = f"; power modes: {', '.join(row.power_modes)}" if row.power_modes else ""
        print(f"- {row.name} ({row.kind}): {figures}{modes}")
        for key, source in row.sources.items():
            value = row.values.get(key)
            shown = f" = {value}" if value is not None and not isinstance(value, dict) else ""
            print(f"    {key}{shown}: {source}")
        if row.derived:
            print("    derived: " + ", ".join(f"{k}={v:.4g}" for k, v in row.derived.items()))
    return 0


@command("calibrate")
def cmd_calibrate(args: argparse.Namespace) -> int:
    from sim.predict import calibrate_command
    return calibrate_command(args)


@command("predict")
def cmd_predict(args: argparse.Namespace) -> int:
    from sim.predict import predict_command
    return predict_command(args)


@command("check-hw")
def cmd_check_hw(args: argparse.Namespace) -> int:
    from sim.checkhw import check_hw_command
    return check_hw_command(args)


@command("accel-compare")
def cmd_accel_compare(args: argparse.Namespace) -> int:
    from hwmodels.accel.compare import compare_table
    from sim.report import latex_table, markdown_table
    from sim.profiles import scenario_graph

    scenario = load_scenario(args.config, args.set)
    graph = scenario_graph(scenario)
    accel = scenario.edge_spec.accelerator
    kind = getattr(getattr(scenario.edge, "model", None), "kind", None)
    # The config's own Bit Fusion edge (with its bit widths) if it has one, else the preset.
    bitfusion = accel if kind == "bitfusion" else "bitfusion"
    try:
        df = compare_table(graph.layers, scenario.workload.batch_size, bitfusion=bitfusion)
    except ValueError as exc:
        raise UserError(f"edge.accelerator: {exc}") from None
    caption = (f"Bit Fusion-like vs Eyeriss-like per layer: {graph.model_name} "
               f"{list(graph.input_shape)}, batch {scenario.workload.batch_size}")
    if args.format == "csv":
        print(df.to_csv(index=False, float_format="%.6g"), end="")
    elif args.format == "latex":
        print(latex_table(df, {c: c for c in df.columns}, caption), end="")
    else:
        print(caption + "\n")
        print(markdown_table(df))
    return 0


@command("profile")
def cmd_profile(args: argparse.Namespace) -> int:
    from sim.profile_cmd import profile_command

    return profile_command(args)


@command("noise train")
def cmd_noise_train(args: argparse.Namespace) -> int:
    from noise.methods import METHODS, get_method
    from noise.train import NoiseTrainingError, run_noise_training
    from sim.privacy import privacy_model
    from sim.profiles import scenario_graph

    scenario = load_scenario(args.config, args.set)
    graph = scenario_graph(scenario)
    if not get_method(scenario.noise.method).trains_collection_file:
        able = [n for n in METHODS.names() if METHODS.get(n).trains_collection_file]
        raise UserError(f"noise.method is {scenario.noise.method!r}: `sim noise train` builds "
                        f"collection files for {', '.join(able)}; set noise.method to one")
    cuts = args.cut or (list(scenario.privacy.cuts) if not isinstance(scenario.privacy.cuts, str)
                        else None)
    if not cuts:
        raise UserError("no cut to train at: give --cut K or list cuts in privacy.cuts; valid "
                        f"cuts: {[c.cut for c in graph.cuts]}")
    valid = {c.cut for c in graph.cuts}
    bad = [k for k in cuts if k not in valid or k in (0, graph.num_layers)]
    if bad:
        raise UserError(f"--cut {bad}: Shredder needs an intermediate valid cut; valid: "
                        f"{[c.cut for c in graph.cuts if 0 < c.cut < graph.num_layers]}")
    out_dir = check_output_dir(
        Path(args.out) if args.out else Path("results") / scenario.name / "noise", "--out")
    # the network `sim run` measures privacy on (weights, data, reduced size): a collection
    # from here, given to a run as noise.collection_path, gives the figures printed here
    pm = privacy_model(scenario, graph, progress=sys.stderr.isatty())
    print(f"learning noise on {pm.network}, weights {pm.weights['weights']}")
    for k in cuts:
        path = out_dir / f"{scenario.workload.model}_cut{k}.npz"
        try:
            summary = run_noise_training(scenario.workload.model, pm.model, pm.data, k,
                                         scenario.noise, str(path), progress=sys.stderr.isatty())
        except NoiseTrainingError as exc:
            raise UserError(f"cut {k}: {exc}") from None
        print(f"cut {k}: {summary['tuples']} tuples -> {path}; test accuracy "
              f"{summary['test_accuracy']:.4f} (clean {summary['clean_test_accuracy']:.4f}, "
              f"loss {summary['accuracy_loss_pct']:.2f} points); 1/SNR {summary['inv_snr']:.3f} "
              f"({summary['snr_db']:.1f} dB) vs untrained Laplace "
              f"{summary['baseline_laplace_inv_snr_at_accuracy']:.3f} at the same accuracy")
    return 0
