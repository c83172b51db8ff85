"""The Pareto front (max return, min drawdown) and the champion rule on handmade rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from barlake.optimize.pareto import choose_champion, front_mask


def brute_front(ret: np.ndarray, dd: np.ndarray) -> np.ndarray:
    """Definition: dominated if another point is at least as good on both, better on one."""
    n = len(ret)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        for j in range(n):
            if ret[j] >= ret[i] and dd[j] <= dd[i] and (ret[j] > ret[i] or dd[j] < dd[i]):
                keep[i] = False
    return keep


def test_front_keeps_exactly_the_points_nothing_dominates():
    ret = np.array([5.0, 3.0, 5.0, 1.0, 4.0, 4.0, -2.0])
    dd = np.array([10.0, 2.0, 8.0, 1.0, 2.0, 2.0, 0.5])
    assert front_mask(ret, dd).tolist() == [False, False, True, True, True, True, True]


def test_front_matches_the_definition_on_random_points_with_ties():
    rng = np.random.default_rng(3)
    for _ in range(50):
        ret = rng.integers(-5, 5, 40).astype(float)
        dd = rng.integers(0, 6, 40).astype(float)
        assert (front_mask(ret, dd) == brute_front(ret, dd)).all()


def front(rows: list[tuple[str, int, float, float]]) -> pd.DataFrame:
    order = {"ma_cross": 0, "rsi_reversion": 1}
    frame = pd.DataFrame(rows, columns=["strategy", "number", "test_return_pct", "test_max_dd_pct"])
    return frame.assign(order=frame["strategy"].map(order))


def test_champion_is_the_best_test_return_within_the_drawdown_limit():
    rows = front(
        [("ma_cross", 3, 9.0, 25.0), ("ma_cross", 7, 4.0, 12.0), ("rsi_reversion", 1, 6.5, 19.9)]
    )
    label, message = choose_champion(rows, 20.0)
    assert rows.loc[label, "number"] == 1 and rows.loc[label, "strategy"] == "rsi_reversion"
    assert message.startswith("Champion: rsi_reversion #1, test return 6.50%")
    assert "2 of 3" in message


def test_champion_ties_go_to_lower_drawdown_then_strategy_order_then_number():
    rows = front(
        [
            ("rsi_reversion", 2, 5.0, 3.0),
            ("ma_cross", 9, 5.0, 3.0),
            ("ma_cross", 4, 5.0, 3.0),
            ("ma_cross", 1, 5.0, 4.0),
        ]
    )
    label, _ = choose_champion(rows, 20.0)
    assert (rows.loc[label, "strategy"], rows.loc[label, "number"]) == ("ma_cross", 4)


def test_no_member_within_the_limit_means_no_champion_and_says_so():
    rows = front([("ma_cross", 3, 9.0, 25.0), ("rsi_reversion", 5, 2.0, 21.5)])
    label, message = choose_champion(rows, 20.0)
    assert label is None
    assert message == (
        "No champion: none of the 2 Pareto-front members has a test max drawdown <= 20% "
        "(the lowest is 21.50%, rsi_reversion #5)."
    )


def test_an_empty_front_means_no_champion_and_says_why():
    label, message = choose_champion(front([]), 20.0)
    assert label is None and "minimum number of trades" in message
