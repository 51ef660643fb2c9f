"""Writes examples/tiny_cnn.onnx, the small ONNX example (built with onnx.helper, seeded weights).

    python examples/make_tiny_onnx.py

A digits-size CNN: Conv 1->8 3x3 pad 1, Relu, MaxPool 2, Conv 8->16 3x3 pad 1, Relu,
GlobalAveragePool, Flatten, Gemm 16->10. Input 1 x 1 x 28 x 28 (batch first).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = Path(__file__).resolve().parent / "tiny_cnn.onnx"


def build() -> onnx.ModelProto:
    rng = np.random.default_rng(0)

    def weight(name, *shape):
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        return numpy_helper.from_array(
            (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32), name)

    inits = [weight("conv1.w", 8, 1, 3, 3),
             numpy_helper.from_array(np.zeros(8, np.float32), "conv1.b"),
             weight("conv2.w", 16, 8, 3, 3),
             numpy_helper.from_array(np.zeros(16, np.float32), "conv2.b"),
             weight("fc.w", 10, 16), numpy_helper.from_array(np.zeros(10, np.float32), "fc.b")]
    nodes = [
        helper.make_node("Conv", ["input", "conv1.w", "conv1.b"], ["c1"], name="conv1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Conv", ["p1", "conv2.w", "conv2.b"], ["c2"], name="conv2",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["logits"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny_cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="splitsim-examples")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    onnx.save(build(), str(OUT))
    print(f"wrote {OUT}")
