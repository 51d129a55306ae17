"""Response models of the JSON API: what ``/openapi.json`` documents, field by field.

The endpoints build the same dicts the CLI's ``--json`` prints (results' ``to_dict()``, the
report's document); these models validate and serialise them, so a renamed or retyped key
fails loudly instead of reaching a client silently. Every model allows extra keys (a field
added upstream still reaches the client rather than turning into a 500); the test suite checks
that no document carries a key these models do not describe, charts' data apart.

Conventions shared by every model: ``lag`` is signed, positive means the leader moves first,
in bars of the named calendar (``lag_unit``); returns are log returns (log points: 100 x log
change) unless a field says otherwise; a ``pvalue`` is the probability, under the stated
``null_hypothesis``, of a statistic at least as extreme as the one observed; ``null`` stands
for a number that cannot be computed (too few observations, NaN).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from havenflow.data.repository import Origin

__all__ = [
    "AveragePathPoint",
    "BottomLine",
    "Chart",
    "Claim",
    "ClaimNumber",
    "ClaimSummary",
    "DataSource",
    "EventHorizon",
    "EventStudy",
    "Forecast",
    "LeadLag",
    "LeadLagProfilePoint",
    "MethodNote",
    "NoteInfo",
    "Report",
    "ReportOptions",
    "Sensitivity",
    "SeriesInfo",
    "SeriesValues",
]

Number = int | float
"""A JSON number kept as it came (an int stays an int)."""

DATE = r"^\d{4}-\d{2}-\d{2}$"


class _Doc(BaseModel):
    """Base: extra keys pass through (see the module docstring)."""

    model_config = ConfigDict(extra="allow")


class _Versioned(_Doc):
    kind: str = Field(description="The result's kind (which estimator produced it).")
    schema_version: int = Field(
        description="Version of this document's layout; bumped when a key is renamed or removed."
    )


# -- series -------------------------------------------------------------------------------


class SeriesInfo(_Doc):
    """One series of the catalog."""

    id: str = Field(description="Series id, as used in every other endpoint.", examples=["silver"])
    name: str = Field(description="Human-readable name, with the instrument and the price used.")


class SeriesValues(_Doc):
    """One series' values known on or before ``asof``."""

    id: str = Field(description="Series id.")
    name: str = Field(description="Human-readable name.")
    origin: Origin = Field(
        description="Where the values came from: 'user' (a --data file), 'store' (fetched) or "
        "'embedded' (bundled sample data)."
    )
    dates: list[str] = Field(description="Observation dates (ISO days), ascending.")
    values: list[float] = Field(
        description="Values on those dates, in the series' own unit (price, level or rate)."
    )


# -- lead-lag -----------------------------------------------------------------------------


class LeadLagProfilePoint(_Doc):
    """The cross-correlation at one lag, with the pointwise 95% band under the null."""

    lag: int = Field(description="Lag in bars of lag_unit; positive = leader moves first.")
    correlation: float = Field(description="corr(leader_t, follower_{t+lag}) of returns.")
    lower: float = Field(description="Lower end of the pointwise 95% band under the null.")
    upper: float = Field(description="Upper end of the pointwise 95% band under the null.")


class LeadLag(_Versioned):
    """Lagged cross-correlation scan of a leader's and a follower's returns (``kind: xcorr``)."""

    asof: str | None = Field(
        description="Last date of data used (ISO day); null: the latest available."
    )
    frequency: Literal["D", "W", "M"] = Field(
        description="Calendar of the returns: D business days, W weeks, M months."
    )
    leader: str = Field(description="Series id of the candidate leader.")
    follower: str = Field(description="Series id of the candidate follower.")
    lag_unit: str = Field(
        description="Unit of every lag: bars of the aligned calendar.", examples=["weeks"]
    )
    nobs: int = Field(description="Number of aligned return observations.")
    lag: int = Field(
        description="Lag with the largest |correlation|, in bars of lag_unit. Sign convention: "
        "positive = leader moves first (the leader at t goes with the follower at t+lag); "
        "negative = the follower moves first."
    )
    correlation: float = Field(description="Correlation at the best lag, in [-1, 1].")
    pvalue: float = Field(
        description="Scan-adjusted p-value: probability, under null_hypothesis, of a maximum "
        "|statistic| over all scanned lags at least as large as observed. Small values mean "
        "some lag's correlation is unlikely under independence; it accounts for the scan "
        "over every lag."
    )
    stat: float = Field(description="The scan statistic: max over lags of |t(lag)|.")
    naive_pvalue: float = Field(
        description="Pointwise p-value of the best lag as if chosen in advance (ignores the "
        "scan; shown for contrast only)."
    )
    lag_conf_int: tuple[int, int] = Field(
        description="95% interval of the best lag (bootstrap percentiles), in bars of lag_unit."
    )
    replicates: int = Field(description="Number of null/bootstrap draws.")
    block_length: float = Field(description="Mean block length of the resampling, in bars.")
    seed: int | None = Field(description="Random seed of the draws (null: not seeded).")
    null_method: str = Field(
        description="How the null is simulated: 'multiplier' (block sign-flip) or "
        "'stationary' (stationary bootstrap of the follower)."
    )
    method: str = Field(description="Lead-lag method.", examples=["xcorr"])
    lag_convention: str = Field(description="How to read lag, in words, with the unit.")
    null_hypothesis: str = Field(description="The null the p-value and the bands assume.")
    profile: list[LeadLagProfilePoint] = Field(
        description="One entry per scanned lag, from -max_lag to +max_lag."
    )


# -- events -------------------------------------------------------------------------------


class EventHorizon(_Doc):
    """Forward returns of the target ``horizon`` bars after the events, against the baseline."""

    horizon: int = Field(description="Horizon in trading days (bars of the target).")
    n: int = Field(description="Events with a complete window at this horizon.")
    mean: float | None = Field(description="Mean forward log return after events.")
    median: float | None = Field(description="Median forward log return after events.")
    hit_rate: float | None = Field(description="Share of events with a positive return.")
    baseline_mean: float = Field(description="Mean forward log return over all days.")
    baseline_hit_rate: float = Field(description="Share of all days with a positive return.")
    excess_mean: float | None = Field(description="mean - baseline_mean (log return).")
    ci_low: float | None = Field(description="Lower end of the 95% bootstrap CI of excess_mean.")
    ci_high: float | None = Field(description="Upper end of the 95% bootstrap CI of excess_mean.")
    pvalue: float | None = Field(
        description="Bootstrap p-value of excess_mean = 0 (two-sided): probability under "
        "the block-bootstrap null of an excess at least as large in magnitude."
    )
    verdict: str = Field(
        description="'higher than baseline', 'lower than baseline', 'no different from "
        "baseline' or 'inconclusive'."
    )


class AveragePathPoint(_Doc):
    """The target's cumulative log return ``bar`` bars after an event."""

    bar: int = Field(description="Bars after the event (0 = the event's close).")
    mean: float | None = Field(description="Mean cumulative log return across events.")
    p10: float | None = Field(description="10th percentile across events.")
    p90: float | None = Field(description="90th percentile across events.")
    baseline: float | None = Field(description="Mean cumulative log return over all days.")


class EventStudy(_Versioned):
    """Event study: the target's forward returns after each onset of a trigger."""

    trigger: str = Field(description="The trigger as given.", examples=["silver:high(252)"])
    description: str = Field(description="The trigger in words.")
    target: str = Field(description="Series id whose forward returns are measured.")
    sample_start: str = Field(description="First date of the sample (ISO day).")
    sample_end: str = Field(description="Last date of the sample (ISO day).")
    n_events: int = Field(description="Number of (declustered) events.")
    event_dates: list[str] = Field(description="Dates of the events (ISO days).")
    return_definition: str = Field(description="What a forward return is, in words.")
    inference: str = Field(description="How CIs and p-values are computed, in words.")
    horizons: list[EventHorizon] = Field(description="One entry per requested horizon.")
    average_path: list[AveragePathPoint] = Field(
        description="Average cumulative path, bar by bar, up to the longest horizon."
    )


# -- report -------------------------------------------------------------------------------


class ReportOptions(_Doc):
    """The options the report was built with."""

    asof: str | None = Field(description="Requested as-of date; null: the note's default.")
    seed: int = Field(description="Random seed of every bootstrap.")
    replicates: int = Field(description="Bootstrap/null draws per test.")
    sensitivity: bool = Field(description="Whether claims were re-judged under alternatives.")
    fdr_level: float = Field(description="Level of the note-wide Benjamini-Hochberg control.")


class ClaimSummary(_Doc):
    """One claim and its verdict."""

    id: str = Field(description="Claim id (C1, C2, ...).")
    claim: str = Field(description="The claim, in words.")
    verdict: str = Field(
        description="'supported', 'not supported', 'inconclusive' or 'not testable' (the "
        "explanation says why)."
    )
    q_value: Number | None = Field(
        default=None, description="Benjamini-Hochberg q-value across the note's tests."
    )
    robustness: str | None = Field(
        default=None, description="'robust', 'fragile' or 'untested' under the alternatives."
    )


class Sensitivity(_Doc):
    """The verdict recomputed under alternative reasonable parameters."""

    label: str = Field(description="'robust' (same verdict under every alternative) or 'fragile'.")
    alternatives: list[dict[str, Any]] = Field(
        description="label, changed parameters, verdict, pvalue, reason (when not testable)."
    )


class Forecast(_Doc):
    """What a claim implies for an asset's forward return, as written and by its evidence."""

    asset: str = Field(description="Series id.")
    days: list[int] = Field(description="Span in trading days from the claim's date.")
    claimed: str = Field(description="What the claim says: up, down, not up, not down.")
    direction: int = Field(description="What the evidence says: 1 up, -1 down, 0 no edge.")
    basis: str = Field(description="The numbers behind the direction.")


class BottomLine(_Doc):
    """Agreements and tensions between the note's claims, from their numbers."""

    text: list[str] = Field(description="The bottom line, one sentence per item.")
    tally: dict[str, int] = Field(description="Number of claims per verdict.")
    agreements: list[dict[str, Any]] = Field(description="Pairs of claims that agree.")
    tensions: list[dict[str, Any]] = Field(description="Pairs of claims in tension.")


class NoteInfo(_Doc):
    """The note the report judges."""

    title: str = Field(description="The note's title.")
    date: str = Field(description="When it was written (ISO day): the default as-of.")
    source: str | None = Field(default=None, description="Where the note comes from.")
    summary: str | None = Field(default=None, description="The note's summary, if any.")
    path: str = Field(description="The note file, or the bundled note's name.")


class ClaimNumber(_Doc):
    """One number behind a verdict."""

    label: str = Field(description="What the number is.")
    display: str = Field(description="The number formatted for reading, with its unit.")
    value: Number | None = Field(description="The raw value (fractions, not percent).")


class Chart(_Doc):
    """Data of one chart. Keys besides ``kind`` and ``title`` depend on the kind.

    Kinds: price_markers, ranking, relative_strength, tails, attribution, line, series_beside,
    stress_bars, phases, implied, leadlag_profile, rolling_lag, event_path, irf, fan.
    """

    kind: str = Field(description="Chart kind; decides the other keys.")
    title: str = Field(description="Chart title.")


class Claim(ClaimSummary):
    """One claim with the numbers, the rule and the chart(s) behind its verdict."""

    kind: str = Field(description="The claim's kind (havenflow kinds lists them).")
    params: dict[str, Any] = Field(description="The kind's parameters, validated.")
    on: str | None = Field(default=None, description="The date the claim is about, if dated.")
    negate: bool = Field(description="Whether the note claims the opposite of the kind's test.")
    judged_on: str = Field(description="The date the claim was judged at (ISO day).")
    numbers: list[ClaimNumber] = Field(description="The numbers the verdict rests on.")
    explanation: str = Field(description="The verdict's reasoning in words.")
    rule: str = Field(description="The decision rule, stated before looking at the data.")
    charts: list[Chart] = Field(description="The claim's charts.")
    pvalue: Number | None = Field(default=None, description="p-value of the claim's test.")
    test: str | None = Field(default=None, description="The claim's test's null, in words.")
    sensitivity: Sensitivity | None = Field(default=None, description="Sensitivity block.")
    forecasts: list[Forecast] = Field(description="What the claim implies for forward returns.")
    deciding: ClaimNumber | None = Field(
        default=None, description="The number the verdict turns on (drawn under a timeline)."
    )
    notes: list[str] = Field(description="Caveats specific to the claim.")


class MethodNote(_Doc):
    """A method note of the report."""

    name: str = Field(description="Which part of the analysis.")
    text: str = Field(description="The method, in words.")


class DataSource(_Doc):
    """One series the report used."""

    id: str = Field(description="Series id.")
    name: str = Field(description="Human-readable name.")
    first: str = Field(description="First date with a value (ISO day).")
    last: str = Field(description="Last date with a value on or before asof (ISO day).")
    origin: Origin = Field(description="'user', 'store' or 'embedded'.")
    known: str = Field(
        description="How its publication days are dated: on its own day, a release schedule "
        "(an approximation), ALFRED's vintages, or a fixed lag."
    )
    attribution: str = Field(description="Data source and licence note.")


class HindsightRow(_Doc):
    """One scored look at what followed a claim (never changes its as-of verdict)."""

    claim: str = Field(description="Claim id.")
    kind: str = Field(description="The claim's kind.")
    label: str = Field(description="What is scored.")
    asset: str | None = Field(description="The asset whose path is scored, if any.")
    horizon: int | None = Field(description="Horizon (see horizon_unit).")
    horizon_unit: str = Field(description="Unit of the horizon: trading days (business days).")
    start_date: str = Field(description="The close the return starts from (ISO day).")
    end_date: str | None = Field(description="The horizon's last close; null while pending.")
    through: str = Field(description="The last close read (the end, or the data's last day).")
    status: Literal["complete", "pending", "observed"] = Field(
        description="complete; pending (horizon past the data); observed (descriptive)."
    )
    realised: Number | None = Field(description="Realised log return (or observed value).")
    expected: Number | None = Field(description="The as-of central value (log return).")
    claimed: str | None = Field(description="What the claim said: up, down, not up, not down.")
    held: bool | None = Field(description="Whether the claimed direction came true.")
    evidence: int | None = Field(default=None, description="As-of evidence: +1, -1, 0 (none).")
    evidence_held: bool | None = Field(default=None, description="Whether the evidence held.")
    scores: dict[str, Any] = Field(description="pit, crps, crps_baseline, in_interval, ...")
    text: str = Field(description="The row in words.")


class HindsightInfo(_Doc):
    """The hindsight section's end date, charts, summary and method."""

    end: str | None = Field(description="The last date of the data read (null: none after).")
    charts: dict[str, list[Chart]] = Field(description="Realised paths per claim.")
    notes: list[str] = Field(description="What could not be scored, and why.")
    summary: list[str] = Field(description="The section in words.")
    tallies: list[str] = Field(description="Per claim: how many of its checks held.")
    method: str = Field(description="How the rows are computed.")


class Report(_Doc):
    """The report: every claim's verdict, numbers and chart data as of one date."""

    title: str = Field(description="Report title (the note's).")
    note: NoteInfo
    asof: str = Field(description="Date the report is as of (ISO day).")
    asof_reason: str = Field(description="Why that date (given, the note's, or the data's).")
    havenflow_version: str = Field(description="Version of havenflow that built it.")
    seed: int = Field(description="Random seed of every bootstrap.")
    options: ReportOptions
    summary: list[ClaimSummary] = Field(description="Every claim's verdict, in order.")
    claims: list[Claim] = Field(description="Every claim in full, in order.")
    bottom_line: BottomLine
    methods: list[MethodNote] = Field(description="Method notes.")
    data: list[DataSource] = Field(description="The series used, with their dates and origin.")
    notes: list[str] = Field(description="Report-wide caveats.")
    hindsight: list[HindsightRow] | None = Field(
        default=None, description="What happened next (after the as-of verdicts)."
    )
    hindsight_info: HindsightInfo | None = Field(default=None, description="Hindsight metadata.")


class TimelineStep(_Doc):
    """The note judged at one step (equal to check --asof that date)."""

    asof: str = Field(description="The step's date (ISO day).")
    verdicts: dict[str, str] = Field(description="Claim id -> verdict.")
    numbers: dict[str, ClaimNumber | None] = Field(description="Claim id -> deciding number.")


class Timeline(_Doc):
    """A verdict timeline of a bundled note, with the tool's track record."""

    note: str = Field(description="The bundled note's name.")
    requested: dict[str, str] = Field(description="The range and step asked for (or defaulted).")
    timeline: list[TimelineStep] = Field(description="One entry per step, in date order.")
    timeline_info: dict[str, Any] = Field(
        description="start, end, step, claims, verdict spells (changes), track_record, method."
    )


class WatchAlert(_Doc):
    """One alert of the monitor (``havenflow watch run``)."""

    alert_key: str = Field(description="Dedupe key: a hash of what the alert says.")
    note: str = Field(description="The watched note's id.")
    title: str = Field(description="The note's title.")
    claim: str | None = Field(description="The claim's id; null for triggers and phases.")
    kind: Literal["verdict_change", "trigger", "phase_change"] = Field(description="What changed.")
    previous: str | None = Field(description="The value before (null: none known).")
    current: str = Field(description="The value now (a trigger: its onset date).")
    asof: str = Field(description="The date the run evaluated (ISO day).")
    evidence: dict[str, Any] = Field(description="The deciding numbers behind the change.")
    created_at: str = Field(description="When the alert was raised (UTC, ISO time).")


class WatchRun(_Doc):
    """What one run saw for a watched note."""

    asof: str = Field(description="The date evaluated (ISO day).")
    states: dict[str, str | None] = Field(
        description="Per item: claim:ID -> verdict, phase -> phase number, trigger:TEXT -> "
        "last onset date (null: none)."
    )


class Watch(_Doc):
    """A watched note: its runs (one per date, the latest run of each) and its alert log."""

    id: str = Field(description="The watch's id.")
    title: str = Field(description="The note's title.")
    source: str = Field(description="Where the note was added from.")
    triggers: list[str] = Field(description="Triggers watched besides the note's own.")
    runs: list[WatchRun] = Field(description="Runs in date order.")
    alerts: list[WatchAlert] = Field(description="Alerts, newest first (at most 200).")


class NetworkPair(_Doc):
    """One pair of a lead-lag network, the leader first."""

    leader: str = Field(description="The series that moves first (or the first of a lag-0 pair).")
    follower: str = Field(description="The other series.")
    lag: int = Field(description="Best lag in bars (>= 0; 0: contemporaneous, no leader).")
    correlation: float | None = Field(description="Correlation at that lag.")
    stat: float | None = Field(description="Max |t| over the scanned lags.")
    pvalue: float | None = Field(description="Scan-adjusted p-value (sign-flip null).")
    qvalue: float | None = Field(description="Benjamini-Hochberg q-value across all pairs.")


class NetworkScore(_Doc):
    """One asset's place in the network."""

    id: str = Field(description="Series id.")
    score: float = Field(description="(Significant pairs led - followed) / (N - 1), -1..1.")
    rank: int = Field(description="1: the strongest leader.")
    leads: int = Field(description="Significant pairs it leads.")
    follows: int = Field(description="Significant pairs it follows.")
    cluster: int = Field(description="Its group (0: the leading group).")


class NetworkCluster(_Doc):
    """A group of the Hermitian clustering."""

    cluster: int = Field(description="Group number, leaders first.")
    members: list[str] = Field(description="Its series.")
    flow: dict[str, float] = Field(description="Net flow to each other group (positive: leads).")


class Network(_Versioned):
    """A lead-lag network over a universe (``havenflow network``)."""

    assets: list[str] = Field(description="The universe.")
    lag_unit: str = Field(description="Unit of every lag.")
    lag_convention: str = Field(description="Sign convention of lags.")
    nobs: int = Field(description="Bars in the common sample.")
    max_lag: int = Field(description="Lags scanned: -max_lag..max_lag.")
    replicates: int = Field(description="Sign-flip draws per pair.")
    seed: int | None = Field(description="Seed of the draws.")
    alpha: float = Field(description="BH level of 'significant'.")
    scheduler: str = Field(description="Where it ran (sync, local, tcp://...).")
    cluster_mode: str = Field(
        description="flow: leader and follower groups; groups: one per leader and its followers."
    )
    null_hypothesis: str = Field(description="What each pair's test rejects.")
    pairs: list[NetworkPair] = Field(description="Every pair, leader first.")
    scores: list[NetworkScore] = Field(description="Every asset's lead score and group.")
    clusters: list[NetworkCluster] = Field(description="Groups, leaders first.")


# -- backtest ------------------------------------------------------------------------------


class BacktestMetrics(_Doc):
    """Headline metrics (simple returns as fractions; annualised on the strategy's calendar)."""

    cagr: float | None = Field(description="Compound annual growth (calendar years).")
    volatility: float | None = Field(description="Annualised standard deviation of returns.")
    sharpe: float | None = Field(description="Annualised Sharpe ratio of returns over cash.")
    sortino: float | None = Field(description="Annualised Sortino ratio of returns over cash.")
    max_drawdown: float | None = Field(description="Deepest fall from a running peak (<= 0).")
    calmar: float | None = Field(description="CAGR over |max drawdown|.")
    turnover: float | None = Field(description="One-way fraction of the portfolio traded a year.")
    exposure: float | None = Field(description="Average weight held outside cash.")


class EquityPoint(_Doc):
    """One bar of a backtest's path."""

    date: str = Field(description="The bar's date (a close).")
    value: float = Field(description="Value of 1 invested at the start, after costs.")
    drawdown: float = Field(description="Fall from the running peak (<= 0).")
    rolling_sharpe: float | None = Field(description="Sharpe ratio over the trailing 365 days.")


class BacktestRun(_Versioned):
    """One simulated strategy (a benchmark, the strategy, or its walk-forward version)."""

    name: str = Field(description="The strategy's name.")
    assets: list[str] = Field(description="Assets it may hold (the rest is cash).")
    start: str = Field(description="First bar.")
    end: str = Field(description="Last bar.")
    nobs: int = Field(description="Bars (returns) in the window.")
    bars_per_year: float = Field(description="Bars per year observed on its calendar.")
    sharpe_ci: list[float | None] = Field(description="95% block-bootstrap interval of Sharpe.")
    metrics: BacktestMetrics = Field(description="Headline metrics.")
    equity: list[EquityPoint] = Field(description="Every bar's value, drawdown, rolling Sharpe.")


class BacktestSweep(_Versioned):
    """The parameter search the strategy came from, judged for having searched."""

    n_trials: int = Field(description="Configurations tried.")
    best: dict[str, Any] = Field(description="Parameters of the best in-sample Sharpe ratio.")
    best_sharpe: float | None = Field(description="Its annualised Sharpe ratio.")
    deflated_sharpe: float | None = Field(
        description="Probability its true Sharpe beats the best of n_trials skill-less ones."
    )
    pbo: float | None = Field(description="Probability of backtest overfitting (CSCV).")
    walk_forward: BacktestRun | None = Field(description="Walk-forward choice, out of sample.")
    trials: list[dict[str, Any]] = Field(description="Each configuration's metrics.")


class Backtest(_Doc):
    """A backtest against its benchmarks (``havenflow backtest --json``)."""

    name: str = Field(description="The strategy.")
    description: str = Field(description="What it holds when.")
    asof: str = Field(description="Last date of data used.")
    timing: str = Field(description="When decisions trade.")
    metrics: BacktestMetrics = Field(description="The strategy's headline metrics.")
    equity: list[EquityPoint] = Field(description="The strategy's path.")
    strategy: BacktestRun = Field(description="The strategy in full.")
    benchmarks: list[BacktestRun] = Field(description="BTC, gold, 60/40, equal weight.")
    sweep: BacktestSweep | None = Field(description="Its parameter search, if any.")
    notes: list[str] = Field(description="Benchmarks not run and why, and other remarks.")
