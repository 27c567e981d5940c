-- The response cache (docs/cache.md) in the usage ledger: what the cache did for each answer,
-- and what a hit or a join saved (the cost of the answer it was served from).
-- cache_status: HIT, MISS, BYPASS or JOINED; '' for an answer from a model without a cache.
ALTER TABLE usage_records ADD COLUMN cache_status TEXT NOT NULL DEFAULT '';
ALTER TABLE usage_records ADD COLUMN saved_usd REAL NOT NULL DEFAULT 0;

-- The daily sums keep the cache status as part of their key, so rolled-up days still group by it.
CREATE TABLE usage_daily_by_cache (
  day TEXT NOT NULL,
  principal_kind TEXT NOT NULL,
  principal TEXT NOT NULL,
  model TEXT NOT NULL,
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
  PRIMARY KEY (day, principal_kind, principal, model, outcome, error_code, cache_status)
);
INSERT INTO usage_daily_by_cache (day, principal_kind, principal, model, outcome, error_code, requests,
  prompt_tokens, completion_tokens, reasoning_tokens, estimated_requests, cost_usd)
  SELECT day, principal_kind, principal, model, outcome, error_code, requests,
    prompt_tokens, completion_tokens, reasoning_tokens, estimated_requests, cost_usd
  FROM usage_daily;
DROP VIEW usage_rows;
DROP TABLE usage_daily;
ALTER TABLE usage_daily_by_cache RENAME TO usage_daily;

CREATE VIEW usage_rows AS
  SELECT day, principal_kind, principal, model, outcome, COALESCE(error_code, '') AS error_code, cache_status,
         1 AS requests, prompt_tokens, completion_tokens, reasoning_tokens, cost_usd, saved_usd, ttft_ms
  FROM usage_records
  UNION ALL
  SELECT day, principal_kind, principal, model, outcome, error_code, cache_status,
         requests, prompt_tokens, completion_tokens, reasoning_tokens, cost_usd, saved_usd, NULL AS ttft_ms
  FROM usage_daily;
