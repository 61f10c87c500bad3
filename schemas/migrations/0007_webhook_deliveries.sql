-- The webhook delivery log (推送记录): every attempt to push an alert to a
-- department's own system, one row per (alert_id, attempt).
CREATE TABLE IF NOT EXISTS {database}.webhook_deliveries
(
    alert_id String,
    department String,
    url String,
    attempt UInt64,
    outcome String,
    status Nullable(Int64),
    error Nullable(String),
    at DateTime('UTC'),
    next_attempt_at Nullable(DateTime('UTC'))
)
ENGINE = ReplacingMergeTree(attempt)
PARTITION BY toYYYYMM(at)
ORDER BY (department, alert_id, attempt);
