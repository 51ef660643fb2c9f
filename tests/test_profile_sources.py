"""Model sources (Python files, ONNX files, nb201), `sim profile` and every bad-input exit."""
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from core.errors import UserError
from partitioner.graph import build_graph
from partitioner.profile import profile_model
from partitioner.split import split
from partitioner.zoo import build_model
from sim.cli import main
from sim.config import load_scenario

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
ONNX = EXAMPLES / "tiny_cnn.onnx"
VIT = f"{EXAMPLES / 'tiny_vit.py'}:make_model"


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_onnx_example_profile_hand_counted():
    g = profile_model(str(ONNX))
    # conv1 28x28x8 outputs x (1x3x3); pool to 14x14; conv2 14x14x16 x (8x3x3); Gemm 16 -> 10.
    assert [(l.name, l.macs) for l in g.layers if l.macs] == [
        ("conv1", 28 * 28 * 8 * 9), ("conv2", 14 * 14 * 16 * 8 * 9), ("fc", 16 * 10)]
    assert g.input_shape == (1, 28, 28)            # read from the ONNX input's static shape
    assert sum(l.params for l in g.layers) == (8 * 9 + 8) + (16 * 8 * 9 + 16) + (16 * 10 + 10)
    assert [c.cut for c in g.cuts] == list(range(9))


def test_onnx_module_computes_what_its_weights_say():
    import onnx
    from onnx import numpy_helper

    w = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy())
         for i in onnx.load(str(ONNX)).graph.initializer}
    x = torch.randn(3, 1, 28, 28)
    y = F.relu(F.conv2d(x, w["conv1.w"], w["conv1.b"], padding=1))
    y = F.relu(F.conv2d(F.max_pool2d(y, 2), w["conv2.w"], w["conv2.b"], padding=1))
    want = y.mean((2, 3)) @ w["fc.w"].T + w["fc.b"]
    model = build_model(str(ONNX))
    torch.testing.assert_close(model(x), want, rtol=1e-5, atol=1e-5)
    g = build_graph(model, "onnx", (1, 28, 28))
    for cut in g.cuts:
        local, remote = split(g.module, cut.cut)
        torch.testing.assert_close(remote(local(x)), want, rtol=1e-5, atol=1e-5)


def test_python_example_profile_and_split():
    g = profile_model(VIT)
    ops = {l.op_type for l in g.layers}
    assert {"multiheadattention", "scaled_dot_product_attention", "layernorm", "gelu"} <= ops
    # attention in both blocks is counted: MHA 4 x 17 x 32 x 32 + 2 x 17 x 17 x 32, SDPA
    # 2 heads x 17 x 17 x (16 + 16)
    mha = next(l for l in g.layers if l.op_type == "multiheadattention")
    sdpa = next(l for l in g.layers if l.op_type == "scaled_dot_product_attention")
    assert mha.macs == 4 * 17 * 32 * 32 + 2 * 17 * 17 * 32
    assert sdpa.macs == 2 * 17 * 17 * 32
    torch.manual_seed(0)
    model = build_model(VIT)
    traced = build_graph(model, "vit", (1, 16, 16))
    assert [c.cut for c in traced.cuts] == [c.cut for c in g.cuts]
    x = torch.randn(2, 1, 16, 16)
    with torch.no_grad():
        want = model(x)
        for cut in traced.cuts:
            local, remote = split(traced.module, cut.cut)
            torch.testing.assert_close(remote(local(x)), want, rtol=0, atol=1e-5)


def _config(tmp_path, model, extra=""):
    path = tmp_path / "sub" / "c.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"""name: t
workload: {{model: "{model}", {extra} batch_size: 1}}
edge: {{device: jetson-tx2-gpu}}
link: {{preset: wifi}}
cloud: {{device: titan-xp}}
noise: {{method: none}}
privacy: {{enabled: false}}
sim: {{requests: 200, arrival: {{process: poisson, rate_hz: 1}}}}
report: {{formats: [csv], plots: false}}
""")
    return path


def test_config_file_sources_resolve_against_the_config_folder(tmp_path):
    (tmp_path / "sub" / "models").mkdir(parents=True)
    (tmp_path / "sub" / "models" / "net.onnx").write_bytes(ONNX.read_bytes())
    scenario = load_scenario(_config(tmp_path, "models/net.onnx"))
    assert scenario.workload.model == str(tmp_path / "sub" / "models" / "net.onnx")


@pytest.mark.parametrize("model", ["examples/tiny_cnn.onnx", "examples/tiny_vit.py:make_model",
                                   "nb201:|nor_conv_1x1~0|+|none~0|avg_pool_3x3~1|+"
                                   "|skip_connect~0|nor_conv_3x3~1|none~2|", "mobilenetv2"])
def test_sim_profile_csv_for_every_source(capsys, monkeypatch, model):
    monkeypatch.chdir(ROOT)
    code, out, err = run_cli(capsys, "profile", model, "--format", "csv", "--device",
                             "jetson-tx2-gpu")
    assert code == 0, err
    df = pd.read_csv(io.StringIO(out))
    assert {"layer", "op_type", "macs", "output_bytes", "latency_ms", "energy_mj"} <= set(df)
    g = profile_model(model)
    assert df["macs"].sum() == g.total_macs and len(df) == g.num_layers
    assert (df["latency_ms"] >= 0).all() and df["latency_ms"].sum() > 0


def test_sim_profile_markdown_names_the_cuts(capsys):
    code, out, _ = run_cli(capsys, "profile", str(ONNX))
    assert code == 0
    assert "8 layers, 282,400 MACs, 9 valid cuts" in out and "| layer | name | op_type |" in out


# ----------------------------------------------------------------------------- bad input
def _write(tmp_path, text, name="m.py"):
    path = tmp_path / name
    path.write_text(text)
    return path


BAD = {
    "missing": (lambda tmp: f"{tmp / 'nope.py'}:make", "not found"),
    "no factory": (lambda tmp: f"{_write(tmp, 'def other(): pass')}:make",
                   "has no function 'make'; it defines: other"),
    "factory raises": (
        lambda tmp: f"{_write(tmp, 'def make(s, n): raise RuntimeError(chr(98) * 3)')}:make",
        "the factory raised RuntimeError: bbb"),
    "not a module": (lambda tmp: f"{_write(tmp, 'def make(): return 42')}:make",
                     "returned int, not a torch.nn.Module"),
    "untraceable": (lambda tmp: f"""{_write(tmp, '''
from torch import nn
class M(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x
def make(): return M()
''')}:make""", "avoid Python control flow on tensor values"),
    "no inner cut": (lambda tmp: f"""{_write(tmp, '''
from torch import nn
class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 4)
    def forward(self, x):
        return self.b(self.a(x)) + x
def make(): return M()
''')}:make""", "no valid cut between the input and the output"),
    "import fails": (lambda tmp: f"{_write(tmp, 'import not_a_module_xyz')}:make",
                     "failed to import: ModuleNotFoundError"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_python_sources_exit_2_naming_the_problem(capsys, tmp_path, case):
    make, says = BAD[case]
    code, _, err = run_cli(capsys, "profile", make(tmp_path), "--input-shape", "4")
    assert code == 2
    assert says in err and "Traceback" not in err


def _onnx_with(tmp_path, op_type):
    import onnx
    from onnx import TensorProto, helper

    node = helper.make_node(op_type, ["x"], ["y"], name="odd")
    graph = helper.make_graph([node], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    path = tmp_path / "odd.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_unsupported_onnx_operator_is_named(capsys, tmp_path):
    code, _, err = run_cli(capsys, "profile", str(_onnx_with(tmp_path, "Hardmax")))
    assert code == 2 and "ONNX operator(s) Hardmax not supported" in err


def test_malformed_onnx_file(capsys, tmp_path):
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"not a protobuf")
    code, _, err = run_cli(capsys, "profile", str(path))
    assert code == 2 and "not a valid ONNX model" in err and str(path) in err


def test_python_source_without_a_shape_asks_for_one(capsys, tmp_path):
    path = _write(tmp_path, "from torch import nn\ndef make(): return nn.Linear(4, 2)\n")
    code, _, err = run_cli(capsys, "profile", f"{path}:make")
    assert code == 2 and "declares no input shape" in err


def test_config_naming_a_missing_model_file_exits_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "validate", str(_config(tmp_path, "models/none.onnx")))
    assert code == 2 and "workload.model" in err and "not found" in err


def test_factory_signature_with_shape_and_classes(tmp_path):
    path = _write(tmp_path, "from torch import nn\n"
                            "def make(input_shape, num_classes):\n"
                            "    return nn.Linear(input_shape[0], num_classes)\n")
    model = build_model(f"{path}:make", (6,), 3)
    assert tuple(model.weight.shape) == (3, 6)
    with pytest.raises(UserError, match="name the factory too"):
        build_model(str(path), (6,))
    assert np.isclose(profile_model(f"{path}:make", (6,), num_classes=3).total_macs, 18)


def test_token_models_say_why_image_data_cannot_feed_them(capsys, tmp_path):
    code, _, err = run_cli(capsys, "run", str(ROOT / "configs" / "tx2_bert_base.yaml"),
                           "--set", "privacy.enabled=true", "--set", "workload.input_shape=[16]",
                           "--out", str(tmp_path))
    assert code == 2 and "privacy.data 'digits': bert_base reads token ids" in err


def test_a_file_model_identity_follows_its_content(tmp_path):
    from partitioner.sources import model_identity

    path = _write(tmp_path, "def make(): pass\n")
    first = model_identity(f"{path}:make")
    path.write_text("def make(): return None\n")
    assert model_identity(f"{path}:make") != first and model_identity("lenet5") == "lenet5"


def test_onnx_converters_compute_what_onnx_specifies(tmp_path):
    """Every converter on one graph, against the same arithmetic written in numpy."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(1)
    arr = {"w": rng.standard_normal((4, 6)).astype(np.float32),
           "m": rng.standard_normal((6, 6)).astype(np.float32),
           "bias": rng.standard_normal(6).astype(np.float32),
           "scale": np.float32([2.0]), "shape": np.int64([1, 2, 3]),
           "g": np.abs(rng.standard_normal(2)).astype(np.float32) + 0.5,
           "b": rng.standard_normal(2).astype(np.float32),
           "mu": rng.standard_normal(2).astype(np.float32),
           "var": np.abs(rng.standard_normal(2)).astype(np.float32) + 0.5}
    n = helper.make_node
    nodes = [
        n("Gemm", ["x", "w", "bias"], ["h1"], name="fc"),                 # x @ w + bias
        n("Sigmoid", ["h1"], ["h2"]), n("Mul", ["h2", "scale"], ["h3"]),
        n("MatMul", ["h3", "m"], ["h4"], name="proj"),                   # constant: a Linear
        n("Tanh", ["h4"], ["h5"]), n("Sub", ["h5", "h1"], ["h6"]),
        n("LeakyRelu", ["h6"], ["h7"], alpha=0.1), n("Div", ["h7", "scale"], ["h8"]),
        n("Identity", ["h8"], ["h9"]), n("Dropout", ["h9"], ["h10"]),
        n("Reshape", ["h10", "shape"], ["r"]),                           # (1, 2, 3)
        n("Transpose", ["r"], ["t"], perm=[0, 2, 1]),                    # (1, 3, 2)
        n("Softmax", ["t"], ["s"], axis=-1),
        n("MatMul", ["s", "r"], ["mm"]),                                 # (1, 3, 3)
        n("Concat", ["mm", "mm"], ["c"], axis=1),                        # (1, 6, 3)
        n("Reshape", ["c", "shape2"], ["c4"]),                           # (1, 2, 3, 3)
        n("Constant", [], ["shape2"], value=numpy_helper.from_array(np.int64([1, 2, 3, 3]))),
        n("BatchNormalization", ["c4", "g", "b", "mu", "var"], ["bn"], epsilon=1e-5),
        n("AveragePool", ["bn"], ["ap"], kernel_shape=[2, 2], strides=[1, 1]),
        n("Flatten", ["ap"], ["y"], axis=1),
    ]
    nodes.insert(15, nodes.pop(16))      # the Constant before its use
    graph = helper.make_graph(
        nodes, "all", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])],
        [numpy_helper.from_array(v, k) for k, v in arr.items()])
    path = tmp_path / "all.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))

    x = rng.standard_normal((3, 4)).astype(np.float32)
    h1 = x @ arr["w"] + arr["bias"]
    h3 = 2.0 / (1 + np.exp(-h1))
    h6 = np.tanh(h3 @ arr["m"]) - h1
    r = (np.where(h6 > 0, h6, 0.1 * h6) / 2.0).reshape(3, 2, 3)
    t = r.transpose(0, 2, 1)
    s = np.exp(t - t.max(-1, keepdims=True))
    s /= s.sum(-1, keepdims=True)
    c4 = np.concatenate([s @ r] * 2, axis=1).reshape(3, 2, 3, 3)
    bn = (c4 - arr["mu"][:, None, None]) / np.sqrt(arr["var"][:, None, None] + 1e-5) \
        * arr["g"][:, None, None] + arr["b"][:, None, None]
    ap = (bn[:, :, :-1, :-1] + bn[:, :, 1:, :-1] + bn[:, :, :-1, 1:] + bn[:, :, 1:, 1:]) / 4
    model = build_model(str(path))
    torch.testing.assert_close(model(torch.from_numpy(x)), torch.from_numpy(ap.reshape(3, 8)),
                               rtol=1e-4, atol=1e-5)
    g = profile_model(str(path))
    linear = {l.name: l.macs for l in g.layers if l.op_type == "linear"}
    assert linear == {"fc": 4 * 6, "proj": 6 * 6}
    assert next(l for l in g.layers if l.op_type == "matmul").macs == 3 * 3 * 2


def test_cached_profile_follows_an_edited_model_file(tmp_path):
    from sim.profiles import cached_profile

    path = _write(tmp_path, "from torch import nn\n"
                            "def make(): return nn.Sequential(nn.Linear(4, 3), nn.ReLU())\n")
    first = cached_profile(str(tmp_path / "cache"), f"{path}:make", (4,))
    path.write_text("from torch import nn\n"
                    "def make(): return nn.Sequential(nn.Linear(4, 5), nn.ReLU())\n")
    second = cached_profile(str(tmp_path / "cache"), f"{path}:make", (4,))
    assert (first.total_macs, second.total_macs) == (12, 20)
