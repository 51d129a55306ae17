"""The research-note report: JSON (the source), HTML (plotly, self-contained) and Markdown."""

from havenflow.report.build import SEED_NOTE, VERDICTS, ReportOptions, build_report, seed_claims
from havenflow.report.render import figures, render_html, render_markdown, summary_box

__all__ = [
    "SEED_NOTE",
    "VERDICTS",
    "ReportOptions",
    "build_report",
    "figures",
    "render_html",
    "render_markdown",
    "seed_claims",
    "summary_box",
]
