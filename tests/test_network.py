"""Lead-lag networks: the pairwise test for every pair, identical on every scheduler, planted
groups recovered, the null calibrated, memory planned, and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from havenflow.analytics.leadlag.xcorr import CrossCorrelation
from havenflow.analytics.network import LeadLagNetwork
from havenflow.analytics.network.graph import adjusted_rand_index
from havenflow.analytics.network.scan import chunk_plan
from havenflow.exceptions import DataValidationError


def planted(n_leaders: int, n_followers: int, bars: int, lag: int, seed: int) -> pd.DataFrame:
    """Leaders move with a common factor; followers with the same factor ``lag`` bars later."""
    rng = np.random.default_rng(seed)
    factor = rng.standard_normal(bars + lag)
    leaders = factor[lag:, None] + rng.standard_normal((bars, n_leaders))
    followers = factor[:bars, None] + rng.standard_normal((bars, n_followers))
    names = [f"l{i}" for i in range(n_leaders)] + [f"f{i}" for i in range(n_followers)]
    return pd.DataFrame(np.hstack([leaders, followers]), columns=names)


def test_every_pair_gets_the_pairwise_scans_numbers() -> None:
    moves = planted(3, 4, 400, 2, seed=1)
    result = LeadLagNetwork(moves, max_lag=8).fit(199, seed=11, scheduler="sync")
    children = np.random.SeedSequence(11).spawn(moves.shape[1])
    pairs = result.pairs.set_index(["leader", "follower"])
    for i, j in [(0, 1), (0, 4), (2, 6), (3, 5)]:
        a, b = moves.columns[i], moves.columns[j]
        pairwise = CrossCorrelation(moves[a], moves[b], max_lag=8).fit(
            199, seed=np.random.default_rng(children[i])
        )
        row = pairs.loc[(a, b)] if (a, b) in pairs.index else pairs.loc[(b, a)]
        assert row["lag"] == abs(pairwise.lag)
        assert row["correlation"] == pytest.approx(pairwise.correlation, abs=1e-12)
        assert row["stat"] == pytest.approx(pairwise.stat, rel=1e-9)
        assert row["pvalue"] == pytest.approx(pairwise.pvalue, abs=1.5 / 200)  # float32 sums
        leader = a if pairwise.lag >= 0 else b
        assert (a, b) in pairs.index if leader == a else (b, a) in pairs.index


def test_planted_groups_are_found_and_ranked() -> None:
    moves = planted(6, 10, 500, 2, seed=3)
    result = LeadLagNetwork(moves, max_lag=10).fit(299, seed=0, scheduler="sync")
    truth = np.array([0] * 6 + [1] * 10)
    labels = result.scores["cluster"].to_numpy()
    assert adjusted_rand_index(truth, labels) == 1.0
    assert list(labels[:6]) == [0] * 6  # the leading group comes first
    flows = result.to_dict()["clusters"]
    assert flows[0]["flow"]["1"] > 0
    top = result.scores.sort_values("rank")["id"].head(6)
    assert set(top) == {f"l{i}" for i in range(6)}
    cross = result.pairs[
        result.pairs["leader"].str.startswith("l") & result.pairs["follower"].str.startswith("f")
    ]
    assert (cross["lag"] == 2).all()
    assert (cross["qvalue"] <= 0.05).all()


def test_the_null_is_calibrated_across_pairs() -> None:
    rng = np.random.default_rng(5)
    # Independent GARCH-like series: volatility clustering but no cross-dependence.
    bars, assets = 500, 24
    vol = np.exp(np.cumsum(rng.standard_normal((bars, assets)) * 0.1, axis=0) * 0.3)
    moves = pd.DataFrame(rng.standard_normal((bars, assets)) * vol)
    result = LeadLagNetwork(moves, max_lag=10).fit(199, seed=2, scheduler="sync")
    rate = float((result.pairs["pvalue"] <= 0.05).mean())
    assert 0.02 <= rate <= 0.09, rate  # 276 pairs: 5% +- about 2.6 standard errors
    assert (result.pairs["qvalue"] > 0.05).all()  # no structure: nothing significant


@pytest.mark.parametrize("scheduler", ["local", "tcp"])
def test_every_scheduler_gives_identical_numbers(scheduler: str) -> None:
    moves = planted(4, 6, 300, 1, seed=8)
    network = LeadLagNetwork(moves, max_lag=5)
    sync = network.fit(99, seed=4, scheduler="sync", budget_mb=0.05)  # several chunks
    if scheduler == "local":
        other = network.fit(99, seed=4, scheduler="local", budget_mb=0.05)
    else:
        from dask.distributed import LocalCluster

        with LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            host="127.0.0.1",
        ) as cluster:
            address = cluster.scheduler_address
            assert address.startswith("tcp://127.0.0.1:")
            other = network.fit(99, seed=4, scheduler=address, budget_mb=0.05)
    pd.testing.assert_frame_equal(sync.pairs, other.pairs)
    pd.testing.assert_frame_equal(sync.scores, other.scores)


def test_chunks_cover_every_leader_once_and_shrink_as_the_universe_grows() -> None:
    small = chunk_plan(100, 2000, 20, budget_mb=64)
    large = chunk_plan(2000, 2000, 20, budget_mb=64)
    assert len(small[0]) > len(large[0])
    for plan, n in ((small, 100), (large, 2000)):
        covered = np.concatenate(plan)
        assert list(covered) == list(range(n - 1))  # the last asset leads no pair (j > i)


def test_adjusted_rand_index_against_hand_values() -> None:
    assert adjusted_rand_index([0, 0, 1, 1], [1, 1, 0, 0]) == 1.0
    assert adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(-0.5)
    # sklearn's documented example: [0, 0, 1, 2] vs [0, 0, 1, 1] gives 0.5714...
    assert adjusted_rand_index([0, 0, 1, 2], [0, 0, 1, 1]) == pytest.approx(0.5714285714)


def test_bad_inputs_are_refused() -> None:
    moves = planted(2, 2, 300, 1, seed=1)
    with pytest.raises(DataValidationError, match="at least 3 assets"):
        LeadLagNetwork(moves.iloc[:, :2])
    with pytest.raises(DataValidationError, match="needs at least 80"):
        LeadLagNetwork(moves.iloc[:50], max_lag=20)
    with pytest.raises(DataValidationError, match="scheduler must be"):
        LeadLagNetwork(moves, max_lag=5).fit(99, scheduler="mpi")
    with pytest.raises(DataValidationError, match="missing or non-finite"):
        LeadLagNetwork(moves.mask(moves > 2), max_lag=5).fit(99, scheduler="sync")


def test_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import run_main

    monkeypatch.setenv("HAVENFLOW_HOME", str(tmp_path / "home"))
    universe = tmp_path / "universe.csv"
    universe.write_text("id\nsilver\ngold\nbitcoin\nsp500\n")
    code, out, err = run_main(
        [
            "network",
            "--universe",
            str(universe),
            "--scheduler",
            "sync",
            "--replicates",
            "99",
            "--asof",
            "2026-01-23",
            "--json",
        ],
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["assets"] == ["silver", "gold", "bitcoin", "sp500"]
    assert len(doc["pairs"]) == 6
    assert {"leader", "follower", "lag", "correlation", "pvalue", "qvalue"} <= set(doc["pairs"][0])
    assert {"id", "score", "rank"} <= set(doc["scores"][0])
    assert [c["cluster"] for c in doc["clusters"]] == [0, 1]
    for args, expected in [
        (["network", "silver", "gold", "nope"], "nope"),
        (["network", "silver", "gold", "sp500", "--scheduler", "mpi://x"], "scheduler must be"),
        (["network", "silver", "gold", "sp500", "--method", "granger"], "xcorr only"),
        (["network", "--universe", str(tmp_path / "none.csv")], "no such file"),
    ]:
        code, _, err = run_main(args, monkeypatch, capsys)
        assert code == 2, (args, err)
        assert expected in err, (args, err)
        assert len([x for x in err.splitlines() if x.strip()]) == 1, err


def test_the_dashboard_draws_the_network() -> None:
    from fastapi.testclient import TestClient

    from havenflow.data.repository import DataRepository
    from havenflow.web import models
    from havenflow.web.app import create_app

    client = TestClient(
        create_app(lambda: DataRepository(store=None), allowed_hosts=["testserver"])
    )
    body = client.get(
        "/api/network", params={"ids": "silver,gold,bitcoin,sp500", "asof": "2026-01-23"}
    ).json()
    assert body["assets"] == ["silver", "gold", "bitcoin", "sp500"]
    models.Network.model_validate(body)
    page = client.get("/network", params={"ids": "silver,gold,bitcoin,sp500", "max_lag": 10})
    assert page.status_code == 200
    assert "network-chart" in page.text
    too_many = ",".join(["silver"] * 41)
    assert client.get("/api/network", params={"ids": too_many}).status_code == 400
    assert client.get("/api/network", params={"max_lag": 61}).status_code == 400
    assert client.get("/api/network", params={"ids": "silver,gold,no_such"}).status_code == 404


def test_drawing_in_blocks_changes_no_number(monkeypatch: pytest.MonkeyPatch) -> None:
    import havenflow.analytics.network.scan as scan

    moves = planted(3, 5, 300, 1, seed=9)
    whole = LeadLagNetwork(moves, max_lag=5).fit(99, seed=1, scheduler="sync")
    monkeypatch.setattr(scan, "DRAWS_BUDGET_MB", 0.01)  # one follower per block of draws
    blocked = LeadLagNetwork(moves, max_lag=5).fit(99, seed=1, scheduler="sync")
    pd.testing.assert_frame_equal(whole.pairs, blocked.pairs)


def test_three_planted_leaders_rank_first_and_their_groups_are_recovered() -> None:
    rng = np.random.default_rng(21)
    bars, per_group, lag = 600, 6, 2
    columns, truth, parts = [], [], []
    for g in range(3):
        factor = rng.standard_normal(bars + lag)
        parts.append(factor[lag:, None] + 0.3 * rng.standard_normal((bars, 1)))  # the leader
        parts.append(factor[:bars, None] + 1.5 * rng.standard_normal((bars, per_group)))
        columns += [f"lead{g}"] + [f"g{g}_{i}" for i in range(per_group)]
        truth += [g] * (per_group + 1)
    moves = pd.DataFrame(np.hstack(parts), columns=columns)
    result = LeadLagNetwork(moves, max_lag=5).fit(
        499, seed=0, scheduler="sync", clusters=3, mode="groups"
    )
    top = set(result.scores.sort_values("rank")["id"].head(3))
    assert top == {"lead0", "lead1", "lead2"}
    assert adjusted_rand_index(np.array(truth), result.scores["cluster"].to_numpy()) == 1.0


def test_sync_and_the_default_dask_run_give_identical_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import run_main

    monkeypatch.setenv("HAVENFLOW_HOME", str(tmp_path / "home"))
    base = [
        "network",
        "silver",
        "gold",
        "bitcoin",
        "sp500",
        "copper",
        "--replicates",
        "99",
        "--asof",
        "2026-01-23",
        "--json",
    ]
    code, sync_out, err = run_main([*base, "--scheduler", "sync"], monkeypatch, capsys)
    assert code == 0, err
    code, dask_out, err = run_main(base, monkeypatch, capsys)  # default: LocalCluster
    assert code == 0, err
    sync_doc, dask_doc = json.loads(sync_out), json.loads(dask_out)
    assert (sync_doc.pop("scheduler"), dask_doc.pop("scheduler")) == ("sync", "local")
    assert sync_doc == dask_doc
