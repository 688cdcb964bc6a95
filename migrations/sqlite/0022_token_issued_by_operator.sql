-- A token may be issued by the operator of the binary (`fazhi user token`), who is no
-- account: the 12345 desk's token carries business permissions no single administrator may
-- hand over (privilege ceiling, issue 13). created_by is NULL then. SQLite cannot drop a NOT
-- NULL constraint: the table is rebuilt with the same columns and rows.
CREATE TABLE api_token_new (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES app_user(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_by BIGINT REFERENCES app_user(id),
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
INSERT INTO api_token_new (id, user_id, name, token_hash, prefix, created_by, created_at, last_used_at, revoked_at)
    SELECT id, user_id, name, token_hash, prefix, created_by, created_at, last_used_at, revoked_at FROM api_token;
DROP TABLE api_token;
ALTER TABLE api_token_new RENAME TO api_token;
