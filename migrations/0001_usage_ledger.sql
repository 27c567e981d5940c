-- The usage ledger (docs/usage.md): one row per answer, written by the USAGE_QUEUE consumer.
-- Never what was said: who asked, which model, how it ended, what it used and cost.
CREATE TABLE usage_records (
  id TEXT PRIMARY KEY,                 -- unique per answer; the queue delivers at least once
  ts INTEGER NOT NULL,                 -- when the answer ended, epoch ms
  day TEXT NOT NULL,                   -- ts as a UTC date, YYYY-MM-DD
  route TEXT NOT NULL,
  status INTEGER NOT NULL,             -- 200, or the error's status for an answer refused before it began
  principal_kind TEXT NOT NULL,        -- key, jwt or anonymous
  principal TEXT NOT NULL,             -- a key's name, a token's sub, or anonymous
  model TEXT NOT NULL,                 -- the model the request named
  upstream TEXT NOT NULL,              -- the model that answered (a fallback, maybe)
  outcome TEXT NOT NULL,               -- done, error or cancelled
  finish_reason TEXT,
  error_code TEXT,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,  -- reasoning included
  reasoning_tokens INTEGER NOT NULL,
  estimated INTEGER NOT NULL,          -- 1: the gateway's estimate, the upstream reported no usage
  cost_usd REAL NOT NULL,
  ttft_ms INTEGER,                     -- time to the first text or tool call; NULL when none came
  duration_ms INTEGER NOT NULL,
  stream_id TEXT                       -- the resumable stream, if the answer was one
);
CREATE INDEX usage_records_by_day ON usage_records (day);
CREATE INDEX usage_records_by_principal ON usage_records (principal_kind, principal, day);

-- What the daily retention job keeps of rows older than USAGE_RETENTION_DAYS: sums per day and
-- group, so old months still add up (time-to-first-token percentiles are not kept).
CREATE TABLE usage_daily (
  day TEXT NOT NULL,
  principal_kind TEXT NOT NULL,
  principal TEXT NOT NULL,
  model TEXT NOT NULL,
  outcome TEXT NOT NULL,
  error_code TEXT NOT NULL DEFAULT '', -- '' for none: part of the key
  requests INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL,
  estimated_requests INTEGER NOT NULL,
  cost_usd REAL NOT NULL,
  PRIMARY KEY (day, principal_kind, principal, model, outcome, error_code)
);

-- Every day the ledger knows of, kept rows and rollups alike: what the usage queries read.
CREATE VIEW usage_rows AS
  SELECT day, principal_kind, principal, model, outcome, COALESCE(error_code, '') AS error_code,
         1 AS requests, prompt_tokens, completion_tokens, reasoning_tokens, cost_usd, ttft_ms
  FROM usage_records
  UNION ALL
  SELECT day, principal_kind, principal, model, outcome, error_code,
         requests, prompt_tokens, completion_tokens, reasoning_tokens, cost_usd, NULL AS ttft_ms
  FROM usage_daily;
