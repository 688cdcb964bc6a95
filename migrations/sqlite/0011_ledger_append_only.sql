-- Defence in depth (issue 12): the ledger is append-only in the database itself. Entries,
-- tree nodes and checkpoints are never updated or deleted; a log's head only grows. Someone
-- with write access to the file can drop these triggers, which `ledger verify` and
-- checkpoints held outside the database still catch; a bug or a careless statement cannot.
create trigger ledger_entry_append_only_u before update on ledger_entry
begin select raise(abort, 'ledger_entry is append-only'); end;
create trigger ledger_entry_append_only_d before delete on ledger_entry
begin select raise(abort, 'ledger_entry is append-only'); end;
create trigger ledger_node_append_only_u before update on ledger_node
begin select raise(abort, 'ledger_node is append-only'); end;
create trigger ledger_node_append_only_d before delete on ledger_node
begin select raise(abort, 'ledger_node is append-only'); end;
create trigger ledger_checkpoint_append_only_u before update on ledger_checkpoint
begin select raise(abort, 'ledger_checkpoint is append-only'); end;
create trigger ledger_checkpoint_append_only_d before delete on ledger_checkpoint
begin select raise(abort, 'ledger_checkpoint is append-only'); end;
create trigger ledger_log_grows_only before update on ledger_log
when new.size < old.size or new.log_id <> old.log_id or new.hash_alg <> old.hash_alg
begin select raise(abort, 'a ledger head only grows'); end;
create trigger ledger_log_kept before delete on ledger_log
begin select raise(abort, 'ledger_log is append-only'); end;
