-- 002_job_attempts: one row per delivery attempt of an outbox job, written by
-- holdpoint-delivery (a row at claim time, completed when the attempt ends),
-- so operators and tests can see every try, its status and its duration.
-- An attempt whose worker died mid-send keeps finished_at null; the job's
-- lease expires and the next claim makes a new attempt row.

create table job_attempts (
    id            bigint generated always as identity primary key,
    job_id        bigint not null references jobs(id) on delete cascade,
    attempt       integer not null check (attempt >= 1),
    worker        text not null,
    started_at    timestamptz not null default now(),
    finished_at   timestamptz,
    http_status   integer,
    -- Short and redacted ("http 500", "connect timeout"); never a body.
    error         text,
    duration_ms   integer
);
create index job_attempts_job_idx on job_attempts (job_id, attempt);

-- Due jobs whose lease expired are found through jobs_due_idx (state =
-- 'queued'); this one lets the worker compute its next wake time (the
-- earliest run_at or lease expiry of queued jobs) without a scan.
create index jobs_lease_idx on jobs (lease_until) where state = 'queued' and lease_until is not null;
