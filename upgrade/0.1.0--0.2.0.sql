-- galaxy upgrade script 0.1.0 → 0.2.0, assembled by the Makefile: this file
-- (the release's own changes), then src/sql/90_roles_grants.sql and
-- src/sql/95_comments.sql run again, so that new objects get the grants,
-- row-level security, view settings and column comments of a fresh install.
\echo Use "ALTER EXTENSION galaxy UPDATE TO '0.2.0'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- How to add a schema change of this release (see CONTRIBUTING.md,
-- "Changing the SQL"):
--
--   * Make the change in src/sql/ (that is the fresh install), then say here
--     what turns a 0.1.0 database into the same thing, in the same order of
--     dependencies as the parts:
--       - a new function, view, table, index, trigger: copy its CREATE
--         statement and COMMENT ON here (grants, row-level security for a
--         table with project_id, security_invoker and column comments come
--         from the parts that run after this file);
--       - a new table registered for pg_dump: its
--         pg_catalog.pg_extension_config_dump() calls too;
--       - a new column: ALTER TABLE ... ADD COLUMN.  An upgrade can only
--         append a column, so src/sql/ adds it with ALTER TABLE ... ADD
--         COLUMN after the table's existing columns too (as 50_jobs.sql and
--         60_registry.sql do), or the two column orders differ;
--       - a changed function: CREATE OR REPLACE FUNCTION (same arguments and
--         result type), or DROP FUNCTION and CREATE for a new signature;
--       - a changed view: CREATE OR REPLACE VIEW when only columns are
--         appended, else DROP VIEW and CREATE VIEW;
--       - a renamed or moved object: ALTER ... RENAME / SET SCHEMA, as below.
--   * Keep every C entry point that an earlier script names (AS
--     'MODULE_PATHNAME', 'galaxy_...'): one galaxy.so serves every version,
--     and a database still at 0.1.0 calls the old names until it updates.
--   * test/t/060_upgrade.pl installs 0.1.0, fills it, runs ALTER EXTENSION
--     galaxy UPDATE and compares every object of the extension with a fresh
--     CREATE EXTENSION galaxy: it fails with a diff naming what differs.
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- galaxy_internal: what only galaxy calls leaves \df galaxy.*.  ALTER ...
-- SET SCHEMA keeps each function's OID, so triggers, policies, views, the
-- type and every grant and comment follow it.
-- ---------------------------------------------------------------------------
CREATE SCHEMA galaxy_internal;
COMMENT ON SCHEMA galaxy_internal IS 'galaxy''s internal functions (triggers, planner rewrite targets, helpers of views and row-level security, type I/O): not for direct calls';

-- the type's I/O (model_send stays: users call it for the binary form)
ALTER FUNCTION galaxy.model_in(cstring) SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.model_out(galaxy.model) SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.model_recv(internal) SET SCHEMA galaxy_internal;

-- trigger and event trigger functions
ALTER FUNCTION galaxy.models_unlink_parent() SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.audit_log_chain() SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.append_only_guard() SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.drop_guard() SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.access_changed() SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.model_immutable() SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.deployment_gate() SET SCHEMA galaxy_internal;

-- the planner's rewrite of whole-row and ARRAY[...] predict, and its targets
ALTER FUNCTION galaxy.predict_support(internal) SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_columns(text, tid, text, text[], "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_columns(bigint, tid, text, text[], "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_proba_columns(text, tid, text, text[], "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_proba_columns(bigint, tid, text, text[], "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_label_columns(text, tid, text, text[], "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_label_columns(bigint, tid, text, text[], "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_values(text, text, "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_values(bigint, text, "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_proba_values(text, text, "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_proba_values(bigint, text, "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_label_values(text, text, "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_label_values(bigint, text, "any") SET SCHEMA galaxy_internal;

-- the rows behind views, and the helpers of row-level security
ALTER FUNCTION galaxy.algorithm_list() SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.algorithm_hyperparameter_list() SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.progress_slots() SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.project_visible(bigint) SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.owner_visible(name) SET SCHEMA galaxy_internal;

-- ---------------------------------------------------------------------------
-- Other changes of this release go here (see the list at the top).
-- ---------------------------------------------------------------------------

-- hyperparameter search (issue #16): train() and submit() take search_trials
-- and search_metric (galaxy_train and galaxy_submit still serve 0.1.0's
-- shorter signatures); galaxy.searches, galaxy.trials, models.search_id
DROP FUNCTION galaxy.train(text, regclass, text, text, jsonb, float8, text, jsonb, integer, text, integer, text[], jsonb, text, text);
CREATE FUNCTION galaxy.train(
    project      text,
    relation     regclass DEFAULT NULL,
    target       text     DEFAULT NULL,
    algorithm    text     DEFAULT 'auto',
    hyperparams  jsonb    DEFAULT '{}',
    test_size    float8   DEFAULT 0.2,
    search       text     DEFAULT NULL,
    search_space jsonb    DEFAULT NULL,
    folds        integer  DEFAULT NULL,
    deploy       text     DEFAULT 'if_better',
    seed         integer  DEFAULT 42,
    features     text[]   DEFAULT NULL,
    preprocess   jsonb    DEFAULT NULL,
    task         text     DEFAULT NULL,
    dataset      text     DEFAULT NULL,
    search_trials integer DEFAULT NULL,
    search_metric text    DEFAULT NULL
) RETURNS galaxy.models
    AS 'MODULE_PATHNAME', 'galaxy_train' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION galaxy.train(text, regclass, text, text, jsonb, float8, text, jsonb, integer, text, integer, text[], jsonb, text, text, integer, text) IS
    'Train a model synchronously: load the relation (as the caller), preprocess, optionally search hyperparameters (search, search_space, search_trials, search_metric), fit, evaluate on a held-out split, register a new version and deploy per policy (if_better, always, never)';
DROP FUNCTION galaxy.submit(text, regclass, text, text, jsonb, float8, text, jsonb, integer, text, integer, text[], jsonb, text, text, integer, integer, interval);
CREATE FUNCTION galaxy.submit(
    project      text,
    relation     regclass DEFAULT NULL,
    target       text     DEFAULT NULL,
    algorithm    text     DEFAULT 'auto',
    hyperparams  jsonb    DEFAULT '{}',
    test_size    float8   DEFAULT 0.2,
    search       text     DEFAULT NULL,
    search_space jsonb    DEFAULT NULL,
    folds        integer  DEFAULT NULL,
    deploy       text     DEFAULT 'if_better',
    seed         integer  DEFAULT 42,
    features     text[]   DEFAULT NULL,
    preprocess   jsonb    DEFAULT NULL,
    task         text     DEFAULT NULL,
    dataset      text     DEFAULT NULL,
    search_trials integer DEFAULT NULL,
    search_metric text    DEFAULT NULL,
    priority     integer  DEFAULT 0,
    retries      integer  DEFAULT 0,
    timeout      interval DEFAULT NULL
) RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_submit' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION galaxy.submit(text, regclass, text, text, jsonb, float8, text, jsonb, integer, text, integer, text[], jsonb, text, text, integer, text, integer, integer, interval) IS
    'Queue a background training job with galaxy.train()''s arguments (validated now); a worker runs it as the calling role after COMMIT; returns the job id; audited';

-- ---------------------------------------------------------------------------
-- Hyperparameter search (src/api/search.c, run by the training pipeline in
-- src/api/train.c): one row per search and one per trial, written as each
-- trial finishes.
-- ---------------------------------------------------------------------------

CREATE TABLE galaxy.searches (
    id               bigserial PRIMARY KEY,
    project_id       bigint NOT NULL REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    algorithm        text NOT NULL,
    strategy         text NOT NULL CHECK (strategy IN ('grid', 'random', 'bayesian', 'halving')),
    space            jsonb NOT NULL,
    budget           integer NOT NULL CHECK (budget >= 1),
    metric           text NOT NULL,
    higher_is_better boolean NOT NULL,
    folds            integer CHECK (folds IS NULL OR folds >= 2),
    seed             integer NOT NULL,
    state            text NOT NULL DEFAULT 'running'
                     CHECK (state IN ('running', 'succeeded', 'failed')),
    trials_done      integer NOT NULL DEFAULT 0 CHECK (trials_done >= 0),
    trials_failed    integer NOT NULL DEFAULT 0 CHECK (trials_failed >= 0),
    best_trial       integer,
    best_score       float8,
    best_hyperparams jsonb,
    model_id         bigint,          -- no foreign key: models.search_id points here
    job_id           bigint REFERENCES galaxy.jobs (id) ON DELETE SET NULL,
    started_by       name NOT NULL DEFAULT current_user,
    started_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at      timestamptz,
    CHECK (trials_failed <= trials_done AND trials_done <= budget),
    CHECK (finished_at IS NULL OR finished_at >= started_at)
);
CREATE INDEX searches_project_idx ON galaxy.searches (project_id, started_at DESC);
COMMENT ON TABLE galaxy.searches IS 'Hyperparameter searches: space, budget, state and best trial of each';

CREATE TABLE galaxy.trials (
    search_id      bigint NOT NULL REFERENCES galaxy.searches (id) ON DELETE CASCADE,
    trial          integer NOT NULL CHECK (trial >= 1),
    rung           integer CHECK (rung >= 0),
    project_id     bigint NOT NULL REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    hyperparams    jsonb NOT NULL,
    state          text NOT NULL CHECK (state IN ('succeeded', 'failed')),
    score          float8,
    score_std      float8,
    fold_scores    float8[],
    metrics        jsonb,
    fit_seconds    float8 CHECK (fit_seconds >= 0),
    error_message  text,
    error_sqlstate text,
    finished_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (search_id, trial),
    CHECK (state = 'succeeded' OR error_message IS NOT NULL)
);
COMMENT ON TABLE galaxy.trials IS 'One row per trial of a hyperparameter search: its values, per-fold and mean scores, time and state';

ALTER TABLE galaxy.models ADD COLUMN search_id bigint REFERENCES galaxy.searches (id) ON DELETE SET NULL;

SELECT pg_catalog.pg_extension_config_dump('galaxy.searches', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.searches_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.trials', '');
REVOKE ALL ON galaxy.searches, galaxy.trials FROM PUBLIC;

-- Model compression (src/sql/68_compress.sql; issue #17): the accuracy guard
-- of a compressed model is a gate of scope compression in gate_results (the
-- same columns: CREATE OR REPLACE), describe(model id) shows its lineage,
-- and the compressions table, galaxy.compress and the lineage view are new.
CREATE OR REPLACE VIEW galaxy.gate_results AS
SELECT p.name AS project, m.project_id, m.id AS model, m.version, m.status AS model_status,
       g.metric, g.op, g.threshold,
       g.scope,
       v.value,
       v.source AS value_source,
       CASE WHEN v.value IS NULL THEN
                 CASE WHEN g.metric IN ('predict_p50_ms', 'predict_p99_ms') THEN 'not_measured' ELSE 'missing' END
            WHEN (g.op = '>=' AND v.value >= g.threshold) OR (g.op = '>' AND v.value > g.threshold)
              OR (g.op = '<=' AND v.value <= g.threshold) OR (g.op = '<' AND v.value < g.threshold)
            THEN 'passed' ELSE 'failed' END AS status,
       CASE WHEN v.value IS NULL THEN
                 CASE WHEN g.metric IN ('predict_p50_ms', 'predict_p99_ms') THEN NULL ELSE false END
            ELSE (g.op = '>=' AND v.value >= g.threshold) OR (g.op = '>' AND v.value > g.threshold)
              OR (g.op = '<=' AND v.value <= g.threshold) OR (g.op = '<' AND v.value < g.threshold)
       END AS passed,
       CASE WHEN g.op IN ('>=', '>') THEN v.value - g.threshold ELSE g.threshold - v.value END AS margin,
       g.metric || ' ' || g.op || ' ' || g.threshold::text AS gate
FROM galaxy.models m
JOIN galaxy.projects p ON p.id = m.project_id
CROSS JOIN LATERAL (
    SELECT dg.metric, dg.op, dg.threshold,
           CASE WHEN dg.project_id IS NULL THEN 'default' ELSE 'project' END AS scope
    FROM galaxy.deployment_gates dg
    WHERE dg.project_id = m.project_id OR dg.project_id IS NULL
    UNION ALL
    SELECT 'metric_drop', '<=', (m.metrics ->> 'max_metric_drop')::float8, 'compression'
    WHERE jsonb_typeof(m.metrics -> 'max_metric_drop') = 'number'
) g
LEFT JOIN galaxy.model_latency l ON l.model_id = m.id
CROSS JOIN LATERAL (
    SELECT CASE WHEN g.metric = 'size_bytes' THEN m.size_bytes::float8
                WHEN jsonb_typeof(m.metrics -> g.metric) = 'number' THEN (m.metrics ->> g.metric)::float8
                WHEN g.metric = 'predict_p50_ms' THEN l.p50_ms
                WHEN g.metric = 'predict_p99_ms' THEN l.p99_ms
           END AS value,
           CASE WHEN g.metric = 'size_bytes' THEN 'model'
                WHEN jsonb_typeof(m.metrics -> g.metric) = 'number' THEN 'metrics'
                WHEN g.metric IN ('predict_p50_ms', 'predict_p99_ms') AND l.model_id IS NOT NULL
                THEN 'on_demand_' || l.source
           END AS source
) v
WHERE m.status <> 'training';
COMMENT ON FUNCTION galaxy.describe(bigint) IS 'describe() of a registered model''s value plus its registry facts: project, version, status, metrics, its gate results and, for a compressed model, compressed_from (parent, method, metric drop)';

CREATE TABLE galaxy.compressions (
    model_id              bigint PRIMARY KEY REFERENCES galaxy.models (id) ON DELETE CASCADE,
    parent_id             bigint NOT NULL,     -- no foreign key, as galaxy.models.parent_id
    project_id            bigint NOT NULL REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    method                text NOT NULL CHECK (method IN ('int8', 'prune', 'distill')),
    options               jsonb NOT NULL DEFAULT '{}',
    measured_on           text NOT NULL,
    main_metric           text NOT NULL,
    parent_value          float8 NOT NULL,
    value                 float8 NOT NULL,
    metric_drop           float8 NOT NULL,
    max_metric_drop       float8 NOT NULL CHECK (max_metric_drop >= 0),
    parent_size_bytes     bigint NOT NULL,
    size_bytes            bigint NOT NULL,
    parent_predict_p50_ms float8,
    predict_p50_ms        float8,
    parent_metrics        jsonb NOT NULL,
    compressed_by         name NOT NULL DEFAULT current_user,
    compressed_at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE galaxy.compressions IS 'How each compressed model was made from its parent (method, options) and how both measured on the same rows: main metric, size, single-row predict latency';
SELECT pg_catalog.pg_extension_config_dump('galaxy.compressions', '');

CREATE FUNCTION galaxy.compress(model bigint, method text, options jsonb DEFAULT '{}')
    RETURNS galaxy.models
    AS 'MODULE_PATHNAME', 'galaxy_compress' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.compress(bigint, text, jsonb) IS 'Register a compressed copy of a model (method int8) as its next patch version, measured beside it on the same rows; options: max_metric_drop (default 0.01, the accuracy guard a deployment gate enforces), relation; needs train on the project; audited';

CREATE VIEW galaxy.model_compressions AS
SELECT p.name AS project, c.project_id, c.model_id AS model, m.version,
       c.parent_id AS parent, pm.version AS parent_version, m.algorithm, c.method, c.options,
       c.measured_on, c.main_metric, c.parent_value, c.value, c.metric_drop, c.max_metric_drop,
       c.metric_drop <= c.max_metric_drop AS guard_passed,
       c.parent_size_bytes, c.size_bytes,
       c.size_bytes::float8 / nullif(c.parent_size_bytes, 0) AS size_ratio,
       c.parent_predict_p50_ms, c.predict_p50_ms,
       c.parent_predict_p50_ms / nullif(c.predict_p50_ms, 0) AS speedup,
       m.status, c.compressed_by, c.compressed_at
FROM galaxy.compressions c
JOIN galaxy.models m ON m.id = c.model_id
JOIN galaxy.projects p ON p.id = c.project_id
LEFT JOIN galaxy.models pm ON pm.id = c.parent_id;
COMMENT ON VIEW galaxy.model_compressions IS 'Compression lineage, one row per compressed model: its parent, method, the main metric of both and the drop, whether the accuracy guard passes, size and latency ratios';

-- ---------------------------------------------------------------------------
-- What follows is src/sql/90_roles_grants.sql, then src/sql/95_comments.sql.
-- ---------------------------------------------------------------------------
