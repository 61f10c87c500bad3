"""Tuning the merge thresholds (routing/data/merge.yaml) on a seed the evaluation never uses.

Replays generated sets (``producers/simulate/incidents.py``) of the tuning
seeds through ``find_match`` with the evaluation's own replay and scoring
(``tests/routing/test_merge_eval.py``), once per combination of thresholds,
and prints pairwise precision and recall on each seed, best first by the
worst of them, with the shipped values marked. Several seeds, because one
set of 800 reports moves P and R by a point or two either way; never the
evaluation seed. The shipped values are chosen here; the test measures them.

    python bench/merge_tuning.py                 # seeds 7, 11, 13; 800 reports each (about a minute)
    python bench/merge_tuning.py --seeds 7 --top 40
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout
sys.path.insert(0, str(ROOT / "tests" / "routing"))  # the evaluation's replay
sys.path.insert(0, str(ROOT / "tests"))  # and its scoring

from merge_scoring import Scores, pairwise  # noqa: E402
from test_merge_eval import EVAL_SEED, replay  # noqa: E402

from producers.simulate.incidents import generate  # noqa: E402
from routing.merge_rules import MergeRules, load_merge_rules  # noqa: E402

TUNING_SEEDS = (7, 11, 13)
TUNING_REPORTS = 800

#: the values tried; each row of the output is one combination
GRID: dict[str, tuple[float, ...]] = {
    "metres": (60, 100, 150),
    "hotline_slack": (30, 60),
    "transient_hours": (4, 8, 12),
    "related": (0.0, 0.1),
    "vague": (0.0, 0.05, 0.1, 0.2),
    "same_grid": (0.0, 0.1, 0.2),
}


def variant(rules: MergeRules, values: dict[str, float]) -> MergeRules:
    """The shipped rules with ``values`` put in (the cell grows with the reach, as the validator demands)."""
    slack = {**rules.slack_metres, "hotline12345": values["hotline_slack"]}
    out = replace(
        rules,
        metres=values["metres"],
        slack_metres=slack,
        transient_minutes=values["transient_hours"] * 60,
        text=replace(rules.text, related=values["related"], vague=values["vague"], same_grid=values["same_grid"]),
    )
    return replace(out, cell_metres=max(rules.cell_metres, out.longest_reach * 1.01))


def shipped(rules: MergeRules) -> dict[str, float]:
    """The shipped file's values, in GRID's terms."""
    return {
        "metres": rules.metres,
        "hotline_slack": rules.slack_metres.get("hotline12345", 0.0),
        "transient_hours": rules.transient_minutes / 60,
        "related": rules.text.related,
        "vague": rules.text.vague,
        "same_grid": rules.text.same_grid,
    }


def main(argv: list[str] | None = None) -> None:
    """Print P/R on every tuning seed for every combination in GRID."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(TUNING_SEEDS))
    parser.add_argument("--reports", type=int, default=TUNING_REPORTS)
    parser.add_argument("--top", type=int, default=20, help="rows to print, best first")
    args = parser.parse_args(argv)
    if EVAL_SEED in args.seeds:
        parser.error(f"seed {EVAL_SEED} is the evaluation seed: tune on others")
    base = load_merge_rules()
    sets = {seed: generate(seed, args.reports) for seed in args.seeds}
    rows: list[tuple[float, list[Scores], dict[str, float]]] = []
    for combo in itertools.product(*GRID.values()):
        values = dict(zip(GRID, combo))
        rules = variant(base, values)
        scores = [pairwise(reports, replay(reports, rules)) for reports in sets.values()]
        rows.append((min(min(s.precision, s.recall) for s in scores), scores, values))
    rows.sort(key=lambda row: (row[0], sum(s.precision + s.recall for s in row[1])), reverse=True)
    mine = shipped(base)
    print(f"seeds {', '.join(map(str, args.seeds))}; {args.reports} reports each; {len(rows)} combinations; * = shipped")
    print("  " + " ".join(f"{k:>15}" for k in GRID) + "  " + "  ".join(f"P/R seed {seed:<4}" for seed in sets))
    shown = rows[: args.top] + [row for row in rows[args.top :] if row[2] == mine]
    for _, scores, values in shown:
        mark = "*" if values == mine else " "
        cells = " ".join(f"{values[k]:>15g}" for k in GRID)
        print(f"{mark} {cells}  " + "  ".join(f"{s.precision:.3f}/{s.recall:.3f}" for s in scores))
    if all(row[2] != mine for row in rows):
        print("shipped (not on the grid): " + "  ".join(str(pairwise(r, replay(r, base))) for r in sets.values()))


if __name__ == "__main__":
    main()
