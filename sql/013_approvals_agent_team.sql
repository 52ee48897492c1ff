-- 013_approvals_agent_team: an approval's team is its agent's team, held by
-- the database.
--
-- approvals referenced teams(id) and agents(id) with two foreign keys, so
-- nothing below the API kept an approval's team_id equal to its agent's:
-- every query of the API carries the team, and a row whose two columns
-- disagreed would show one tenant's approval under another's name. One
-- foreign key on the pair (agent_id, team_id) to agents (id, team_id) keeps
-- the two together. It also keeps the team: an agent exists only in an
-- existing team (agents.team_id references teams, on delete cascade), so
-- deleting a team still removes its approvals, through its agents.
--
-- And a create checks one parent row instead of two: each foreign key costs
-- every inserted row a lookup and a key-share lock of its parent, run by
-- PostgreSQL one row at a time. In A/B rounds of the create benchmark's
-- workload, PostgreSQL's backends took 2–3 µs less CPU per create (about
-- 3 %; docs/performance.md).
--
-- Here the new key is added NOT VALID, which checks new rows at once and
-- takes its locks only briefly; 014 checks the existing rows and drops the
-- two old keys. agents is small: its index is built in place.
create unique index agents_id_team_key on agents (id, team_id);
alter table approvals add constraint approvals_agent_team_fkey
    foreign key (agent_id, team_id) references agents (id, team_id) on delete cascade not valid;
