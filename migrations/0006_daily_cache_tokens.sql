-- The prompt cache's tokens (0004) in the daily sums and the usage_rows view, which 0005 rebuilt
-- with the surface (route) in them: rolled-up days keep their cache reads and writes too.
ALTER TABLE usage_daily ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_daily ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;

DROP VIEW usage_rows;
CREATE VIEW usage_rows AS
  SELECT day, principal_kind, principal, model, route, outcome, COALESCE(error_code, '') AS error_code, cache_status,
         1 AS requests, prompt_tokens, completion_tokens, reasoning_tokens, cache_read_tokens, cache_write_tokens,
         cost_usd, saved_usd, ttft_ms
  FROM usage_records
  UNION ALL
  SELECT day, principal_kind, principal, model, route, outcome, error_code, cache_status,
         requests, prompt_tokens, completion_tokens, reasoning_tokens, cache_read_tokens, cache_write_tokens,
         cost_usd, saved_usd, NULL AS ttft_ms
  FROM usage_daily;
