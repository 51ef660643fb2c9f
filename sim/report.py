"""Reports of a run: results.csv, the energy-breakdown table (md/csv/tex), run.json, plots."""
from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import pandas as pd

from core.atomic import write_atomic, write_text_atomic
from sim.table import BREAKDOWN_HEADERS

log = logging.getLogger(__name__)

def _fmt(value: Any, digits: int = 3) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) >= 1000:
            return f"{int(value):,}"
        return f"{value:.{digits}g}" if abs(value) < 1e-2 and value != 0 else f"{value:,.{digits}f}"
    return str(value)


def markdown_table(df: pd.DataFrame, headers: dict[str, str] | None = None,
                   digits: int = 3) -> str:
    headers = headers or {c: c for c in df.columns}
    cols = list(headers)
    lines = ["| " + " | ".join(headers[c] for c in cols) + " |",
             "|" + "|".join("---:" if pd.api.types.is_numeric_dtype(df[c]) else "---"
                            for c in cols) + "|"]
    for _, row in df.iterrows():
        # a `|` inside a cell (a NAS-Bench-201 genotype) would end it
        lines.append("| " + " | ".join(_fmt(row[c], digits).replace("|", "\\|")
                                       for c in cols) + " |")
    return "\n".join(lines)


def latex_table(df: pd.DataFrame, headers: dict[str, str], caption: str, digits: int = 3) -> str:
    def esc(text: str) -> str:
        return text.replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")
    cols = list(headers)
    align = "".join("r" if pd.api.types.is_numeric_dtype(df[c]) else "l" for c in cols)
    lines = [r"\begin{table}[t]", r"\centering", rf"\caption{{{esc(caption)}}}",
             rf"\begin{{tabular}}{{{align}}}", r"\toprule",
             " & ".join(esc(headers[c]) for c in cols) + r" \\", r"\midrule"]
    for _, row in df.iterrows():
        lines.append(" & ".join(esc(_fmt(row[c], digits)) for c in cols) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def write_csv(path: Path, df: pd.DataFrame) -> None:
    # NaN (not evaluated) is written as an empty field, never as 0.
    write_atomic(path, lambda tmp: df.to_csv(tmp, index=False, na_rep="", float_format="%.10g"))


def write_breakdown(out_dir: Path, breakdown: pd.DataFrame, formats: tuple[str, ...],
                    caption: str) -> list[Path]:
    written = []
    if "md" in formats:
        p = out_dir / "energy_breakdown.md"
        write_text_atomic(p, f"{caption}\n\n{markdown_table(breakdown, BREAKDOWN_HEADERS)}\n")
        written.append(p)
    if "csv" in formats:
        p = out_dir / "energy_breakdown.csv"
        write_csv(p, breakdown)
        written.append(p)
    if "tex" in formats:
        p = out_dir / "energy_breakdown.tex"
        write_text_atomic(p, latex_table(breakdown, BREAKDOWN_HEADERS, caption))
        written.append(p)
    return written


def _strict_json(value: Any) -> Any:
    """JSON has no NaN or Infinity: write them as null and "inf" / "-inf"."""
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict_json(v) for v in value]
    return value


def write_run_record(path: Path, record: dict[str, Any]) -> None:
    text = json.dumps(_strict_json(record), indent=2, sort_keys=True, default=str,
                      allow_nan=False)
    write_text_atomic(path, text + "\n")
