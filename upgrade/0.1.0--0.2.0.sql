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
    search_metric text    DEFAULT NULL,
    search_objective text DEFAULT NULL,
    max_parameters bigint DEFAULT NULL
) RETURNS galaxy.models
    AS 'MODULE_PATHNAME', 'galaxy_train' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION galaxy.train(text, regclass, text, text, jsonb, float8, text, jsonb, integer, text, integer, text[], jsonb, text, text, integer, text, text, bigint) IS
    'Train a model synchronously: load the relation (as the caller), preprocess, optionally search hyperparameters or architectures (search, search_space, search_trials, search_metric, search_objective, max_parameters; algorithm auto with search auto tries every suitable algorithm), fit, evaluate on a held-out split, register a new version and deploy per policy (if_better, always, never)';
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
    search_objective text DEFAULT NULL,
    max_parameters bigint DEFAULT NULL,
    priority     integer  DEFAULT 0,
    retries      integer  DEFAULT 0,
    timeout      interval DEFAULT NULL
) RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_submit' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION galaxy.submit(text, regclass, text, text, jsonb, float8, text, jsonb, integer, text, integer, text[], jsonb, text, text, integer, text, text, bigint, integer, integer, interval) IS
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
    strategy         text NOT NULL CHECK (strategy IN ('grid', 'random', 'bayesian', 'halving', 'auto')),
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
    objective        text NOT NULL DEFAULT 'accuracy' CHECK (objective IN ('accuracy', 'accuracy_per_ms')),
    max_parameters   bigint CHECK (max_parameters > 0),
    trials_skipped   integer NOT NULL DEFAULT 0 CHECK (trials_skipped >= 0),
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
    state          text NOT NULL CHECK (state IN ('succeeded', 'failed', 'skipped')),
    score          float8,
    score_std      float8,
    fold_scores    float8[],
    metrics        jsonb,
    fit_seconds    float8 CHECK (fit_seconds >= 0),
    error_message  text,
    error_sqlstate text,
    finished_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    algorithm      text,
    architecture   jsonb,
    parameters     bigint CHECK (parameters >= 0),
    predict_ms_per_row float8 CHECK (predict_ms_per_row >= 0),
    objective      float8,
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
COMMENT ON FUNCTION galaxy.compress(bigint, text, jsonb) IS 'Register a compressed copy of a model (int8; prune; distill: a smaller student trained on its predictions) as its next patch version, measured beside it on the same rows; options: max_metric_drop (default 0.01, the accuracy guard a deployment gate enforces), relation, sparsity, epochs (fine-tuning a pruned network), student, hyperparams, test_size; needs train on the project; audited';

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
-- Monitoring (issue #15): src/sql/75_monitoring.sql, all of it new in 0.2.0.
-- ---------------------------------------------------------------------------
-- ---------------------------------------------------------------------------
-- Monitoring (src/monitor/): drift against the training profile or a
-- baseline window, its history and per-project thresholds.
-- ---------------------------------------------------------------------------

-- The drift baseline stored with each model (appended: see upgrade/README.md).
ALTER TABLE galaxy.models ADD COLUMN training_profile jsonb;
-- Tens of kB per model, written by every training: LZ4 compresses it about
-- five times faster than pglz, to the same size.  A server built without
-- LZ4 keeps its default.
DO $$
BEGIN
    ALTER TABLE galaxy.models ALTER COLUMN training_profile SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END
$$;

CREATE TABLE galaxy.drift_thresholds (
    project_id   bigint PRIMARY KEY REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    psi_warning  float8 NOT NULL CHECK (psi_warning > 0 AND psi_warning < 'Infinity'),
    psi_drift    float8 NOT NULL CHECK (psi_drift >= psi_warning AND psi_drift < 'Infinity'),
    set_by       name NOT NULL DEFAULT current_user,
    set_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE galaxy.drift_thresholds IS 'Per-project PSI thresholds of galaxy.drift() (defaults 0.1 and 0.25 when a project has no row)';
SELECT pg_catalog.pg_extension_config_dump('galaxy.drift_thresholds', '');

CREATE TABLE galaxy.drift_history (
    id                     bigserial PRIMARY KEY,
    computed_at            timestamptz NOT NULL DEFAULT now(),
    computed_by            name NOT NULL DEFAULT current_user,
    project_id             bigint NOT NULL REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    model_id               bigint NOT NULL REFERENCES galaxy.models (id) ON DELETE CASCADE,
    relation               text NOT NULL,
    baseline               text NOT NULL,
    feature                text NOT NULL,
    kind                   text NOT NULL CHECK (kind IN ('numeric', 'categorical', 'prediction')),
    rows                   bigint NOT NULL CHECK (rows >= 0),
    baseline_rows          bigint NOT NULL CHECK (baseline_rows >= 0),
    null_fraction          float8 NOT NULL,
    baseline_null_fraction float8 NOT NULL,
    psi                    float8 NOT NULL,
    ks_statistic           float8,
    ks_p_value             float8,
    js_distance            float8 NOT NULL,
    linf_distance          float8,
    status                 text NOT NULL CHECK (status IN ('ok', 'warning', 'drift'))
);
CREATE INDEX drift_history_project_idx ON galaxy.drift_history (project_id, computed_at DESC);
COMMENT ON TABLE galaxy.drift_history IS 'Every feature''s drift as galaxy.drift() computed it: a time series for dashboards and alerts';
SELECT pg_catalog.pg_extension_config_dump('galaxy.drift_history', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.drift_history_id_seq', '');

CREATE FUNCTION galaxy.drift(project text, relation regclass, baseline_relation regclass DEFAULT NULL,
                             psi_warning float8 DEFAULT NULL, psi_drift float8 DEFAULT NULL,
                             predictions boolean DEFAULT true,
                             OUT model_id bigint, OUT feature text, OUT kind text,
                             OUT rows bigint, OUT baseline_rows bigint,
                             OUT null_fraction float8, OUT baseline_null_fraction float8,
                             OUT psi float8, OUT ks_statistic float8, OUT ks_p_value float8,
                             OUT js_distance float8, OUT linf_distance float8, OUT status text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'galaxy_drift' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.drift(text, regclass, regclass, float8, float8, boolean) IS
'Drift of a relation (read as the caller) against the training profile of the project''s deployed (else newest) model, or against baseline_relation (window against window): per feature PSI on the baseline deciles, Kolmogorov-Smirnov statistic and p-value, Jensen-Shannon distance (numeric), PSI, L-infinity and Jensen-Shannon distance (categorical), a status against the PSI thresholds (the call''s, else the project''s, else 0.1 and 0.25), and the drift of the predictions; recorded in galaxy.drift_history';

CREATE FUNCTION galaxy.set_drift_thresholds(project text, psi_warning float8 DEFAULT 0.1, psi_drift float8 DEFAULT 0.25)
    RETURNS void
    AS 'MODULE_PATHNAME', 'galaxy_set_drift_thresholds' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.set_drift_thresholds(text, float8, float8) IS
'Set a project''s PSI thresholds for galaxy.drift() (0 < psi_warning <= psi_drift; both NULL removes them); needs the deploy privilege; audited';

-- ---------------------------------------------------------------------------
-- Inference statistics (src/monitor/inference_stats.c): per model, in shared
-- memory, since the last reset.
-- ---------------------------------------------------------------------------
CREATE FUNCTION galaxy_internal.inference_stats_entries(
    OUT model_id bigint, OUT project_id bigint, OUT calls bigint, OUT errors bigint,
    OUT total_ms float8, OUT mean_ms float8, OUT p50_ms float8, OUT p95_ms float8,
    OUT p99_ms float8, OUT max_ms float8, OUT stats_since timestamptz, OUT last_call timestamptz,
    OUT latency_buckets bigint[], OUT timed_calls bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'galaxy_inference_stats_entries' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy_internal.inference_stats_entries() IS
'The shared-memory entries behind galaxy.inference_stats for the current database: per model calls, errors, latency (total, mean, p50/p95/p99 from the log-bucketed histogram, max) and the cumulative histogram (bucket b: latencies up to 2^((b+1)/4) nanoseconds) of the timed calls (the first of each transaction and 1 in 16 after it)';

CREATE VIEW galaxy.inference_stats AS
SELECT s.model_id, p.name AS project, m.version, m.algorithm,
       s.calls, s.calls AS rows, s.errors,
       s.mean_ms, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms, s.total_ms, s.timed_calls,
       s.stats_since, s.last_call
  FROM galaxy_internal.inference_stats_entries() s
  JOIN galaxy.models m ON m.id = s.model_id
  JOIN galaxy.projects p ON p.id = m.project_id;
COMMENT ON VIEW galaxy.inference_stats IS
'Predict calls, rows, errors and latency (mean, p50/p95/p99, max, in milliseconds) per model and project since the last galaxy.reset_inference_stats(), from shared memory (galaxy.track_inference); rows of the projects the caller may read';

CREATE FUNCTION galaxy.reset_inference_stats() RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_reset_inference_stats' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.reset_inference_stats() IS
'Forget the current database''s inference statistics; returns the number of models whose entries were removed (galaxy_admin)';

-- ---------------------------------------------------------------------------
-- Prometheus text exposition format (0.0.4): galaxy_ prefix, _total
-- counters, _seconds units, HELP and TYPE for every family.  Read as the
-- caller: row-level security decides which projects appear.
-- ---------------------------------------------------------------------------

-- A label value escaped as the format wants (backslash, double quote, newline).
CREATE FUNCTION galaxy_internal.prometheus_label(value text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN replace(replace(replace(value, E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n');
COMMENT ON FUNCTION galaxy_internal.prometheus_label(text) IS
'A Prometheus label value: backslash, double quote and line feed escaped (used by galaxy.prometheus())';

-- A float8 as the format writes it (NaN, +Inf, -Inf; otherwise the shortest exact text).
CREATE FUNCTION galaxy_internal.prometheus_value(value float8) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN value IS NULL OR value = 'NaN' THEN 'NaN'
                WHEN value = 'Infinity' THEN '+Inf'
                WHEN value = '-Infinity' THEN '-Inf'
                ELSE value::text END;
COMMENT ON FUNCTION galaxy_internal.prometheus_value(float8) IS
'A sample value in the Prometheus text format: NaN, +Inf, -Inf or the number (used by galaxy.prometheus())';

-- galaxy.prometheus() is in 77_monitoring_views.sql: it reads the schedules and alerts too.

-- ---------------------------------------------------------------------------
-- Health, and flat views for BI tools.
-- ---------------------------------------------------------------------------
CREATE FUNCTION galaxy_internal.health_runtime(
    OUT preloaded boolean, OUT launcher_pid integer, OUT launcher_alive boolean,
    OUT workers_busy integer, OUT workers_max integer,
    OUT inference_stats_models bigint, OUT inference_stats_max integer, OUT inference_stats_bytes bigint)
    AS 'MODULE_PATHNAME', 'galaxy_health_runtime' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy_internal.health_runtime() IS
'What shared memory knows about galaxy''s health: preloaded, the launcher''s pid and whether it is alive, training workers busy and allowed, models tracked by the inference statistics and their limit, their shared memory';

-- galaxy.health_status and galaxy.health() are in 77_monitoring_views.sql: they
-- read the schedules and alerts too.

CREATE VIEW galaxy.model_metrics AS
SELECT m.id AS model_id, p.name AS project, m.version, m.algorithm, m.task,
       coalesce(m.metrics ->> 'evaluated_on', 'test') AS split, kv.key AS metric,
       (kv.value #>> '{}')::float8 AS value
  FROM galaxy.models m
  JOIN galaxy.projects p ON p.id = m.project_id
 CROSS JOIN LATERAL jsonb_each(m.metrics) kv
 WHERE jsonb_typeof(kv.value) = 'number'
UNION ALL
SELECT m.id, p.name, m.version, m.algorithm, m.task, kv.key, sub.key, (sub.value #>> '{}')::float8
  FROM galaxy.models m
  JOIN galaxy.projects p ON p.id = m.project_id
 CROSS JOIN LATERAL jsonb_each(m.metrics) kv
 CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(kv.value) = 'object' THEN kv.value ELSE '{}' END) sub
 WHERE jsonb_typeof(sub.value) = 'number';
COMMENT ON VIEW galaxy.model_metrics IS
'Every stored number of every model''s metrics, one row per model, split and metric, plain types for BI tools: split is where quality metrics were measured (test or training), or the name of a nested group (e.g. cross-validation)';

CREATE VIEW galaxy.model_summary AS
SELECT m.id AS model_id, p.name AS project, m.version, m.algorithm, m.task, m.status,
       EXISTS (SELECT 1 FROM galaxy.deployments d
                WHERE d.model_id = m.id AND d.retired_at IS NULL) AS serving,
       m.training_rows, m.test_rows, m.metrics ->> 'evaluated_on' AS evaluated_on,
       (m.metrics ->> 'accuracy')::float8 AS accuracy,
       (m.metrics ->> 'balanced_accuracy')::float8 AS balanced_accuracy,
       (m.metrics ->> 'f1_macro')::float8 AS f1_macro,
       (m.metrics ->> 'precision_macro')::float8 AS precision_macro,
       (m.metrics ->> 'recall_macro')::float8 AS recall_macro,
       (m.metrics ->> 'roc_auc')::float8 AS roc_auc,
       (m.metrics ->> 'log_loss')::float8 AS log_loss,
       (m.metrics ->> 'r2')::float8 AS r2,
       (m.metrics ->> 'rmse')::float8 AS rmse,
       (m.metrics ->> 'mae')::float8 AS mae,
       (m.metrics ->> 'silhouette')::float8 AS silhouette,
       (m.metrics ->> 'fit_seconds')::float8 AS fit_seconds,
       (m.metrics ->> 'predict_p50_ms')::float8 AS predict_p50_ms,
       (m.metrics ->> 'predict_p99_ms')::float8 AS predict_p99_ms,
       m.size_bytes, m.trained_by, m.created_at
  FROM galaxy.models m
  JOIN galaxy.projects p ON p.id = m.project_id;
COMMENT ON VIEW galaxy.model_summary IS
'One row per model with the usual metrics as numeric columns (NULL when the task has no such metric), whether it serves, its size and lineage basics: for BI tools';

-- ---------------------------------------------------------------------------
-- What follows is src/sql/90_roles_grants.sql, then src/sql/95_comments.sql.
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- predict on a galaxy.model value, for Citus workers (40_predict.sql)
-- ---------------------------------------------------------------------------
-- On a galaxy.model value: no registry is read, so these run where there is
-- none, such as Citus worker nodes; galaxy.serving_model() is the value of
-- the project's serving model, read once (on the coordinator) and shipped
-- with the query (docs/citus.md, docs/adr/0004-predict-on-citus-workers.md).
-- IMMUTABLE: the answer depends on the arguments only.
CREATE FUNCTION galaxy.serving_model(project text, key text DEFAULT NULL) RETURNS galaxy.model
    AS 'MODULE_PATHNAME', 'galaxy_serving_model' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy.predict(model galaxy.model, features float8[]) RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy.predict(model galaxy.model, "row" record) RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_proba(model galaxy.model, features float8[]) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_proba(model galaxy.model, "row" record) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_label(model galaxy.model, features float8[]) RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_label(model galaxy.model, "row" record) RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.serving_model(text, text) IS
    'The galaxy.model value serving the project now (routed by key among canaries), to ship with a query to nodes without the registry (Citus workers)';
COMMENT ON FUNCTION galaxy.predict(galaxy.model, float8[]) IS 'Predict with a model value (from galaxy.serving_model): reads no registry, so it runs on Citus workers';
COMMENT ON FUNCTION galaxy.predict(galaxy.model, record) IS 'Predict from a whole row with a model value: reads no registry, so it runs on Citus workers';
COMMENT ON FUNCTION galaxy.predict_proba(galaxy.model, float8[]) IS 'Class probabilities from a model value: reads no registry, so it runs on Citus workers';
COMMENT ON FUNCTION galaxy.predict_proba(galaxy.model, record) IS 'Class probabilities for a whole row from a model value: reads no registry';
COMMENT ON FUNCTION galaxy.predict_label(galaxy.model, float8[]) IS 'The predicted label from a model value: reads no registry, so it runs on Citus workers';
COMMENT ON FUNCTION galaxy.predict_label(galaxy.model, record) IS 'The predicted label for a whole row from a model value: reads no registry';

-- ---------------------------------------------------------------------------
-- Text features: galaxy's word parser and the configuration galaxy.words
-- (src/sql/35_text.sql)
-- ---------------------------------------------------------------------------
-- galaxy's own word parser (src/text/words.c): words of two or more letters,
-- digits or underscores, as scikit-learn's default token pattern finds them;
-- galaxy.words lower-cases them with the 'simple' dictionary (no stemming, no
-- stop words).
CREATE FUNCTION galaxy_internal.words_start(internal, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'galaxy_words_start' LANGUAGE C STRICT;
CREATE FUNCTION galaxy_internal.words_token(internal, internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'galaxy_words_token' LANGUAGE C STRICT;
CREATE FUNCTION galaxy_internal.words_end(internal) RETURNS void
    AS 'MODULE_PATHNAME', 'galaxy_words_end' LANGUAGE C STRICT;
CREATE FUNCTION galaxy_internal.words_lextype(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'galaxy_words_lextype' LANGUAGE C STRICT;
COMMENT ON FUNCTION galaxy_internal.words_start(internal, integer) IS 'Start of the text search parser galaxy_internal.words (called by PostgreSQL''s text search only)';
COMMENT ON FUNCTION galaxy_internal.words_token(internal, internal, internal) IS 'The next word of the text search parser galaxy_internal.words (called by PostgreSQL''s text search only)';
COMMENT ON FUNCTION galaxy_internal.words_end(internal) IS 'End of the text search parser galaxy_internal.words (called by PostgreSQL''s text search only)';
COMMENT ON FUNCTION galaxy_internal.words_lextype(internal) IS 'Token types of the text search parser galaxy_internal.words: word';
CREATE TEXT SEARCH PARSER galaxy_internal.words (
    START = galaxy_internal.words_start,
    GETTOKEN = galaxy_internal.words_token,
    END = galaxy_internal.words_end,
    LEXTYPES = galaxy_internal.words_lextype);
COMMENT ON TEXT SEARCH PARSER galaxy_internal.words IS
    'galaxy''s word parser: runs of two or more letters, digits or underscores (scikit-learn''s default token pattern), token type "word"';
CREATE TEXT SEARCH CONFIGURATION galaxy.words (PARSER = galaxy_internal.words);
ALTER TEXT SEARCH CONFIGURATION galaxy.words ADD MAPPING FOR word WITH pg_catalog.simple;
COMMENT ON TEXT SEARCH CONFIGURATION galaxy.words IS
    'Words of two or more letters, digits or underscores, lower-cased, no stemming, no stop words: the tokens of scikit-learn''s TfidfVectorizer; galaxy''s fastest configuration for text features';
