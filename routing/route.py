"""Choosing the departments for a case: lead, co-handlers and SLA (DESIGN "The case lifecycle").

``route`` applies the rules, expands town-level units with the case's town,
and skips every department that has returned the case (退回). A case returned
twice, or one no candidate lead is left for, goes to manual triage at the
command centre (ZZZX), as does a report the classifier could not place
(``triage``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from routing.codes import Units
from routing.rules import Resolution, RuleSet
from routing.sla import Sla

TRIAGE_DEPARTMENT: Final = "ZZZX"  # 区综治中心: manual triage and escalation target
MAX_RETURNS: Final = 2  # "a case returned twice goes to manual triage at ZZZX"


@dataclass(frozen=True)
class Dispatch:
    """Where a case goes.

    ``lead`` owns the case and its SLA; ``co_handlers`` (协办) are alerted
    too. ``triage_reason`` is set when the case waits in triage: at ZZZX, or
    with a bare town-level lead (``SFS``) until the case's town is known. It is
    shown to the command centre as it is: a code (``returned_twice``,
    ``all_returned``, ``town_unknown``, ``low_confidence``, ``unmapped``), then
    the reason in Chinese.
    """

    lead: str
    co_handlers: tuple[str, ...]
    sla: Sla
    triage_reason: str | None = None

    @property
    def in_triage(self) -> bool:
        """True if a person must act before a department can work the case."""
        return self.triage_reason is not None


def triage(reason: str, *, sla: Sla) -> Dispatch:
    """Send a case to manual triage at ZZZX (e.g. classifier below its confidence threshold), under ``sla``."""
    return Dispatch(TRIAGE_DEPARTMENT, (), sla, reason)


def route(
    rules: RuleSet,
    *,
    category: str,
    subcategory: str | None,
    town: str | None,
    severity: str,
    excluded: Iterable[str] = frozenset(),
    lead: str | None = None,
) -> Dispatch:
    """The dispatch of a case of ``category``/``subcategory`` in ``town`` at ``severity``.

    ``lead`` is the command centre's own choice (人工分拨): it leads, with the
    rules' SLA and the co-handlers that have not returned the case, however
    many returns there were.

    ``excluded`` holds the departments that have returned the case, one
    entry per return (full codes such as ``SFS-XL``, or bare ones if the
    town was unknown); ``MAX_RETURNS`` returns send it to manual triage. The lead
    is the first of [rule lead, its alternates, category default] not
    excluded. ValueError for a category, subcategory, town or severity the
    data does not know: callers pass validated values.
    """
    res, sla = _resolve(rules, category, subcategory, town, severity)
    returns = list(excluded)  # one entry per return: a department the centre assigned again may return it again
    if lead is not None:
        return Dispatch(lead, _co_handlers(res, rules.units, town, _gone(rules.units, town, returns), lead), sla)
    if len(returns) >= MAX_RETURNS:
        times = len(returns)
        return triage(f"returned_twice: 已退回 {times} 次（{'、'.join(returns)}），转人工分拨", sla=sla)

    units = rules.units
    gone = _gone(units, town, returns)
    candidates = list(dict.fromkeys((res.lead, *res.alternates, res.category_lead)))
    chosen = next((c for c in candidates if not gone(c)), None)
    if chosen is None:
        tried = "、".join(units.expand(c, town) for c in candidates)
        return triage(f"all_returned: 可牵头的部门均已退回（{tried}），转人工分拨", sla=sla)
    lead = units.expand(chosen, town)
    reason = None
    if lead in units.town_units:  # only possible with no town: the case waits for its town
        reason = f"town_unknown: 镇街不明，牵头部门 {lead} 须先确定镇街才能派遣"
    return Dispatch(lead, _co_handlers(res, units, town, gone, lead), sla, reason)


def _resolve(
    rules: RuleSet, category: str, subcategory: str | None, town: str | None, severity: str
) -> tuple[Resolution, Sla]:
    """The matching rules' resolution and the SLA at ``severity`` (ValueError for what the data does not know)."""
    category = getattr(category, "value", category)  # accept schemas.vocabulary enums
    severity = getattr(severity, "value", severity)
    if subcategory is not None:
        rules.taxonomy.subcategory(category, subcategory)
    if town is not None and town not in rules.units.towns:
        raise ValueError(f"unknown town {town!r}")
    res = rules.resolve(category, subcategory, town, severity)
    return res, rules.sla.stricter(severity, res.sla)


def _gone(units: Units, town: str | None, returns: list[str]) -> Callable[[str], bool]:
    out = frozenset(returns)
    return lambda code: code in out or units.expand(code, town) in out


def _co_handlers(
    res: Resolution, units: Units, town: str | None, gone: Callable[[str], bool], lead: str
) -> tuple[str, ...]:
    # A bare co-handler (ZF with no town) stays bare and gets its alert once the
    # town is known; it does not hold up a district-level lead.
    return tuple(
        dict.fromkeys(
            units.expand(c, town) for c in res.co_handlers if not gone(c) and units.expand(c, town) != lead
        )
    )
