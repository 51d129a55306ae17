"""Live sources against hand-built responses: parsing, every network fault, and clear errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest

from havenflow.catalog import SourceRef
from havenflow.data.sources import fetch_with_fallback, make_source
from havenflow.data.sources.base import RetryPolicy
from havenflow.exceptions import RateLimitedError, SourceError, SourceUnreachableError

RESPONSES = Path(__file__).parent / "data" / "responses"
FRED_CSV = "observation_date,DFII10\n2026-01-20,1.90\n2026-01-21,.\n2026-01-22,1.92\n"


class Recorder:
    """A mock transport that answers from a list of handlers, one per request, and records requests."""

    def __init__(
        self, *answers: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]
    ) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    def source(self, name: str, **kwargs: object):  # type: ignore[no-untyped-def]
        client = httpx.Client(transport=httpx.MockTransport(self))
        kwargs.setdefault("now", lambda: datetime(2026, 1, 24, 12, tzinfo=UTC))
        return make_source(
            name,
            client,
            sleep=self.sleeps.append,
            seed=1,
            policy=RetryPolicy(attempts=4, backoff=0.5),
            **kwargs,
        )


def csv(text: str, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, text=text, headers={"Content-Type": "text/csv", **headers})


# ---- parsing -----------------------------------------------------------------------------


def test_fred_csv_parses_and_drops_dots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRED_API_KEY", raising=False)
    rec = Recorder(csv(FRED_CSV))
    frame = rec.source("fred").fetch("DFII10", date(2026, 1, 1), None)
    assert frame["value"].tolist() == [1.90, 1.92]
    assert frame["date"].tolist() == [pd.Timestamp("2026-01-20"), pd.Timestamp("2026-01-22")]
    assert rec.requests[0].url.params["id"] == "DFII10"
    assert rec.requests[0].url.params["cosd"] == "2026-01-01"


def test_fred_api_with_key_and_key_redacted_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRED_API_KEY", "sekrit")
    body = {
        "observations": [
            {"date": "2026-01-20", "value": "1.9"},
            {"date": "2026-01-21", "value": "."},
        ]
    }
    rec = Recorder(httpx.Response(200, json=body))
    frame = rec.source("fred").fetch("DFII10", None, None)
    assert frame["value"].tolist() == [1.9]
    assert rec.requests[0].url.params["api_key"] == "sekrit"
    bad = Recorder(
        httpx.Response(
            400,
            json={"error_code": 400, "error_message": "Bad Request. The series does not exist."},
        )
    )
    with pytest.raises(SourceError, match="series does not exist") as info:
        bad.source("fred").fetch("NOPE", None, None)
    assert "sekrit" not in str(info.value)
    assert "api_key=%2A%2A%2A" in str(info.value) or "api_key=***" in str(info.value)


def test_yahoo_chart_uses_exchange_dates_and_drops_open_session() -> None:
    payload = (RESPONSES / "yahoo_si_f.json").read_text()
    # 2026-01-23 15:00 New York: the session that ends 17:00 is still open -> last bar dropped.
    rec = Recorder(httpx.Response(200, text=payload, headers={"Content-Type": "application/json"}))
    open_now = datetime(2026, 1, 23, 20, tzinfo=UTC)
    frame = rec.source("yahoo", now=lambda: open_now).fetch("SI=F", None, date(2026, 1, 23))
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2026-01-20",
        "2026-01-21",
        "2026-01-22",
    ]
    assert frame["value"].iloc[-1] == pytest.approx(95.976, abs=1e-3)
    # After the close, the same body keeps the last bar.
    rec2 = Recorder(httpx.Response(200, text=payload, headers={"Content-Type": "application/json"}))
    frame2 = rec2.source("yahoo", now=lambda: datetime(2026, 1, 24, 1, tzinfo=UTC)).fetch(
        "SI=F", None, None
    )
    assert frame2["value"].iloc[-1] == pytest.approx(100.925, abs=1e-3)
    assert frame2["date"].iloc[-1] == pd.Timestamp("2026-01-23")


def test_coinbase_pages_300_candles_and_drops_today() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        start = pd.Timestamp(request.url.params["start"]).tz_convert(None)
        end = pd.Timestamp(request.url.params["end"]).tz_convert(None)
        days = pd.date_range(start, end, freq="D")
        assert len(days) <= 300
        rows = [
            [int(d.timestamp()), 1, 2, 1, 1000.0 + (d - pd.Timestamp("2025-01-01")).days, 5]
            for d in days
        ]
        return httpx.Response(200, json=rows[::-1])  # newest first, as Coinbase sends them

    rec = Recorder(answer)
    now = datetime(2026, 1, 24, 12, tzinfo=UTC)
    frame = rec.source("coinbase", now=lambda: now).fetch("BTC-USD", date(2025, 1, 1), None)
    assert len(rec.requests) == 2  # 389 days -> two pages
    assert frame["date"].iloc[0] == pd.Timestamp("2025-01-01")
    assert frame["date"].iloc[-1] == pd.Timestamp("2026-01-23")  # today's open candle dropped
    assert frame["date"].is_monotonic_increasing
    assert not frame["date"].duplicated().any()
    assert frame["value"].iloc[0] == 1000.0


def test_stooq_without_key_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STOOQ_API_KEY", raising=False)
    rec = Recorder(csv("Date,Open,High,Low,Close\n"))
    with pytest.raises(SourceError, match="STOOQ_API_KEY"):
        rec.source("stooq").fetch("xagusd", None, None)
    assert rec.requests == []


def test_stooq_with_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOOQ_API_KEY", "k")
    rec = Recorder(
        csv("Date,Open,High,Low,Close,Volume\n2026-01-22,1,1,1,95.5,0\n2026-01-23,1,1,1,101.0,0\n")
    )
    frame = rec.source("stooq").fetch("xagusd", None, None)
    assert frame["value"].tolist() == [95.5, 101.0]
    nodata = Recorder(csv("No data"))
    with pytest.raises(SourceError, match="unknown symbol"):
        nodata.source("stooq").fetch("zzz", None, None)


# ---- faults ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_fred_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRED_API_KEY", raising=False)


def test_timeouts_retry_with_backoff_then_succeed() -> None:
    rec = Recorder(httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow"), csv(FRED_CSV))
    frame = rec.source("fred").fetch("DFII10", None, None)
    assert len(frame) == 2
    assert len(rec.requests) == 3
    assert len(rec.sleeps) == 2
    assert 0.5 <= rec.sleeps[0] <= 1.0
    assert 1.0 <= rec.sleeps[1] <= 2.0


def test_timeouts_exhaust_attempts_with_clear_error() -> None:
    rec = Recorder(httpx.ReadTimeout("slow"))
    with pytest.raises(
        SourceError, match=r"gave up after 4 attempts; last error: request timed out"
    ) as info:
        rec.source("fred").fetch("DFII10", None, None)
    assert info.value.source == "fred"
    assert info.value.symbol == "DFII10"
    assert "fredgraph.csv" in str(info.value)
    assert len(rec.requests) == 4
    assert len(rec.sleeps) == 3


def test_429_honours_retry_after() -> None:
    rec = Recorder(csv("slow down", status=429, **{"Retry-After": "7"}), csv(FRED_CSV))
    rec.source("fred").fetch("DFII10", None, None)
    assert rec.sleeps == [7.0]


def test_429_retry_after_http_date_and_cap() -> None:
    later = "Sat, 24 Jan 2026 12:00:05 GMT"
    rec = Recorder(
        csv("", status=429, **{"Retry-After": later}),
        csv("", status=429, **{"Retry-After": "3600"}),
        csv(FRED_CSV),
    )
    # An HTTP date is honoured; a wait beyond the policy's max_delay (30 s) is not slept
    # through: the source cools down for the rest of the update instead.
    with pytest.raises(RateLimitedError, match="asked to wait 3600 s"):
        rec.source("fred").fetch("DFII10", None, None)
    assert rec.sleeps == [pytest.approx(5.0)]
    assert len(rec.requests) == 2


def test_5xx_is_retried_and_reported_with_status() -> None:
    rec = Recorder(csv("oops", status=503))
    with pytest.raises(SourceError, match=r"HTTP 503") as info:
        rec.source("fred").fetch("DFII10", None, None)
    assert info.value.status == 503
    assert len(rec.requests) == 4


def test_4xx_is_not_retried() -> None:
    rec = Recorder(csv("Not Found", status=404))
    with pytest.raises(SourceError, match=r"request refused: Not Found \(fred 'NOPE', HTTP 404"):
        rec.source("fred").fetch("NOPE", None, None)
    assert len(rec.requests) == 1
    assert rec.sleeps == []


def test_html_instead_of_data_is_refused_not_parsed() -> None:
    page = httpx.Response(
        200,
        text="<!DOCTYPE html><html><body>Error</body></html>",
        headers={"Content-Type": "text/html"},
    )
    for name, symbol in [("fred", "DFII10"), ("yahoo", "SI=F"), ("coinbase", "BTC-USD")]:
        rec = Recorder(page)
        with pytest.raises(SourceError, match="HTML page"):
            rec.source(name).fetch(symbol, date(2026, 1, 1), date(2026, 1, 5))
        assert len(rec.requests) == 1


def test_truncated_bodies_are_retried_then_fail_clearly() -> None:
    cut_csv = FRED_CSV[:-8]  # no final newline: cut in transit
    rec = Recorder(csv(cut_csv), csv(FRED_CSV))
    assert len(rec.source("fred").fetch("DFII10", None, None)) == 2
    payload = (RESPONSES / "yahoo_si_f.json").read_text()
    rec2 = Recorder(
        httpx.Response(
            200, text=payload[: len(payload) // 2], headers={"Content-Type": "application/json"}
        )
    )
    with pytest.raises(SourceError, match=r"truncated or invalid JSON body"):
        rec2.source("yahoo").fetch("SI=F", None, None)
    assert len(rec2.requests) == 4


def test_empty_body_is_retried() -> None:
    rec = Recorder(csv(""), csv(FRED_CSV))
    assert len(rec.source("fred").fetch("DFII10", None, None)) == 2
    assert len(rec.sleeps) == 1


def test_schema_change_is_a_clear_error() -> None:
    rec = Recorder(csv("when,what\n2026-01-20,1\n"))
    with pytest.raises(SourceError, match=r"unexpected CSV header \['when', 'what'\]"):
        rec.source("fred").fetch("DFII10", None, None)
    moved = json.dumps({"chart": {"result": [{"meta": {}, "prices": []}], "error": None}})
    rec2 = Recorder(httpx.Response(200, text=moved, headers={"Content-Type": "application/json"}))
    with pytest.raises(SourceError, match="unexpected JSON layout"):
        rec2.source("yahoo").fetch("SI=F", None, None)
    rec3 = Recorder(httpx.Response(200, json=[[1, 2]]))
    with pytest.raises(SourceError, match="unexpected candle layout"):
        rec3.source("coinbase").fetch("BTC-USD", date(2026, 1, 1), date(2026, 1, 2))


def test_unknown_symbol_yahoo_and_coinbase() -> None:
    err = {
        "chart": {
            "result": None,
            "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
        }
    }
    rec = Recorder(httpx.Response(200, json=err))
    with pytest.raises(SourceError, match="symbol may be delisted"):
        rec.source("yahoo").fetch("NOPE", None, None)
    rec2 = Recorder(httpx.Response(404, json={"message": "NotFound"}))
    with pytest.raises(SourceError, match=r"HTTP 404"):
        rec2.source("coinbase").fetch("NOPE-USD", date(2026, 1, 1), date(2026, 1, 2))


def test_fallback_tries_next_source_and_lists_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STOOQ_API_KEY", raising=False)
    payload = (RESPONSES / "yahoo_si_f.json").read_text()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=payload, headers={"Content-Type": "application/json"})

    client = httpx.Client(transport=httpx.MockTransport(answer))
    frame, ref = fetch_with_fallback(
        [SourceRef("stooq", "si.f"), SourceRef("yahoo", "SI=F")],
        None,
        None,
        client,
        now=lambda: datetime(2026, 1, 25, tzinfo=UTC),
    )
    assert ref.source == "yahoo"
    assert len(frame) == 4
    with pytest.raises(SourceError, match=r"every source failed: .*STOOQ_API_KEY"):
        fetch_with_fallback([SourceRef("stooq", "si.f")], None, None, client)


# ---- live (deselected by default: run with `pytest -m network`) ----------------------------


@pytest.mark.network
@pytest.mark.parametrize(
    ("name", "symbol"), [("fred", "DFII10"), ("yahoo", "SI=F"), ("coinbase", "BTC-USD")]
)
def test_live_source(name: str, symbol: str) -> None:
    from havenflow.data.sources import default_client

    with default_client() as client:
        frame = make_source(name, client).fetch(symbol, date(2025, 1, 1), date(2025, 3, 1))
    assert len(frame) > 20
    assert (frame["value"] > 0).all()


# ---- offline -----------------------------------------------------------------------------------


def test_dns_failure_and_refused_connections_are_not_retried() -> None:
    for fault in (httpx.ConnectError("[Errno -2] Name or service not known"),
                  httpx.ConnectError("[Errno 111] Connection refused")):  # fmt: skip
        rec = Recorder(fault)
        with pytest.raises(SourceUnreachableError, match=r"cannot reach fred\.stlouisfed\.org"):
            rec.source("fred").fetch("DFII10", None, None)
        assert len(rec.requests) == 1
        assert rec.sleeps == []


def test_an_offline_update_fails_in_one_line_and_writes_nothing(tmp_path: Path) -> None:
    import time

    from havenflow.data.store import Store
    from havenflow.data.update import update_store
    from havenflow.exceptions import NoNetworkError

    hosts: list[str] = []

    def offline(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        raise httpx.ConnectError("[Errno -2] Name or service not known")

    store = Store(tmp_path / "s.duckdb")
    client = httpx.Client(transport=httpx.MockTransport(offline))
    started = time.monotonic()
    with pytest.raises(NoNetworkError) as info:
        update_store(store, None, client=client, source_options={"sleep": lambda s: None})
    assert time.monotonic() - started < 20
    message = str(info.value)
    assert message.startswith("no network: no source could be reached (")
    assert message.endswith("the store is unchanged")
    assert "\n" not in message
    # Each host was tried once for the whole update, not once per series and retry.
    assert sorted(hosts) == sorted(set(hosts))
    assert not store.exists


def test_one_unreachable_source_falls_back_without_retrying_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STOOQ_API_KEY", raising=False)
    payload = (RESPONSES / "yahoo_si_f.json").read_text()
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        if request.url.host.endswith("coinbase.com"):
            raise httpx.ConnectError("[Errno 111] Connection refused")
        return httpx.Response(200, text=payload, headers={"Content-Type": "application/json"})

    client = httpx.Client(transport=httpx.MockTransport(answer))
    down: dict[str, str] = {}
    refs = [SourceRef("coinbase", "BTC-USD"), SourceRef("yahoo", "SI=F")]
    opts = {"now": lambda: datetime(2026, 1, 25, tzinfo=UTC)}
    _, ref = fetch_with_fallback(refs, None, None, client, unreachable=down, **opts)
    assert ref.source == "yahoo"
    assert set(down) == {"coinbase"}
    _, ref = fetch_with_fallback(refs, None, None, client, unreachable=down, **opts)
    assert seen.count("api.exchange.coinbase.com") == 1  # not tried again in the same update
