"""The source protocol, the retry loop shared by every source, and source selection."""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol, TypeVar

import httpx
import numpy as np
import pandas as pd

from havenflow import __version__
from havenflow.catalog import SourceRef
from havenflow.data.validate import EARLIEST_DATE, MAX_MAGNITUDE
from havenflow.exceptions import (
    API_KEY_PATTERN,
    RateLimitedError,
    SourceError,
    SourceNotConfiguredError,
    SourceUnreachableError,
)

__all__ = [
    "HttpSource",
    "RetryPolicy",
    "RetryableSourceError",
    "Source",
    "default_client",
    "fetch_with_fallback",
    "make_source",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Some providers answer 403/429 to clients without a browser-like agent string.
USER_AGENT = (
    f"Mozilla/5.0 (compatible; havenflow/{__version__}; +https://pypi.org/project/havenflow)"
)


class RetryableSourceError(SourceError):
    """A fault worth retrying: a truncated or garbled body that a second try may fix."""


class Source(Protocol):
    """What every live source provides."""

    name: str

    def fetch(self, symbol: str, start: date | None, end: date | None) -> pd.DataFrame:
        """Return observations between ``start`` and ``end`` (inclusive; ``None`` = open).

        The frame has columns ``date`` (datetime64, midnight) and ``value`` (float), sorted,
        with complete periods only (no intraday bar of a day that has not closed).
        """
        ...


@dataclass(frozen=True)
class RetryPolicy:
    """How a source retries transient faults.

    Attributes
    ----------
    attempts
        Total tries, the first included.
    backoff
        Base delay in seconds; try ``n`` waits ``backoff * 2**(n-1)`` plus jitter.
    max_delay
        Cap on one wait, ``Retry-After`` included.
    timeout
        Per-request timeout in seconds (connect, and between two chunks of the body).
    deadline, max_bytes, max_redirects
        Limits of one attempt: total seconds, body size, same-host redirects.
    """

    attempts: int = 4
    backoff: float = 0.5
    max_delay: float = 30.0
    timeout: float = 20.0
    #: Wall-clock limit on one attempt, body included (a trickling body cannot beat it).
    deadline: float = 60.0
    #: Largest body accepted, after decompression (a gzip bomb is refused, not retried).
    max_bytes: int = 64 * 1024 * 1024
    #: Redirects followed within the same host; one to another host is refused.
    max_redirects: int = 5


class _RedactKeys(logging.Filter):
    """Strips API keys from the URLs httpx logs (``-v`` shows every request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _redact(str(a)) if isinstance(a, httpx.URL) or API_KEY_PATTERN.search(str(a)) else a
                for a in record.args
            )
        if isinstance(record.msg, str) and API_KEY_PATTERN.search(record.msg):
            record.msg = API_KEY_PATTERN.sub(r"\1***", record.msg)
        return True


#: Connection errors that say the host cannot be reached at all (not a passing failure).
_UNREACHABLE = re.compile(
    r"not known|nodename nor servname|no address associated|connection refused|errno 111"
    r"|network is unreachable",
    re.IGNORECASE,
)
_REDACTOR = _RedactKeys()


def _redact_httpx_logs() -> None:
    for name in ("httpx", "httpcore"):
        log = logging.getLogger(name)
        if _REDACTOR not in log.filters:
            log.addFilter(_REDACTOR)


def default_client(timeout: float = 20.0) -> httpx.Client:
    """An :class:`httpx.Client` with havenflow's agent string and timeouts.

    Redirects are followed by :meth:`HttpSource.request` itself (same host only).
    """
    _redact_httpx_logs()
    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT, "Accept": "*/*"},
        follow_redirects=False,
    )


def _retry_after_seconds(response: httpx.Response, now: Callable[[], datetime]) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now()).total_seconds())


def _redact(url: httpx.URL | str) -> str:
    """Drop secrets (API keys) from a URL before it goes into a message or a log."""
    try:
        parsed = httpx.URL(str(url))
    except (httpx.InvalidURL, TypeError, ValueError):
        return API_KEY_PATTERN.sub(r"\1***", str(url))
    params = [
        (k, "***" if k.lower() in {"api_key", "apikey"} else v)
        for k, v in parsed.params.multi_items()
    ]
    return str(parsed.copy_with(params=params))


def looks_like_html(response: httpx.Response) -> bool:
    """Whether a body that should be data is an HTML page (error, consent or login page)."""
    ctype = response.headers.get("Content-Type", "").lower()
    head = response.content[:512].lstrip().lower()
    return "text/html" in ctype or head.startswith((b"<!doctype html", b"<html", b"<"))


@dataclass
class HttpSource:
    """Base of the HTTP sources: requests with retries, backoff with jitter, and clear errors.

    Parameters
    ----------
    client
        The injected HTTP client (tests pass one over :class:`httpx.MockTransport`).
    policy
        Retry policy.
    sleep
        Called with the number of seconds to wait between tries (tests pass a recorder).
    now
        The current time, timezone-aware (tests freeze it).
    seed
        Seed of the jitter.
    """

    client: httpx.Client
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    seed: int | None = None
    name: str = "http"
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        _redact_httpx_logs()

    def _error(
        self, message: str, symbol: str, url: httpx.URL | str | None, status: int | None = None
    ) -> SourceError:
        return SourceError(
            message,
            source=self.name,
            symbol=symbol,
            url=None if url is None else _redact(url),
            status=status,
        )

    def _json(self, response: httpx.Response, symbol: str) -> Any:
        """The body as JSON: an HTML page is refused, a cut-off body retried."""
        if looks_like_html(response):
            raise self._error("served an HTML page instead of JSON", symbol, response.url)
        try:
            return json.loads(response.text)
        except json.JSONDecodeError as exc:
            raise RetryableSourceError(
                f"truncated or invalid JSON body ({exc.msg} at {exc.pos})",
                source=self.name,
                symbol=symbol,
                url=str(response.url),
            ) from exc

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.policy.max_delay)
        base = self.policy.backoff * 2.0 ** (attempt - 1)
        # Full jitter on top of the exponential step keeps parallel clients from synchronising.
        return min(base + self._rng.uniform(0, base), self.policy.max_delay)

    def request(
        self,
        url: str,
        symbol: str,
        parse: Callable[[httpx.Response], T],
        params: dict[str, str] | None = None,
    ) -> T:
        """GET ``url`` and parse it, retrying transient faults.

        Retried: timeouts and connection errors, 429 (honouring ``Retry-After``), 5xx, and
        bodies that ``parse`` reports as truncated (:class:`RetryableSourceError`). Not retried:
        other 4xx, HTML served instead of data, unknown symbols, schema changes.

        Raises
        ------
        SourceError
            Naming the source, symbol, URL (API keys redacted) and status.
        """
        last: SourceError | None = None
        for attempt in range(1, self.policy.attempts + 1):
            retry_after: float | None = None
            try:
                response = self._get(url, symbol, params)
            except httpx.TimeoutException as exc:
                last = self._error(f"request timed out ({type(exc).__name__})", symbol, url)
            except httpx.ConnectError as exc:
                if not _UNREACHABLE.search(str(exc)):
                    # A temporary DNS failure or a TLS handshake error: worth another try.
                    last = self._error(f"network error: {exc}", symbol, url)
                    if attempt < self.policy.attempts:
                        self.sleep(self._delay(attempt, None))
                    continue
                # No such host or a refused connection: retrying in a second will not help,
                # and an offline update must fail in seconds, not minutes.
                raise SourceUnreachableError(
                    f"cannot reach {httpx.URL(url).host}: {exc}",
                    source=self.name,
                    symbol=symbol,
                    url=_redact(url),
                ) from None
            except httpx.TransportError as exc:
                last = self._error(f"network error: {exc}", symbol, url)
            except httpx.HTTPError as exc:
                # A body that cannot be decoded (bad gzip), a malformed redirect: the next
                # attempt may get a clean copy.
                last = self._error(f"bad response: {type(exc).__name__}: {exc}", symbol, url)
            else:
                status = response.status_code
                if status == 429 or status >= 500:
                    retry_after = _retry_after_seconds(response, self.now)
                    reason = "rate limited" if status == 429 else "server error"
                    last = self._error(reason, symbol, response.url, status)
                    if status == 429 and (
                        attempt == self.policy.attempts
                        or (retry_after is not None and retry_after > self.policy.max_delay)
                    ):
                        # Asked to wait longer than we would, or still limited after every
                        # try: stop asking (the update cools this source down).
                        asked = (
                            "" if retry_after is None else f"; asked to wait {retry_after:.0f} s"
                        )
                        raise RateLimitedError(
                            f"rate limited{asked}: not asked again in this update",
                            source=self.name,
                            symbol=symbol,
                            url=_redact(response.url),
                            status=status,
                        )
                elif status >= 400:
                    raise self._error(
                        f"request refused: {_short_body(response)}", symbol, response.url, status
                    )
                else:
                    try:
                        return self._checked(parse(response), symbol, response.url)
                    except RetryableSourceError as exc:
                        last = exc
                    except SourceError:
                        raise
                    except Exception as exc:  # noqa: BLE001 - the network boundary
                        # A body of an odd shape (a list where a dict was, a null, a number
                        # no date can hold, an unknown time zone): the provider's data, not a
                        # bug of ours, so one clear SourceError, never a traceback.
                        raise self._error(
                            f"unexpected response ({type(exc).__name__}: {str(exc)[:160]})",
                            symbol,
                            response.url,
                            status,
                        ) from None
            if attempt < self.policy.attempts:
                wait = self._delay(attempt, retry_after)
                logger.warning(
                    "%s %s: %s; retry %d/%d in %.1fs",
                    self.name,
                    symbol,
                    last,
                    attempt,
                    self.policy.attempts - 1,
                    wait,
                )
                self.sleep(wait)
        assert last is not None
        raise self._error(
            f"gave up after {self.policy.attempts} attempts; last error: {last}",
            symbol,
            last.url or url,
            last.status,
        )

    def _get(self, url: str, symbol: str, params: dict[str, str] | None) -> httpx.Response:
        """One attempt: same-host redirects only, the body capped in size and in time."""
        started = time.monotonic()
        current = httpx.URL(url, params=params)
        origin = current.host
        for _ in range(self.policy.max_redirects + 1):
            with self.client.stream(
                "GET", current, timeout=self.policy.timeout, follow_redirects=False
            ) as response:
                if response.is_redirect:
                    target = current.join(response.headers.get("Location", ""))
                    if target.host != origin:
                        raise self._error(
                            f"redirected to another host ({target.host}): refused",
                            symbol,
                            current,
                            response.status_code,
                        )
                    current = target
                    continue
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.policy.max_bytes:
                        raise self._error(
                            f"response larger than {self.policy.max_bytes / 1e6:.0f} MB "
                            "(decompressed): refused",
                            symbol,
                            current,
                            response.status_code,
                        )
                    if time.monotonic() - started > self.policy.deadline:
                        raise httpx.ReadTimeout(
                            f"the body took more than {self.policy.deadline:g} s"
                        )
                return httpx.Response(
                    response.status_code,
                    headers=decoded_headers(response.headers),
                    content=bytes(body),
                    request=response.request,
                )
        raise self._error(
            f"more than {self.policy.max_redirects} redirects: refused", symbol, current
        )

    def _checked(self, frame: T, symbol: str, url: httpx.URL) -> T:
        """A parsed frame's values and dates, refused when no market could have printed them."""
        if not isinstance(frame, pd.DataFrame) or frame.empty:
            return frame
        values = frame["value"].to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (np.abs(values) >= MAX_MAGNITUDE)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise self._error(
                f"{int(bad.sum())} non-finite or absurd values (first: {values[i]!r} on "
                f"{pd.Timestamp(frame['date'].iloc[i]).date()}): refused",
                symbol,
                url,
            )
        dates = pd.DatetimeIndex(frame["date"])
        latest = pd.Timestamp(self.now()).tz_localize(None) + pd.Timedelta(days=2)
        if dates.min() < EARLIEST_DATE or dates.max() > latest:
            raise self._error(
                f"dates outside {EARLIEST_DATE.date()}..today ({dates.min()} to "
                f"{dates.max()}): refused",
                symbol,
                url,
            )
        return frame


def decoded_headers(headers: httpx.Headers | Any) -> list[tuple[str, str]]:
    """Headers of a body already decoded: no encoding, length or transfer coding claimed."""
    return [
        (k, v)
        for k, v in headers.multi_items()
        if k.lower() not in {"content-encoding", "content-length", "transfer-encoding"}
    ]


def _short_body(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:200] if text else "(empty body)"


def frame_from_pairs(
    dates: pd.DatetimeIndex | list[pd.Timestamp], values: np.ndarray | list[float]
) -> pd.DataFrame:
    """Build the canonical ``date``/``value`` frame, sorted by date."""
    frame = pd.DataFrame(
        {"date": pd.DatetimeIndex(dates).as_unit("ns").normalize(), "value": values}
    )
    frame["value"] = frame["value"].astype(float)
    return frame.sort_values("date", kind="stable").reset_index(drop=True)


def clip_dates(frame: pd.DataFrame, start: date | None, end: date | None) -> pd.DataFrame:
    """Keep rows with ``start <= date <= end``."""
    mask = pd.Series(True, index=frame.index)
    if start is not None:
        mask &= frame["date"] >= pd.Timestamp(start)
    if end is not None:
        mask &= frame["date"] <= pd.Timestamp(end)
    return frame.loc[mask].reset_index(drop=True)


def make_source(name: str, client: httpx.Client, **kwargs: object) -> HttpSource:
    """Instantiate the source called ``name`` over ``client``."""
    from havenflow.data.sources import coinbase, fred, stooq, yahoo

    classes: dict[str, type[HttpSource]] = {
        "fred": fred.FredSource,
        "yahoo": yahoo.YahooSource,
        "coinbase": coinbase.CoinbaseSource,
        "stooq": stooq.StooqSource,
    }
    if name not in classes:
        raise SourceError(
            f"no such source {name!r}; known: {sorted(classes)}", source=name, symbol=""
        )
    return classes[name](client, **kwargs)  # type: ignore[arg-type]


def _fetch(source: HttpSource, symbol: str, start: date | None, end: date | None) -> pd.DataFrame:
    # Every concrete HttpSource implements the Source protocol's fetch.
    fetch: Callable[[str, date | None, date | None], pd.DataFrame] = source.fetch  # type: ignore[attr-defined]
    return fetch(symbol, start, end)


def fetch_with_fallback(
    refs: Sequence[SourceRef],
    start: date | None,
    end: date | None,
    client: httpx.Client,
    *,
    unreachable: dict[str, str] | None = None,
    clients: Mapping[str, httpx.Client] | None = None,
    cooling: dict[str, str] | None = None,
    **kwargs: object,
) -> tuple[pd.DataFrame, SourceRef]:
    """Try each source in order; return the first success and the source that gave it.

    ``unreachable`` (source name -> why) is shared across the series of one update: a source
    whose host could not be reached is not tried again, and is added to it here. ``cooling``
    does the same for a source that rate-limited us (429): its cool-down lasts the update.
    ``clients`` gives a source its own HTTP client (Yahoo's browser-like transport).

    Raises
    ------
    SourceUnreachableError
        When no source could be reached at all.
    SourceError
        When every source failed; the message lists each failure.
    """
    if not refs:
        raise SourceError("the series has no live source", source="none", symbol="")
    down = unreachable if unreachable is not None else {}
    cool = cooling if cooling is not None else {}
    failures: list[str] = []
    reached = False
    for ref in refs:
        if ref.source in down:
            failures.append(f"{ref.source}: not tried ({down[ref.source]})")
            continue
        if ref.source in cool:
            reached = True  # it answered, with a 429: the network is there
            failures.append(f"{ref.source}: not tried (cooling down after: {cool[ref.source]})")
            continue
        try:
            source = make_source(ref.source, (clients or {}).get(ref.source, client), **kwargs)
            return _fetch(source, ref.symbol, start, end), ref
        except RateLimitedError as exc:
            reached = True
            cool[ref.source] = str(exc).split(" (")[0]
            logger.warning("%s", exc)
            failures.append(str(exc))
        except SourceUnreachableError as exc:
            down[ref.source] = str(exc)
            failures.append(str(exc))
        except SourceNotConfiguredError as exc:
            failures.append(str(exc))  # never contacted: says nothing about the network
        except SourceError as exc:
            reached = True
            logger.warning("%s", exc)
            failures.append(str(exc))
    cls = SourceError if reached else SourceUnreachableError
    raise cls(
        "every source failed: " + " | ".join(failures), source=refs[0].source, symbol=refs[0].symbol
    )
