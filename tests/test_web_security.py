"""The web extra stays optional, and the Host allowlist follows ``havenflow serve --host``."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from havenflow.web.security import allowed_hosts_for, host_name, page_csp

#: Installed by the ``web`` extra only (pydantic comes with typer, a base dependency).
WEB_ONLY = ("fastapi", "starlette", "uvicorn", "fastapi_offline")

BLOCKER = textwrap.dedent(
    f"""
    import importlib.abc, sys

    class NoWeb(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {WEB_ONLY!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, NoWeb())
    """
)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_only_the_web_package_imports_the_web_extra() -> None:
    done = _run(
        f"""
        import pkgutil, importlib, havenflow
        for mod in pkgutil.walk_packages(havenflow.__path__, "havenflow."):
            if not mod.name.startswith("havenflow.web"):
                importlib.import_module(mod.name)
        from havenflow.cli import app  # every command registered, serve included
        print(sorted(m for m in sys.modules if m.split(".")[0] in {WEB_ONLY!r}))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_serve_without_the_web_extra_says_how_to_install_it() -> None:
    done = _run(
        """
        from havenflow.cli import main
        sys.argv = ["havenflow", "serve"]
        main()
        """
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: the dashboard needs the web extra")
    assert "pip install 'havenflow[web]'" in done.stderr


@pytest.mark.parametrize(
    ("bind", "extra", "expected"),
    [
        (None, (), ["127.0.0.1", "localhost", "[::1]"]),
        ("127.0.0.1", (), ["127.0.0.1", "localhost", "[::1]"]),
        ("192.168.1.5", (), ["127.0.0.1", "localhost", "[::1]", "192.168.1.5"]),
        ("::1", (), ["127.0.0.1", "localhost", "[::1]"]),
        ("fe80::1", (), ["127.0.0.1", "localhost", "[::1]", "[fe80::1]"]),
        ("0.0.0.0", ("Box.lan",), ["127.0.0.1", "localhost", "[::1]", "box.lan"]),
        ("::", (), ["127.0.0.1", "localhost", "[::1]"]),
    ],
)
def test_allowed_hosts_follow_the_bound_host(
    bind: str | None, extra: tuple[str, ...], expected: list[str]
) -> None:
    assert allowed_hosts_for(bind, extra) == expected


def test_serve_answers_the_host_it_binds(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn
    from fastapi.testclient import TestClient

    from havenflow.web import serve

    apps = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: apps.append(app))
    serve("192.168.1.5", 8050, ["dash.lan"])
    client = TestClient(apps[0])
    assert client.get("/favicon.ico", headers={"host": "192.168.1.5:8050"}).status_code == 200
    assert client.get("/favicon.ico", headers={"host": "dash.lan"}).status_code == 200
    assert client.get("/favicon.ico", headers={"host": "other.lan"}).status_code == 400


def test_page_policy_hashes_inline_scripts_only() -> None:
    html = (
        '<script src="/a.js"></script><script>go()</script><script>go()</script><script></script>'
    )
    csp = page_csp(html)
    script_src = next(p for p in csp.split("; ") if p.startswith("script-src"))
    assert script_src.count("'sha256-") == 1
    assert "unsafe-inline" not in script_src
    assert "worker-src" not in csp
    assert "worker-src 'self' blob:" in page_csp(html, workers=True)
    assert host_name("[::1]") == host_name("::1") == "[::1]"


def test_identical_cache_misses_compute_once() -> None:
    import threading
    import time as _time

    from havenflow.web.app import _Cache

    cache = _Cache()
    calls: list[int] = []

    def slow() -> int:
        calls.append(1)
        _time.sleep(0.2)
        return 42

    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get(("k",), slow))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert results == [42] * 8
    assert len(calls) == 1  # single flight: one computation for eight identical misses


def test_horizons_are_a_canonical_bounded_key() -> None:
    from havenflow.web.app import InputError, _horizons

    assert _horizons("63,5,21,5") == (5, 21, 63)
    with pytest.raises(InputError, match="at most 12 horizons"):
        _horizons(",".join(str(h) for h in range(1, 40)))


def test_a_failed_computation_fails_every_waiter_once() -> None:
    import threading
    import time as _time

    from havenflow.web.app import _Cache

    cache = _Cache()
    calls: list[int] = []

    def broken() -> int:
        calls.append(1)
        _time.sleep(0.2)
        raise ValueError("boom")

    errors: list[str] = []

    def ask() -> None:
        try:
            cache.get(("k",), broken)
        except ValueError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=ask) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert errors == ["boom"] * 5
    assert len(calls) == 1
    assert cache.get(("k",), lambda: 7) == 7  # a later request computes afresh


def test_a_computation_beyond_the_bound_waits_for_no_one() -> None:
    import threading

    from havenflow.web.app import BusyError, _Cache

    cache = _Cache(heavy=1, wait=0.05)
    started, release = threading.Event(), threading.Event()

    def slow() -> int:
        started.set()
        release.wait(timeout=10)
        return 1

    worker = threading.Thread(target=lambda: cache.get(("a",), slow))
    worker.start()
    assert started.wait(timeout=10)
    with pytest.raises(BusyError, match="1 computations are already running"):
        cache.get(("b",), lambda: 2)
    release.set()
    worker.join(timeout=10)
    assert cache.get(("b",), lambda: 2) == 2  # the slot is free again
    assert cache.get(("a",), lambda: 3) == 1  # and the first result was kept


def test_the_dashboard_answers_503_with_retry_after_when_busy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from fastapi.testclient import TestClient

    import havenflow.report
    from havenflow.data.repository import DataRepository
    from havenflow.web.app import create_app

    started, release = threading.Event(), threading.Event()

    def blocked(repo: object, options: object) -> dict[str, object]:
        started.set()
        release.wait(timeout=20)
        raise havenflow.exceptions.DataValidationError("stub: not a real report")

    monkeypatch.setattr(havenflow.report, "build_report", blocked)
    app = create_app(lambda: DataRepository(store=None), allowed_hosts=["testserver"], max_heavy=1)
    client = TestClient(app)
    first: list[int] = []
    worker = threading.Thread(
        target=lambda: first.append(client.get("/api/report?asof=2026-01-23").status_code)
    )
    worker.start()
    try:
        assert started.wait(timeout=20)
        busy = client.get("/api/report?asof=2026-01-16")
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "10"
        assert "already running" in busy.json()["detail"]
    finally:
        release.set()
        worker.join(timeout=20)
    assert first == [400]  # the stub's clean refusal, not a 500


def test_a_crawl_of_dates_cannot_evict_the_defaults() -> None:
    from havenflow.web.app import _Cache

    cache = _Cache(size=4)
    calls: list[str] = []

    def compute(name: str) -> str:
        calls.append(name)
        return name

    cache.get(("report", (None,)), lambda: compute("default"), pin=True)
    for day in range(70):  # 70 dates through a 4-entry cache
        cache.get(("report", (f"2025-01-{day}",)), lambda d=day: compute(str(d)))
    assert cache.get(("report", (None,)), lambda: compute("again"), pin=True) == "default"
    assert calls.count("again") == 0
    assert cache.get(("report", ("2025-01-0",)), lambda: compute("recomputed")) == "recomputed"


def test_a_waiter_does_not_wait_forever(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import havenflow.web.app
    from havenflow.web.app import BusyError, _Cache

    monkeypatch.setattr(havenflow.web.app, "WAITER_TIMEOUT_S", 0.1)
    cache = _Cache()
    started, release = threading.Event(), threading.Event()

    def slow() -> int:
        started.set()
        release.wait(timeout=10)
        return 1

    worker = threading.Thread(target=lambda: cache.get(("k",), slow))
    worker.start()
    assert started.wait(timeout=10)
    with pytest.raises(BusyError, match="running for over"):
        cache.get(("k",), slow)
    release.set()
    worker.join(timeout=10)
    assert cache.get(("k",), slow) == 1
