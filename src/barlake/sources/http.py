"""The one small HTTP client the non-ccxt sources use (the Binance archive; Dukascopy through
its keep-alive subclass, `dukascopy_http.KeepAliveClient`).

It maps the wire onto the error tree so callers decide by class: 429/418 →
RateLimitedError (with Retry-After), 5xx/403/timeouts/drops → UnavailableError (retried),
other 4xx → BadResponseError (not retried). A 404 is an answer, not an error: `get`
returns None so the archive can fall back to daily files or REST. A subclass changes how
an answer is fetched (`_answer`), never what it means.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from dataclasses import dataclass

from barlake.errors import BadResponseError, RateLimitedError, UnavailableError

USER_AGENT = "barlake (+https://github.com/barlake)"


@dataclass
class Answer:
    """A status, its Retry-After header and the body read to the end."""

    status: int
    retry_after: str | None
    body: bytes


@dataclass
class HttpClient:
    """Stateless apart from its settings: safe to share across threads."""

    timeout_s: float = 30.0

    def get(self, url: str) -> bytes | None:
        """The body of a 2xx, None for a 404; anything else raises a SourceError subclass."""
        answer = self._answer(url)
        if answer.status == 404:
            return None
        if not 200 <= answer.status < 300:
            raise status_error(f"GET {url}", answer.status, answer.retry_after)
        return answer.body

    def _answer(self, url: str) -> Answer:
        """The answer through urllib (proxies and redirects as the environment says); a
        timeout, a drop or a body cut short raises UnavailableError."""
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                body: bytes = response.read()
                expected = response.headers.get("Content-Length")
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.headers.get("Retry-After"), b"")
        except TimeoutError as error:
            raise UnavailableError(f"GET {url}: timed out after {self.timeout_s:g} s") from error
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            reason = getattr(error, "reason", error)
            raise UnavailableError(f"GET {url}: {reason}") from error
        if expected is not None and expected.isdigit() and int(expected) != len(body):
            raise UnavailableError(f"GET {url}: body cut short ({len(body)} of {expected} bytes)")
        return Answer(200, None, body)  # urllib raised HTTPError for any status but a 2xx


def status_error(
    what: str, status: int, retry_after: str | None, detail: str = ""
) -> RateLimitedError | UnavailableError | BadResponseError:
    """The SourceError a non-200, non-404 status stands for; the one retry policy by status
    that every source (this client, ccxt's answers) shares."""
    if status in (418, 429):
        seconds = float(retry_after) if retry_after and str(retry_after).isdigit() else None
        return RateLimitedError(f"{what}: HTTP {status} (rate limited)", seconds)
    message = f"{what}: HTTP {status}{': ' + detail if detail else ''}"
    if status >= 500 or status in (403, 408):
        return UnavailableError(message)
    return BadResponseError(message)
