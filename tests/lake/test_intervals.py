"""Interval algebra agrees with plain sets of integers, and always returns canonical lists."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from barlake.lake import intervals as iv

LIMIT = 200
point = st.integers(min_value=0, max_value=LIMIT)
# Pairs in any order: reversed and empty pairs are legal input and must be ignored.
raw_intervals = st.lists(st.tuples(point, point), max_size=8)
CHEAP = settings(max_examples=100, deadline=None)


def as_set(items) -> set[int]:
    """The model: every integer x with start <= x < end for some interval."""
    return {x for start, end in items for x in range(start, end)}


def from_set(points: set[int]) -> list[tuple[int, int]]:
    """The canonical interval list of a set: maximal runs of consecutive integers."""
    out: list[tuple[int, int]] = []
    for x in sorted(points):
        if out and out[-1][1] == x:
            out[-1] = (out[-1][0], x + 1)
        else:
            out.append((x, x + 1))
    return out


def assert_canonical(result) -> None:
    """Sorted, no empty interval, disjoint and not even touching (touching ones are merged)."""
    assert isinstance(result, list)
    for start, end in result:
        assert isinstance(start, int)
        assert isinstance(end, int)
        assert start < end
    for (_, prev_end), (next_start, _) in itertools.pairwise(result):
        assert prev_end < next_start


@CHEAP
@given(raw_intervals)
def test_normalize_keeps_the_same_points_in_canonical_form(items):
    result = iv.normalize(items)
    assert_canonical(result)
    assert as_set(result) == as_set(items)
    assert result == from_set(as_set(items))


@CHEAP
@given(raw_intervals)
def test_normalize_is_idempotent_and_order_blind(items):
    once = iv.normalize(items)
    assert iv.normalize(once) == once
    assert iv.normalize(reversed(items)) == once


@CHEAP
@given(raw_intervals, raw_intervals)
def test_union_is_set_union(a, b):
    result = iv.union(a, b)
    assert_canonical(result)
    assert as_set(result) == as_set(a) | as_set(b)


@CHEAP
@given(raw_intervals, raw_intervals)
def test_subtract_is_set_difference(a, b):
    result = iv.subtract(a, b)
    assert_canonical(result)
    assert as_set(result) == as_set(a) - as_set(b)


@CHEAP
@given(raw_intervals, raw_intervals)
def test_intersect_is_set_intersection(a, b):
    result = iv.intersect(a, b)
    assert_canonical(result)
    assert as_set(result) == as_set(a) & as_set(b)
    assert result == iv.intersect(b, a)


@CHEAP
@given(raw_intervals, point, point)
def test_clip_keeps_only_points_inside_the_window(a, start, end):
    result = iv.clip(a, start, end)
    assert_canonical(result)
    assert as_set(result) == as_set(a) & set(range(start, end))


@CHEAP
@given(raw_intervals, point, point)
def test_covers_means_every_point_of_the_window_is_inside(a, start, end):
    assert iv.covers(a, start, end) == (set(range(start, end)) <= as_set(a))


@CHEAP
@given(raw_intervals)
def test_total_counts_distinct_points(a):
    assert iv.total(a) == len(as_set(a))


@CHEAP
@given(st.lists(point, max_size=20), st.integers(min_value=0, max_value=10))
def test_from_points_covers_each_bar_window(points, width):
    result = iv.from_points(points, width)
    assert_canonical(result)
    assert as_set(result) == {x for p in points for x in range(p, p + width)}


@CHEAP
@given(raw_intervals, raw_intervals)
def test_subtract_and_intersect_partition_the_left_side(a, b):
    inside, outside = iv.intersect(a, b), iv.subtract(a, b)
    assert iv.intersect(inside, outside) == []
    assert iv.union(inside, outside) == iv.normalize(a)
    assert iv.total(inside) + iv.total(outside) == iv.total(a)


def test_touching_intervals_are_merged_and_gaps_of_one_are_kept():
    assert iv.normalize([(5, 7), (0, 5), (8, 9)]) == [(0, 7), (8, 9)]


def test_reversed_and_empty_pairs_are_dropped():
    assert iv.normalize([(5, 5), (9, 3), (1, 2)]) == [(1, 2)]
    assert iv.total([(9, 3)]) == 0


def test_subtract_carves_several_holes_out_of_one_interval():
    assert iv.subtract([(0, 100)], [(10, 20), (30, 40), (95, 120)]) == [
        (0, 10),
        (20, 30),
        (40, 95),
    ]


def test_one_hole_spanning_several_intervals_removes_them_all():
    assert iv.subtract([(0, 5), (6, 10), (12, 20)], [(3, 15)]) == [(0, 3), (15, 20)]


def test_empty_window_is_covered_by_anything():
    assert iv.covers([], 7, 7)
    assert not iv.covers([], 7, 8)
    assert iv.covers([(0, 10)], 0, 10)
    assert iv.covers([(0, 5), (5, 10)], 0, 10)
    assert not iv.covers([(0, 5), (5, 10)], -1, 10)


def test_negative_and_large_epoch_values_work():
    day = 86_400_000
    spans = [(-day, 0), (0, day), (1_700_000_000_000, 1_700_000_000_000 + day)]
    assert iv.normalize(spans) == [(-day, day), (1_700_000_000_000, 1_700_000_000_000 + day)]
    assert iv.total(spans) == 3 * day


def test_from_points_of_minute_bars_joins_consecutive_minutes():
    minute = 60_000
    stamps = [0, minute, 2 * minute, 5 * minute]
    assert iv.from_points(stamps, minute) == [(0, 3 * minute), (5 * minute, 6 * minute)]
