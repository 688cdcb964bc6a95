-- Attachments: content-addressed blobs (stored once however often attached) and their
-- attachment to records. The blob bytes live in the blob store (data directory or S3).

CREATE TABLE blob (
    hash TEXT PRIMARY KEY,
    hash_alg TEXT NOT NULL,
    size BIGINT NOT NULL,
    mime TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE attachment (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    blob_hash TEXT NOT NULL REFERENCES blob(hash),
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    mime TEXT NOT NULL,
    uploaded_by BIGINT,
    uploaded_at BIGINT NOT NULL
);
CREATE INDEX attachment_record ON attachment(record_type, record_id);
