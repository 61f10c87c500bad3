-- One incident, many reports (一事多报), and the source networks: per case,
-- how many reports and independent reporters it has, why a merged report
-- joined its case, the network's own event id, a code that did not map, and
-- the original payload (withheld here: names and phones).
ALTER TABLE {database}.cases
    ADD COLUMN report_count UInt64 DEFAULT 1,
    ADD COLUMN reporter_count UInt64 DEFAULT 1,
    ADD COLUMN merge_evidence Nullable(String),
    ADD COLUMN source_event_id Nullable(String),
    ADD COLUMN mapping_note Nullable(String),
    ADD COLUMN original_payload_masked String;
ALTER TABLE {database}.case_versions
    ADD COLUMN report_count UInt64 DEFAULT 1,
    ADD COLUMN reporter_count UInt64 DEFAULT 1,
    ADD COLUMN merge_evidence Nullable(String),
    ADD COLUMN source_event_id Nullable(String),
    ADD COLUMN mapping_note Nullable(String),
    ADD COLUMN original_payload_masked String;
