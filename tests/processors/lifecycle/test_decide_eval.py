"""Where reports go, measured on the frozen evaluation set (classification + place + rules)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from classifier import DEFAULT_MIN_CONFIDENCE, ReportClassifier
from district import load_registry
from processors.lifecycle.decide import decide
from routing import load_rules

EVAL = Path(__file__).resolve().parents[3] / "classifier" / "data" / "eval" / "reports.jsonl"


@pytest.fixture(scope="module")
def decisions() -> list[tuple[dict, dict]]:
    clf, registry, rules = ReportClassifier.default(), load_registry(), load_rules()
    items = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        (
            item,
            decide(
                item["text"],
                grid_id=item.get("grid_id"),
                category_hint=item.get("category_hint"),
                classifier=clf,
                registry=registry,
                rules=rules,
                min_confidence=DEFAULT_MIN_CONFIDENCE,
            ).to_dict(),
        )
        for item in items
    ]


def test_lead_department_accuracy_at_least_85_percent(decisions: list[tuple[dict, dict]]) -> None:
    # A case sent to manual triage (ZZZX) counts as a miss: it is not at the right department.
    right = sum(item["lead_department"] == d["lead_department"] for item, d in decisions)
    assert right / len(decisions) >= 0.85, f"{right}/{len(decisions)}"


def test_town_level_leads_carry_the_grid_town(decisions: list[tuple[dict, dict]]) -> None:
    registry = load_registry()
    for item, d in decisions:
        lead = d["lead_department"]
        if "-" in lead and item.get("grid_id"):
            assert lead.endswith("-" + registry.grid(item["grid_id"]).town_code)


def test_classify_command_keeps_order_and_shape() -> None:
    lines = [
        {"text": "岭头村3组煤气味好重，有人晕倒", "grid_id": "XL-02-03"},
        {"text": "路灯坏了三天，晚上很黑", "category_hint": "URBAN"},
        {"text": "邻居两家因为拖欠工资吵起来了"},
    ]
    out = subprocess.run(
        [sys.executable, "-m", "gridflow", "classify"],
        input="\n".join(json.dumps(x, ensure_ascii=False) for x in lines),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout.splitlines()
    rows = [json.loads(line) for line in out]
    assert len(rows) == 3
    keys = {"category", "subcategory", "severity", "confidence", "lead_department", "co_departments"}
    assert all(set(r) == keys for r in rows)
    assert rows[0]["severity"] == "P1" and rows[0]["category"] == "SAFETY"
    assert rows[1]["lead_department"] == "CG"


def test_settings_default_threshold_is_the_classifiers() -> None:
    from infra.settings import Settings

    assert Settings().classifier_min_confidence == DEFAULT_MIN_CONFIDENCE
