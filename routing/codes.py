"""Department codes as the routing files may write them, checked against the district registry.

A district-level unit is written by its code (``RS``). A town-level unit
(司法所, 派出所, 镇政府) is written bare (``SFS``) and expanded with the case's
town at routing time (``SFS-XL``); the full code is accepted only in a rule
for that very town, where it cannot be expanded to anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

from district import Registry
from infra.datafile import Doc


@dataclass(frozen=True)
class Units:
    """What the registry offers: towns, district units, bare town units and full town-level codes."""

    towns: tuple[str, ...]
    district: frozenset[str]
    town_units: frozenset[str]
    town_level: frozenset[str]

    @classmethod
    def of(cls, registry: Registry) -> Units:
        """Read the codes out of ``registry``."""
        depts = registry.departments
        return cls(
            towns=tuple(t.code for t in registry.towns),
            district=frozenset(d.code for d in depts if not d.town_level),
            town_units=frozenset(u.code for u in registry.town_units),
            town_level=frozenset(d.code for d in depts if d.town_level),
        )

    def expand(self, code: str, town: str | None) -> str:
        """``SFS`` in XL → ``SFS-XL``; unchanged with no town or for any other code."""
        if code in self.town_units and town is not None:
            return f"{code}-{town}"
        return code

    def check(self, doc: Doc, code: str, line: int, town: str | None, what: str) -> None:
        """Refuse a code the registry does not know, or one that cannot be placed in every town it may meet."""
        if code in self.district:
            return
        if code in self.town_units:
            towns = (town,) if town is not None else self.towns
            for t in towns:
                if self.expand(code, t) not in self.town_level:
                    doc.fail(line, f"{what}: {code} has no unit in town {t} ({code}-{t} is not in the registry)")
            return
        if code in self.town_level:
            if town is None or not code.endswith(f"-{town}"):
                unit = code.partition("-")[0]
                doc.fail(line, f"{what}: write the bare code {unit} (expanded with the case's town), "
                               f"not {code}, outside a rule for that town")
            return
        doc.fail(line, f"{what}: unknown department code {code!r}")
