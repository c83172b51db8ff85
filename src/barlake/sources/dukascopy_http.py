"""Keep-alive HTTP for the Dukascopy feed: the `HttpClient` seam, with connections that
stay open between requests.

A year of one instrument is 365 minute files per side. urllib opens a TCP connection for
each and closes it after one answer, which costs both ends more CPU than the answer itself
on a fast link. This client keeps idle connections per host in a pool: a request takes one
(or opens one) and puts it back once its answer is read to the end; a connection that
failed, timed out or was told to close is dropped. A request on a reused connection the
server had closed meanwhile (idle timeout) is sent once more on a new one, as urllib3
does. Proxies from the environment and redirects go through urllib (the parent class);
what a status means is the parent's `get`, for both.
"""

from __future__ import annotations

import http.client
import threading
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from barlake.errors import UnavailableError
from barlake.sources.http import USER_AGENT, Answer, HttpClient

Connection = http.client.HTTPConnection
STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


@dataclass
class KeepAliveClient(HttpClient):
    """Safe to share across threads: each connection serves one request at a time."""

    _idle: dict[str, list[Connection]] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _proxies: dict[str, str] = field(default_factory=urllib.request.getproxies, init=False)

    def _answer(self, url: str) -> Answer:
        """Over a pooled connection; through urllib when a proxy or a redirect is involved."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or self._proxied(parts):
            return super()._answer(url)
        answer = self._exchange(parts, url)
        if 300 <= answer.status < 400:  # urllib follows redirects
            return super()._answer(url)
        return answer

    def close(self) -> None:
        """Close the idle connections (one still answering is closed when it is dropped)."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def _exchange(self, parts: SplitResult, url: str) -> Answer:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection, reused = self._take(parts)
        try:
            try:
                answer, keep = _ask(connection, target)
            except STALE:
                if not reused:
                    raise
                connection.close()
                connection, reused = self._open(parts), False
                answer, keep = _ask(connection, target)
        except TimeoutError as error:
            connection.close()
            raise UnavailableError(f"GET {url}: timed out after {self.timeout_s:g} s") from error
        except http.client.IncompleteRead as error:
            connection.close()
            got, wanted = len(error.partial), len(error.partial) + (error.expected or 0)
            raise UnavailableError(f"GET {url}: body cut short ({got} of {wanted} bytes)") from None
        except (http.client.HTTPException, OSError) as error:
            connection.close()
            raise UnavailableError(f"GET {url}: {error}") from error
        if keep:
            self._give(parts.netloc, connection)
        else:
            connection.close()
        return answer

    def _take(self, parts: SplitResult) -> tuple[Connection, bool]:
        with self._lock:
            idle = self._idle.get(parts.netloc)
            if idle:
                return idle.pop(), True
        return self._open(parts), False

    def _give(self, netloc: str, connection: Connection) -> None:
        with self._lock:
            self._idle.setdefault(netloc, []).append(connection)

    def _open(self, parts: SplitResult) -> Connection:
        kind = http.client.HTTPSConnection if parts.scheme == "https" else Connection
        return kind(parts.hostname or "", parts.port, timeout=self.timeout_s)

    def _proxied(self, parts: SplitResult) -> bool:
        return parts.scheme in self._proxies and not urllib.request.proxy_bypass(
            parts.hostname or ""
        )


def _ask(connection: Connection, target: str) -> tuple[Answer, bool]:
    """One GET on `connection`: the answer read to the end, and whether the connection may
    serve another request."""
    connection.request("GET", target, headers={"User-Agent": USER_AGENT})
    response = connection.getresponse()
    body = response.read()
    answer = Answer(response.status, response.getheader("Retry-After"), body)
    return answer, not response.will_close
