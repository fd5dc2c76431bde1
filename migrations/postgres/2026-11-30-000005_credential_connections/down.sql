DROP INDEX resources_env_credential_idx;
DROP TABLE credential_connections;
