-- One row that `/healthz` rewrites when the last write failed, to learn whether the
-- database takes writes again (disk freed, file writable). Not business data.
create table write_probe (id integer primary key, at bigint not null);
