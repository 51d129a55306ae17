"""Sources against a real HTTP server on 127.0.0.1: plain httpx and the browser-like transport.

Redirects, trickling bodies, gzip and rate limits cross a real socket here (the mock
transport elsewhere cannot show that the size cap and the deadline hold on a real stream).
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx
import pytest

from havenflow.data.sources import fred
from havenflow.data.sources.base import RetryPolicy, fetch_with_fallback, make_source
from havenflow.data.sources.impersonate import BrowserTransport, impersonation_available
from havenflow.exceptions import RateLimitedError, SourceError, SourceUnreachableError

CSV = b"observation_date,DFII10\n2026-01-20,1.90\n2026-01-21,.\n2026-01-22,1.92\n"


class Handler(BaseHTTPRequestHandler):
    """Answers by path; records each request's User-Agent."""

    agents: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        Handler.agents.append(self.headers.get("User-Agent", ""))
        path = self.path.split("?")[0]
        if path == "/csv":
            self._send(200, CSV, {"Content-Type": "text/csv"})
        elif path == "/gzip":
            self._send(200, gzip.compress(CSV), {"Content-Encoding": "gzip"})
        elif path == "/same-host":
            self._send(302, b"", {"Location": "/csv"})
        elif path == "/other-host":
            port = self.server.server_address[1]
            self._send(302, b"", {"Location": f"http://localhost:{port}/csv"})
        elif path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.end_headers()
            self.wfile.write(b"observation_date,DFII10\n")
            for _ in range(40):  # bounded: 40 rows over about 2 s
                try:
                    self.wfile.write(b"2026-01-20,1.9\n")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.05)
        elif path == "/limited":
            self._send(429, b"slow down", {"Retry-After": "3600"})
        elif path == "/big":
            self._send(200, b"observation_date,DFII10\n" + b"2026-01-20,1.9\n" * 200_000, {})
        else:
            self._send(404, b"no such page", {})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


CLIENTS = ["httpx"] + (["browser"] if impersonation_available() else [])


def _client(kind: str) -> httpx.Client:
    if kind == "browser":
        return httpx.Client(transport=BrowserTransport())
    return httpx.Client()


def _fred(kind: str, **policy: float):  # type: ignore[no-untyped-def]
    return make_source(
        "fred",
        _client(kind),
        sleep=lambda s: None,
        now=lambda: datetime(2026, 1, 24, tzinfo=UTC),
        policy=RetryPolicy(attempts=2, backoff=0.0, timeout=5.0, **policy),  # type: ignore[arg-type]
    )


@pytest.fixture(autouse=True)
def _no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRED_API_KEY", raising=False)


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("path", ["/csv", "/gzip", "/same-host"])
def test_a_clean_answer_over_a_real_socket(
    server: str, kind: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fred, "CSV_URL", server + path)
    frame = _fred(kind).fetch("DFII10", None, None)  # type: ignore[attr-defined]
    assert frame["value"].tolist() == [1.90, 1.92]


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_redirect_to_another_host_is_refused(
    server: str, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fred, "CSV_URL", server + "/other-host")
    with pytest.raises(SourceError, match=r"redirected to another host \(localhost\)"):
        _fred(kind).fetch("DFII10", None, None)  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_trickling_body_meets_the_deadline(
    server: str, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fred, "CSV_URL", server + "/trickle")
    started = time.monotonic()
    with pytest.raises(SourceError, match="timed out"):
        _fred(kind, deadline=0.3).fetch("DFII10", None, None)  # type: ignore[attr-defined]
    assert time.monotonic() - started < 3  # two attempts of 0.3 s, not 2 s each


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_body_over_the_cap_is_refused(
    server: str, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fred, "CSV_URL", server + "/big")
    with pytest.raises(SourceError, match="larger than 1 MB"):
        _fred(kind, max_bytes=1_000_000).fetch("DFII10", None, None)  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_closed_port_is_unreachable_at_once(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(fred, "CSV_URL", f"http://127.0.0.1:{port}/csv")
    with pytest.raises(SourceUnreachableError, match=r"cannot reach 127\.0\.0\.1"):
        _fred(kind).fetch("DFII10", None, None)  # type: ignore[attr-defined]


def test_a_long_retry_after_cools_the_source_down_for_the_update(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from havenflow.catalog import SourceRef

    monkeypatch.setattr(fred, "CSV_URL", server + "/limited")
    slept: list[float] = []
    cooling: dict[str, str] = {}
    options = {"sleep": slept.append, "policy": RetryPolicy(attempts=4, max_delay=30.0)}
    with httpx.Client() as client:
        with pytest.raises(SourceError, match="every source failed") as info:
            fetch_with_fallback(
                [SourceRef("fred", "DFII10")], None, None, client, cooling=cooling, **options
            )
        assert "asked to wait 3600 s" in str(info.value)
        assert slept == []  # no hour-long sleep, no second try
        assert "fred" in cooling
        # The next series of the same update does not ask it again.
        before = len(Handler.agents)
        with pytest.raises(SourceError, match="not tried \\(cooling down"):
            fetch_with_fallback(
                [SourceRef("fred", "DGS10")], None, None, client, cooling=cooling, **options
            )
        assert len(Handler.agents) == before


def test_rate_limited_error_is_a_source_error() -> None:
    assert issubclass(RateLimitedError, SourceError)


@pytest.mark.skipif(not impersonation_available(), reason="curl_cffi is not installed")
def test_the_browser_transport_sends_a_browsers_user_agent(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fred, "CSV_URL", server + "/csv")
    _fred("browser").fetch("DFII10", None, None)  # type: ignore[attr-defined]
    assert "Mozilla/5.0" in Handler.agents[-1]
    assert "python-httpx" not in Handler.agents[-1]
    _fred("httpx").fetch("DFII10", None, None)  # type: ignore[attr-defined]
    assert "python-httpx" in Handler.agents[-1]


def test_impersonation_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from havenflow.data.sources.impersonate import browser_client

    monkeypatch.setenv("HAVENFLOW_YAHOO_IMPERSONATE", "0")
    assert browser_client() is None
