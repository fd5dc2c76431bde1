-- The tenancy spine: projects, their members, invites and environments.
-- UUIDs are canonical hyphenated lowercase TEXT; timestamps are fixed-width
-- RFC 3339 TEXT in UTC with microseconds, so they compare and sort as text.
-- Index names match the PostgreSQL migration: the store translates SQLite's
-- "UNIQUE constraint failed: table.column" messages back into them.

CREATE TABLE projects (
    id                          TEXT PRIMARY KEY NOT NULL,
    name                        TEXT NOT NULL,
    display_name                TEXT,
    description                 TEXT,
    color                       TEXT,
    icon_path                   TEXT,
    single_server_mode          BOOLEAN NOT NULL DEFAULT 0,
    default_server_id           TEXT,
    auto_error_tracking_enabled BOOLEAN NOT NULL DEFAULT 0,
    owner_id                    TEXT NOT NULL REFERENCES users (id),
    created_at                  TEXT NOT NULL,
    updated_at                  TEXT NOT NULL
);
CREATE UNIQUE INDEX projects_name_key ON projects (name);
CREATE INDEX projects_owner_id_idx ON projects (owner_id);

CREATE TABLE project_members (
    id         TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT project_members_role_check
        CHECK (role IN ('owner', 'admin', 'member', 'viewer'))
);
CREATE UNIQUE INDEX project_members_project_user_key ON project_members (project_id, user_id);
-- Exactly one owner per project: at most one here, at least one by the use cases.
CREATE UNIQUE INDEX project_members_one_owner ON project_members (project_id) WHERE role = 'owner';
CREATE INDEX project_members_user_id_idx ON project_members (user_id);

-- Tokens are never stored, only their SHA-256 (hex).
CREATE TABLE invites (
    id          TEXT PRIMARY KEY NOT NULL,
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    token_hash  TEXT NOT NULL,
    invited_by  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at  TEXT NOT NULL,
    accepted_at TEXT,
    created_at  TEXT NOT NULL,
    CONSTRAINT invites_role_check CHECK (role IN ('admin', 'member', 'viewer'))
);
CREATE UNIQUE INDEX invites_token_hash_key ON invites (token_hash);
-- One pending invite per project and email (expired ones are deleted before
-- a new one is inserted).
CREATE UNIQUE INDEX invites_pending_email_key ON invites (project_id, email) WHERE accepted_at IS NULL;
CREATE INDEX invites_email_idx ON invites (email);
CREATE INDEX invites_invited_by_idx ON invites (invited_by);

CREATE TABLE environments (
    id           TEXT PRIMARY KEY NOT NULL,
    project_id   TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    display_name TEXT,
    type         TEXT NOT NULL,
    description  TEXT,
    color        TEXT,
    git_branch   TEXT,
    is_default   BOOLEAN NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    CONSTRAINT environments_type_check
        CHECK (type IN ('production', 'staging', 'development', 'preview'))
);
CREATE UNIQUE INDEX environments_project_name_key ON environments (project_id, name);
-- At most one default per project (set_default unsets the old one first).
CREATE UNIQUE INDEX environments_one_default ON environments (project_id) WHERE is_default = 1;
