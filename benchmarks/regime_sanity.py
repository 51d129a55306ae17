"""Sanity of the phases on known episodes: the dominant phase by the rules and by the HMM.

For each episode of :data:`havenflow.analytics.regime.KNOWN_EPISODES` (Lehman, the COVID
crash, the pandemic stimulus, the 2022 tightening, January 2026) it prints the share of the
episode's weeks in each phase, dominant first, for the rules and for the point-in-time HMM
(each week's most likely phase, from parameters estimated on data up to the previous month
end; "n/a" before the HMM's first estimate), and whether the rules' dominant phase is one a
reader would accept ("sensible"; "—" where history gives no prior). The README's table is this
script's output on the bundled data.

Run: ``python benchmarks/regime_sanity.py [ASOF]`` (on demand; never part of the test suite).
"""

from __future__ import annotations

import sys

from havenflow.analytics.regime import PHASE_NAMES, episode_table
from havenflow.data.repository import DataRepository
from havenflow.services import run_regime

_SHORT = {1: "safety first", 2: "debasement", 3: "risk-on", 4: "tightening"}


def _cell(shares: dict[int, float]) -> str:
    if not shares:
        return "n/a"
    return ", ".join(f"{k} {_SHORT[k]} {v:.0%}" for k, v in shares.items())


def main() -> None:
    asof = sys.argv[1] if len(sys.argv) > 1 else None
    out = run_regime(DataRepository(), asof)
    table = episode_table(out.rules.phase, out.markov)
    print(f"Phases on known episodes, share of weeks (rules as of {out.rules.asof.date()})")
    print("| episode | weeks | rules | sensible? | HMM, point-in-time (weeks) |")
    print("|---|---|---|---|---|")
    for row in table.itertuples(index=False):
        ok = "—" if not row.sensible else ("yes" if row.rules_phase in row.sensible else "NO")
        hmm = _cell(row.hmm_shares) + (f" ({row.hmm_weeks})" if row.hmm_weeks else "")
        print(
            f"| {row.episode} ({row.start}..{row.end}) | {row.weeks} "
            f"| {_cell(row.rules_shares)} | {ok} | {hmm} |"
        )
    names = "; ".join(f"{k} {v}" for k, v in PHASE_NAMES.items())
    print(f"Phases: {names}.")
    if out.markov is not None:
        m = out.markov.to_dict()
        print(
            f"HMM: no probability before {m['first_probability']} (first estimate "
            f"{m['first_estimate']}, {m['min_weeks']} weeks); out-of-sample agreement with the "
            f"rules {m['agreement_with_rules_out_of_sample']:.1%} of {m['agreement_weeks']} weeks "
            f"({m['agreement_by_chance']:.1%} expected by chance)"
        )


if __name__ == "__main__":
    main()
