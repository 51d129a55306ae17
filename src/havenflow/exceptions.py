"""The havenflow error hierarchy.

::

    HavenflowError
    ├── DataValidationError (also a ValueError)   bad file, column, date or value
    │   └── InsufficientDataError                  too few observations or events
    ├── UnknownSeriesError (also a KeyError)       an id that is neither in the catalog nor stored
    ├── SourceError                                a live source failed (source, symbol, URL)
    └── StoreError                                 the embedded database could not be used
        └── StoreBusyError                         another process holds the store's write lock

Every message says what was expected and what came, with the file, line, column or date
where it applies.
"""

from __future__ import annotations

import re

__all__ = [
    "DataValidationError",
    "DataWarning",
    "HavenflowError",
    "InsufficientDataError",
    "SourceError",
    "StoreBusyError",
    "StoreError",
    "UnknownSeriesError",
]


#: The longest message any havenflow error carries (a hostile input cannot make it longer).
MAX_ERROR_CHARS = 2000


class HavenflowError(Exception):
    """Base class of every error havenflow raises on purpose.

    Its message is one line: line breaks and other control characters an input put into it
    (a column name, a file name, a server's text) are shown escaped, and it is bounded to
    :data:`MAX_ERROR_CHARS`.
    """

    def __init__(self, *args: object) -> None:
        if args and isinstance(args[0], str):
            args = (_one_line(args[0]), *args[1:])
        super().__init__(*args)


def _one_line(message: str) -> str:
    if any(ord(c) < 32 or c == "\x7f" for c in message):
        message = "".join(c if ord(c) >= 32 and c != "\x7f" else repr(c)[1:-1] for c in message)
    if len(message) > MAX_ERROR_CHARS:
        message = message[: MAX_ERROR_CHARS - 3] + "..."
    return message


class DataValidationError(HavenflowError, ValueError):
    """Input data is malformed: unparseable dates, duplicates, non-numeric or impossible values."""


class InsufficientDataError(DataValidationError):
    """There are too few observations (or events) for the requested computation."""


class UnknownSeriesError(HavenflowError, KeyError):
    """A series id that is neither in the catalog nor in the store nor in user data."""

    def __str__(self) -> str:
        # KeyError quotes its argument; we want the plain message.
        return str(self.args[0]) if self.args else ""


#: An API key in a URL or a message (redacted wherever text leaves a source).
API_KEY_PATTERN = re.compile(r"((?:api_?key|apikey)=)[^&\s\"')]+", re.IGNORECASE)


#: The longest message a source error carries (before its source, symbol and URL).
MAX_MESSAGE = 400


class SourceError(HavenflowError):
    """A live data source failed.

    Parameters
    ----------
    message
        What went wrong.
    source
        The source name (``fred``, ``yahoo``, ``coinbase``, ``stooq``).
    symbol
        The provider's symbol that was requested.
    url
        The URL of the failing request, when there was one.
    status
        The HTTP status code, when there was a response.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str,
        symbol: str,
        url: str | None = None,
        status: int | None = None,
    ) -> None:
        if url is not None:
            # Every URL in a message is redacted here, whoever raised it: an API key never
            # reaches a message, a log line, the update table or --json.
            url = API_KEY_PATTERN.sub(r"\1***", url)
        self.source = source
        self.symbol = symbol
        self.url = url
        self.status = status
        # A URL quoted inside an upstream error is redacted too; an upstream message
        # (a parser's advice, a server's page) is folded onto one bounded line.
        message = " ".join(API_KEY_PATTERN.sub(r"\1***", message).split())
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 3] + "..."
        where = f"{source} {symbol!r}"
        if status is not None:
            where += f", HTTP {status}"
        if url is not None:
            where += f", {url}"
        super().__init__(f"{message} ({where})")


class SourceUnreachableError(SourceError):
    """A source's host could not be reached (no DNS answer, connection refused): not retried."""


class RateLimitedError(SourceError):
    """A source answered 429 and asked for a wait longer than the retry policy allows.

    The rest of the update does not ask it again (its cool-down); the next source is tried.
    """


class SourceNotConfiguredError(SourceError):
    """A source needs something the user has not set (an API key): it was not contacted."""


class NoNetworkError(HavenflowError):
    """No source of an update could be reached: the machine is offline (nothing was written)."""


class StoreError(HavenflowError):
    """The embedded DuckDB store could not be opened, read or written."""


class StoreBusyError(StoreError):
    """Another process is writing to the store; try again when it has finished."""


class DataWarning(UserWarning):
    """Input was usable but was changed on the way in (for example re-sorted)."""
