-- The installation's checkpoint signing keys (issue 12): public halves only, with the time
-- each began and stopped signing. Nodes sharing a database must sign with a key listed
-- here; a node whose key is not listed refuses to start unless told to rotate, which is
-- recorded on the ledger. Old checkpoints are checked with the key that signed them.
create table ledger_key (
    id integer primary key,
    vkey text not null unique,
    valid_from bigint not null,
    valid_to bigint,
    created_at bigint not null
);
