-- One row per form submission that registered a record, keyed by the submission's nonce
-- (the form's hidden `submission` field, or an API client's key) and who submitted it: a
-- refreshed "registered" page, a double click or a client's retry finds the record instead
-- of registering a second one with its own statutory clocks (issue 14).
CREATE TABLE form_submission (
    submission_key TEXT PRIMARY KEY,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    at BIGINT NOT NULL
);
