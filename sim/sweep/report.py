"""Reports of a sweep: best.csv, pareto.csv, tables (Markdown, CSV, LaTeX) and plots.

best.csv and pareto.csv re-use the exact text of sweep.csv rows, so they agree to the byte
with it whichever executor produced it.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from core.atomic import write_text_atomic
from sim.report import latex_table, markdown_table, write_csv
from sim.config import build_scenario
from sim.html_report import sweep_report
from sim.operating_costs import operating_point_note
from sim.run import package_versions
from sim.sweep.codesign import COL, BestCuts, Objective
from sim.sweep.store import MANIFEST
from sim.sweep.rows import SWEEP_COLUMNS, config_prefix, csv_field, fmt_float, header
from sim.sweep.validate import SweepPlan

MAX_TABLE_ROWS = 200      # a longer table belongs in the CSV, not in a paper


def write_reports(out_dir: Path, plan: SweepPlan, fig: np.ndarray, lines: list[str],
                  best: BestCuts, pareto: np.ndarray, objective: Objective,
                  privacy_notes: tuple[str, ...], plots: bool) -> list[Path]:
    keys = plan.spec.keys
    files = [out_dir / "best.csv", out_dir / "pareto.csv"]
    write_text_atomic(files[0], best_text(plan, lines, best, objective))
    write_text_atomic(files[1], header(keys) + "".join(lines[i] for i in pareto))
    tables = sweep_tables(plan, fig, best, pareto, objective, privacy_notes)
    files += write_tables(out_dir, tables)
    base = build_scenario(plan.base)
    spec = base.report
    figures = []
    if plots and spec.plots:
        from sim.sweep.plots import write_sweep_plots
        figures = write_sweep_plots(out_dir, plan, fig, lines, best, pareto, spec.sweep_metrics,
                                    objective.label)
        files += figures
    if spec.html:
        files.append(write_sweep_html(out_dir, plan, objective, tables, figures,
                                      best.notes, privacy_notes,
                                      operating_point_note(base)))
    return files


def write_sweep_html(out_dir: Path, plan: SweepPlan, objective: Objective, tables: dict,
                     figures: list[Path], notes: tuple[str, ...],
                     privacy_notes: tuple[str, ...], operating_point: str) -> Path:
    manifest = out_dir / MANIFEST
    record = {"manifest": json.loads(manifest.read_text()) if manifest.is_file() else {},
              "versions": package_versions()}
    summary = [f"{len(plan.configs)} configurations of {plan.base.get('name', 'the scenario')}; "
               f"swept keys: {swept_values(plan)}.",
               f"Best cut per configuration under objective {objective.label}.",
               f"Base scenario's {operating_point} (swept keys may change it).",
               provenance_sentence(privacy_notes)]
    return sweep_report(out_dir / "report.html", f"splitsim sweep: {plan.base.get('name', '')}",
                        summary, tables, figures, list(notes), record)


def best_text(plan: SweepPlan, lines: list[str], best: BestCuts, objective: Objective) -> str:
    label = csv_field(objective.label)
    out = [header(plan.spec.keys).rstrip("\n") + ",objective,objective_value,feasible_cuts\n"]
    for cfg, row, value, count in zip(best.config, best.row, best.value, best.feasible_cuts):
        if row >= 0:
            body = lines[row].rstrip("\n")
        else:  # no cut meets the constraints: the configuration, then empty result fields
            values = [v for _, v in plan.configs[cfg]]
            body = config_prefix(int(cfg), values) + "," * (len(SWEEP_COLUMNS) - 1)
        out.append(f"{body},{label},{fmt_float(float(value))},{int(count)}\n")
    return "".join(out)


def best_frame(plan: SweepPlan, fig: np.ndarray, best: BestCuts) -> pd.DataFrame:
    df = pd.DataFrame({"config": best.config})
    for j, key in enumerate(plan.spec.keys):
        df[key] = [str(plan.configs[c][j][1]) for c in best.config]
    picked = np.where(best.row >= 0, best.row, 0)
    df["cut"] = [int(fig[r, COL["cut"]]) if r >= 0 else "none feasible" for r in best.row]
    for name in ("latency_ms", "total_mj", "edge_energy_mj"):
        df[name] = np.where(best.row >= 0, fig[picked, COL[name]], np.nan)
    df["objective_value"] = best.value
    df["feasible_cuts"] = best.feasible_cuts
    return df


def cut_histogram(best: BestCuts, fig: np.ndarray) -> pd.DataFrame:
    cuts = fig[best.row[best.row >= 0], COL["cut"]].astype(int)
    values, counts = np.unique(cuts, return_counts=True)
    df = pd.DataFrame({"best_cut": values, "configurations": counts})
    df["share_pct"] = 100.0 * df["configurations"] / max(1, len(best.config))
    n_none = int((best.row < 0).sum())
    if n_none:
        df = pd.concat([df, pd.DataFrame({"best_cut": ["none feasible"],
                                          "configurations": [n_none],
                                          "share_pct": [100.0 * n_none / len(best.config)]})])
    return df


def provenance_sentence(privacy_notes: tuple[str, ...]) -> str:
    """The privacy provenance for a caption: one sentence, or each distinct one numbered when
    swept keys changed the data, the weights or the noise."""
    if len(privacy_notes) == 1:
        return privacy_notes[0][0].upper() + privacy_notes[0][1:] + "."
    listed = "; ".join(f"({i}) {n}" for i, n in enumerate(privacy_notes, 1))
    return f"Privacy columns differ between configurations: {listed}."


def swept_values(plan: SweepPlan, shown: int = 8) -> str:
    """Each swept key with its values (their count when there are many)."""
    parts = []
    for j, key in enumerate(plan.spec.keys):
        distinct = list(dict.fromkeys(str(c[j][1]) for c in plan.configs))
        listed = ", ".join(distinct) if len(distinct) <= shown else f"{len(distinct)} values"
        parts.append(f"{key} = {listed}")
    return "; ".join(parts)


def sweep_tables(plan: SweepPlan, fig: np.ndarray, best: BestCuts, pareto: np.ndarray,
                 objective: Objective, privacy_notes: tuple[str, ...]) -> dict:
    """name -> (frame, caption) of every table a sweep reports."""
    caption = (f"Best cut per configuration under objective {objective.label} "
               f"({len(best.config)} configurations). {provenance_sentence(privacy_notes)}")
    tables = {"best_cuts": (cut_histogram(best, fig), f"How often each cut is best. {caption}")}
    bf = best_frame(plan, fig, best)
    if len(bf) <= MAX_TABLE_ROWS:
        tables["best"] = (bf, caption)
    pf = pd.DataFrame({"config": fig[pareto, COL["config"]].astype(int),
                       "cut": fig[pareto, COL["cut"]].astype(int),
                       "latency_ms": fig[pareto, COL["latency_ms"]],
                       "total_mj": fig[pareto, COL["total_mj"]],
                       "mi_loss_pct": fig[pareto, COL["mi_loss_pct"]]})
    if len(pf) <= MAX_TABLE_ROWS:
        tables["pareto"] = (pf, f"Pareto front across the sweep ({len(pf)} rows). "
                                f"{provenance_sentence(privacy_notes)}")
    return tables


def write_tables(out_dir: Path, tables: dict) -> list[Path]:
    files = []
    for name, (df, cap) in tables.items():
        headers = {c: c for c in df.columns}
        # iterrows would turn integers into floats ("12.000") in rows that also hold floats
        df = df.astype({c: object for c in df.columns if pd.api.types.is_integer_dtype(df[c])})
        paths = [out_dir / f"{name}.md", out_dir / f"{name}.tex"]
        write_text_atomic(paths[0], f"{cap}\n\n{markdown_table(df, headers)}\n")
        write_text_atomic(paths[1], latex_table(df, headers, cap))
        files += paths
        if name == "best_cuts":
            files.append(out_dir / "best_cuts.csv")
            write_csv(files[-1], df)
    return files
