-- The schema of SQLite's migrations 1 and 2 in one, for PostgreSQL. Ids come from identity
-- sequences, which never hand out an id twice (a deleted user's id must not go to a later
-- account, which would then match the deleted user's tokens and ownership records); ALWAYS,
-- so that no insert can pick an id past the sequence.

-- Users log in with email and password (an argon2id PHC string); roles is a JSON array, as
-- in SQLite, so that one function reads a user from either database. Emails are unique and
-- compared case-insensitively through lower(email), which the unique index covers.
CREATE TABLE users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    roles TEXT NOT NULL DEFAULT '["user"]'
);
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));

-- An invoice belongs to exactly one user and goes when the user goes.
CREATE TABLE invoices (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX invoices_user_id ON invoices (user_id);

-- One-time facts about this database, such as whether the demo users were seeded.
CREATE TABLE facts (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
