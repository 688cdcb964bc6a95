-- 0009, SQLite: the record kernel.
--
-- 1. Search holders. A record may be held by several org nodes / users at once (a petition:
--    its desk and creator and, while assigned, the assignee and the 包案 leader). Each index
--    row lists all of them in `search_holder`; the scope filter of a search admits a row
--    when ANY holder is in scope, and `scope` (the tokens the full-text index narrows by)
--    holds every holder's tokens. The save path rewrites both whenever holders change.
--    Existing rows get their one holder; petitions are rebuilt from the petition table
--    (their index rows were written at intake and never followed a transfer or assignment).
-- 2. Petition opinions are stored as codes (support, explain, reject), not labels.
-- 3. At most one open clock per record and rule (concurrent identical steps cannot start two).

CREATE TABLE search_holder (
    doc_id BIGINT NOT NULL REFERENCES search_doc(id) ON DELETE CASCADE,
    org_id BIGINT NOT NULL,
    owner_id BIGINT
);
CREATE INDEX search_holder_doc ON search_holder(doc_id, org_id, owner_id);
CREATE INDEX search_holder_org ON search_holder(org_id);

-- Documents are filtered per record kind (record_type) now; `module` names the kind's module.
UPDATE search_doc SET module = CASE record_type WHEN 'petition' THEN 'petitions' ELSE 'org' END;

INSERT INTO search_holder (doc_id, org_id, owner_id)
    SELECT id, org_id, owner_id FROM search_doc WHERE record_type <> 'petition';

UPDATE search_doc SET
    org_id = (SELECT p.org_id FROM petition p WHERE CAST(p.id AS TEXT) = search_doc.record_id),
    owner_id = (SELECT p.created_by FROM petition p WHERE CAST(p.id AS TEXT) = search_doc.record_id)
    WHERE record_type = 'petition';
INSERT INTO search_holder (doc_id, org_id, owner_id)
    SELECT d.id, p.org_id, p.created_by FROM search_doc d JOIN petition p ON CAST(p.id AS TEXT) = d.record_id
    WHERE d.record_type = 'petition';
INSERT INTO search_holder (doc_id, org_id, owner_id)
    SELECT d.id, coalesce(p.handler_org_id, p.org_id), p.lead_user_id FROM search_doc d
    JOIN petition p ON CAST(p.id AS TEXT) = d.record_id
    WHERE d.record_type = 'petition' AND (p.handler_org_id IS NOT NULL OR p.lead_user_id IS NOT NULL);

-- The same token expression as fazhi-store/src/search.rs (scope_tokens_of); keep them equal.
UPDATE search_doc SET scope = coalesce((
    SELECT group_concat(tok, ' ') FROM (
        SELECT trim(replace(rtrim(o.path, '/'), '/', ' zscs')) || ' zsco' || o.id || coalesce(' zscu' || h.owner_id, '')
            AS tok
        FROM search_holder h JOIN org_node o ON o.id = h.org_id WHERE h.doc_id = search_doc.id
    )), '')
    WHERE record_type = 'petition';

UPDATE petition SET outcome = CASE outcome
    WHEN '支持' THEN 'support' WHEN '解释说明' THEN 'explain' WHEN '不予支持' THEN 'reject' ELSE outcome END;

UPDATE deadline_clock SET closed = TRUE WHERE closed = FALSE AND id NOT IN (
    SELECT min(id) FROM deadline_clock WHERE closed = FALSE GROUP BY record_type, record_id, rule_id);
CREATE UNIQUE INDEX deadline_clock_one_open ON deadline_clock(record_type, record_id, rule_id) WHERE closed = FALSE;

-- 4. A notice names the record it is about; the staff UI links it (no URLs stored by the app).
ALTER TABLE notification ADD COLUMN record_type TEXT;
ALTER TABLE notification ADD COLUMN record_id TEXT;
