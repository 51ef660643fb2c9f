"""Optional high-fidelity backend through ZigZag (`zigzag-dse`): NOT WIRED YET.

Planned: per layer shape, call `zigzag.api.get_hardware_performance_zigzag` on the configured
hardware YAML and cache (latency, energy) per shape, since ZigZag's mapping search takes
minutes per network (reference/performance-notes.md). Until then, asking for it is a clear
user-facing error rather than a silent fallback to the analytic model.
"""
from __future__ import annotations

from importlib.util import find_spec


class ZigZagTarget:
    def __init__(self, model) -> None:
        if find_spec("zigzag") is None:
            raise ValueError('"backend" zigzag needs the optional package zigzag-dse '
                             "(pip install zigzag-dse)")
        raise ValueError('"backend" zigzag is not implemented yet; use backend: analytic')
