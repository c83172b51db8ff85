"""Fault-injection knobs for one emulated server, settable before start and while it runs.

Each rule fires on matching requests (path prefix), every `every`-th one, `times` times
(None = for ever). Kinds:

| kind | effect |
| --- | --- |
| `429` | rate-limit answer with `Retry-After: retry_after`; a request inside that wait gets 418 |
| `403` `500` `502` `503` `504` | that status with the venue's body (500 → -1000, 503 → -1008) |
| `slow` | wait `seconds` before answering (set it beyond the client's timeout) |
| `truncate` | a 200 whose body is cut in half (valid HTTP, broken JSON/zip) |
| `drop` | close the connection without any answer |
| `checksum` | archive only: the `.CHECKSUM` names a wrong digest |
| `hang` | `slow` for `seconds` (default 600): no byte until the client times out (dukascopy-node#254) |
| `empty` | dukascopy only: the "no data" answer for a file that has data (a flaky empty) |
| `badlength` | dukascopy only: records not a multiple of the record size (JSON: unequal arrays) |

Spec strings (CLI `--faults`, `Emulator(faults=...)`): `[venue:]kind[=value][xN][/M][@path]`,
e.g. `500x3`, `binance:429=2`, `hyperliquid:slow=15/10`, `archive:checksum`,
`dukascopy:503x3`, `dukascopy:hang=30`, `dukascopy:empty@/datafeed/EURUSD/2024/00/15`,
`binance:budget=1200` (a per-minute weight budget instead of a fault).

The WebSocket servers (`binance_ws`, `hyperliquid_ws`) take schedules instead, in real
seconds (see `ws_server`): `drop=S` (abort every socket every S s), `refusexK` (HTTP 503
on the next K handshakes; `refuse=R` adds `Retry-After: R`), `stall=S` (a socket goes
silent S s after it opens), `shutdown=S` (shutdown notice + close every S s), `lifetime=S`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

KINDS = frozenset(
    {"429", "403", "500", "502", "503", "504", "slow", "truncate", "drop", "checksum"}
    | {"hang", "empty", "badlength"}
)
HANDLER_KINDS = frozenset({"empty", "badlength"})  # only the Dukascopy handlers apply these
HANG_SECONDS = 600.0
VENUES = ("binance", "archive", "hyperliquid", "dukascopy")  # the emulator's servers, port order
WS_VENUES = ("binance_ws", "hyperliquid_ws")  # WebSockets on the binance / hyperliquid ports
WS_KINDS = frozenset({"drop", "refuse", "stall", "shutdown", "lifetime"})
_SPEC = re.compile(
    r"^(?:(?P<venue>[a-z_]+):)?(?P<kind>[0-9]{3}|[a-z]+)(?:=(?P<value>[0-9.]+))?"
    r"(?:x(?P<times>[0-9]+|\*))?(?:/(?P<every>[0-9]+))?(?:@(?P<path>/\S*))?$"
)


@dataclass
class Fault:
    """One injection rule; `seen` counts matching requests, `fired` the injected ones."""

    kind: str
    times: int | None = 1
    every: int = 1
    path: str = "/"
    seconds: float = 0.0
    retry_after: int = 1
    seen: int = 0
    fired: int = 0

    def matches(self, path: str) -> bool:
        return path.startswith(self.path) and (self.times is None or self.fired < self.times)


@dataclass
class Faults:
    """The rules of one server. Thread-safe: tests change them while the loop serves."""

    rules: list[Fault] = field(default_factory=list)
    wrong_checksum: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(
        self,
        kind: str,
        *,
        times: int | None = 1,
        every: int = 1,
        path: str = "/",
        seconds: float = 0.0,
        retry_after: int = 1,
    ) -> Fault:
        """Queue a rule; e.g. `add("503", times=3)`, `add("slow", seconds=5, path="/api/v3/klines")`."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}: use one of {', '.join(sorted(KINDS))}")
        if kind == "checksum":
            self.wrong_checksum = True
        if kind == "hang":
            kind, seconds = "slow", seconds or HANG_SECONDS
        rule = Fault(kind, times, max(every, 1), path, seconds, retry_after)
        with self._lock:
            self.rules.append(rule)
        return rule

    def take(self, path: str) -> Fault | None:
        """The one rule that fires for this request, if any (consumes one of its `times`)."""
        with self._lock:
            for rule in self.rules:
                if rule.kind == "checksum" or not rule.matches(path):
                    continue
                rule.seen += 1
                if rule.seen % rule.every == 0:
                    rule.fired += 1
                    return rule
        return None

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.wrong_checksum = False


@dataclass(frozen=True)
class Setting:
    """One parsed spec item: a fault for a venue, or a weight budget."""

    venue: str
    kind: str
    value: float | None
    times: int | None
    every: int
    path: str

    def apply(self, faults: Faults) -> None:
        value = self.value
        faults.add(
            self.kind,
            times=self.times,
            every=self.every,
            path=self.path,
            seconds=value if self.kind in ("slow", "hang") and value is not None else 0.0,
            retry_after=int(value) if self.kind == "429" and value is not None else 1,
        )


def parse(spec: str | list[str] | None) -> list[Setting]:
    """`"binance:500x3, archive:checksum"` → settings; a bad item raises ValueError naming it."""
    items = spec if isinstance(spec, list) else (spec or "").split(",")
    settings = []
    for raw in (part.strip() for chunk in items for part in chunk.split(",")):
        if not raw:
            continue
        match = _SPEC.match(raw)
        venue = (match and match["venue"]) or "binance"
        kind = match["kind"] if match else ""
        kinds = WS_KINDS if venue in WS_VENUES else KINDS | {"budget"}
        if not match or venue not in VENUES + WS_VENUES or kind not in kinds:
            raise ValueError(
                f"bad fault {raw!r}: use [venue:]kind[=value][xN][/M][@path] with venue in "
                f"{'|'.join(VENUES)} and kind in {'|'.join(sorted(KINDS))}|budget, or venue "
                f"{'|'.join(WS_VENUES)} and kind in {'|'.join(sorted(WS_KINDS))}"
            )
        if kind in HANDLER_KINDS and venue != "dukascopy":
            raise ValueError(f"bad fault {raw!r}: {kind} is for dukascopy only")
        every = int(match["every"] or 1)
        times_text = match["times"] or ("*" if every > 1 else "1")
        times = None if times_text == "*" else int(times_text)
        value = float(match["value"]) if match["value"] else None
        settings.append(Setting(venue, kind, value, times, every, match["path"] or "/"))
    return settings
