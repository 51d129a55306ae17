"""Where alerts go: a file of JSON lines, webhooks (POST JSON, signed), email over SMTP.

Each channel has a stable name (``file:PATH``, ``webhook:URL``, ``email:ADDRESS``): an alert
raised while a channel was configured stays pending for it until the channel acknowledges
it (a 2xx answer, an SMTP ``250``, a write flushed to disk), and every later run with that
channel retries it. So a failed delivery is never lost; a run killed after sending and before
recording the acknowledgement sends that alert once more, with the same ``Idempotency-Key``
(webhooks) or ``Message-ID`` (email), which lets the receiver drop the repeat.

Webhooks: ``POST`` of the alert's JSON, ``Content-Type: application/json``,
``Idempotency-Key: <alert_key>``, and with a secret ``X-Havenflow-Signature:
sha256=<hex HMAC-SHA256 of the body>``; up to 3 tries per run with exponential backoff on
connection errors, 429 and 5xx (a 4xx is the receiver's refusal: not retried in the run).
Only ``http`` and ``https`` URLs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

import httpx

from havenflow.exceptions import DataValidationError, HavenflowError

__all__ = [
    "Channel",
    "DeliveryError",
    "EmailChannel",
    "FileChannel",
    "WebhookChannel",
    "parse_smtp",
    "signature",
]


class DeliveryError(HavenflowError):
    """A channel did not acknowledge an alert (it stays pending for the next run).

    ``channel_down``: the channel could not be reached at all (no connection, a deadline
    passed), so the run stops using it; its other alerts wait for the next run.
    """

    def __init__(self, message: str, *, channel_down: bool = False) -> None:
        super().__init__(message)
        self.channel_down = channel_down


class Channel(Protocol):
    """Something an alert can be delivered to."""

    name: str

    def send(self, alert: dict[str, Any]) -> None:
        """Deliver one alert or raise :class:`DeliveryError`."""
        ...


def signature(secret: str, body: bytes) -> str:
    """The ``X-Havenflow-Signature`` value of ``body``: ``sha256=`` and the hex HMAC."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _body(alert: dict[str, Any]) -> bytes:
    return json.dumps(alert, sort_keys=True, default=str).encode()


@dataclass
class FileChannel:
    """Appends one JSON object per alert and line to ``path`` (flushed and synced)."""

    path: Path
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = f"file:{self.path}"

    def send(self, alert: dict[str, Any]) -> None:
        """Append the alert."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as out:
                out.write(_body(alert) + b"\n")
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise DeliveryError(f"cannot append to {self.path}: {exc.strerror}") from exc


@dataclass
class WebhookChannel:
    """POSTs each alert to ``url``, signed when a secret is given."""

    url: str
    secret: str | None = None
    client: httpx.Client | None = None
    attempts: int = 3
    backoff: float = 0.5
    timeout: float = 10.0
    #: Wall-clock limit on one alert's delivery, tries and waits included.
    deadline: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    name: str = field(init=False)

    def __post_init__(self) -> None:
        parsed = httpx.URL(self.url)
        if parsed.scheme not in {"http", "https"} or not parsed.host:
            raise DataValidationError(
                f"--webhook {self.url[:120]!r}: an http:// or https:// URL is needed"
            )
        self.name = f"webhook:{self.url}"

    def send(self, alert: dict[str, Any]) -> None:
        """POST the alert, retrying transient failures."""
        body = _body(alert)
        headers = {"Content-Type": "application/json", "Idempotency-Key": alert["alert_key"]}
        if self.secret:
            headers["X-Havenflow-Signature"] = signature(self.secret, body)
        client = self.client or httpx.Client(timeout=self.timeout)
        last = "no attempt"
        down = False
        started = time.monotonic()
        try:
            for attempt in range(1, self.attempts + 1):
                try:
                    response = client.post(self.url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    last, down = f"{type(exc).__name__}: {exc}", True
                else:
                    if response.is_success:
                        return
                    last, down = f"HTTP {response.status_code}", False
                    if response.status_code < 500 and response.status_code != 429:
                        break  # the receiver refused it: another try now will not help
                wait = self.backoff * 2 ** (attempt - 1)
                if attempt == self.attempts or time.monotonic() - started + wait > self.deadline:
                    down = down or time.monotonic() - started + wait > self.deadline
                    break
                self.sleep(wait)
        finally:
            if self.client is None:
                client.close()
        raise DeliveryError(f"webhook {httpx.URL(self.url).host}: {last}", channel_down=down)


def parse_smtp(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``HOST``, port 25) of an SMTP server."""
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "25")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise DataValidationError(f"--smtp {text[:80]!r}: expected HOST:PORT, e.g. 127.0.0.1:25")
    return host, int(port)


@dataclass
class EmailChannel:
    """Mails each alert to ``address`` through the SMTP server at ``host:port``.

    ``HAVENFLOW_SMTP_USER`` / ``HAVENFLOW_SMTP_PASSWORD`` log in (after STARTTLS when the
    server offers it); without them the server must accept the mail as it is.
    """

    address: str
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "havenflow@localhost"
    timeout: float = 10.0
    name: str = field(init=False)

    def __post_init__(self) -> None:
        if "@" not in self.address or any(c in self.address for c in " \r\n,;<>"):
            raise DataValidationError(f"--email {self.address[:80]!r}: not an email address")
        self.name = f"email:{self.address}"

    def send(self, alert: dict[str, Any]) -> None:
        """Send one mail; its Message-ID is derived from the alert key."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = self.address
        what = f"claim {alert['claim']}" if alert.get("claim") else alert["kind"]
        message["Subject"] = (
            f"havenflow: {alert['note']} {what}: {alert.get('previous')} -> {alert['current']}"
        )
        message["Message-ID"] = f"<{alert['alert_key']}@havenflow>"
        message.set_content(json.dumps(alert, indent=1, sort_keys=True, default=str))
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                user = os.environ.get("HAVENFLOW_SMTP_USER")
                if user:
                    smtp.ehlo()
                    if smtp.has_extn("starttls"):
                        smtp.starttls()
                    smtp.login(user, os.environ.get("HAVENFLOW_SMTP_PASSWORD", ""))
                smtp.send_message(message)
        except (OSError, smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected) as exc:
            raise DeliveryError(
                f"email to {self.address} via {self.host}:{self.port}: {exc}", channel_down=True
            ) from exc
        except smtplib.SMTPException as exc:
            raise DeliveryError(
                f"email to {self.address} via {self.host}:{self.port}: {exc}"
            ) from exc
