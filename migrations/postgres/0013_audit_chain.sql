-- 0012 (issue 12): the security audit trail is hash-chained. Each new line carries its
-- place in the trail (`seq`, 1, 2, 3 …) and `chain` = SHA-256 of the previous line's chain
-- and its own canonical content; `audit_head` (one row, created on the first chained
-- line) holds the latest place and chain and serialises writers. The server anchors the
-- head in the ledger (`audit.anchor` entries), so `ledger verify` catches a line edited,
-- inserted or deleted, also at the end of the trail once an anchor covers it. Lines
-- written before this migration keep `seq` and `chain` null: older, not chained.
ALTER TABLE audit_event ADD COLUMN seq BIGINT;
ALTER TABLE audit_event ADD COLUMN chain TEXT;
CREATE UNIQUE INDEX audit_event_seq ON audit_event(seq);

CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    chain TEXT NOT NULL
);
