-- The provider's prompt cache in the usage ledger (issue 25): of each answer's prompt tokens, how
-- many were read from the cache and how many written to it (both parts of prompt_tokens, which
-- counts every input token). cost_usd already prices them at the model's cache prices.
ALTER TABLE usage_records ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_records ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_daily ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_daily ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;

DROP VIEW usage_rows;
CREATE VIEW usage_rows AS
  SELECT day, principal_kind, principal, model, outcome, COALESCE(error_code, '') AS error_code, cache_status,
         1 AS requests, prompt_tokens, completion_tokens, reasoning_tokens, cache_read_tokens, cache_write_tokens,
         cost_usd, saved_usd, ttft_ms
  FROM usage_records
  UNION ALL
  SELECT day, principal_kind, principal, model, outcome, error_code, cache_status,
         requests, prompt_tokens, completion_tokens, reasoning_tokens, cache_read_tokens, cache_write_tokens,
         cost_usd, saved_usd, NULL AS ttft_ms
  FROM usage_daily;
