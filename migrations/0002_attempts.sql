-- How many upstream requests each answer took, retries and fallbacks included (issue 26):
-- 1 on the happy path, 0 for an answer refused before any request went (every circuit open).
-- Rows written before this column read 1: the gateway made no retries then, and which answers
-- fell back is not known.
ALTER TABLE usage_records ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
