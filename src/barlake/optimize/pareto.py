"""The Pareto front (maximise return, minimise drawdown) and the champion rule.

Champion = the front member with the highest TEST return among those whose TEST max drawdown
is at most `dd_max`; ties go to the lower test drawdown, then the strategy listed first, then
the lower trial number. When no member qualifies there is no champion, and the sentence says
why in plain words.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def front_mask(returns: np.ndarray, drawdowns: np.ndarray) -> np.ndarray:
    """True where no other point has a return >= and a drawdown <= with one of them strict.
    Points with identical values are all kept. O(n log n)."""
    ret = np.asarray(returns, dtype=np.float64)
    dd = np.asarray(drawdowns, dtype=np.float64)
    mask = np.zeros(len(ret), dtype=np.bool_)
    order = np.lexsort((dd, -ret))  # return high → low, then drawdown low → high
    best_dd = math.inf  # lowest drawdown among strictly higher returns
    i = 0
    while i < len(order):
        j = i
        while j < len(order) and ret[order[j]] == ret[order[i]]:
            j += 1
        group = order[i:j]
        lowest = dd[group].min()
        if lowest < best_dd:
            mask[group[dd[group] == lowest]] = True
            best_dd = lowest
        i = j
    return mask


def choose_champion(front: pd.DataFrame, dd_max: float) -> tuple[object | None, str]:
    """(index label of the champion or None, a sentence for the report). `front` needs
    strategy, number, order, test_return_pct and test_max_dd_pct columns."""
    if front.empty:
        return None, (
            "No champion: the Pareto front is empty, because no trial reached the minimum "
            "number of trades on the train part."
        )
    qualified = front[front["test_max_dd_pct"] <= dd_max]
    if qualified.empty:
        lowest = front.loc[front["test_max_dd_pct"].idxmin()]
        return None, (
            f"No champion: none of the {len(front)} Pareto-front members has a test max "
            f"drawdown <= {dd_max:g}% (the lowest is {lowest['test_max_dd_pct']:.2f}%, "
            f"{lowest['strategy']} #{int(lowest['number'])})."
        )
    ranked = qualified.sort_values(
        ["test_return_pct", "test_max_dd_pct", "order", "number"],
        ascending=[False, True, True, True],
        kind="mergesort",
    )
    label = ranked.index[0]
    best = ranked.iloc[0]
    return label, (
        f"Champion: {best['strategy']} #{int(best['number'])}, test return "
        f"{best['test_return_pct']:.2f}% with test max drawdown {best['test_max_dd_pct']:.2f}% "
        f"<= {dd_max:g}%: the highest test return among the {len(qualified)} of {len(front)} "
        "Pareto-front members that qualify."
    )
