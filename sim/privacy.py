"""Privacy columns of `sim run`: pick cuts, train (or load) the model, learn (or load) the noise
per cut, evaluate on the test split (noise.evaluate), and say what produced the figures.

Decisions (documented in the provenance and the caption):
- cut 0 with Shredder: not applicable (Shredder's noise acts on an activation; the raw input is
  sent): privacy columns left empty. Cloak works on the input, so cut 0 is evaluated for Cloak.
- cut L (edge-only): only the output is sent and no noise is added; the figures describe the
  output itself (accuracy loss 0, SNR infinite, MI between input and output).
- noise.method none: every cut is evaluated without noise (the noiseless reference).
- VGG-16, AlexNet and ResNet-18 are trained at a reduced input size and width with the same
  layer structure (cut k is the same layer); the caption and run.json say so.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from noise.collection import CollectionError
from noise.datasets import DataError, MIN_TEST_SAMPLES, fingerprint, load_data
from noise.evaluate import EvalSettings, evaluate_cut
from noise.methods import NoiseContext, get_method
from core.cache import ArtifactCache, file_digest, load_state_dict, save_state_dict
from noise.models import freeze
from noise.train import TRAIN_RECIPE, NoiseTrainingError, train_zoo_model
from partitioner.types import ModelGraph
from partitioner.sources import model_identity
from partitioner.split import split
from partitioner.zoo import input_kind
from sim.config import Scenario
from sim.table import PRIVACY_COLUMNS, PRIVACY_LABEL_COLUMNS
from core.errors import UserError
from sim.profiles import cached_profile

log = logging.getLogger(__name__)

# (input shape, width, epochs) used to train the zoo models for privacy measurement when the
# config does not say. Full-size VGG-16/AlexNet/ResNet-18 cannot be trained on 2 CPU cores in
# the run's budget; the smallest input their pooling stack accepts keeps every layer.
REDUCED: dict[str, tuple[tuple[int, ...] | None, float, int]] = {
    "vgg16": ((3, 32, 32), 1 / 16, 8),
    "alexnet": ((3, 64, 64), 1 / 16, 6),
    "resnet18": ((3, 32, 32), 1 / 8, 6),
}
DEFAULT_EPOCHS = 10
EXTRA_COLUMNS = ["fairness_gap_pct", "mi_clean_bits", "worst_tuple_loss_pct",
                 "tuples_over_budget", "recon_clean_mse", "recon_clean_psnr_db",
                 "recon_clean_ssim", "per_request_std", "jitter_randomness"]
RECONSTRUCTION_NOTE = (
    "inverse network (He et al., ACSAC 2019, black box): standardized transmitted tensor, PCA "
    "<= 256, one hidden layer of 256, trained 40 epochs on the train split to output the "
    "input's first channel average-pooled to <= 16 x 16; MSE, PSNR (range 1) and SSIM (7 x 7 "
    "Gaussian window) on the test split, with and without noise")
RANDOMNESS_NOTE = (
    "noise_randomness: for 8 fixed test inputs, each transmitted element's standard deviation "
    "across 32 noise draws, averaged, over the same average of each element's standard "
    "deviation across test inputs; jitter_randomness: the same with the tuple fixed (the "
    "fresh draws alone); tuple_entropy_bits: log2 of the tuples the edge picks from")
# part of every per-cut result key: change it when the figures a result holds change
EVAL_VERSION = "issue16-v3"
ADVERSARY_NOTE = (
    "the strongest of: linear (standardize + PCA(<= 64) + logistic regression), mlp (the same "
    "with one hidden layer of 128) and collection-aware (knows every tuple: estimates it, "
    "undoes its expected affine map, then the mlp), each trained on transmitted tensors of "
    "the train split (noise sampled by the edge's code), chosen by held-out error, scored on "
    "the test split; noiseless: the strongest of linear and mlp without noise")


@dataclass(frozen=True)
class PrivacyOutcome:
    frame: pd.DataFrame            # cut + privacy and extra columns, evaluated cuts only
    provenance: dict[str, Any]
    note: str                      # one sentence for the table caption


def select_cuts(spec_cuts, results: pd.DataFrame) -> list[int]:
    if spec_cuts == "all":
        return [int(c) for c in results["cut"]]
    if spec_cuts == "pareto":
        lat, en = results["latency_ms"].to_numpy(), results["total_mj"].to_numpy()
        keep = []
        for i in range(len(results)):
            dominated = np.any((lat <= lat[i]) & (en <= en[i]) & ((lat < lat[i]) | (en < en[i])))
            if not dominated:
                keep.append(int(results["cut"].iloc[i]))
        return keep
    return [int(c) for c in spec_cuts]


def network_label(name: str, shape, width: float, reduced: bool) -> str:
    """The network the privacy columns were measured on, as the table names it."""
    size = f"reduced: x{width:g} width" if reduced else "full size"
    return f"{name} {list(shape)} ({size})"


def _variant(scenario: Scenario, graph: ModelGraph) -> tuple[tuple[int, ...], float, int, str]:
    """Training input shape, width, epochs and a note on any reduction."""
    p, name = scenario.privacy, scenario.workload.model
    shape0, width0, epochs0 = REDUCED.get(name, (None, 1.0, DEFAULT_EPOCHS))
    shape = tuple(p.input_shape) if p.input_shape else (shape0 or tuple(graph.input_shape))
    width = p.width if p.width is not None else width0
    epochs = p.epochs if p.epochs is not None else epochs0
    note = ""
    if shape != tuple(graph.input_shape) or width != 1.0:
        note = (f"{name} trained for privacy at input {list(shape)} and width x{width:g} "
                f"(same layers; costs use {list(graph.input_shape)} at full width)")
    return shape, width, epochs, note


def _check_structure(name: str, shape, width: float, graph: ModelGraph,
                     cache_dir: str | None) -> None:
    """The reduced model must have the costed network's cuts, so cut k is the same layer."""
    try:
        reduced = cached_profile(cache_dir, name, shape, width=width)
    except Exception as exc:   # a pooling stack that the smaller input cannot pass
        raise UserError(f"privacy.input_shape {list(shape)} / width {width:g}: {name} cannot "
                        f"run at that size ({str(exc).splitlines()[0]})") from None
    if [c.cut for c in reduced.cuts] != [c.cut for c in graph.cuts]:
        raise UserError(f"privacy.input_shape/width: {name} at {list(shape)} x{width:g} has "
                        f"different valid cuts than the costed network; use a larger input")


def _model(scenario: Scenario, data, shape, width, epochs, cache: ArtifactCache,
           progress: bool) -> tuple[Any, dict[str, Any]]:
    from partitioner.zoo import build_model

    p, name, seed = scenario.privacy, scenario.workload.model, scenario.noise.seed
    if p.weights:
        model = build_model(name, shape, data.num_classes, width)
        try:
            state = load_state_dict(p.weights)
            model.load_state_dict(state)
        except FileNotFoundError:
            raise UserError(f"privacy.weights: {p.weights!r} not found") from None
        except Exception as exc:   # pickle/zip errors, missing or mis-shaped keys
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(f"privacy.weights: {p.weights!r} is not a state_dict for {name} "
                            f"{list(shape)} with {data.num_classes} classes ({first})") from None
        bad = [k for k, v in state.items() if hasattr(v, "isfinite") and v.is_floating_point()
               and not bool(v.isfinite().all())]
        if bad:
            raise UserError(f"privacy.weights: {p.weights!r} holds NaN or infinite values in "
                            f"{', '.join(bad[:3])}{' ...' if len(bad) > 3 else ''}")
        return freeze(model.eval()), {"weights": f"user state_dict {p.weights}"}
    key = {"arch": model_identity(name), "input_shape": list(shape), "width": width,
           "data": fingerprint(p.data),
           "seed": seed, "epochs": epochs, "num_classes": data.num_classes,
           "recipe": TRAIN_RECIPE}

    def build():
        return train_zoo_model(name, shape, width, data, seed, epochs, progress).state_dict()

    state, hit, digest = cache.get_or_build("models", key, ".pt", build, save_state_dict,
                                            load_state_dict)
    model = build_model(name, shape, data.num_classes, width)
    model.load_state_dict(state)
    return freeze(model.eval()), {"weights": f"trained locally ({epochs} epochs, seed {seed})",
                                  "model_cache_key": digest, "model_cache_hit": hit,
                                  "model_key": key}


def _edge_noise(scenario: Scenario, model, cut: int, last: int, data, model_digest: str,
                cache: ArtifactCache):
    """The method's EdgeNoise at this cut, or None: nothing added there."""
    spec = scenario.noise
    method = get_method(spec.method)
    if not method.applies(cut, last):
        return None
    local, remote = split(model, cut)
    spec_key = {k: v for k, v in dataclasses.asdict(spec).items() if k != "collection_path"}
    key = {"model": model_digest, "cut": cut, "noise": spec_key}
    return method.edge_noise(NoiseContext(local, remote, data, spec, scenario.workload.model,
                                          cut, cache, key))


@dataclass(frozen=True)
class PrivacyModel:
    """The network the privacy figures are measured on, with its data: `sim run` and
    `sim noise train` both use it, so a collection trained by one fits the other."""
    model_name: str
    model: Any                       # frozen torch module in eval mode
    data: Any                        # noise.data.Dataset at `shape`
    data_id: str
    shape: tuple[int, ...]
    width: float
    reduced_note: str                # "" at the costed size
    weights: dict[str, Any]          # where the weights came from (and their cache key)
    cache: ArtifactCache             # where the weights (and later the noise) are cached

    @property
    def network(self) -> str:
        return network_label(self.model_name, self.shape, self.width,
                             bool(self.reduced_note))


def privacy_model(scenario: Scenario, graph: ModelGraph, cache_dir: str | None = None,
                  progress: bool = False) -> PrivacyModel:
    """Load the privacy data and train (or read from the cache, or load the user's) weights."""
    p = scenario.privacy
    shape, width, epochs, reduced_note = _variant(scenario, graph)
    _check_structure(scenario.workload.model, shape, width, graph, cache_dir or p.cache_dir)
    if input_kind(scenario.workload.model) == "token_ids" and not p.data.endswith(".npz"):
        raise UserError(f"privacy.data {p.data!r}: {scenario.workload.model} reads token ids "
                        f"(input_shape {list(shape)}), which images cannot feed; give an .npz "
                        "of token ids (x: N x sequence length integers, y: labels), or set "
                        "privacy.enabled: false")
    try:
        data = load_data(p.data, shape, scenario.noise.seed)
        data_id = fingerprint(p.data)
    except DataError as exc:
        raise UserError(str(exc)) from None
    if len(data.test) < MIN_TEST_SAMPLES:
        raise UserError(f"privacy.data {p.data!r}: its test split holds {len(data.test)} "
                        f"samples; the privacy figures need at least {MIN_TEST_SAMPLES} (a "
                        f"data set of about {5 * MIN_TEST_SAMPLES} samples)")
    cache = ArtifactCache(cache_dir or p.cache_dir)
    model, weights = _model(scenario, data, shape, width, epochs, cache, progress)
    return PrivacyModel(scenario.workload.model, model, data, data_id, shape, width,
                        reduced_note, weights, cache)


def evaluate_privacy(scenario: Scenario, graph: ModelGraph, results: pd.DataFrame,
                     cache_dir: str | None = None, progress: bool = False) -> PrivacyOutcome:
    p = scenario.privacy
    cuts = select_cuts(p.cuts, results)
    pm = privacy_model(scenario, graph, cache_dir, progress)
    model, data, data_id, shape, width = pm.model, pm.data, pm.data_id, pm.shape, pm.width
    weights, reduced_note, cache = pm.weights, pm.reduced_note, pm.cache
    settings = EvalSettings(estimator=p.estimator, mi_samples=p.mi_samples, mi_dim=p.mi_dim,
                            allowed_loss_pct=scenario.noise.allowed_loss_pct,
                            seed=scenario.noise.seed)
    network = pm.network
    last = graph.num_layers
    method = get_method(scenario.noise.method)
    rows, per_cut = [], {}
    bar = tqdm(cuts, desc="privacy per cut", disable=not progress, leave=False)
    for cut in bar:
        if cut == 0 and method.at_input == "skip":
            per_cut[str(cut)] = {"skipped": f"{method.name} does not apply at cut 0 (raw input "
                                            "sent)"}
            continue
        # a user's weights by content, and with the data (a trained model's key holds it)
        model_digest = (weights.get("model_cache_key")
                        or f"user-{file_digest(p.weights)}-{data_id}")
        spec_key = {k: v for k, v in dataclasses.asdict(scenario.noise).items()
                    if k != "collection_path"}
        # the whole per-cut result is cached too (failures included), so a warm run neither
        # retrains nor re-evaluates
        # user files by content: replacing one at the same path gives new results
        key = {"model": model_digest, "cut": cut, "noise": spec_key, "data": data_id,
               "eval": dataclasses.asdict(settings), "weights": file_digest(p.weights),
               "collection": file_digest(scenario.noise.collection_path),
               "eval_version": EVAL_VERSION}

        def measure(cut=cut, model_digest=model_digest):
            bar.set_postfix_str(f"cut {cut}: noise")
            t0 = time.perf_counter()
            try:
                edge = _edge_noise(scenario, model, cut, last, data, model_digest, cache)
            except NoiseTrainingError as exc:
                log.warning("cut %d: %s", cut, exc)
                return {"skipped": f"noise training failed: {exc}"}
            local, remote = split(model, cut)
            t1 = time.perf_counter()
            r = evaluate_cut(local, remote, data, edge and edge.apply, settings,
                             edge and edge.knowledge,
                             lambda stage: bar.set_postfix_str(f"cut {cut}: {stage}")).as_dict()
            # wall times of the run that measured this result (cached with it)
            r["wall_s"] = {"noise": t1 - t0, "evaluate": time.perf_counter() - t1}
            return {**r, **(edge.info if edge else {}),
                    "noise": "none" if edge is None else scenario.noise.method}

        def save_json(d, path):
            with open(path, "w", encoding="utf-8") as f:
                json.dump(d, f, sort_keys=True)

        def load_json(path):
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        try:
            r, hit, _ = cache.get_or_build("privacy", key, ".res", measure, save_json,
                                           load_json)
        except CollectionError as exc:
            raise UserError(str(exc)) from None
        if hit and "noise_cache_hit" in r:
            # the stored flag describes the run that measured this result; this run needed
            # no noise at all
            r = {**r, "noise_cache_hit": None}
        per_cut[str(cut)] = {**r, "result_cache_hit": hit}
        if "skipped" not in r:
            rows.append({"cut": cut, "privacy_network": network,
                         **{c: r[c] for c in PRIVACY_COLUMNS + PRIVACY_LABEL_COLUMNS
                            + EXTRA_COLUMNS if c != "privacy_network"}})
    frame = pd.DataFrame(rows, columns=["cut", *PRIVACY_COLUMNS, *PRIVACY_LABEL_COLUMNS,
                                        *EXTRA_COLUMNS])
    dims = sorted({(v["mi_samples"], v["mi_dim_x"], v["mi_dim_y"]) for v in per_cut.values()
                   if "mi_samples" in v})
    n_s = dims[0][0] if dims else 0
    estimator = (f"{p.estimator} (k = {settings.k}) on {n_s} test samples, input and "
                 f"transmitted tensor reduced to <= {p.mi_dim} principal axes each")
    provenance = {
        "data": data_id, "data_source": p.data, "splits": {
            "train": len(data.train), "heldout": len(data.heldout), "test": len(data.test)},
        "public_task": "digit > 5" if p.data == "digits" else "y_public",
        "private_task": "which digit" if p.data == "digits" else (
            "y_private" if data.num_private_classes else "none (no private label)"),
        **{k: v for k, v in weights.items() if k != "model_key"},
        "model_key": weights.get("model_key"), "train_input_shape": list(shape),
        "train_width": width, "reduced_model": reduced_note or None,
        "estimator": estimator, "mi_samples": n_s, "mi_dims": [list(d) for d in dims],
        "noise_method": scenario.noise.method, "cuts_requested": p.cuts, "cuts": cuts,
        "cut_0": method.input_note,
        "cut_L": "output sent without noise",
        "privacy_network": network, "allowed_loss_pct": scenario.noise.allowed_loss_pct,
        "over_budget_cuts": [int(c) for c, w in zip(frame["cut"], frame["within_budget"])
                             if w is not None and not w],
        "tuples_rejected_fit": sum(v.get("tuples_rejected_fit", 0) for v in per_cut.values()),
        "adversary": ADVERSARY_NOTE,
        "reconstruction": RECONSTRUCTION_NOTE,
        "randomness": RANDOMNESS_NOTE,
        "per_cut": per_cut,
    }
    note = (f"privacy columns: measured on {network}; {p.data} data ({data_id}), weights "
            f"{weights['weights']}"
            + (f"; {reduced_note}" if reduced_note else "")
            + f"; noise {scenario.noise.method}; MI estimator {estimator}; "
            f"evaluated cuts {', '.join(map(str, frame['cut']))}, others empty"
            + over_budget_note(provenance["over_budget_cuts"],
                               scenario.noise.allowed_loss_pct))
    return PrivacyOutcome(frame, provenance, note)


def over_budget_note(cuts: list[int], allowed_pct: float) -> str:
    if not cuts:
        return ""
    return (f"; OVER THE ACCURACY BUDGET on the test split ({allowed_pct:g} points allowed): "
            f"cuts {', '.join(map(str, cuts))}")


# printed value -> its interval column ("value ± half-width")
INTERVALS = {"accuracy_loss_pct": "accuracy_loss_ci95", "mi_loss_pct": "mi_loss_ci95",
             "private_misclass_pct": "private_misclass_ci95",
             "noiseless_misclass_pct": "noiseless_misclass_ci95",
             "privacy_gain_pts": "privacy_gain_ci95", "recon_psnr_db": "recon_psnr_ci95"}


def _cell(value, half) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if half is None or not math.isfinite(half):
        return f"{value:.2f}"
    return f"{value:.2f} ± {half:.2f}"


def privacy_display(results: pd.DataFrame) -> pd.DataFrame:
    """The evaluated rows of the privacy table, intervals beside their figures."""
    rows = results[results["within_budget"].notna()].copy()
    for col, ci in INTERVALS.items():
        rows[col] = [_cell(v, h) for v, h in zip(rows[col], rows[ci])]
    rows["within_budget"] = ["yes" if bool(w) else "NO" for w in rows["within_budget"]]
    return rows


def privacy_title(results: pd.DataFrame) -> str:
    networks = sorted({str(n) for n in results["privacy_network"].dropna()})
    return (f"Privacy by cut, measured on {', '.join(networks)} (95 % intervals as ±; "
            "adversary error of the strongest adversary, chosen on held-out data):")


def write_reconstruction_figure(path: Path, provenance: dict[str, Any]) -> list[Path]:
    """Example reconstructions per evaluated cut: input, from the noiseless tensor, from the
    transmitted one. Nothing is written when no cut holds image examples."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from core.atomic import write_atomic

    cuts = [(c, v["recon_examples"]) for c, v in provenance.get("per_cut", {}).items()
            if np.asarray(v.get("recon_examples", {}).get("input", [])).ndim == 3
            and np.asarray(v["recon_examples"]["input"]).shape[1] > 1]
    if not cuts:
        return []
    shown = len(cuts[0][1]["input"])
    kinds = (("input", "input"), ("noiseless", "no noise"), ("noisy", "noised"))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(len(cuts), 3 * shown, squeeze=False,
                             figsize=(0.75 * 3 * shown, 0.8 * len(cuts) + 0.5))
    try:
        for r, (cut, ex) in enumerate(cuts):
            for j in range(shown):
                for k, (key, label) in enumerate(kinds):
                    ax = axes[r, 3 * j + k]
                    ax.imshow(np.asarray(ex[key][j]), cmap="gray", vmin=0, vmax=1)
                    ax.set_xticks([]), ax.set_yticks([])
                    if r == 0:
                        ax.set_title(label, fontsize=5)
            axes[r, 0].set_ylabel(f"cut {cut}", fontsize=6)
        fig.suptitle("Reconstruction attack: inverse network on test inputs", fontsize=7)
        write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=150,
                                                   bbox_inches="tight"))
    finally:
        plt.close(fig)
    return [Path(path)]
