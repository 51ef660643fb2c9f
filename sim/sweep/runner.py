"""`run_sweep`: plan and validate, compute the missing chunks, merge, analyse, report."""
from __future__ import annotations

import dataclasses
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from sim.config import build_scenario, resolve_value
from core.errors import UserError
from sim.sweep.codesign import BestCuts, Objective, best_cuts, pareto_rows
from sim.sweep.executors import InlineExecutor
from sim.sweep.rows import header
from sim.sweep.spec import digest, expand, parse_spec, spec_fingerprint
from sim.sweep.store import SweepStore
from sim.sweep.tasks import ANALYSIS_COLUMNS, ChunkTask, run_chunk
from sim.sweep.validate import SweepPlan, validate_plan

log = logging.getLogger(__name__)
FORMAT_VERSION = 5          # 2: privacy provenance; 3: checksums; 4: within_budget;
                            # 5: saturated and max_rate_hz columns, saturated in the figures


@dataclass(frozen=True)
class SweepOptions:
    cost_only: bool = False          # vectorized closed-form costs; no simulation or privacy
    privacy: bool = True             # evaluate privacy where the config enables it
    chunk_size: int | None = None    # configurations per task and part (default 1000 / 1)
    restart: bool = False            # discard a sweep folder made with other arguments
    progress: bool = True
    plots: bool = True


@dataclass(frozen=True)
class SweepResult:
    out_dir: Path
    plan: SweepPlan
    figures: np.ndarray
    best: BestCuts
    pareto: np.ndarray
    notes: tuple[str, ...]
    privacy_notes: tuple[str, ...]   # distinct provenance sentences of the privacy columns
    files: tuple[Path, ...]
    computed_configs: int            # in this call (the rest came from earlier parts)
    wall_s: dict[str, float]


def plan_sweep(base: dict, grid: list[str], samples: int | None = None,
               seed: int | None = None, cost_only: bool = False,
               config_dir: Path | None = None) -> SweepPlan:
    """Parse and validate everything; raises UserError (exit 2) before any work. `base` comes
    from `sim.config.load_config`; swept file names resolve against `config_dir` like the
    config's own."""
    if seed is None:
        seed = build_scenario(base).sim.seed
    spec = parse_spec(grid, samples, seed)
    if config_dir is not None:
        spec = dataclasses.replace(spec, grid=tuple(
            dataclasses.replace(axis, values=tuple(resolve_value(axis.key, v, config_dir)
                                                   for v in axis.values))
            for axis in spec.grid))
    return validate_plan(base, spec, expand, cost_only)


def chunk_tasks(plan: SweepPlan, options: SweepOptions, chunk_size: int) -> list[ChunkTask]:
    indexed = list(enumerate(plan.configs))
    return [ChunkTask(chunk=c, base=plan.base,
                      configs=tuple(indexed[c * chunk_size:(c + 1) * chunk_size]),
                      link_keys=plan.link_keys, cost_only=options.cost_only,
                      privacy=options.privacy and not options.cost_only)
            for c in range((len(indexed) + chunk_size - 1) // chunk_size)]


def run_sweep(plan: SweepPlan, out_dir: str | Path, executor=None,
              options: SweepOptions = SweepOptions(), objective: Objective = Objective(),
              on_chunk: Callable[[int], None] | None = None) -> SweepResult:
    """Compute (or resume) the sweep into `out_dir` and write every report.

    `on_chunk(chunk)` is called after each part is on disk (tests interrupt sweeps there)."""
    from sim.sweep.report import write_reports

    wall: dict[str, float] = {}
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    chunk_size = options.chunk_size or (1000 if options.cost_only else 1)
    if chunk_size < 1:
        raise UserError(f"--chunk-size {chunk_size}: must be >= 1")
    tasks = chunk_tasks(plan, options, chunk_size)
    fingerprint = {"format": FORMAT_VERSION, "config": plan.base,
                   "spec": spec_fingerprint(plan.spec), "cost_only": options.cost_only,
                   "privacy": options.privacy, "chunk_size": chunk_size}
    store = SweepStore(out_dir, digest(fingerprint), len(tasks))
    record = store.open({"arguments": fingerprint, "configurations": len(plan.configs)},
                        options.restart)
    done = store.done()
    pending = [t for t in tasks if t.chunk not in done]
    resumed = sum(len(tasks[c].configs) for c in done)
    if done:
        log.info("resuming: %d of %d chunks already done", len(done), len(tasks))

    texts: dict[int, str] = {}
    figures: dict[int, np.ndarray] = {}
    notes: dict[int, tuple[str, ...]] = {}
    executor = executor or InlineExecutor()
    with tqdm(total=len(plan.configs), initial=resumed, unit="config", desc="sweep",
              file=sys.stderr, disable=not options.progress, dynamic_ncols=True) as bar:
        if pending:
            with executor:
                for result in executor.map_unordered(run_chunk, pending):
                    store.write_part(result.chunk, result.text, result.figures,
                                     result.privacy_notes)
                    texts[result.chunk], figures[result.chunk] = result.text, result.figures
                    notes[result.chunk] = result.privacy_notes
                    bar.update(len(tasks[result.chunk].configs))
                    if on_chunk is not None:
                        on_chunk(result.chunk)
    wall["compute_s"] = time.perf_counter() - t0

    t = time.perf_counter()
    for chunk in sorted(done):
        texts[chunk], figures[chunk], notes[chunk] = store.read_part(chunk)
    privacy_notes = tuple(dict.fromkeys(n for c in range(len(tasks)) for n in notes[c]))
    sweep_csv = store.merge(header(plan.spec.keys), texts)
    store.mark_complete(record, privacy_notes)
    fig = (np.concatenate([figures[c] for c in range(len(tasks))]) if tasks
           else np.empty((0, len(ANALYSIS_COLUMNS))))
    best = best_cuts(fig, objective)
    pareto, pareto_notes = pareto_rows(fig)
    wall["merge_analyse_s"] = time.perf_counter() - t

    t = time.perf_counter()
    lines = "".join(texts[c] for c in range(len(tasks))).splitlines(keepends=True)
    files = [sweep_csv] + write_reports(out_dir, plan, fig, lines, best, pareto, objective,
                                        privacy_notes, options.plots)
    wall["report_s"] = time.perf_counter() - t
    wall["total_s"] = time.perf_counter() - t0
    return SweepResult(out_dir, plan, fig, best, pareto, best.notes + pareto_notes,
                       privacy_notes, tuple(files), len(plan.configs) - resumed, wall)
