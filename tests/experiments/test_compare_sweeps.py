"""``experiments/compare_sweeps.py``: two runs' per-sequence AUC compared, against hand computations."""
from __future__ import annotations

import json

import pytest

DOMAINS = {"drone": ["a", "b"], "otb": ["c"]}


@pytest.fixture(scope="module")
def compare_sweeps(import_script):
    return import_script("experiments/compare_sweeps")


def _sweep(path, auc: dict[str, float], domains=DOMAINS, variant="default"):
    rows = [{"variant": variant, "per_sequence": {name: {"auc": value} for name, value in auc.items()}}]
    path.write_text(json.dumps({"domains": domains, "results": rows}))
    return path


def test_per_domain_and_overall_differences(compare_sweeps, tmp_path):
    base, _ = compare_sweeps.read_setting(_sweep(tmp_path / "a.json", {"a": 50.0, "b": 70.0, "c": 40.0}), None)
    other, _ = compare_sweeps.read_setting(_sweep(tmp_path / "b.json", {"a": 54.0, "b": 70.0, "c": 37.0}), None)
    result = compare_sweeps.compare(base, other, DOMAINS)
    # drone: mean 60 -> 62 (+2); otb: 40 -> 37 (-3); overall: the mean of the domains, (62 + 37) / 2 - (60 + 40) / 2
    assert result["per_domain"] == pytest.approx({"drone": 2.0, "otb": -3.0})
    assert result["auc"] == pytest.approx((50.0, 49.5))
    assert result["overall"].mean == pytest.approx(-0.5)
    assert (result["overall"].up, result["overall"].down) == (1, 1)


def test_bad_inputs_are_one_line_exit_2(compare_sweeps, tmp_path, capsys):
    base = _sweep(tmp_path / "a.json", {"a": 50.0, "b": 70.0, "c": 40.0})
    other = _sweep(tmp_path / "b.json", {"a": 50.0, "b": 70.0, "c": 40.0}, domains={"drone": ["a", "b"]})
    partial = _sweep(tmp_path / "c.json", {"a": 50.0, "b": 70.0})
    for args, message in (([str(base), str(other)], "other sequences or domains"),
                          ([str(base), str(partial)], "sequences missing from a result: c"),
                          ([str(base), str(base), "--setting", "fast"], "no setting named 'fast'"),
                          ([str(tmp_path / "none.json"), str(base)], "none.json")):
        assert compare_sweeps.main(args) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and message in error
