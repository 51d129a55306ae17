"""Dashboard: the JSON API validates input, escapes names, documents every field, sends its
security headers, and a real browser drives the page and the offline API docs."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

import havenflow.report
from havenflow.data.repository import DataRepository
from havenflow.services import LeadLagRequest, run_events, run_leadlag
from havenflow.web import create_app, models

ASOF = "2026-01-23"
#: TestClient's Host header; the app answers it only because the tests say so.
TEST_HOSTS = ["testserver"]


@pytest.fixture(scope="module")
def built_reports() -> Iterator[list[dict[str, Any]]]:
    """Every report document the app builds in this module, as build_report returned it."""
    seen: list[dict[str, Any]] = []
    original = havenflow.report.build_report

    def recording(*args: Any, **kwargs: Any) -> Any:
        doc = original(*args, **kwargs)
        seen.append(doc)
        return doc

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(havenflow.report, "build_report", recording)
        yield seen


@pytest.fixture(scope="module")
def client(built_reports: list[dict[str, Any]]) -> TestClient:
    return TestClient(create_app(lambda: DataRepository(), allowed_hosts=TEST_HOSTS))


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/api/leadlag?leader=../../etc/passwd", 400, "series id"),
        ("/api/leadlag?leader=nope", 404, "unknown series"),
        ("/api/leadlag?max_lag=100000", 400, "max_lag"),
        ("/api/leadlag?freq=Q", 400, "freq"),
        ("/api/leadlag?asof=2026-02-30", 400, "not a calendar day"),
        ("/api/leadlag?asof=yesterday", 400, "date like"),
        ("/api/events?horizons=5,abc", 400, "integers"),
        ("/api/events?horizons=100000", 400, "between 1 and 504"),
        ("/api/events?trigger=silver:moon", 400, "cannot read trigger"),
        ("/api/series/..%2F..%2Fetc%2Fpasswd", 404, ""),
        ("/api/series/passwd", 404, "unknown series"),
        ("/api/report?asof=1800-01-01", 400, "1800"),
        ("/api/timeline?note=../../etc/passwd", 400, "bundled note"),
        ("/api/report?asof=0000-01-01", 400, "not a calendar day"),
        ("/api/leadlag?asof=1677-09-21", 400, "outside 1800-01-01"),
        ("/api/events?trigger=silver:ret(999999)>0.2", 400, "ret(N) needs"),
        ("/api/events?trigger=silver:ret(" + "9" * 5000 + ")>0.2", 400, "trigger"),
        ("/api/series/silver%0A", 400, "series id"),
        ("/api/events?horizons=5,10,21,42,63,84,105,126,147,168,189,210,231", 400, "at most 12"),
        ("/api/timeline?step=D", 400, "step must be one of"),
        ("/api/timeline?start=2000-01-01&step=W", 400, "at most 36"),
        ("/api/timeline?end=2026-10-30", 400, "is after 2026-07-10"),
        ("/api/timeline?start=2026-13-01", 400, "start 2026-13-01 is not a calendar day"),
        ("/timeline?note=nope", 400, "bundled note"),
        ("/api/timeline?start=2026-01-01&end=2025-06-30", 400, "start is after the end"),
        ("/api/timeline?end=2025-13-01", 400, "end 2025-13-01 is not a calendar day"),
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
    app = create_app(lambda: DataRepository(user_files=[f]), allowed_hosts=TEST_HOSTS)
    c = TestClient(app)
    r = c.get("/api/leadlag", params={"leader": "x<script>"})
    assert r.status_code == 400  # not a series id: refused before anything is rendered
    page = c.get("/", params={"leader": "<img src=x onerror=alert(1)>"})
    assert page.status_code == 400
    assert "<img src=x" not in page.text
    assert "&lt;img src=x" in page.text


def _schema(spec: dict[str, Any], path: str) -> dict[str, Any]:
    """The resolved schema of ``path``'s 200 response (an array: its items' schema)."""
    content = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    schema = content["schema"]
    if schema.get("type") == "array":
        schema = schema["items"]
    return _resolve(spec, schema)


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    return dict(spec["components"]["schemas"][ref.rsplit("/", 1)[-1]])


def _nullable(prop: dict[str, Any]) -> bool:
    return any(alt.get("type") == "null" for alt in prop.get("anyOf", []))


def test_openapi_documents_every_endpoints_fields(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    main_fields = {
        "/api/series": {"id", "name"},
        "/api/series/{series_id}": {"id", "name", "origin", "dates", "values"},
        "/api/report": {"asof", "summary", "claims", "options", "methods", "data", "notes"},
        "/api/leadlag": {
            "kind",
            "schema_version",
            "leader",
            "follower",
            "lag_unit",
            "lag",
            "correlation",
            "pvalue",
            "naive_pvalue",
            "lag_conf_int",
            "null_hypothesis",
            "profile",
        },
        "/api/events": {"kind", "schema_version", "n_events", "horizons", "average_path"},
    }
    for path, fields in main_fields.items():
        props = _schema(spec, path)["properties"]
        assert fields <= set(props), (path, fields - set(props))
        nested = {"options", "note", "bottom_line"}  # documented by their own models
        assert all(p.get("description") for name, p in props.items() if name not in nested), path

    ll = _schema(spec, "/api/leadlag")
    props = ll["properties"]
    assert "positive = leader moves first" in props["lag"]["description"]
    assert "under null_hypothesis" in props["pvalue"]["description"]
    assert props["lag"]["type"] == "integer"
    assert [i["type"] for i in props["lag_conf_int"]["prefixItems"]] == ["integer", "integer"]
    assert _nullable(props["asof"])
    assert _nullable(props["seed"])
    assert {"lag", "pvalue", "lag_conf_int", "profile", "schema_version"} <= set(ll["required"])
    point = _resolve(spec, props["profile"]["items"])
    assert set(point["properties"]) == {"lag", "correlation", "lower", "upper"}
    assert "leader moves first" in point["properties"]["lag"]["description"]

    horizon = _resolve(spec, _schema(spec, "/api/events")["properties"]["horizons"]["items"])
    assert _nullable(horizon["properties"]["pvalue"])
    assert not _nullable(horizon["properties"]["horizon"])
    claim = _resolve(spec, _schema(spec, "/api/report")["properties"]["claims"]["items"])
    assert {"verdict", "numbers", "charts", "sensitivity", "q_value", "rule"} <= set(
        claim["properties"]
    )


def _undescribed(model: BaseModel, where: str = "") -> list[str]:
    """Keys of ``model`` (recursively) that no field describes; charts' own data apart."""
    out: list[str] = []
    if not isinstance(model, models.Chart):
        out += [f"{where}.{k}" for k in model.model_extra or {}]
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if isinstance(item, BaseModel):
                out += _undescribed(item, f"{where}.{name}[{i}]")
    return out


def test_responses_are_the_documents_unchanged_and_fully_described(
    client: TestClient, built_reports: list[dict[str, Any]]
) -> None:
    repo = DataRepository()
    ll = run_leadlag(
        repo, LeadLagRequest(leader="silver", follower="bitcoin", freq="W", max_lag=26, asof=ASOF)
    )
    ev = run_events(repo, "silver:high(252)", "bitcoin", horizons=(5, 21, 63), asof=ASOF)
    cases: list[tuple[str, type[BaseModel], Any]] = [
        ("/api/leadlag", models.LeadLag, {"asof": ASOF, "frequency": "W"} | ll.to_dict()),
        (f"/api/events?horizons=5,21,63&asof={ASOF}", models.EventStudy, ev.to_dict()),
        ("/api/report", models.Report, None),
    ]
    for url, model, expected in cases:
        r = client.get(url if "?" in url else f"{url}?asof={ASOF}")
        assert r.status_code == 200, r.text
        body = r.json()
        if expected is None:  # the report: as build_report made it
            expected = next(d for d in built_reports if d["asof"] == ASOF)
        assert body == expected, url  # nothing dropped, renamed, retyped or added by the model
        assert _undescribed(model.model_validate(body)) == [], url
    assert body["claims"][0]["charts"][0]["kind"]  # the report's charts keep their data
    assert "schema_version" in client.get("/api/leadlag", params={"asof": ASOF}).json()

    series = client.get("/api/series").json()
    assert all(_undescribed(models.SeriesInfo.model_validate(s)) == [] for s in series)
    values = client.get("/api/series/silver", params={"asof": ASOF}).json()
    assert _undescribed(models.SeriesValues.model_validate(values)) == []


_ASSET_URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.I)
_INLINE = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S | re.I)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_load_their_assets_from_this_server(client: TestClient, page: str) -> None:
    r = client.get(page)
    assert r.status_code == 200
    urls = _ASSET_URL.findall(r.text)
    assert urls, "no script or stylesheet found"
    assert any(u.endswith(".js") for u in urls)
    for url in urls:
        assert re.match(r"/[^/]", url), url  # a path on this server: no CDN, no other host
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000, url
    assert "fonts.googleapis" not in r.text
    spec_url = "/openapi.json"
    assert spec_url in r.text
    assert client.get(spec_url).status_code == 200
    # the CDN pages FastAPI would add are off
    assert "cdn.jsdelivr" not in r.text


def _sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


@pytest.mark.parametrize(
    "url",
    [
        "/api/series",
        f"/api/leadlag?asof={ASOF}",
        "/api/leadlag?freq=Q",
        "/api/nothing-here",
        "/assets/plotly.min.js",
        "/assets/docs/swagger-ui.css",
        "/openapi.json",
        "/docs",
        "/redoc",
        f"/?asof={ASOF}",
        "/?asof=2026-13-01",
    ],
)
def test_every_response_carries_the_security_headers(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    csp = dict(
        ([*part.split(" ", 1), ""])[:2] for part in r.headers["content-security-policy"].split("; ")
    )
    assert csp["frame-ancestors"] == "'none'"
    if not r.headers["content-type"].startswith("text/html"):
        assert csp["default-src"] == "'none'"
        return
    # Pages: scripts from this origin plus exactly their own inline scripts, by hash.
    sources = csp["script-src"].split()
    assert "'unsafe-inline'" not in sources
    assert "'unsafe-eval'" not in sources
    assert "*" not in csp["script-src"]
    assert "http" not in csp["script-src"]
    assert sources[0] == "'self'"
    inline = [m["body"] for m in _INLINE.finditer(r.text) if "src" not in m["attrs"] and m["body"]]
    assert sorted(sources[1:]) == sorted({_sha256(b) for b in inline})
    assert csp["style-src"] == "'self' 'unsafe-inline'"  # plotly, Swagger UI, Redoc inject styles
    if url == f"/?asof={ASOF}":
        assert len(inline) >= 2  # the two plotly charts


def test_other_host_headers_are_refused() -> None:
    app = create_app(lambda: DataRepository())
    for host in ("127.0.0.1:8050", "localhost", "localhost:8050", "[::1]:8050"):
        r = TestClient(app).get("/api/series", headers={"host": host})
        assert r.status_code == 200, host
    for host in ("testserver", "evil.example", "127.0.0.1.evil.example", "localhost.", "[::2]"):
        r = TestClient(app).get("/api/series", headers={"host": host})
        assert r.status_code == 400, host
        assert r.headers["x-content-type-options"] == "nosniff"  # refusals are covered too


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
        console = _watch(page)
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
        assert not [m for m in console if "Content Security Policy" in m], console
        # The API docs render offline: Swagger UI lists the endpoints, Redoc its operations.
        for path, ready in (("/docs", ".swagger-ui .opblock"), ("/redoc", "redoc h1")):
            docs = browser.new_page()
            seen = _watch(docs)
            requests: list[str] = []
            docs.on("request", lambda req, requests=requests: requests.append(req.url))
            docs.goto(f"{server}{path}", timeout=60_000)
            docs.wait_for_selector(ready, timeout=30_000)
            assert docs.get_by_text("Lead-lag scan for a pair").count() > 0, path
            outside = [u for u in requests if not u.startswith((server, "data:", "blob:"))]
            # Redoc's footer asks cdn.redoc.ly for its logo; the CSP blocks it, nothing else
            # leaves this server.
            assert all(u.startswith("https://cdn.redoc.ly/") for u in outside), outside
            blocked = [m for m in seen if "Content Security Policy" in m]
            assert all("cdn.redoc.ly" in m for m in blocked), blocked
            docs.close()
        browser.close()


def _watch(page: Any) -> list[str]:
    """The page's console errors and uncaught exceptions, collected as they come."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.append(f"uncaught: {e}"))
    return seen


def test_timeline_api_and_page(client: TestClient) -> None:
    from havenflow.claims import resolve_note
    from havenflow.claims.timeline import TimelineOptions, verdict_timeline

    note = "copper-equities-2024-05"
    params = {"note": note, "start": "2024-03-01", "end": "2024-05-31", "step": "M"}
    r = client.get("/api/timeline", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    direct = verdict_timeline(
        resolve_note(note), DataRepository(), TimelineOptions("2024-03-01", "2024-05-31", "M")
    )
    requested = {"start": "2024-03-01", "end": "2024-05-31", "step": "M"}
    assert body == {"note": note, "requested": requested} | direct  # nothing dropped or added
    assert [s["asof"] for s in body["timeline"]] == ["2024-03-29", "2024-04-30", "2024-05-31"]
    assert _undescribed(models.Timeline.model_validate(body)) == []
    page = client.get("/timeline", params=params)
    assert page.status_code == 200
    assert "Verdict spells" in page.text
    assert 'id="track-record"' in page.text


def test_dashboard_shows_what_happened_next_beside_the_verdicts(client: TestClient) -> None:
    page = client.get("/", params={"asof": ASOF})
    assert page.status_code == 200
    assert 'id="hindsight"' in page.text
    assert "What happened next" in page.text
    assert 'href="/timeline"' in page.text
