-- Search text is normalised (NFKC width folding, lower case) when indexed and queried
-- (issue 13). Rows indexed before are rewritten once, in Rust (SQL has no NFKC), by
-- `fazhi_store::search::renormalize` at start; this table records that it ran.
create table search_normalized (version bigint not null);
