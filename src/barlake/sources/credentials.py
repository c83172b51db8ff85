"""API keys for exchanges that need them: from the environment or a `.env` file, never argv.

Names are `BARLAKE_<EXCHANGE>_API_KEY`, `..._SECRET` and `..._PASSWORD` (e.g.
`BARLAKE_OKX_PASSWORD`). A variable already in the environment wins over `.env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

FIELDS = {"API_KEY": "apiKey", "SECRET": "secret", "PASSWORD": "password"}


def read_dotenv(path: Path) -> dict[str, str]:
    """`KEY=value` lines (optional `export `, quotes, `#` comments); a missing file is empty."""
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def credentials(
    exchange: str, env: Mapping[str, str] | None = None, dotenv: Path | None = None
) -> dict[str, str]:
    """The ccxt config keys (`apiKey`, `secret`, `password`) set for this exchange, if any."""
    environ = {**read_dotenv(dotenv or Path(".env")), **(os.environ if env is None else env)}
    prefix = f"BARLAKE_{exchange.upper()}_"
    return {
        key: environ[prefix + name] for name, key in FIELDS.items() if environ.get(prefix + name)
    }
