-- Emails are stored as the app normalises them (db::normalize_email: NFKC and Unicode lower
-- case) and looked up by plain equality, so the unique index is on the stored text. The index
-- on lower(email) applied PostgreSQL's own case rule, which is not the app's.
CREATE UNIQUE INDEX users_email ON users (email);
DROP INDEX users_email_lower;
