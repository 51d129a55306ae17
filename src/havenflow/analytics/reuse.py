"""Reuse of pure computations whose inputs are identical, keyed by the inputs' content.

A verdict timeline judges a note at many dates. The expensive fits inside (the monthly
re-estimates of the phase HMM, the walk-forward outlook's forecast at every month end) see
exactly the same data at an origin whatever the later date the note is judged at, because
each is point-in-time. Inside :func:`reuse_fits` those computations are memoised on a
fingerprint of every input (array bytes, shapes, dtypes and options), so a step recomputes
only its new origins and the result is identical to a cold run by construction: a different
input is a different key. Outside it nothing is cached.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import numpy as np

__all__ = ["fingerprint", "reuse_fits", "reused"]

T = TypeVar("T")

_CACHE: ContextVar[dict[tuple[str, str], Any] | None] = ContextVar("havenflow_reuse", default=None)


def fingerprint(*parts: Any) -> str:
    """A digest of ``parts`` (anything but arrays, sequences and scalars is refused).

    Arrays enter by dtype, shape and bytes, tuples and lists item by item, scalars and strings
    by type and ``repr``: two inputs share a key only when they are the same values.
    """
    digest = hashlib.blake2b(digest_size=20)
    _feed(digest, parts)
    return digest.hexdigest()


def _feed(digest: Any, part: Any) -> None:
    # Containers recurse: ``repr`` of a numpy array elides its middle, so it is never used.
    if isinstance(part, np.ndarray):
        if part.dtype.hasobject:  # its bytes are pointers, not values
            raise TypeError("fingerprint: cannot key on an object array")
        a = np.ascontiguousarray(part)
        digest.update(f"nd:{a.dtype.str}:{a.shape}:".encode())
        digest.update(a.tobytes())
    elif isinstance(part, tuple | list):
        digest.update(f"seq:{type(part).__name__}:{len(part)}(".encode())
        for item in part:
            _feed(digest, item)
        digest.update(b")")
    elif part is None or isinstance(part, bool | int | float | str | np.generic):
        digest.update(f"py:{type(part).__name__}:{part!r}|".encode())
    else:
        raise TypeError(f"fingerprint: cannot key on a {type(part).__name__}")


@contextmanager
def reuse_fits() -> Iterator[dict[tuple[str, str], Any]]:
    """Within the block, :func:`reused` computations are memoised (nested blocks share one)."""
    if _CACHE.get() is not None:
        yield _CACHE.get()  # type: ignore[misc]
        return
    cache: dict[tuple[str, str], Any] = {}
    token = _CACHE.set(cache)
    try:
        yield cache
    finally:
        _CACHE.reset(token)


def reused(name: str, parts: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()``, memoised on ``(name, fingerprint(*parts))`` inside :func:`reuse_fits`.

    ``parts`` must hold every input ``compute`` reads; the value must not be mutated later.
    """
    cache = _CACHE.get()
    if cache is None:
        return compute()
    key = (name, fingerprint(*parts))
    if key not in cache:
        cache[key] = compute()
    return cache[key]  # type: ignore[no-any-return]
