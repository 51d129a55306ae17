"""Claims as data: kinds of claim, note files, and the judgement of a note.

A note (TOML) lists claims; each names a registered kind with typed parameters. Judging a note
(:func:`check_note`) gives every claim a verdict (supported, not supported, inconclusive, not
testable with the reason) on its own date, from named fields of analysis results, with a
sensitivity block, note-wide q-values and a bottom line of agreements and tensions.
"""

from havenflow.claims.base import ClaimKind, ClaimOutcome, Context, Forecast, KindParams, Verdict
from havenflow.claims.check import CheckOptions, check_note, default_asof
from havenflow.claims.note import (
    Note,
    NoteClaim,
    NoteError,
    bundled_notes,
    load_note,
    parse_note,
    resolve_note,
)
from havenflow.claims.registry import KINDS, get_kind, register

__all__ = [
    "KINDS",
    "CheckOptions",
    "ClaimKind",
    "ClaimOutcome",
    "Context",
    "Forecast",
    "KindParams",
    "Note",
    "NoteClaim",
    "NoteError",
    "Verdict",
    "bundled_notes",
    "check_note",
    "default_asof",
    "get_kind",
    "load_note",
    "parse_note",
    "register",
    "resolve_note",
]
