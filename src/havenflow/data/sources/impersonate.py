"""A browser-like TLS transport for httpx, for providers that refuse scripts' handshakes.

Since 2025 Yahoo Finance answers clients whose TLS handshake does not look like a browser's
with errors (yfinance moved to ``curl_cffi`` for that reason: its issues 2422 and 2449).
:class:`BrowserTransport` sends httpx's requests through ``curl_cffi`` impersonating Chrome, so
the sources keep one protocol (an :class:`httpx.Client`) and every check of
:class:`~havenflow.data.sources.base.HttpSource` (same-host redirects, size cap, deadline,
redacted keys) applies unchanged. ``curl_cffi`` is an optional extra
(``pip install 'havenflow[yahoo]'``); without it Yahoo is asked over plain httpx, and
``HAVENFLOW_YAHOO_IMPERSONATE=0`` turns impersonation off.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from typing import Any

import httpx

__all__ = ["BrowserTransport", "browser_client", "impersonation_available"]

#: The browser whose handshake is imitated (a curl_cffi target name).
BROWSER = "chrome"


def impersonation_available() -> bool:
    """Whether ``curl_cffi`` is installed and impersonation is not turned off."""
    if os.environ.get("HAVENFLOW_YAHOO_IMPERSONATE", "1").strip() in {"0", "false", "no"}:
        return False
    return importlib.util.find_spec("curl_cffi") is not None


class _CurlStream(httpx.SyncByteStream):
    """The body of a streamed curl_cffi response, read chunk by chunk.

    The caller's size cap and deadline apply while it arrives.
    """

    def __init__(self, response: Any) -> None:
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._response.iter_content()
        except Exception as exc:  # curl's read errors, as httpx's
            raise httpx.ReadError(f"curl: {exc}") from exc

    def close(self) -> None:
        self._response.close()


class BrowserTransport(httpx.BaseTransport):
    """An httpx transport over ``curl_cffi`` with a browser's TLS and HTTP/2 fingerprint.

    Redirects are returned, not followed (the source decides whether to follow them), and
    bodies are streamed, already decompressed by curl.
    """

    def __init__(self, browser: str = BROWSER) -> None:
        from curl_cffi import requests as curl_requests

        self._session: Any = curl_requests.Session(impersonate=browser)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through curl_cffi; map its errors onto httpx's."""
        from curl_cffi.requests import exceptions as curl_errors

        timeout = request.extensions.get("timeout", {})
        seconds = timeout.get("read") or timeout.get("connect") or 30.0
        # curl sends the browser's own User-Agent and encodings: httpx's would give it away.
        own = {"host", "user-agent", "accept-encoding", "connection"}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in own}
        try:
            response = self._session.request(
                request.method,
                str(request.url),
                headers=headers,
                data=request.content or None,
                timeout=seconds,
                allow_redirects=False,
                stream=True,
            )
        except curl_errors.Timeout as exc:
            raise httpx.ReadTimeout(f"curl: {exc}", request=request) from exc
        except (curl_errors.DNSError, curl_errors.ConnectionError) as exc:
            # "Could not resolve host" / "Couldn't connect": worded as the OS says it, so the
            # source recognises an unreachable host and does not retry it.
            text = str(exc)
            if "resolve" in text.lower():
                text = f"Name or service not known ({text})"
            elif "connect" in text.lower():
                text = f"Connection refused ({text})"
            raise httpx.ConnectError(text, request=request) from exc
        except curl_errors.RequestException as exc:
            raise httpx.TransportError(f"curl: {exc}") from exc
        from havenflow.data.sources.base import decoded_headers

        # curl has already decoded the body.
        return httpx.Response(
            response.status_code,
            headers=decoded_headers(response.headers),
            stream=_CurlStream(response),
            request=request,
        )

    def close(self) -> None:
        """Close curl's session."""
        self._session.close()


def browser_client(timeout: float = 20.0) -> httpx.Client | None:
    """An httpx client over :class:`BrowserTransport`, or ``None`` without ``curl_cffi``."""
    if not impersonation_available():
        return None
    return httpx.Client(transport=BrowserTransport(), timeout=timeout)
