"""The text of sweep.csv rows: one fixed float format, so any executor, worker count or resume
writes the same bytes.

`%.9g` keeps nine significant digits (a float64 parsed from it and written again gives the same
text, so best.csv and pareto.csv can re-write sweep rows unchanged). NaN (not evaluated) is an
empty field, never 0.

A row is the configuration, its swept values, the results table's contract columns and then
`saturated` (True/False, as in results.csv: a stage offered more work than it serves, so the
latency fields are empty) and `max_rate_hz` (the per-client rate the bottleneck sustains).
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np
import pandas as pd
import yaml

from sim.table import RESULT_COLUMNS

FLOAT_FORMAT = "%.9g"
SWEEP_COLUMNS = [*RESULT_COLUMNS, "saturated", "max_rate_hz"]


def fmt_float(x: float) -> str:
    return "" if math.isnan(x) else FLOAT_FORMAT % x


def csv_field(text: str) -> str:
    if any(ch in text for ch in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def fmt_value(value: Any) -> str:
    """A swept key's value as the user would write it in YAML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        return fmt_float(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if value is None:
        return "null"
    if isinstance(value, str):
        return csv_field(value)
    return csv_field(yaml.safe_dump(value, default_flow_style=True).strip())


def header(keys: Iterable[str]) -> str:
    return ",".join(["config", *map(csv_field, keys), *SWEEP_COLUMNS]) + "\n"


def config_prefix(index: int, values: Iterable[Any]) -> str:
    return ",".join([str(index), *map(fmt_value, values)]) + ","


def frame_rows(prefix: str, results: pd.DataFrame) -> str:
    """Rows of one configuration's results table (its other extra columns are left out)."""
    cols = []
    for name in SWEEP_COLUMNS:
        if name not in results:
            cols.append([""] * len(results))
            continue
        s = results[name]
        if pd.api.types.is_integer_dtype(s):
            cols.append([str(int(v)) for v in s])
        elif pd.api.types.is_float_dtype(s):
            cols.append([fmt_float(float(v)) for v in s])
        else:
            cols.append(["" if v is None or (isinstance(v, float) and math.isnan(v))
                         else csv_field(str(v)) for v in s])
    return "".join(prefix + ",".join(fields) + "\n" for fields in zip(*cols))
