"""Lakes for the app tests, built with barlake's own import and derive (no hand-made files).

`app_lake` (session-wide, read-only): the bundled 3-day BTCUSDT 1m sample as source `sample`
plus ETHUSDT and SOLUSDT random walks over the same days, all derived to 5m/1h/4h. ETHUSDT has
a two-hour hole the source answered (known empty) and SOLUSDT a half-day nobody asked for
(missing), so the coverage view has every state to show. Run-folder fixtures live in
tests/app/run_fixtures.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import build_app_lake


@pytest.fixture(scope="session")
def app_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small read-only lake shared by the app tests (do not write into it)."""
    return build_app_lake(tmp_path_factory.mktemp("app") / "lake")


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Point the app at a lake (and an empty runs folder) the way `barlake app` does: env vars."""

    def point(lake_dir: Path, runs_dir: Path | None = None) -> Path:
        monkeypatch.setenv("BARLAKE_LAKE", str(lake_dir))
        monkeypatch.setenv("BARLAKE_RUNS", str(runs_dir or tmp_path / "runs"))
        monkeypatch.delenv("BARLAKE_INSTRUMENTS", raising=False)
        return lake_dir

    return point
