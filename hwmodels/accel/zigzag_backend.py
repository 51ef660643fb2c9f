"""Optional high-fidelity backend through ZigZag (`zigzag-dse`, `pip install zigzag-dse`).

`accelerator: {backend: zigzag, zigzag_hardware_yaml: PATH}` prices every conv and linear layer
with `zigzag.api.get_hardware_performance_zigzag` on that hardware YAML (a path, or the name of
one ZigZag ships, e.g. `eyeriss_like.yaml`):

* Workload: the single layer as ZigZag's YAML-style layer list (passed as data, no ONNX),
  `O[b][k][oy][ox] += W[k][c][fy][fx] * I[b][c][iy][ix]` with `ix = s ox + fx` over the padded
  input extent (so padding is already folded in). A linear layer is its 1x1 conv (leading
  dimensions as output rows). A grouped conv is priced as one group, times `groups` (the groups
  run one after the other). Operands are `word_bits` wide (16: the Eyeriss preset's words).
* Mapping (`mapping_yaml`): None follows the preset's dataflow: "row_stationary" for kind
  eyeriss, else "default". "default" is ZigZag's shipped `default.yaml` (spatial K on D1, C on
  D2, clipped to the array; fits any 2-D hardware YAML); "row_stationary" writes, per layer, an
  Eyeriss-like spatial mapping (D1: output rows OY, replicated over filters K; D2: filter rows
  FY, replicated over channels C), which also leaves LOMA fewer temporal loops (faster); any
  other value is the path of a mapping YAML. One spatial mapping is evaluated; the temporal
  mapping comes from LOMA with
  `lpf_limit` = 4, which ZigZag raises to the number of temporal loops (with default.yaml up to
  6 for a batch-1 conv: 6! = 720 loop orders, ~1-6 s a layer; row_stationary unrolls OY and FY
  spatially, leaving ~4 loops: ~0.3-1 s a layer). Lower is not possible through this API.
* Results: latency = ZigZag's `latency_total2` cycles / the preset's `clock_mhz` (ZigZag's
  hardware YAML has no clock); energy = ZigZag's `energy_total` (pJ) x 1e-12 J.
* Non-MAC layers (ReLU, pooling, additions, views) are priced by the preset's analytic model
  (`AcceleratorTarget`), as ZigZag models only MAC layers here.

ZigZag's mapping search takes seconds per layer (minutes per network), so each layer's result
is an entry of the project's artifact cache (`core.cache.ArtifactCache`, kind `zigzag`: under
`--cache-dir`, `$SPLITSIM_CACHE_DIR` or `~/.cache/splitsim`), keyed by layer shape, batch size,
hardware YAML (path + SHA-256 of its bytes), mapping, optimization target, word width and ZigZag
version: checksummed, written atomically, locked per entry, and rebuilt when corrupt.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from core.schema import FieldError
from hwmodels.accel.shapes import layer_arrays
from hwmodels.accel.target import AcceleratorTarget
from hwmodels.cost import LayerCost, ModelPowers
from core.cache import ArtifactCache
from partitioner.types import LayerProfile

log = logging.getLogger(__name__)

MISSING_MESSAGE = '"backend" zigzag needs the zigzag-dse package: pip install zigzag-dse'
OPTS = ("latency", "energy", "EDP")

# runner(workload, hardware_yaml, mapping_yaml, opt, dump_folder, lpf_limit)
#   -> {"energy_pj": float, "cycles": float, ...}
Runner = Callable[[list, str, str, str, str, int], Mapping[str, float]]


def zigzag_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
        return version("zigzag-dse")
    except PackageNotFoundError:
        return "absent"


def _zigzag_inputs() -> Path | None:
    spec = find_spec("zigzag")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "inputs"


def resolve_hardware_yaml(value: str | None) -> Path:
    """A path to a hardware YAML, or the name of one ZigZag ships (`eyeriss_like[.yaml]`)."""
    if not value:
        raise FieldError("zigzag_hardware_yaml", f'must name a ZigZag hardware YAML file when '
                         '"backend" is zigzag (a path, or one ZigZag ships: eyeriss_like.yaml)')
    p = Path(value).expanduser()
    if p.is_file():
        return p.resolve()
    inputs = _zigzag_inputs()
    if inputs is not None and os.sep not in value and "/" not in value:
        for name in (value, value + ".yaml"):
            shipped = inputs / "hardware" / name
            if shipped.is_file():
                return shipped.resolve()
    raise FieldError("zigzag_hardware_yaml", f'{value!r}: no such file (nor a hardware YAML '
                     "shipped with zigzag-dse)")


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def zigzag_workload(C: int, M: int, H: int, W: int, R: int, S: int, E: int, F: int,
                    stride_h: int, stride_w: int, batch: int, word_bits: int) -> list[dict]:
    """One conv layer (per group) in ZigZag's workload format (the YAML layer list as data)."""
    return [{
        "id": 0, "name": "layer", "operator_type": "Conv",
        "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
        "dimension_relations": [f"ix={stride_w}*ox+1*fx", f"iy={stride_h}*oy+1*fy"],
        "loop_dims": ["B", "K", "C", "OY", "OX", "FY", "FX"],
        "loop_sizes": [batch, M, C, E, F, R, S],
        "operand_precision": {"W": word_bits, "I": word_bits, "O": word_bits,
                              "O_final": word_bits},
        "operand_source": {"I": 0},
        "pr_loop_dims": ["IX", "IY"], "pr_loop_sizes": [W, H],
    }]


ROW_STATIONARY = "row_stationary"


def array_sizes(hardware_yaml: Path) -> tuple[int, int]:
    """(D1, D2) sizes of a 2-D operational array in a ZigZag hardware YAML."""
    import yaml
    doc = yaml.safe_load(Path(hardware_yaml).read_text())
    try:
        arr = doc["operational_array"]
        sizes = dict(zip(arr["dimensions"], arr["sizes"]))
        return int(sizes["D1"]), int(sizes["D2"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f'zigzag mapping "{ROW_STATIONARY}" needs a 2-D operational array '
                         f"(dimensions D1, D2) in {hardware_yaml}") from None


def row_stationary_mapping(C: int, M: int, R: int, E: int,
                           sizes: tuple[int, int]) -> list[dict]:
    """An Eyeriss-like spatial mapping for one layer, as the analytic model reads it: a PE set
    of min(E, D1) output rows x min(R, D2) filter rows, replicated over filters along D1 and
    over channels along D2 while whole sets fit."""
    d1, d2 = sizes
    oy, fy = min(E, d1), min(R, d2)
    k_rep, c_rep = min(M, max(1, d1 // oy)), min(C, max(1, d2 // fy))
    dim1 = [f"OY, {oy}"] + ([f"K, {k_rep}"] if k_rep > 1 else [])
    dim2 = [f"FY, {fy}"] + ([f"C, {c_rep}"] if c_rep > 1 else [])
    entry = {"spatial_mapping": {"D1": dim1, "D2": dim2},
             "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}
    # "Conv" matches the layer's operator; ZigZag also requires a "default" entry.
    return [{"name": "Conv", **entry}, {"name": "default", **entry}]


def _save_entry(entry: dict, path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(entry, f, sort_keys=True)


def _load_entry(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        entry = json.load(f)
    if not isinstance(entry, dict) or not {"energy_pj", "cycles"} <= set(entry):
        raise ValueError("not a ZigZag result")
    return entry


def run_zigzag(workload: list, hardware_yaml: str, mapping_yaml: str, opt: str,
               dump_folder: str, lpf_limit: int) -> dict[str, float]:
    """The real runner: one `get_hardware_performance_zigzag` call, quiet and without touching
    the root logger (ZigZag calls logging.basicConfig(INFO) on every call)."""
    import zigzag.api as api
    root = logging.getLogger()
    guard = None
    if not root.handlers:              # basicConfig is a no-op when root has a handler
        guard = logging.NullHandler()
        root.addHandler(guard)
    zz_log = logging.getLogger("zigzag")
    old_level = zz_log.level
    zz_log.setLevel(logging.WARNING)
    try:
        energy, latency, cmes = api.get_hardware_performance_zigzag(
            workload, hardware_yaml, mapping_yaml, opt=opt, dump_folder=dump_folder,
            lpf_limit=lpf_limit, nb_spatial_mappings_generated=1,
            loma_show_progress_bar=False)
    finally:
        zz_log.setLevel(old_level)
        if guard is not None:
            root.removeHandler(guard)
    out = {"energy_pj": float(energy), "cycles": float(latency)}
    try:
        cme = cmes[0][0]
        out.update(mac_energy_pj=float(cme.mac_energy), ideal_cycles=float(cme.ideal_cycle),
                   mac_utilization=float(cme.mac_utilization2))
    except (AttributeError, IndexError, TypeError):
        pass
    return out


@dataclass
class ZigZagTarget(ModelPowers):
    """A ComputeTarget pricing conv/linear layers with ZigZag (cached), the rest analytically.

    `runner` replaces the ZigZag call (tests); `use_cache=False` bypasses the cache (cold
    timings); `cache_dir` overrides the artifact cache's folder.
    """
    model: Any
    opt: str = "latency"
    word_bits: int = 16
    lpf_limit: int = 4
    mapping_yaml: str | None = None
    runner: Runner | None = None
    use_cache: bool = True
    cache_dir: str | None = None

    def __post_init__(self) -> None:
        if self.opt not in OPTS:
            raise ValueError(f'zigzag "opt" must be one of {", ".join(OPTS)}, got {self.opt!r}')
        if self.runner is None:
            try:
                import zigzag.api  # noqa: F401  (heavy: a few seconds, once per process)
            except ImportError as exc:
                raise ValueError(f"{MISSING_MESSAGE} ({exc})") from None
            self.runner = run_zigzag
        self.hardware_yaml = resolve_hardware_yaml(getattr(self.model, "zigzag_hardware_yaml",
                                                           None))
        self.hardware_sha256 = file_sha256(self.hardware_yaml)
        self.array_sizes: tuple[int, int] | None = None
        if self.mapping_yaml is None:
            self.mapping_yaml = (ROW_STATIONARY if getattr(self.model, "kind", None) == "eyeriss"
                                 else "default")
        if self.mapping_yaml == ROW_STATIONARY:
            self.array_sizes = array_sizes(self.hardware_yaml)
        elif self.mapping_yaml == "default":
            inputs = _zigzag_inputs()
            default = inputs / "mapping" / "default.yaml" if inputs is not None else None
            self.mapping_yaml = str(default) if default is not None else "default.yaml"
        elif not Path(self.mapping_yaml).is_file():
            raise ValueError(f'zigzag mapping {self.mapping_yaml!r}: no such file (or say '
                             f'"default" or "{ROW_STATIONARY}")')
        self.mapping_sha256 = (file_sha256(Path(self.mapping_yaml))
                               if Path(self.mapping_yaml).is_file() else None)
        self.version = zigzag_version()
        self.cache = ArtifactCache(self.cache_dir)
        self.analytic = AcceleratorTarget(self.model)
        self.zigzag_calls = 0
        self._memo: dict[str, dict] = {}

    # -- one MAC layer ---------------------------------------------------------------------
    def key_fields(self, layer: LayerProfile, batch_size: int) -> dict[str, Any]:
        a = layer_arrays([layer])
        c = layer.conv
        shape = {k: int(getattr(a, k)[0]) for k in ("C", "M", "G", "H", "W", "R", "S", "E", "F")}
        shape.update(stride_h=int(c.stride_h), stride_w=int(c.stride_w))
        return {"shape": shape, "batch": int(batch_size),
                "hardware_yaml": str(self.hardware_yaml), "hardware_sha256": self.hardware_sha256,
                "mapping_yaml": str(self.mapping_yaml), "mapping_sha256": self.mapping_sha256,
                "array_sizes": list(self.array_sizes) if self.array_sizes else None,
                "opt": self.opt, "word_bits": int(self.word_bits),
                "lpf_limit": int(self.lpf_limit), "zigzag_version": self.version}

    def _mac_result(self, layer: LayerProfile, batch_size: int) -> dict:
        fields = self.key_fields(layer, batch_size)
        if not self.use_cache:
            return self._run(layer, batch_size, fields)
        memo_key = json.dumps(fields, sort_keys=True)
        if memo_key not in self._memo:
            entry, hit, _ = self.cache.get_or_build(
                "zigzag", fields, ".res", lambda: self._run(layer, batch_size, fields),
                _save_entry, _load_entry)
            if hit:
                log.debug("zigzag cache hit: %s %s", layer.name, fields["shape"])
            self._memo[memo_key] = entry
        return self._memo[memo_key]

    def _run(self, layer: LayerProfile, batch_size: int, fields: dict[str, Any]) -> dict:
        s = fields["shape"]
        workload = zigzag_workload(s["C"], s["M"], s["H"], s["W"], s["R"], s["S"], s["E"],
                                   s["F"], s["stride_h"], s["stride_w"], batch_size,
                                   self.word_bits)
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="splitsim-zigzag-") as dump:
            mapping = str(self.mapping_yaml)
            if self.array_sizes is not None:
                mapping = str(Path(dump) / "mapping.yaml")
                Path(mapping).write_text(json.dumps(row_stationary_mapping(
                    s["C"], s["M"], s["R"], s["E"], self.array_sizes)))   # JSON is YAML
            try:
                raw = self.runner(workload, str(self.hardware_yaml), mapping,
                                  self.opt, dump, self.lpf_limit)
            except Exception as exc:
                raise RuntimeError(f"ZigZag failed on layer {layer.name!r} (shape {s}, batch "
                                   f"{batch_size}): {type(exc).__name__}: {exc}") from exc
        seconds = time.perf_counter() - t0
        self.zigzag_calls += 1
        entry = {**{k: float(v) for k, v in raw.items()}, "seconds": round(seconds, 3),
                 "key_fields": fields}
        log.info("zigzag: layer %s (C=%d M=%d %dx%d k%dx%d, batch %d) took %.1f s: %.0f cycles, "
                 "%.4g pJ per group", layer.name, s["C"], s["M"], s["E"], s["F"], s["R"], s["S"],
                 batch_size, seconds, entry["cycles"], entry["energy_pj"])
        return entry

    def _mac_cost(self, layer: LayerProfile, batch_size: int) -> LayerCost:
        r = self._mac_result(layer, batch_size)
        groups = layer.conv.groups
        cycles = groups * r["cycles"]
        return LayerCost(cycles / (self.model.clock_mhz * 1e6), groups * r["energy_pj"] * 1e-12)

    # -- ComputeTarget ---------------------------------------------------------------------
    @staticmethod
    def _is_mac(layer: LayerProfile) -> bool:
        return layer.conv is not None and layer.macs > 0

    def layer_cost(self, layer: LayerProfile, batch_size: int, dtype: str) -> LayerCost:
        if self._is_mac(layer):
            return self._mac_cost(layer, batch_size)
        return self.analytic.layer_cost(layer, batch_size, dtype)

    def layer_costs(self, layers: Sequence[LayerProfile], batch_size: int,
                    dtype: str) -> list[LayerCost]:
        out: list[LayerCost | None] = [None] * len(layers)
        rest = [i for i, la in enumerate(layers) if not self._is_mac(la)]
        if rest:
            for i, cost in zip(rest, self.analytic.layer_costs([layers[i] for i in rest],
                                                               batch_size, dtype)):
                out[i] = cost
        for i, la in enumerate(layers):
            if out[i] is None:
                out[i] = self._mac_cost(la, batch_size)
        return out  # type: ignore[return-value]
