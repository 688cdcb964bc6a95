-- The version of the imported holiday calendar (issue 12): every import adds one, in the
-- transaction that saves the schedule and moves the open clocks. Each server keeps the
-- calendar in memory and reloads it when this number changed, so a node never computes a
-- due date (or scans) with a calendar older than the database's. No row until the first
-- import (version 0).
create table calendar_version (
    id BIGINT PRIMARY KEY,
    version BIGINT NOT NULL
);
