"""Cloak: a learned noise mask x' = a * mask + M + B * E * mask, E fresh per request; features
whose learned B exceeds the threshold are suppressed."""
from __future__ import annotations

from typing import Any

import numpy as np

from noise.cost import cloak_work
from noise.knowledge import NoiseKnowledge
from noise.methods.base import (EdgeNoise, NoiseContext, NoiseFn, NoiseMethod,
                                register_method)
from noise.spec import CloakSpec


def cloak_noise(mean: np.ndarray, scale: np.ndarray, mask: np.ndarray,
                distribution: str = "laplace") -> NoiseFn:
    """Cloak with suppression: a * mask + M + B * E * mask, E fresh per sample."""
    m = mask.astype(np.float32)

    def apply(a: np.ndarray, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        e = (rng.laplace(0.0, 1.0, a.shape) if distribution == "laplace"
             else rng.standard_normal(a.shape)).astype(np.float32)
        return (a * m + mean + scale * e * m).astype(np.float32)
    return apply


def _save(tensors: dict[str, np.ndarray], path: str) -> None:
    with open(path, "wb") as f:
        np.savez(f, **tensors)


def _load(path: str) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in ("mean", "scale", "mask")}


@register_method
class Cloak(NoiseMethod):
    name = "cloak"
    options = CloakSpec
    at_input = "noise"
    input_note = "the raw input, noised like any other cut"

    def work(self, elements: int, spec: Any) -> tuple[int, int]:
        return cloak_work(elements)

    def storage_bytes(self, elements: int, spec: Any) -> int:
        return 3 * 4 * elements          # M, B and the mask, float32

    def edge_noise(self, ctx: NoiseContext) -> EdgeNoise:
        from noise.cloak import train_cloak

        options: CloakSpec = ctx.spec.options

        def build():
            r = train_cloak(ctx.local, ctx.remote, ctx.data, options, ctx.spec.seed)
            return {"mean": r.mean, "scale": r.scale, "mask": r.mask}
        d, hit, digest = ctx.cache.get_or_build("cloak", ctx.key, ".npz", build, _save, _load)
        apply = cloak_noise(d["mean"], d["scale"], d["mask"], options.distribution)
        # one "tuple": E[a'] = a * mask + M; the fresh E is all the randomness there is
        knowledge = NoiseKnowledge(d["mask"].astype(np.float64).reshape(1, -1),
                                   d["mean"].astype(np.float64).reshape(1, -1),
                                   lambda a, seed, tuples: apply(a, seed),
                                   tuple(d["mean"].shape))
        return EdgeNoise(apply, {"noise_cache_key": digest, "noise_cache_hit": hit}, knowledge)
