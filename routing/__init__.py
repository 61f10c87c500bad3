"""Routing: which departments get a case, and by when (DESIGN "Taxonomy", "Severity and SLA").

Four data files ship in ``routing/data`` — ``taxonomy.yaml`` (categories,
subcategories, default leads and severities), ``sla.yaml`` (severity → SLA),
``rules.yaml`` (overrides) and ``calendar.yaml`` (working hours, holidays and
调休 workdays of the working-time clock) — validated at load against each
other and the district registry; a bad file raises DataFileError naming
file and line. A district keeps its own copies in one folder
(``GRIDFLOW_ROUTING_DIR``) and loads them with :func:`load_routing`.

    >>> from routing import load_rules, route
    >>> d = route(load_rules(), category="DISPUTE", subcategory="wages", town="XL", severity="P3")
    >>> d.lead, d.sla.sign_minutes
    ('RS', 480)
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Final

from district import Registry, load_registry
from infra.datafile import DataFileError
from routing.calendar import WorkingCalendar, load_calendar_file
from routing.codes import Units
from routing.route import TRIAGE_DEPARTMENT, Dispatch, route, triage
from routing.rules import Rule, RuleSet, load_rules_file
from routing.sla import Sla, SlaTable, load_sla_file
from routing.taxonomy import CategoryDef, Subcategory, Taxonomy, load_taxonomy_file

TAXONOMY_FILE: Final = "taxonomy.yaml"
SLA_FILE: Final = "sla.yaml"
RULES_FILE: Final = "rules.yaml"
CALENDAR_FILE: Final = "calendar.yaml"

__all__ = [
    "TRIAGE_DEPARTMENT",
    "CategoryDef",
    "Dispatch",
    "Rule",
    "RuleSet",
    "Sla",
    "SlaTable",
    "Subcategory",
    "Taxonomy",
    "WorkingCalendar",
    "default_data_dir",
    "load_calendar",
    "load_routing",
    "load_rules",
    "load_sla",
    "load_taxonomy",
    "route",
    "triage",
]


def default_data_dir() -> Traversable:
    """The data folder inside the installed package."""
    return resources.files("routing") / "data"


def load_sla(path: str | Path | None = None) -> SlaTable:
    """The severity → SLA table; with no path, the shipped one, loaded once."""
    return _default_sla() if path is None else load_sla_file(Path(path))


def load_calendar(path: str | Path | None = None) -> WorkingCalendar:
    """The working-time calendar of the P3/P4 SLA clocks; with no path, the shipped one, loaded once."""
    return _default_calendar() if path is None else load_calendar_file(Path(path))


def load_taxonomy(path: str | Path | None = None, *, registry: Registry | None = None) -> Taxonomy:
    """The taxonomy, its lead codes checked against ``registry`` (default: the shipped district)."""
    if path is None and registry is None:
        return _default_taxonomy()
    source = default_data_dir() / TAXONOMY_FILE if path is None else Path(path)
    return load_taxonomy_file(source, Units.of(registry or load_registry()))


def load_rules(
    path: str | Path | None = None,
    *,
    taxonomy: Taxonomy | None = None,
    sla: SlaTable | None = None,
    registry: Registry | None = None,
) -> RuleSet:
    """The routing rules with the taxonomy and SLA table they refer to; the shipped set is cached.

    Anything not given is the shipped default; a custom ``registry`` is also
    used to check a default taxonomy.
    """
    if path is None and taxonomy is None and sla is None and registry is None:
        return _default_rules()
    reg = registry or load_registry()
    source = default_data_dir() / RULES_FILE if path is None else Path(path)
    return load_rules_file(
        source,
        taxonomy or load_taxonomy(registry=registry),
        sla or load_sla(),
        Units.of(reg),
    )


def load_routing(folder: str | Path | None = None) -> tuple[RuleSet, WorkingCalendar]:
    """The rules (with their taxonomy and SLA table) and the calendar a worker routes by.

    Each file is read from ``folder`` when it is there, else the shipped one
    is used; with no folder, everything shipped. Raises DataFileError
    (file, line, problem) for the first bad file, so a worker stops before
    it routes a single case by a broken rule.
    """
    if not folder:
        return load_rules(), load_calendar()
    own = Path(folder)
    if not own.is_dir():
        raise DataFileError(own, None, "GRIDFLOW_ROUTING_DIR is not a folder")

    def pick(name: str) -> Path | None:
        return own / name if (own / name).is_file() else None

    taxonomy_file, sla_file = pick(TAXONOMY_FILE), pick(SLA_FILE)
    rules = load_rules(
        pick(RULES_FILE),
        taxonomy=load_taxonomy(taxonomy_file) if taxonomy_file else None,
        sla=load_sla(sla_file) if sla_file else None,
    )
    return rules, load_calendar(pick(CALENDAR_FILE))


@lru_cache(maxsize=1)
def _default_sla() -> SlaTable:
    return load_sla_file(default_data_dir() / SLA_FILE)


@lru_cache(maxsize=1)
def _default_calendar() -> WorkingCalendar:
    return load_calendar_file(default_data_dir() / CALENDAR_FILE)


@lru_cache(maxsize=1)
def _default_taxonomy() -> Taxonomy:
    return load_taxonomy_file(default_data_dir() / TAXONOMY_FILE, Units.of(load_registry()))


@lru_cache(maxsize=1)
def _default_rules() -> RuleSet:
    units = Units.of(load_registry())
    return load_rules_file(default_data_dir() / RULES_FILE, _default_taxonomy(), _default_sla(), units)
