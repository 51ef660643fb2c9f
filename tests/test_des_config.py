"""The `sim:` settings as built from YAML mappings, their error messages, trace files and the
arrival processes."""
from __future__ import annotations

import numpy as np
import pytest

from core.schema import build
from sim.des import ArrivalSpec, CloudQueue, SimSettings, load_trace
from sim.des.arrivals import merged_arrivals
from sim.des.workload import stream


def _rngs(clients: int, seed: int = 0):
    return [stream(seed, 0, c, 0) for c in range(clients)]


def test_defaults_and_nested_build():
    settings, problems = build(SimSettings, {"requests": 500, "clients": 2,
                                             "arrival": {"process": "onoff", "rate_hz": 4,
                                                         "on_s": 0.5, "off_s": 1.5},
                                             "seed": 3, "warmup_requests": 50}, "sim")
    assert problems == []
    assert settings.arrival == ArrivalSpec(process="onoff", rate_hz=4.0, on_s=0.5, off_s=1.5)
    assert settings.arrival.mean_rate_hz == pytest.approx(1.0)
    assert build(SimSettings, None, "sim")[0] == SimSettings()
    assert build(CloudQueue, {"gpus": 4, "max_batch": 8, "max_wait_ms": 2}, "cloud")[0] == \
        CloudQueue(gpus=4, max_batch=8, max_wait_ms=2.0)


@pytest.mark.parametrize("cls,path,raw,message", [
    (SimSettings, "sim", {"arrival": {"rate_hz": -1}},
     "sim.arrival.rate_hz: must be > 0, got -1.0"),
    (SimSettings, "sim", {"arrival": {"process": "bursty"}},
     "sim.arrival.process: 'bursty' is not one"),
    (SimSettings, "sim", {"requests": 100, "warmup_requests": 100},
     "sim.warmup_requests: must be >= 0 and < requests (100), got 100"),
    (SimSettings, "sim", {"replications": 0}, "sim.replications: must be >= 1, got 0"),
    (SimSettings, "sim", {"arrival": {"process": "trace"}},
     "sim.arrival.trace_path: is required"),
    (CloudQueue, "cloud", {"gpus": 0}, "cloud.gpus: must be >= 1, got 0"),
    (CloudQueue, "cloud", {"max_wait_ms": -2}, "cloud.max_wait_ms: must be >= 0, got -2.0"),
])
def test_bad_values_name_their_key_path(cls, path, raw, message):
    obj, problems = build(cls, raw, path)
    assert obj is None
    assert len(problems) == 1 and problems[0].startswith(message), problems


def test_trace_with_non_increasing_timestamps_names_file_and_row(tmp_path):
    path = tmp_path / "arrivals.csv"
    path.write_text("timestamp_s\n0.5\n1.0\n1.0\n2.0\n")
    _, problems = build(SimSettings, {"arrival": {"process": "trace",
                                                  "trace_path": str(path)}}, "sim")
    assert len(problems) == 1
    assert problems[0].startswith(f"sim.arrival.trace_path: {path} row 4: timestamp 1.0 is "
                                  "not greater than the previous one")


@pytest.mark.parametrize("text,fragment", [
    ("0.1\nabc\n", "row 2: timestamp 'abc' is not a number"),
    ("0.1\n-0.2\n", "row 2: timestamp -0.2 must be finite and >= 0"),
    ("0.1,0\n0.2\n", "row 2: expected the same 1 or 2 columns"),
    ("0.1,x\n", "row 1: client 'x' is not an integer"),
    ("timestamp_s\n", "trace file has no timestamps"),
])
def test_trace_reading_errors(tmp_path, text, fragment):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=fragment):
        load_trace(str(path))


def test_missing_trace_file(tmp_path):
    with pytest.raises(ValueError, match="cannot read trace file .*nope.csv"):
        ArrivalSpec(process="trace", trace_path=str(tmp_path / "nope.csv"))


def test_trace_shorter_than_requests_or_naming_unknown_clients(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("0.1,0\n0.2,2\n0.3,1\n")
    spec = ArrivalSpec(process="trace", trace_path=str(path))
    with pytest.raises(ValueError, match='"requests" is 5 but trace .* has only 3'):
        SimSettings(requests=5, arrival=spec, warmup_requests=0)
    with pytest.raises(ValueError, match='"clients" is 2 but trace .* names client 2'):
        SimSettings(requests=3, clients=2, arrival=spec, warmup_requests=0)


def test_trace_replay(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("timestamp_s,client\n0.25,1\n0.5,0\n1.75,1\n")
    times_s, who = merged_arrivals(ArrivalSpec(process="trace", trace_path=str(path)), 2, 3,
                                   _rngs(2))
    np.testing.assert_array_equal(times_s, [0.25, 0.5, 1.75])
    np.testing.assert_array_equal(who, [1, 0, 1])
    path.write_text("1\n2\n3\n4\n5\n")        # no client column: dealt in turn
    times_s, who = merged_arrivals(ArrivalSpec(process="trace", trace_path=str(path)), 2, 4,
                                   _rngs(2))
    np.testing.assert_array_equal(times_s, [1, 2, 3, 4])
    np.testing.assert_array_equal(who, [0, 1, 0, 1])


def test_poisson_arrivals_have_the_configured_rate():
    n, clients, rate_hz = 200_000, 4, 2.5
    times_s, who = merged_arrivals(ArrivalSpec(rate_hz=rate_hz), clients, n, _rngs(clients))
    assert np.all(np.diff(times_s) >= 0) and len(times_s) == n
    gaps_s = np.diff(times_s[who == 2])
    assert gaps_s.mean() == pytest.approx(1 / rate_hz, rel=0.02)
    assert gaps_s.std() == pytest.approx(1 / rate_hz, rel=0.02)       # exponential: sd = mean
    assert np.bincount(who).min() > 0.24 * n


def test_deterministic_arrivals_are_staggered():
    times_s, who = merged_arrivals(ArrivalSpec(process="deterministic", rate_hz=2.0), 2, 6,
                                   _rngs(2))
    np.testing.assert_allclose(times_s, [0.0, 0.25, 0.5, 0.75, 1.0, 1.25])
    np.testing.assert_array_equal(who, [0, 1, 0, 1, 0, 1])


def test_onoff_arrivals_are_bursty_with_the_right_mean_rate():
    spec = ArrivalSpec(process="onoff", rate_hz=10.0, on_s=1.0, off_s=4.0)
    times_s, _ = merged_arrivals(spec, 1, 100_000, _rngs(1))
    assert len(times_s) / times_s[-1] == pytest.approx(spec.mean_rate_hz, rel=0.03)
    gaps_s = np.diff(times_s)
    # Bursts make the inter-arrival times far more variable than Poisson (cv > 1).
    assert gaps_s.std() / gaps_s.mean() > 1.5
