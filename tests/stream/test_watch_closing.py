"""The closed-bar rule on its own: which candle updates become bars, which bars are holes."""

from __future__ import annotations

from barlake.stream.closing import Closed, CloseTracker, Hole
from barlake.stream.exchange import Candle

M = 60_000
T0 = 1_700_000_040_000 - 1_700_000_040_000 % M


def candle(t: int, close: float, closed: bool | None = False) -> Candle:
    return Candle("BTC/USDT", "1m", t, 100.0, 101.0, 99.0, close, 1.0, closed, 0.0)


def bars(steps: list) -> list[tuple[int, float]]:
    return [(s.bar.timestamp_ms, s.bar.close) for s in steps if isinstance(s, Closed)]


def test_flagged_forming_updates_are_never_bars_and_the_final_one_is_at_once() -> None:
    tracker = CloseTracker(M, flagged=True)
    assert tracker.update(candle(T0, 100.1)) == []
    assert tracker.update(candle(T0, 100.2)) == []
    assert bars(tracker.update(candle(T0, 100.3, closed=True))) == [(T0, 100.3)]
    assert tracker.update(candle(T0 + M, 100.4)) == []


def test_flagged_final_message_lost_across_a_drop_becomes_a_hole() -> None:
    tracker = CloseTracker(M, flagged=True)
    tracker.update(candle(T0, 100.1))
    steps = tracker.update(candle(T0 + 3 * M, 100.5))  # first update after a reconnect
    assert steps == [Hole(T0, T0 + 3 * M)]
    assert bars(tracker.update(candle(T0 + 3 * M, 100.6, closed=True))) == [(T0 + 3 * M, 100.6)]


def test_a_repeated_final_message_is_written_once() -> None:
    tracker = CloseTracker(M, flagged=True)
    assert len(bars(tracker.update(candle(T0, 100.3, closed=True)))) == 1
    assert tracker.update(candle(T0, 100.3, closed=True)) == []


def test_unflagged_bar_is_final_when_a_later_one_starts() -> None:
    tracker = CloseTracker(M, flagged=False)
    assert tracker.update(candle(T0, 100.1)) == []
    assert tracker.update(candle(T0, 100.2)) == []
    assert bars(tracker.update(candle(T0 + M, 100.3))) == [(T0, 100.2)]


def test_unflagged_skip_emits_the_last_state_then_a_hole_in_time_order() -> None:
    tracker = CloseTracker(M, flagged=False)
    tracker.update(candle(T0, 100.1))
    steps = tracker.update(candle(T0 + 3 * M, 100.5))
    assert bars(steps) == [(T0, 100.1)]
    assert steps[1:] == [Hole(T0 + M, T0 + 3 * M)]


def test_unflagged_forming_state_from_before_a_reconnect_is_never_stored() -> None:
    tracker = CloseTracker(M, flagged=False)
    tracker.update(candle(T0, 100.1))
    tracker.resync()
    assert tracker.update(candle(T0 + 2 * M, 100.5)) == [Hole(T0, T0 + 2 * M)]
