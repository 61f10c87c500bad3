"""One incident, many reports (一事多报): a case learns of a report that joined it, or of one split off it.

Pure, like the rest of the lifecycle. The joining report keeps its own case
(state ``merged``, the evidence with it), so links are stored per report;
the case it joined keeps only counts, and its lead gets an update alert
(又有 N 人反映) instead of a second new-case alert. A wrongly merged report
is split off (拆分) on its own case: it is routed and alerted as a new case,
and the case it left counts one report fewer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from processors.lifecycle.context import Context
from processors.lifecycle.decide import plan_dispatch
from processors.lifecycle.dispatching import alert_for, dispatch, event_for
from processors.lifecycle.outcome import Applied
from processors.lifecycle.returns import classification_of_case
from schemas.case import Case
from schemas.case_flow import LinkCommand, UnlinkCommand
from schemas.vocabulary import CaseEventType, CaseState, Role


def link(case: Case, command: LinkCommand, *, new_reporters: int, bare_codes: frozenset[str]) -> Applied:
    """``case`` with the joining report(s) counted, a ``linked`` event, and its lead's update alert."""
    updated = case.model_copy(
        update=dict(
            seq=case.seq + 1,
            report_count=case.report_count + command.reports,
            reporter_count=case.reporter_count + new_reporters,
            updated_at=command.at,
        )
    )
    payload: dict[str, Any] = {
        "report_id": str(command.report_id),
        "report_case_id": str(command.report_case_id),
        "source": command.source.value,
        "occurred_at": command.occurred_at.isoformat(),
        "reports": command.reports,
        "report_count": updated.report_count,
        "reporter_count": updated.reporter_count,
        **command.evidence,
    }
    event = event_for(updated, CaseEventType.LINKED, case.lead_department, payload)
    lead = case.lead_department
    alerts = [] if lead is None or lead in bare_codes else [alert_for(updated, event, lead, lead=True, kind="update")]
    return Applied(updated, [event], alerts)


def unlink(case: Case, command: UnlinkCommand, *, reporters_gone: int) -> Applied:
    """``case`` after a report split off it: one report (or a merged case's reports) fewer."""
    updated = case.model_copy(
        update=dict(
            seq=case.seq + 1,
            report_count=max(1, case.report_count - command.reports),
            reporter_count=max(1, case.reporter_count - reporters_gone),
            updated_at=command.at,
        )
    )
    payload = {
        "report_id": str(command.report_id),
        "report_case_id": str(command.report_case_id),
        "report_count": updated.report_count,
    }
    return Applied(updated, [event_for(updated, CaseEventType.UNLINKED, case.lead_department, payload)])


def split_off(
    case: Case,
    at: datetime,
    ctx: Context,
    *,
    actor_id: str,
    actor_role: Role,
    details: dict[str, Any],
    tell_former: bool = True,
) -> Applied:
    """A merged case becomes a case of its own: routed and alerted as new, its dispatch clock from now.

    ``tell_former``: send the case it was merged into an unlink (not when
    that case never counted it: it had closed before the link arrived).
    """
    assert case.state is CaseState.MERGED and case.merged_into is not None
    former = case.merged_into
    reopened = case.model_copy(
        update=dict(seq=case.seq + 1, state=CaseState.ACCEPTED, merged_into=None, merge_evidence=None, updated_at=at)
    )
    event = event_for(
        reopened, CaseEventType.SPLIT, None, {**details, "split_from": str(former)}, actor_id=actor_id,
        actor_role=actor_role,
    )  # fmt: skip
    plan = plan_dispatch(classification_of_case(case), case.town, ctx.rules, ctx.min_confidence)
    after, dispatched, alerts = dispatch(
        reopened, plan, at=at, dispatch_clock_from=at, calendar=ctx.calendar, bare_codes=ctx.rules.units.town_units
    )
    follow_ups: list[LinkCommand | UnlinkCommand] = []
    if tell_former:
        follow_ups.append(
            UnlinkCommand(
                case_id=former, report_case_id=case.case_id, report_id=case.report_id, reporter_id=case.reporter_id,
                reports=case.report_count, at=at,
            )  # fmt: skip
        )
    return Applied(after, [event, dispatched], alerts, follow_ups)
