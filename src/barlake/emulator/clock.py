"""Market clocks for the emulator: the real one, a frozen one and an accelerated one.

Every emulated endpoint asks one clock for "now" (UTC epoch ms), so REST's forming-candle
cutoff, the WebSocket pushes and the trade tape agree on what has happened. An accelerated
clock lets a test watch a dozen one-minute candles close in a few real seconds:

    clock = Accelerated(utc_ms("2026-11-20T12:00"), speed=60)   # 1 market minute = 1 s
    with Emulator(clock=clock) as emu: ...
"""

from __future__ import annotations

import time

from barlake.emulator.market import wall_clock_ms


class Accelerated:
    """Market ms = `start_ms` + (real seconds since creation or `restart`) · 1000 · `speed`.

    Monotonic underneath, so a wall-clock step (NTP) never moves market time backwards.
    """

    def __init__(self, start_ms: int | None = None, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.speed = float(speed)
        self.start_ms = wall_clock_ms() if start_ms is None else int(start_ms)
        self._origin = time.monotonic()

    def __call__(self) -> int:
        return self.start_ms + int((time.monotonic() - self._origin) * 1000.0 * self.speed)

    def restart(self, start_ms: int) -> None:
        """Jump to `start_ms` now (tests line a candle close up with their own timing)."""
        self.start_ms, self._origin = int(start_ms), time.monotonic()

    def real_seconds(self, market_ms: float) -> float:
        """How many real seconds a market span of `market_ms` takes."""
        return market_ms / 1000.0 / self.speed

    def real_seconds_until(self, market_ms: int) -> float:
        """Real seconds until the clock reads `market_ms` (≤ 0 once it has)."""
        return self.real_seconds(market_ms - self())

    def __repr__(self) -> str:
        return f"Accelerated(start_ms={self.start_ms}, speed={self.speed:g})"


def speed_of(clock: object) -> float:
    """The clock's speed-up over real time (1 for the wall clock or a frozen lambda)."""
    speed = getattr(clock, "speed", 1.0)
    return float(speed) if isinstance(speed, int | float) and speed > 0 else 1.0
