-- 014_approvals_agent_team_validate: the existing approvals checked against
-- 013's key, which then replaces the two keys it covers.
--
-- VALIDATE CONSTRAINT reads the whole table but takes only a SHARE UPDATE
-- EXCLUSIVE lock on approvals (and ROW SHARE on agents), so creates and
-- decisions go on while it runs; a row whose team is not its agent's fails
-- the migration, and nothing changes. Dropping the old keys then takes
-- ACCESS EXCLUSIVE locks until this transaction commits, a moment later.
alter table approvals validate constraint approvals_agent_team_fkey;
alter table approvals drop constraint approvals_team_id_fkey,
    drop constraint approvals_agent_id_fkey;
