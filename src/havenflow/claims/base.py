"""What every claim kind shares: verdicts, the outcome of judging one claim, and the kind base.

A kind turns typed parameters into a verdict over named fields of analysis results. It says
which series it needs (so a note's default as-of is the last date they share and a stale
series makes the claim "not testable"), its rule in words (printed beside the verdict), the
numbers and chart the verdict rests on, and how to recompute it under alternative reasonable
parameters (the sensitivity block).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

import pandas as pd
from pydantic import BaseModel, ConfigDict

from havenflow.data.repository import DataRepository

__all__ = [
    "ClaimKind",
    "ClaimOutcome",
    "Context",
    "Forecast",
    "KindParams",
    "Number",
    "Verdict",
    "lp",
    "num",
    "pct",
]


class Verdict(enum.StrEnum):
    """The four verdicts; "not testable" always comes with the reason."""

    supported = "supported"
    not_supported = "not supported"
    inconclusive = "inconclusive"
    not_testable = "not testable"


class KindParams(BaseModel):
    """Base of every kind's parameters: unknown keys are errors, values are validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


P = TypeVar("P", bound=KindParams)


@dataclass(frozen=True)
class Number:
    """One deciding number: a label, how it is shown, and its value (None where not a scalar)."""

    label: str
    display: str
    value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The number as JSON types."""
        return {"label": self.label, "display": self.display, "value": self.value}


@dataclass(frozen=True)
class Forecast:
    """What a claim's evidence implies for an asset's forward return over a span of days.

    ``claimed`` is what the claim as written says (``up``, ``down``, ``not up``, ``not down``);
    ``direction`` is what its evidence says: +1 (up), -1 (down) or 0 (no edge either way), and
    ``basis`` says why, with the numbers. Spans are in trading days from the claim's date. The
    bottom line compares the forecasts of a note's claims about the same asset over
    overlapping spans: agreements and tensions come from these, not from the claims' wording.
    """

    asset: str
    days_from: int
    days_to: int
    claimed: str
    direction: int
    basis: str

    def to_dict(self) -> dict[str, Any]:
        """The forecast as JSON types."""
        return {
            "asset": self.asset,
            "days": [self.days_from, self.days_to],
            "claimed": self.claimed,
            "direction": self.direction,
            "basis": self.basis,
        }


@dataclass(frozen=True)
class ClaimOutcome:
    """The judgement of one claim: verdict, deciding numbers, text, rule, charts.

    ``pvalue`` is the claim's primary test (None for a descriptive claim); it enters the note's
    Benjamini-Hochberg q-values. ``facts`` are named scalars other claims' bottom line may quote.
    """

    verdict: Verdict
    numbers: list[Number]
    explanation: str
    rule: str
    charts: list[dict[str, Any]] = field(default_factory=list)
    pvalue: float | None = None
    test: str | None = None
    notes: list[str] = field(default_factory=list)
    forecasts: list[Forecast] = field(default_factory=list)
    #: Label of the number the verdict rule turns on (a timeline draws it under the verdicts);
    #: None: the p-value of an inferential claim, else the first number with a value.
    deciding: str | None = None

    def deciding_number(self) -> Number | None:
        """The number the verdict turns on (see :attr:`deciding`)."""
        if self.deciding is not None:
            return next((n for n in self.numbers if n.label == self.deciding), None)
        if self.pvalue is not None:
            return Number(f"p-value ({self.test})", f"{self.pvalue:.3g}", self.pvalue)
        return next((n for n in self.numbers if n.value is not None), None)

    @classmethod
    def not_testable(cls, reason: str, rule: str = "") -> ClaimOutcome:
        """A claim the data cannot judge, with the reason as its explanation."""
        return cls(Verdict.not_testable, [], reason, rule)


class Context:
    """Where a note is judged: the repository, the as-of date and a memo of fits.

    Several claims of a note often need the same fit (the phases, the safe-haven regressions,
    an asset's drivers): :meth:`memo` computes each once per (name, arguments).
    """

    def __init__(
        self, repo: DataRepository, asof: pd.Timestamp, *, seed: int = 0, replicates: int = 999
    ) -> None:
        self.repo = repo
        self.asof = asof
        self.seed = seed
        self.replicates = replicates
        self._memo: dict[Hashable, Any] = {}

    @property
    def day(self) -> str:
        """The as-of date as ``YYYY-MM-DD``."""
        return self.asof.date().isoformat()

    def at(self, asof: pd.Timestamp) -> Context:
        """The same repository and memo at another date (a dated claim is judged on its date)."""
        other = Context(self.repo, asof, seed=self.seed, replicates=self.replicates)
        other._memo = self._memo  # keys carry the date, so sharing is safe
        return other

    def memo(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per key (the key must include every argument, the date too)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


class ClaimKind(Generic[P]):
    """A registered kind of claim. Subclasses set the class attributes and implement ``judge``.

    Attributes
    ----------
    name
        The ``kind = "..."`` of a note.
    params
        The pydantic model of the kind's parameters (unknown keys are errors).
    summary
        One line for ``havenflow kinds`` and the docs.
    inferential
        Whether the verdict rests on a test with a p-value (enters the q-values).
    """

    name: ClassVar[str]
    params: ClassVar[type[KindParams]]
    summary: ClassVar[str]
    inferential: ClassVar[bool] = False

    def needs(self, p: P) -> list[str]:
        """The series the claim cannot be judged without (its staleness is checked)."""
        raise NotImplementedError

    def core(self, p: P) -> list[str]:
        """The series whose common last date sets the note's default as-of (default: all)."""
        return self.needs(p)

    def judge(self, ctx: Context, p: P) -> ClaimOutcome:
        """The verdict of the claim as of ``ctx.asof``."""
        raise NotImplementedError

    def alternatives(self, p: P) -> list[tuple[str, P]]:
        """Alternative reasonable parameters for the sensitivity block (label, parameters)."""
        return []

    def methods(self, p: P) -> str:
        """The methods text of this claim (printed in the report's methods section)."""
        return ""

    def calendar_ids(self, ctx: Context, p: P) -> tuple[str, ...]:
        """The series whose common sessions are the claim's trading days (default: needs)."""
        return tuple(self.needs(p))

    def hindsight(self, ctx: Context, p: P, outcome: ClaimOutcome, later: Any) -> list[Any] | None:
        """What happened after ``ctx.asof``: rows of :mod:`havenflow.claims.hindsight`.

        ``later`` is a :class:`~havenflow.claims.hindsight.Later` (the data known at its end).
        None (the default) scores the outcome's forecasts; a kind with more to say (an outlook
        distribution, an event's excess return, a phase's path) overrides it. It never changes
        the as-of verdict: it runs after every claim is judged.
        """
        return None


# ---- formatting shared by the kinds ------------------------------------------------------------


def pct(v: float | None, digits: int = 1) -> str:
    """A simple return as a signed percentage (``n/a`` for None or NaN)."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{100 * v:+.{digits}f}%"


def num(v: float | None, digits: int = 2) -> str:
    """A signed number (``n/a`` for None or NaN)."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{v:+.{digits}f}"


def lp(v: float | None) -> str:
    """A log return in log points (``n/a`` for None or NaN)."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{100 * v:+.1f} log points"


def dates(index: pd.Index) -> list[str]:
    """ISO dates of an index."""
    return [d.date().isoformat() for d in pd.DatetimeIndex(index)]
