"""Take the README's screenshots: the report (2026-01-23) and the dashboard, in Chromium."""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from havenflow.data.repository import DataRepository
from havenflow.report import ReportOptions, build_report, render_html
from havenflow.web import create_app

DOCS = Path(__file__).resolve().parent.parent / "docs"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def main() -> None:
    """Render the report and start the dashboard, then photograph both."""
    chromium = shutil.which("chromium")
    assert chromium, "install Debian's chromium first (make browser)"
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "report.html"
        html.write_text(render_html(build_report(DataRepository(), ReportOptions("2026-01-23"))))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(create_app(DataRepository), port=port, log_level="warning")
        )
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=ARGS)
            page = browser.new_page(viewport={"width": 1100, "height": 1300})
            page.goto(html.as_uri())
            page.wait_for_timeout(1500)
            page.screenshot(path=str(DOCS / "report.png"))
            page.locator("#C10").scroll_into_view_if_needed()
            page.wait_for_timeout(500)
            page.screenshot(path=str(DOCS / "report-c10.png"))
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/?asof=2026-01-23", timeout=120_000)
            page.wait_for_selector("#leadlag-chart .main-svg")
            page.screenshot(path=str(DOCS / "dashboard.png"))
            browser.close()
        server.should_exit = True
    print(f"wrote {DOCS}/report.png, report-c10.png, dashboard.png")


if __name__ == "__main__":
    main()
