-- Users log in with email and password (an argon2id PHC string); roles is a JSON array.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    roles TEXT NOT NULL DEFAULT '["user"]'
);

-- An invoice belongs to exactly one user and goes when the user goes.
CREATE TABLE invoices (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    description TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX invoices_user_id ON invoices (user_id);

-- One-time facts about this database, such as whether the demo users were seeded.
CREATE TABLE facts (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
