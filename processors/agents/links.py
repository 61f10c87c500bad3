"""The case agent's handling of one incident's many reports (一事多报): a report joins, leaves, or must stand alone.

A link names the open case a report joined; the count moves once per
report (``link_table`` remembers which reports a case counts, and how many
links each reporter has, so a re-delivered link changes nothing). A link
that reaches a case merged meanwhile goes on to the case it was merged
into; one that reaches a case no longer open comes back as a detach: the
report's own case is routed as a new case (the same problem after its case
closed is a new incident). So does a link going round a ring of cases
merged into each other (A into B, then B into A). An unlink follows the
same chain: a case merged on with its joined reports took their count with
it, so each case down the chain counts the split-off reports no more.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from processors.agents.case_table import key_of, publish, remember, stored
from processors.lifecycle.dispatching import SYSTEM_ACTOR
from processors.lifecycle.linking import link, split_off, unlink
from schemas.case_flow import DetachCommand, LinkCommand, UnlinkCommand
from schemas.vocabulary import OPEN_STATES, CaseState, Role

if TYPE_CHECKING:
    from processors.pipeline import Pipeline

logger = logging.getLogger(__name__)

#: a link passed on more often than this is going round a ring of merged cases
MAX_MERGE_HOPS = 8


async def link_report(p: Pipeline, command: LinkCommand) -> None:
    """Count a joining report on its case, tell the lead; or pass it on, or send it back to stand alone."""
    key = key_of(command.case_id)
    case = stored(p, key)
    looped = False
    if case is not None and case.state is CaseState.MERGED and case.merged_into is not None:
        # Two cases merged into each other (or a longer ring) would pass the link round for ever.
        looped = case.merged_into == command.report_case_id or command.hops >= MAX_MERGE_HOPS
        if not looped:
            forwarded = command.model_copy(update={"case_id": case.merged_into, "hops": command.hops + 1})
            await p.commands.send(key=key_of(case.merged_into), value=forwarded)
            return
        logger.warning("case %s: merges form a ring (%d hops); the joining case stands alone", case.case_no, command.hops)
    if looped or case is None or case.state not in OPEN_STATES:
        why = (
            "合并形成循环，作为新案件办理" if looped
            else "合并的案件已结案，作为新案件办理" if case is not None
            else "合并的案件不存在，作为新案件办理"
        )  # fmt: skip
        detach_it = DetachCommand(case_id=command.report_case_id, reason=why, at=command.at)
        await p.commands.send(key=key_of(command.report_case_id), value=detach_it)
        return
    linked = f"{command.case_id}:{command.report_case_id}".encode()
    if p.link_table.get(linked):
        return  # counted already (a re-delivered link)
    by_reporter = f"{command.case_id}:r:{command.reporter_id}".encode()
    known_reporter = command.reporter_id == case.reporter_id or bool(p.link_table.get(by_reporter))
    new_reporters = max(0, command.reporters - 1) if known_reporter else command.reporters
    outcome = link(case, command, new_reporters=new_reporters, bare_codes=p.context.rules.units.town_units)
    await publish(p, key, case, outcome.case, outcome.events, outcome.alerts)
    p.link_table[linked] = command.reports
    p.link_table[by_reporter] = int(p.link_table.get(by_reporter) or 0) + 1
    remember(p, key, outcome.case)
    logger.info("case %s: one more report (%d in all)", case.case_no, outcome.case.report_count)


async def unlink_report(p: Pipeline, command: UnlinkCommand) -> None:
    """A report split off its case: count it no more here, nor on the cases this one was merged into."""
    key = key_of(command.case_id)
    case = stored(p, key)
    if case is None:
        return
    linked = f"{command.case_id}:{command.report_case_id}".encode()
    counted = int(p.link_table.get(linked) or 0)
    if counted:
        reports = min(command.reports, counted)
        by_reporter = f"{command.case_id}:r:{command.reporter_id}".encode()
        left = int(p.link_table.get(by_reporter) or 0) - (0 if command.carried else 1)
        gone = 1 if not command.carried and left <= 0 and command.reporter_id != case.reporter_id else 0
        outcome = unlink(case, command.model_copy(update={"reports": reports}), reporters_gone=gone)
        await publish(p, key, case, outcome.case, outcome.events, outcome.alerts)
        p.link_table[linked] = counted - reports
        if not command.carried:
            p.link_table[by_reporter] = max(0, left)
        remember(p, key, outcome.case)
        case = outcome.case
    if case.state is CaseState.MERGED and case.merged_into is not None and command.hops < MAX_MERGE_HOPS:
        # This case's reports went on with it to the case it was merged into (which counts them as
        # this case's link); or the report's link came after the merge and was counted there.
        onward = {"case_id": case.merged_into, "hops": command.hops + 1}
        if counted:
            onward.update(report_case_id=case.case_id, reports=min(command.reports, counted), carried=True)
        await p.commands.send(key=key_of(case.merged_into), value=command.model_copy(update=onward))


async def detach(p: Pipeline, command: DetachCommand) -> None:
    """The case a report joined had closed: the report's own case is routed as a new one."""
    key = key_of(command.case_id)
    case = stored(p, key)
    if case is None or case.state is not CaseState.MERGED or case.merged_into is None:
        return
    outcome = split_off(
        case, command.at, p.context, actor_id=SYSTEM_ACTOR, actor_role=Role.SYSTEM,
        details={"reason": command.reason}, tell_former=False,
    )  # fmt: skip
    await publish(p, key, case, outcome.case, outcome.events, outcome.alerts, outcome.follow_ups)
    remember(p, key, outcome.case)
    logger.info("case %s stands alone: %s", case.case_no, command.reason)
