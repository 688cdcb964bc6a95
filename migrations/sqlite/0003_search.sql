-- Full-text search (全文检索), SQLite. One row per searchable record, written in the same
-- transaction as the record. `segmented` is the jieba search-mode segmentation (tokens
-- separated by spaces), indexed by the external-content FTS5 table `search_fts` (rowid =
-- search_doc.id) that the triggers below keep in step. No foreign keys: the index is
-- derived data, deleted by the use case that deletes its record.

CREATE TABLE search_doc (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL,
    owner_id BIGINT,
    module TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    segmented TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (record_type, record_id)
);
CREATE INDEX search_doc_org ON search_doc(org_id);

CREATE VIRTUAL TABLE search_fts USING fts5(segmented, content='search_doc', content_rowid='id');

CREATE TRIGGER search_doc_ai AFTER INSERT ON search_doc BEGIN
    INSERT INTO search_fts(rowid, segmented) VALUES (new.id, new.segmented);
END;
CREATE TRIGGER search_doc_ad AFTER DELETE ON search_doc BEGIN
    INSERT INTO search_fts(search_fts, rowid, segmented) VALUES ('delete', old.id, old.segmented);
END;
CREATE TRIGGER search_doc_au AFTER UPDATE ON search_doc BEGIN
    INSERT INTO search_fts(search_fts, rowid, segmented) VALUES ('delete', old.id, old.segmented);
    INSERT INTO search_fts(rowid, segmented) VALUES (new.id, new.segmented);
END;
