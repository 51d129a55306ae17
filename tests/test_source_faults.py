"""Odd responses from the live sources: each is one clear SourceError, never a traceback.

Hand-built responses over httpx.MockTransport, one per fault scenario (count: see FAULTS and
the transport tests below). Nothing here reaches the internet.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pandas as pd
import pytest

from havenflow.data.sources import make_source
from havenflow.data.sources.base import RetryPolicy
from havenflow.exceptions import SourceError

NOW = datetime(2026, 1, 24, 12, tzinfo=UTC)
QUOTE = {"regularMarketPrice": 1.0, "exchangeTimezoneName": "America/New_York"}


def _chart(meta: object = QUOTE, stamps: object = (1768867200,), closes: object = (30.5,)) -> str:
    result = {
        "meta": meta,
        "timestamp": list(stamps) if isinstance(stamps, tuple) else stamps,
        "indicators": {"quote": [{"close": list(closes) if isinstance(closes, tuple) else closes}]},
    }
    return json.dumps({"chart": {"result": [result], "error": None}})


def _json(text: str) -> httpx.Response:
    return httpx.Response(200, text=text, headers={"Content-Type": "application/json"})


def _csv(text: str) -> httpx.Response:
    return httpx.Response(200, text=text, headers={"Content-Type": "text/csv"})


def _source(
    name: str,
    answer: Callable[[httpx.Request], httpx.Response],
    api_key: str | None = None,
    **policy: float,
):
    client = httpx.Client(transport=httpx.MockTransport(answer))
    keyed = {"api_key": api_key} if api_key is not None else {}
    if name == "stooq":
        keyed = {"api_key": api_key or "stooq-key"}
    return make_source(
        name,
        client,
        sleep=lambda s: None,
        now=lambda: NOW,
        seed=1,
        policy=RetryPolicy(attempts=2, backoff=0.0, **policy),  # type: ignore[arg-type]
        **keyed,
    )


#: (name, source, symbol, response body) of every odd shape: each must be a SourceError.
FAULTS: list[tuple[str, str, str, httpx.Response]] = [
    ("yahoo chart error", "yahoo", "NOPE", _json('{"chart":{"result":null,"error":{"code":'
                                                 '"Not Found","description":"No data found"}}}')),
    ("yahoo empty result", "yahoo", "SI=F", _json('{"chart":{"result":[],"error":null}}')),
    ("yahoo chart is a list", "yahoo", "SI=F", _json('{"chart":[]}')),
    ("yahoo chart is null", "yahoo", "SI=F", _json('{"chart":null}')),
    ("yahoo body is null", "yahoo", "SI=F", _json("null")),
    ("yahoo body is a number", "yahoo", "SI=F", _json("42")),
    ("yahoo meta is a list", "yahoo", "SI=F", _json(_chart(meta=[1, 2]))),
    ("yahoo close not a number", "yahoo", "SI=F", _json(_chart(closes=("abc",)))),
    ("yahoo timestamp 1e15 s", "yahoo", "SI=F", _json(_chart(stamps=(10**15,)))),
    ("yahoo timestamp a string", "yahoo", "SI=F", _json(_chart(stamps=("yesterday",)))),
    ("yahoo unknown time zone", "yahoo", "SI=F",
     _json(_chart(meta={"exchangeTimezoneName": "Mars/Olympus_Mons"}))),
    ("yahoo close Infinity", "yahoo", "SI=F", _json(_chart().replace("30.5", "Infinity"))),
    ("yahoo close 1e400", "yahoo", "SI=F", _json(_chart().replace("30.5", "1e400"))),
    ("yahoo close absurd", "yahoo", "SI=F", _json(_chart().replace("30.5", "3e14"))),
    ("yahoo close NaN literal", "yahoo", "SI=F", _json(_chart().replace("30.5", "-Infinity"))),
    ("yahoo lengths differ", "yahoo", "SI=F", _json(_chart(stamps=(1768867200, 1768953600)))),
    ("yahoo html page", "yahoo", "SI=F",
     httpx.Response(200, text="<html>consent</html>", headers={"Content-Type": "text/html"})),
    ("yahoo indicators missing", "yahoo", "SI=F",
     _json('{"chart":{"result":[{"meta":{},"timestamp":[1]}],"error":null}}')),
    ("coinbase time 1e13", "coinbase", "BTC-USD", _json("[[10000000000000, 1, 2, 1, 1.5, 9]]")),
    ("coinbase not a list", "coinbase", "BTC-USD", _json('{"message":"maintenance"}')),
    ("coinbase short row", "coinbase", "BTC-USD", _json("[[1768867200]]")),
    ("coinbase string close", "coinbase", "BTC-USD", _json('[[1768867200, 1, 2, 1, "x", 9]]')),
    ("coinbase close Infinity", "coinbase", "BTC-USD",
     _json("[[1768867200, 1, 2, 1, Infinity, 9]]")),
    ("coinbase row not a list", "coinbase", "BTC-USD", _json('[{"time": 1}]')),
    ("fred csv garbage", "fred", "DFII10", _csv('observation_date,DFII10\n"2026-01-20,1.9\n')),
    ("fred csv wrong columns", "fred", "DFII10", _csv("a,b,c\n1,2,3\n")),
    ("fred csv inf", "fred", "DFII10", _csv("observation_date,DFII10\n2026-01-20,inf\n")),
    ("fred csv 1e400", "fred", "DFII10", _csv("observation_date,DFII10\n2026-01-20,1e400\n")),
    ("fred csv bad date", "fred", "DFII10", _csv("observation_date,DFII10\n2026-13-45,1.9\n")),
    ("fred csv words", "fred", "DFII10", _csv("observation_date,DFII10\n2026-01-20,high\n")),
    ("fred csv future date", "fred", "DFII10", _csv("observation_date,DFII10\n2031-01-20,1.9\n")),
    ("fred csv before 1800", "fred", "DFII10", _csv("observation_date,DFII10\n1700-01-20,1.9\n")),
    ("fred csv html", "fred", "DFII10",
     httpx.Response(200, text="<!DOCTYPE html><p>Error</p>", headers={"Content-Type": "text/html"})),
    ("fred csv other series", "fred", "DFII10", _csv("observation_date,DGS10\n2026-01-20,4.1\n")),
    ("fred csv -inf", "fred", "DFII10", _csv("observation_date,DFII10\n2026-01-20,-inf\n")),
    ("fred csv NaN word", "fred", "DFII10", _csv("observation_date,DFII10\n2026-01-20,NaN\n")),
    ("stooq html proof of work", "stooq", "si.f",
     httpx.Response(200, text="<html><script>pow()</script>", headers={"Content-Type": "text/html"})),
    ("stooq no data word", "stooq", "si.f", _csv("No data\n")),
    ("stooq wrong header", "stooq", "si.f", _csv("Foo,Bar\n1,2\n")),
    ("stooq close a word", "stooq", "si.f",
     _csv("Date,Open,High,Low,Close,Volume\n2026-01-20,1,2,1,abc,5\n")),
    ("stooq close inf", "stooq", "si.f",
     _csv("Date,Open,High,Low,Close,Volume\n2026-01-20,1,2,1,inf,5\n")),
    ("stooq bad date", "stooq", "si.f",
     _csv("Date,Open,High,Low,Close,Volume\n20xx-01-20,1,2,1,3,5\n")),
    ("coinbase close 1e400", "coinbase", "BTC-USD", _json("[[1768867200, 1, 2, 1, 1e400, 9]]")),
    ("coinbase null close", "coinbase", "BTC-USD", _json("[[1768867200, 1, 2, 1, null, 9]]")),
    ("coinbase body null", "coinbase", "BTC-USD", _json("null")),
    ("coinbase negative time", "coinbase", "BTC-USD", _json("[[-99999999999, 1, 2, 1, 1.5, 9]]")),
]  # fmt: skip

#: The same for the keyed JSON APIs: FRED's observations and ALFRED's vintages.
KEYED_FAULTS: list[tuple[str, str, str, httpx.Response]] = [
    ("fred api not json", "fred", "M2SL", _json("{oops")),
    ("fred api no observations", "fred", "M2SL", _json('{"error_message": "x"}')),
    ("fred api observations not a list", "fred", "M2SL", _json('{"observations": 5}')),
    ("fred api row without value", "fred", "M2SL",
     _json('{"observations": [{"date": "2026-01-01"}]}')),
    ("fred api row a string", "fred", "M2SL", _json('{"observations": ["2026-01-01"]}')),
    ("fred api value a word", "fred", "M2SL",
     _json('{"observations": [{"date": "2026-01-01", "value": "n/a"}]}')),
    ("fred api value 1e400", "fred", "M2SL",
     _json('{"observations": [{"date": "2026-01-01", "value": "1e400"}]}')),
    ("fred api bad date", "fred", "M2SL",
     _json('{"observations": [{"date": "2026-02-30", "value": "1"}]}')),
    ("alfred bad realtime_start", "fred", "M2SL",
     _json('{"count": 1, "observations": [{"date": "2026-01-01", "value": "1",'
           ' "realtime_start": "soon", "realtime_end": "9999-12-31"}]}')),
    ("alfred realtime_end null", "fred", "M2SL",
     _json('{"count": 1, "observations": [{"date": "2026-01-01", "value": "1",'
           ' "realtime_start": "2026-02-01", "realtime_end": null}]}')),
    ("alfred count a word", "fred", "M2SL",
     _json('{"count": "many", "observations": [{"date": "2026-01-01", "value": "1",'
           ' "realtime_start": "2026-02-01", "realtime_end": "9999-12-31"}]}')),
]  # fmt: skip

#: HTTP statuses: refused at once (4xx) or retried, then one clear error (5xx, 429).
STATUSES = [400, 401, 403, 404, 410, 451, 500, 502, 503, 504, 429]


@pytest.mark.parametrize(
    ("name", "source", "symbol", "response"), FAULTS, ids=[f[0] for f in FAULTS]
)
def test_every_odd_response_is_one_source_error(
    name: str, source: str, symbol: str, response: httpx.Response
) -> None:
    src = _source(source, lambda request: response)
    with pytest.raises(SourceError) as info:
        src.fetch(symbol, None, None)  # type: ignore[attr-defined]
    message = str(info.value)
    assert "\n" not in message
    assert f"{source} {symbol!r}" in message  # names the source and the symbol


@pytest.mark.parametrize(
    ("name", "source", "symbol", "response"), KEYED_FAULTS, ids=[f[0] for f in KEYED_FAULTS]
)
def test_every_odd_keyed_response_is_one_source_error(
    name: str, source: str, symbol: str, response: httpx.Response
) -> None:
    src = _source(source, lambda request: response, api_key="sekrit")
    with pytest.raises(SourceError) as info:
        src.fetch(symbol, None, None)  # type: ignore[attr-defined]
    message = str(info.value)
    assert "\n" not in message
    assert "sekrit" not in message
    assert f"{source} {symbol!r}" in message


@pytest.mark.parametrize("status", STATUSES)
def test_each_error_status_is_one_clear_error_retried_only_when_transient(status: int) -> None:
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status, text="nope")

    with pytest.raises(SourceError) as info:
        _source("fred", answer).fetch("DFII10", None, None)  # type: ignore[attr-defined]
    assert f"HTTP {status}" in str(info.value)
    assert len(calls) == (2 if status >= 500 or status == 429 else 1)


def test_a_redirect_to_another_host_is_refused_not_followed() -> None:
    hosts: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return httpx.Response(302, headers={"Location": "https://evil.example/data.csv"})

    with pytest.raises(SourceError, match=r"redirected to another host \(evil\.example\)"):
        _source("fred", answer).fetch("DFII10", None, None)  # type: ignore[attr-defined]
    assert "evil.example" not in hosts


def test_same_host_redirects_are_followed_and_loops_refused() -> None:
    def once(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("moved"):
            return _csv("observation_date,DFII10\n2026-01-20,1.9\n")
        return httpx.Response(301, headers={"Location": "/graph/moved"})

    frame = _source("fred", once).fetch("DFII10", None, None)  # type: ignore[attr-defined]
    assert frame["value"].tolist() == [1.9]

    def loop(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": str(request.url)})

    with pytest.raises(SourceError, match="more than 5 redirects"):
        _source("fred", loop).fetch("DFII10", None, None)  # type: ignore[attr-defined]


def test_a_gzip_bomb_is_refused_and_not_retried() -> None:
    bomb = gzip.compress(b"0" * (8 * 1024 * 1024))  # 8 MB of zeros in about 8 kB
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(
            200, content=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "text/csv"}
        )

    src = _source("fred", answer, max_bytes=1024 * 1024)
    with pytest.raises(SourceError, match="larger than 1 MB"):
        src.fetch("DFII10", None, None)  # type: ignore[attr-defined]
    assert len(calls) == 1


def test_bad_gzip_is_retried_then_a_clear_error() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=b"not gzip",
            headers={"Content-Encoding": "gzip", "Content-Type": "text/csv"},
        )

    with pytest.raises(SourceError, match="gave up after 2 attempts; last error: bad response"):
        _source("fred", answer).fetch("DFII10", None, None)  # type: ignore[attr-defined]


def test_a_trickling_body_cannot_beat_the_deadline() -> None:
    class Trickle(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield b"observation_date,DFII10\n"
            for _ in range(50):  # bounded: at most 50 chunks, 1 s in all
                time.sleep(0.02)
                yield b"2026-01-20,1.9\n"

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Trickle(), headers={"Content-Type": "text/csv"})

    started = time.monotonic()
    with pytest.raises(SourceError, match="timed out"):
        _source("fred", answer, deadline=0.1).fetch("DFII10", None, None)  # type: ignore[attr-defined]
    assert time.monotonic() - started < 3


def test_api_keys_never_reach_messages_or_httpx_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("FRED_API_KEY", "sekrit-key-123")
    caplog.set_level(logging.DEBUG)

    def answer(request: httpx.Request) -> httpx.Response:
        return _json('{"observations": [{"date": "2026-01-20", "val')  # truncated

    src = _source("fred", answer)
    logging.getLogger("httpx").info("HTTP Request: %s %s", "GET", httpx.URL(
        "https://api.stlouisfed.org/fred/series/observations?api_key=sekrit-key-123"))  # fmt: skip
    with pytest.raises(SourceError) as info:
        src.fetch("DFII10", None, None)  # type: ignore[attr-defined]
    assert "sekrit" not in str(info.value)
    assert "sekrit" not in caplog.text
    assert "api_key=***" in caplog.text or "api_key=%2A%2A%2A" in caplog.text


def test_good_values_still_pass() -> None:
    text = _chart(stamps=(1768914000,))  # 2026-01-20 13:00 UTC, a New York trading day
    frame = _source("yahoo", lambda r: _json(text)).fetch("SI=F", None, None)  # type: ignore[attr-defined]
    assert frame["value"].tolist() == [30.5]
    assert frame["date"].iloc[0] == pd.Timestamp("2026-01-20")


def test_a_passing_dns_failure_is_retried_and_keys_never_leak_through_messages() -> None:
    calls: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution")
        return _csv("observation_date,DFII10\n2026-01-20,1.9\n")

    frame = _source("fred", flaky).fetch("DFII10", None, None)  # type: ignore[attr-defined]
    assert frame["value"].tolist() == [1.9]
    assert len(calls) == 2

    def leaky(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError(f"peer closed on {request.url}?api_key=SECRETKEY123")

    with pytest.raises(SourceError) as info:
        _source("fred", leaky).fetch("DFII10", None, None)  # type: ignore[attr-defined]
    assert "SECRETKEY123" not in str(info.value)
