"""report.html of a run and of a sweep: one self-contained file (tables, embedded figures,
operating point, provenance, warnings), checked as text and, where Debian's chromium is
installed, rendered by headless Chromium."""
import base64
import json
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parent.parent
CONFIG = str(ROOT / "configs" / "tx2_lenet.yaml")
CHROMIUM = shutil.which("chromium")


class Outline(HTMLParser):
    """Tables (rows per table), images (their src) and the text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[int] = []
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append(0)
        elif tag == "tr":
            self.tables[-1] += 1
        elif tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_data(self, data):
        self.text.append(data)


def outline(path: Path) -> Outline:
    parsed = Outline()
    parsed.feed(path.read_text(encoding="utf-8"))
    return parsed


def png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def slow_link_run(tmp_path_factory):
    """A real run with saturated cuts (0.1 Mbps uplink), privacy off."""
    out = tmp_path_factory.mktemp("run")
    assert main(["run", CONFIG, "--out", str(out), "--no-privacy",
                 "--set", "link.uplink_mbps=0.1"]) == 0
    return out


@pytest.fixture(scope="module")
def sweep_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    assert main(["sweep", CONFIG, "--grid", "link.uplink_mbps=1,100", "--grid",
                 "edge.power_mode=maxn,maxq", "--out", str(out), "--cost-only",
                 "--no-progress"]) == 0
    return out


def assert_self_contained(page: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", page)
    assert "<link" not in page and "<script" not in page and "@import" not in page


def test_run_report_has_tables_figures_provenance_and_warnings(slow_link_run):
    out = slow_link_run
    page = (out / "report.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    doc = outline(out / "report.html")
    results = pd.read_csv(out / "results.csv")
    breakdown = pd.read_csv(out / "energy_breakdown.csv")
    record = json.loads((out / "run.json").read_text())
    # energy table, latency/privacy table, versions, hardware sources: header + one row each
    assert doc.tables == [len(breakdown) + 1, len(results) + 1, len(record["versions"]) + 1,
                          len(record["sources"]) + 1]
    pngs = sorted((out / "plots").glob("*.png"))
    assert len(doc.images) == len(pngs) == 2       # energy and latency; privacy not evaluated
    embedded = sorted(base64.b64decode(src.split(",", 1)[1]) for src in doc.images)
    assert embedded == sorted(p.read_bytes() for p in pngs)
    text = " ".join(doc.text)
    saturated = results.loc[results["saturated"], "cut"].tolist()
    assert saturated and f"cuts {', '.join(map(str, saturated))} are saturated" in text
    assert "privacy columns: not evaluated" in text
    assert record["config_hash"] in text and record["operating_point"] in text
    assert "saturated (utilization" in text          # never a latency for a saturated cut


def test_sweep_report_has_its_tables_and_figures(sweep_out):
    page = (sweep_out / "report.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    doc = outline(sweep_out / "report.html")
    best_cuts = pd.read_csv(sweep_out / "best_cuts.csv")
    best = pd.read_csv(sweep_out / "best.csv")
    pareto = pd.read_csv(sweep_out / "pareto.csv")
    assert doc.tables == [len(best_cuts) + 1, len(best) + 1, len(pareto) + 1]
    assert len(doc.images) == len(list((sweep_out / "plots").glob("*.png")))
    text = " ".join(doc.text)
    assert "4 configurations of tx2_lenet" in text
    assert "link.uplink_mbps = 1, 100; edge.power_mode = maxn, maxq" in text
    assert json.loads((sweep_out / "manifest.json").read_text())["hash"] in text


def test_report_html_false_writes_none(tmp_path):
    assert main(["run", CONFIG, "--out", str(tmp_path), "--no-privacy", "--set",
                 "report.html=false", "--set", "report.plots=false"]) == 0
    assert (tmp_path / "results.csv").is_file() and not (tmp_path / "report.html").exists()


# Appended to a copy of the report: what the browser made of each table and image.
PROBE = """<script>window.addEventListener("load", () => {
  const images = [...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight,
                                                 i.getBoundingClientRect().width]);
  const tables = [...document.querySelectorAll("table")].map(
      t => [t.rows.length, t.getBoundingClientRect().height]);
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({images, tables});
  document.body.appendChild(out);
});</script>"""


def rendered(report: Path, tmp_path: Path) -> dict:
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                     encoding="utf-8")
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
                           "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
                          capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, re.S)
    assert found, proc.stderr[-2000:]
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (CI installs "
                    "it: apt-get install -y chromium); the report is not rendered here")
@pytest.mark.parametrize("which", ["run", "sweep"])
def test_headless_chromium_renders_every_table_and_image(which, slow_link_run, sweep_out,
                                                         tmp_path):
    out = slow_link_run if which == "run" else sweep_out
    report = out / "report.html"
    got = rendered(report, tmp_path)
    doc = outline(report)
    sizes = [png_size(base64.b64decode(src.split(",", 1)[1])) for src in doc.images]
    assert len(got["images"]) == len(sizes) > 0
    for (complete, width, height, shown_px), size in zip(got["images"], sizes):
        assert complete and (width, height) == size and shown_px > 0
    assert [rows for rows, _ in got["tables"]] == doc.tables
    assert all(height > 0 for _, height in got["tables"])
