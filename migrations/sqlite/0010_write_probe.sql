-- One row that `/healthz` rewrites (at most every 5 s) to learn whether the database takes
-- writes: `pad` is 64 KiB, an ordinary write's size, so a disk with room for a few bytes only
-- is not "writable". Not business data.
create table write_probe (id integer primary key, at bigint not null, pad blob);
