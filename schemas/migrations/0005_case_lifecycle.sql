-- The lifecycle (issue: case lifecycle, SLA clocks and escalation): per case,
-- the SLA of its current dispatch, the times of sign/resolve/close, rework
-- and extension counts, pending requests, suspension, raised escalations,
-- merges, on-the-spot resolution, co-handlers' parts, and the response-time
-- facts the processors compute (durations, SLA met, return count).
ALTER TABLE {database}.cases
    ADD COLUMN sla_dispatch_minutes Nullable(UInt64),
    ADD COLUMN sla_sign_minutes Nullable(UInt64),
    ADD COLUMN sla_resolve_minutes Nullable(UInt64),
    ADD COLUMN signed_at Nullable(DateTime('UTC')),
    ADD COLUMN first_resolved_at Nullable(DateTime('UTC')),
    ADD COLUMN resolved_at Nullable(DateTime('UTC')),
    ADD COLUMN closed_at Nullable(DateTime('UTC')),
    ADD COLUMN reopen_count UInt64,
    ADD COLUMN extension_count UInt64,
    ADD COLUMN pending_request Nullable(String),
    ADD COLUMN pending_hours Nullable(UInt64),
    ADD COLUMN suspended_at Nullable(DateTime('UTC')),
    ADD COLUMN escalations Array(String),
    ADD COLUMN merged_into Nullable(UUID),
    ADD COLUMN on_the_spot UInt8,
    ADD COLUMN co_done Array(String),
    ADD COLUMN dispatch_seconds Nullable(UInt64),
    ADD COLUMN sign_seconds Nullable(UInt64),
    ADD COLUMN resolve_seconds Nullable(UInt64),
    ADD COLUMN close_seconds Nullable(UInt64),
    ADD COLUMN sign_met Nullable(UInt8),
    ADD COLUMN resolve_met Nullable(UInt8),
    ADD COLUMN return_count UInt64;

-- 自行处置 on the report, in the record's field order.
ALTER TABLE {database}.reports
    ADD COLUMN handled_on_spot UInt8 AFTER photo_ids;
