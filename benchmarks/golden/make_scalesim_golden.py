"""Generate the SCALE-Sim golden cycles that pin the analytic systolic model.

Run from the repository root (needs the test-only dependency `scalesim`, no network):

    python benchmarks/golden/make_scalesim_golden.py [--out tests/golden/scalesim_cycles.json]

For every conv layer of AlexNet and VGG-16 (and AlexNet's last fully connected layer, as a
1x1 conv on a 1x1 map) and each dataflow os / ws / is, it runs SCALE-Sim's own compute model
(operand matrices, then the `systolic_compute_{os,ws,is}` demand matrices) and records the
number of compute cycles: the rows of the demand matrices, one row per cycle. SCALE-Sim's memory
simulation is not run: its stall cycles depend on the SRAM bandwidth setting, not on the
dataflow's compute model, and scalesim 3.0.0's memory loop fails under NumPy 2
(`int(max(list of arrays))`). The larger fully connected layers are left out because SCALE-Sim
materializes an address matrix per operand (VGG-16's fc1 weights alone would take 800 MB).

SCALE-Sim takes the padded input size; it is derived from the output size so that SCALE-Sim's
`ceil((H - R + S) / S)` gives back the layer's output size exactly.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from partitioner.graph import build_graph  # noqa: E402
from partitioner.types import ConvShape  # noqa: E402
from partitioner.zoo import build_model  # noqa: E402

log = logging.getLogger("make_scalesim_golden")

ARRAY_ROWS, ARRAY_COLS = 256, 256    # SCALE-Sim's configs/google.cfg ("GoogleTPU_v1_ws")
DATAFLOWS = ("os", "ws", "is")
# SCALE-Sim grows its demand matrices by np.concatenate fold after fold (quadratic copying);
# layer/dataflow pairs above this many copied bytes would take many minutes and are left out.
MAX_COPY_BYTES = 150e9

_CFG = """[general]
run_name = golden

[architecture_presets]
ArrayHeight: {rows}
ArrayWidth: {cols}
IfmapSramSzkB: 6144
FilterSramSzkB: 6144
OfmapSramSzkB: 2048
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Dataflow: {df}
Bandwidth: 10
ReadRequestBuffer: 512
WriteRequestBuffer: 512

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport: false
SparseRep: ellpack_block
OptimizedMapping: false
BlockSize: 8
RandomNumberGeneratorSeed: 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""


def golden_layers() -> list[tuple[str, str, ConvShape]]:
    """(network, layer name, shape) for the layers the golden file pins."""
    out = []
    for net in ("alexnet", "vgg16"):
        graph = build_graph(build_model(net), net, (3, 224, 224))
        for layer in graph.layers:
            if layer.op_type == "conv2d":
                out.append((net, layer.name, layer.conv))
        if net == "alexnet":
            last_fc = [la for la in graph.layers if la.op_type == "linear"][-1]
            out.append((net, last_fc.name, last_fc.conv))
    return out


def scalesim_compute_cycles(shape: ConvShape, dataflow: str, rows: int, cols: int,
                            workdir: Path) -> int:
    from scalesim.compute.operand_matrix import operand_matrix
    from scalesim.compute.systolic_compute_is import systolic_compute_is
    from scalesim.compute.systolic_compute_os import systolic_compute_os
    from scalesim.compute.systolic_compute_ws import systolic_compute_ws
    from scalesim.layout_utils import layouts
    from scalesim.scale_config import scale_config
    from scalesim.topology_utils import topologies

    if shape.stride_h != shape.stride_w or shape.groups != 1:
        raise ValueError("SCALE-Sim's topology format takes one stride and no groups")
    pad_h = (shape.out_h - 1) * shape.stride_h + shape.kernel_h
    pad_w = (shape.out_w - 1) * shape.stride_w + shape.kernel_w
    cfg_path, topo_path, layout_path = (workdir / n for n in ("g.cfg", "t.csv", "l.csv"))
    cfg_path.write_text(_CFG.format(rows=rows, cols=cols, df=dataflow))
    topo_path.write_text(
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
        "Num Filter, Strides,\n"
        f"L, {pad_h}, {pad_w}, {shape.kernel_h}, {shape.kernel_w}, {shape.in_channels}, "
        f"{shape.out_channels}, {shape.stride_h},\n")
    layout_path.write_text("Layer name,\n")

    config = scale_config()
    config.read_conf_file(str(cfg_path))
    topo = topologies()
    topo.load_arrays(topofile=str(topo_path))
    lay = layouts()
    lay.load_arrays(layoutfile=str(layout_path))
    ofmap = topo.get_layer_ofmap_dims(0)
    assert tuple(ofmap) == (shape.out_h, shape.out_w), (ofmap, shape)

    opmat = operand_matrix()
    opmat.set_params(config_obj=config, topoutil_obj=topo, layoututil_obj=lay, layer_id=0)
    _, ifmap = opmat.get_ifmap_matrix()
    _, filt = opmat.get_filter_matrix()
    _, ofm = opmat.get_ofmap_matrix()
    system = {"os": systolic_compute_os, "ws": systolic_compute_ws,
              "is": systolic_compute_is}[dataflow]()
    if dataflow == "ws":
        system.set_params(config_obj=config, ifmap_op_mat=ifmap, filter_op_mat=filt,
                          ofmap_op_mat=ofm, sparsity_ratio_N=1, sparsity_ratio_M=1,
                          ifmap_op_mat_original=opmat.ifmap_addr_matrix_original,
                          sparsity_filter_array=opmat.sparse_filter_array)
    else:
        system.set_params(config_obj=config, ifmap_op_mat=ifmap, filter_op_mat=filt,
                          ofmap_op_mat=ofm)
    system.create_demand_matrices()
    return int(system.ofmap_demand_matrix.shape[0])


def _copy_bytes(shape: ConvShape, dataflow: str, rows: int, cols: int) -> float:
    """Rough bytes SCALE-Sim copies building the demand matrices of one layer."""
    npx = shape.out_h * shape.out_w
    win = shape.kernel_h * shape.kernel_w * shape.in_channels
    sr, sc, t = {"os": (npx, shape.out_channels, win), "ws": (win, shape.out_channels, npx),
                 "is": (win, npx, shape.out_channels)}[dataflow]
    folds = -(-sr // rows) * -(-sc // cols)
    per_fold = t + rows + cols if dataflow == "os" else t + 2 * rows + cols
    return folds * folds / 2 * per_fold * max(rows, cols) * 8 * 3


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "tests" / "golden" / "scalesim_cycles.json"))
    ap.add_argument("--rows", type=int, default=ARRAY_ROWS)
    ap.add_argument("--cols", type=int, default=ARRAY_COLS)
    ap.add_argument("--only", default=None, help="comma-separated layer names (debugging)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import scalesim  # noqa: F401  (fail early when the test-only dependency is missing)
    from importlib.metadata import version

    rows_out = []
    with tempfile.TemporaryDirectory() as tmp:
        for net, name, shape in golden_layers():
            if args.only and name not in args.only.split(","):
                continue
            entry = {"network": net, "layer": name, "shape": asdict(shape), "cycles": {}}
            for df in DATAFLOWS:
                if _copy_bytes(shape, df, args.rows, args.cols) > MAX_COPY_BYTES:
                    log.info("%s %-10s %s skipped (SCALE-Sim too slow here)", net, name, df)
                    continue
                t0 = time.perf_counter()
                entry["cycles"][df] = scalesim_compute_cycles(shape, df, args.rows, args.cols,
                                                              Path(tmp))
                log.info("%s %-10s %s %10d cycles  (%.1f s)", net, name, df,
                         entry["cycles"][df], time.perf_counter() - t0)
            rows_out.append(entry)
    doc = {"generator": "benchmarks/golden/make_scalesim_golden.py",
           "scalesim_version": version("scalesim"),
           "array_rows": args.rows, "array_cols": args.cols,
           "cycles_are": "SCALE-Sim compute cycles (demand-matrix rows), no memory stalls",
           "layers": rows_out}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    log.info("wrote %s (%d layers)", args.out, len(rows_out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
