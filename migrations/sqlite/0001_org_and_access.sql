-- Organisation tree, users, roles, sessions, login audit, API tokens (SQLite).
-- Times are BIGINT unix milliseconds (UTC); booleans are BOOLEAN (stored 0/1).

CREATE TABLE org_kind (
    code TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    parent_kinds TEXT NOT NULL DEFAULT '',
    keeps_log BOOLEAN NOT NULL DEFAULT FALSE,
    sort_order BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE org_node (
    id INTEGER PRIMARY KEY,
    parent_id BIGINT REFERENCES org_node(id),
    kind TEXT NOT NULL REFERENCES org_kind(code),
    name TEXT NOT NULL,
    code TEXT NOT NULL DEFAULT '',
    path TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX org_node_path ON org_node(path);
CREATE INDEX org_node_parent ON org_node(parent_id);
CREATE UNIQUE INDEX org_node_sibling_name ON org_node(COALESCE(parent_id, 0), name);

CREATE TABLE app_user (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    mobile TEXT,
    org_id BIGINT NOT NULL REFERENCES org_node(id),
    password_hash TEXT NOT NULL,
    must_change_password BOOLEAN NOT NULL DEFAULT TRUE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX app_user_org ON app_user(org_id);

CREATE TABLE role (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    scope TEXT NOT NULL CHECK (scope IN ('all', 'subtree', 'org', 'own')),
    builtin BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE role_permission (
    role_id BIGINT NOT NULL REFERENCES role(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE user_role (
    user_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    role_id BIGINT NOT NULL REFERENCES role(id),
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_role_role ON user_role(role_id);

CREATE TABLE user_session (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    source_addr TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX user_session_user ON user_session(user_id);

CREATE TABLE login_failure (
    id INTEGER PRIMARY KEY,
    lock_key TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failure_key ON login_failure(lock_key, at);

CREATE TABLE audit_event (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    username TEXT NOT NULL DEFAULT '',
    user_id BIGINT,
    org_id BIGINT,
    source_addr TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_event_at ON audit_event(at);

CREATE TABLE api_token (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES app_user(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES app_user(id),
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
