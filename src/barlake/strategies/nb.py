"""Signal kernels shared by the strategies: crosses and rolling extremes of earlier bars."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def cross_nb(a: np.ndarray, b: np.ndarray, up: np.ndarray, down: np.ndarray) -> None:
    """up[i]: `a` crosses above `b` on bar i (a[i] > b[i] after a[i-1] <= b[i-1]); down[i]: the
    mirror. NaN on either bar is no cross. Like `(a > b) & (a.shift() <= b.shift())` in pandas."""
    n = a.shape[0]
    if n:
        up[0] = False
        down[0] = False
    for i in range(1, n):
        x0 = a[i - 1] - b[i - 1]
        x1 = a[i] - b[i]
        up[i] = (x1 > 0.0) & (x0 <= 0.0)
        down[i] = (x1 < 0.0) & (x0 >= 0.0)


@njit(cache=True, nogil=True)
def prior_extreme_nb(x: np.ndarray, n: int, highest: bool, out: np.ndarray) -> None:
    """out[i] = max (or min) of x[i-n:i], the n bars before i; NaN for i < n. Like
    `pd.Series(x).rolling(n).max().shift()`. A monotonic queue keeps it O(len)."""
    m = x.shape[0]
    queue = np.empty(m, dtype=np.int64)
    head = 0
    tail = 0
    sign = 1.0 if highest else -1.0
    for i in range(m):
        while tail > head and queue[head] < i - n:
            head += 1
        out[i] = x[queue[head]] if i >= n else np.nan
        while tail > head and sign * x[queue[tail - 1]] <= sign * x[i]:
            tail -= 1
        queue[tail] = i
        tail += 1
