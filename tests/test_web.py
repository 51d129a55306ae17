"""Dashboard: the JSON API validates input, escapes names, and a real browser drives the page."""

from __future__ import annotations

import shutil
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from havenflow.data.repository import DataRepository
from havenflow.web import create_app

ASOF = "2026-01-23"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(lambda: DataRepository()))


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/api/leadlag?leader=../../etc/passwd", 400, "series id"),
        ("/api/leadlag?leader=nope", 404, "unknown series"),
        ("/api/leadlag?max_lag=100000", 400, "max_lag"),
        ("/api/leadlag?freq=Q", 400, "freq"),
        ("/api/leadlag?asof=2026-02-30", 400, "not a valid date"),
        ("/api/leadlag?asof=yesterday", 400, "date like"),
        ("/api/events?horizons=5,abc", 400, "integers"),
        ("/api/events?horizons=100000", 400, "between 1 and 504"),
        ("/api/events?trigger=silver:moon", 400, "cannot read trigger"),
        ("/api/series/..%2F..%2Fetc%2Fpasswd", 404, ""),
        ("/api/series/passwd", 404, "unknown series"),
        ("/api/report?asof=1800-01-01", 400, "1800"),
    ],
)
def test_bad_input_gets_a_clear_4xx(
    client: TestClient, url: str, status: int, message: str
) -> None:
    r = client.get(url)
    assert r.status_code == status, r.text
    assert message in r.text


def test_api_answers_and_documents_itself(client: TestClient) -> None:
    r = client.get("/api/leadlag", params={"leader": "silver", "follower": "gold", "asof": ASOF})
    assert r.status_code == 200
    body = r.json()
    assert (body["leader"], body["follower"], body["asof"]) == ("silver", "gold", ASOF)
    again = client.get(
        "/api/leadlag", params={"leader": "silver", "follower": "gold", "asof": ASOF}
    )
    assert again.json() == body  # cached per (inputs, data version): the same answer
    r = client.get("/api/series/silver", params={"asof": ASOF})
    assert r.json()["dates"][-1] == ASOF
    schema = client.get("/openapi.json").json()
    assert {"/api/report", "/api/leadlag", "/api/events", "/api/series"} <= set(schema["paths"])
    page = client.get("/?asof=2026-13-01")
    assert page.status_code == 400
    assert "Traceback" not in page.text


def test_names_from_imported_files_are_escaped(tmp_path: Path) -> None:
    f = tmp_path / "evil.csv"
    idx = pd.bdate_range("2020-01-01", periods=50)
    pd.DataFrame({"date": idx.strftime("%Y-%m-%d"), "x<script>": range(1, 51)}).to_csv(
        f, index=False
    )
    app = create_app(lambda: DataRepository(user_files=[f]))
    c = TestClient(app)
    r = c.get("/api/leadlag", params={"leader": "x<script>"})
    assert r.status_code == 400  # not a series id: refused before anything is rendered
    page = c.get("/", params={"leader": "<img src=x onerror=alert(1)>"})
    assert page.status_code == 400
    assert "<img src=x" not in page.text
    assert "&lt;img src=x" in page.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(
        create_app(lambda: DataRepository()), host="127.0.0.1", port=port, log_level="warning"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started:
        assert time.time() < deadline, "the dashboard did not start"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def _png_is_not_blank(png: bytes) -> bool:
    """Decode the PNG's pixel bytes (no imaging library needed) and look for variety."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        kind = png[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    distinct = len(set(raw[:: max(1, len(raw) // 200_000)]))
    non_white = sum(1 for b in raw[::97] if b < 200)
    return distinct > 20 and non_white > 1000


def test_dashboard_in_a_real_browser(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is required for this test: `make test` installs Debian's chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.goto(f"{server}/?asof={ASOF}", timeout=120_000)
        assert page.locator("#asof").inner_text() == ASOF
        assert page.locator("#verdicts [data-claim]").count() == 11
        assert page.locator("#verdicts [data-claim=C1]").inner_text() == "supported"
        page.wait_for_selector("#leadlag-chart .main-svg", timeout=30_000)
        before = page.locator("#pair-summary").inner_text()
        # Change the pair and the date, submit, and see the page follow.
        page.select_option("#follower", "gold")
        page.fill("#asof-input", "2025-06-30")
        with page.expect_navigation(timeout=120_000):
            page.click("#update")
        assert page.locator("#asof").inner_text() == "2025-06-30"
        assert "silver → gold" in page.locator("#pair-title").inner_text()
        assert page.locator("#pair-summary").inner_text() != before
        assert page.locator("#verdicts [data-claim]").count() == 11
        page.wait_for_selector("#leadlag-chart .main-svg", timeout=30_000)
        page.wait_for_selector("#events-chart .main-svg", timeout=30_000)
        title = page.locator("#leadlag-chart .gtitle").text_content() or ""
        assert "gold" in title
        shot = page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=False)
        assert _png_is_not_blank(shot)
        browser.close()
