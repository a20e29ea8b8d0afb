-- Ids are never reused: a deleted user's id must not be handed to a later account, which would
-- then match the deleted user's tokens and ownership records. AUTOINCREMENT keeps the highest
-- id ever used (in sqlite_sequence); SQLite cannot add it to a column, so both tables are
-- rebuilt. invoices is copied to a table that references users_new before either old table
-- goes, so no ON DELETE CASCADE fires; renaming users_new rewrites that reference.
CREATE TABLE users_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    roles TEXT NOT NULL DEFAULT '["user"]'
);
INSERT INTO users_new (id, email, password_hash, roles)
    SELECT id, email, password_hash, roles FROM users;

CREATE TABLE invoices_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users_new (id) ON DELETE CASCADE,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    description TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
INSERT INTO invoices_new (id, user_id, amount_cents, description, created_at)
    SELECT id, user_id, amount_cents, description, created_at FROM invoices;

DROP TABLE invoices;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
ALTER TABLE invoices_new RENAME TO invoices;
CREATE INDEX invoices_user_id ON invoices (user_id);
