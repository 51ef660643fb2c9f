"""Shredder (ASPLOS 2020): learned multiplicative and additive noise, fitted to Laplace
distributions with a saved element order; the edge samples and re-orders fresh noise per
request (numba kernels, `noise.sampler`)."""
from __future__ import annotations

import logging
from typing import Any

from noise.collection import load_collection, save_collection
from noise.cost import collection_bytes, noise_work
from noise.knowledge import collection_knowledge
from noise.methods.base import EdgeNoise, NoiseContext, NoiseMethod, register_method
from noise.spec import ShredderSpec

log = logging.getLogger(__name__)


def shredder_edge(coll, mode: str, bits: int, info: dict[str, Any]) -> EdgeNoise:
    """Noise as the edge applies it (the numba sampling and re-ordering kernels), and the
    collection as an adversary that holds it knows it."""
    from noise.sampler import NoiseSampler
    sampler = NoiseSampler(coll, mode, bits)
    knowledge = collection_knowledge(
        coll, lambda a, seed, tuples: sampler.apply(a, seed, tuples=tuples))
    return EdgeNoise(lambda a, seed: sampler.apply(a, seed), info, knowledge)


@register_method
class Shredder(NoiseMethod):
    name = "shredder"
    options = ShredderSpec
    at_input = "skip"
    input_note = "not applicable to Shredder (empty)"
    trains_collection_file = True

    def work(self, elements: int, spec: Any) -> tuple[int, int]:
        return noise_work(elements, spec.order_mode, spec.quantized_bits)

    def storage_bytes(self, elements: int, spec: Any) -> int:
        return collection_bytes(elements, spec.collection_size, spec.order_mode,
                                spec.quantized_bits)

    def edge_noise(self, ctx: NoiseContext) -> EdgeNoise:
        spec = ctx.spec
        if spec.collection_path:
            # A user's collection (e.g. from `sim noise train`) is used at the cut it was
            # learned for, after checking it belongs to this model and this activation.
            user = load_collection(spec.collection_path, expect_model=ctx.model_name)
            if user.cut == ctx.cut:
                import torch
                with torch.no_grad():
                    shape = tuple(ctx.local(ctx.data.test.x[:1]).shape[1:])
                user = load_collection(spec.collection_path, ctx.model_name, ctx.cut, shape)
                return shredder_edge(user, spec.order_mode, spec.quantized_bits,
                                     {"noise_collection": spec.collection_path,
                                      "tuples": user.size, **_fit_record(user)})
            # said, not silent: run.json records that this cut trained its own noise
            ignored = (f"{spec.collection_path} was learned for cut {user.cut}; cut {ctx.cut} "
                       "trained its own noise")
            log.warning("noise.collection_path: %s", ignored)
        else:
            ignored = None
        from noise.train import build_collection

        def build():
            return build_collection(ctx.local, ctx.remote, ctx.data, spec, ctx.model_name,
                                    ctx.cut)
        coll, hit, digest = ctx.cache.get_or_build(
            "noise", ctx.key, ".npz", build, lambda c, path: save_collection(path, c),
            load_collection)
        return shredder_edge(coll, spec.order_mode, spec.quantized_bits,
                             {"noise_cache_key": digest, "noise_cache_hit": hit,
                              "tuples": coll.size, **_fit_record(coll),
                              **({"noise_collection_ignored": ignored} if ignored else {})})


def _fit_record(coll) -> dict[str, Any]:
    """Tuples the builder rejected, for run.json (absent in collections built elsewhere)."""
    keys = ("rejected_accuracy", "rejected_fit")
    return {f"tuples_{k}": coll.meta[k] for k in keys if k in coll.meta}
