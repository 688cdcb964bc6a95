-- Deadlines (statutory clocks), the holiday schedules admins import, the job queue, the
-- in-app inbox and per-org webhooks.

CREATE TABLE calendar_year (
    year BIGINT PRIMARY KEY,
    schedule_text TEXT NOT NULL,
    imported_by BIGINT,
    imported_at BIGINT NOT NULL
);

CREATE TABLE deadline_clock (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL,
    owner_id BIGINT REFERENCES app_user(id),
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    clock_json TEXT NOT NULL,
    due_date TEXT,
    state TEXT NOT NULL,
    card TEXT NOT NULL DEFAULT 'none',
    closed BOOLEAN NOT NULL DEFAULT FALSE,
    problem TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX deadline_clock_open ON deadline_clock(closed, due_date);
CREATE INDEX deadline_clock_record ON deadline_clock(record_type, record_id);

CREATE TABLE job (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    dedup_key TEXT UNIQUE,
    run_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL DEFAULT 5,
    locked_by TEXT,
    locked_until BIGINT,
    last_error TEXT NOT NULL DEFAULT '',
    done_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX job_ready ON job(done_at, run_at);

CREATE TABLE notification (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    clock_id BIGINT,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT NOT NULL DEFAULT '',
    urgency BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notification_user ON notification(user_id, read_at);
CREATE UNIQUE INDEX notification_once ON notification(user_id, clock_id, kind);

CREATE TABLE org_webhook (
    org_id BIGINT PRIMARY KEY,
    url TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at BIGINT NOT NULL
);
