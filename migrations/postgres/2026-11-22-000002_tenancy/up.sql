-- The tenancy spine: projects, their members, invites and environments.
-- Index names are part of the contract: the store reports them in
-- StoreError::Conflict and use cases match on them (SQLite reports the same
-- names through the store's error mapping).

CREATE TABLE projects (
    id                          UUID PRIMARY KEY,
    name                        TEXT NOT NULL,
    display_name                TEXT,
    description                 TEXT,
    color                       TEXT,
    icon_path                   TEXT,
    single_server_mode          BOOLEAN NOT NULL DEFAULT FALSE,
    default_server_id           UUID,
    auto_error_tracking_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    owner_id                    UUID NOT NULL REFERENCES users (id),
    created_at                  TIMESTAMPTZ NOT NULL,
    updated_at                  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX projects_name_key ON projects (name);
CREATE INDEX projects_owner_id_idx ON projects (owner_id);

CREATE TABLE project_members (
    id         UUID PRIMARY KEY,
    project_id UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT project_members_role_check
        CHECK (role IN ('owner', 'admin', 'member', 'viewer'))
);
CREATE UNIQUE INDEX project_members_project_user_key ON project_members (project_id, user_id);
-- Exactly one owner per project: at most one here, at least one by the use cases.
CREATE UNIQUE INDEX project_members_one_owner ON project_members (project_id) WHERE role = 'owner';
CREATE INDEX project_members_user_id_idx ON project_members (user_id);

-- Tokens are never stored, only their SHA-256 (hex).
CREATE TABLE invites (
    id          UUID PRIMARY KEY,
    project_id  UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    token_hash  TEXT NOT NULL,
    invited_by  UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at  TIMESTAMPTZ NOT NULL,
    accepted_at TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT invites_role_check CHECK (role IN ('admin', 'member', 'viewer'))
);
CREATE UNIQUE INDEX invites_token_hash_key ON invites (token_hash);
-- One pending invite per project and email (expired ones are deleted before
-- a new one is inserted).
CREATE UNIQUE INDEX invites_pending_email_key ON invites (project_id, email) WHERE accepted_at IS NULL;
CREATE INDEX invites_email_idx ON invites (email);
CREATE INDEX invites_invited_by_idx ON invites (invited_by);

CREATE TABLE environments (
    id           UUID PRIMARY KEY,
    project_id   UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    display_name TEXT,
    type         TEXT NOT NULL,
    description  TEXT,
    color        TEXT,
    git_branch   TEXT,
    is_default   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT environments_type_check
        CHECK (type IN ('production', 'staging', 'development', 'preview'))
);
CREATE UNIQUE INDEX environments_project_name_key ON environments (project_id, name);
-- At most one default per project (set_default unsets the old one first).
CREATE UNIQUE INDEX environments_one_default ON environments (project_id) WHERE is_default;
