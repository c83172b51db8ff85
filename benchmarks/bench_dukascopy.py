"""Dukascopy speed (issue 4, "Speed"); prints one JSON line.

Run: ``.venv/bin/python benchmarks/bench_dukascopy.py [--repeat 3] [--latency-ms 20]``.
Human-readable lines go to stderr, the figures and ratios to stdout as one JSON line.

decode: a year of EURUSD bi5 minute files (365 × 1440 records, decompressed beforehand)
decoded by a plain `struct`-per-record loop, by the floor — `np.frombuffer` with the
big-endian record dtype plus one native array per field, each as wide as on the wire (a
bare `frombuffer` is a zero-copy view, not a decode) — and by ours (`decode_candles`: the
same, with the timestamps turned into int64 epoch ms and volumes into float64). Target:
ours <= 1.2x the floor. Shown too: the absolute minimum, one byte-swapping pass over the
whole record array (fields left interleaved). Also shown, not targeted: the whole per-file path the
sync runs (LZMA, decode, volume decimals via `canonical_volume`, lake table).

sync: one instrument-year (EURUSD 2023, bid, JSON API and bi5) from the emulator into a
fresh lake with `duk_workers` 1, 2 and 4, checked against the emulator's truth outside the
timing. The emulator runs as `barlake emulate` in its own process (one event loop, like
a remote server) with its file cache warmed by a first pass. Target: seconds with W
workers <= seconds with 1 worker / (0.8 × W). Reported twice: with no delay (on a 2-core
machine the client and the emulator then compete for CPU, so this shows the CPU cost),
and with `--latency-ms` added to every answer (the emulator's `slow` fault), the regime
a real datafeed is in, where parallel requests pay.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from barlake.emulator import dukascopy_wire as wire
from barlake.emulator import utc_ms
from barlake.emulator.dukascopy_market import DEFAULT_SPECS, MINUTE_MS, FxBook, FxMarket
from barlake.instruments import Instrument
from barlake.lake import Lake
from barlake.sources.dukascopy_bi5 import CANDLE, Bi5Transport, decode_candles
from barlake.sources.dukascopy_records import bars
from barlake.sources.registry import FeedFactory
from barlake.sources.retry import RetryPolicy
from barlake.sync import SyncOptions, Window, sync

DAY_MS = 86_400_000
YEAR = (utc_ms("2023-01-01"), utc_ms("2024-01-01"))
NATIVE_RECORD = CANDLE.newbyteorder("=")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def year_of_files() -> tuple[list[bytes], list[bytes], list[int]]:
    market = FxMarket(DEFAULT_SPECS[0])
    raws, bodies, starts = [], [], []
    for day in range(YEAR[0], YEAR[1], DAY_MS):
        raw = wire.candle_records(market.candles("bid", day, day + DAY_MS, MINUTE_MS), day)
        raws.append(raw)
        bodies.append(wire.lzma_alone(raw))
        starts.append(day)
    return raws, bodies, starts


def struct_decoder(raw: bytes, start: int) -> list[tuple[int, int, int, int, int, float]]:
    return [
        (start + s * 1000, o, h, lo, c, v) for s, o, c, lo, h, v in struct.iter_unpack(">5if", raw)
    ]


def floor_decoder(raw: bytes, start: int) -> list[np.ndarray]:
    """One native array per field, each as wide as on the wire (no timestamp arithmetic)."""
    records = np.frombuffer(raw, dtype=CANDLE)
    return [records[name].astype(records.dtype[name].newbyteorder("=")) for name in CANDLE.names]


def byteswap_floor(raw: bytes, start: int) -> np.ndarray:
    """The absolute minimum: the whole record array byte-swapped in one pass."""
    return np.frombuffer(raw, dtype=CANDLE).astype(NATIVE_RECORD)


def ours_decoder(raw: bytes, start: int) -> object:
    return decode_candles(raw, start, 100000)


def seconds(fn: Callable[[bytes, int], object], raws: list[bytes], starts: list[int]) -> float:
    began = time.perf_counter()
    for raw, start in zip(raws, starts, strict=True):
        fn(raw, start)
    return time.perf_counter() - began


def decode_figures(rounds: int) -> dict[str, float]:
    """Best of `rounds` for each decoder, the fast ones interleaved round by round so a
    busy machine slows them alike."""
    raws, bodies, starts = year_of_files()
    transport = Bi5Transport(None, "EURUSD", 100000)

    def whole(body: bytes, start: int) -> object:
        return bars({"bid": transport.parse_day(body, start)}, "bid")

    fast = {"floor": floor_decoder, "byteswap_floor": byteswap_floor, "ours": ours_decoder}
    best = dict.fromkeys([*fast, "struct", "ours_whole_path"], float("inf"))
    for _ in range(rounds):
        for name, fn in fast.items():
            best[name] = min(best[name], seconds(fn, raws, starts))
    for _ in range(max(1, rounds // 10)):
        best["struct"] = min(best["struct"], seconds(struct_decoder, raws, starts))
        best["ours_whole_path"] = min(best["ours_whole_path"], seconds(whole, bodies, starts))
    records = sum(len(raw) for raw in raws) // CANDLE.itemsize
    rates = {name: records / took for name, took in best.items()}
    for name, rate in rates.items():
        say(f"decode {name:>16}: {rate:14,.0f} records/s")
    return {
        **{f"{name}_records_per_s": round(rate) for name, rate in rates.items()},
        "ours_vs_floor_time": round(rates["floor"] / rates["ours"], 3),
        "ours_vs_byteswap_floor_time": round(rates["byteswap_floor"] / rates["ours"], 3),
        "struct_vs_ours_time": round(rates["ours"] / rates["struct"], 1),
    }


def start_emulator(faults: str | None) -> tuple[subprocess.Popen[str], str]:
    args = [str(Path(sys.executable).with_name("barlake")), "emulate", "--port", "0"]
    if faults:
        args += ["--faults", faults]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    assert process.stdout is not None
    for _ in range(5):
        line = process.stdout.readline()
        if line.startswith("dukascopy"):
            return process, line.split()[1]
    process.kill()
    raise RuntimeError("the emulator did not print its Dukascopy address")


def sync_seconds(url: str, transport: str, workers: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        lake = Lake(Path(folder))
        item = Instrument("EURUSD", "dukascopy", "EURUSD", base_url=url, transport=transport)  # type: ignore[arg-type]
        factory = FeedFactory(RetryPolicy(base_s=0.05), timeout_s=30, duk_workers=workers)
        options = SyncOptions(Window(*YEAR), (), {"dukascopy": 1}, factory=factory)
        began = time.perf_counter()
        [result] = sync(lake, [item], options)
        seconds = time.perf_counter() - began
        if not result.ok:
            raise RuntimeError(result.error)
        check(lake)
    return seconds


def check(lake: Lake) -> None:
    got = lake.read_arrow("dukascopy", "EURUSD", "1m")
    want = FxBook().bars("EURUSD", *YEAR)
    for name in want.column_names:
        if not np.array_equal(got.column(name).to_numpy(), want.column(name).to_numpy()):
            raise AssertionError(f"the lake differs from the truth in {name}")


def sync_figures(latency_ms: float, repeat: int) -> dict[str, object]:
    report: dict[str, object] = {}
    for label, faults in (
        ("no_delay", None),
        (f"latency_{latency_ms:g}ms", f"dukascopy:slow={latency_ms / 1000:g}x*"),
    ):
        process, url = start_emulator(faults)
        try:
            for transport in ("json", "bi5"):
                sync_seconds(url, transport, 4)  # warm the emulator's caches
                times = {
                    w: min(sync_seconds(url, transport, w) for _ in range(repeat))
                    for w in (1, 2, 4)
                }
                bound = {w: times[1] / (0.8 * w) for w in (2, 4)}
                say(
                    f"sync {label} {transport}: "
                    + ", ".join(f"{w} workers {s:.2f} s" for w, s in times.items())
                )
                report[f"{label}_{transport}"] = {
                    "seconds": {str(w): round(s, 3) for w, s in times.items()},
                    "target_seconds": {str(w): round(b, 3) for w, b in bound.items()},
                    "parallelism_pays": {str(w): times[w] <= bound[w] for w in (2, 4)},
                }
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="timed syncs per setting")
    parser.add_argument("--rounds", type=int, default=30, help="decode rounds (best of)")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--skip-sync", action="store_true")
    args = parser.parse_args()
    report: dict[str, object] = {"bench": "dukascopy", "decode": decode_figures(args.rounds)}
    decode = report["decode"]
    assert isinstance(decode, dict)
    report["decode_target_met"] = decode["ours_vs_floor_time"] <= 1.2
    if not args.skip_sync:
        report["sync_one_instrument_year"] = sync_figures(args.latency_ms, args.repeat)
    print(json.dumps(report, separators=(",", ":")))


if __name__ == "__main__":
    main()
