"""``leadlag``: one series leads another by a lag in a range (positive = leader first)."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from havenflow.claims import fits
from havenflow.claims.base import (
    ClaimKind,
    ClaimOutcome,
    Context,
    Forecast,
    KindParams,
    Number,
    Verdict,
    pct,
)
from havenflow.claims.charts import event_chart, irf_chart, leadlag_chart, rolling_chart
from havenflow.exceptions import HavenflowError
from havenflow.universe import LAG_UNITS

#: Trading days per bar, to put a lag in bars on the forecasts' common scale.
_DAYS_PER_BAR = {"D": 1, "W": 5, "M": 21}
_ADJ = {"D": "daily", "W": "weekly", "M": "monthly"}


class LeadLagParams(KindParams):
    """Parameters of a ``leadlag`` claim.

    ``leader``'s returns lead ``follower``'s by ``min_lag``..``max_lag`` bars of ``freq``
    (positive = leader first) with a correlation of sign ``sign``.

    ``method``: the primary test (``xcorr`` scan with its scan-wide null, ``granger`` HAC F
    test, ``var`` block Granger test). ``rolling``: also the rolling scan and the count of its
    significant windows. ``trigger``: also an event study of the follower after that trigger
    (e.g. ``"silver:high(252)"``). ``var_leaders``: also a VAR block test of those leaders, as
    evidence.
    """

    leader: str
    follower: str
    freq: Literal["D", "W", "M"] = "W"
    min_lag: int = Field(1, ge=0)
    max_lag: int = Field(26, ge=1, le=520)
    method: Literal["xcorr", "granger", "var"] = "xcorr"
    sign: Literal["positive", "negative", "any"] = "positive"
    rolling: bool = False
    trigger: str | None = None
    var_leaders: tuple[str, ...] | None = None
    var_max_lag: int = Field(8, ge=1, le=52)

    @field_validator("var_leaders", mode="before")
    @classmethod
    def _listify(cls, v: object) -> object:
        return (v,) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _coherent(self) -> LeadLagParams:
        if self.leader == self.follower:
            raise ValueError("follower: another series than leader")
        if self.min_lag > self.max_lag:
            raise ValueError(f"min_lag: at most max_lag ({self.max_lag})")
        return self


class LeadLag(ClaimKind[LeadLagParams]):
    """The ``leadlag`` kind (see :class:`LeadLagParams`)."""

    name = "leadlag"
    params = LeadLagParams
    summary = "a series leads another by a lag in a range (scan, Granger or VAR)"
    inferential = True

    def needs(self, p: LeadLagParams) -> list[str]:
        return [p.leader, p.follower]

    def alternatives(self, p: LeadLagParams) -> list[tuple[str, LeadLagParams]]:
        # The primary test only: no rolling scan, events or VAR in the alternatives.
        base = {"rolling": False, "trigger": None, "var_leaders": None}
        alts: list[tuple[str, LeadLagParams]] = []
        half = max(p.min_lag, p.max_lag // 2, 1)
        if half < p.max_lag:
            alts.append(
                (
                    f"lags {p.min_lag}..{half} {LAG_UNITS[p.freq]}",
                    p.model_copy(update={**base, "max_lag": half}),
                )
            )
        if p.freq == "W":
            alts.append(
                (
                    "daily bars (same span)",
                    p.model_copy(
                        update={
                            **base,
                            "freq": "D",
                            "min_lag": p.min_lag * 5,
                            "max_lag": min(p.max_lag * 5, 520),
                        }
                    ),
                )
            )
        elif p.freq == "D" and p.max_lag >= 10:
            alts.append(
                (
                    "weekly bars (same span)",
                    p.model_copy(
                        update={
                            **base,
                            "freq": "W",
                            "min_lag": p.min_lag // 5,
                            "max_lag": max(1, p.max_lag // 5),
                        }
                    ),
                )
            )
        if p.method != "granger":
            alts.append(("Granger test", p.model_copy(update={**base, "method": "granger"})))
        return alts

    def methods(self, p: LeadLagParams) -> str:
        unit = LAG_UNITS[p.freq]
        text = (
            f"{p.leader} → {p.follower}: returns on the {unit} calendar; cross-correlation at "
            f"±{p.max_lag} {unit} with a block sign-flip scan null (its size is measured on a "
            "grid of nulls in benchmarks/calibration.py); HAC Granger test with the order by BIC"
        )
        if p.rolling:
            text += (
                "; rolling scans in windows of at least four times the lag range, their count "
                "of significant windows judged against the same draws applied to every window"
            )
        if p.trigger:
            text += (
                f"; event study of {p.follower} after {p.trigger} with stationary-bootstrap "
                "inference, events 21 bars apart"
            )
        if p.var_leaders:
            text += (
                f"; VAR of {', '.join(p.var_leaders)} and {p.follower}, order by BIC up to "
                f"{p.var_max_lag} {unit}, Newey-West block F test and bootstrap impulse "
                "responses (evidence only)"
            )
        return text + "."

    def judge(self, ctx: Context, p: LeadLagParams) -> ClaimOutcome:
        from havenflow.services import LeadLagRequest

        unit = LAG_UNITS[p.freq]
        base = {
            "leader": p.leader,
            "follower": p.follower,
            "freq": p.freq,
            "max_lag": p.max_lag,
            "asof": ctx.day,
            "seed": ctx.seed,
            "replicates": ctx.replicates,
        }
        xc = fits.leadlag(ctx, LeadLagRequest(**base)).to_dict()  # type: ignore[arg-type]
        gr = fits.leadlag(ctx, LeadLagRequest(**base, method="granger")).to_dict()  # type: ignore[arg-type]
        right_sign = p.sign == "any" or (xc["correlation"] > 0) == (p.sign == "positive")
        # For Granger and VAR (which have no sign), the claimed sign is read off the strongest
        # correlation inside the claimed lag range.
        in_range_rows = [r for r in xc["profile"] if p.min_lag <= r["lag"] <= p.max_lag]
        range_best = max(in_range_rows, key=lambda r: abs(r["correlation"]))
        range_sign_ok = p.sign == "any" or (range_best["correlation"] > 0) == (p.sign == "positive")
        in_range = p.min_lag <= xc["lag"] <= p.max_lag
        scan_sig = xc["pvalue"] < 0.05
        lead = scan_sig and in_range and right_sign
        granger = gr["pvalue"] is not None and gr["pvalue"] < 0.05
        var, var_error = (
            self._var(ctx, p, base) if p.var_leaders or p.method == "var" else (None, None)
        )
        var_sig = var is not None and var.forward.pvalue < 0.05
        ev = None
        if p.trigger:
            ev = fits.events(ctx, p.trigger, p.follower, None).to_dict()
        want_up = p.sign != "negative"
        hs = [h for h in (ev or {}).get("horizons", []) if h["horizon"] >= 21]
        sig_event = [
            h
            for h in hs
            if h["pvalue"] is not None and h["pvalue"] < 0.05 and (h["excess_mean"] > 0) == want_up
        ]
        enough = ev is None or ev["n_events"] >= 10
        # Granger's order-p test covers lags 1..p together: when p is below the claimed
        # shortest lag, its rejection is about shorter lags than the claim's.
        granger_in_range = gr["lag_order"] >= p.min_lag
        primary = {
            "xcorr": lead,
            "granger": granger and range_sign_ok and granger_in_range,
            "var": var_sig and range_sign_ok,
        }[p.method]
        against = scan_sig and not (in_range and right_sign) and not primary
        if primary or (sig_event and (lead or granger)):
            verdict = Verdict.supported
        elif against or (not lead and not granger and not sig_event and enough):
            verdict = Verdict.not_supported
        else:
            verdict = Verdict.inconclusive
        pvalue = {
            "xcorr": xc["pvalue"],
            "granger": gr["pvalue"],
            "var": None if var is None else var.forward.pvalue,
        }[p.method]
        numbers = [
            Number(
                f"best lag, cross-correlation (±{p.max_lag} {unit})",
                f"{xc['lag']:+d} {unit}, r {xc['correlation']:+.2f}, scan-adjusted p "
                f"{xc['pvalue']:.2f} (naive {xc['naive_pvalue']:.3f})",
                xc["pvalue"],
            ),
            Number(
                f"Granger {p.leader} → {p.follower} (HAC)",
                f"p {gr['pvalue']:.2f} at order {gr['lag_order']} ({unit})",
                gr["pvalue"],
            ),
        ]
        text = (
            f"Scanning {_ADJ[p.freq]} returns at lags −{p.max_lag}..+{p.max_lag} (positive = "
            f"{p.leader} first), the strongest link is at {xc['lag']:+d} {unit}, r "
            f"{xc['correlation']:+.2f}; against a null that accounts for scanning every lag and "
            f"for volatility clustering its p-value is {xc['pvalue']:.2f} (a naive test of that "
            f"single lag would say {xc['naive_pvalue']:.3f})."
        )
        if against:
            why = []
            if xc["lag"] < p.min_lag:
                why.append("the follower leads" if xc["lag"] < 0 else "the lag is too short")
            elif xc["lag"] > p.max_lag:
                why.append("the lag is too long")
            if not right_sign:
                why.append(f"the correlation is {xc['correlation']:+.2f}, not {p.sign}")
            text += f" That link is significant but not the claimed one: {'; '.join(why)}."
        text += (
            f" The HAC Granger test of {p.leader} → {p.follower} has p {gr['pvalue']:.2f} at "
            f"order {gr['lag_order']} ({unit}); inside {p.min_lag}..{p.max_lag} {unit} the "
            f"strongest correlation is {range_best['correlation']:+.2f} at "
            f"{range_best['lag']:+d}."
            + (
                f" The Granger order ({gr['lag_order']}) is below the claimed shortest lag "
                f"({p.min_lag}): its evidence is about shorter lags than the claim's."
                if not granger_in_range and p.method == "granger"
                else ""
            )
        )
        charts: list[dict[str, Any]] = []
        charts.append(
            leadlag_chart(
                xc,
                f"{p.leader} → {p.follower}: {unit} cross-correlation by lag with the 95% null "
                "band",
            )
        )
        if p.rolling:
            roll = fits.leadlag(
                ctx,
                LeadLagRequest(**{**base, "replicates": min(ctx.replicates, 199)}, rolling=True),  # type: ignore[arg-type]
            ).to_dict()
            text += (
                f" In rolling {roll['window']}-{unit[:-1] if unit.endswith('s') else unit} "
                f"windows, {roll['n_significant']} of {roll['n_windows']} show a significant "
                "lead at 5%; because the windows overlap, chance alone gives "
                f"{roll['expected_significant']:.1f} on average for this design (95% range "
                f"{roll['significant_null_range'][0]}–{roll['significant_null_range'][1]}), so "
                f"the count's p-value is {roll['count_pvalue']:.2f}."
            )
            numbers.append(
                Number(
                    "rolling windows with a significant lead (chance range)",
                    f"{roll['n_significant']} of {roll['n_windows']} "
                    f"({roll['significant_null_range'][0]}–{roll['significant_null_range'][1]} "
                    f"by chance), p {roll['count_pvalue']:.2f}",
                    roll["count_pvalue"],
                )
            )
            charts.append(
                rolling_chart(
                    roll,
                    f"Rolling {roll['window']}-bar best lag ({unit}; filled = significant at 5%)",
                )
            )
        if p.var_leaders or p.method == "var":
            numbers.append(_var_number(var, var_error))
            text += _var_text(var, var_error, evidence_only=p.method != "var")
            if var is not None:
                charts.append(
                    irf_chart(
                        var,
                        f"{', '.join(var.followers)}: response to a one-sd "
                        f"{' or '.join(var.leaders)} shock (VAR({var.var.lag_order}), log return, "
                        f"{var.irf.level:.0%} bootstrap band)",
                    )
                )
        if ev is not None:
            h63 = next((h for h in ev["horizons"] if h["horizon"] == 63), hs[0] if hs else None)
            numbers.append(
                Number(
                    f"{p.follower} excess return 63 days after {ev['trigger']} "
                    f"({ev['n_events']} events)",
                    "n/a"
                    if h63 is None or h63["excess_mean"] is None
                    else f"{pct(h63['excess_mean'])} [{pct(h63['ci_low'])}, "
                    f"{pct(h63['ci_high'])}], p {h63['pvalue']:.2f}",
                    None if h63 is None else h63["excess_mean"],
                )
            )
            text += (
                f" After {ev['n_events']} events ({ev['description']}), {p.follower}'s forward "
                "returns "
                + (
                    "beat the baseline significantly at "
                    f"{', '.join(str(h['horizon']) for h in sig_event)} days."
                    if sig_event
                    else "do not differ significantly from its unconditional baseline at any "
                    "horizon from 1 to 6 months."
                )
            )
            charts.append(
                event_chart(
                    ev,
                    f"{p.follower} after {ev['trigger']}: average path vs baseline (log return)",
                )
            )
        rule = (
            {
                "xcorr": "supported: a significant best lag (scan-adjusted p < 0.05) in "
                f"{p.min_lag}..{p.max_lag} {unit} with a {p.sign} correlation",
                "granger": "supported: the HAC Granger test rejects at 5%"
                + (
                    f" and the strongest correlation in the lag range is {p.sign}"
                    if p.sign != "any"
                    else ""
                ),
                "var": "supported: the VAR block Granger test rejects at 5%"
                + (
                    f" and the strongest correlation in the lag range is {p.sign}"
                    if p.sign != "any"
                    else ""
                ),
            }[p.method]
            + (
                ", or a significant post-event excess backed by the scan or Granger"
                if p.trigger
                else ""
            )
            + "; not supported: a significant link of another lag or sign, or no evidence at "
            "all" + (" with at least 10 events" if p.trigger else "") + "; otherwise inconclusive"
        )
        return ClaimOutcome(
            verdict=verdict,
            numbers=numbers,
            explanation=text,
            rule=rule,
            charts=charts,
            pvalue=pvalue,
            test={
                "xcorr": "zero correlation at every scanned lag (block sign-flip scan null)",
                "granger": f"{p.leader}'s lags add nothing to {p.follower}'s (HAC F)",
                "var": f"the VAR leaders' lags add nothing to {p.follower} (block F)",
            }[p.method],
            forecasts=[self._forecast(ctx, p, xc, lead or primary)],
        )

    @staticmethod
    def _var(ctx: Context, p: LeadLagParams, base: dict[str, Any]) -> tuple[Any, str | None]:
        """The VAR block test, or why it could not be computed (it never decides alone)."""
        from havenflow.analytics.leadlag.var import VARLeadLagResult
        from havenflow.services import LeadLagRequest

        leaders = ",".join(p.var_leaders or (p.leader,))
        try:
            res = fits.leadlag(
                ctx,
                LeadLagRequest(
                    **{**base, "leader": leaders, "max_lag": p.var_max_lag},
                    method="var",
                    ic="bic",
                ),
            )
        except HavenflowError as exc:
            return None, str(exc)
        assert isinstance(res, VARLeadLagResult)
        return res, None

    def hindsight(
        self, ctx: Context, p: LeadLagParams, outcome: ClaimOutcome, later: Any
    ) -> list[Any]:
        """The follower over the claimed lag span after the date (did the lead show up).

        With a trigger, also the last event's realised excess return at each horizon.
        """
        from havenflow.claims.hindsight import event_rows, forecast_rows

        # The forecast's days were counted on the leader's sessions (its recent move).
        rows = forecast_rows(
            later, "", self.name, ctx.asof, outcome.forecasts, with_ids=(p.leader,)
        )
        if p.trigger:
            from havenflow.analytics.events import parse_trigger

            ev = fits.events(ctx, p.trigger, p.follower, None)
            rows += event_rows(
                later,
                self.name,
                p.follower,
                ctx.asof,
                ev.event_dates,
                ev.horizons,
                {"positive": "up", "negative": "down"}.get(p.sign),
                p.trigger,
                with_ids=tuple(parse_trigger(p.trigger).series),
            )
        return rows

    @staticmethod
    def _forecast(ctx: Context, p: LeadLagParams, xc: dict[str, Any], lead: bool) -> Forecast:
        """What the evidence implies for the follower over the claimed lag span."""
        unit = LAG_UNITS[p.freq]
        days = (max(p.min_lag, 1) * _DAYS_PER_BAR[p.freq], p.max_lag * _DAYS_PER_BAR[p.freq])
        closes = fits.levels(ctx, (p.leader,))[p.leader].dropna()
        span = p.max_lag * _DAYS_PER_BAR[p.freq]
        recent = math.log(closes.iloc[-1] / closes.iloc[-1 - span]) if len(closes) > span else 0.0
        # As written: the follower follows the leader's recent move (mirrored if negative).
        sign = -1 if p.sign == "negative" else 1
        claimed = "up" if recent * sign > 0 else "down" if recent * sign < 0 else "flat"
        if not lead:
            return Forecast(
                p.follower,
                *days,
                claimed,
                0,
                f"no {p.sign} lead of {p.leader} at {p.min_lag}..{p.max_lag} {unit} (best lag "
                f"{xc['lag']:+d}, scan p {xc['pvalue']:.2f})",
            )
        bars = xc["lag"] * _DAYS_PER_BAR[p.freq]
        move = math.log(closes.iloc[-1] / closes.iloc[-1 - bars]) if len(closes) > bars else 0.0
        direction = int(math.copysign(1, move * xc["correlation"])) if move else 0
        return Forecast(
            p.follower,
            *days,
            claimed,
            direction,
            f"{p.leader} moved {100 * move:+.1f} log points over the last {xc['lag']} {unit} and "
            f"leads with r {xc['correlation']:+.2f} (scan p {xc['pvalue']:.2f})",
        )


def _var_number(var: Any, error: str | None) -> Number:
    if var is None:
        return Number("VAR block Granger (HAC)", f"n/a ({error})", None)
    f, b = var.forward, var.backward
    return Number(
        f"VAR block Granger {f.direction.replace('->', '→')} ({f.cov_type})",
        f"F {f.stat:.2f}, p {f.pvalue:.2f} at VAR({var.var.lag_order}) "
        f"({(var.var.ic or 'given').upper()}, ≤ {var.var.selection.max_lags} {var.lag_unit}); "
        f"reverse p {b.pvalue:.2f}",
        f.pvalue,
    )


def _var_text(var: Any, error: str | None, *, evidence_only: bool) -> str:
    if var is None:
        return f" The VAR block Granger test could not be computed on this date: {error}."
    v, f, b = var.var, var.forward, var.backward
    leaders = " and ".join(var.leaders)
    follower = ", ".join(var.followers)
    freq = {"weeks": "weekly", "business days": "daily", "months": "monthly"}
    text = (
        f" In a VAR of {freq.get(var.lag_unit, var.lag_unit)} returns of {', '.join(v.names)} "
        f"(order {v.lag_order} chosen by {(v.ic or 'given').upper()} among "
        f"1..{v.selection.max_lags} {var.lag_unit}), the joint test that the past returns of "
        f"{leaders} add nothing to {follower}'s has p {f.pvalue:.2f} ({f.covariance} F test, "
        f"{f.df_num} restrictions); the reverse direction, {b.direction.replace('->', '→')}, "
        f"has p {b.pvalue:.2f}."
    )
    if var.irf.periods >= 1:
        parts = [
            f"{pct(r['irf'][1], 2)} [{pct(r['lower'][1], 2)}, {pct(r['upper'][1], 2)}] to a "
            f"{r['impulse']} shock"
            for r in var.responses()
        ]
        one = var.lag_unit[:-1] if var.lag_unit.endswith("s") else var.lag_unit
        text += (
            f" One {one} later, {follower}'s response (log return, one-sd orthogonalised shock, "
            f"{var.irf.level:.0%} bootstrap band) is " + "; ".join(parts) + "."
        )
    if evidence_only:
        text += " This VAR test is reported as evidence; it does not enter the verdict rule."
    return text


KIND = LeadLag()
