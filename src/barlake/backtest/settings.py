"""Backtest options as one validated, frozen record, and its flat parameter vector for the kernel."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from barlake.backtest import layout as L
from barlake.errors import ConfigError

FILLS = ("next_open", "close")
DIRECTIONS = ("long", "short", "both")
SIZINGS = ("fraction", "notional", "risk")
INTRABAR_RULES = ("sl_first", "ohlc_path", "nearest_extreme")
MODES = ("none", "grid", "martingale")


@dataclass(frozen=True)
class Settings:
    """Everything `from_signals` needs besides bars and signals. Percentages are in percent
    (tp_pct=5.0 is 5%), fees and slippage in basis points, per fill, on both sides."""

    direction: str = "long"
    fill: str = "next_open"
    fees_bps: float = 4.5
    slippage_bps: float = 0.0
    init_cash: float = 10_000.0
    size: float = 1.0
    sizing: str = "fraction"
    atr_n: int = 14
    atr_mult: float = 2.0
    tp_pct: float | None = None
    sl_pct: float | None = None
    intrabar: str = "sl_first"
    mode: str = "none"
    grid_step_pct: float = 1.0
    grid_adds: int = 3
    martingale_mult: float = 2.0
    martingale_cap: float = 8.0
    kelly: float | None = None
    kelly_min_trades: int = 20
    max_drawdown_pct: float | None = None

    def __post_init__(self) -> None:
        for name, allowed in (
            ("direction", DIRECTIONS),
            ("fill", FILLS),
            ("sizing", SIZINGS),
            ("intrabar", INTRABAR_RULES),
            ("mode", MODES),
        ):
            if getattr(self, name) not in allowed:
                raise ConfigError(
                    f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}"
                )
        self._check_numbers()

    def _check_numbers(self) -> None:
        positive = ("init_cash", "size", "atr_mult", "grid_step_pct", "martingale_mult")
        for name in positive:
            _number(name, getattr(self, name), low=0.0, open_low=True)
        _number("fees_bps", self.fees_bps, low=0.0, high=1000.0)
        _number("slippage_bps", self.slippage_bps, low=0.0, high=1000.0)
        for name in ("tp_pct", "sl_pct", "max_drawdown_pct"):
            if getattr(self, name) is not None:
                _number(name, getattr(self, name), low=0.0, open_low=True)
        if self.sl_pct is not None and self.sl_pct >= 100 and self.direction != "short":
            raise ConfigError(f"sl_pct must be below 100 for long positions, got {self.sl_pct}")
        if self.sizing == "fraction" and self.size > 1.0:
            raise ConfigError(
                f"size is a fraction of equity (0, 1] with sizing='fraction', got {self.size}"
            )
        if self.kelly is not None:
            _number("kelly", self.kelly, low=0.0, high=1.0, open_low=True)
            if self.sizing != "fraction":
                raise ConfigError(
                    "kelly sizing replaces the equity fraction: use sizing='fraction'"
                )
        _number("martingale_cap", self.martingale_cap, low=1.0)
        for name in ("atr_n", "grid_adds", "kelly_min_trades"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ConfigError(f"{name} must be a whole number >= 0, got {value!r}")

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Settings:
        """Settings from keyword options; an unknown name is refused with the known ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"unknown backtest option(s) {unknown}: use {', '.join(sorted(known))}"
            )
        return cls(**options)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def params(self) -> np.ndarray:
        """The kernel's parameter vector (layout.P_*)."""
        p = np.zeros(L.N_PARAMS)
        p[L.P_FILL_CLOSE] = self.fill == "close"
        p[L.P_FEE] = self.fees_bps / 1e4
        p[L.P_SLIP] = self.slippage_bps / 1e4
        p[L.P_INIT_CASH] = self.init_cash
        p[L.P_SIZING] = SIZINGS.index(self.sizing)
        p[L.P_SIZE] = self.size
        p[L.P_ATR_MULT] = self.atr_mult
        p[L.P_TP] = _fraction(self.tp_pct)
        p[L.P_SL] = _fraction(self.sl_pct)
        p[L.P_INTRABAR] = INTRABAR_RULES.index(self.intrabar)
        p[L.P_MODE] = MODES.index(self.mode)
        p[L.P_GRID_STEP] = self.grid_step_pct / 100.0
        p[L.P_GRID_ADDS] = self.grid_adds
        p[L.P_MART_MULT] = self.martingale_mult
        p[L.P_MART_CAP] = self.martingale_cap
        p[L.P_KELLY] = self.kelly or 0.0
        p[L.P_KELLY_MIN] = self.kelly_min_trades
        p[L.P_MAX_DD] = _fraction(self.max_drawdown_pct)
        return p


def _fraction(pct: float | None) -> float:
    return np.nan if pct is None else float(pct) / 100.0


def _number(
    name: str, value: Any, *, low: float, high: float = math.inf, open_low: bool = False
) -> None:
    """A finite real number in range; bools and strings are refused (they are typos here)."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    ok = (
        ok
        and math.isfinite(value)
        and value <= high
        and (value > low if open_low else value >= low)
    )
    if not ok:
        bound = f"> {low}" if open_low else f">= {low}"
        raise ConfigError(
            f"{name} must be a number {bound}"
            + (f" and <= {high}" if high < math.inf else "")
            + f", got {value!r}"
        )
