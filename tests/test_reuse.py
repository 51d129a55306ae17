"""Reuse of identical fits: keys see every byte of the inputs; memoised only when asked."""

from __future__ import annotations

import numpy as np
import pytest

from havenflow.analytics.reuse import fingerprint, reuse_fits, reused


def test_fingerprints_see_every_byte_and_refuse_unknown_types() -> None:
    a = np.zeros(10_000)
    b = a.copy()
    b[5_000] = 1e-300  # repr() elides the middle of a long array: the digest must not
    assert fingerprint(a) != fingerprint(b)
    assert fingerprint(a, (1, 2.0)) == fingerprint(a.copy(), (1, 2.0))
    assert fingerprint(np.zeros(4)) != fingerprint(np.zeros(4, dtype=np.float32))
    assert fingerprint(np.zeros((2, 2))) != fingerprint(np.zeros(4))
    with pytest.raises(TypeError):
        fingerprint({"a": 1})


def test_reuse_memoises_only_inside_its_block() -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    reused("t", (np.ones(3),), compute)
    reused("t", (np.ones(3),), compute)
    assert len(calls) == 2
    with reuse_fits() as cache:
        assert reused("t", (np.ones(3),), compute) == 3
        assert reused("t", (np.ones(3),), compute) == 3
        assert reused("t", (np.ones(4),), compute) == 4
        assert len(cache) == 2
    reused("t", (np.ones(3),), compute)
    assert len(calls) == 5
