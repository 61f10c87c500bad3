-- Reports that opened a case; one row per report_id (read with FINAL).
CREATE TABLE IF NOT EXISTS {database}.reports
(
    report_id UUID,
    source String,
    grid_id Nullable(String),
    location_lat Nullable(Float64),
    location_lon Nullable(Float64),
    location_datum Nullable(String),
    reporter_phone_masked String,
    category_hint Nullable(String),
    title String,
    description String,
    severity_hint Nullable(String),
    occurred_at DateTime('UTC'),
    photo_ids Array(String),
    reporter_id String,
    reporter_role String,
    received_at DateTime('UTC'),
    fingerprint_sha256 String,
    case_id UUID
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(received_at)
ORDER BY report_id;
