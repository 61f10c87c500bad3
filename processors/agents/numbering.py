"""Number a case (立案编号) — or find the open case a report is one more of (一事多报) — per town.

The openings topic is keyed by town, so one partition, and so one agent
instance, owns each town's counter and each town's open incidents: every
report meets every open case near it, across workers and restarts.

A report that matches an open case (:func:`routing.merging.find_match`)
still gets its own case and number — that case, state ``merged``, keeps
the report and the evidence, so a wrong merge can be split — and the open
case is told it has one more report. The decision is remembered, so a
replayed opening gets the same answer. A replayed opening finds its number
in ``case_numbers`` and keeps it. A number is sent on only once the counter
and the number are on their changelogs (the producer is flushed first), so
no crash can hand the same number out twice; a crash after the flush and
before the send merely replays the opening, which finds its number.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from processors.lifecycle.incidents import CandidateStore, incident_of
from routing.merging import find_match
from schemas.case_flow import (
    CandidateGone,
    CaseOpening,
    MergeLink,
    OpenCommand,
    OpeningCommand,
)

if TYPE_CHECKING:
    from processors.pipeline import Pipeline

logger = logging.getLogger(__name__)


def register(p: Pipeline) -> None:
    """Run :func:`number_one` over the case-openings topic."""
    p.each(p.openings, "number-cases", number_one)


async def number_one(p: Pipeline, command: OpeningCommand | CaseOpening | CandidateGone) -> None:
    """Number the opening (merging it into an open case when it is one more report of it), or forget a closed case."""
    inner = command.root if isinstance(command, OpeningCommand) else command
    store = CandidateStore(p.candidates, p.merge_rules)
    if isinstance(inner, CandidateGone):
        store.forget(inner.town, inner.case_id)
        return
    opening = inner
    case_key = str(opening.case_id).encode()
    case_no = p.case_numbers.get(case_key)
    merge = _merge_of(p, store, opening) if case_no is None else _remembered(p, case_key)
    counter_key = f"{opening.town}-{opening.day}".encode()
    counter = int(p.sequences.get(counter_key, 0))
    if case_no is None:
        n = counter + 1
        case_no = case_number(opening.town, opening.day, n)
        p.sequences[counter_key] = n
        p.case_numbers[case_key] = case_no
        # The table writes reach their changelogs through Faust's buffered producer, later than the
        # command below would: a kill -9 in between lost the counter but not the number already
        # sent, and the next report of the town and day got the same number again. So the new
        # counter and number are on Kafka (acks=all) before anyone hears of the number.
        await p.app.producer.flush()
    elif case_no.startswith(f"{opening.town}-{opening.day}-") and int(case_no.rsplit("-", 1)[1]) > counter:
        # A number kept on this worker's disk whose counter a restart's changelog replay set back:
        # the counter must not hand it out again.
        p.sequences[counter_key] = int(case_no.rsplit("-", 1)[1])
        await p.app.producer.flush()
    await p.commands.send(key=case_key, value=OpenCommand(case_no=case_no, opening=opening, merge=merge))


def _merge_of(p: Pipeline, store: CandidateStore, opening: CaseOpening) -> MergeLink | None:
    """Decide, once: the open case this report joins, or None (then it is filed as a candidate itself)."""
    case_key = str(opening.case_id).encode()
    incident = incident_of(opening)
    merge = None
    if incident is not None:
        now = p.clock.now()
        evidence = find_match(incident, store.candidates(opening.town, incident, now), p.merge_rules)
        if evidence is not None:
            merge = MergeLink(
                case_id=evidence.case_id,
                evidence={
                    "rule": evidence.rule, "metres": None if evidence.metres is None else round(evidence.metres, 1),
                    "minutes": round(evidence.minutes, 1), "text_similarity": round(evidence.text_similarity, 3),
                    "summary": evidence.summary(),
                },
            )  # fmt: skip
            store.joined(opening.town, evidence.case_id, incident, now)
            logger.info("report %s joins case %s: %s", opening.report.report_id, evidence.case_id, evidence.summary())
        else:
            store.add(opening.town, opening.case_id, incident, now)
    p.merge_decisions[case_key] = merge.model_dump(mode="json") if merge else {}
    return merge


def _remembered(p: Pipeline, case_key: bytes) -> MergeLink | None:
    decided = p.merge_decisions.get(case_key)
    return MergeLink.model_validate(decided) if decided else None


def case_number(town: str, day: str, n: int) -> str:
    """案件编号 such as ``XL-20261125-0042``: town, Shanghai day, that day's sequence."""
    return f"{town}-{day}-{n:04d}"
