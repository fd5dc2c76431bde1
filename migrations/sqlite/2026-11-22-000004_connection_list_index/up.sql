-- The unfiltered connection list of one environment, in id order, without
-- reading and sorting the whole environment (docs/performance.md).
CREATE INDEX resource_connections_env_id_idx ON resource_connections (environment_id, id) WHERE deleted_at IS NULL;
