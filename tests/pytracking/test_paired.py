"""``pytracking.analysis.paired``: paired differences of per-sequence scores, checked against hand computations."""
from __future__ import annotations

import pytest

from pytracking.analysis.paired import domain_weighted_mean, paired_difference


def test_a_constant_shift_is_exact_with_a_zero_width_interval():
    domains = {"drone": ["a", "b"], "otb": ["c"]}
    a = {"a": 50.0, "b": 60.0, "c": 70.0}
    b = {name: value + 2.5 for name, value in a.items()}
    diff = paired_difference(a, b, domains)
    assert diff.mean == pytest.approx(2.5) and diff.low == pytest.approx(2.5) and diff.high == pytest.approx(2.5)
    assert (diff.up, diff.down) == (3, 0)


def test_domains_weigh_the_same_whatever_their_size():
    # domain x: +3 on its one sequence; domain y: 0 on two -> (3 + 0) / 2, not the sequence mean 1
    domains = {"x": ["a"], "y": ["b", "c"]}
    assert domain_weighted_mean({"a": 3.0, "b": 0.0, "c": 0.0}, domains) == 1.5
    diff = paired_difference({"a": 0.0, "b": 1.0, "c": 1.0}, {"a": 3.0, "b": 1.0, "c": 1.0}, domains)
    assert diff.mean == 1.5 and (diff.up, diff.down) == (1, 0) and diff.largest == ("a", 3.0)


def test_the_interval_of_two_sequences_matches_the_resampling_distribution():
    # differences 0 and 2: a resampled mean is 0 (p 1/4), 1 (1/2) or 2 (1/4), so the 5th and 95th percentiles
    # of many draws are 0 and 2
    diff = paired_difference({"a": 0.0, "b": 0.0}, {"a": 0.0, "b": 2.0}, {"d": ["a", "b"]}, resamples=4000)
    assert (diff.mean, diff.low, diff.high) == (1.0, 0.0, 2.0)


def test_one_flipped_sequence_among_ten_leaves_zero_inside_the_interval():
    names = [f"s{i}" for i in range(10)]
    a = dict.fromkeys(names, 60.0)
    b = {**a, "s3": 90.0}  # one clip kept instead of lost: +30, the mean moves by 3
    diff = paired_difference(a, b, {"d": names})
    assert diff.mean == pytest.approx(3.0)
    # a resample misses s3 with probability 0.9 ** 10 = 0.35 > 0.05, so the interval reaches 0
    assert diff.low == 0.0 < diff.mean < diff.high
    assert diff.largest == ("s3", 30.0) and (diff.up, diff.down) == (1, 0)


def test_seeded_and_bad_input():
    a, b, domains = {"a": 1.0, "b": 2.0}, {"a": 2.0, "b": 5.0}, {"d": ["a", "b"]}
    assert paired_difference(a, b, domains) == paired_difference(a, b, domains)
    with pytest.raises(ValueError, match="every domain"):
        paired_difference(a, b, {"d": []})
    with pytest.raises(ValueError, match="confidence"):
        paired_difference(a, b, domains, confidence=1.0)


def test_summary_is_one_line_with_signed_numbers():
    diff = paired_difference({"a": 0.0, "b": 0.0}, {"a": 0.0, "b": 2.0}, {"d": ["a", "b"]}, resamples=4000)
    assert diff.summary() == "+1.0 (+0.0 .. +2.0); up in 1, down in 0 sequences; largest change b +2.0"
