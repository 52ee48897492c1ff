-- 010_throughput: indexes that match the order of the hot claims.
--
-- The delivery claim takes due jobs in (run_at, id) order. jobs_due_idx
-- covered run_at alone, so every claim sorted all the jobs that share a
-- run_at (a whole expiry batch or a bulk insert shares one) by id before it
-- could stop at its limit; with (run_at, id) the claim reads exactly the
-- rows it takes, in order, however long the queue is. The same index
-- answers the worker's "next due job" probe (min(run_at)).
create index jobs_claim_idx on jobs (run_at, id) where state = 'queued';
drop index jobs_due_idx;

-- Expiry closes a whole batch in one statement, so the bodies of the jobs
-- it queues cannot be rendered by the worker's C code first: such a job
-- keeps body null and holdpoint-delivery renders it when it claims the job,
-- from the row it names, which no longer changes — the closed approval
-- (kind callback: the seed 003 result; ask_callback: the Ask API's answer)
-- or the action response (kind project_webhook, response_id). Every attempt
-- therefore sends the same bytes, as with a stored body.
alter table jobs alter column body drop not null;
alter table jobs add column response_id uuid references action_responses(id) on delete cascade;
-- Deleting a response (retention) finds its jobs, and retention keeps an
-- approval whose response still has a queued webhook, through this index.
create index jobs_response_idx on jobs (response_id) where response_id is not null;
