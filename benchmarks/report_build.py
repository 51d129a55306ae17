"""Time one report build (all claims) on a store holding every bundled series.

The store is the case the issue measured (each read opened its own DuckDB connection). Run it
against another checkout to compare, in the same session on the same machine:

    python benchmarks/report_build.py                       # this checkout
    PYTHONPATH=/path/to/old/src python benchmarks/report_build.py

Prints the median of ``--runs`` builds (a fresh repository each, as one command has) and the
number of store reads and connections of one build.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import havenflow
from havenflow.catalog import get_spec
from havenflow.data.embedded import embedded_ids, embedded_series
from havenflow.data.repository import DataRepository
from havenflow.data.store import ObservationBatch, Store
from havenflow.report.build import ReportOptions, build_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--asof", default="2026-01-23")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "store.duckdb")
        store.write(
            [ObservationBatch(get_spec(s), embedded_series(s), "bench", s) for s in embedded_ids()]
        )
        reads = {"read": 0, "connect": 0}
        original_read, original_connect = Store.read, Store._connect

        def counted_read(self: Store, *a: object, **k: object) -> object:
            reads["read"] += 1
            return original_read(self, *a, **k)  # type: ignore[arg-type]

        def counted_connect(self: Store, *a: object, **k: object) -> object:
            reads["connect"] += 1
            return original_connect(self, *a, **k)

        Store.read = counted_read  # type: ignore[assignment,method-assign]
        Store._connect = counted_connect  # type: ignore[assignment,method-assign]
        build_report(DataRepository(store=store), ReportOptions(asof=args.asof))  # warm-up
        counts = dict(reads)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            build_report(DataRepository(store=store), ReportOptions(asof=args.asof))
            times.append(time.perf_counter() - start)
    print(
        f"havenflow {havenflow.__file__}: report as of {args.asof}, median of {args.runs} "
        f"builds {statistics.median(times):.2f} s (min {min(times):.2f}); one build: "
        f"{counts['read']} store reads, {counts['connect']} connections"
    )


if __name__ == "__main__":
    main()
