-- The provider's prompt cache in the usage ledger (issue 25): of each answer's prompt tokens, how
-- many were read from the cache and how many written to it (both parts of prompt_tokens, which
-- counts every input token). cost_usd already prices them at the model's cache prices. The daily
-- sums and the usage_rows view get them in 0006, after 0005 rebuilt both.
ALTER TABLE usage_records ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE usage_records ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;
