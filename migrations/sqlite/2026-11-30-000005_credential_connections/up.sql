-- SQLite variant: UUIDs and timestamps as TEXT (crates/store/src/types.rs).
-- Credential connections (seed 003, SPEC §8): one row per connection of an
-- environment. `password` and `extra` are never stored in clear: each is a
-- pair (key id, sealed text) — XChaCha20-Poly1305 with a random nonce and
-- associated data binding it to this row and field (crates/crypto). Both
-- halves of a pair are NULL together. The project is the environment's
-- (deleting either cascades here). Index names are part of the contract
-- (StoreError::Conflict reports them).

CREATE TABLE credential_connections (
    id                 TEXT PRIMARY KEY,
    environment_id     TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    conn_id            TEXT NOT NULL,
    type               TEXT NOT NULL,
    host               TEXT,
    port               INTEGER,
    schema             TEXT,
    login              TEXT,
    description        TEXT,
    password_key_id    TEXT,
    password_sealed    TEXT,
    extra_key_id       TEXT,
    extra_sealed       TEXT,
    -- The last connectivity test: {at, success, reason, driver}, JSON.
    last_test          TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    CONSTRAINT credential_connections_type_check CHECK (type IN (
        'postgres', 'mysql', 'sqlite', 'http', 'sftp', 's3', 'generic')),
    CONSTRAINT credential_connections_port_check CHECK (port BETWEEN 1 AND 65535),
    CONSTRAINT credential_connections_password_pair CHECK (
        (password_key_id IS NULL) = (password_sealed IS NULL)),
    CONSTRAINT credential_connections_extra_pair CHECK (
        (extra_key_id IS NULL) = (extra_sealed IS NULL))
);
CREATE UNIQUE INDEX credential_connections_env_conn_id_key
    ON credential_connections (environment_id, conn_id);
-- `secrets status` and `secrets rotate` look values up by key id.
CREATE INDEX credential_connections_password_key_idx
    ON credential_connections (password_key_id, id) WHERE password_key_id IS NOT NULL;
CREATE INDEX credential_connections_extra_key_idx
    ON credential_connections (extra_key_id, id) WHERE extra_key_id IS NOT NULL;
-- used-by: the live resources of an environment naming a connection.
CREATE INDEX resources_env_credential_idx
    ON resources (environment_id, credential_conn_id, id)
    WHERE credential_conn_id IS NOT NULL AND deleted_at IS NULL;
