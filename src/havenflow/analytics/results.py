"""The result contract every estimator's ``fit()`` returns.

A result is a frozen dataclass whose fields are the data. :class:`Result` derives the rest:

- ``to_dict()``: every field (except those marked ``json=False``: arrays kept for ``to_frame``
  and ``plot``) plus the derived properties named in ``_derived``, through one JSON encoder
  (:func:`jsonable`), with ``kind`` and ``schema_version``;
- ``summary()``: a :class:`Summary` with text and HTML, shown by ``print`` and by notebooks
  (``_repr_html_``);
- ``plot()``: a plotly figure, drawn by the report's figure builders (imported on call, so
  analytics never imports plotly).

One vocabulary across Python, JSON, CLI and web: ``pvalue``, ``std_err``, ``nobs``, ``stat``,
``conf_int(alpha)``, ``null_hypothesis``, and ``lag`` (signed: positive means the leader moves
first) apart from ``lag_order`` (how many lags a regression uses).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import html
import math
from collections.abc import Mapping
from enum import Enum
from typing import Any, ClassVar

import numpy as np
import pandas as pd

__all__ = ["NO_JSON", "SCHEMA_VERSION", "Result", "Summary", "jsonable"]

#: Version of the JSON documents' layout; bumped when a key is renamed or removed.
SCHEMA_VERSION = 2


#: Metadata of a dataclass field left out of ``to_dict`` (arrays kept for ``to_frame`` and
#: ``plot``): ``field(metadata=NO_JSON, repr=False)``.
NO_JSON: Mapping[str, bool] = {"json": False}


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: the project's one encoder.

    NaN and infinities become ``None`` (JSON has neither); dates become ISO days (times only
    when they are not midnight); numpy scalars and arrays become Python numbers and lists;
    results become their ``to_dict()``.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if value is pd.NaT:
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, pd.Timestamp | dt.datetime):
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return str(value)
    if isinstance(value, np.ndarray | pd.Index):
        return [jsonable(v) for v in np.asarray(value).tolist()]
    if isinstance(value, pd.Series):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return [
            {str(k): jsonable(v) for k, v in row.items()}
            for row in value.reset_index().to_dict(orient="records")
        ]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


@dataclasses.dataclass(frozen=True)
class Summary:
    """A result's summary: ``text`` for terminals, ``html`` for notebooks and pages."""

    text: str
    html: str

    def __str__(self) -> str:
        return self.text

    def __rich__(self) -> str:
        # rich prints this (a console would otherwise pretty-print the dataclass)
        return self.text

    def _repr_html_(self) -> str:
        return self.html


class Result:
    """Base of every result (mixed into frozen dataclasses).

    Subclasses set ``kind`` (the JSON ``kind``), may list derived properties in ``_derived``,
    and implement :meth:`to_frame` and :meth:`_summary_text`.
    """

    kind: ClassVar[str] = "result"
    _derived: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A result whose JSON keeps a hand-made shape (it overrides to_dict) still carries
        # kind and schema_version: its own to_dict is wrapped once, here.
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("to_dict")
        if own is None:
            return

        @functools.wraps(own)
        def stamped(self: Result, *args: Any, **kw: Any) -> dict[str, Any]:
            doc = own(self, *args, **kw)
            return {"kind": self.kind, "schema_version": SCHEMA_VERSION, **doc}

        cls.to_dict = stamped  # type: ignore[method-assign]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the fields, the derived properties, ``kind``, ``schema_version``."""
        out: dict[str, Any] = {"kind": self.kind, "schema_version": SCHEMA_VERSION}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]  # subclasses are dataclasses
            if f.metadata.get("json", True):
                out[f.name] = jsonable(getattr(self, f.name))
        for name in self._derived:
            out[name] = jsonable(getattr(self, name))
        return out

    def to_frame(self) -> pd.DataFrame:
        """The result's main table."""
        raise NotImplementedError

    def _summary_text(self) -> str:
        raise NotImplementedError

    def summary(self) -> Summary:
        """Text and HTML summary: the headline lines, then the main table (first 20 rows)."""
        text = self._summary_text()
        frame = self.to_frame()
        table = frame.head(20).to_html(float_format=lambda v: f"{v:.4g}", border=0)
        more = ""
        if len(frame) > 20:
            more = f"<p>({len(frame)} rows; <code>to_frame()</code> has all)</p>"
        body = "<br>".join(html.escape(line) for line in text.splitlines())
        page = f"<div class='havenflow-result'><p>{body}</p>{table}{more}</div>"
        return Summary(text=text, html=page)

    def __str__(self) -> str:
        return self._summary_text()

    def _repr_html_(self) -> str:
        return self.summary().html

    def plot(self) -> Any:
        """A plotly ``Figure`` of the result (the report's figure for this kind of result)."""
        from havenflow.report.figures import result_figure  # plotly only when asked

        return result_figure(self)
