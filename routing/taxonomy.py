"""The thirteen categories and their subcategories (DESIGN "Taxonomy"), from ``taxonomy.yaml``.

Each category names its default lead department (and the ordered alternates
tried when that lead returns a case); each subcategory its Chinese name and
the default severity the classifier proposes.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.datafile import Doc, Source, YMap, read_doc
from routing.codes import Units
from routing.sla import SEVERITIES
from schemas.vocabulary import Category

CATEGORIES = tuple(c.value for c in Category)


@dataclass(frozen=True)
class Subcategory:
    """A subcategory (子类), e.g. DISPUTE/wages 劳资纠纷, default severity P3."""

    code: str
    name: str
    severity: str
    line: int


@dataclass(frozen=True)
class CategoryDef:
    """A category (类别) with its default lead and alternates (codes as written: SFS stays bare)."""

    code: str
    name: str
    lead: str
    alternates: tuple[str, ...]
    subcategories: dict[str, Subcategory]
    line: int


@dataclass(frozen=True)
class Taxonomy:
    """Every category, in file order; ``file`` is where it was read from."""

    file: str
    categories: dict[str, CategoryDef]

    def category(self, code: str) -> CategoryDef:
        """The category ``code``; ValueError if unknown."""
        found = self.categories.get(getattr(code, "value", code))
        if found is None:
            raise ValueError(f"unknown category {code!r}")
        return found

    def subcategory(self, category: str, code: str) -> Subcategory:
        """The subcategory ``code`` of ``category``; ValueError if either is unknown."""
        found = self.category(category).subcategories.get(code)
        if found is None:
            raise ValueError(f"unknown subcategory {code!r} of {category}")
        return found

    def default_severity(self, category: str, subcategory: str) -> str:
        """The severity proposed for a report of this subcategory (P1–P4)."""
        return self.subcategory(category, subcategory).severity


def load_taxonomy_file(source: Source, units: Units) -> Taxonomy:
    """Load and validate ``taxonomy.yaml``; DataFileError names the file and line at fault."""
    doc = read_doc(source)
    root = doc.mapping(doc.root, 1, "the taxonomy file")
    doc.only_keys(root, ("categories",), "the taxonomy file")
    table = doc.mapping(root.get("categories"), root.line_of("categories"), "categories")
    categories: dict[str, CategoryDef] = {}
    for code, entry in table.items():
        if code not in CATEGORIES:
            doc.fail(table.line_of(code), f"unknown category {code!r} (expected one of {', '.join(CATEGORIES)})")
        categories[code] = _category(doc, code, entry, table.line_of(code), units)
    for code in CATEGORIES:
        if code not in categories:
            doc.fail(table.line, f"category {code} is missing")
    return Taxonomy(doc.file, categories)


def _category(doc: Doc, code: str, entry: object, line: int, units: Units) -> CategoryDef:
    what = f"category {code}"
    m: YMap = doc.mapping(entry, line, what)
    doc.only_keys(m, ("name", "lead", "alternates", "subcategories"), what)
    name = doc.text(m, "name", what) or ""
    if "lead" not in m:
        doc.fail(line, f"{what} has no default lead ('lead')")
    lead = doc.text(m, "lead", what) or ""
    units.check(doc, lead, m.line_of("lead"), None, f"lead of {what}")
    alternates: list[str] = []
    for alt, alt_line in doc.codes(m, "alternates", what):
        units.check(doc, alt, alt_line, None, f"alternate of {what}")
        if alt == lead or alt in alternates:
            doc.fail(alt_line, f"alternate {alt} of {what} repeats its lead or another alternate")
        alternates.append(alt)
    subs = doc.mapping(m.get("subcategories"), m.line_of("subcategories"), f"subcategories of {what}")
    if not subs:
        doc.fail(subs.line, f"{what} has no subcategories")
    subcategories: dict[str, Subcategory] = {}
    for sub_code, sub_entry in subs.items():
        sub_what = f"subcategory {code}/{sub_code}"
        sm = doc.mapping(sub_entry, subs.line_of(sub_code), sub_what)
        doc.only_keys(sm, ("name", "severity"), sub_what)
        severity = doc.text(sm, "severity", sub_what)
        if severity not in SEVERITIES:
            doc.fail(sm.line_of("severity"), f"severity of {sub_what} must be one of {', '.join(SEVERITIES)}")
        subcategories[sub_code] = Subcategory(
            sub_code, doc.text(sm, "name", sub_what) or "", severity or "", subs.line_of(sub_code)
        )
    return CategoryDef(code, name, lead, tuple(alternates), subcategories, line)
