"""Who may see a photo: whoever uploaded it, and whoever may see a case that cites it.

"May see a case" is the case endpoint's own rule (:func:`producers.api.case_access.can_read`),
applied to the case as the workers hold it now — so a department that
receives the case later, or a town's sub-centre once the case is placed,
sees its photos too. A report's case is found through the workers' record
of the report; a case merged into another (一事多报) also lends its photos
to whoever may see the case it was merged into, which lists that report.

A photo's citations are recorded only for reports and actions whose
author uploaded the photo (acceptance refuses the others), so citing is
never a way to see someone else's picture.
"""

from __future__ import annotations

from typing import Any

from producers.api.case_access import can_read
from producers.api.photo_store import PhotoStore
from producers.api.worker_client import CaseReader
from schemas.account import Account
from schemas.vocabulary import CaseState

#: citations looked at per read (a photo cited by more reports than this is decided by its first ones)
MAX_CITATIONS = 16
#: merged cases followed to the one that survives
MAX_MERGE_HOPS = 8


async def may_see(account: Account, photo_id: str, store: PhotoStore, cases: CaseReader) -> bool:
    """True if ``account`` may see ``photo_id``. Raises WorkersUnavailable when a case cannot be read now."""
    if store.uploaded_by(photo_id, account.user_id):
        return True
    cited = store.citations(photo_id)
    case_ids = list(cited.case_ids[:MAX_CITATIONS])
    for report_id in cited.report_ids[:MAX_CITATIONS]:
        link = await cases.report(report_id)
        if link and link.get("case_id"):
            case_ids.append(str(link["case_id"]))
    for case_id in dict.fromkeys(case_ids):
        if await _may_see_case(account, case_id, cases):
            return True
    return False


async def _may_see_case(account: Account, case_id: str, cases: CaseReader) -> bool:
    case: dict[str, Any] | None = await cases.case(case_id)
    for _ in range(MAX_MERGE_HOPS):
        if case is None:
            return False
        if can_read(account, case):
            return True
        if case.get("state") != CaseState.MERGED.value or not case.get("merged_into"):
            return False
        case = await cases.case(str(case["merged_into"]))
    return False
