"""Security of the dashboard: which Host headers it answers, and the headers of every response.

- **Host allowlist** (against DNS rebinding: a page on another site whose name resolves to
  127.0.0.1 must not read the dashboard): loopback names plus what ``havenflow serve --host``
  binds and ``--allow-host`` names; any other Host gets 400 (Starlette's
  ``TrustedHostMiddleware``).
- **Headers on every response** (:class:`SecurityHeaders`): ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: no-referrer`` and a Content-Security-Policy. JSON and assets get
  ``default-src 'none'``. HTML pages get :func:`page_csp`: scripts from this origin only plus
  the exact inline scripts of that page, allowed by their SHA-256 hash (the dashboard's plotly
  calls, Swagger UI's start-up call), never ``'unsafe-inline'`` for scripts; styles allow
  ``'unsafe-inline'`` because plotly, Swagger UI and Redoc inject style elements; no page may
  be framed (``frame-ancestors 'none'``).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["LOOPBACK_HOSTS", "SecurityHeaders", "allowed_hosts_for", "page_csp"]

#: Host names the dashboard always answers to.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")

#: The policy of every response that is not an HTML page (JSON, scripts, styles, images).
STRICT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

_INLINE_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S | re.I)
_SRC = re.compile(r"\bsrc\s*=", re.I)


def host_name(host: str) -> str:
    """``host`` as it appears in a Host header (IPv6 literals in brackets, lower case)."""
    host = host.strip().lower()
    try:
        if isinstance(ipaddress.ip_address(host.strip("[]")), ipaddress.IPv6Address):
            return f"[{host.strip('[]')}]"
    except ValueError:
        pass
    return host


def allowed_hosts_for(bind: str | None = None, extra: Iterable[str] = ()) -> list[str]:
    """The Host allowlist: loopback names, the bound host (unless a wildcard), ``extra``."""
    hosts = list(LOOPBACK_HOSTS)
    names = [bind] if bind and host_name(bind) not in ("0.0.0.0", "[::]") else []
    for name in [*names, *extra]:
        h = host_name(name)
        if h and h not in hosts:
            hosts.append(h)
    return hosts


def inline_script_hashes(html: str) -> list[str]:
    """CSP sources (``'sha256-...'``) of every inline script of ``html``."""
    out: list[str] = []
    for m in _INLINE_SCRIPT.finditer(html):
        if _SRC.search(m["attrs"]) or not m["body"]:
            continue
        digest = base64.b64encode(hashlib.sha256(m["body"].encode("utf-8")).digest()).decode()
        source = f"'sha256-{digest}'"
        if source not in out:
            out.append(source)
    return out


def page_csp(html: str, *, workers: bool = False) -> str:
    """The Content-Security-Policy of an HTML page: ``'self'`` plus its own inline scripts."""
    script = " ".join(["'self'", *inline_script_hashes(html)])
    parts = [
        "default-src 'self'",
        f"script-src {script}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    if workers:  # Redoc runs its search index in a worker built from a blob
        parts.append("worker-src 'self' blob:")
    return "; ".join(parts)


class SecurityHeaders:
    """ASGI middleware: the security headers on every response (a page's own CSP is kept)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the missing headers to the response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                defaults = (
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"content-security-policy", STRICT_CSP.encode()),
                )
                headers += [(k, v) for k, v in defaults if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
