"""Objective names of the best-cut search, kept apart so the CLI parser imports nothing heavy."""

OBJECTIVES = {"latency": "latency_ms", "edge_energy": "edge_energy_mj",
              "total_energy": "total_mj"}
WEIGHT_TERMS = {"latency": "latency_ms", "energy": "total_mj", "edge_energy": "edge_energy_mj"}
