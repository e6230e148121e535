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
