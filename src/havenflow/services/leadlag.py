"""Lead-lag requests: one pair, several pairs with q-values, VAR blocks, HY."""

from __future__ import annotations

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
from havenflow.data.repository import DataRepository
from havenflow.exceptions import (
    DataValidationError,
    InsufficientDataError,
)
from havenflow.services._load import aligned_moves
from havenflow.universe import (
    BARS_PER_YEAR,
    DEFAULT_MAX_LAG,
    DEFAULT_VAR_MAX_LAG,
    LAG_UNITS,
    VAR_IRF_PERIODS,
    UserFrequency,
    check_freq,
)

if TYPE_CHECKING:
    pass

Method = Literal["xcorr", "granger", "hy", "var"]


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
    freq = check_freq(req.freq)
    if req.leader == req.follower:
        raise DataValidationError("leader and follower are the same series")
    if req.lag < 1:
        raise DataValidationError(f"--max-lag must be at least 1, got {req.lag}")
    unit = LAG_UNITS[freq]
    if req.method == "hy":
        return _run_hy(repo, req)
    if req.method == "var":
        return _run_var(repo, req)
    # A rolling scan reports window by window: each window only sees what was published by
    # its end (known placement); one scan as of a date places values on the days they
    # describe (observed).
    moves, _ = aligned_moves(
        repo,
        [req.leader, req.follower],
        freq,
        req.asof,
        levels=req.levels,
        placement="known" if req.rolling else "observed",
    )
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
    freq = check_freq(req.freq)
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
