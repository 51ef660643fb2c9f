"""Eyeriss-like model beyond AlexNet: finite buffer tiling, set splits for shapes that map
poorly, pooling on the array, fused element-wise layers, batch, VGG-16's published DRAM rate."""
import numpy as np
import pytest

from hwmodels.accel import build_accelerator, conv_arrays, layer_arrays
from hwmodels.accel.common import dram_words
from hwmodels.accel.eyeriss import set_split
from hwmodels.accel.shapes import pool_as_conv
from partitioner.types import ConvShape, LayerProfile


def _layer(op, in_shape, out_shape, conv=None):
    n_in, n_out = int(np.prod(in_shape)), int(np.prod(out_shape))
    return LayerProfile(1, op + "_1", op, (in_shape,), out_shape, conv.macs if conv else 0, 0, 0,
                        4 * n_in, 4 * n_out, conv)


def test_dram_words_tiling_by_hand():
    # C=2, M=4, 6x6 padded ifmap, 3x3 kernel, 4x4 ofmap: ifmap 72 + weights 72 + ofmap 64 words.
    a = conv_arrays([ConvShape(2, 4, 6, 6, 4, 4, 3, 3)])
    assert dram_words(a, 1, 208)[0] == 208                  # fits: compulsory
    # 40 words: blocks of e rows hold m = floor(40 / 4e) filters of psums; per e, ofmap
    # + ifmap x ceil(4/m) x halo (e + 2) / e + weights x ceil(4/e):
    # e=1: 64 + 72*1*3 + 72*4 = 568; e=2: 64 + 72*1*2 + 72*2 = 352;
    # e=3: 64 + 72*2*5/3 + 72*2 = 448; e=4: 64 + 72*2*1.5 + 72 = 352.
    assert dram_words(a, 1, 40)[0] == pytest.approx(352)
    # batch 2 at the same buffer: ifmap and ofmap double, m halves.
    assert dram_words(a, 2, 208)[0] > 2 * 136 + 72


def test_set_split_picks_fewest_cycles():
    sc, sm = set_split(np.array([12.0, 4.0, 168.0]), np.array([4.0, 16.0, 4096.0]),
                       np.array([8.0, 16.0, 1000.0]))
    assert (sc[0], sm[0]) == (4, 3)                 # ceil(4/4) x ceil(8/3) = 3
    assert ceil_product(16, 16, sc[1], sm[1]) == 64  # 4 sets: 256 / 4, no split does better
    assert ceil_product(4096, 1000, sc[2], sm[2]) <= int(np.ceil(4096 * 1000 / 168 * 1.01))


def ceil_product(c, m, sc, sm):
    return int(np.ceil(c / sc) * np.ceil(m / sm))


def test_one_by_one_conv_on_few_channels_loses_utilization():
    eye = build_accelerator("eyeriss")
    # 16 -> 16 channels on 32 x 32: a 3x3 kernel fills 4 sets of 3 x 14 PEs; a 1x1 kernel makes
    # 12 sets of 1 x 14 that share 16 x 16 channel-filter pairs: min ceil(16/sc) ceil(16/sm)
    # over sc x sm <= 12 is 24 (e.g. 4 x 3), not 256 / 12 = 21.3.
    r = eye.evaluate(conv_arrays([ConvShape(16, 16, 34, 34, 32, 32, 3, 3),
                                  ConvShape(16, 16, 32, 32, 32, 32, 1, 1)]), 1)
    assert r.extra["compute_cycles"][0] == pytest.approx(3 * 64 * 32 * 3 / 0.76)
    assert r.extra["compute_cycles"][1] == pytest.approx(3 * 24 * 32 * 1 / 0.76)
    u3, u1 = r.extra["spatial_utilization"]
    assert u3 == pytest.approx(16 * 16 * 9 * 1024 / (3 * 64 * 32 * 3 * 168))
    assert u1 < u3


def test_fully_connected_layer_is_dram_bound():
    eye = build_accelerator("eyeriss")
    fc = ConvShape(4096, 1000, 1, 1, 1, 1, 1, 1)
    r = eye.evaluate(conv_arrays([fc]), 1)
    # Weights are used once: 4096 + 1000 + 4,096,000 words at 4 words a cycle.
    assert r.accesses["dram"][0] == 4096 + 1000 + 4096 * 1000
    assert r.cycles[0] == pytest.approx((4096 + 1000 + 4096 * 1000) / 4)


def test_batch_scales_compute_and_shares_weights():
    eye = build_accelerator("eyeriss")
    a = conv_arrays([ConvShape(64, 64, 30, 30, 28, 28, 3, 3)])
    r1, r4 = eye.evaluate(a, 1), eye.evaluate(a, 4)
    assert r4.extra["compute_cycles"][0] == pytest.approx(4 * r1.extra["compute_cycles"][0])
    assert r4.accesses["dram"][0] < 4 * r1.accesses["dram"][0]      # weights fetched once


@pytest.mark.parametrize("in_shape, out_shape, window, padded", [
    ((96, 55, 55), (96, 27, 27), 3, 55),        # AlexNet 3x3 stride 2
    ((64, 224, 224), (64, 112, 112), 2, 224),   # VGG 2x2 stride 2
    ((16, 32, 32), (16, 32, 32), 3, 34),        # size-preserving: 3x3, padding 1
    ((64, 8, 8), (64, 1, 1), 8, 8),             # global pool
])
def test_pool_window_from_shapes(in_shape, out_shape, window, padded):
    a = layer_arrays([_layer("avgpool2d", in_shape, out_shape)])
    assert a.is_pool[0] and not a.is_mac[0]
    assert (a.R[0], a.S[0], a.H[0], a.C[0], a.M[0]) == (window, window, padded, in_shape[0],
                                                         in_shape[0])


def test_max_pools_always_stream():
    a = layer_arrays([_layer("maxpool2d", (64, 56, 56), (64, 28, 28))])
    assert not a.is_pool[0] and pool_as_conv(a, "dense_conv").macs[0] == 0


def test_pool_mappings():
    a = layer_arrays([_layer("avgpool2d", (16, 32, 32), (16, 32, 32))])
    assert pool_as_conv(a, "vector").macs[0] == 0
    assert pool_as_conv(a, "depthwise_conv").macs[0] == 16 * 9 * 1024
    assert pool_as_conv(a, "dense_conv").macs[0] == 16 * 16 * 9 * 1024
    conv = layer_arrays([_layer("conv2d", (16, 32, 32), (16, 32, 32),
                                ConvShape(16, 16, 32, 32, 32, 32, 3, 3))])
    eye = build_accelerator("eyeriss")                     # preset: dense_conv
    assert eye.evaluate(a, 1).cycles[0] == pytest.approx(eye.evaluate(conv, 1).cycles[0])
    vec = build_accelerator("eyeriss", {"pool_mapping": "vector"}).evaluate(a, 1)
    dw = build_accelerator("eyeriss", {"pool_mapping": "depthwise_conv"}).evaluate(a, 1)
    assert vec.cycles[0] < dw.cycles[0] < eye.evaluate(a, 1).cycles[0]
    with pytest.raises(ValueError, match="pool_mapping"):
        build_accelerator("eyeriss", {"pool_mapping": "sparse"})


def test_a_global_pool_maps_as_depthwise_even_under_dense_conv():
    """A 1 x 1 output reduces each channel over the whole map: C x H x W MACs, no C x C weight
    tensor (which would be 1504^2 x 16 words at FBNet's CIFAR head)."""
    a = layer_arrays([_layer("adaptiveavgpool2d", (1504, 4, 4), (1504, 1, 1))])
    assert a.is_pool[0] and (a.E[0], a.F[0]) == (1, 1)
    for mapping in ("dense_conv", "depthwise_conv"):
        mapped = pool_as_conv(a, mapping)
        assert mapped.macs[0] == 1504 * 4 * 4 and (mapped.G[0], mapped.C[0]) == (1504, 1)
    windowed = layer_arrays([_layer("avgpool2d", (64, 8, 8), (64, 4, 4))])
    assert pool_as_conv(windowed, "dense_conv").macs[0] == 64 * 64 * 2 * 2 * 16   # 2x2, stride 2


def test_vgg16_dram_rate_against_jssc():
    # Chen et al., JSSC 2017: VGG-16's conv layers at batch 3 take 0.0035 DRAM accesses per MAC.
    # Not calibrated (the model was fitted on AlexNet's timing and power only).
    from partitioner.profile import profile_model
    convs = [la for la in profile_model("vgg16").layers if la.op_type == "conv2d"]
    r = build_accelerator("eyeriss").evaluate(layer_arrays(convs), 3)
    assert r.accesses["dram"].sum() / r.macs.sum() == pytest.approx(0.0035, rel=0.3)


def test_strided_one_by_one_reads_only_what_its_windows_touch():
    # A ResNet-style 1x1 stride-2 shortcut, 16 -> 32 channels, 56x56 -> 28x28: the padded extent
    # is 55 x 55 but the windows touch every other row and column, 28 x 28 pixels per channel.
    a = conv_arrays([ConvShape(16, 32, 56, 56, 28, 28, 1, 1, 2, 2)])
    assert a.H[0] == 55 and a.ifmap_read[0] == 16 * 28 * 28
    r = build_accelerator("eyeriss").evaluate(a, 1)
    assert r.accesses["dram"][0] == 16 * 28 * 28 + 32 * 16 + 32 * 28 * 28   # fits: compulsory


def test_depthwise_groups_run_one_set_at_a_time():
    # 32 groups of one channel and one filter, 3x3 on an 18x18 padded map, 16x16 out: a group
    # has nothing to split over its 4 sets of 3 x 14 PEs, so it takes 2 strips x F=16 x S=3 = 96
    # cycles on one set; the groups follow each other (Eyeriss v1 maps depthwise layers badly).
    dw = ConvShape(32, 32, 18, 18, 16, 16, 3, 3, groups=32)
    r = build_accelerator("eyeriss").evaluate(conv_arrays([dw]), 1)
    assert r.extra["compute_cycles"][0] == pytest.approx(32 * 96 / 0.76)
    assert r.extra["spatial_utilization"][0] == pytest.approx(32 * 9 * 256 / (32 * 96 * 168))
