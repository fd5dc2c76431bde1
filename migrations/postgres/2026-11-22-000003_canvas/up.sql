-- The canvas: resources (subdomains included), the connections between
-- them and the allowed-connection rules. Index names are part of the
-- contract: the store reports them in StoreError::Conflict (SQLite reports
-- the same names through the store's error mapping).
--
-- Soft deletes: `deleted_at` marks a deleted row; uniqueness holds among
-- live rows only (partial unique indexes), and every list reads live rows
-- through a partial index. Plain indexes on the foreign-key columns serve
-- the ON DELETE CASCADE lookups, which see deleted rows too.

CREATE TABLE resources (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id         UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    environment_id     UUID NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    type               TEXT NOT NULL,
    name               TEXT NOT NULL,
    -- Subdomains only; '' means none (so the unique index treats "no
    -- parent domain" as one value, which NULL would not).
    parent_domain      TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL DEFAULT 'active',
    position_x         DOUBLE PRECISION NOT NULL DEFAULT 0,
    position_y         DOUBLE PRECISION NOT NULL DEFAULT 0,
    config             JSONB NOT NULL DEFAULT '{}',
    credential_conn_id TEXT,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    deleted_at         TIMESTAMPTZ,
    CONSTRAINT resources_type_check CHECK (type IN (
        'instance', 'application', 'database', 'terminal', 'firewall',
        'storage_bucket', 'bucket_explorer', 'static_website', 'subdomain'))
);
CREATE UNIQUE INDEX resources_live_name_key
    ON resources (environment_id, type, name, parent_domain) WHERE deleted_at IS NULL;
CREATE INDEX resources_env_type_idx
    ON resources (environment_id, type, id) WHERE deleted_at IS NULL;
CREATE INDEX resources_project_id_idx ON resources (project_id);
CREATE INDEX resources_environment_id_idx ON resources (environment_id);

CREATE TABLE resource_connections (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id            UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id         UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    environment_id     UUID NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    source_type        TEXT NOT NULL,
    source_id          BIGINT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    target_type        TEXT NOT NULL,
    target_id          BIGINT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    status             TEXT NOT NULL DEFAULT 'pending',
    connection_details JSONB,
    error_message      TEXT,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    deleted_at         TIMESTAMPTZ,
    CONSTRAINT resource_connections_status_check CHECK (status IN (
        'pending', 'connecting', 'connected', 'failed', 'disconnected')),
    CONSTRAINT resource_connections_source_type_check CHECK (source_type IN (
        'instance', 'application', 'database', 'terminal', 'firewall',
        'storage_bucket', 'bucket_explorer', 'static_website', 'subdomain')),
    CONSTRAINT resource_connections_target_type_check CHECK (target_type IN (
        'instance', 'application', 'database', 'terminal', 'firewall',
        'storage_bucket', 'bucket_explorer', 'static_website', 'subdomain'))
);
CREATE UNIQUE INDEX resource_connections_live_pair_key
    ON resource_connections (environment_id, source_id, target_id) WHERE deleted_at IS NULL;
-- Filtered lists use an index whatever filter is given.
CREATE INDEX resource_connections_env_status_idx
    ON resource_connections (environment_id, status, id) WHERE deleted_at IS NULL;
CREATE INDEX resource_connections_env_source_idx
    ON resource_connections (environment_id, source_type, source_id, id) WHERE deleted_at IS NULL;
CREATE INDEX resource_connections_env_target_idx
    ON resource_connections (environment_id, target_type, target_id, id) WHERE deleted_at IS NULL;
CREATE INDEX resource_connections_source_id_idx ON resource_connections (source_id);
CREATE INDEX resource_connections_target_id_idx ON resource_connections (target_id);
CREATE INDEX resource_connections_environment_id_idx ON resource_connections (environment_id);
CREATE INDEX resource_connections_project_id_idx ON resource_connections (project_id);
CREATE INDEX resource_connections_user_id_idx ON resource_connections (user_id);

-- Which (source type, target type) pairs may be connected. Instance-wide,
-- edited by instance admins; read on every connection create.
CREATE TABLE allowed_connections (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_type TEXT NOT NULL,
    target_type TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT allowed_connections_source_type_check CHECK (source_type IN (
        'instance', 'application', 'database', 'terminal', 'firewall',
        'storage_bucket', 'bucket_explorer', 'static_website', 'subdomain')),
    CONSTRAINT allowed_connections_target_type_check CHECK (target_type IN (
        'instance', 'application', 'database', 'terminal', 'firewall',
        'storage_bucket', 'bucket_explorer', 'static_website', 'subdomain'))
);
CREATE UNIQUE INDEX allowed_connections_pair_key ON allowed_connections (source_type, target_type);

-- The rules of SPEC §7 (patchbay_domain::DEFAULT_ALLOWED_CONNECTIONS), in order.
INSERT INTO allowed_connections (source_type, target_type, created_at) VALUES
    ('application', 'instance', CURRENT_TIMESTAMP),
    ('terminal', 'instance', CURRENT_TIMESTAMP),
    ('bucket_explorer', 'storage_bucket', CURRENT_TIMESTAMP),
    ('bucket_explorer', 'static_website', CURRENT_TIMESTAMP),
    ('instance', 'firewall', CURRENT_TIMESTAMP),
    ('instance', 'database', CURRENT_TIMESTAMP),
    ('subdomain', 'static_website', CURRENT_TIMESTAMP);
