"""A lake writer run as a separate process by the atomicity tests (killed or raced on purpose).

usage: writer_proc.py LAKE MODE SEED
  append: forever, write batch k = 3 days of new 1m bars (crossing month ends) tagged volume=k,
          plus an overwrite of a random baseline day; print k once the write returned.
  stripe: write 40 batches of 60 bars on minutes where minute % 2 == SEED (disjoint writers).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from barlake.lake import Lake

BASE_START = pd.Timestamp("2024-01-01", tz="UTC")
APPEND_START = pd.Timestamp("2024-03-01", tz="UTC")


def bars(index: pd.DatetimeIndex, level: float, volume: float) -> pd.DataFrame:
    close = np.full(len(index), level)
    return pd.DataFrame(
        {"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": volume},
        index=index,
    )


def append_forever(lake: Lake, seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = 0
    while True:
        k += 1
        start = APPEND_START + pd.Timedelta(days=3 * (k - 1))
        index = pd.date_range(start, periods=3 * 1440, freq="1min")
        day = BASE_START + pd.Timedelta(days=int(rng.integers(0, 59)))
        redo = pd.date_range(day, periods=1440, freq="1min")
        frame = pd.concat([bars(redo, 200.0 + k, 1.0), bars(index, 100.0 + k, float(k))])
        lake.write("test", "KILL", "1m", frame)
        print(k, flush=True)


def stripe(lake: Lake, parity: int) -> None:
    for batch in range(40):
        start = BASE_START + pd.Timedelta(minutes=120 * batch)
        index = pd.date_range(start, periods=120, freq="1min")
        index = index[(index.minute % 2) == parity]
        lake.write("test", "RACE", "1m", bars(index, 100.0 + parity, float(batch + 1)))


if __name__ == "__main__":
    root, mode, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "append":
        append_forever(Lake(root), seed)
    else:
        stripe(Lake(root), seed)
