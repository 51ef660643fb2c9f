"""`report.html`: one self-contained file per run or sweep (tables, figures, operating point,
provenance, warnings) that a browser shows offline: figures are embedded as data URIs, the
style sheet is inline, nothing is fetched from anywhere.

Assembled from blocks (`Block` strings of HTML) so runs and sweeps share the pieces.
"""
from __future__ import annotations

import base64
import html
import json
import logging
import math
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import pandas as pd

from core.atomic import write_text_atomic
from sim.operating_costs import latency_display
from sim.table import BREAKDOWN_HEADERS, LATENCY_PRIVACY_HEADERS

Block = str

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       max-width: 72rem; margin: 2rem auto; padding: 0 1rem; color: #111; line-height: 1.4; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
     border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.8rem; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: 0.15rem 0.4rem; }
th { background: #f2f2f2; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; font-size: 0.85rem; padding-bottom: 0.3rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.8rem; color: #333; }
.warnings li { color: #8a3b00; } pre { font-size: 0.75rem; background: #f7f7f7;
     padding: 0.5rem; overflow-x: auto; } .scroll { overflow-x: auto; }
"""


# ----------------------------------------------------------------------------- blocks
def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def cell_text(value: Any, digits: int = 3) -> str:
    """As the Markdown tables print: empty for NaN (not evaluated), thousands separators."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value != 0 and abs(value) < 1e-2:
            return f"{value:.{digits}g}"
        return f"{int(value):,}" if value.is_integer() and abs(value) >= 1000 \
            else f"{value:,.{digits}f}"
    return str(value)


def table_block(df: pd.DataFrame, caption: str,
                headers: Mapping[str, str] | None = None) -> Block:
    headers = dict(headers or {c: c for c in df.columns})
    cols = [c for c in headers if c in df.columns]
    numeric = {c: pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
               for c in cols}
    head = "".join(f"<th>{esc(headers[c])}</th>" for c in cols)
    rows = []
    for record in df[cols].astype(object).itertuples(index=False):
        cells = "".join(f'<td class="num">{esc(cell_text(v))}</td>' if numeric[c]
                        else f"<td>{esc(cell_text(v))}</td>" for c, v in zip(cols, record))
        rows.append(f"<tr>{cells}</tr>")
    return (f'<div class="scroll"><table><caption>{esc(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def figure_block(png: Path, caption: str) -> Block:
    data = base64.b64encode(Path(png).read_bytes()).decode("ascii")
    return (f'<figure><img alt="{esc(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def figures_block(paths: Sequence[Path]) -> Block:
    pngs = [Path(p) for p in paths if Path(p).suffix == ".png"]
    if not pngs:
        return "<p>No figures (report.plots: false, or nothing was evaluated to draw).</p>"
    return "".join(figure_block(p, f"{p.stem} (PDF beside it: plots/{p.stem}.pdf)")
                   for p in pngs)


def paragraph(text: str) -> Block:
    return f"<p>{esc(text)}</p>"


def warnings_block(warnings: Sequence[str]) -> Block:
    if not warnings:
        return "<p>No warnings.</p>"
    items = "".join(f"<li>{esc(w)}</li>" for w in dict.fromkeys(warnings))
    return f'<ul class="warnings">{items}</ul>'


def json_block(value: Any) -> Block:
    return f"<pre>{esc(json.dumps(value, indent=2, sort_keys=True, default=str))}</pre>"


def section(title: str, *blocks: Block) -> Block:
    return f"<section><h2>{esc(title)}</h2>{''.join(blocks)}</section>"


def page(title: str, blocks: Sequence[Block]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(title)}</title><style>{STYLE}</style></head>"
            f"<body><h1>{esc(title)}</h1>{''.join(blocks)}</body></html>\n")


def write_report(path: Path, title: str, blocks: Sequence[Block]) -> Path:
    write_text_atomic(path, page(title, blocks))
    return Path(path)


# ----------------------------------------------------------------------------- warnings
class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def logged_warnings() -> Iterator[list[str]]:
    """The messages of WARNING and above logged inside the block, for the report."""
    handler = _Collect()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler.messages
    finally:
        root.removeHandler(handler)


def _true(series: pd.Series) -> pd.Series:
    return series.map(lambda v: str(v).strip().lower() in ("true", "1", "1.0"))


def result_warnings(results: pd.DataFrame, privacy_note: str) -> list[str]:
    """What a reader must know before trusting a row: saturation, unevaluated privacy,
    broken accuracy budgets."""
    out = []
    if "saturated" in results and _true(results["saturated"]).any():
        cuts = results.loc[_true(results["saturated"]), "cut"].astype(int).tolist()
        out.append(f"cuts {', '.join(map(str, cuts))} are saturated (a stage is offered more "
                   "work than it serves): no latency is given for them; max_rate_hz is the "
                   "rate each would sustain")
    if "not evaluated" in privacy_note:
        out.append(privacy_note)
    if "within_budget" in results:
        broken = results.loc[results["within_budget"].astype(str).str.lower() == "false", "cut"]
        if len(broken):
            out.append(f"cuts {', '.join(map(str, broken.astype(int)))}: the noise breaks the "
                       "accuracy budget (allowed_loss_pct) on test")
    return out


# ----------------------------------------------------------------------------- run
# Columns beside the printed latency/privacy table that a run may have (issues 12 and 16).
EXTRA_HEADERS = {
    "device_mj": "device (mJ)", "edge_queue_ms": "edge queue (ms)",
    "cloud_queue_ms": "cloud queue (ms)", "max_rate_hz": "max rate (Hz)",
    "accuracy_loss_ci95": "acc. loss 95 % CI", "mi_loss_ci95": "MI loss 95 % CI",
    "private_misclass_ci95": "adversary error 95 % CI",
    "strongest_adversary": "strongest adversary",
    "privacy_gain_pts": "error added by noise (pts)",
    "privacy_gain_ci95": "error added by noise 95 % CI", "within_budget": "within budget",
    "recon_psnr_db": "recon. PSNR (dB)",
}


def present_headers(df: pd.DataFrame, headers: Mapping[str, str]) -> dict[str, str]:
    """The headers whose columns exist and hold at least one value."""
    return {c: h for c, h in headers.items() if c in df and df[c].notna().any()}


def run_report(path: Path, record: Mapping[str, Any], caption: str, breakdown: pd.DataFrame,
               results: pd.DataFrame, plots: Sequence[Path], warnings: Sequence[str]) -> Path:
    """report.html of `sim run`: `record` is run.json's content, `caption` the energy
    table's, `results` the results table."""
    shown = latency_display(results)
    headers = {**present_headers(shown, LATENCY_PRIVACY_HEADERS),
               **present_headers(shown, EXTRA_HEADERS)}
    sources = pd.DataFrame(sorted(record.get("sources", {}).items()),
                           columns=["hardware figure", "source"])
    blocks = [
        section("Scenario and operating point", paragraph(caption),
                paragraph(str(record.get("operating_point", ""))),
                paragraph(str(record.get("latency_model", "")))),
        section("Warnings", warnings_block(list(warnings) + result_warnings(
            results, str(record.get("privacy", ""))))),
        section("Energy per request by cut",
                table_block(breakdown, caption, BREAKDOWN_HEADERS)),
        section("Latency and privacy by cut",
                table_block(shown, "Latency (simulated, mean and p99, at the operating point) "
                            f"and privacy by cut. {record.get('privacy', '')}.", headers)),
        section("Figures", figures_block(plots)),
        section("Provenance",
                paragraph(f"config hash {record.get('config_hash')}; seeds "
                          f"{record.get('seeds')}; wall times (s) {record.get('wall_s')}"),
                table_block(pd.DataFrame(sorted(record.get("versions", {}).items()),
                                         columns=["package", "version"]), "Package versions"),
                table_block(sources, "Source of every hardware figure used"),
                "<h3>Privacy</h3>", json_block(record.get("privacy_provenance", {})),
                "<h3>Resolved configuration</h3>", json_block(record.get("config", {}))),
    ]
    return write_report(path, f"splitsim run: {record.get('scenario', '')}", blocks)


# ----------------------------------------------------------------------------- sweep
def sweep_report(path: Path, title: str, summary: Sequence[str],
                 tables: Mapping[str, tuple[pd.DataFrame, str]], plots: Sequence[Path],
                 warnings: Sequence[str], manifest: Mapping[str, Any]) -> Path:
    """report.html of `sim sweep`: `summary` paragraphs, its tables (name -> frame, caption),
    figures, warnings and the manifest as provenance."""
    blocks = [
        section("Sweep", *(paragraph(s) for s in summary)),
        section("Warnings", warnings_block(warnings)),
        section("Tables", *(table_block(df, cap) for df, cap in tables.values())),
        section("Figures", figures_block(plots)),
        section("Provenance", json_block(manifest)),
    ]
    return write_report(path, title, blocks)
