"""Default severity per subcategory, and where the classifier gets it from.

The routing engineer's ``routing/data/taxonomy.yaml`` is the source of truth
(``categories.<CAT>.subcategories.<sub>.severity``). The classifier reads it
through an injectable ``SeverityLookup`` so that tests, other deployments and
the routing package itself can hand in their own; :data:`FALLBACK` keeps the
classifier working where that file is absent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping

import yaml

from classifier.corpus import PACKAGE_DIR

SeverityLookup = Callable[[str, str], "str | None"]

TAXONOMY_PATH = PACKAGE_DIR.parent / "routing" / "data" / "taxonomy.yaml"

# Written from DESIGN's severity table: consultations are P4, the things that
# are dangerous by nature (a collective incident forming, food poisoning) P1,
# what tends to spread or hurt many people P2, the rest P3.
FALLBACK: Mapping[tuple[str, str], str] = {
    **{("DISPUTE", s): "P3" for s in (
        "marriage_family", "neighbours", "debt", "wages", "property_management",
        "land_forest_water", "medical", "consumer")},
    ("DISPUTE", "demolition"): "P2",
    **{("SECURITY", s): "P2" for s in (
        "porn_gambling_drugs", "telecom_fraud", "illegal_fundraising", "pyramid_selling",
        "organised_crime", "fight_brawl")},
    ("SECURITY", "theft_suspicious"): "P3",
    **{("SAFETY", s): "P3" for s in ("workplace_hazard", "fire_hazard", "construction_site", "ebike_charging")},
    ("SAFETY", "gas"): "P2",
    ("SAFETY", "hazardous_chemicals"): "P2",
    **{("ENVIRONMENT", s): "P3" for s in ("sewage", "smoke_dust", "noise", "solid_waste", "illegal_sand_mining")},
    **{("URBAN", s): "P3" for s in ("street_vending", "illegal_building", "street_light", "road_damage", "garbage")},
    ("URBAN", "manhole_cover"): "P2",
    ("URBAN", "waterlogging"): "P2",
    ("FOOD_DRUG", "unlicensed_food"): "P3",
    ("FOOD_DRUG", "expired_food"): "P3",
    ("FOOD_DRUG", "fake_medicine"): "P2",
    ("FOOD_DRUG", "food_poisoning"): "P1",
    ("FOOD_DRUG", "illegal_additives"): "P2",
    ("TRAFFIC", "traffic_hazard"): "P3",
    ("TRAFFIC", "road_accident"): "P2",
    ("TRAFFIC", "illegal_passenger_transport"): "P3",
    ("TRAFFIC", "broken_traffic_facility"): "P3",
    ("HEALTH", "infectious_disease"): "P2",
    **{("HEALTH", s): "P3" for s in ("vectors", "wildlife", "illegal_medical_practice")},
    ("SPECIAL_GROUPS", "mental_disorder"): "P2",
    **{("SPECIAL_GROUPS", s): "P3" for s in (
        "left_behind_children", "elderly_alone", "community_corrections", "released_prisoners", "drug_users")},
    ("PETITION", "petition"): "P3",
    ("PETITION", "collective_incident"): "P1",
    ("PETITION", "legal_aid"): "P4",
    ("CYBER", "online_rumour"): "P3",
    ("CYBER", "personal_info_leak"): "P3",
    ("CYBER", "online_gambling_fraud"): "P2",
    **{("DISASTER", s): "P1" for s in ("flood", "landslide", "sudden_accident", "forest_fire")},
    **{("LIVELIHOOD", s): "P4" for s in ("social_insurance", "subsistence_allowance", "employment", "schooling")},
}


def fallback_default_severity(category: str, subcategory: str) -> str | None:
    """The classifier's own default severity, or None for an unknown pair."""
    return FALLBACK.get((category, subcategory))


def taxonomy_default_severity(path: str | Path = TAXONOMY_PATH) -> SeverityLookup:
    """A lookup reading ``taxonomy.yaml``; falls back to :data:`FALLBACK` per pair.

    Read once, here, rather than through ``routing.taxonomy`` so the
    classifier does not import routing's validation (and its department
    registry) just to know a severity. A missing file means the fallback.
    """
    table: dict[tuple[str, str], str] = {}
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        doc = {}
    for cat, entry in (doc.get("categories") or {}).items():
        for sub, spec in ((entry or {}).get("subcategories") or {}).items():
            if isinstance(spec, dict) and spec.get("severity") in ("P1", "P2", "P3", "P4"):
                table[(cat, sub)] = spec["severity"]

    def lookup(category: str, subcategory: str) -> str | None:
        return table.get((category, subcategory)) or FALLBACK.get((category, subcategory))

    return lookup
