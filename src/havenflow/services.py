"""Load, align and transform series from a repository, then run an analysis.

The glue between the data layer and the pure analytics, shared by the CLI, the report and the
dashboard so that each one computes a number the same way. Every function takes an ``asof``:
only values known on or before it are used.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from havenflow.analytics.leadlag import (
    CrossCorrelation,
    CrossCorrelationResult,
    GrangerCausality,
    GrangerResult,
    NullMethod,
    RollingCrossCorrelation,
    RollingLeadLagResult,
    min_obs,
)
from havenflow.analytics.leadlag.hy import HayashiYoshida, HayashiYoshidaResult
from havenflow.analytics.leadlag.var import VARLeadLagResult, var_leadlag
from havenflow.analytics.multiple import benjamini_hochberg
from havenflow.catalog import SeriesSpec
from havenflow.data.align import align, transform
from havenflow.data.repository import DataRepository
from havenflow.exceptions import (
    DataValidationError,
    DataWarning,
    HavenflowError,
    InsufficientDataError,
)

if TYPE_CHECKING:
    from havenflow.analytics.divergence import DivergenceResult
    from havenflow.analytics.events import EventStudyResult
    from havenflow.analytics.outlook import OutlookResult
    from havenflow.analytics.performance import Snapshot
    from havenflow.analytics.regime import MarkovPhaseResult, PhaseResult

__all__ = [
    "BARS_PER_YEAR",
    "CORE_IDS",
    "DEFAULT_MAX_LAG",
    "DEFAULT_VAR_MAX_LAG",
    "DRIVER_LABELS",
    "LAG_UNITS",
    "SNAPSHOT_IDS",
    "VAR_IRF_PERIODS",
    "CommonAsOf",
    "LeadLagRequest",
    "PairScan",
    "aligned_moves",
    "common_asof",
    "driver_moves",
    "resolve_asof",
    "run_divergence",
    "run_drivers",
    "run_events",
    "run_leadlag",
    "run_outlook",
    "run_regime",
    "run_safehaven",
    "run_snapshot",
    "scan_pairs",
]

UserFrequency = Literal["D", "W", "M"]
Method = Literal["xcorr", "granger", "hy", "var"]

#: ``--freq`` to the alignment calendar: D is the trading-day (business-day) calendar, so
#: Bitcoin's weekend moves land in Monday's return, over the same span as the metals'.
_CALENDAR = {"D": "B", "W": "W", "M": "M"}
LAG_UNITS = {"D": "business days", "W": "weeks", "M": "months"}
BARS_PER_YEAR = {"D": 252, "W": 52, "M": 12}
DEFAULT_MAX_LAG = {"D": 120, "W": 26, "M": 12}
#: ``--method var``: largest lag order the criterion may choose, and impulse-response horizons.
DEFAULT_VAR_MAX_LAG = {"D": 20, "W": 8, "M": 6}
VAR_IRF_PERIODS = {"D": 20, "W": 12, "M": 12}


def _check_freq(freq: str) -> UserFrequency:
    if freq not in _CALENDAR:
        raise DataValidationError(f"--freq must be D, W or M, got {freq!r}")
    return freq  # type: ignore[return-value]


def _aligned_levels(
    repo: DataRepository, ids: list[str], calendar: str, asof: str | pd.Timestamp | None
) -> tuple[pd.DataFrame, dict[str, SeriesSpec], dict[str, Any]]:
    """Levels of ``ids`` on one calendar (align's rules), with their specs and loaded series."""
    loaded = repo.load_many(ids, asof)
    specs = {k: v.spec for k, v in loaded.items()}
    levels = align(
        {k: v.values for k, v in loaded.items()},
        calendar,  # type: ignore[arg-type]
        specs=specs,
        end=pd.Timestamp(asof) if asof is not None else None,
    )
    return levels, specs, loaded


def aligned_moves(
    repo: DataRepository,
    ids: list[str],
    freq: str = "D",
    asof: str | pd.Timestamp | None = None,
    *,
    levels: bool = False,
) -> tuple[pd.DataFrame, dict[str, SeriesSpec]]:
    """Returns (or changes, for yields) of ``ids`` on one calendar, point-in-time.

    Parameters
    ----------
    repo
        Where the series come from.
    ids
        Series ids.
    freq
        ``D`` (trading days), ``W`` (weeks ending Friday) or ``M`` (month ends).
    asof
        Only values known on or before this date are used.
    levels
        Return aligned levels instead of moves (spurious correlation: warned about).

    Returns
    -------
    tuple
        The frame (one column per id, only dates where every series has a value) and the specs.
    """
    user_freq = _check_freq(freq)
    frame, specs, _ = _aligned_levels(repo, ids, _CALENDAR[user_freq], asof)
    if levels:
        warnings.warn(
            "lead-lag on price levels: trending levels correlate at every lag (spurious "
            "correlation); the result is not evidence of a lead or a lag",
            DataWarning,
            stacklevel=2,
        )
        out = frame
    else:
        out = transform(frame, specs)
    out = out.dropna(how="any")
    if out.empty:
        raise InsufficientDataError(
            f"{', '.join(ids)} have no common dates with values in all"
            + (f" up to {pd.Timestamp(asof).date()}" if asof is not None else "")
        )
    return out, specs


@dataclass(frozen=True)
class LeadLagRequest:
    """What ``havenflow leadlag`` computes."""

    leader: str
    follower: str
    method: Method = "xcorr"
    freq: UserFrequency = "D"
    max_lag: int | None = None
    rolling: bool = False
    window: int | None = None
    asof: str | None = None
    seed: int | None = 0
    replicates: int = 999
    null: NullMethod = "multiplier"
    cov_type: str = "HAC"
    levels: bool = False
    ic: str = "bic"

    @property
    def lag(self) -> int:
        """The maximum lag, defaulting by frequency."""
        return self.max_lag if self.max_lag is not None else DEFAULT_MAX_LAG[self.freq]


LeadLagResult = (
    CrossCorrelationResult
    | GrangerResult
    | HayashiYoshidaResult
    | RollingLeadLagResult
    | VARLeadLagResult
)


def run_leadlag(repo: DataRepository, req: LeadLagRequest) -> LeadLagResult:
    """Run one lead-lag analysis for a pair (see :class:`LeadLagRequest`)."""
    freq = _check_freq(req.freq)
    if req.leader == req.follower:
        raise DataValidationError("leader and follower are the same series")
    if req.lag < 1:
        raise DataValidationError(f"--max-lag must be at least 1, got {req.lag}")
    unit = LAG_UNITS[freq]
    if req.method == "hy":
        return _run_hy(repo, req)
    if req.method == "var":
        return _run_var(repo, req)
    moves, _ = aligned_moves(repo, [req.leader, req.follower], freq, req.asof, levels=req.levels)
    leader, follower = moves[req.leader], moves[req.follower]
    names = {"leader_name": req.leader, "follower_name": req.follower}
    if req.rolling:
        if req.method != "xcorr":
            raise DataValidationError("--rolling runs the cross-correlation scan (--method xcorr)")
        if req.null != "multiplier":
            raise DataValidationError(
                "--rolling judges every window and their count with the sign-flip null "
                "(--null multiplier)"
            )
        # A year of bars, widened to the shortest window whose scan holds its size.
        window = req.window or max(BARS_PER_YEAR[freq], min_obs(req.lag))
        return RollingCrossCorrelation(
            leader, follower, req.lag, window, step="M", lag_unit=unit, **names
        ).fit(min(req.replicates, 499), seed=req.seed)
    if req.method == "xcorr":
        return CrossCorrelation(leader, follower, req.lag, lag_unit=unit, **names).fit(
            req.replicates, seed=req.seed, null=req.null
        )
    if req.method == "granger":
        return GrangerCausality(leader, follower, req.lag, lag_unit=unit, **names).fit(
            req.cov_type,  # type: ignore[arg-type]
            select="bic",
        )
    raise DataValidationError(f"--method must be xcorr, granger, hy or var, got {req.method!r}")


def _id_list(text: str, role: str) -> list[str]:
    ids = [s.strip() for s in text.split(",") if s.strip()]
    if not ids:
        raise DataValidationError(f"no {role} id in {text!r}")
    return ids


def _run_var(repo: DataRepository, req: LeadLagRequest) -> VARLeadLagResult:
    """A VAR of the leaders (a comma list: the causing block) and the followers.

    The lag order is chosen by ``req.ic`` up to ``req.max_lag`` (default
    :data:`DEFAULT_VAR_MAX_LAG`); the block Granger tests use ``req.cov_type``; the
    impulse-response bands use ``req.replicates`` and ``req.seed``.
    """
    freq = _check_freq(req.freq)
    if req.rolling:
        raise DataValidationError("--rolling runs the cross-correlation scan (--method xcorr)")
    leaders, followers = _id_list(req.leader, "leader"), _id_list(req.follower, "follower")
    ids = list(dict.fromkeys([*leaders, *followers]))
    if len(ids) < 2:
        raise DataValidationError(
            f"--method var needs at least two distinct series, got only {ids[0]}"
        )
    if req.ic not in ("aic", "bic", "hqic", "fpe"):
        raise DataValidationError(f"--ic must be aic, bic, hqic or fpe, got {req.ic!r}")
    max_lag = req.max_lag if req.max_lag is not None else DEFAULT_VAR_MAX_LAG[freq]
    moves, _ = aligned_moves(repo, ids, freq, req.asof, levels=req.levels)
    return var_leadlag(
        moves,
        leaders,
        followers,
        max_lags=max_lag,
        ic=req.ic,  # type: ignore[arg-type]
        cov_type=req.cov_type,  # type: ignore[arg-type]
        periods=VAR_IRF_PERIODS[freq],
        replicates=req.replicates,
        seed=req.seed,
        lag_unit=LAG_UNITS[freq],
    )


def _run_hy(repo: DataRepository, req: LeadLagRequest) -> HayashiYoshidaResult:
    """HRY on each series' own observation dates: no alignment, no common calendar."""
    if req.freq == "M":
        raise DataValidationError("--method hy works on daily or weekly lag grids (D or W)")
    if req.rolling:
        raise DataValidationError("--rolling runs the cross-correlation scan (--method xcorr)")
    loaded = repo.load_many([req.leader, req.follower], req.asof)
    paths = {}
    for sid, item in loaded.items():
        values = item.values.dropna()
        if not item.spec.is_differenced:
            if (values <= 0).any():
                bad = values.index[(values <= 0).to_numpy()][0]
                raise DataValidationError(f"{sid}: non-positive price on {bad.date()}")
            values = np.log(values)  # increments of log prices are log returns
        paths[sid] = values
    lo = max(p.index[0] for p in paths.values())
    hi = min(p.index[-1] for p in paths.values())
    if hi <= lo:
        raise InsufficientDataError(f"{req.leader} and {req.follower} do not overlap in time")
    step = pd.Timedelta(days=1 if req.freq == "D" else 7)
    grid = pd.TimedeltaIndex([step * k for k in range(-req.lag, req.lag + 1)])
    return HayashiYoshida(
        paths[req.leader][lo:hi],
        paths[req.follower][lo:hi],
        grid,
        lag_unit="days" if req.freq == "D" else "weeks",
        leader_name=req.leader,
        follower_name=req.follower,
    ).fit()


@dataclass(frozen=True)
class PairScan:
    """Several pairs scanned together, with Benjamini-Hochberg q-values across them."""

    method: str
    frequency: str
    results: tuple[CrossCorrelationResult | GrangerResult, ...]
    pvalues: np.ndarray
    qvalues: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """One row per pair: best lag (xcorr) or lag order (Granger), p-value and q-value."""
        rows = []
        for res, p, q in zip(self.results, self.pvalues, self.qvalues, strict=True):
            xcorr = res if isinstance(res, CrossCorrelationResult) else None
            rows.append(
                {
                    "leader": res.leader,
                    "follower": res.follower,
                    "lag": xcorr.lag if xcorr else None,
                    "lag_order": None
                    if xcorr or not isinstance(res, GrangerResult)
                    else res.lag_order,
                    "correlation": xcorr.correlation if xcorr else None,
                    "pvalue": float(p),
                    "qvalue": float(q),
                    "lag_unit": res.lag_unit,
                }
            )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: every pair's own result plus its q-value."""
        pairs = []
        for res, q in zip(self.results, self.qvalues, strict=True):
            d = res.to_dict()
            d["qvalue"] = float(q)
            pairs.append(d)
        return {
            "method": self.method,
            "frequency": self.frequency,
            "multiple_testing": "Benjamini-Hochberg q-values across the pairs scanned together",
            "pairs": pairs,
        }


def scan_pairs(
    repo: DataRepository, leaders: list[str], followers: list[str], base: LeadLagRequest
) -> PairScan:
    """Every leader against every follower, with q-values across the pairs."""
    if base.method == "var":
        raise DataValidationError(
            "--method var reads the comma lists as blocks (one VAR), it does not scan pairs"
        )
    if base.method == "hy" or base.rolling:
        raise DataValidationError("several pairs at once: use --method xcorr or granger")
    results: list[CrossCorrelationResult | GrangerResult] = []
    for leader in leaders:
        for follower in followers:
            if leader == follower:
                continue
            req = LeadLagRequest(**{**base.__dict__, "leader": leader, "follower": follower})
            res = run_leadlag(repo, req)
            assert isinstance(res, CrossCorrelationResult | GrangerResult)
            results.append(res)
    if not results:
        raise DataValidationError("no pair to scan: leaders and followers are the same series")
    pvalues = np.array([r.pvalue for r in results])
    return PairScan(base.method, base.freq, tuple(results), pvalues, benjamini_hochberg(pvalues))


# ---- market state (snapshot, divergence, drivers, safe haven) ---------------------------------

SNAPSHOT_IDS = ["silver", "gold", "bitcoin", "sp500", "nasdaq100", "copper", "dxy"]
DRIVER_IDS = {
    "real_yield": "real_yield_10y",
    "dollar": "usd_broad",
    "equities": "sp500",
    "vix": "vix",
}
DRIVER_LABELS = {
    "real_yield": "10y real yield change (pp)",
    "dollar": "broad dollar index log return",
    "rate_expectations": "2y yield minus fed funds, change (pp)",
    "equities": "S&P 500 log return",
    "vix": "VIX log change",
}


def _deflator(repo: DataRepository, asof: str | pd.Timestamp | None) -> pd.Series | None:
    """CPI on the dates each value became known, or ``None`` when there is no CPI."""
    from havenflow.data.align import known_dates
    from havenflow.exceptions import UnknownSeriesError

    try:
        cpi = repo.load("cpi", asof)
    except (UnknownSeriesError, InsufficientDataError):
        return None
    known = known_dates(
        pd.DatetimeIndex(cpi.values.index), cpi.spec.calendar, cpi.spec.known_lag_days
    )
    return pd.Series(cpi.values.to_numpy(dtype=float), index=pd.DatetimeIndex(known)).sort_index()


def run_snapshot(
    repo: DataRepository, ids: list[str] | None = None, asof: str | None = None
) -> Snapshot:
    """The snapshot of a universe (default :data:`SNAPSHOT_IDS`) as of a date."""
    from havenflow.analytics.performance import snapshot

    ids = ids or SNAPSHOT_IDS
    loaded = repo.load_many(ids, asof)
    when = pd.Timestamp(asof) if asof else max(v.last for v in loaded.values())
    return snapshot(
        {k: v.values for k, v in loaded.items()},
        {k: v.spec for k, v in loaded.items()},
        when,
        deflator=_deflator(repo, when),
    )


def run_divergence(
    repo: DataRepository, a: str = "silver", b: str = "bitcoin", asof: str | None = None
) -> DivergenceResult:
    """Divergence of A against B on the trading-day calendar."""
    from havenflow.analytics.divergence import Divergence

    if a == b:
        raise DataValidationError("divergence of a series against itself")
    levels, specs, _ = _aligned_levels(repo, [a, b], "B", asof)
    for sid, spec in specs.items():
        if spec.is_differenced:
            raise DataValidationError(f"{sid} is a {spec.kind}: divergence compares prices")
    levels = levels.dropna()
    return Divergence(levels, a, b).fit()


def driver_moves(
    repo: DataRepository, assets: list[str], freq: str = "D", asof: str | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Per-bar moves of ``assets`` and of the drivers, on one calendar, point-in-time.

    The rate-expectation proxy is the 2-year yield minus the effective fed funds rate; its
    change is the 2-year yield's change minus the policy rate's. Where the daily fed funds
    series has ended, the policy rate's change is taken as zero (it is zero on every day
    without a policy decision) and the notes say from when.
    """
    user_freq = _check_freq(freq)
    if user_freq == "M":
        raise DataValidationError("driver regressions run on D or W moves")
    ids = list(dict.fromkeys([*assets, *DRIVER_IDS.values(), "ust_2y", "fed_funds"]))
    levels, specs, loaded = _aligned_levels(repo, ids, _CALENDAR[user_freq], asof)
    moves = transform(levels, specs)
    ff_change = moves["fed_funds"]
    ff_last = loaded["fed_funds"].last
    notes = []
    if ff_last < moves.index[-1]:
        notes.append(
            f"daily fed funds ends {ff_last.date()}: after it, the rate-expectation proxy's "
            "change is the 2-year yield's change (policy rate assumed unchanged)"
        )
    ff_change = ff_change.where(moves.index <= ff_last, 0.0)
    out = pd.DataFrame({a: moves[a] for a in assets})
    for label, sid in DRIVER_IDS.items():
        out[label] = moves[sid]
    out["rate_expectations"] = moves["ust_2y"] - ff_change
    out = out[[*assets, "real_yield", "dollar", "rate_expectations", "equities", "vix"]]
    return out, {"notes": notes, "labels": DRIVER_LABELS}


def run_drivers(
    repo: DataRepository,
    asset: str,
    *,
    freq: str = "D",
    asof: str | None = None,
    window: str = "3M",
    years: float = 3.0,
    implied_by: str | None = None,
) -> dict[str, Any]:
    """Driver regressions, attribution of the window's move, and the factor-implied move."""
    from havenflow.analytics.drivers import DriverModel, attribute, implied_move
    from havenflow.analytics.performance import window_start

    assets = [asset] + ([implied_by] if implied_by and implied_by != asset else [])
    drivers = [d for d in DRIVER_LABELS if d not in assets]
    if asset == "sp500":
        drivers = [d for d in drivers if d != "equities"]
    moves, meta = driver_moves(repo, assets, freq, asof)
    moves = moves.dropna(subset=drivers)
    if moves.empty:
        raise InsufficientDataError("the drivers have no common dates")
    end = pd.Timestamp(asof) if asof is not None else pd.Timestamp(moves.index[-1])
    end = min(end, pd.Timestamp(moves.index[-1]))
    est_start = end - pd.DateOffset(days=round(365.25 * years))
    rolling_window = BARS_PER_YEAR[_check_freq(freq)]
    w_start = window_start(end, window)
    out: dict[str, Any] = {
        "asof": end.date().isoformat(),
        "frequency": freq,
        "window": window,
        "estimation": f"{years:g} years of {LAG_UNITS[_check_freq(freq)]} up to asof",
        "driver_labels": {d: DRIVER_LABELS[d] for d in drivers},
        "notes": meta["notes"],
    }
    fits = {}
    for a in assets:
        sample = moves[(moves.index > est_start) & (moves.index <= end)].dropna(subset=[a])
        fits[a] = DriverModel(sample, a, tuple(drivers), freq).fit(rolling_window=rolling_window)
    res = fits[asset]
    out["regression"] = res.to_dict()
    out["attribution"] = attribute(res, moves.dropna(subset=[asset]), w_start, end)
    if res.rolling_betas is not None:
        rb = res.rolling_betas
        sample = rb.groupby(pd.DatetimeIndex(rb.index).to_period("M")).tail(1)
        out["rolling_betas"] = [
            {"date": pd.Timestamp(str(d)).date().isoformat()}
            | {k: float(v) for k, v in row.items()}
            for d, row in sample.iterrows()
        ]
    if implied_by:
        ref = fits.get(implied_by)
        ref_move = float(moves[implied_by][(moves.index > w_start) & (moves.index <= end)].sum())
        out["implied_by"] = {
            "reference": implied_by,
            "reference_move": ref_move,
            "reference_simple_return": float(np.expm1(ref_move)),
            "reference_attribution": None
            if ref is None
            else attribute(ref, moves.dropna(subset=[implied_by]), w_start, end),
            "target": implied_move(res, moves.dropna(subset=[asset]), w_start, end),
        }
    return out


def run_safehaven(repo: DataRepository, asof: str | None = None, seed: int = 0) -> dict[str, Any]:
    """Hedge / safe-haven regressions for gold, silver and bitcoin; BTC's stress correlations."""
    from havenflow.analytics.safehaven import (
        SafeHavenRegression,
        conditional_correlation,
        stress_days,
    )

    ids = ["gold", "silver", "bitcoin", "sp500", "vix"]
    levels, specs, _ = _aligned_levels(repo, ids, "B", asof)
    moves = transform(levels, specs)
    regressions = [
        SafeHavenRegression(moves[a], moves["sp500"], a, "sp500").fit()
        for a in ("gold", "silver", "bitcoin")
    ]
    stress = stress_days(levels["vix"], levels["sp500"])
    cond = conditional_correlation(moves, "bitcoin", ["sp500", "gold"], stress, seed=seed)
    return {
        "asof": pd.Timestamp(moves.dropna(how="all").index[-1]).date().isoformat(),
        "stress_definition": "VIX above the 80th percentile of its trailing 252 days, or the "
        "S&P 500 more than 10% below its running high (both point-in-time)",
        "regressions": regressions,
        "conditional_correlation": cond,
    }


# ---- event studies --------------------------------------------------------------------------


def run_events(
    repo: DataRepository,
    trigger: str,
    target: str = "bitcoin",
    *,
    horizons: tuple[int, ...] | None = None,
    asof: str | None = None,
    min_gap: int = 21,
    replicates: int = 999,
    seed: int | None = 0,
) -> EventStudyResult:
    """Event study of ``target`` after ``trigger`` on the trading-day calendar, point-in-time."""
    from havenflow.analytics.events import EventStudy, parse_trigger

    parsed = parse_trigger(trigger)
    ids = list(dict.fromkeys([*parsed.series, target]))
    levels, specs, _ = _aligned_levels(repo, ids, "B", asof)
    if parsed.kind == "phase":
        # The phase of every date, from indicators known on that date (rule-based).
        phases = run_regime(repo, asof, markov=False).rules.phase
        levels = levels.join(phases.astype("float").rename("phase"), how="left")
    for sid in ids:
        if specs[sid].is_differenced:
            raise DataValidationError(
                f"{sid} is a {specs[sid].kind}: triggers and targets are prices"
            )
    study = EventStudy.from_trigger(levels, parsed, target, horizons, min_gap)
    return study.fit(replicates, seed=seed)


# ---- phases ------------------------------------------------------------------------------------

#: Series the phase indicators use; the first six are required.
PHASE_SERIES = [
    "vix",
    "sp500",
    "gold",
    "silver",
    "real_yield_10y",
    "usd_broad",
    "bitcoin",
    "m2",
    "fed_balance_sheet",
    "reverse_repo",
]


@dataclass(frozen=True)
class RegimeOutcome:
    """Rule-based phases and (optionally) the point-in-time Markov-switching probabilities."""

    rules: PhaseResult
    markov: MarkovPhaseResult | None
    markov_error: str | None

    def to_dict(self, history: bool = False) -> dict[str, Any]:
        """JSON-ready (``havenflow regime --json``); ``history`` adds every week's HMM row."""
        out: dict[str, Any] = self.rules.to_dict()
        last = self.rules.asof
        if self.markov is not None:
            markov = self.markov.to_dict(history=history)
            out["probabilities"] = markov["probabilities"]
            out["markov"] = markov
            source = markov["asof"]
        else:
            out["probabilities"] = None
            out["markov"] = {"error": self.markov_error}
            source = "—"
        out["probabilities_source"] = (
            "Markov-switching (Gaussian HMM) filtered point-in-time probabilities, week ending "
            + source
        )
        out["rules_asof"] = last.date().isoformat()
        out["episodes"] = self.episodes()
        return out

    def episodes(self) -> list[dict[str, Any]]:
        """Dominant phase of each known episode by the rules and the HMM (shares of weeks)."""
        from havenflow.analytics.regime import episode_table

        rows = []
        for rec in episode_table(self.rules.phase, self.markov).to_dict(orient="records"):
            rows.append(
                {
                    "episode": rec["episode"],
                    "start": rec["start"],
                    "end": rec["end"],
                    "sensible": list(rec["sensible"]),
                    "weeks": int(rec["weeks"]),
                    "rules_phase": rec["rules_phase"],
                    "rules_share": rec["rules_share"],
                    "rules_shares": {str(k): v for k, v in rec["rules_shares"].items()},
                    "hmm_weeks": int(rec["hmm_weeks"]),
                    "hmm_phase": rec["hmm_phase"],
                    "hmm_share": rec["hmm_share"],
                    "hmm_shares": {str(k): v for k, v in rec["hmm_shares"].items()},
                }
            )
        return rows


def run_regime(
    repo: DataRepository,
    asof: str | pd.Timestamp | None = None,
    *,
    window: int = 63,
    confirm: int = 21,
    markov: bool = True,
    seed: int | None = 0,
) -> RegimeOutcome:
    """Phases of the cycle on the trading-day calendar, point-in-time (claim C8).

    The rules classify every trading day from indicators known on that day; the HMM is
    re-estimated at every month end on the weeks known then and filters the following month
    (see :class:`~havenflow.analytics.regime.MarkovPhaseModel`), so every past date's phase
    and probability is what this function returns when run as of that date.
    """
    from havenflow.analytics.regime import (
        OPTIONAL,
        MarkovPhaseModel,
        PhaseClassifier,
        PhaseSpec,
    )
    from havenflow.exceptions import HavenflowError

    available = [sid for sid in PHASE_SERIES if sid not in OPTIONAL or _has_data(repo, sid, asof)]
    levels, _, _ = _aligned_levels(repo, available, "B", asof)
    rules = PhaseClassifier(levels, PhaseSpec(window=window, confirm=confirm)).fit()
    model = None
    error = None
    if markov:
        try:
            model = MarkovPhaseModel(rules.indicators, rules.phase).fit(seed=seed)
        except HavenflowError as exc:
            error = str(exc)
    return RegimeOutcome(rules, model, error)


def _has_data(repo: DataRepository, sid: str, asof: str | pd.Timestamp | None) -> bool:
    from havenflow.exceptions import HavenflowError

    try:
        return not repo.load(sid, asof).values.empty
    except HavenflowError:
        return False


# ---- outlook -----------------------------------------------------------------------------------


def run_outlook(
    repo: DataRepository,
    target: str = "bitcoin",
    asof: str | pd.Timestamp | None = None,
    *,
    horizons: tuple[int, ...] = (21, 63, 126),
    k_analogues: int = 30,
) -> OutlookResult:
    """Conditional outlook of ``target`` with its walk-forward record (claim C11)."""
    from havenflow.analytics.outlook import ConditionalOutlook, OutlookSpec
    from havenflow.analytics.regime import OPTIONAL

    ids = [sid for sid in PHASE_SERIES if sid not in OPTIONAL or _has_data(repo, sid, asof)]
    ids = list(dict.fromkeys([*ids, target]))
    levels, specs, _ = _aligned_levels(repo, ids, "B", asof)
    if specs[target].is_differenced:
        raise DataValidationError(f"{target} is a {specs[target].kind}: the outlook needs a price")
    if "bitcoin" not in levels:
        raise DataValidationError("the outlook's state needs bitcoin (the divergence)")
    spec = OutlookSpec(horizons=horizons, k_analogues=k_analogues)
    return ConditionalOutlook.from_levels(levels, target, spec).fit()


# ---- the default as-of date ----------------------------------------------------------------------

#: The series every claim of the report rests on (C1, C2: silver's rank among them; C10:
#: silver and bitcoin): the report's default as-of is the last date they all share.
CORE_IDS = ("silver", "gold", "sp500", "bitcoin")


def _names(ids: list[str]) -> str:
    return ids[0] if len(ids) == 1 else f"{', '.join(ids[:-1])} and {ids[-1]}"


@dataclass(frozen=True)
class CommonAsOf:
    """The last date that every needed series has a value, and where each series ends.

    Attributes
    ----------
    asof
        The last date known for every series in ``last`` (the minimum of their last dates).
    last
        Each needed series' last known date (publication lags included).
    context_last
        Last dates of series that are shown but not needed (reported when they end earlier).
    """

    asof: pd.Timestamp
    last: dict[str, pd.Timestamp]
    context_last: dict[str, pd.Timestamp]

    @staticmethod
    def _ends(ends: dict[str, pd.Timestamp], one: str, many: str) -> list[str]:
        by_date: dict[pd.Timestamp, list[str]] = {}
        for sid, day in ends.items():
            by_date.setdefault(day, []).append(sid)
        return [
            f"{_names(sids)} {one if len(sids) == 1 else many} {day.date()}"
            for day, sids in sorted(by_date.items())
        ]

    @property
    def message(self) -> str:
        """One line: the date, the series that share it, and those that end later or earlier."""
        ids = list(self.last)
        if len(ids) == 1:
            head = f"as of {self.asof.date()}, the last date of {ids[0]}"
        else:
            head = f"as of {self.asof.date()}, the last date {_names(ids)} share"
        later = {s: d for s, d in self.last.items() if d > self.asof}
        earlier = {s: d for s, d in self.context_last.items() if d < self.asof}
        parts = self._ends(later, "runs to", "run to") + self._ends(earlier, "ends", "end")
        return head + (f" ({'; '.join(parts)})" if parts else "")


def _last_known(repo: DataRepository, sid: str) -> pd.Timestamp:
    from havenflow.data.align import known_dates

    loaded = repo.load(sid)
    spec = loaded.spec
    known = known_dates(
        pd.DatetimeIndex(loaded.values.index[-1:]), spec.calendar, spec.known_lag_days
    )
    return pd.Timestamp(known[-1]).normalize()


def common_asof(
    repo: DataRepository, ids: list[str] | tuple[str, ...], *, context: tuple[str, ...] = ()
) -> CommonAsOf:
    """The default as-of of an analysis of ``ids``: the last date they all have a value.

    Parameters
    ----------
    repo
        Where the series come from.
    ids
        The series the analysis needs.
    context
        Series it shows but does not need (their end is only reported, when earlier).

    Raises
    ------
    UnknownSeriesError
        If an id has no data.
    """
    needed = list(dict.fromkeys(ids))
    if not needed:
        raise DataValidationError("common_asof needs at least one series id")
    last = {sid: _last_known(repo, sid) for sid in needed}
    context_last = {}
    for sid in dict.fromkeys(context):
        if sid in last:
            continue
        try:
            context_last[sid] = _last_known(repo, sid)
        except HavenflowError:
            continue  # a context series without data is simply not shown
    return CommonAsOf(min(last.values()), last, context_last)


def resolve_asof(
    repo: DataRepository,
    ids: list[str] | tuple[str, ...],
    asof: str | pd.Timestamp | None = None,
    *,
    context: tuple[str, ...] = (),
) -> CommonAsOf:
    """The as-of of an analysis of ``ids``: ``asof`` if given and covered, else the default.

    Raises
    ------
    DataValidationError
        If ``asof`` is malformed, or after the last date that every series in ``ids`` shares
        (the message names that date and the series that end there).
    """
    from havenflow.data.validate import parse_asof

    cutoff = parse_asof(asof) if asof is not None else None
    common = common_asof(repo, ids, context=context)
    if cutoff is None:
        return common
    if cutoff > common.asof:
        ending = [s for s, d in common.last.items() if d == common.asof]
        raise DataValidationError(
            f"--asof {cutoff.date()} is after {common.asof.date()}, the last date with data for "
            f"{_names(list(common.last))} ({_names(ending)} "
            f"{'ends' if len(ending) == 1 else 'end'} {common.asof.date()})"
        )
    return CommonAsOf(cutoff, common.last, common.context_last)
