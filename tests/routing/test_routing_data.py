"""The shipped routing data validates and agrees with DESIGN, the vocabulary and the eval subcategories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from district import load_registry
from routing import RuleSet, load_rules, load_sla, load_taxonomy, route
from schemas.vocabulary import Category

REPO = Path(__file__).resolve().parents[2]
TOWNS = ("DH", "XL", "NJ", "BC")

DEFAULT_LEADS = {  # DESIGN "Taxonomy", default lead column
    "DISPUTE": "SFS", "SECURITY": "PCS", "SAFETY": "YJ", "ENVIRONMENT": "STHJ", "URBAN": "CG",
    "FOOD_DRUG": "SCJG", "TRAFFIC": "JJ", "HEALTH": "WJ", "SPECIAL_GROUPS": "MZ", "PETITION": "XFJ",
    "CYBER": "WX", "DISASTER": "YJ", "LIVELIHOOD": "MZ",
}


def test_shipped_files_load_and_are_cached() -> None:
    assert load_rules() is load_rules()
    assert load_taxonomy() is load_taxonomy()
    assert load_sla() is load_sla()


def test_taxonomy_has_the_thirteen_categories_with_design_leads() -> None:
    taxonomy = load_taxonomy()
    assert list(taxonomy.categories) == [c.value for c in Category]
    assert {c: d.lead for c, d in taxonomy.categories.items()} == DEFAULT_LEADS
    assert all(d.name for d in taxonomy.categories.values())


def test_subcategories_are_exactly_the_eval_codes() -> None:
    expected = json.loads((REPO / "classifier/data/eval/subcategories.json").read_text(encoding="utf-8"))
    taxonomy = load_taxonomy()
    assert {c: list(d.subcategories) for c, d in taxonomy.categories.items()} == expected
    for cat in taxonomy.categories.values():
        for sub in cat.subcategories.values():
            assert sub.name and sub.severity in ("P1", "P2", "P3", "P4")


def test_default_severities() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.default_severity("PETITION", "collective_incident") == "P1"
    assert taxonomy.default_severity("DISPUTE", "neighbours") == "P3"
    assert taxonomy.default_severity("LIVELIHOOD", "schooling") == "P4"


def test_sla_table_is_design_table() -> None:
    table = load_sla()
    day = 9 * 60  # Mon–Fri 08:30–17:30
    got = {s: (t.clock, t.dispatch_minutes, t.sign_minutes, t.resolve_minutes) for s, t in table.defaults.items()}
    assert got == {
        "P1": ("wall", 5, 15, 4 * 60),
        "P2": ("wall", 30, 2 * 60, 24 * 60),
        "P3": ("working", 2 * 60, 8 * 60, 5 * day),
        "P4": ("working", 8 * 60, 2 * day, 15 * day),
    }


@pytest.mark.parametrize("category", [c.value for c in Category])
@pytest.mark.parametrize("town", TOWNS)
def test_every_category_in_every_town_has_a_registered_lead(rules: RuleSet, category: str, town: str) -> None:
    registry = load_registry()
    subs = (None, *rules.taxonomy.category(category).subcategories)
    for sub in subs:
        for severity in ("P1", "P2", "P3", "P4"):
            d = route(rules, category=category, subcategory=sub, town=town, severity=severity)
            assert registry.department(d.lead) is not None, d
            assert registry.department(d.lead).town_level == ("-" in d.lead)
            assert d.triage_reason is None
            for co in d.co_handlers:
                assert registry.department(co) is not None, d
