-- 0008, SQLite: data scope inside the full-text index, and list indexes.
--
-- Every search_doc row gets `scope`: tokens naming the nodes whose subtree holds the record
-- (`zscs<id>` for each ancestor and the node itself), its own node (`zsco<id>`) and its
-- owner (`zscu<id>`). The FTS5 index covers `segmented || ' ' || scope`, so a search ANDs
-- the caller's scope tokens into the MATCH and the FTS index intersects posting lists
-- instead of walking every document of an org (or every match of a common term). The SQL
-- scope filter stays and remains the authority; the tokens only narrow the work.
-- The same expression is in fazhi-store/src/search.rs (SCOPE_OF); keep them equal.

DROP TRIGGER search_doc_ai;
DROP TRIGGER search_doc_ad;
DROP TRIGGER search_doc_au;
DROP TABLE search_fts;

ALTER TABLE search_doc ADD COLUMN scope TEXT NOT NULL DEFAULT '';
UPDATE search_doc SET scope =
    coalesce((SELECT trim(replace(rtrim(o.path, '/'), '/', ' zscs')) FROM org_node o WHERE o.id = search_doc.org_id), '')
    || ' zsco' || org_id || coalesce(' zscu' || owner_id, '');

CREATE VIEW search_fts_content AS SELECT id, segmented || ' ' || scope AS segmented FROM search_doc;
CREATE VIRTUAL TABLE search_fts USING fts5(segmented, content='search_fts_content', content_rowid='id');
INSERT INTO search_fts(search_fts) VALUES ('rebuild');

CREATE TRIGGER search_doc_ai AFTER INSERT ON search_doc BEGIN
    INSERT INTO search_fts(rowid, segmented) VALUES (new.id, new.segmented || ' ' || new.scope);
END;
CREATE TRIGGER search_doc_ad AFTER DELETE ON search_doc BEGIN
    INSERT INTO search_fts(search_fts, rowid, segmented) VALUES ('delete', old.id, old.segmented || ' ' || old.scope);
END;
CREATE TRIGGER search_doc_au AFTER UPDATE ON search_doc BEGIN
    INSERT INTO search_fts(search_fts, rowid, segmented) VALUES ('delete', old.id, old.segmented || ' ' || old.scope);
    INSERT INTO search_fts(rowid, segmented) VALUES (new.id, new.segmented || ' ' || new.scope);
END;

-- The petition list: newest first within the desk's or the assignee's nodes, without
-- sorting every row of the street.
CREATE INDEX petition_org_newest ON petition(org_id, id);
CREATE INDEX petition_handler_newest ON petition(handler_org_id, id);
DROP INDEX petition_handler;
