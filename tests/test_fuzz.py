"""Fuzz suite: seeded mutations of the shipped configs (tests/fuzzing.py) through `sim validate`
and `sim run --no-privacy`. Every case exits 0 or 2 with `error:` lines, never a traceback,
within its time bound, and a run's results.csv holds finite non-negative numbers. The default
suite runs a small sample; the slow variant (CI) runs more than 1,000 cases."""
import random

import pytest

from tests.fuzzing import mutations, run_case

VALIDATE_BOUND_S = 30.0          # includes profiling a mutated network shape once
RUN_BOUND_S = 120.0


def _check(cases, tmp_path_factory, bound_s):
    cache = tmp_path_factory.mktemp("fuzz-cache")
    failures, codes = [], {0: 0, 2: 0}
    for i, case in enumerate(cases):
        folder = tmp_path_factory.mktemp(f"case{i}")
        out = run_case(case, folder, cache, bound_s)
        if out.error:
            failures.append(f"{case.what} [{case.command}]: {out.error}\n{out.stderr[-300:]}")
        elif out.code in codes:
            codes[out.code] += 1
    assert not failures, f"{len(failures)} of {len(cases)} cases broke the contract:\n" + \
        "\n".join(failures[:20])
    return codes


def test_fuzz_validate_sample(tmp_path_factory):
    codes = _check(mutations(random.Random(1), 120), tmp_path_factory, VALIDATE_BOUND_S)
    assert codes[2] > 30 and codes[0] > 5       # the mutations do break configs, not all


def test_fuzz_run_sample(tmp_path_factory):
    codes = _check(mutations(random.Random(2), 12, "run"), tmp_path_factory, RUN_BOUND_S)
    assert codes[0] >= 3                        # some runs finish, and their numbers are checked


@pytest.mark.slow
def test_fuzz_validate_many(tmp_path_factory):
    codes = _check(mutations(random.Random(3), 1000), tmp_path_factory, VALIDATE_BOUND_S)
    assert sum(codes.values()) == 1000


@pytest.mark.slow
def test_fuzz_run_many(tmp_path_factory):
    codes = _check(mutations(random.Random(4), 60, "run"), tmp_path_factory, RUN_BOUND_S)
    assert codes[0] >= 20
