"""context.json: the dataset, the config, the windows, the studies and the code version of a
run, so a worker elsewhere, a resume or a report later rebuild exactly the same setting."""

from __future__ import annotations

import platform
import socket
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

import barlake
from barlake.errors import ConfigError, DataError
from barlake.lake import Lake
from barlake.optimize.config import OptimizeConfig
from barlake.optimize.journal import JOURNAL_FILE
from barlake.optimize.studies import study_name
from barlake.optimize.windows import Window, fingerprint
from barlake.timeframes import parse_timeframe

MASK = "***"


def build_context(
    config: OptimizeConfig, lake: Lake, bars: pd.DataFrame, windows: list[Window], run_id: str
) -> dict[str, Any]:
    step = parse_timeframe(config.timeframe)
    index = pd.DatetimeIndex(bars.index)
    storage = (
        {"kind": "journal", "path": JOURNAL_FILE}
        if config.storage is None
        else {"kind": "database", "url": mask_url(config.storage)}
    )
    settings = config.as_dict() | {"storage": storage.get("url")}
    return {
        "run_id": run_id,
        "created_at": pd.Timestamp.now(tz="UTC").isoformat(),
        "host": socket.gethostname(),
        "config": settings,
        "storage": storage,
        "data": {
            "lake": str(Path(lake.root).resolve()),
            "source": config.source,
            "instrument": config.instrument,
            "timeframe": config.timeframe,
            "start": config.start,
            "end": config.end,
            "bars": len(bars),
            "first_ms": int(index.as_unit("ms").asi8[0]),
            "last_ms": int(index.as_unit("ms").asi8[-1]),
            "fingerprint": fingerprint(bars),
        },
        "windows": [w.describe(index, step) for w in windows],
        "studies": [
            {"name": study_name(run_id, s, w.fold, len(windows)), "strategy": s, "fold": w.fold}
            for w in windows
            for s in config.strategies
        ],
        "code": code_version(),
    }


def read_bars(lake: Lake, config: OptimizeConfig) -> pd.DataFrame:
    """The run's bars; an empty range is a clear error."""
    bars = lake.read(config.source, config.instrument, config.timeframe, config.start, config.end)
    if bars.empty:
        raise DataError(
            f"no {config.timeframe} bars for {config.source}/{config.instrument} between "
            f"{config.start or 'the first bar'} and {config.end or 'the last bar'} "
            "(see `barlake ls`)"
        )
    return bars


def load_bars(context: dict[str, Any], lake: Lake | Path | str | None = None) -> pd.DataFrame:
    """The bars a run was started on, checked against its fingerprint."""
    data = context["data"]
    store = lake if isinstance(lake, Lake) else Lake(lake if lake is not None else data["lake"])
    bars = store.read(
        data["source"], data["instrument"], data["timeframe"], data["start"], data["end"]
    )
    if bars.empty or fingerprint(bars) != data["fingerprint"]:
        raise DataError(
            f"the bars of {data['source']}/{data['instrument']} {data['timeframe']} in "
            f"{store.root} differ from the ones this run started on ({data['bars']} bars): "
            "point --lake at the lake the run used"
        )
    return bars


def run_config(context: dict[str, Any], storage: str | None = None) -> OptimizeConfig:
    """The config of a run, with a database URL given again when context.json masks it."""
    settings = dict(context["config"])
    if context["storage"]["kind"] == "database":
        url = storage or settings["storage"]
        if MASK in url:
            raise ConfigError(
                "context.json does not keep the database password: pass --storage URL again"
            )
        settings["storage"] = url
    return OptimizeConfig.from_dict(settings)


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***, fit to be written to disk."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:{MASK}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def code_version() -> dict[str, Any]:
    """barlake's version and git commit (when run from a checkout) and the libraries that
    decide the numbers."""
    versions: dict[str, Any] = {"barlake": barlake.__version__, "git": _git_commit()}
    for name in ("optuna", "numpy", "pandas", "numba"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    versions["python"] = platform.python_version()
    return versions


def _git_commit() -> str | None:
    source = Path(barlake.__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(source), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("-dirty" if dirty else "")
