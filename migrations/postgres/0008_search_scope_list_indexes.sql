-- 0008, PostgreSQL: data scope inside the full-text index, and list indexes.
--
-- Every search_doc row gets `scope`: tokens naming the nodes whose subtree holds the record
-- (`zscs<id>` for each ancestor and the node itself), its own node (`zsco<id>`) and its
-- owner (`zscu<id>`). `tsv` covers `segmented || ' ' || scope`, so a search ANDs the
-- caller's scope tokens into the tsquery and the GIN index intersects posting lists
-- instead of ranking every match of a common term. The SQL scope filter stays and remains
-- the authority; the tokens only narrow the work.
-- The same expression is in fazhi-store/src/search.rs (SCOPE_OF); keep them equal.

ALTER TABLE search_doc ADD COLUMN scope TEXT NOT NULL DEFAULT '';
UPDATE search_doc d SET scope =
    coalesce((SELECT trim(replace(rtrim(o.path, '/'), '/', ' zscs')) FROM org_node o WHERE o.id = d.org_id), '')
    || ' zsco' || d.org_id || coalesce(' zscu' || d.owner_id, '');

DROP INDEX search_doc_tsv;
ALTER TABLE search_doc DROP COLUMN tsv;
ALTER TABLE search_doc ADD COLUMN tsv TSVECTOR
    GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, segmented || ' ' || scope)) STORED;
CREATE INDEX search_doc_tsv ON search_doc USING GIN (tsv);

CREATE INDEX petition_org_newest ON petition(org_id, id);
CREATE INDEX petition_handler_newest ON petition(handler_org_id, id);
DROP INDEX petition_handler;
