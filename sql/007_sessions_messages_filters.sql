-- 007_sessions_messages_filters: indexes for the filters of GET /v1/action-responses
-- that 007_sessions_messages left to a scan of the project's inbox.
--
-- A page reads an agent's responses in seq order and stops at 51 rows. With
-- a filter that few rows match (a client_event_id, a parent, a rare decision
-- key, a recent `after`), that walk reads the whole inbox before it gives
-- up: at 1,000,000 responses about a second per request. With these the
-- planner reads only the matching rows (sorting the few it finds), while a
-- filter most rows match keeps walking the sequence key. session_id,
-- notification_id and approval_id already have indexes.
--
-- client_event_id matches either the action's or the notification's id; the
-- action's is action_responses_client_event_key.
create index action_responses_note_event_idx on action_responses
    (agent_id, notification_client_event_id) where notification_client_event_id is not null;
create index action_responses_parent_idx on action_responses (agent_id, parent_id, seq)
    where parent_id is not null;
-- decision_key matches the decision's key, the action, or the button's label.
create index action_responses_decision_key_idx on action_responses (agent_id, decision_key, seq)
    where decision_key is not null;
create index action_responses_action_idx on action_responses (agent_id, action, seq);
create index action_responses_button_label_idx on action_responses (agent_id, button_label, seq)
    where button_label is not null;
-- after (recorded_at) and decided_after (decided_at).
create index action_responses_recorded_idx on action_responses (agent_id, recorded_at);
create index action_responses_decided_idx on action_responses (agent_id, decided_at);
