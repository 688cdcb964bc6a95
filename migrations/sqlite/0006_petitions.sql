-- Petitions (信访件). Petitioners are kept as JSON (several for a collective item); the
-- identity number is stored only as entered by staff and shown masked.

CREATE TABLE petition (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES org_node(id),
    tracking_code TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    external_no TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    headcount BIGINT NOT NULL DEFAULT 1,
    petitioners_json TEXT NOT NULL DEFAULT '[]',
    petitioner_key TEXT NOT NULL DEFAULT '',
    community_id BIGINT,
    state TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT '',
    reply_text TEXT NOT NULL DEFAULT '',
    legal_basis TEXT NOT NULL DEFAULT '',
    received_on TEXT NOT NULL,
    accepted_on TEXT,
    served_on TEXT,
    closed_on TEXT,
    extended_days BIGINT NOT NULL DEFAULT 0,
    duplicate_of BIGINT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX petition_org ON petition(org_id, state);
CREATE INDEX petition_petitioner ON petition(petitioner_key, created_at);
