"""Half-open integer intervals [start, end) as sorted, disjoint, non-adjacent tuples.

Pure functions with no I/O, so coverage logic can be property-tested against a set model.
"""

from __future__ import annotations

from collections.abc import Iterable

Interval = tuple[int, int]
Intervals = list[Interval]


def normalize(items: Iterable[Interval]) -> Intervals:
    """Sort, drop empty ones, and merge overlapping or touching intervals."""
    spans = sorted((int(s), int(e)) for s, e in items if e > s)
    merged: Intervals = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def union(a: Iterable[Interval], b: Iterable[Interval]) -> Intervals:
    return normalize([*a, *b])


def subtract(a: Iterable[Interval], b: Iterable[Interval]) -> Intervals:
    """Parts of a not covered by b."""
    holes = normalize(b)
    out: Intervals = []
    j = 0
    for start, end in normalize(a):
        cursor = start
        while j < len(holes) and holes[j][1] <= cursor:
            j += 1
        k = j
        while k < len(holes) and holes[k][0] < end:
            h_start, h_end = holes[k]
            if h_start > cursor:
                out.append((cursor, h_start))
            cursor = max(cursor, h_end)
            if cursor >= end:
                break
            k += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def intersect(a: Iterable[Interval], b: Iterable[Interval]) -> Intervals:
    left, right = normalize(a), normalize(b)
    out: Intervals = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            out.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


def clip(a: Iterable[Interval], start: int, end: int) -> Intervals:
    return intersect(a, [(start, end)])


def covers(a: Iterable[Interval], start: int, end: int) -> bool:
    """True when [start, end) lies wholly inside a."""
    return not subtract([(start, end)], a)


def total(a: Iterable[Interval]) -> int:
    return sum(end - start for start, end in normalize(a))


def from_points(points: Iterable[int], width: int) -> Intervals:
    """Bars at open times `points`, each covering [t, t + width), as intervals."""
    return normalize((int(t), int(t) + width) for t in points)
