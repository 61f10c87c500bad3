-- Source networks (多网合一): what a network's event adds to the report it
-- became — the network's own event id, the subcategory its code maps to, why
-- a code did not map (the case then waits in triage), and its original
-- payload, which holds names and phones and so is stored withheld (empty).
-- Placed before the extra case_id column, where the record puts them.
ALTER TABLE {database}.reports
    ADD COLUMN source_event_id Nullable(String) AFTER fingerprint_sha256,
    ADD COLUMN subcategory_hint Nullable(String) AFTER source_event_id,
    ADD COLUMN mapping_note Nullable(String) AFTER subcategory_hint,
    ADD COLUMN original_payload_masked String AFTER mapping_note;
