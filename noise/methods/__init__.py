"""Noise methods as registered strategies: `shredder`, `cloak` and `none` are entries of one
registry, and nothing outside it compares a method's name.

Each entry owns its config section (`noise.<name>:`, a frozen dataclass in `options`), its
pricing (`work`: flops and bytes per request at a cut, for the edge cost model), its training,
its edge application and its artefacts (`edge_noise`: build or load what the edge samples from,
through the artifact cache, and the function that noises an activation per request).
Adding a method is one new module that subclasses `NoiseMethod` and registers it:

    @register_method
    class FixedGaussian(NoiseMethod):
        name = "fixed-gaussian"
        options = FixedGaussianOptions          # noise.fixed-gaussian: {scale: 0.1}
        def work(self, elements, spec): return 2 * elements, 8 * elements
        def edge_noise(self, ctx): ...
"""
from __future__ import annotations

from noise.methods.base import (METHODS, EdgeNoise, NoiseContext, NoiseMethod, NoOptions,
                                build_noise_spec, get_method, register_method)
# The built-in methods register themselves on import.
from noise.methods import cloak, none, shredder  # noqa: E402,F401

__all__ = ["METHODS", "EdgeNoise", "NoiseContext", "NoiseMethod", "NoOptions",
           "build_noise_spec", "get_method", "register_method"]
