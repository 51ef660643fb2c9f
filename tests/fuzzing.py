"""Seeded mutations of the shipped configs, the way a careless user or script breaks them, and
the harness that runs one case through the CLI in-process.

A case is (description, config text or None, extra CLI arguments). The harness asserts what
the reliability contract says: exit status 0 or 2, never an exception escaping `main`, every
error line of the form `error: ...`, a bounded time, and for exit 0 of `sim run` a results.csv
whose numbers are finite and non-negative.
"""
from __future__ import annotations

import copy
import io
import math
import random
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from sim.cli import main
from sim.overrides import set_path

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
BASES = ("tx2_lenet.yaml", "tx2_vgg16.yaml", "eyeriss_alexnet.yaml", "lte_vgg16.yaml",
         "tx2_resnet18.yaml", "tx2cpu_vgg16.yaml")

NASTY_VALUES = [
    0, -1, 1, 2, 1e18, -1e18, 10 ** 30, float("nan"), float("inf"), -float("inf"), 1e308,
    0.5, -0.5, "", "x", "a" * 300, "../../escaped", "wifi", "lte", "none", True, False, None,
    [], [1, 2], [3, 8, 8], [3, 224], [0, 1, 1], [-1], {}, {"value": 1, "source": "s"},
    {"preset": "wifi"}, "1e18", "nan", "all", [5, 99],
]
# values that a `--set` gives as text (YAML syntax), including what YAML cannot be
NASTY_TEXTS = ["0", "-1", "1e18", ".nan", ".inf", "-.inf", "1e308", "[]", "{}", "[1, 2",
               "{value: 1, source: s}", "'", "x" * 300, "9" * 5000, "&a [*a]", "null",
               "../../../tmp/x", "[3, 8, 8]"]


# valid but extreme values: a run must give finite, non-negative numbers at both ends
EXTREME_VALID = {
    "link.uplink_mbps": [0.01, 1e5], "link.downlink_mbps": [0.01, 1e5], "link.rtt_ms": [0, 1e4],
    "link.tail_ms": [0, 1e5], "link.promotion_ms": [0, 1e4], "sim.arrival.rate_hz": [1e-3, 1e3],
    "sim.clients": [1, 50], "workload.batch_size": [1, 64], "cloud.gpus": [1, 8],
    "cloud.max_batch": [1, 8], "cloud.max_wait_ms": [0, 1e3],
    "sim.arrival.process": ["deterministic", "onoff"], "noise.method": ["none", "cloak"],
    "workload.activation_dtype": ["float16", "int8"], "noise.order_mode": ["quantized"],
}


@dataclass(frozen=True)
class Case:
    what: str
    command: str                 # validate | run
    config: str | None           # YAML text written to the case's folder (None: base file)
    args: tuple[str, ...] = ()


def _paths(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))


def _set(node, path, value):
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value


def _get_path(node, dotted: str):
    for k in dotted.split("."):
        node = node[k]
    return node


def _delete(node, path):
    for k in path[:-1]:
        node = node[k]
    del node[path[-1]]


def _dump(raw) -> str:
    return yaml.safe_dump(raw, default_flow_style=None, allow_unicode=True)


def mutations(rng: random.Random, n: int, command: str = "validate") -> list[Case]:
    """`n` seeded cases: replaced, deleted and renamed keys, nasty `--set`s, broken files."""
    bases = {b: yaml.safe_load((CONFIGS / b).read_text()) for b in BASES}
    cases: list[Case] = []
    while len(cases) < n:
        base_name = rng.choice(BASES)
        raw = copy.deepcopy(bases[base_name])
        paths = [p for p in _paths(raw) if p != ("name",) or rng.random() < 0.3]
        kind = rng.random()
        if command == "run" and kind < 0.5:
            # a valid config at an extreme: small simulation so that a case stays quick
            raw.setdefault("sim", {}).update(requests=300, warmup_requests=50, replications=2)
            picks = rng.sample(sorted(EXTREME_VALID), 2)
            for key in picks:
                raw = set_path(raw, key, rng.choice(EXTREME_VALID[key]))
            cases.append(Case(f"{base_name}: extreme " + ", ".join(
                f"{k}={_get_path(raw, k)!r}" for k in picks), command, _dump(raw)))
            continue
        if kind < 0.45:
            path = rng.choice(paths)
            value = rng.choice(NASTY_VALUES)
            _set(raw, path, copy.deepcopy(value))
            cases.append(Case(f"{base_name}: {'.'.join(map(str, path))} = {value!r:.60}",
                              command, _dump(raw)))
        elif kind < 0.55:
            path = rng.choice(paths)
            _delete(raw, path)
            cases.append(Case(f"{base_name}: without {'.'.join(map(str, path))}", command,
                              _dump(raw)))
        elif kind < 0.62:
            path = rng.choice(paths)
            parent = raw
            for k in path[:-1]:
                parent = parent[k]
            parent[str(path[-1]) + "x"] = parent.pop(path[-1])
            cases.append(Case(f"{base_name}: {'.'.join(map(str, path))} misspelled", command,
                              _dump(raw)))
        elif kind < 0.85:
            path = ".".join(map(str, rng.choice(paths)))
            text = rng.choice(NASTY_TEXTS)
            cases.append(Case(f"{base_name}: --set {path}={text:.60}", command, None,
                              ("--set", f"{path}={text}", "--base", base_name)))
        else:
            cases.append(_broken_file(rng, base_name, (CONFIGS / base_name).read_text(),
                                      command))
    return cases


def _broken_file(rng: random.Random, base_name: str, text: str, command: str) -> Case:
    choice = rng.randrange(7)
    if choice == 0:
        cut = rng.randrange(1, len(text))
        return Case(f"{base_name}: truncated at {cut}", command, text[:cut])
    if choice == 1:
        return Case(f"{base_name}: a section given twice", command,
                    text + "\nworkload: {model: vgg16}\n")
    if choice == 2:
        return Case(f"{base_name}: alias bomb in name", command,
                    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                    + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
                              for p, c in zip("abcdefg", "bcdefgh"))
                    + "name: *h\n" + text)
    if choice == 3:
        return Case(f"{base_name}: recursive alias", command, "x: &x [*x]\n" + text)
    if choice == 4:
        return Case(f"{base_name}: deep nesting", command,
                    text + "\nedge: " + "{a: " * 200 + "1" + "}" * 200 + "\n")
    if choice == 5:
        return Case(f"{base_name}: not a mapping", command, rng.choice(["[1, 2]", "42", "",
                                                                        "null", "'text'"]))
    return Case(f"{base_name}: 5,000-digit integer", command,
                text + "\nsim: {requests: " + "9" * 5000 + "}\n")


@dataclass(frozen=True)
class Outcome:
    code: int | None
    seconds: float
    stderr: str
    error: str | None            # an exception that escaped main, or a contract breach


def run_case(case: Case, folder: Path, cache_dir: Path, time_bound_s: float) -> Outcome:
    args = list(case.args)
    base = CONFIGS / "tx2_lenet.yaml"
    if "--base" in args:
        i = args.index("--base")
        base = CONFIGS / args[i + 1]
        del args[i:i + 2]
    path = base
    if case.config is not None:
        path = folder / "case.yaml"
        path.write_text(case.config, encoding="utf-8")
    cli = [case.command, str(path), *args]
    out_dir = folder / "out"
    if case.command == "run":
        cli += ["--out", str(out_dir), "--no-privacy", "--cache-dir", str(cache_dir),
                "--set", "report.plots=false"]
    err = io.StringIO()
    t0 = time.perf_counter()
    try:
        with redirect_stdout(io.StringIO()), redirect_stderr(err):
            code = main(cli)
    except SystemExit as exc:            # argparse: exit 2 for a bad command line
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException as exc:         # noqa: BLE001 - a traceback is the defect we look for
        return Outcome(None, time.perf_counter() - t0, err.getvalue(),
                       f"{type(exc).__name__}: {exc}"[:500])
    seconds = time.perf_counter() - t0
    text = err.getvalue()
    problem = None
    if code not in (0, 2):
        problem = f"exit status {code}"
    elif code == 2 and not any(line.startswith(("error:", "usage:"))
                               for line in text.splitlines()):
        problem = "exit 2 without an error line"
    elif "Traceback" in text:
        problem = "a traceback on stderr"
    elif seconds > time_bound_s:
        problem = f"took {seconds:.1f} s (bound {time_bound_s} s)"
    elif code == 0 and case.command == "run":
        problem = _bad_numbers(out_dir / "results.csv")
    return Outcome(code, seconds, text, problem)


def _bad_numbers(path: Path) -> str | None:
    df = pd.read_csv(path)
    for col in df.columns:
        if not pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
            continue
        values = df[col].dropna()
        if not values.map(math.isfinite).all():
            return f"results.csv column {col} holds a non-finite number"
        if (values < 0).any():
            return f"results.csv column {col} holds a negative number"
    return None
