-- A token may be issued by the operator of the binary (`fazhi user token`), who is no
-- account: the 12345 desk's token carries business permissions no single administrator may
-- hand over (privilege ceiling, issue 13). created_by is NULL then.
ALTER TABLE api_token ALTER COLUMN created_by DROP NOT NULL;
