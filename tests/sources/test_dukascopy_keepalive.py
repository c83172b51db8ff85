"""The Dukascopy feed's keep-alive HTTP client against a loopback HTTP/1.1 server on port 0:
one connection serves many requests, a connection the server dropped while idle is
replaced, answers map onto the error tree like urllib's, and proxies from the environment
and redirects still go through urllib."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from barlake.errors import BadResponseError, RateLimitedError, UnavailableError
from barlake.sources.dukascopy_http import KeepAliveClient


class Handler(BaseHTTPRequestHandler):
    """Answers by path: /ok/<text>, /status/<code>, /cut, /hang, /redirect, /once (answers,
    then drops the connection without saying so). Counts connections and request lines."""

    protocol_version = "HTTP/1.1"
    server: Server

    def setup(self) -> None:
        super().setup()
        with self.server.count:
            self.server.connections += 1

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.lines.append(self.requestline)
        kind, name = self.path.split("/")[1], self.path.split("/")[-1]
        if self.path.startswith("http://"):  # a proxy is asked for an absolute URL
            self._send(200, b"via proxy")
        elif kind in ("ok", "once"):
            self._send(200, name.encode())
            self.close_connection = kind == "once"
        elif kind == "status":
            self._send(int(name), b"no", {"Retry-After": "7"})
        elif self.path == "/cut":
            self._send(200, b"0123456789", {"Content-Length": "100"})
            self.close_connection = True
        elif self.path == "/hang":
            time.sleep(1.0)
            self._send(200, b"late")
        elif self.path == "/redirect":
            self._send(302, b"", {"Location": "/ok/moved"})
        else:
            self._send(404, b"Not Found")

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        headers = {"Content-Length": str(len(body)), **(headers or {})}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.connections = 0
        self.count = threading.Lock()
        self.lines: list[str] = []

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that timed out closed its end: writing the late answer fails

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def server() -> Iterator[Server]:
    server = Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[KeepAliveClient]:
    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    client = KeepAliveClient(0.5)
    yield client
    client.close()


def test_requests_to_one_host_share_one_connection(server, client):
    assert [client.get(f"{server.url}/ok/{n}") for n in range(5)] == [b"0", b"1", b"2", b"3", b"4"]
    assert server.connections == 1 and len(server.lines) == 5


def test_threads_in_flight_each_get_a_connection_and_then_reuse_them(server, client):
    def ask(n: int) -> bytes | None:
        return client.get(f"{server.url}/ok/{n}")

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    opened = server.connections
    assert 1 <= opened <= 3
    assert [ask(n) for n in range(6)] == [str(n).encode() for n in range(6)]
    assert server.connections == opened


def test_a_connection_the_server_dropped_while_idle_is_replaced_and_the_request_answered(
    server, client
):
    assert [client.get(f"{server.url}/once/{n}") for n in range(3)] == [b"0", b"1", b"2"]
    assert server.connections == 3 and len(server.lines) == 3


def test_a_404_is_no_data_and_other_statuses_raise_like_urllib(server, client):
    assert client.get(f"{server.url}/missing") is None
    with pytest.raises(UnavailableError, match="HTTP 503"):
        client.get(f"{server.url}/status/503")
    with pytest.raises(RateLimitedError, match="HTTP 429") as limited:
        client.get(f"{server.url}/status/429")
    assert limited.value.retry_after == 7
    with pytest.raises(BadResponseError, match="HTTP 400"):
        client.get(f"{server.url}/status/400")
    assert client.get(f"{server.url}/ok/after") == b"after"
    assert server.connections == 1  # error answers leave the connection usable


def test_a_body_cut_short_or_a_hang_is_unavailable_and_the_next_request_reconnects(server, client):
    with pytest.raises(UnavailableError, match=r"body cut short \(10 of 100 bytes\)"):
        client.get(f"{server.url}/cut")
    with pytest.raises(UnavailableError, match=r"timed out after 0\.5 s"):
        client.get(f"{server.url}/hang")
    assert client.get(f"{server.url}/ok/fine") == b"fine"
    assert server.connections == 3


def test_redirects_are_followed(server, client):
    assert client.get(f"{server.url}/redirect") == b"moved"


def test_a_proxy_from_the_environment_is_used(server):
    # a process of its own: urllib reads the proxy settings once, when first used
    environment = {**os.environ, "http_proxy": server.url, "no_proxy": ""}
    ask = "from barlake.sources.dukascopy_http import KeepAliveClient as C; "
    ask += "print(C(5).get('http://datafeed.example/EURUSD').decode())"
    done = subprocess.run(
        [sys.executable, "-c", ask], env=environment, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "via proxy"
    assert server.lines == ["GET http://datafeed.example/EURUSD HTTP/1.1"]
