"""The severity → SLA table (DESIGN "Severity and SLA"), loaded from ``sla.yaml``.

Durations are written ``5m``, ``2h`` or ``5d``. P1/P2 run on the wall clock;
P3/P4 on the working clock (Mon–Fri 08:30–17:30), where an hour is a
working hour and ``d`` is a working day of ``working_day`` minutes. Every
duration is turned into minutes of its severity's clock, so the SLA timers
need only one number per clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from infra.datafile import Doc, Source, YMap, read_doc
from schemas.vocabulary import Severity

Clock = Literal["wall", "working"]
CLOCKS: Final[tuple[Clock, ...]] = ("wall", "working")
PHASES: Final = ("dispatch", "sign", "resolve")  # the three SLA clocks (DESIGN "SLA clocks")
SEVERITIES: Final = tuple(s.value for s in Severity)
_DURATION: Final = re.compile(r"^([1-9]\d*)([mhd])$")
WALL_DAY_MINUTES: Final = 24 * 60


@dataclass(frozen=True)
class Duration:
    """A duration as written (``5d``); its minutes depend on the clock it runs on."""

    amount: int
    unit: Literal["m", "h", "d"]

    def minutes(self, clock: Clock, working_day_minutes: int) -> int:
        """Minutes on ``clock``: a day is 24 h on the wall clock, one working day otherwise."""
        if self.unit == "m":
            return self.amount
        if self.unit == "h":
            return self.amount * 60
        return self.amount * (WALL_DAY_MINUTES if clock == "wall" else working_day_minutes)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def parse_duration(value: object) -> Duration | None:
    """``"5m"`` → Duration(5, "m"); None if the text is not a duration."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    return Duration(int(match.group(1)), match.group(2))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Sla:
    """Deadlines of one case, in minutes of ``clock`` (wall minutes or working minutes).

    dispatch runs from receipt, sign and resolve from dispatch (DESIGN "SLA clocks").
    """

    clock: Clock
    dispatch_minutes: int
    sign_minutes: int
    resolve_minutes: int

    def minutes(self, phase: str) -> int:
        """The deadline of ``phase`` (dispatch, sign or resolve)."""
        if phase not in PHASES:
            raise ValueError(f"unknown SLA phase {phase!r}")
        return int(getattr(self, f"{phase}_minutes"))


@dataclass(frozen=True)
class SlaTable:
    """The default SLA of every severity, plus the length of a working day."""

    file: str
    working_day_minutes: int
    defaults: dict[str, Sla]
    names: dict[str, str]  # severity → its Chinese name (紧急 …)

    def default(self, severity: str) -> Sla:
        """The default SLA of ``severity`` (P1–P4); ValueError if unknown."""
        sla = self.defaults.get(getattr(severity, "value", severity))
        if sla is None:
            raise ValueError(f"unknown severity {severity!r}")
        return sla

    def stricter(self, severity: str, overrides: Iterable[tuple[str, Duration]]) -> Sla:
        """The default of ``severity`` with each (phase, duration) override tightening it, never loosening.

        An override is read on the severity's own clock: ``5m`` is five wall
        minutes for P1, five working minutes for P3.
        """
        base = self.default(severity)
        values = {p: base.minutes(p) for p in PHASES}
        for phase, duration in overrides:
            values[phase] = min(values[phase], duration.minutes(base.clock, self.working_day_minutes))
        return Sla(base.clock, values["dispatch"], values["sign"], values["resolve"])


def load_sla_file(source: Source) -> SlaTable:
    """Load and validate ``sla.yaml``; DataFileError names the file and line at fault."""
    doc = read_doc(source)
    root = doc.mapping(doc.root, 1, "the SLA file")
    doc.only_keys(root, ("working_day", "severities"), "the SLA file")
    day = parse_duration(doc.text(root, "working_day", "the SLA file"))
    if day is None or day.unit == "d" or not 0 < day.minutes("wall", 0) <= WALL_DAY_MINUTES:
        doc.fail(root.line_of("working_day"), "working_day must be a duration in h or m of at most 24h, e.g. 9h")
    working_day = day.minutes("wall", 0)
    table = doc.mapping(root.get("severities"), root.line_of("severities"), "severities")
    defaults: dict[str, Sla] = {}
    names: dict[str, str] = {}
    for severity, entry in table.items():
        if severity not in SEVERITIES:
            doc.fail(table.line_of(severity), f"unknown severity {severity!r} (expected {', '.join(SEVERITIES)})")
        defaults[severity], names[severity] = _severity(doc, severity, entry, table.line_of(severity), working_day)
    for severity in SEVERITIES:
        if severity not in defaults:
            doc.fail(table.line, f"severity {severity} has no SLA")
    return SlaTable(doc.file, working_day, defaults, names)


def _severity(doc: Doc, severity: str, entry: object, line: int, working_day: int) -> tuple[Sla, str]:
    what = f"severity {severity}"
    m: YMap = doc.mapping(entry, line, what)
    doc.only_keys(m, ("name", "clock", *PHASES), what)
    name = doc.text(m, "name", what) or ""
    clock = doc.text(m, "clock", what)
    if clock not in CLOCKS:
        doc.fail(m.line_of("clock"), f"clock of {what} must be one of {', '.join(CLOCKS)}, not {clock!r}")
    minutes: dict[str, int] = {}
    for phase in PHASES:
        duration = parse_duration(doc.text(m, phase, what))
        if duration is None:
            doc.fail(m.line_of(phase), f"{phase} of {what} must be a duration like 5m, 2h or 5d, not {m[phase]!r}")
        minutes[phase] = duration.minutes(clock, working_day)  # type: ignore[arg-type]
    if minutes["sign"] > minutes["resolve"]:
        # both run from dispatch: a case cannot be due resolved before it is due signed
        doc.fail(m.line_of("sign"), f"sign of {what} is longer than its resolve")
    return Sla(clock, minutes["dispatch"], minutes["sign"], minutes["resolve"]), name  # type: ignore[arg-type]
