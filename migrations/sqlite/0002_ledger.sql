-- The record log (全过程记录): one log per street/township (or district), insert-only.
-- Rows are never updated except ledger_log.size, the head counter that serialises appends.

CREATE TABLE ledger_log (
    log_id BIGINT PRIMARY KEY,
    size BIGINT NOT NULL DEFAULT 0,
    hash_alg TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE ledger_entry (
    log_id BIGINT NOT NULL REFERENCES ledger_log(log_id),
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor_id BIGINT,
    actor_name TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    action TEXT NOT NULL,
    change_json TEXT NOT NULL,
    attachments_json TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (log_id, seq)
);
CREATE INDEX ledger_entry_record ON ledger_entry(record_type, record_id);

-- Hashes of completed (perfect) subtrees; level 0 holds the leaf hashes.
CREATE TABLE ledger_node (
    log_id BIGINT NOT NULL,
    level BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (log_id, level, idx)
);

CREATE TABLE ledger_checkpoint (
    id INTEGER PRIMARY KEY,
    log_id BIGINT NOT NULL REFERENCES ledger_log(log_id),
    size BIGINT NOT NULL,
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ledger_checkpoint_log ON ledger_checkpoint(log_id, size);
