"""What every emulated server does around its handlers: faults, weight limits, headers, log.

Order per request: read the body → pick a fault → `slow` waits → `drop` / forced status
answer → weight check (429/418) → handler → weight header → `truncate` → log entry.
The fault picked here is the request's only one; handlers that shape their own answer
(Dukascopy's `empty`, `badlength`) read it with `request_fault`, as they read the body.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from barlake.emulator.faults import Fault, Faults
from barlake.emulator.journal import Entry, Journal
from barlake.emulator.limits import Verdict, WeightLimiter, interval_of

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATUS_FAULTS = frozenset({"403", "500", "502", "503", "504"})


def _request_key(name: str, kind: type) -> Any:
    """aiohttp >= 3.12 wants typed request keys; older versions take a plain string."""
    return web.RequestKey(name, kind) if hasattr(web, "RequestKey") else name


BODY_KEY: Any = _request_key("barlake.body", object)
FAULT_KEY: Any = _request_key("barlake.fault", Fault)


class ApiError(Exception):
    """A handler's refusal, rendered as the venue renders errors (e.g. 400 + Binance code)."""

    def __init__(self, status: int, payload: Any) -> None:
        super().__init__(f"{status} {payload}")
        self.status = status
        self.payload = payload

    def response(self) -> web.Response:
        if isinstance(self.payload, str):
            return web.Response(status=self.status, text=self.payload)
        return web.json_response(self.payload, status=self.status)


def plain_answer(status: int, verdict: Verdict | None) -> web.Response:
    """Default canned answer for fault and limit statuses: short text, Retry-After if limited."""
    reasons = {403: "Forbidden", 418: "I'm a teapot", 429: "Too Many Requests"}
    text = reasons.get(status, "Server Error")
    headers = {"Retry-After": str(verdict.retry_after)} if verdict else None
    return web.Response(status=status, text=f"{status} {text}", headers=headers)


@dataclass
class Venue:
    """The knobs and records of one emulated server."""

    name: str
    clock: Callable[[], int]
    limiters: dict[str, WeightLimiter] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    journal: Journal = field(default_factory=Journal)
    weight_header: str | None = None
    answer: Callable[[int, Verdict | None], web.Response] = plain_answer
    weigh: Callable[[web.Request, Any], int] = lambda request, body: 1

    @property
    def limiter(self) -> WeightLimiter | None:
        """The first (main) limiter, e.g. Binance spot's REQUEST_WEIGHT budget."""
        return next(iter(self.limiters.values()), None)

    def limiter_for(self, path: str) -> WeightLimiter | None:
        return next((lim for prefix, lim in self.limiters.items() if path.startswith(prefix)), None)

    def reset(self) -> None:
        """Clear faults, bans, weight and the log (between tests)."""
        self.faults.clear()
        self.journal.clear()
        for limiter in self.limiters.values():
            limiter.reset()


def request_body(request: web.Request) -> Any:
    """The parsed JSON body the pipeline stored, or None (absent or not JSON)."""
    return request.get(BODY_KEY)


def request_fault(request: web.Request) -> Fault | None:
    """The fault the pipeline picked for this request, or None."""
    fault: Fault | None = request.get(FAULT_KEY)
    return fault


def guard(venue: Venue) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await _read_json(request)
        fault = venue.faults.take(request.path)
        kind = fault.kind if fault else None
        if fault is not None:
            request[FAULT_KEY] = fault
        if fault and kind == "slow":
            await asyncio.sleep(fault.seconds)
        limiter = venue.limiter_for(request.path)
        weight = venue.weigh(request, body) if limiter else 0
        now = venue.clock()
        response: web.Response | None = None
        if kind == "drop":
            if request.transport is not None:
                request.transport.close()
        elif kind in STATUS_FAULTS:
            response = venue.answer(int(kind), None)
        else:
            response = await _limited(request, handler, venue, limiter, weight, fault)
        used = limiter.used(venue.clock()) if limiter else 0
        if response is not None and venue.weight_header and limiter:
            suffix = interval_of(limiter.window_ms)[2]
            response.headers[f"{venue.weight_header}-{suffix}"] = str(used)
            response.headers["X-MBX-USED-WEIGHT"] = str(used)
        if response is not None and kind == "truncate":
            response = _truncated(response)
        status = response.status if response is not None else 0
        venue.journal.record(
            Entry(request.method, request.path, dict(request.query), body, status,
                  weight, used, now, kind)
        )  # fmt: skip
        return response if response is not None else web.Response(status=499)

    return middleware


async def _limited(
    request: web.Request,
    handler: Handler,
    venue: Venue,
    limiter: WeightLimiter | None,
    weight: int,
    fault: Fault | None,
) -> web.Response:
    if limiter is not None:
        if fault is not None and fault.kind == "429":
            limiter.force_429(fault.retry_after)
        verdict = limiter.admit(weight, venue.clock())
        if verdict.status != 200:
            return venue.answer(verdict.status, verdict)
    try:
        response = await handler(request)
    except ApiError as error:
        return error.response()
    assert isinstance(response, web.Response)
    return response


async def _read_json(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    raw = await request.read()
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    request[BODY_KEY] = body
    return body


def _truncated(response: web.Response) -> web.Response:
    body = response.body if isinstance(response.body, bytes) else b""
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return web.Response(body=body[: len(body) // 2], status=response.status, headers=headers)
