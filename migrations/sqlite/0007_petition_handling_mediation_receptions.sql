-- Petition handling beyond the first slice: the assignee (承办单位), the leader who owns a
-- hard case (包案), supervision (督办), 复查/复核 rounds linked to their item, 回访, transfers;
-- people's mediation (人民调解); leader reception days (领导接访).

ALTER TABLE petition ADD COLUMN handler_org_id BIGINT;
ALTER TABLE petition ADD COLUMN lead_user_id BIGINT;
ALTER TABLE petition ADD COLUMN supervised_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE petition ADD COLUMN parent_id BIGINT;
ALTER TABLE petition ADD COLUMN stage TEXT NOT NULL DEFAULT 'first';
ALTER TABLE petition ADD COLUMN accepted_elsewhere TEXT NOT NULL DEFAULT '';
ALTER TABLE petition ADD COLUMN satisfaction TEXT NOT NULL DEFAULT '';
ALTER TABLE petition ADD COLUMN visited_on TEXT;
ALTER TABLE petition ADD COLUMN collective BIGINT NOT NULL DEFAULT 0;
CREATE INDEX petition_handler ON petition(handler_org_id);
CREATE INDEX petition_parent ON petition(parent_id);
CREATE INDEX petition_received ON petition(received_on);

-- Every transfer (转送) and assignment (交办), with its reason.
CREATE TABLE petition_transfer (
    id INTEGER PRIMARY KEY,
    petition_id BIGINT NOT NULL REFERENCES petition(id),
    kind TEXT NOT NULL CHECK (kind IN ('assign', 'transfer', 'objection')),
    from_org_id BIGINT NOT NULL,
    to_org_id BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_by BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX petition_transfer_item ON petition_transfer(petition_id);

-- Leaders with the supervise permission (built-in roles get it from the code on new
-- installations; existing ones get it here).
INSERT INTO role_permission (role_id, permission)
    SELECT id, 'petitions.supervise' FROM role WHERE code IN ('principal', 'deputy')
    ON CONFLICT DO NOTHING;

-- 人民调解委员会 (人民调解法 第七至九条) and its mediators.
CREATE TABLE mediation_committee (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES org_node(id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE mediator (
    id INTEGER PRIMARY KEY,
    committee_id BIGINT NOT NULL REFERENCES mediation_committee(id),
    name TEXT NOT NULL,
    phone TEXT NOT NULL DEFAULT '',
    user_id BIGINT,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);

-- A dispute under mediation. Never published.
CREATE TABLE mediation_case (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES org_node(id),
    committee_id BIGINT NOT NULL REFERENCES mediation_committee(id),
    mediator_id BIGINT REFERENCES mediator(id),
    petition_id BIGINT REFERENCES petition(id),
    case_no TEXT NOT NULL UNIQUE,
    dispute_type TEXT NOT NULL,
    parties_json TEXT NOT NULL,
    summary TEXT NOT NULL,
    state TEXT NOT NULL,
    received_on TEXT NOT NULL,
    consent_on TEXT,
    decline_reason TEXT NOT NULL DEFAULT '',
    agreement_form TEXT NOT NULL DEFAULT '',
    agreement_facts TEXT NOT NULL DEFAULT '',
    agreement_terms TEXT NOT NULL DEFAULT '',
    agreement_manner TEXT NOT NULL DEFAULT '',
    perform_by TEXT,
    agreed_on TEXT,
    routes_told TEXT NOT NULL DEFAULT '',
    ended_on TEXT,
    performance_checked_on TEXT,
    performance_note TEXT NOT NULL DEFAULT '',
    confirmation_applied_on TEXT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX mediation_case_org ON mediation_case(org_id, state);

-- 调解工作记录 (人民调解法 第二十七条).
CREATE TABLE mediation_session (
    id INTEGER PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES mediation_case(id),
    held_on TEXT NOT NULL,
    place TEXT NOT NULL,
    mediator_id BIGINT REFERENCES mediator(id),
    record TEXT NOT NULL,
    created_by BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX mediation_session_case ON mediation_session(case_id);

-- 领导接访日 (信访工作条例 第十八条第二款): published on the portal.
CREATE TABLE reception_day (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES org_node(id),
    leader_user_id BIGINT REFERENCES app_user(id),
    leader_name TEXT NOT NULL,
    leader_title TEXT NOT NULL DEFAULT '',
    day TEXT NOT NULL,
    hours TEXT NOT NULL,
    place TEXT NOT NULL,
    topic TEXT NOT NULL DEFAULT '',
    created_by BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX reception_day_org ON reception_day(org_id, day);

-- What happened at a reception: who came, the matter, the leader's instruction.
CREATE TABLE reception (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES org_node(id),
    day_id BIGINT REFERENCES reception_day(id),
    leader_user_id BIGINT REFERENCES app_user(id),
    leader_name TEXT NOT NULL,
    received_on TEXT NOT NULL,
    visitors TEXT NOT NULL,
    headcount BIGINT NOT NULL DEFAULT 1,
    matter TEXT NOT NULL,
    instruction TEXT NOT NULL,
    petition_id BIGINT REFERENCES petition(id),
    created_by BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX reception_org ON reception(org_id, received_on);
