-- Per-case facts, one row per (case_id, seq); the highest seq is current.
-- Computed by the case agent, so reads need no aggregation over raw events.
CREATE TABLE IF NOT EXISTS {database}.cases
(
    case_id UUID,
    case_no String,
    seq UInt64,
    report_id UUID,
    source String,
    town Nullable(String),
    grid_id Nullable(String),
    lat Nullable(Float64),
    lon Nullable(Float64),
    category Nullable(String),
    severity Nullable(String),
    title String,
    description String,
    reporter_id String,
    reporter_phone_masked String,
    state String,
    lead_department Nullable(String),
    received_at DateTime('UTC'),
    accepted_at DateTime('UTC'),
    dispatched_at Nullable(DateTime('UTC')),
    updated_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(seq)
PARTITION BY toYYYYMM(received_at)
ORDER BY case_id;
