"""The DuckDB store: atomic writes, revisions, crash safety, concurrent writers, updates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from havenflow.catalog import get_spec
from havenflow.data.importer import import_file
from havenflow.data.repository import DataRepository
from havenflow.data.sources.base import RetryPolicy
from havenflow.data.store import ObservationBatch, Store
from havenflow.data.update import update_store
from havenflow.exceptions import DataValidationError, StoreBusyError


def series(start: str, values: list[float]) -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="D", name="date"))


def batch(sid: str, values: pd.Series) -> ObservationBatch:
    return ObservationBatch(get_spec(sid), values, "test", "T")


def snapshot(store: Store) -> pd.DataFrame:
    import duckdb

    con = duckdb.connect(str(store.path), read_only=True)
    try:
        return con.execute(
            "SELECT series_id, date, value, source FROM observations ORDER BY ALL"
        ).df()
    finally:
        con.close()


def test_round_trip_and_revision_upsert(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    assert store.read("gold") is None
    assert store.last_dates() == {}
    store.write([batch("gold", series("2024-01-01", [1.0, 2.0, 3.0]))])
    store.write([batch("gold", series("2024-01-03", [30.0, 4.0]))])  # revises 01-03, adds 01-04
    out = store.read("gold")
    assert out is not None
    assert out.tolist() == [1.0, 2.0, 30.0, 4.0]
    assert store.last_dates()["gold"] == pd.Timestamp("2024-01-04")
    assert store.read("gold", start="2024-01-02", end="2024-01-03").tolist() == [2.0, 30.0]  # type: ignore[union-attr]
    summary = store.summary().set_index("series_id")
    assert int(summary.loc["gold", "rows"]) == 4


def test_failed_write_leaves_store_unchanged(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    store.write([batch("gold", series("2024-01-01", [1.0, 2.0]))])
    before = snapshot(store)
    bad = series("2024-01-02", [5.0, np.nan])
    with pytest.raises(DataValidationError, match="missing value on 2024-01-03"):
        store.write([batch("silver", series("2024-01-01", [9.0])), batch("gold", bad)])
    pd.testing.assert_frame_equal(snapshot(store), before)


def test_exception_inside_transaction_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "s.duckdb")
    store.write([batch("gold", series("2024-01-01", [1.0, 2.0]))])
    before = snapshot(store)
    import havenflow.data.store as store_mod

    # Break the metadata statement, which runs after observations were deleted and inserted.
    monkeypatch.setattr(store_mod, "SCHEMA", store_mod.SCHEMA)
    original = store._connect

    def failing_connect(*, read_only: bool):  # type: ignore[no-untyped-def]
        cm = original(read_only=read_only)

        class Wrapped:
            def __enter__(self):  # type: ignore[no-untyped-def]
                con = cm.__enter__()

                class Con:
                    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
                        return getattr(con, name)

                    def execute(self, sql: str, *args: object):  # type: ignore[no-untyped-def]
                        if "series_meta SELECT" in sql:
                            raise RuntimeError("disk full")
                        return con.execute(sql, *args)

                return Con()

            def __exit__(self, *exc: object) -> None:
                cm.__exit__(*exc)

        return Wrapped()

    monkeypatch.setattr(store, "_connect", failing_connect)
    with pytest.raises(RuntimeError, match="disk full"):
        store.write([batch("gold", series("2024-01-02", [20.0, 30.0]))])
    monkeypatch.undo()
    pd.testing.assert_frame_equal(snapshot(Store(tmp_path / "s.duckdb")), before)


WRITER = textwrap.dedent(
    """
    import sys, time
    import numpy as np, pandas as pd
    from havenflow.catalog import get_spec
    from havenflow.data.store import ObservationBatch, Store
    import duckdb

    path, mode = sys.argv[1], sys.argv[2]
    values = pd.Series(np.arange(1.0, 200_001.0),
                       index=pd.date_range("1700-01-01", periods=200_000, freq="D", name="date"))
    store = Store(path, busy_timeout=float(sys.argv[3]) if len(sys.argv) > 3 else 10.0)
    if mode == "hang":
        # Hold the write lock inside an open transaction with rows inserted, then wait to be killed.
        with store._connect(read_only=False) as con:
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM observations")
            con.register("v", pd.DataFrame({"d": values.index, "x": values.to_numpy()}))
            con.execute("INSERT INTO observations SELECT 'gold', CAST(d AS DATE), x, 'crash', now() FROM v")
            print("ready", flush=True)
            time.sleep(60)
    elif mode == "write":
        store.write([ObservationBatch(get_spec(sys.argv[4]), values, "proc", "P")])
        print("written", flush=True)
    """
)


def _spawn(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", proc.stderr.read() if proc.stderr else ""


def test_killed_writer_leaves_store_exactly_as_before(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    store.write([batch("gold", series("2024-01-01", [1.0, 2.0, 3.0]))])
    before = snapshot(store)
    proc = _spawn(tmp_path, str(store.path), "hang")
    _wait_ready(proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)  # reap it and close its pipes
    assert proc.returncode == -signal.SIGKILL
    pd.testing.assert_frame_equal(snapshot(store), before)
    store.write([batch("silver", series("2024-01-01", [5.0]))])  # and the store is still writable
    assert store.read("silver").tolist() == [5.0]  # type: ignore[union-attr]


def test_second_writer_gets_store_busy_then_succeeds_after(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    store.write([batch("gold", series("2024-01-01", [1.0]))])
    holder = _spawn(tmp_path, str(store.path), "hang")
    _wait_ready(holder)
    try:
        busy = Store(store.path, busy_timeout=0.3)
        with pytest.raises(StoreBusyError, match=r"store busy: another process is writing to"):
            busy.write([batch("silver", series("2024-01-01", [5.0]))])
        with pytest.raises(StoreBusyError):
            busy.read("gold")
    finally:
        holder.kill()
        holder.communicate(timeout=30)
    # Two writers racing: both finish (one waits for the other), nothing is corrupted.
    a = _spawn(tmp_path, str(store.path), "write", "30", "silver")
    b = _spawn(tmp_path, str(store.path), "write", "30", "copper")
    for proc in (a, b):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == "written"
    last = store.last_dates()
    assert set(last) == {"gold", "silver", "copper"}
    assert len(store.read("copper")) == 200_000  # type: ignore[arg-type]
    assert store.read("gold").tolist() == [1.0]  # type: ignore[union-attr]


# ---- update -------------------------------------------------------------------------------

FRED_BODY = "observation_date,{sym}\n2026-01-20,1.90\n2026-01-21,1.91\n2026-01-22,1.92\n"


def test_update_fetches_only_new_with_overlap_and_one_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FRED_API_KEY", raising=False)
    store = Store(tmp_path / "s.duckdb")
    store.write([batch("real_yield_10y", series("2026-01-10", [1.5, 1.6]))])
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        sym = request.url.params["id"]
        if sym == "DGS2":
            return httpx.Response(500, text="down")
        return httpx.Response(200, text=FRED_BODY.format(sym=sym))

    client = httpx.Client(transport=httpx.MockTransport(answer))
    events: list[tuple[str, str]] = []
    outcomes = update_store(
        store,
        ["real_yield_10y", "ust_2y", "breakeven_10y", "platinum"],
        client=client,
        on_progress=lambda s, e: events.append((s, e)),
        source_options={"sleep": lambda s: None, "policy": RetryPolicy(attempts=2)},
    )
    by_id = {o.series_id: o for o in outcomes}
    assert by_id["real_yield_10y"].status == "updated"
    assert by_id["real_yield_10y"].new_rows == 3
    assert by_id["ust_2y"].status == "failed"
    assert "HTTP 500" in by_id["ust_2y"].message
    assert by_id["platinum"].status == "skipped"
    assert by_id["breakeven_10y"].new_rows == 3
    # incremental: the stored series was asked from its last date minus the 10-day overlap
    first = next(r for r in seen if r.url.params["id"] == "DFII10")
    assert first.url.params["cosd"] == "2026-01-01"
    assert "cosd" not in next(r for r in seen if r.url.params["id"] == "T10YIE").url.params
    assert store.read("ust_2y") is None  # a failed series writes nothing
    assert store.read("real_yield_10y").tolist() == [1.5, 1.6, 1.90, 1.91, 1.92]  # type: ignore[union-attr]
    assert ("ust_2y", "failed") in events
    assert ("breakeven_10y", "done") in events


def test_update_that_returns_bad_data_writes_nothing_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FRED_API_KEY", raising=False)
    store = Store(tmp_path / "s.duckdb")
    body = "observation_date,DTWEXBGS\n2026-01-20,120\n2026-01-21,-3\n"
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, text=body)))
    [outcome] = update_store(store, ["usd_broad"], client=client)
    assert outcome.status == "failed"
    assert "non-positive value -3.0 on 2026-01-21" in outcome.message
    assert store.read("usd_broad") is None


# ---- import and repository --------------------------------------------------------------


def test_import_validates_and_is_all_or_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    good = tmp_path / "deficit.csv"
    good.write_text("date,deficit,demand\n2023-12-31,-184.0,654\n2024-12-31,-149.0,680\n")
    results = import_file(store, good, kind="money_stock")
    assert [r.series_id for r in results] == ["deficit", "demand"]
    bad = tmp_path / "bad.csv"
    bad.write_text("date,a,b\n2024-01-01,1,2\n2024-01-02,3,x\n")
    with pytest.raises(
        DataValidationError, match=r"bad.csv, line 3, column 'b': 'x' is not a number"
    ):
        import_file(store, bad)
    assert store.read("a") is None
    with pytest.raises(DataValidationError, match="is a catalog series"):
        import_file(store, good, name="gold", column="demand")
    repo = DataRepository(store=store)
    loaded = repo.load("deficit")
    assert loaded.origin == "store"
    assert loaded.values.tolist() == [-184.0, -149.0]
    assert "deficit" in repo.ids()


def test_repository_falls_back_to_embedded_and_says_so(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    repo = DataRepository(store=store)
    loaded = repo.load("silver")
    assert loaded.origin == "embedded"
    store.write([batch("silver", series("2026-08-01", [70.0, 71.0]))])
    fresh = DataRepository(store=store).load("silver")
    assert fresh.origin == "store"
    assert fresh.values.loc["2026-08-01":].tolist() == [70.0, 71.0]
    # The bundled history before the store's first date is kept (an update never shortens).
    assert fresh.first == loaded.first
    assert "before 2026-08-01: the bundled data" in fresh.detail


def test_repository_asof_respects_publication_lag() -> None:
    repo = DataRepository(store=None)
    m2 = repo.load("m2", asof="2026-01-23")
    # December 2025 M2 is published in late January 2026 (month end + 28 days): not yet known.
    assert m2.last == pd.Timestamp("2025-11-01")
    gold = repo.load("gold", asof="2026-01-23")
    assert gold.last == pd.Timestamp("2026-01-23")


def test_a_repository_reads_the_store_once_for_several_series(tmp_path: Path) -> None:
    from tests.conftest import truncated_store

    from havenflow.data.repository import DataRepository

    ids = ["silver", "gold", "bitcoin", "sp500"]
    store = Store(truncated_store(tmp_path / "s.duckdb", ids, "2025-12-31"))
    opened = []
    original = Store._connect

    def counting(self: Store, *, read_only: bool):  # type: ignore[no-untyped-def]
        opened.append(read_only)
        return original(self, read_only=read_only)

    Store._connect = counting  # type: ignore[method-assign]
    try:
        repo = DataRepository(store=store)
        first = repo.load_many(ids, "2025-06-30")
        again = repo.load_many(ids)
    finally:
        Store._connect = original  # type: ignore[method-assign]
    # one connection for the metadata (specs), one for the four series; none the second time
    assert len(opened) <= 2
    for sid in ids:
        assert first[sid].origin == "store"
        pd.testing.assert_series_equal(again[sid].values, store.read(sid), check_freq=False)
        assert first[sid].values.index[-1] <= pd.Timestamp("2025-06-30")
    assert store.read_many([]) == {}
    assert set(store.read_many(["silver", "nope"])) == {"silver"}


# ---- revisions and vintages ----------------------------------------------------------------


def test_the_store_never_overwrites_history(tmp_path: Path) -> None:
    import datetime as dt

    store = Store(tmp_path / "s.duckdb")
    first = series("2025-01-01", [100.0, 101.0, 102.0])
    store.write([batch("m2", first)])
    between = dt.datetime.now(dt.UTC)
    time.sleep(0.01)
    revised = series("2025-01-02", [101.5, 102.0, 103.0])  # one revision, one same, one new
    store.write([batch("m2", revised)])
    now = store.read("m2")
    assert now is not None
    assert now.tolist() == [100.0, 101.5, 102.0, 103.0]
    then = store.read("m2", known_at=between)
    assert then is not None
    assert then.tolist() == [100.0, 101.0, 102.0]  # the store as it knew that moment
    history = store.revisions("m2")
    assert history["value"].tolist() == [101.0]  # only the value that changed is kept aside
    assert (history["superseded_at"] > history["fetched_at"]).all()
    assert store.read("m2", known_at="2000-01-01") is None  # nothing was known yet


def test_updates_refetch_whole_revision_windows(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    store.write([batch("m2", series("2025-01-01", [100.0]))])  # monthly, last 2025-01-01
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.params.get("cosd", ""))
        return httpx.Response(
            200,
            text="observation_date,M2SL\n2025-01-01,100.5\n",
            headers={"Content-Type": "text/csv"},
        )

    client = httpx.Client(transport=httpx.MockTransport(answer))
    [outcome] = update_store(store, ["m2"], client=client, source_options={"sleep": lambda s: None})
    assert outcome.status in {"updated", "unchanged"}
    # 400 days back from January 2025, from the first of that month: whole months.
    assert asked == ["2023-11-01"]
    assert store.revisions("m2")["value"].tolist() == [100.0]


# ---- hostile imports -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("date,x\n2024-01-02,inf\n", r"line 2, column 'x': value is infinite"),
        ("date,x\n2024-01-02,1e400\n", r"line 2, column 'x': value is infinite"),
        (
            "date,x\n2024-01-02,1.7e308\n",
            r"line 2, column 'x': value 1\.7e\+308 is not finite or not below 1e\+12",
        ),
        ("date,x\n2024-01-02,2e12\n", r"not below 1e\+12"),
        ("date,x\n2225-01-02,5\n", r"date 2225-01-02 is outside 1800-01-01\.\."),
        ("date,x\n1677-09-22,5\n", r"date 1677-09-22 is outside"),
    ],
)
def test_absurd_values_and_dates_are_refused_naming_line_and_column(
    tmp_path: Path, body: str, message: str
) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(body)
    store = Store(tmp_path / "s.duckdb")
    with pytest.raises(DataValidationError, match=message) as info:
        import_file(store, f, kind="index_level")
    assert "\n" not in str(info.value)
    assert not store.exists


def test_ids_are_matched_whole_and_existing_ids_need_replace_or_append(tmp_path: Path) -> None:
    f = tmp_path / "d.csv"
    f.write_text("date,demand\n2024-01-02,5\n2024-01-03,6\n")
    store = Store(tmp_path / "s.duckdb")
    for bad in ("silver\n", "", "x" * 100_000):
        with pytest.raises(DataValidationError) as info:
            import_file(store, f, name=bad)
        assert "\n" not in str(info.value)
        assert len(str(info.value)) < 400  # bounded, whatever was typed
    import_file(store, f, name="demand_x")
    with pytest.raises(DataValidationError, match="already has 'demand_x'; pass --replace"):
        import_file(store, f, name="demand_x")
    with pytest.raises(DataValidationError, match="stored as a price"):
        import_file(store, f, name="demand_x", kind="rate_pct", existing="append")
    g = tmp_path / "g.csv"
    g.write_text("date,demand\n2024-01-04,7\n")
    import_file(store, g, name="demand_x", existing="append")
    assert store.read("demand_x").tolist() == [5.0, 6.0, 7.0]  # type: ignore[union-attr]
    import_file(store, g, name="demand_x", existing="replace")
    assert store.read("demand_x").tolist() == [7.0]  # type: ignore[union-attr]


def test_replace_keeps_history_and_two_columns_cannot_share_an_id(tmp_path: Path) -> None:
    f = tmp_path / "d.csv"
    f.write_text("date,demand\n2024-01-02,5\n2024-01-03,6\n")
    store = Store(tmp_path / "s.duckdb")
    import_file(store, f, name="demand_y")
    g = tmp_path / "g.csv"
    g.write_text("date,demand\n2024-01-04,7\n")
    import_file(store, g, name="demand_y", existing="replace")
    assert store.read("demand_y").tolist() == [7.0]  # type: ignore[union-attr]
    assert store.revisions("demand_y")["value"].tolist() == [5.0, 6.0]  # kept, not erased
    both = tmp_path / "both.csv"
    both.write_text("date,Demand,demand \n2024-01-02,5,6\n")
    with pytest.raises(DataValidationError, match="both become 'demand'"):
        import_file(store, both)
