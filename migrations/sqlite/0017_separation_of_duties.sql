-- 三员分立 (issue 13). The built-in role `admin` keeps its code and its holders: from this
-- version it is the 系统管理员 (accounts, org tree, tokens, settings) without role
-- management or the audit trail; the program redefines built-in roles at every start. An
-- operator gives 安全管理员 (`security_admin`) and 审计管理员 (`auditor`) to OTHER people
-- with `fazhi user roles USERNAME --role security_admin` (README, administration).

-- A person logs in with a password; an integration account (12345 hotline, 信访平台) only
-- acts through API tokens. Existing accounts are people. Tokens issued to people before
-- this version stay stored (the ledger vouches for them) but are refused at use.
ALTER TABLE app_user ADD COLUMN kind TEXT NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'integration'));

-- A custom role belongs to the org node whose role managers define it; it is assigned only
-- inside that node's subtree. NULL: a built-in role, or a custom role from before this
-- version (installation-wide: only a role manager with 全部 scope may change it).
ALTER TABLE role ADD COLUMN org_id BIGINT REFERENCES org_node(id);
CREATE INDEX role_org ON role(org_id);
