"""Load the dashboard the way the hardening issue did, on 127.0.0.1, bounded in count and time.

Starts ``havenflow serve`` (bundled data, an empty store) as its own process on a free
loopback port, then:

1. ``warm``: one ``GET /`` (computes the default report, lead-lag and event study);
2. ``defaults``: 8 concurrent clients, 200 ``GET /`` in all: latency p50/p99;
3. ``crawl``: 8 concurrent clients ask ``/api/report`` for 200 distinct dates (each a report
   to compute): how many were answered (200), refused busy (503 with Retry-After), or failed
   (5xx: must be none), with latencies;
4. ``defaults after the crawl``: 8 clients, 80 ``GET /`` again (the crawl must not have
   evicted the defaults: the issue measured 65 s per request there);

and the server's peak resident memory (``VmHWM``). Usage::

    python benchmarks/web_load.py [--requests 200] [--dates 200]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

CONCURRENCY = 8
DEADLINE_S = 900.0  # the whole run, whatever happens


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _load(base: str, paths: list[str], started: float) -> list[tuple[int, float]]:
    def one(path: str) -> tuple[int, float]:
        if time.monotonic() - started > DEADLINE_S:
            return (-1, 0.0)
        t0 = time.perf_counter()
        try:
            status = httpx.get(base + path, timeout=300.0).status_code
        except httpx.HTTPError:
            status = -2
        return status, time.perf_counter() - t0

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        return list(pool.map(one, paths))


def _summary(name: str, results: list[tuple[int, float]]) -> str:
    seconds = np.array([s for _, s in results])
    codes = pd.Series([c for c, _ in results]).value_counts().sort_index().to_dict()
    return (
        f"{name:<26} n={len(results):<4} p50={np.percentile(seconds, 50):7.3f}s "
        f"p99={np.percentile(seconds, 99):7.3f}s  max={seconds.max():7.3f}s  status={codes}"
    )


def main() -> None:
    """Run the load and print one line per phase."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--dates", type=int, default=200)
    args = parser.parse_args()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "HAVENFLOW_HOME": home}
        server = subprocess.Popen(
            [sys.executable, "-m", "havenflow", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started = time.monotonic()
        try:
            for _ in range(300):  # up to 30 s to start
                try:
                    if httpx.get(base + "/api/series", timeout=1.0).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            else:
                raise SystemExit("the server did not start")
            print(f"server up in {time.monotonic() - started:.1f}s (pid {server.pid})")
            warm = _load(base, ["/"], started)
            print(_summary("warm GET /", warm))
            print(_summary("defaults GET / x8", _load(base, ["/"] * args.requests, started)))
            days = pd.bdate_range(end="2026-01-23", periods=args.dates)
            crawl = [f"/api/report?asof={d.date()}" for d in days]
            print(_summary("crawl 200 dates x8", _load(base, crawl, started)))
            after = _load(base, ["/"] * (args.requests * 2 // 5), started)
            print(_summary("defaults after crawl", after))
            print(f"server peak resident memory: {_peak_rss_mb(server.pid):.0f} MB")
            print(f"total {time.monotonic() - started:.1f}s")
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
