"""Time the data layer: load + align every bundled series, and upsert 1 million observations.

Run with ``make bench`` (or ``python benchmarks/data_layer.py``). Targets from the foundation
issue: loading and aligning all bundled series into one frame under 1 s on 2 cores.
Peer for the upsert: a naive pandas "read everything, concat, drop duplicates, write back"
cycle to Parquet, which is what a store-less tool does on every update.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from havenflow.catalog import load_catalog
from havenflow.data import embedded
from havenflow.data.align import align
from havenflow.data.store import ObservationBatch, Store


def timed(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def load_and_align() -> pd.DataFrame:
    embedded._all_embedded.cache_clear()  # cold read of the Parquet file every time
    ids = embedded.embedded_ids()
    catalog = load_catalog()
    series = {sid: embedded.embedded_series(sid) for sid in ids}
    return align(series, "B", specs={sid: catalog[sid] for sid in ids}, start="2000-01-01")


def pandas_peer_align() -> pd.DataFrame:
    # The usual approach: concat on the union of dates and forward-fill (which, unlike ours,
    # ignores publication lags and carries values forward without bound).
    embedded._all_embedded.cache_clear()
    ids = embedded.embedded_ids()
    series = {sid: embedded.embedded_series(sid) for sid in ids}
    frame = pd.concat(series, axis=1, sort=True).ffill()
    return frame.loc["2000-01-01":].asfreq("B")


def main() -> int:
    frame = load_and_align()
    t_ours = timed(load_and_align)
    t_peer = timed(pandas_peer_align)
    print(f"load + align {frame.shape[1]} bundled series onto {len(frame)} business days")
    print(f"  havenflow (point-in-time, bounded carry): {t_ours * 1e3:8.1f} ms")
    print(f"  pandas concat+ffill (no lags, unbounded): {t_peer * 1e3:8.1f} ms")
    print(f"  ratio ours/peer: {t_ours / t_peer:.2f}x")

    n = 1_000_000
    ids = list(load_catalog())[:10]
    per = n // len(ids)
    dates = pd.date_range("1700-01-01", periods=per, freq="D", name="date")
    rng = np.random.default_rng(0)
    catalog = load_catalog()
    batches = [
        ObservationBatch(catalog[sid], pd.Series(rng.uniform(1, 2, per), index=dates), "bench", "B")
        for sid in ids
    ]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.duckdb")
        t0 = time.perf_counter()
        store.write(batches)
        t_insert = time.perf_counter() - t0
        # Second write: every row is an update of an existing (series, date).
        t0 = time.perf_counter()
        store.write(batches)
        t_upsert = time.perf_counter() - t0
        # Incremental update: 10 new days per series on top of 1M stored rows.
        tail = [
            ObservationBatch(
                b.spec,
                pd.Series(1.5, index=pd.date_range(dates[-1], periods=11, freq="D")[1:]),
                "bench",
                "B",
            )
            for b in batches
        ]
        t0 = time.perf_counter()
        store.write(tail)
        t_incr = time.perf_counter() - t0

        parquet = Path(tmp) / "peer.parquet"
        long = pd.concat(
            [
                pd.DataFrame(
                    {"series_id": b.spec.id, "date": b.values.index, "value": b.values.to_numpy()}
                )
                for b in batches
            ]
        )
        long.to_parquet(parquet)
        t0 = time.perf_counter()
        old = pd.read_parquet(parquet)
        merged = pd.concat([old, long]).drop_duplicates(["series_id", "date"], keep="last")
        merged.to_parquet(parquet)
        t_peer_upsert = time.perf_counter() - t0
    print(f"store: {n:,} observations in {len(ids)} series (DuckDB, one transaction each)")
    print(f"  insert into empty store:      {t_insert:6.2f} s")
    print(f"  upsert (all rows revised):    {t_upsert:6.2f} s")
    print(f"  incremental (10 days/series): {t_incr * 1e3:6.1f} ms")
    print(
        f"  peer pandas read+concat+dedup+rewrite Parquet: {t_peer_upsert:6.2f} s "
        f"(ratio upsert ours/peer {t_upsert / t_peer_upsert:.2f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
