"""The 2026 zoo against published MAC and parameter counts (profiled from shapes on the meta
device: nothing is materialised or trained here)."""
import pytest

from partitioner.profile import profile_model

# torchvision's model pages (pytorch.org/vision/stable/models/generated/torchvision.models.*),
# IMAGENET1K_V1 weights: "num_params" and "GFLOPS" (torchvision counts multiply-accumulates:
# ResNet-50 v1.5, stride on the 3x3 conv, is 4.09; He et al. 2016, Table 1, give 3.8e9 for
# the original with the stride on the first 1x1).
PUBLISHED = {
    "resnet50": (25_557_032, 4.09e9),
    "mobilenetv2": (3_504_872, 0.30e9),
    "vit_b16": (86_567_656, 17.56e9),
}


def _params(graph) -> int:
    return sum(layer.params for layer in graph.layers)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_parameters_exactly_and_macs_within_one_percent(name):
    params, macs = PUBLISHED[name]
    g = profile_model(name)
    assert _params(g) == params
    assert g.total_macs == pytest.approx(macs, rel=0.01)


def test_mobilenet_v1_matches_the_paper():
    """Howard et al. 2017, Table 8: 1.0 MobileNet-224 has 569 million mult-adds and 4.2 million
    parameters (counted here without batch norm's running statistics, which are buffers)."""
    g = profile_model("mobilenet_v1")
    assert g.total_macs == pytest.approx(569e6, rel=0.001)
    assert _params(g) == pytest.approx(4.2e6, rel=0.01)
    depthwise = [layer for layer in g.layers if layer.conv is not None
                 and layer.conv.groups == layer.conv.in_channels > 1]
    assert len(depthwise) == 13


def test_efficientnet_b0_matches_torchvision():
    # torchvision: num_params 5,288,548 and GFLOPS 0.39 (two significant digits, so the
    # figure itself stands for 0.385..0.395); the paper (Tan & Le 2019, Table 2) says 0.39B.
    g = profile_model("efficientnet_b0")
    assert _params(g) == 5_288_548
    assert 0.385e9 <= g.total_macs <= 0.395e9


def _vit_macs(dim: int, depth: int, mlp: int, heads: int, tokens: int, patch_pixels: int,
              classes: int) -> int:
    """Hand count: patch embedding, per block q/k/v/out projections, QK^T and AV, the MLP."""
    patches = tokens - 1
    block = 4 * tokens * dim * dim + 2 * heads * tokens * tokens * (dim // heads) \
        + 2 * tokens * dim * mlp
    return patches * dim * patch_pixels + depth * block + dim * classes


def test_vit_b16_macs_hand_counted():
    assert profile_model("vit_b16").total_macs == _vit_macs(768, 12, 3072, 12, 197, 3 * 256, 1000)


def test_vit_tiny_matches_deit_tiny():
    # DeiT-Ti (Touvron et al. 2021, Table 1): 5M parameters at dim 192, 3 heads, 12 blocks;
    # timm's vit_tiny_patch16_224 has 5,717,416 (the count of this layout).
    g = profile_model("vit_tiny")
    assert _params(g) == 5_717_416
    assert g.total_macs == _vit_macs(192, 12, 768, 3, 197, 3 * 256, 1000)


def _bert_params(classes: int) -> int:
    dim, ffn, vocab = 768, 3072, 30522
    embeddings = (vocab + 512 + 2) * dim + 2 * dim
    layer = 4 * (dim * dim + dim) + 2 * dim + (dim * ffn + ffn) + (ffn * dim + dim) + 2 * dim
    return embeddings + 12 * layer + (dim * dim + dim) + (dim * classes + classes)


@pytest.mark.parametrize("seq_len", [128, 64])
def test_bert_base_counts_by_hand(seq_len):
    g = profile_model("bert_base", (seq_len,), num_classes=2)
    # 109,482,240 is BERT-base (bert-base-uncased, "110M" in Devlin et al. 2019) with its
    # pooler; the 2-class classifier adds 768 x 2 + 2.
    assert _bert_params(2) == 109_482_240 + 1538
    assert _params(g) == _bert_params(2)
    per_layer = 4 * seq_len * 768 * 768 + 2 * 12 * seq_len * seq_len * 64 \
        + 2 * seq_len * 768 * 3072
    assert g.total_macs == 12 * per_layer + 768 * 768 + 768 * 2
    assert g.cuts[0].sent_shape == (seq_len,)
    # every encoder layer boundary is a valid cut, sending seq_len x 768 activations
    boundaries = [c for c in g.cuts if c.after_layer.startswith("layers.")
                  and c.after_layer.endswith(".output_norm")]
    assert len(boundaries) == 12
    assert all(c.sent_shape == (seq_len, 768) for c in boundaries)
