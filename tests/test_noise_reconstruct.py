"""Reconstruction attack: SSIM and PSNR on closed forms, targets, and an inverse network that
recovers an invertible map and fails on pure noise."""
import math

import pytest
import torch

from noise.reconstruct import psnr_db, reconstruct, ssim, targets

C1, C2 = 0.01 ** 2, 0.03 ** 2


def test_ssim_of_an_image_with_itself_is_one():
    x = torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(ssim(x, x), torch.ones(3, dtype=torch.float64))


def test_ssim_of_two_constant_images_is_the_luminance_term():
    a, b = 0.2, 0.7
    x, y = torch.full((1, 8, 8), a), torch.full((1, 8, 8), b)
    want = (2 * a * b + C1) / (a * a + b * b + C1)          # variances 0: contrast term 1
    assert float(ssim(x, y)[0]) == pytest.approx(want, rel=1e-4)


def test_ssim_of_a_negated_image_is_the_negative_structure_term():
    """y = 1 - x on a checkerboard of 0.25 / 0.75: equal local means (0.5 where the window
    covers the pattern evenly) and cov = -var, so SSIM -> (C2 - 2 var) / (2 var + C2)."""
    board = (torch.arange(64).reshape(8, 8) + torch.arange(8)[:, None]) % 2
    x = 0.25 + 0.5 * board.float()[None]
    y = 1.0 - x
    value = float(ssim(x, y)[0])
    assert value < -0.9
    var = 0.0625                                              # (0.25)^2, window near even
    assert value == pytest.approx((C2 - 2 * var) / (2 * var + C2), abs=0.02)


def test_psnr_closed_form():
    x = torch.zeros(2, 4, 4)
    y = torch.full((2, 4, 4), 0.1)                           # MSE 0.01 -> 20 dB
    assert torch.allclose(psnr_db(x, y), torch.full((2,), 20.0, dtype=torch.float64))


def test_targets_pool_to_16_and_keep_the_first_channel():
    x = torch.arange(2 * 3 * 32 * 32, dtype=torch.float32).reshape(2, 3, 32, 32)
    t = targets(x)
    assert t.shape == (2, 16, 16)
    assert float(t[0, 0, 0]) == pytest.approx(float(x[0, 0, :2, :2].mean()))
    assert targets(torch.zeros(5, 1, 8, 8)).shape == (5, 8, 8)


def test_inverse_network_recovers_an_invertible_map_and_not_noise():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1200, 1, 8, 8, generator=g) ** 2
    mix = torch.randn(64, 64, generator=g)                   # an invertible linear map
    sent = (x.reshape(1200, 64) @ mix).numpy()
    good = reconstruct(sent[:1000], x[:1000], sent[1000:], x[1000:], seed=0)
    pure = torch.randn(1200, 64, generator=g).numpy()       # nothing about x
    bad = reconstruct(pure[:1000], x[:1000], pure[1000:], x[1000:], seed=0)
    spread = float(((x[1000:] - x[:1000].mean(0)) ** 2).mean())   # predicting the mean image
    assert good.mse < 0.15 * spread and good.ssim > 0.8
    assert bad.mse > 0.9 * spread and bad.ssim < 0.3
    assert good.psnr_db > bad.psnr_db + 8
    assert good.examples.shape == (4, 8, 8)
    assert math.isfinite(good.psnr_ci95) and good.psnr_ci95 > 0
