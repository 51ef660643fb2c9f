"""Sweep plans: --grid parsing, ranges, the Latin hypercube and the configuration order."""
import numpy as np
import pytest

from core.errors import UserError
from sim.sweep.spec import (GridAxis, RangeAxis, expand, latin_hypercube, parse_axis,
                            parse_spec, split_values)


def test_grid_values_are_yaml_scalars_and_lists():
    axis = parse_axis("link.uplink_mbps=1,2.5,fast,true,[1, 2]")
    assert axis == GridAxis("link.uplink_mbps", (1, 2.5, "fast", True, [1, 2]),
                            ("1", "2.5", "fast", "true", "[1, 2]"))
    assert split_values("[1, 2],{a: 1, b: 2},'x,y'") == ["[1, 2]", "{a: 1, b: 2}", "'x,y'"]


def test_range_is_read_before_yaml():
    # YAML 1.1 would read 1:20 as the sexagesimal integer 80
    assert parse_axis("cloud.gpus=1:20") == RangeAxis("cloud.gpus", 1.0, 20.0, True, "1:20")
    r = parse_axis("link.uplink_mbps=0.5:2e2")
    assert (r.lo, r.hi, r.integer) == (0.5, 200.0, False)


def test_spec_mistakes_are_listed_together():
    with pytest.raises(UserError) as exc:
        parse_spec(["link.uplink_mbps", "a=1:0", "b=1,,2", "c=1:5", "c=2"], None, 0)
    text = "\n".join(exc.value.problems)
    assert "'link.uplink_mbps': expected key.path=value" in text
    assert "lo < hi" in text and "no empty value" in text
    assert "--grid c: given more than once" in text
    assert "needs --sample N" in text


def test_latin_hypercube_has_one_point_per_stratum():
    u = latin_hypercube(50, 3, seed=7)
    for d in range(3):
        assert sorted(np.floor(u[:, d] * 50).astype(int)) == list(range(50))
    assert np.array_equal(u, latin_hypercube(50, 3, seed=7))
    assert not np.array_equal(u, latin_hypercube(50, 3, seed=8))


def test_expand_order_grid_last_key_fastest_then_samples():
    spec = parse_spec(["a=1,2", "b=x,y", "c=0.0:1.0"], samples=2, seed=0)
    configs = expand(spec)
    assert len(configs) == 8
    assert [(dict(c)["a"], dict(c)["b"]) for c in configs[::2]] == [
        (1, "x"), (1, "y"), (2, "x"), (2, "y")]
    # every grid point gets the same samples
    assert [dict(c)["c"] for c in configs[:2]] == [dict(c)["c"] for c in configs[6:]]
    assert all(0 <= dict(c)["c"] < 1 for c in configs)


def test_integer_ranges_sample_integers_in_bounds():
    spec = parse_spec(["cloud.gpus=1:4"], samples=400, seed=1)
    values = [dict(c)["cloud.gpus"] for c in expand(spec)]
    assert set(values) == {1, 2, 3, 4}
    assert all(isinstance(v, int) for v in values)
    assert values.count(1) == 100      # 400 strata over 4 integers: 100 each
