"""A module-wide temporary lake holding one short 5m series."""

from __future__ import annotations

import pytest
from optimize_support import walk_5m, write_lake

from barlake.lake import Lake


@pytest.fixture(scope="module")
def walk_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return write_lake(tmp_path_factory.mktemp("lake"), walk_5m())
