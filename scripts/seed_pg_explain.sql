-- Bulk data and EXPLAINs behind docs/performance.md (PostgreSQL only).
--
-- Run it against a patchbay database whose migrations are applied (start
-- the server against it once, or run `patchbay migrate`):
--   psql -h 127.0.0.1 -p PORT -U postgres -d patchbay -v ON_ERROR_STOP=1 \
--        -f scripts/seed_pg_explain.sql
-- It is not idempotent: run it once on a fresh database.
--
-- Data:
--   * 200 projects x 10 environments = 2,000 "typical" environments, each
--     with 100 live resources (50 application, 50 instance) + 10 soft-deleted
--     ones, and 100 live resource connections + 20 soft-deleted ones
--     (50% pending, 30% connected, 10% failed, 5% connecting, 5% disconnected);
--   * 1 "big" environment with 1,000 live resources and 50,000 live
--     connections (+ 5,000 soft-deleted), to see what grows with the size of
--     one environment rather than with the size of the table;
--   * 1 "late" environment: a copy of the big one made last, as the clone
--     endpoint makes it, so its 50,000 connections have the highest ids.
-- The bulk rows are inserted in random order, so one environment's rows are
-- spread over the heap as after months of interleaved writes (the
-- pessimistic case for heap fetches). The whole run takes a few minutes.
--
-- Plans: EXPLAIN (ANALYZE, BUFFERS) on the exact statements the server sends
-- (captured from the PostgreSQL log with log_min_duration_statement=0),
-- (1) with the bind parameters replaced by literals (a custom plan) and
-- (2) as prepared statements forced onto a generic plan, since the server
-- sends prepared statements with bind parameters and PostgreSQL may switch a
-- prepared statement to a generic plan after five executions. The three
-- environments get the same EXPLAINs. Since commit 1ffd129 the server sets
-- plan_cache_mode = force_generic_plan on every pooled PostgreSQL connection
-- (crates/store/src/db.rs), so (2) is what it runs; (1) is kept for comparison.

\timing on
BEGIN;

INSERT INTO users (id, email, name, password_hash, is_admin, created_at, updated_at)
VALUES (gen_random_uuid(), 'bulk@example.com', 'Bulk', '!', false, now(), now());

INSERT INTO projects (id, name, display_name, owner_id, created_at, updated_at)
SELECT gen_random_uuid(), p, p, (SELECT id FROM users WHERE email = 'bulk@example.com'), now(), now()
FROM (SELECT 'bulk-' || lpad(n::text, 3, '0') FROM generate_series(1, 200) AS n
      UNION ALL SELECT 'bulk-big') AS names(p);

INSERT INTO project_members (id, project_id, user_id, role, created_at)
SELECT gen_random_uuid(), pr.id, pr.owner_id, 'owner', now()
FROM projects pr WHERE pr.name LIKE 'bulk-%';

INSERT INTO environments (id, project_id, name, type, is_default, created_at, updated_at)
SELECT gen_random_uuid(), pr.id, 'env-' || e,
       (ARRAY['production', 'staging', 'development', 'preview'])[e % 4 + 1],
       e = 0, now(), now()
FROM projects pr CROSS JOIN generate_series(0, 9) AS e
WHERE pr.name LIKE 'bulk-%' AND pr.name <> 'bulk-big';
INSERT INTO environments (id, project_id, name, type, is_default, created_at, updated_at)
SELECT gen_random_uuid(), pr.id, 'big', 'production', true, now(), now()
FROM projects pr WHERE pr.name = 'bulk-big';

-- Per environment: n applications and n instances (n = 50, or 500 in the
-- big one) and 10 soft-deleted databases.
CREATE TEMP TABLE sizes AS
SELECT en.id AS environment_id, en.project_id, pr.owner_id,
       CASE WHEN pr.name = 'bulk-big' THEN 500 ELSE 50 END AS n,   -- resources per type
       CASE WHEN pr.name = 'bulk-big' THEN 100 ELSE 2 END AS fan,  -- live connections per application
       CASE WHEN pr.name = 'bulk-big' THEN 10 ELSE 1 END AS dead   -- soft-deleted connections per application (first 20 or all)
FROM environments en JOIN projects pr ON pr.id = en.project_id
WHERE pr.name LIKE 'bulk-%';

INSERT INTO resources (project_id, environment_id, type, name, created_at, updated_at)
SELECT s.project_id, s.environment_id, t.type, t.type || '-' || k, now(), now()
FROM sizes s
CROSS JOIN (VALUES ('application'), ('instance')) AS t(type)
CROSS JOIN LATERAL generate_series(1, s.n) AS k
ORDER BY random();

INSERT INTO resources (project_id, environment_id, type, name, created_at, updated_at, deleted_at)
SELECT s.project_id, s.environment_id, 'database', 'database-' || k, now(), now(), now()
FROM sizes s CROSS JOIN generate_series(1, 10) AS k
ORDER BY random();

-- application-k -> instance-(k+j) for j < fan (live) and fan <= j < fan+dead
-- (soft-deleted; in the typical environments only for k <= 20).
INSERT INTO resource_connections (user_id, project_id, environment_id, source_type, source_id,
                                  target_type, target_id, status, created_at, updated_at, deleted_at)
SELECT s.owner_id, s.project_id, s.environment_id, 'application', a.id, 'instance', i.id,
       CASE WHEN j >= s.fan THEN 'disconnected'
            ELSE (ARRAY['pending', 'pending', 'pending', 'pending', 'pending', 'pending', 'pending',
                        'pending', 'pending', 'pending', 'connected', 'connected', 'connected',
                        'connected', 'connected', 'connected', 'failed', 'failed', 'connecting',
                        'disconnected'])[((2 * k + j) % 20) + 1] END,
       now(), now(), CASE WHEN j >= s.fan THEN now() END
FROM sizes s
CROSS JOIN LATERAL generate_series(1, s.n) AS k
CROSS JOIN LATERAL generate_series(0, s.fan + s.dead - 1) AS j
JOIN resources a ON a.environment_id = s.environment_id AND a.type = 'application'
                AND a.name = 'application-' || k AND a.deleted_at IS NULL
JOIN resources i ON i.environment_id = s.environment_id AND i.type = 'instance'
                AND i.name = 'instance-' || ((k + j - 1) % s.n + 1) AND i.deleted_at IS NULL
WHERE j < s.fan OR s.n > 50 OR k <= 20
ORDER BY random();

COMMIT;

-- A clone of the big environment made after everything else, as
-- POST /api/v1/projects/:id/environments/:envId/clone makes it (row by row,
-- in id order, every connection reset to pending): its 50,000 connections
-- have contiguous ids at the very end of the table. This is the case that
-- exposes the plan choice described in docs/performance.md.
BEGIN;
SELECT en.id AS big_env, en.project_id AS big_project FROM environments en
JOIN projects pr ON pr.id = en.project_id WHERE pr.name = 'bulk-big' AND en.name = 'big' \gset
INSERT INTO environments (id, project_id, name, type, is_default, created_at, updated_at)
VALUES (gen_random_uuid(), :'big_project', 'late', 'production', false, now(), now());
SELECT id AS late_env FROM environments WHERE project_id = :'big_project' AND name = 'late' \gset
INSERT INTO resources (project_id, environment_id, type, name, parent_domain, status, position_x,
                       position_y, config, credential_conn_id, created_at, updated_at)
SELECT project_id, :'late_env', type, name, parent_domain, status, position_x, position_y, config,
       credential_conn_id, now(), now()
FROM resources WHERE environment_id = :'big_env' AND deleted_at IS NULL ORDER BY id;
INSERT INTO resource_connections (user_id, project_id, environment_id, source_type, source_id,
                                  target_type, target_id, status, connection_details, created_at, updated_at)
SELECT c.user_id, c.project_id, :'late_env', c.source_type, ns.id, c.target_type, nt.id, 'pending',
       c.connection_details, now(), now()
FROM resource_connections c
JOIN resources os ON os.id = c.source_id
JOIN resources ot ON ot.id = c.target_id
JOIN resources ns ON ns.environment_id = :'late_env' AND ns.type = os.type AND ns.name = os.name AND ns.deleted_at IS NULL
JOIN resources nt ON nt.environment_id = :'late_env' AND nt.type = ot.type AND nt.name = ot.name AND nt.deleted_at IS NULL
WHERE c.environment_id = :'big_env' AND c.deleted_at IS NULL
ORDER BY c.id;
COMMIT;
VACUUM ANALYZE;
\timing off

SELECT (SELECT count(*) FROM environments) AS environments,
       (SELECT count(*) FROM resources WHERE deleted_at IS NULL) AS live_resources,
       (SELECT count(*) FROM resources WHERE deleted_at IS NOT NULL) AS deleted_resources,
       (SELECT count(*) FROM resource_connections WHERE deleted_at IS NULL) AS live_connections,
       (SELECT count(*) FROM resource_connections WHERE deleted_at IS NOT NULL) AS deleted_connections,
       pg_size_pretty(pg_table_size('resource_connections')) AS connections_heap,
       pg_size_pretty(pg_indexes_size('resource_connections')) AS connections_indexes;

-- The statements, exactly as captured; $ENV, $SRC, $TGT are replaced by
-- literals below.
CREATE TEMP TABLE captured (n int, sql text);
INSERT INTO captured VALUES
(1, $q$SELECT '--- status=pending, page 1, per_page 50: rows, then count' AS step$q$),
(2, $q$SELECT "resource_connections"."id", "resource_connections"."user_id", "resource_connections"."project_id", "resource_connections"."environment_id", "resource_connections"."source_type", "resource_connections"."source_id", "resource_connections"."target_type", "resource_connections"."target_id", "resource_connections"."status", "resource_connections"."connection_details", "resource_connections"."error_message", "resource_connections"."created_at", "resource_connections"."updated_at" FROM "resource_connections" WHERE ((("resource_connections"."environment_id" = $ENV) AND ("resource_connections"."deleted_at" IS NULL)) AND ("resource_connections"."status" = 'pending')) ORDER BY "resource_connections"."id" LIMIT 50 OFFSET 0$q$),
(3, $q$SELECT COUNT(*) FROM "resource_connections" WHERE ((("resource_connections"."environment_id" = $ENV) AND ("resource_connections"."deleted_at" IS NULL)) AND ("resource_connections"."status" = 'pending'))$q$),
(4, $q$SELECT '--- sourceResourceType=application&sourceResourceId=<application-7>: rows, then count' AS step$q$),
(5, $q$SELECT "resource_connections"."id", "resource_connections"."user_id", "resource_connections"."project_id", "resource_connections"."environment_id", "resource_connections"."source_type", "resource_connections"."source_id", "resource_connections"."target_type", "resource_connections"."target_id", "resource_connections"."status", "resource_connections"."connection_details", "resource_connections"."error_message", "resource_connections"."created_at", "resource_connections"."updated_at" FROM "resource_connections" WHERE (((("resource_connections"."environment_id" = $ENV) AND ("resource_connections"."deleted_at" IS NULL)) AND ("resource_connections"."source_type" = 'application')) AND ("resource_connections"."source_id" = $SRC)) ORDER BY "resource_connections"."id" LIMIT 50 OFFSET 0$q$),
(6, $q$SELECT COUNT(*) FROM "resource_connections" WHERE (((("resource_connections"."environment_id" = $ENV) AND ("resource_connections"."deleted_at" IS NULL)) AND ("resource_connections"."source_type" = 'application')) AND ("resource_connections"."source_id" = $SRC))$q$),
(7, $q$SELECT '--- targetResourceType=instance&targetResourceId=<instance-7>: rows, then count' AS step$q$),
(8, $q$SELECT "resource_connections"."id", "resource_connections"."user_id", "resource_connections"."project_id", "resource_connections"."environment_id", "resource_connections"."source_type", "resource_connections"."source_id", "resource_connections"."target_type", "resource_connections"."target_id", "resource_connections"."status", "resource_connections"."connection_details", "resource_connections"."error_message", "resource_connections"."created_at", "resource_connections"."updated_at" FROM "resource_connections" WHERE (((("resource_connections"."environment_id" = $ENV) AND ("resource_connections"."deleted_at" IS NULL)) AND ("resource_connections"."target_type" = 'instance')) AND ("resource_connections"."target_id" = $TGT)) ORDER BY "resource_connections"."id" LIMIT 50 OFFSET 0$q$),
(9, $q$SELECT COUNT(*) FROM "resource_connections" WHERE (((("resource_connections"."environment_id" = $ENV) AND ("resource_connections"."deleted_at" IS NULL)) AND ("resource_connections"."target_type" = 'instance')) AND ("resource_connections"."target_id" = $TGT))$q$),
(10, $q$SELECT '--- no filter, page 1, per_page 50: rows, then count' AS step$q$),
(11, $q$SELECT "resource_connections"."id", "resource_connections"."user_id", "resource_connections"."project_id", "resource_connections"."environment_id", "resource_connections"."source_type", "resource_connections"."source_id", "resource_connections"."target_type", "resource_connections"."target_id", "resource_connections"."status", "resource_connections"."connection_details", "resource_connections"."error_message", "resource_connections"."created_at", "resource_connections"."updated_at" FROM "resource_connections" WHERE (("resource_connections"."environment_id" = $ENV) AND ("resource_connections"."deleted_at" IS NULL)) ORDER BY "resource_connections"."id" LIMIT 50 OFFSET 0$q$),
(12, $q$SELECT COUNT(*) FROM "resource_connections" WHERE (("resource_connections"."environment_id" = $ENV) AND ("resource_connections"."deleted_at" IS NULL))$q$),
(13, $q$SELECT '--- graph: resources, then connections (whole environment)' AS step$q$),
(14, $q$SELECT "resources"."id", "resources"."project_id", "resources"."environment_id", "resources"."type", "resources"."name", "resources"."parent_domain", "resources"."status", "resources"."position_x", "resources"."position_y", "resources"."config", "resources"."credential_conn_id", "resources"."created_at", "resources"."updated_at", "resources"."deleted_at" FROM "resources" WHERE (("resources"."environment_id" = $ENV) AND ("resources"."deleted_at" IS NULL)) ORDER BY "resources"."id"$q$),
(15, $q$SELECT "resource_connections"."id", "resource_connections"."user_id", "resource_connections"."project_id", "resource_connections"."environment_id", "resource_connections"."source_type", "resource_connections"."source_id", "resource_connections"."target_type", "resource_connections"."target_id", "resource_connections"."status", "resource_connections"."connection_details", "resource_connections"."error_message", "resource_connections"."created_at", "resource_connections"."updated_at" FROM "resource_connections" WHERE (("resource_connections"."environment_id" = $ENV) AND ("resource_connections"."deleted_at" IS NULL)) ORDER BY "resource_connections"."id"$q$);

-- The same statements as prepared statements (generic plans).
PREPARE by_status(uuid, text, bigint, bigint) AS SELECT "resource_connections"."id", "resource_connections"."user_id", "resource_connections"."project_id", "resource_connections"."environment_id", "resource_connections"."source_type", "resource_connections"."source_id", "resource_connections"."target_type", "resource_connections"."target_id", "resource_connections"."status", "resource_connections"."connection_details", "resource_connections"."error_message", "resource_connections"."created_at", "resource_connections"."updated_at" FROM "resource_connections" WHERE ((("resource_connections"."environment_id" = $1) AND ("resource_connections"."deleted_at" IS NULL)) AND ("resource_connections"."status" = $2)) ORDER BY "resource_connections"."id" LIMIT $3 OFFSET $4;
PREPARE count_status(uuid, text) AS SELECT COUNT(*) FROM "resource_connections" WHERE ((("resource_connections"."environment_id" = $1) AND ("resource_connections"."deleted_at" IS NULL)) AND ("resource_connections"."status" = $2));
PREPARE by_source(uuid, text, bigint, bigint, bigint) AS SELECT "resource_connections"."id", "resource_connections"."user_id", "resource_connections"."project_id", "resource_connections"."environment_id", "resource_connections"."source_type", "resource_connections"."source_id", "resource_connections"."target_type", "resource_connections"."target_id", "resource_connections"."status", "resource_connections"."connection_details", "resource_connections"."error_message", "resource_connections"."created_at", "resource_connections"."updated_at" FROM "resource_connections" WHERE (((("resource_connections"."environment_id" = $1) AND ("resource_connections"."deleted_at" IS NULL)) AND ("resource_connections"."source_type" = $2)) AND ("resource_connections"."source_id" = $3)) ORDER BY "resource_connections"."id" LIMIT $4 OFFSET $5;
PREPARE count_source(uuid, text, bigint) AS SELECT COUNT(*) FROM "resource_connections" WHERE (((("resource_connections"."environment_id" = $1) AND ("resource_connections"."deleted_at" IS NULL)) AND ("resource_connections"."source_type" = $2)) AND ("resource_connections"."source_id" = $3));
PREPARE by_target(uuid, text, bigint, bigint, bigint) AS SELECT "resource_connections"."id", "resource_connections"."user_id", "resource_connections"."project_id", "resource_connections"."environment_id", "resource_connections"."source_type", "resource_connections"."source_id", "resource_connections"."target_type", "resource_connections"."target_id", "resource_connections"."status", "resource_connections"."connection_details", "resource_connections"."error_message", "resource_connections"."created_at", "resource_connections"."updated_at" FROM "resource_connections" WHERE (((("resource_connections"."environment_id" = $1) AND ("resource_connections"."deleted_at" IS NULL)) AND ("resource_connections"."target_type" = $2)) AND ("resource_connections"."target_id" = $3)) ORDER BY "resource_connections"."id" LIMIT $4 OFFSET $5;
PREPARE count_target(uuid, text, bigint) AS SELECT COUNT(*) FROM "resource_connections" WHERE (((("resource_connections"."environment_id" = $1) AND ("resource_connections"."deleted_at" IS NULL)) AND ("resource_connections"."target_type" = $2)) AND ("resource_connections"."target_id" = $3));
PREPARE unfiltered(uuid, bigint, bigint) AS SELECT "resource_connections"."id", "resource_connections"."user_id", "resource_connections"."project_id", "resource_connections"."environment_id", "resource_connections"."source_type", "resource_connections"."source_id", "resource_connections"."target_type", "resource_connections"."target_id", "resource_connections"."status", "resource_connections"."connection_details", "resource_connections"."error_message", "resource_connections"."created_at", "resource_connections"."updated_at" FROM "resource_connections" WHERE (("resource_connections"."environment_id" = $1) AND ("resource_connections"."deleted_at" IS NULL)) ORDER BY "resource_connections"."id" LIMIT $2 OFFSET $3;
PREPARE count_unfiltered(uuid) AS SELECT COUNT(*) FROM "resource_connections" WHERE (("resource_connections"."environment_id" = $1) AND ("resource_connections"."deleted_at" IS NULL));

\echo
\echo '################ typical environment: bulk-100 / env-5 (100 live connections) ################'
SELECT en.id AS env FROM environments en JOIN projects pr ON pr.id = en.project_id
WHERE pr.name = 'bulk-100' AND en.name = 'env-5' \gset
SELECT id AS src FROM resources WHERE environment_id = :'env' AND name = 'application-7' AND deleted_at IS NULL \gset
SELECT id AS tgt FROM resources WHERE environment_id = :'env' AND name = 'instance-7' AND deleted_at IS NULL \gset
\echo environment :env, application-7 = :src, instance-7 = :tgt
SELECT status, count(*) AS live_connections FROM resource_connections
WHERE environment_id = :'env' AND deleted_at IS NULL GROUP BY ROLLUP (status) ORDER BY status;
\echo '======== custom plans (bind parameters replaced by literals) ========'
SELECT CASE WHEN sql LIKE 'SELECT ''---%' THEN sql
            ELSE 'EXPLAIN (ANALYZE, BUFFERS) ' || replace(replace(replace(sql,
                 '$ENV', quote_literal(:'env')), '$SRC', :'src'), '$TGT', :'tgt') END
FROM captured ORDER BY n \gexec
\echo '======== generic plans (prepared statements, plan_cache_mode = force_generic_plan) ========'
SET plan_cache_mode = force_generic_plan;
\echo '--- status=pending'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE by_status(:'env', 'pending', 50, 0);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE count_status(:'env', 'pending');
\echo '--- source'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE by_source(:'env', 'application', :src, 50, 0);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE count_source(:'env', 'application', :src);
\echo '--- target'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE by_target(:'env', 'instance', :tgt, 50, 0);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE count_target(:'env', 'instance', :tgt);
\echo '--- no filter'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE unfiltered(:'env', 50, 0);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE count_unfiltered(:'env');
RESET plan_cache_mode;

\echo
\echo '################ big environment, rows spread over the table: bulk-big / big (50,000 live connections) ################'
SELECT en.id AS env FROM environments en JOIN projects pr ON pr.id = en.project_id
WHERE pr.name = 'bulk-big' AND en.name = 'big' \gset
SELECT id AS src FROM resources WHERE environment_id = :'env' AND name = 'application-7' AND deleted_at IS NULL \gset
SELECT id AS tgt FROM resources WHERE environment_id = :'env' AND name = 'instance-7' AND deleted_at IS NULL \gset
\echo environment :env, application-7 = :src, instance-7 = :tgt
SELECT status, count(*) AS live_connections FROM resource_connections
WHERE environment_id = :'env' AND deleted_at IS NULL GROUP BY ROLLUP (status) ORDER BY status;
\echo '======== custom plans (bind parameters replaced by literals) ========'
SELECT CASE WHEN sql LIKE 'SELECT ''---%' THEN sql
            ELSE 'EXPLAIN (ANALYZE, BUFFERS) ' || replace(replace(replace(sql,
                 '$ENV', quote_literal(:'env')), '$SRC', :'src'), '$TGT', :'tgt') END
FROM captured ORDER BY n \gexec
\echo '======== generic plans (prepared statements, plan_cache_mode = force_generic_plan) ========'
SET plan_cache_mode = force_generic_plan;
\echo '--- status=pending'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE by_status(:'env', 'pending', 50, 0);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE count_status(:'env', 'pending');
\echo '--- source'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE by_source(:'env', 'application', :src, 50, 0);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE count_source(:'env', 'application', :src);
\echo '--- target'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE by_target(:'env', 'instance', :tgt, 50, 0);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE count_target(:'env', 'instance', :tgt);
\echo '--- no filter'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE unfiltered(:'env', 50, 0);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE count_unfiltered(:'env');
RESET plan_cache_mode;


\echo
\echo '################ big environment cloned last, rows at the end of the table: bulk-big / late (50,000 live connections) ################'
SELECT en.id AS env FROM environments en JOIN projects pr ON pr.id = en.project_id
WHERE pr.name = 'bulk-big' AND en.name = 'late' \gset
SELECT id AS src FROM resources WHERE environment_id = :'env' AND name = 'application-7' AND deleted_at IS NULL \gset
SELECT id AS tgt FROM resources WHERE environment_id = :'env' AND name = 'instance-7' AND deleted_at IS NULL \gset
\echo environment :env, application-7 = :src, instance-7 = :tgt
SELECT status, count(*) AS live_connections FROM resource_connections
WHERE environment_id = :'env' AND deleted_at IS NULL GROUP BY ROLLUP (status) ORDER BY status;
\echo '======== custom plans (bind parameters replaced by literals) ========'
SELECT CASE WHEN sql LIKE 'SELECT ''---%' THEN sql
            ELSE 'EXPLAIN (ANALYZE, BUFFERS) ' || replace(replace(replace(sql,
                 '$ENV', quote_literal(:'env')), '$SRC', :'src'), '$TGT', :'tgt') END
FROM captured ORDER BY n \gexec
\echo '======== generic plans (prepared statements, plan_cache_mode = force_generic_plan) ========'
SET plan_cache_mode = force_generic_plan;
\echo '--- status=pending'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE by_status(:'env', 'pending', 50, 0);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE count_status(:'env', 'pending');
\echo '--- source'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE by_source(:'env', 'application', :src, 50, 0);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE count_source(:'env', 'application', :src);
\echo '--- target'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE by_target(:'env', 'instance', :tgt, 50, 0);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE count_target(:'env', 'instance', :tgt);
\echo '--- no filter'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE unfiltered(:'env', 50, 0);
EXPLAIN (ANALYZE, BUFFERS) EXECUTE count_unfiltered(:'env');
RESET plan_cache_mode;


\echo '======== the same custom plans with random_page_cost = 1.1 (a common SSD setting) ========'
SET random_page_cost = 1.1;
SELECT CASE WHEN sql LIKE 'SELECT ''---%' THEN sql
            ELSE 'EXPLAIN (ANALYZE, BUFFERS) ' || replace(replace(replace(sql,
                 '$ENV', quote_literal(:'env')), '$SRC', :'src'), '$TGT', :'tgt') END
FROM captured WHERE n BETWEEN 1 AND 3 OR n BETWEEN 10 AND 12 ORDER BY n \gexec
RESET random_page_cost;

\echo
\echo '################ what-ifs on bulk-big / late, each rolled back ################'
\echo '--- the custom status plan if the primary key could not be used (its cost next to the pkey walk)'
BEGIN;
ALTER TABLE resource_connections DROP CONSTRAINT resource_connections_pkey;
SELECT 'EXPLAIN (ANALYZE, BUFFERS) ' || replace(sql, '$ENV', quote_literal(:'env')) FROM captured WHERE n = 2 \gexec
ROLLBACK;
\echo '--- without the (environment_id, id) partial index (as before migration 2026-11-22-000004): custom, then generic unfiltered plan'
BEGIN;
DROP INDEX IF EXISTS resource_connections_env_id_idx;
SELECT 'EXPLAIN (ANALYZE, BUFFERS) ' || replace(sql, '$ENV', quote_literal(:'env')) FROM captured WHERE n = 11 \gexec
SET plan_cache_mode = force_generic_plan;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE unfiltered(:'env', 50, 0);
RESET plan_cache_mode;
ROLLBACK;
