"""route(): DESIGN's overrides, town expansion, returns (退回), co-handlers and stricter SLAs."""

from __future__ import annotations

import pytest

from routing import TRIAGE_DEPARTMENT, RuleSet, load_sla, route, triage
from schemas.vocabulary import Category, Severity

# (category, subcategory, lead in town XL) — DESIGN "Taxonomy" subcategory overrides
OVERRIDES = [
    ("DISPUTE", "wages", "RS"),
    ("DISPUTE", "property_management", "ZJ"),
    ("DISPUTE", "land_forest_water", "ZRZY"),
    ("DISPUTE", "medical", "WJ"),
    ("DISPUTE", "consumer", "SCJG"),
    ("DISPUTE", "neighbours", "SFS-XL"),
    ("SECURITY", "illegal_fundraising", "JR"),
    ("SECURITY", "pyramid_selling", "SCJG"),
    ("SECURITY", "telecom_fraud", "PCS-XL"),
    ("SAFETY", "fire_hazard", "XF"),
    ("SAFETY", "construction_site", "ZJ"),
    ("SAFETY", "gas", "YJ"),
    ("ENVIRONMENT", "illegal_sand_mining", "ZRZY"),
    ("ENVIRONMENT", "noise", "STHJ"),
    ("HEALTH", "wildlife", "LY"),
    ("SPECIAL_GROUPS", "mental_disorder", "MZ"),
    ("SPECIAL_GROUPS", "left_behind_children", "MZ"),
    ("SPECIAL_GROUPS", "elderly_alone", "MZ"),
    ("SPECIAL_GROUPS", "community_corrections", "SFS-XL"),
    ("SPECIAL_GROUPS", "drug_users", "PCS-XL"),
    ("PETITION", "legal_aid", "SFJ"),
    ("PETITION", "petition", "XFJ"),
    ("CYBER", "online_gambling_fraud", "PCS-XL"),
    ("LIVELIHOOD", "social_insurance", "RS"),
    ("LIVELIHOOD", "subsistence_allowance", "MZ"),
    ("LIVELIHOOD", "employment", "RS"),
    ("LIVELIHOOD", "schooling", "JY"),
]


@pytest.mark.parametrize(("category", "subcategory", "lead"), OVERRIDES)
def test_subcategory_overrides(rules: RuleSet, category: str, subcategory: str, lead: str) -> None:
    assert route(rules, category=category, subcategory=subcategory, town="XL", severity="P3").lead == lead


@pytest.mark.parametrize(
    ("category", "subcategory", "severity", "co"),
    [
        ("SPECIAL_GROUPS", "mental_disorder", "P2", ("PCS-NJ",)),
        ("PETITION", "collective_incident", "P1", ("PCS-NJ", "ZF-NJ")),
        ("DISPUTE", "demolition", "P2", ("ZF-NJ",)),
        ("DISASTER", "flood", "P1", ("ZF-NJ",)),
        ("DISASTER", "flood", "P2", ()),
        ("FOOD_DRUG", "food_poisoning", "P1", ("WJ",)),
        ("ENVIRONMENT", "illegal_sand_mining", "P3", ()),
    ],
)
def test_co_handlers(rules: RuleSet, category: str, subcategory: str, severity: str, co: tuple[str, ...]) -> None:
    assert route(rules, category=category, subcategory=subcategory, town="NJ", severity=severity).co_handlers == co


def test_town_specific_rule(rules: RuleSet) -> None:
    d = route(rules, category="ENVIRONMENT", subcategory="illegal_sand_mining", town="XL", severity="P3")
    assert (d.lead, d.co_handlers) == ("ZRZY", ("ZF-XL",))


@pytest.mark.parametrize("town", ["DH", "XL", "NJ", "BC"])
def test_town_level_units_take_the_case_town(rules: RuleSet, town: str) -> None:
    d = route(rules, category="PETITION", subcategory="collective_incident", town=town, severity="P1")
    assert d.co_handlers == (f"PCS-{town}", f"ZF-{town}")
    assert route(rules, category="DISPUTE", subcategory=None, town=town, severity="P3").lead == f"SFS-{town}"


def test_unknown_town_keeps_bare_code_and_waits_in_triage(rules: RuleSet) -> None:
    d = route(rules, category="DISPUTE", subcategory="neighbours", town=None, severity="P3")
    assert d.lead == "SFS"
    assert d.triage_reason is not None and "town" in d.triage_reason
    # a district-level lead is not held up; its town-level co-handler stays bare
    d = route(rules, category="PETITION", subcategory="collective_incident", town=None, severity="P1")
    assert (d.lead, d.co_handlers, d.triage_reason) == ("XFJ", ("PCS", "ZF"), None)


def test_enums_are_accepted(rules: RuleSet) -> None:
    d = route(rules, category=Category.DISPUTE, subcategory="wages", town="DH", severity=Severity.P3)
    assert d.lead == "RS"


def test_first_return_picks_the_alternate(rules: RuleSet) -> None:
    d = route(rules, category="DISPUTE", subcategory="land_forest_water", town="XL", severity="P3", excluded={"ZRZY"})
    assert (d.lead, d.triage_reason) == ("LY", None)
    # no alternate: the category default comes next
    d = route(rules, category="DISPUTE", subcategory="wages", town="XL", severity="P3", excluded={"RS"})
    assert d.lead == "SFS-XL"
    # the default lead's own alternates
    d = route(rules, category="DISPUTE", subcategory="neighbours", town="XL", severity="P3", excluded={"SFS-XL"})
    assert d.lead == "SFJ"


def test_return_of_a_bare_lead_excludes_it_once_the_town_is_known(rules: RuleSet) -> None:
    d = route(rules, category="DISPUTE", subcategory="neighbours", town="XL", severity="P3", excluded={"SFS"})
    assert d.lead == "SFJ"


def test_second_return_goes_to_manual_triage(rules: RuleSet) -> None:
    d = route(
        rules, category="DISPUTE", subcategory="land_forest_water", town="XL", severity="P2",
        excluded={"ZRZY", "LY"},
    )
    assert d.lead == TRIAGE_DEPARTMENT and d.co_handlers == ()
    assert d.triage_reason and "returned" in d.triage_reason
    assert d.sla == load_sla().default("P2")


def test_no_candidate_left_goes_to_manual_triage(rules: RuleSet) -> None:
    d = route(rules, category="SECURITY", subcategory="theft_suspicious", town="BC", severity="P3", excluded={"PCS-BC"})
    assert d.lead == TRIAGE_DEPARTMENT and d.triage_reason


def test_co_handlers_never_include_lead_or_excluded(rules: RuleSet) -> None:
    # the returned PCS is dropped from the co-handlers too
    d = route(
        rules, category="PETITION", subcategory="collective_incident", town="DH", severity="P1",
        excluded={"PCS-DH"},
    )
    assert (d.lead, d.co_handlers) == ("XFJ", ("ZF-DH",))
    # mental disorder: MZ returns → WJ leads, PCS still co-handles
    d = route(
        rules, category="SPECIAL_GROUPS", subcategory="mental_disorder", town="DH", severity="P2", excluded={"MZ"}
    )
    assert (d.lead, d.co_handlers) == ("WJ", ("PCS-DH",))
    # food poisoning: SCJG returns → its alternate WJ leads and is no longer a co-handler
    d = route(rules, category="FOOD_DRUG", subcategory="food_poisoning", town="DH", severity="P1", excluded={"SCJG"})
    assert (d.lead, d.co_handlers) == ("WJ", ())


def test_stricter_sla_for_a_gas_leak(rules: RuleSet) -> None:
    p1 = load_sla().default("P1")
    d = route(rules, category="SAFETY", subcategory="gas", town="DH", severity="P1")
    assert (d.sla.clock, d.sla.dispatch_minutes, d.sla.sign_minutes, d.sla.resolve_minutes) == ("wall", 5, 5, 120)
    assert d.sla.sign_minutes < p1.sign_minutes
    # the rule is for P1 only: a P3 gas report keeps the P3 default
    assert route(rules, category="SAFETY", subcategory="gas", town="DH", severity="P3").sla == load_sla().default("P3")


def test_triage_for_an_unplaced_report() -> None:
    d = triage("classifier confidence 0.31 below threshold 0.6", sla=load_sla().default("P2"))
    assert d.lead == TRIAGE_DEPARTMENT and d.co_handlers == () and d.in_triage
    assert d.sla.clock == "wall"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"category": "NOPE", "subcategory": None, "town": "XL", "severity": "P3"},
        {"category": "DISPUTE", "subcategory": "nope", "town": "XL", "severity": "P3"},
        {"category": "DISPUTE", "subcategory": None, "town": "ZZ", "severity": "P3"},
        {"category": "DISPUTE", "subcategory": None, "town": "XL", "severity": "P9"},
    ],
)
def test_unknown_values_are_refused(rules: RuleSet, kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        route(rules, **kwargs)  # type: ignore[arg-type]


def test_one_department_returning_twice_is_two_returns(rules: RuleSet) -> None:
    # The centre assigned the case back to the department that returned it, and it returned it again.
    d = route(rules, category="DISPUTE", subcategory="wages", town="XL", severity="P3", excluded=["RS", "RS"])
    assert d.lead == TRIAGE_DEPARTMENT and "2" in (d.triage_reason or "")
    once = route(rules, category="DISPUTE", subcategory="wages", town="XL", severity="P3", excluded=["RS"])
    assert once.lead != TRIAGE_DEPARTMENT
