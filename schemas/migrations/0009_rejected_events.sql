-- Network events that could not be read (死信): an import's bad lines, with
-- the reason; their bytes stay on the dead-letter topic (withheld here).
-- One row per (network, file, line, digest): importing the same file again
-- collapses onto the same rows.
CREATE TABLE IF NOT EXISTS {database}.rejected_events
(
    network String,
    via String,
    file String,
    line UInt64,
    field Nullable(String),
    reason String,
    digest String,
    original_base64_masked String,
    at DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (network, file, line, digest);
