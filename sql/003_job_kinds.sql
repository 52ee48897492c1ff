-- 003_job_kinds: the outbox carries more than approval callbacks (Ask API
-- callbacks, project webhooks, channel notifications). Each kind is named by
-- the code that queues it and the delivery worker that sends it, so the table
-- only insists on a well-formed name instead of a list every new kind must
-- edit.
alter table jobs drop constraint jobs_kind_check;
alter table jobs add constraint jobs_kind_check check (kind ~ '^[a-z][a-z0-9_.]*$');
