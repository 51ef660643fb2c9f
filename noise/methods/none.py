"""No noise: every cut sends its activation as it is (the noiseless reference)."""
from __future__ import annotations

from typing import Any

from noise.methods.base import NoiseMethod, register_method


@register_method
class NoNoise(NoiseMethod):
    name = "none"
    at_input = "plain"
    input_note = "the raw input, sent as it is"

    def applies(self, cut: int, num_layers: int) -> bool:
        return False

    def work(self, elements: int, spec: Any) -> tuple[int, int]:
        return 0, 0

