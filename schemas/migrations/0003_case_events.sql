-- The case-event log; (case_id, seq) identifies an event, so a re-delivered
-- event collapses into one row (read with FINAL).
CREATE TABLE IF NOT EXISTS {database}.case_events
(
    case_id UUID,
    case_no String,
    seq UInt64,
    type String,
    state String,
    actor_id String,
    actor_role String,
    at DateTime('UTC'),
    department Nullable(String),
    payload String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (case_id, seq);
