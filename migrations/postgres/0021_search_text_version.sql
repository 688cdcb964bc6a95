-- The version of the text each kind's search documents were built with: when a module
-- indexes more of a record (petitions: the petitioners' names, issue 14), its documents
-- are rebuilt once at start and the new version recorded here.
CREATE TABLE search_text_version (
    record_type TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
