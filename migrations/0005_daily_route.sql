-- The surface (route) in the daily sums too (issue 28), so the dashboard narrows every figure by
-- surface, rolled-up days included. Days rolled up before this migration read '' (not known):
-- they count when no surface is chosen, and under none when one is.
CREATE TABLE usage_daily_by_route (
  day TEXT NOT NULL,
  principal_kind TEXT NOT NULL,
  principal TEXT NOT NULL,
  model TEXT NOT NULL,
  route TEXT NOT NULL DEFAULT '',
  outcome TEXT NOT NULL,
  error_code TEXT NOT NULL DEFAULT '',
  cache_status TEXT NOT NULL DEFAULT '',
  requests INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL,
  estimated_requests INTEGER NOT NULL,
  cost_usd REAL NOT NULL,
  saved_usd REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (day, principal_kind, principal, model, route, outcome, error_code, cache_status)
);
INSERT INTO usage_daily_by_route (day, principal_kind, principal, model, outcome, error_code, cache_status,
  requests, prompt_tokens, completion_tokens, reasoning_tokens, estimated_requests, cost_usd, saved_usd)
  SELECT day, principal_kind, principal, model, outcome, error_code, cache_status,
    requests, prompt_tokens, completion_tokens, reasoning_tokens, estimated_requests, cost_usd, saved_usd
  FROM usage_daily;
DROP VIEW usage_rows;
DROP TABLE usage_daily;
ALTER TABLE usage_daily_by_route RENAME TO usage_daily;

CREATE VIEW usage_rows AS
  SELECT day, principal_kind, principal, model, route, outcome, COALESCE(error_code, '') AS error_code, cache_status,
         1 AS requests, prompt_tokens, completion_tokens, reasoning_tokens, cost_usd, saved_usd, ttft_ms
  FROM usage_records
  UNION ALL
  SELECT day, principal_kind, principal, model, route, outcome, error_code, cache_status,
         requests, prompt_tokens, completion_tokens, reasoning_tokens, cost_usd, saved_usd, NULL AS ttft_ms
  FROM usage_daily;
