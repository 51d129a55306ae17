"""The research-note report: JSON (the source), HTML (plotly, self-contained) and Markdown."""

from havenflow.report.build import CLAIMS, VERDICTS, ReportOptions, build_report
from havenflow.report.render import figures, render_html, render_markdown, summary_box

__all__ = [
    "CLAIMS",
    "VERDICTS",
    "ReportOptions",
    "build_report",
    "figures",
    "render_html",
    "render_markdown",
    "summary_box",
]
