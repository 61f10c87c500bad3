"""Routing rules (``rules.yaml``): overrides of the category defaults by subcategory, town or severity.

Validated at load, with the file and line of the rule at fault: known
category, subcategory, town, severity and department codes; no two rules
with the same key; no rule SLA looser than its severity's default (DESIGN:
"never a looser one"); and every category in every town resolves to a lead
the registry has.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.datafile import DataFileError, Doc, Source, YMap, read_doc
from routing.codes import Units
from routing.sla import PHASES, SEVERITIES, Duration, SlaTable, parse_duration
from routing.taxonomy import Taxonomy

MATCH_KEYS = ("category", "subcategory", "town", "severity")
ACTION_KEYS = ("lead", "alternates", "co_handlers", "sla")


@dataclass(frozen=True)
class Rule:
    """One rule; ``None`` in a match key means "any". Codes as written (``SFS`` stays bare)."""

    category: str
    subcategory: str | None
    town: str | None
    severity: str | None
    lead: str | None
    alternates: tuple[str, ...]
    co_handlers: tuple[str, ...]
    sla: tuple[tuple[str, Duration], ...]
    line: int

    @property
    def key(self) -> tuple[str, str | None, str | None, str | None]:
        """What the rule matches on; two rules with one key would contradict each other."""
        return (self.category, self.subcategory, self.town, self.severity)

    @property
    def specificity(self) -> tuple[bool, bool, bool]:
        """Subcategory beats town beats severity; rules that can match one case never tie."""
        return (self.subcategory is not None, self.town is not None, self.severity is not None)

    def matches(self, subcategory: str | None, town: str | None, severity: str) -> bool:
        """True if every key the rule sets equals the case's."""
        return all(
            want is None or want == have
            for want, have in ((self.subcategory, subcategory), (self.town, town), (self.severity, severity))
        )


@dataclass(frozen=True)
class Resolution:
    """What the rules say for one case, before town expansion and returns."""

    lead: str
    alternates: tuple[str, ...]
    category_lead: str
    co_handlers: tuple[str, ...]
    sla: tuple[tuple[str, Duration], ...]
    lead_at: tuple[str, int]  # (file, line) where the lead was written, for error messages


@dataclass(frozen=True)
class RuleSet:
    """The rules with the taxonomy, SLA table and registry codes they were validated against."""

    file: str
    rules: tuple[Rule, ...]
    taxonomy: Taxonomy
    sla: SlaTable
    units: Units

    def resolve(self, category: str, subcategory: str | None, town: str | None, severity: str) -> Resolution:
        """Combine the category default with every matching rule (see rules.yaml's header)."""
        cat = self.taxonomy.category(category)
        found = sorted(
            (r for r in self.rules if r.category == cat.code and r.matches(subcategory, town, severity)),
            key=lambda r: r.specificity,
        )
        lead, alternates, lead_at = cat.lead, cat.alternates, (self.taxonomy.file, cat.line)
        co: list[str] = []
        sla: list[tuple[str, Duration]] = []
        for rule in found:  # least specific first, so the last lead written wins
            if rule.lead is not None:
                lead, alternates, lead_at = rule.lead, rule.alternates, (self.file, rule.line)
            co.extend(c for c in rule.co_handlers if c not in co)
            sla.extend(rule.sla)
        return Resolution(lead, alternates, cat.lead, tuple(co), tuple(sla), lead_at)


def load_rules_file(source: Source, taxonomy: Taxonomy, sla: SlaTable, units: Units) -> RuleSet:
    """Load and validate ``rules.yaml``; DataFileError names the file and line at fault."""
    doc = read_doc(source)
    root = doc.mapping(doc.root, 1, "the rules file")
    doc.only_keys(root, ("rules",), "the rules file")
    items = doc.sequence(root.get("rules"), root.line_of("rules"), "rules")
    rules: list[Rule] = []
    seen: dict[tuple[str, str | None, str | None, str | None], int] = {}
    for entry, line in zip(items, items.lines):
        rule = _rule(doc, doc.mapping(entry, line, "a rule"), taxonomy, sla, units)
        if rule.key in seen:
            doc.fail(rule.line, f"duplicate rule for {_describe(rule)} (first at line {seen[rule.key]})")
        seen[rule.key] = rule.line
        rules.append(rule)
    ruleset = RuleSet(doc.file, tuple(rules), taxonomy, sla, units)
    _check_complete(ruleset)
    return ruleset


def _describe(rule: Rule) -> str:
    return " ".join(f"{k}={v}" for k, v in zip(MATCH_KEYS, rule.key) if v is not None)


def _rule(doc: Doc, m: YMap, taxonomy: Taxonomy, sla: SlaTable, units: Units) -> Rule:
    doc.only_keys(m, (*MATCH_KEYS, *ACTION_KEYS, "note"), "a rule")
    category = doc.text(m, "category", "a rule") or ""
    cat = taxonomy.categories.get(category)
    if cat is None:
        doc.fail(m.line_of("category"), f"unknown category {category!r}")
    sub = doc.text(m, "subcategory", "a rule", required=False)
    if sub is not None and sub not in cat.subcategories:
        doc.fail(m.line_of("subcategory"), f"unknown subcategory {sub!r} of {category}")
    town = doc.text(m, "town", "a rule", required=False)
    if town is not None and town not in units.towns:
        doc.fail(m.line_of("town"), f"unknown town {town!r} (expected one of {', '.join(units.towns)})")
    severity = doc.text(m, "severity", "a rule", required=False)
    if severity is not None and severity not in SEVERITIES:
        doc.fail(m.line_of("severity"), f"unknown severity {severity!r}")
    if not any(k in m for k in ("lead", "co_handlers", "sla")):
        doc.fail(m.line, "the rule sets none of lead, co_handlers, sla")
    lead = doc.text(m, "lead", "a rule", required=False)
    if lead is not None:
        units.check(doc, lead, m.line_of("lead"), town, "lead")
    alternates = _code_list(doc, m, "alternates", town, units, taken=[lead] if lead else [])
    if alternates and lead is None:
        doc.fail(m.line_of("alternates"), "alternates without a lead: they are fallbacks for the rule's own lead")
    co = _code_list(doc, m, "co_handlers", town, units, taken=[])
    if lead is not None and lead in co:
        doc.fail(m.line_of("co_handlers"), f"{lead} is both the lead and a co-handler")
    overrides = _sla(doc, m, category, sub, severity, taxonomy, sla)
    return Rule(category, sub, town, severity, lead, alternates, co, overrides, m.line)


def _code_list(doc: Doc, m: YMap, key: str, town: str | None, units: Units, taken: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for code, line in doc.codes(m, key, "a rule"):
        units.check(doc, code, line, town, key)
        if code in out or code in taken:
            doc.fail(line, f"{code} is named twice in the rule")
        out.append(code)
    return tuple(out)


def _sla(
    doc: Doc, m: YMap, category: str, sub: str | None, severity: str | None, taxonomy: Taxonomy, table: SlaTable
) -> tuple[tuple[str, Duration], ...]:
    if "sla" not in m:
        return ()
    sm = doc.mapping(m["sla"], m.line_of("sla"), "the rule's sla")
    doc.only_keys(sm, PHASES, "the rule's sla")
    # The severity the rule is written for: its own key, else its subcategory's default.
    reference = severity or (taxonomy.default_severity(category, sub) if sub else None)
    if reference is None:
        doc.fail(sm.line, "an sla needs a severity or a subcategory to be compared with its default")
    base = table.default(reference)
    out: list[tuple[str, Duration]] = []
    for phase, value in sm.items():
        duration = parse_duration(value)
        if duration is None:
            doc.fail(sm.line_of(phase), f"sla {phase} must be a duration like 5m, 2h or 5d, not {value!r}")
        minutes = duration.minutes(base.clock, table.working_day_minutes)
        if minutes > base.minutes(phase):
            doc.fail(sm.line_of(phase), f"sla {phase} {duration} is looser than the {reference} default "
                                        f"({base.minutes(phase)} {base.clock} minutes); a rule may only be stricter")
        out.append((phase, duration))
    return tuple(out)


def _check_complete(ruleset: RuleSet) -> None:
    """Every category, subcategory, town and severity must resolve to departments the registry has."""
    units = ruleset.units
    known = units.district | units.town_level
    for cat in ruleset.taxonomy.categories.values():
        for sub in (None, *cat.subcategories):
            for town in units.towns:
                for severity in SEVERITIES:
                    res = ruleset.resolve(cat.code, sub, town, severity)
                    for code in (res.lead, *res.alternates, res.category_lead, *res.co_handlers):
                        if units.expand(code, town) not in known:
                            raise DataFileError(*res.lead_at, f"{cat.code}/{sub or '*'} in {town} at {severity} "
                                                   f"routes to {units.expand(code, town)}, not in the registry")
