-- How often each answer was continued after its upstream died mid-stream (issue 26,
-- `continue_on_failure`): 0 for most; the continuations' requests are counted in `attempts` too.
ALTER TABLE usage_records ADD COLUMN continued INTEGER NOT NULL DEFAULT 0;
