-- Defence in depth (issue 12): the ledger is append-only in the database itself. Entries,
-- tree nodes and checkpoints are never updated, deleted or truncated; a log's head only
-- grows. In production the application's role should also lack UPDATE/DELETE/TRUNCATE on
-- these tables (README, "账本表的权限"); these triggers hold even for the owner, until
-- dropped, which `ledger verify` against checkpoints held outside the database catches.
create function fazhi_ledger_append_only() returns trigger language plpgsql as $$
begin
  raise exception '% is append-only', tg_table_name;
end $$;
create function fazhi_ledger_head_grows() returns trigger language plpgsql as $$
begin
  if new.size < old.size or new.log_id <> old.log_id or new.hash_alg <> old.hash_alg then
    raise exception 'a ledger head only grows';
  end if;
  return new;
end $$;
create trigger ledger_entry_append_only before update or delete on ledger_entry
  for each row execute function fazhi_ledger_append_only();
create trigger ledger_node_append_only before update or delete on ledger_node
  for each row execute function fazhi_ledger_append_only();
create trigger ledger_checkpoint_append_only before update or delete on ledger_checkpoint
  for each row execute function fazhi_ledger_append_only();
create trigger ledger_log_kept before delete on ledger_log
  for each row execute function fazhi_ledger_append_only();
create trigger ledger_log_grows_only before update on ledger_log
  for each row execute function fazhi_ledger_head_grows();
create trigger ledger_truncate_refused before truncate on ledger_entry
  for each statement execute function fazhi_ledger_append_only();
create trigger ledger_node_truncate_refused before truncate on ledger_node
  for each statement execute function fazhi_ledger_append_only();
create trigger ledger_checkpoint_truncate_refused before truncate on ledger_checkpoint
  for each statement execute function fazhi_ledger_append_only();
create trigger ledger_log_truncate_refused before truncate on ledger_log
  for each statement execute function fazhi_ledger_append_only();
