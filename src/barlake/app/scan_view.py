"""What the Scan page offers and shows, as plain functions over `barlake.scan` (no streamlit).

A universe is either a source of the lake (every instrument it holds at the timeframe) or an
instruments file, exactly as `barlake scan --universe` takes it; the ranking itself is
`barlake.scan.scan`, so the page and the CLI can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from barlake.app.data_view import Tree
from barlake.lake import Lake
from barlake.scan import ScanResult, scan
from barlake.timeframes import parse_timeframe

FILE_PREFIX = "file: "


@dataclass(frozen=True)
class ScanRequest:
    """One scan as the form asks for it; `universe` is a source name or a file path."""

    universe: str
    timeframe: str
    filter: str = ""
    score: str = "default"


def timeframes(tree: Tree) -> list[str]:
    """Every timeframe some series of the lake's tree holds, shortest first."""
    held = {tf for instruments in tree.values() for frames in instruments.values() for tf in frames}
    return sorted(held, key=parse_timeframe)


def universes(tree: Tree, timeframe: str, files: list[Path]) -> list[str]:
    """Sources holding `timeframe` bars (with their instrument count), then existing files."""
    counts = {s: sum(timeframe in frames for frames in tree[s].values()) for s in sorted(tree)}
    options = [f"{source} ({n} instruments)" for source, n in counts.items() if n]
    return options + [f"{FILE_PREFIX}{path}" for path in files if path.is_file()]


def universe_value(option: str) -> str:
    """The `--universe` value behind an option label: 'sample (3 instruments)' → 'sample'."""
    if option.startswith(FILE_PREFIX):
        return option[len(FILE_PREFIX) :]
    return option.rsplit(" (", 1)[0]


def run_scan(lake: Lake, request: ScanRequest) -> ScanResult:
    """`barlake scan` over the lake; bad expressions raise ExpressionError before any read."""
    return scan(
        lake,
        request.universe,
        timeframe=request.timeframe,
        filter=request.filter or None,
        score=request.score or "default",
    )


def skipped_frame(result: ScanResult) -> pd.DataFrame:
    """Instruments the scan could not score, with the reason (never dropped silently)."""
    rows = [(s.source, s.instrument, s.reason) for s in result.skipped]
    return pd.DataFrame(rows, columns=["source", "instrument", "reason"])


def summary(result: ScanResult) -> str:
    """'3 passed, 1 filtered out, 0 skipped in 0.12 s' — the CLI's line."""
    return (
        f"{len(result.ranked)} passed, {result.failed} filtered out, "
        f"{len(result.skipped)} skipped in {result.seconds:.2f} s"
    )


def row_target(ranked: pd.DataFrame, position: int, timeframe: str) -> dict[str, str]:
    """The Data page preselection for a row of the ranked table."""
    row = ranked.iloc[position]
    return {
        "source": str(row["source"]),
        "instrument": str(row["instrument"]),
        "timeframe": timeframe,
    }
