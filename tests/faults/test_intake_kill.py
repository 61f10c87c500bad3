"""kill -9 of the intake while phones post and retry: nothing lost, nothing doubled, repeats answered 202.

The intake answers 202 only after Kafka acknowledged the report, so a kill
can lose only answers, never reports: a phone whose answer was lost (or
that could not connect) sends the same report again, and the restarted
intake — which rebuilds its index of recent reports from the reports
topic — answers a report it already took with the same 202, marked as a
repeat. Reports accepted before the kill are sent again after the restart,
as a phone that never saw its answer would, to prove it.
"""

from __future__ import annotations

import random

import pytest
from fault_load import Phones, conclude, distinct_reports, restart_intake
from harness import start_pipeline

from infra.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RATE = 30.0  # reports per second
SECONDS = 45  # of posting
RESENT = 60  # reports accepted before the kill, sent again after the restart


def test_the_intake_killed_while_phones_post_and_retry(pipeline_settings: Settings) -> None:
    pipeline = start_pipeline(pipeline_settings, workers=1)
    try:
        with Phones(pipeline, distinct_reports(random.Random(12_403), int(RATE * SECONDS)), RATE) as phones:
            phones.at(15)
            before = [o for o in phones.outcomes if o.accepted]
            pipeline.intake.kill()
            phones.note("kill -9 intake")
            phones.at(20)  # phones meanwhile find no one listening, and keep their reports
            restarted = phones.note("restarting intake")
            restart_intake(pipeline)
            phones.note("intake answers again")
            phones.wait()

            # What the restarted intake knows: a report taken before the kill, sent again, is the same 202.
            resent = []
            for outcome in random.Random(7).sample(before, min(RESENT, len(before))):
                with pipeline.client(outcome.who) as phone:  # the account that first sent it
                    resent.append(phone.post("/api/v1/reports", json=outcome.body))
            errors = sum(1 for o in phones.outcomes for a in o.answers if not a[1].isdigit())

            def retried_reports_got_the_same_202() -> None:
                refused = {o.final.status_code for o in phones.outcomes if o.final is not None} - {202}
                assert not refused, f"a retried report got {refused}: a repeat must be the same 202"

            def phones_met_the_dead_intake() -> None:
                assert errors > 0, "no phone ever met the dead intake: the kill came too late or too early"

            def resent_reports_are_repeats() -> None:
                assert len(resent) == RESENT
                answers = {(r.status_code, r.headers.get("X-Gridflow-Repeat")) for r in resent}
                assert answers == {(202, "1")}, [(r.status_code, r.text[:200]) for r in resent if r.status_code != 202]

            conclude(
                "intake-killed",
                "kill -9 of the intake at 15 s, restarted at 20 s; phones retry with the same report_id",
                phones, restarted,
                checks=[retried_reports_got_the_same_202, phones_met_the_dead_intake, resent_reports_are_repeats],
                connection_errors_met=errors,
                accepted_before_kill_sent_again=len(resent),
                sent_again_answered_202_repeat=sum(
                    1 for r in resent if r.status_code == 202 and r.headers.get("X-Gridflow-Repeat") == "1"
                ),
            )  # fmt: skip
    finally:
        pipeline.stop()
