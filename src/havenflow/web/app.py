"""The dashboard app: server-rendered pages over the report's figures, plus a typed JSON API.

A thin shell: every number comes from :mod:`havenflow.services` and
:mod:`havenflow.report`, so the dashboard, the CLI and the report agree. Inputs are validated
before any computation (unknown ids, malformed dates and absurd windows get a 4xx with a clear
message); templates autoescape everything, so names from imported files cannot inject markup;
no parameter is ever used as a file path. Results are cached per (inputs, data version).

The JSON endpoints declare pydantic response models (:mod:`havenflow.web.models`), so
``/openapi.json`` documents every field; ``/docs`` (Swagger UI) and ``/redoc`` load their
scripts from this server (the ``fastapi-offline`` package's copies), never from a CDN. Hosts and
response headers: :mod:`havenflow.web.security`.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import FastAPI, Query, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.middleware.trustedhost import TrustedHostMiddleware

from havenflow import __version__
from havenflow.data.repository import DataRepository
from havenflow.exceptions import DataValidationError, HavenflowError, UnknownSeriesError
from havenflow.web import models
from havenflow.web.security import SecurityHeaders, allowed_hosts_for, page_csp

__all__ = ["create_app", "serve"]

#: Where the docs pages' scripts, styles and icon are served from (see :func:`docs_assets`).
DOCS_ASSETS = "/assets/docs"

_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FREQS = ("D", "W", "M")
#: The most steps a timeline request may take (each step is a full check of the note): a bound
#: on the work one request can ask for. The command line allows more (``havenflow check
#: --history``).
MAX_WEB_STEPS = 36


class InputError(ValueError):
    """A request parameter is malformed (answered with 400)."""


#: Heavy computations (a report, a lead-lag scan, an event study, a timeline) run at once at
#: most this many (one per core of a small machine); one more is answered 503 with
#: Retry-After instead of queueing behind them. Cached answers and identical misses (which
#: wait for the computation already running) do not count.
MAX_HEAVY = 2
#: Seconds a new computation waits for a free slot before the 503.
HEAVY_WAIT_S = 0.5
#: The Retry-After of that 503, in seconds.
RETRY_AFTER_S = 10
#: How long a request waits for an identical computation already running, before its 503.
WAITER_TIMEOUT_S = 120.0


#: Bounds of a network request (each pair costs a scan): the command line takes more.
MAX_NETWORK_ASSETS = 40
MAX_NETWORK_LAG = 60

#: Entries kept apart for the dashboard's defaults (asked without a date).
PINNED = 16


class BusyError(RuntimeError):
    """Every slot for heavy computations is taken (answered with 503 and Retry-After)."""


def _date(value: str | None, name: str = "asof") -> str | None:
    if value is None or value == "":
        return None
    if not _DATE.match(value):
        raise InputError(f"{name} must be a date like 2026-01-23, got {value!r}")
    from havenflow.data.validate import parse_asof

    # One parser for the CLI and the web: a real calendar day from 1800-01-01 to today
    # (0000-01-01 and 1677-09-21 are outside what pandas can even represent).
    try:
        return parse_asof(value, name).date().isoformat()
    except DataValidationError as exc:
        raise InputError(str(exc)) from None


def _series_id(value: str, name: str) -> str:
    if not _ID.fullmatch(value):  # "$" would let a trailing newline through
        raise InputError(f"{name} must be a series id (letters, digits, underscore), got {value!r}")
    return value


#: The most horizons one event-study request may ask for (each costs a bootstrap).
MAX_HORIZONS = 12


def _horizons(value: str) -> tuple[int, ...]:
    """Sorted unique horizons: one canonical cache key whatever their order or repeats."""
    if len(value) > 200:
        raise InputError("horizons: at most 200 characters")
    try:
        hs = tuple(sorted({int(h) for h in value.split(",") if h.strip()}))
    except ValueError as exc:
        raise InputError(
            f"horizons must be integers separated by commas, got {value[:60]!r}"
        ) from exc
    if not hs or any(h < 1 or h > 504 for h in hs):
        raise InputError("each horizon must be between 1 and 504 trading days")
    if len(hs) > MAX_HORIZONS:
        raise InputError(f"at most {MAX_HORIZONS} horizons per request, got {len(hs)}")
    return hs


class _Cache:
    """A small LRU of results keyed by (inputs, data version), safe across threads.

    Single flight: concurrent misses of one key compute it once; the others wait for that
    result (or its error) instead of computing it again. Pinned entries (the dashboard's
    defaults, asked without a date) live in their own small LRU, so a crawl of many dates
    cannot evict them and make the front page slow for everyone.
    """

    def __init__(self, size: int = 64, heavy: int = MAX_HEAVY, wait: float = HEAVY_WAIT_S) -> None:
        self._data: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._pinned: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._flights: dict[tuple[Any, ...], Future[Any]] = {}
        self._size = size
        self._slots = threading.BoundedSemaphore(heavy)
        self._heavy = heavy
        self._wait = wait

    def get(self, key: tuple[Any, ...], compute: Callable[[], Any], *, pin: bool = False) -> Any:
        store = self._pinned if pin else self._data
        with self._lock:
            if key in store:
                store.move_to_end(key)
                return store[key]
            flight = self._flights.get(key)
            owner = flight is None
            if flight is None:
                flight = self._flights[key] = Future()
        if not owner:
            # The first miss's value, or its exception re-raised; a waiter does not wait
            # forever on a computation stuck behind others (its thread is needed too).
            try:
                return flight.result(timeout=WAITER_TIMEOUT_S)
            except FutureTimeout:
                raise BusyError(
                    f"busy: the same computation has been running for over "
                    f"{WAITER_TIMEOUT_S:.0f} s; retry in {RETRY_AFTER_S} s"
                ) from None
        if not self._slots.acquire(timeout=self._wait):
            busy = BusyError(
                f"busy: {self._heavy} computations are already running; retry in {RETRY_AFTER_S} s"
            )
            with self._lock:
                self._flights.pop(key, None)
            flight.set_exception(busy)
            raise busy
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                self._flights.pop(key, None)
            flight.set_exception(exc)
            raise
        finally:
            self._slots.release()
        with self._lock:  # stored and released in one step: no gap for a second compute
            store[key] = value
            while len(store) > (PINNED if pin else self._size):
                store.popitem(last=False)
            self._flights.pop(key, None)
        flight.set_result(value)
        return value


def docs_assets() -> Path:
    """The folder of Swagger UI's and Redoc's bundles (shipped by ``fastapi-offline``)."""
    return Path(str(files("fastapi_offline") / "static"))


def html_page(html: str, status_code: int = 200, *, workers: bool = False) -> HTMLResponse:
    """An HTML response whose CSP allows exactly its own inline scripts (by hash)."""
    return HTMLResponse(
        html,
        status_code=status_code,
        headers={"Content-Security-Policy": page_csp(html, workers=workers)},
    )


def create_app(
    repository: Callable[[], DataRepository] | None = None,
    *,
    allowed_hosts: Sequence[str] | None = None,
    max_heavy: int = MAX_HEAVY,
) -> FastAPI:
    """Build the app.

    Parameters
    ----------
    repository
        Gives the data (default: the store plus bundled data).
    allowed_hosts
        Host headers answered (default: 127.0.0.1, localhost and [::1]); any other gets 400.
    max_heavy
        Heavy computations allowed at once; beyond them a request gets 503 with Retry-After.
    """
    from havenflow.data.store import Store

    def default_repo() -> DataRepository:
        return DataRepository(store=Store())

    make_repo = repository or default_repo
    cache = _Cache(heavy=max_heavy)
    env = Environment(
        loader=PackageLoader("havenflow.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    app = FastAPI(
        title="havenflow",
        version=__version__,
        description="Cross-asset rotation claims, tested with data: verdicts, lead-lag and "
        "event studies as of any date. Lags are signed: positive means the leader moves first, "
        "in bars of the named calendar (`lag_unit`). Returns are log returns unless a field "
        "says otherwise; `null` stands for a number that cannot be computed.",
        docs_url=None,
        redoc_url=None,
    )
    # Outermost last: every response, the Host refusals included, gets the security headers.
    app.add_middleware(
        TrustedHostMiddleware,
        allowed_hosts=list(allowed_hosts) if allowed_hosts is not None else allowed_hosts_for(),
    )
    app.add_middleware(SecurityHeaders)
    app.mount(DOCS_ASSETS, StaticFiles(directory=docs_assets()), name="docs-assets")

    def data_version(repo: DataRepository) -> str:
        # The store file's size and mtime change with every write; bundled data change only
        # with the package version.
        path = getattr(repo.store, "path", None)
        if isinstance(path, Path) and path.exists():
            st = path.stat()
            return f"{__version__}:{st.st_size}:{st.st_mtime_ns}"
        return __version__

    def cached(
        kind: str,
        params: tuple[Any, ...],
        fn: Callable[[DataRepository], Any],
        *,
        pin: bool = False,
    ) -> Any:
        repo = make_repo()
        return cache.get((kind, params, data_version(repo)), lambda: fn(repo), pin=pin)

    @app.exception_handler(HavenflowError)
    async def _havenflow_error(request: Request, exc: HavenflowError) -> Response:
        status = 404 if isinstance(exc, UnknownSeriesError) else 400
        return _error(request, status, str(exc))

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> Response:
        return _error(request, 400, str(exc))

    @app.exception_handler(BusyError)
    async def _busy(request: Request, exc: BusyError) -> Response:
        response = _error(request, 503, str(exc))
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response

    def _error(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message}, status_code=status)
        page = env.get_template("error.html.j2").render(status=status, message=message)
        return html_page(page, status)

    def report_for(asof: str | None) -> dict[str, Any]:
        from havenflow.report import ReportOptions, build_report

        return dict(
            cached(
                "report",
                (asof,),
                lambda r: build_report(r, ReportOptions(asof=asof, backtest=False)),
                pin=asof is None,
            )
        )

    def leadlag_for(leader: str, follower: str, freq: str, max_lag: int, asof: str | None) -> Any:
        from havenflow.services import LeadLagRequest, run_leadlag

        req = LeadLagRequest(
            leader=leader,
            follower=follower,
            freq=freq,  # type: ignore[arg-type]  # checked against _FREQS by check_pair
            max_lag=max_lag,
            asof=asof,
        )
        return cached(
            "leadlag",
            (leader, follower, freq, max_lag, asof),
            lambda r: {"asof": asof, "frequency": freq} | run_leadlag(r, req).to_dict(),
            pin=asof is None,
        )

    def events_for(trigger: str, target: str, horizons: tuple[int, ...], asof: str | None) -> Any:
        from havenflow.services import run_events

        return cached(
            "events",
            (trigger, target, horizons, asof),
            lambda r: run_events(r, trigger, target, horizons=horizons, asof=asof).to_dict(),
            pin=asof is None,
        )

    def timeline_for(note: str, start: str | None, end: str | None, step: str) -> Any:
        """The timeline of a bundled note (default: the 12 month ends up to its date)."""
        from havenflow.claims import bundled_notes, resolve_note
        from havenflow.claims.timeline import STEPS, TimelineOptions, step_dates, verdict_timeline

        if note not in bundled_notes():
            raise InputError(
                f"note must be a bundled note ({', '.join(bundled_notes())}), got {note!r}"
            )
        if step not in STEPS:
            raise InputError(f"step must be one of {', '.join(STEPS)}, got {step!r}")
        parsed = resolve_note(note)
        last = _date(end, "end") or parsed.date.date().isoformat()
        first = (
            _date(start, "start")
            or (pd.Timestamp(last) - pd.DateOffset(months=11, days=31)).date().isoformat()
        )
        n = len(step_dates(first, last, step, limit=None))
        if n > MAX_WEB_STEPS:
            raise InputError(
                f"{first}..{last} at step {step} is {n} steps; the dashboard takes at most "
                f"{MAX_WEB_STEPS} (use `havenflow check {note} --history {first}..{last}` for more)"
            )
        return cached(
            "timeline",
            (note, first, last, step),
            lambda r: (
                {"note": note, "requested": {"start": first, "end": last, "step": step}}
                | verdict_timeline(parsed, r, TimelineOptions(first, last, step))
            ),
        )

    def check_pair(leader: str, follower: str, freq: str, max_lag: int) -> None:
        _series_id(leader, "leader")
        _series_id(follower, "follower")
        if freq not in _FREQS:
            raise InputError(f"freq must be one of {', '.join(_FREQS)}, got {freq!r}")
        if not 1 <= max_lag <= 260:
            raise InputError(f"max_lag must be between 1 and 260, got {max_lag}")

    @app.get("/api/series", summary="Series available", response_model=list[models.SeriesInfo])
    def api_series() -> list[dict[str, Any]]:
        from havenflow.catalog import load_catalog

        return [{"id": s.id, "name": s.name} for s in load_catalog().values()]

    @app.get(
        "/api/series/{series_id}",
        summary="One series' values up to asof",
        response_model=models.SeriesValues,
    )
    def api_series_values(series_id: str, asof: str | None = None) -> dict[str, Any]:
        sid = _series_id(series_id, "series id")
        when = _date(asof)
        loaded = make_repo().load(sid, when)
        values = loaded.values
        return {
            "id": sid,
            "name": loaded.spec.name,
            "origin": loaded.origin,
            "dates": [d.date().isoformat() for d in pd.DatetimeIndex(values.index)],
            "values": values.astype(float).tolist(),
        }

    @app.get(
        "/api/report",
        summary="Every claim's verdict, numbers and chart data",
        response_model=models.Report,
        response_model_exclude_unset=True,
    )
    def api_report(asof: str | None = None) -> dict[str, Any]:
        return report_for(_date(asof))

    @app.get(
        "/api/timeline",
        summary="A bundled note's verdicts at every step of a range, with the track record",
        response_model=models.Timeline,
    )
    def api_timeline(
        note: str = "silver-bitcoin-2026-01",
        start: str | None = None,
        end: str | None = None,
        step: str = "M",
    ) -> dict[str, Any]:
        return dict(timeline_for(note, start, end, step))

    def watch_docs(watch_id: str | None = None) -> list[dict[str, Any]]:
        """The watched notes of the store, with their runs and alerts (read only)."""
        from havenflow.monitor import WatchStore

        store = make_repo().store
        if store is None:
            return []
        watches = WatchStore(store)
        listed = watches.watches()
        if watch_id is not None:
            _series_id(watch_id.replace("-", "_").replace(".", "_"), "note")
            listed = [w for w in listed if w.watch_id == watch_id]
            if not listed:
                raise InputError(f"no watched note {watch_id!r}; see /api/watch")
        out = []
        for w in listed:
            history = watches.history(w.watch_id)
            runs = []
            if len(history):
                # The latest run of each date.
                last = history.sort_values("started_at").groupby("asof")["started_at"].max()
                for day, started in last.items():
                    rows = history[(history["asof"] == day) & (history["started_at"] == started)]
                    runs.append(
                        {
                            "asof": str(pd.Timestamp(str(day)).date()),
                            "states": dict(zip(rows["item"], rows["value"], strict=True)),
                        }
                    )
            out.append(
                {
                    "id": w.watch_id,
                    "title": w.title,
                    "source": w.source,
                    "triggers": list(w.triggers),
                    "runs": runs,
                    "alerts": watches.alerts(w.watch_id)[:200],
                }
            )
        return out

    @app.get(
        "/api/watch",
        summary="Watched notes: each run's verdicts, phase and triggers, and the alert log",
        response_model=list[models.Watch],
    )
    def api_watch(note: str | None = None) -> list[dict[str, Any]]:
        return watch_docs(note)

    @app.get("/watch", response_class=HTMLResponse, summary="The watchlist page")
    def watch_page(note: str | None = None) -> HTMLResponse:
        docs = watch_docs(note)
        html = env.get_template("watch.html.j2").render(watches=docs, version=__version__)
        return html_page(html)

    def network_for(ids: str, freq: str, max_lag: int, asof: str | None) -> dict[str, Any]:
        """A network of at most MAX_NETWORK_ASSETS series, computed in this process."""
        from havenflow.services.network import default_universe, run_network

        if freq not in _FREQS:
            raise InputError(f"freq must be one of {', '.join(_FREQS)}, got {freq!r}")
        if not 1 <= max_lag <= MAX_NETWORK_LAG:
            raise InputError(f"max_lag must be between 1 and {MAX_NETWORK_LAG}, got {max_lag}")
        if len(ids) > 2000:
            raise InputError("ids: at most 2000 characters")
        chosen = [_series_id(i.strip(), "ids") for i in ids.split(",") if i.strip()]
        if len(chosen) > MAX_NETWORK_ASSETS:
            raise InputError(
                f"at most {MAX_NETWORK_ASSETS} series per request, got {len(chosen)} "
                "(use `havenflow network` on a Dask cluster for more)"
            )

        def compute(r: DataRepository) -> dict[str, Any]:
            universe = chosen or default_universe(r, asof)
            return run_network(
                r, universe, freq=freq, max_lag=max_lag, asof=asof, scheduler="sync"
            ).to_dict()

        key = (",".join(chosen), freq, max_lag, asof)
        return dict(cached("network", key, compute, pin=asof is None and not chosen))

    @app.get(
        "/api/network",
        summary="Lead-lag network of a universe (every pair; positive lag = leader first)",
        response_model=models.Network,
    )
    def api_network(
        ids: str = "", freq: str = "D", max_lag: int = 20, asof: str | None = None
    ) -> dict[str, Any]:
        return network_for(ids, freq, max_lag, _date(asof))

    @app.get("/network", response_class=HTMLResponse, summary="The lead-lag network page")
    def network_page(
        ids: str = "", freq: str = "D", max_lag: int = 20, asof: str | None = None
    ) -> HTMLResponse:
        from havenflow.report.figures import network_chart
        from havenflow.report.render import figure

        when = _date(asof)
        doc = network_for(ids, freq, max_lag, when)
        chart = figure(network_chart(doc)).to_html(
            full_html=False, include_plotlyjs=False, div_id="network-chart"
        )
        html = env.get_template("network.html.j2").render(
            doc=doc,
            chart=chart,
            form={"ids": ids, "freq": freq, "max_lag": max_lag, "asof": when or ""},
            pairs=sorted(doc["pairs"], key=lambda p: (p["qvalue"] or 1.0, p["pvalue"] or 1.0))[:20],
            version=__version__,
        )
        return html_page(html)

    def backtest_for(
        strategy: str,
        asset: str | None,
        start: str | None,
        end: str | None,
        cost_bps: float | None,
        rebalance: str | None,
    ) -> dict[str, Any]:
        """A built-in strategy's backtest against the benchmarks (cached per parameters)."""
        from havenflow.services.backtest import STRATEGIES, builtin_strategy, run_backtest

        if strategy not in STRATEGIES:
            raise InputError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
        if rebalance is not None and rebalance not in _FREQS:
            raise InputError(f"rebalance must be one of D, W, M, got {rebalance!r}")
        if cost_bps is not None and not (math.isfinite(cost_bps) and 0 <= cost_bps <= 1000):
            raise InputError(f"cost_bps must be between 0 and 1000, got {cost_bps!r}")
        a = None if asset in (None, "") else _series_id(str(asset), "asset")
        cfg = builtin_strategy(strategy, a, rebalance)  # type: ignore[arg-type]

        def compute(r: DataRepository) -> dict[str, Any]:
            return run_backtest(
                r, cfg, start=start, end=end, cost_bps=cost_bps, replicates=499
            ).to_dict()

        key = (strategy, a, start, end, cost_bps, rebalance)
        return dict(cached("backtest", key, compute, pin=end is None and start is None))

    @app.get(
        "/api/backtest",
        summary="Backtest of a built-in rotation against BTC, gold, 60/40 and equal weight",
        response_model=models.Backtest,
    )
    def api_backtest(
        strategy: str = "phase_rotation",
        asset: str | None = None,
        start: str | None = None,
        end: str | None = None,
        cost_bps: float | None = None,
        rebalance: str | None = None,
    ) -> dict[str, Any]:
        return backtest_for(
            strategy, asset, _date(start, "start"), _date(end, "end"), cost_bps, rebalance or None
        )

    @app.get("/backtest", response_class=HTMLResponse, summary="The backtest page")
    def backtest_page(
        strategy: str = "phase_rotation",
        asset: str | None = None,
        start: str | None = None,
        end: str | None = None,
        cost_bps: float | None = None,
        rebalance: str | None = None,
    ) -> HTMLResponse:
        from havenflow.report.figures import backtest_charts
        from havenflow.report.render import figure

        s, e = _date(start, "start"), _date(end, "end")
        doc = backtest_for(strategy, asset, s, e, cost_bps, rebalance or None)
        charts = [
            figure(c).to_html(
                full_html=False, include_plotlyjs=False, config={"displaylogo": False}
            )
            for c in backtest_charts(doc)
        ]
        runs = [doc["strategy"], *doc["benchmarks"]]
        if doc["sweep"] and doc["sweep"]["walk_forward"]:
            runs.append(doc["sweep"]["walk_forward"])
        html = env.get_template("backtest.html.j2").render(
            doc=doc,
            runs=runs,
            charts=charts,
            form={
                "strategy": strategy,
                "asset": asset or "",
                "start": s or "",
                "end": e or "",
                "cost_bps": cost_bps,
                "rebalance": rebalance or "",
            },
            version=__version__,
        )
        return html_page(html)

    @app.get("/timeline", response_class=HTMLResponse, summary="The verdict timeline page")
    def timeline_page(
        note: str = "silver-bitcoin-2026-01",
        start: str | None = None,
        end: str | None = None,
        step: str = "M",
    ) -> HTMLResponse:
        from havenflow.claims import bundled_notes
        from havenflow.report.render import timeline_figures

        doc = timeline_for(note, start, end, step)
        charts = [
            f.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})
            for f in timeline_figures(doc)
        ]
        html = env.get_template("timeline.html.j2").render(
            doc=doc,
            info=doc["timeline_info"],
            charts=charts,
            notes=list(bundled_notes()),
            form={"note": note, **doc["requested"]},
            version=__version__,
        )
        return html_page(html)

    @app.get(
        "/api/leadlag",
        summary="Lead-lag scan for a pair (positive lag = leader moves first)",
        response_model=models.LeadLag,
        response_model_exclude_unset=True,
    )
    def api_leadlag(
        leader: str = "silver",
        follower: str = "bitcoin",
        freq: str = "W",
        max_lag: int = 26,
        asof: str | None = None,
    ) -> Any:
        check_pair(leader, follower, freq, max_lag)
        return leadlag_for(leader, follower, freq, max_lag, _date(asof))

    @app.get(
        "/api/events",
        summary="Event study for a trigger",
        response_model=models.EventStudy,
        response_model_exclude_unset=True,
    )
    def api_events(
        trigger: str = "silver:high(252)",
        target: str = "bitcoin",
        horizons: str = "5,10,21,42,63,126",
        asof: str | None = None,
    ) -> Any:
        _series_id(target, "target")
        return events_for(trigger, target, _horizons(horizons), _date(asof))

    @app.get("/assets/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        from plotly.offline import get_plotlyjs

        return Response(
            get_plotlyjs(),
            media_type="application/javascript",
            headers={"Cache-Control": "max-age=86400"},
        )

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(docs_assets() / "favicon.png", media_type="image/png")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            oauth2_redirect_url=None,
            swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from swagger.io
        )
        return html_page(bytes(page.body).decode())

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )
        return html_page(bytes(page.body).decode(), workers=True)

    @app.get("/", response_class=HTMLResponse, summary="The dashboard")
    def dashboard(
        asof: str | None = None,
        leader: str = "silver",
        follower: str = "bitcoin",
        freq: str = "W",
        max_lag: Annotated[int, Query()] = 26,
        trigger: str = "silver:high(252)",
        target: str = "bitcoin",
        horizons: str = "5,10,21,42,63,126",
    ) -> HTMLResponse:
        from havenflow.claims.charts import event_chart, leadlag_chart
        from havenflow.report.render import VERDICT_CLASS, figure

        when = _date(asof)
        check_pair(leader, follower, freq, max_lag)
        _series_id(target, "target")
        hs = _horizons(horizons)
        rep = report_for(when)
        ll = leadlag_for(leader, follower, freq, max_lag, when)
        ev = events_for(trigger, target, hs, when)
        ll_fig = figure(
            leadlag_chart(
                ll,
                f"{leader} → {follower}: cross-correlation by lag ({ll['lag_unit']}), "
                f"best {ll['lag']:+d}, scan-adjusted p {ll['pvalue']:.2f}",
            )
        )
        ev_fig = figure(event_chart(ev, f"{target} after {trigger} ({ev['n_events']} events)"))
        html = env.get_template("dashboard.html.j2").render(
            report=rep,
            verdict_class=VERDICT_CLASS,
            form={
                "asof": when or "",
                "leader": leader,
                "follower": follower,
                "freq": freq,
                "max_lag": max_lag,
                "trigger": trigger,
                "target": target,
                "horizons": horizons,
            },
            series=[s["id"] for s in api_series()],
            leadlag=ll,
            events=ev,
            leadlag_chart=ll_fig.to_html(
                full_html=False, include_plotlyjs=False, div_id="leadlag-chart"
            ),
            events_chart=ev_fig.to_html(
                full_html=False, include_plotlyjs=False, div_id="events-chart"
            ),
            version=__version__,
        )
        return html_page(html)

    return app


def serve(host: str = "127.0.0.1", port: int = 8050, allow_hosts: Iterable[str] = ()) -> None:
    """Run the dashboard with uvicorn (``havenflow serve``).

    It answers Host headers naming loopback, ``host`` itself and ``allow_hosts`` only.
    """
    import uvicorn

    app = create_app(allowed_hosts=allowed_hosts_for(host, allow_hosts))
    uvicorn.run(app, host=host, port=port, log_level="info")
