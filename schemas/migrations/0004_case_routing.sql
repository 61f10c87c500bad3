-- Routing facts per case (issue: classify and route): the classification,
-- co-handlers, triage, returns and the SLA deadlines of the current dispatch.
-- One statement, so the columns arrive together; the runner adds only the
-- missing ones (18.16 has no ADD COLUMN IF NOT EXISTS).
ALTER TABLE {database}.cases
    ADD COLUMN subcategory Nullable(String),
    ADD COLUMN confidence Nullable(Float64),
    ADD COLUMN co_handlers Array(String),
    ADD COLUMN triage_reason Nullable(String),
    ADD COLUMN returned_by Array(String),
    ADD COLUMN sla_clock Nullable(String),
    ADD COLUMN last_dispatched_at Nullable(DateTime('UTC')),
    ADD COLUMN dispatch_deadline Nullable(DateTime('UTC')),
    ADD COLUMN sign_deadline Nullable(DateTime('UTC')),
    ADD COLUMN resolve_deadline Nullable(DateTime('UTC'));
