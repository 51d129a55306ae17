"""The source protocol, the retry loop shared by every source, and source selection."""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol, TypeVar

import httpx
import numpy as np
import pandas as pd

from havenflow import __version__
from havenflow.catalog import SourceRef
from havenflow.exceptions import SourceError, SourceNotConfiguredError, SourceUnreachableError

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
        Per-request timeout in seconds.
    """

    attempts: int = 4
    backoff: float = 0.5
    max_delay: float = 30.0
    timeout: float = 20.0


def default_client(timeout: float = 20.0) -> httpx.Client:
    """An :class:`httpx.Client` with havenflow's agent string and timeouts."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT, "Accept": "*/*"},
        follow_redirects=True,
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
    parsed = httpx.URL(str(url))
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
                response = self.client.get(url, params=params, timeout=self.policy.timeout)
            except httpx.TimeoutException as exc:
                last = self._error(f"request timed out ({type(exc).__name__})", symbol, url)
            except httpx.ConnectError as exc:
                # No DNS answer or a refused connection: retrying in a second will not help,
                # and an offline update must fail in seconds, not minutes.
                raise SourceUnreachableError(
                    f"cannot reach {httpx.URL(url).host}: {exc}",
                    source=self.name,
                    symbol=symbol,
                    url=_redact(url),
                ) from None
            except httpx.TransportError as exc:
                last = self._error(f"network error: {exc}", symbol, url)
            else:
                status = response.status_code
                if status == 429 or status >= 500:
                    retry_after = _retry_after_seconds(response, self.now)
                    reason = "rate limited" if status == 429 else "server error"
                    last = self._error(reason, symbol, response.url, status)
                elif status >= 400:
                    raise self._error(
                        f"request refused: {_short_body(response)}", symbol, response.url, status
                    )
                else:
                    try:
                        return parse(response)
                    except RetryableSourceError as exc:
                        last = exc
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
    **kwargs: object,
) -> tuple[pd.DataFrame, SourceRef]:
    """Try each source in order; return the first success and the source that gave it.

    ``unreachable`` (source name -> why) is shared across the series of one update: a source
    whose host could not be reached is not tried again, and is added to it here.

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
    failures: list[str] = []
    reached = False
    for ref in refs:
        if ref.source in down:
            failures.append(f"{ref.source}: not tried ({down[ref.source]})")
            continue
        try:
            source = make_source(ref.source, client, **kwargs)
            return _fetch(source, ref.symbol, start, end), ref
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
