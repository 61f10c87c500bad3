"""Number a case (立案编号): ``<town>-<day>-<n>``, one counter per town and day.

The openings topic is keyed by town, so one partition, and so one agent
instance, owns each town's counter. A replayed opening finds its number
in ``case_numbers`` and keeps it; if a crash lost that entry but kept the
counter, the replay draws a fresh number, the case agent keeps the first
one (it already opened the case), and the day's sequence merely skips one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemas.case_flow import CaseOpening, OpenCommand

if TYPE_CHECKING:
    from processors.pipeline import Pipeline


def register(p: Pipeline) -> None:
    """Run :func:`number_one` over the case-openings topic."""
    p.each(p.openings, "number-cases", number_one)


async def number_one(p: Pipeline, opening: CaseOpening) -> None:
    """Give the opening a case number and send the open command to its case."""
    case_key = str(opening.case_id).encode()
    case_no = p.case_numbers.get(case_key)
    counter_key = f"{opening.town}-{opening.day}".encode()
    if case_no is None:
        n = int(p.sequences.get(counter_key, 0)) + 1
        case_no = case_number(opening.town, opening.day, n)
        p.sequences[counter_key] = n
        p.case_numbers[case_key] = case_no
    await p.commands.send(key=case_key, value=OpenCommand(case_no=case_no, opening=opening))


def case_number(town: str, day: str, n: int) -> str:
    """案件编号 such as ``XL-20261125-0042``: town, Shanghai day, that day's sequence."""
    return f"{town}-{day}-{n:04d}"
