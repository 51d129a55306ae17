"""Write report_2026-01-23.json: the report's claims as of 2026-01-23 (199 draws), bundled data.

The golden record of what the report says (verdicts, deciding numbers, explanations, rules),
which tests/test_report.py compares every build with. A change of method that changes what the
report says must regenerate it in the same commit, so the diff shows what changed:

    python tests/reference/make_report_reference.py
"""

from __future__ import annotations

import json
from pathlib import Path

from havenflow.data.repository import DataRepository
from havenflow.report.build import ReportOptions, build_report

HERE = Path(__file__).resolve().parent


def claims_record(report: dict[str, object]) -> list[dict[str, object]]:
    """The parts of each claim a reader sees, without the chart data."""
    return [
        {
            k: c[k]
            for k in ("id", "claim", "verdict", "numbers", "explanation", "rule", "sensitivity")
        }
        for c in report["claims"]  # type: ignore[attr-defined]
    ] + [{"bottom_line": report["bottom_line"]["text"]}]  # type: ignore[index]


def main() -> None:
    report = build_report(DataRepository(), ReportOptions(asof="2026-01-23", replicates=199))
    out = HERE / "report_2026-01-23.json"
    out.write_text(json.dumps(claims_record(report), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
