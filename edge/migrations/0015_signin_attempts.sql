-- A sign-in try is written before its password is checked (so parallel tries count each
-- other) and deleted when it succeeds: rows are tries, and a failed one stays.
ALTER TABLE signin_failures ADD COLUMN attempt TEXT;
CREATE INDEX signin_failures_by_attempt ON signin_failures(attempt);
