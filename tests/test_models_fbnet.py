"""FBNet search-space networks (`fbnet:`, `fbnet-cifar:`; partitioner.models.fbnet): counts by
hand from the published layout, both settings' shapes, and clear errors for bad block lists."""
import pytest

from core.errors import UserError
from partitioner.models.fbnet_arch import PRIMITIVES, parse_ops
from partitioner.profile import profile_model

SKIPS = "8" * 22


def macs(model: str, shape=(3, 32, 32), classes=100) -> int:
    return sum(layer.macs for layer in profile_model(model, shape, num_classes=classes).layers)


def test_all_skip_network_counted_by_hand():
    """Every block `skip`: only the stem, the 1x1 convs where a stage changes width or
    stride, the head and the classifier compute (CIFAR setting, 32 x 32, 100 classes)."""
    pixels = {1: 32 * 32, 2: 16 * 16, 3: 8 * 8, 5: 4 * 4}
    expected = (3 * 16 * 9 * pixels[1]              # stem 3x3, stride 1
                + 16 * 24 * pixels[1]               # stage 1: 16 -> 24, stride 1
                + 24 * 32 * pixels[2]               # stage 2: stride 2
                + 32 * 64 * pixels[3]               # stage 3: stride 2
                + 64 * 112 * pixels[3]              # stage 4: stride 1
                + 112 * 184 * pixels[5]             # stage 5: stride 2
                + 184 * 352 * pixels[5]             # stage 6: stride 1
                + 352 * 1504 * pixels[5]            # head 1x1
                + 1504 * 100)                       # classifier
    assert macs("fbnet-cifar:" + SKIPS) == expected


def test_one_inverted_residual_counted_by_hand():
    """The last block as k5_e6 (184 -> 1104 -> 1104 depthwise 5x5 -> 352 at 4 x 4) instead of
    a strided-width skip's 1x1 conv."""
    mid, pixels = 184 * 6, 4 * 4
    block = 184 * mid * pixels + mid * 25 * pixels + mid * 352 * pixels
    assert macs("fbnet-cifar:" + SKIPS[:-1] + "7") - macs("fbnet-cifar:" + SKIPS) == \
        block - 184 * 352 * pixels


def test_two_groups_halve_the_pointwise_convolutions():
    mid, pixels = 184, 4 * 4
    grouped = (184 * mid + 352 * mid) // 2 * pixels + mid * 9 * pixels
    assert macs("fbnet-cifar:" + SKIPS[:-1] + "1") - macs("fbnet-cifar:" + SKIPS) == \
        grouped - 184 * 352 * pixels
    layers = profile_model("fbnet-cifar:" + SKIPS[:-1] + "1").layers
    assert "transpose" in {layer.op_type for layer in layers}      # the channel shuffle


def test_imagenet_setting_strides_to_7x7_and_residuals_add():
    layers = profile_model("fbnet:" + "0" * 22).layers
    head = [layer for layer in layers if layer.op_type == "conv2d"][-1]
    assert head.output_shape[-3:] == (1984, 7, 7)
    # a residual add where a block keeps its shape: stage 0's one block (16 -> 16, stride 1)
    # and the three later blocks of stages 1-5; every other stage opener changes the width
    assert sum(layer.op_type == "add" for layer in layers) == 1 + 5 * 3


def test_block_lists_by_index_or_name_and_bad_ones_named():
    assert parse_ops("0" * 21 + "8") == ("k3_e1",) * 21 + ("skip",)
    assert parse_ops(",".join(PRIMITIVES[:2] * 11)) == PRIMITIVES[:2] * 11
    with pytest.raises(UserError, match="expected 22 digits 0-8 .* got 3"):
        parse_ops("012")
    with pytest.raises(UserError, match="unknown 9"):
        parse_ops("9" * 22)
    with pytest.raises(UserError, match="unknown k7_e1"):
        parse_ops(",".join(["k7_e1"] * 22))


def test_width_keeps_channels_even():
    layers = profile_model("fbnet-cifar:" + "1" * 22, width=0.3).layers
    assert all(layer.output_shape[1] % 2 == 0 for layer in layers if layer.op_type == "conv2d")
