-- ---------------------------------------------------------------------------
-- Deployment quality gates (src/registry/gates.c, src/model/model_latency.c):
-- per-project rules (metric, comparison, threshold) that every model must
-- pass before it serves, defaults for every project, latency measured by
-- galaxy itself, the results as data, and the admin's audited override.
-- ---------------------------------------------------------------------------

CREATE TABLE galaxy.deployment_gates (
    id          bigserial PRIMARY KEY,
    project_id  bigint REFERENCES galaxy.projects (id) ON DELETE CASCADE,   -- NULL: every project
    metric      text NOT NULL CHECK (metric ~ '^[a-z][a-z0-9_]{0,62}$'),
    op          text NOT NULL CHECK (op IN ('>=', '>', '<=', '<')),
    threshold   float8 NOT NULL CHECK (threshold NOT IN ('NaN', 'Infinity', '-Infinity')),
    set_by      name NOT NULL DEFAULT current_user,
    set_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (project_id, metric)
);
COMMENT ON TABLE galaxy.deployment_gates IS 'Quality gates a model must pass before it serves: per project, or for every project (project_id NULL)';
SELECT pg_catalog.pg_extension_config_dump('galaxy.deployment_gates', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.deployment_gates_id_seq', '');

-- Defaults (project_id NULL) are visible to everyone who may read galaxy's
-- tables; a project's own gates to those who may see the project.
ALTER TABLE galaxy.deployment_gates ENABLE ROW LEVEL SECURITY;
CREATE POLICY deployment_gates_visible ON galaxy.deployment_gates FOR SELECT
    USING (project_id IS NULL OR galaxy_internal.project_visible(project_id));

-- Latency measured on demand, for models registered without one (before
-- gates existed, or imported): a model row never changes, so the
-- measurement lives beside it.  Models trained here carry predict_p50_ms
-- and predict_p99_ms in their metrics, measured at registration.
CREATE TABLE galaxy.model_latency (
    model_id     bigint PRIMARY KEY REFERENCES galaxy.models (id) ON DELETE CASCADE,
    project_id   bigint NOT NULL REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    p50_ms       float8 NOT NULL CHECK (p50_ms >= 0),
    p99_ms       float8 NOT NULL CHECK (p99_ms >= p50_ms),
    sample_rows  integer NOT NULL CHECK (sample_rows > 0),
    source       text NOT NULL CHECK (source IN ('relation', 'synthetic')),
    measured_by  name NOT NULL DEFAULT current_user,
    measured_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE galaxy.model_latency IS 'Single-row predict latency measured on demand for models whose metrics lack predict_p50_ms / predict_p99_ms';
SELECT pg_catalog.pg_extension_config_dump('galaxy.model_latency', '');

CREATE FUNCTION galaxy.set_gate(project text, metric text, op text, threshold float8)
    RETURNS void
    AS 'MODULE_PATHNAME', 'galaxy_set_gate' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.set_gate(text, text, text, float8) IS 'Set (or change) the gate "metric op threshold" of a project (needs deploy on it), or of every project with project => ''*'' (galaxy_admin); audited';

CREATE FUNCTION galaxy.drop_gate(project text, metric text)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'galaxy_drop_gate' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.drop_gate(text, text) IS 'Remove a project''s gate on a metric (or a default gate with project => ''*''); true if there was one; audited';

CREATE VIEW galaxy.gates AS
SELECT CASE WHEN g.project_id IS NULL THEN '*' ELSE p.name END AS project,
       g.project_id,
       CASE WHEN g.project_id IS NULL THEN 'default' ELSE 'project' END AS scope,
       g.metric, g.op, g.threshold,
       g.metric || ' ' || g.op || ' ' || g.threshold::text AS gate,
       g.set_by, g.set_at
FROM galaxy.deployment_gates g
LEFT JOIN galaxy.projects p ON p.id = g.project_id;
COMMENT ON VIEW galaxy.gates IS 'Every gate: a project''s own (scope project) and the defaults every project has (project ''*'', scope default)';

-- One row per model and gate that applies to it (the project's own and the
-- defaults).  value: the metric from the model's metrics, size_bytes from
-- the model row, latency from the metrics or galaxy.model_latency
-- (value_source: metrics, model, on_demand_relation, on_demand_synthetic).  status:
-- passed, failed, missing (the model has no such metric: it fails) or
-- not_measured (a latency gate on a model not measured yet: galaxy measures
-- it when a deployment needs it, or galaxy.check_gates(model)).  margin is
-- how far the value is on the passing side of the threshold (negative: by
-- how much it fails).  galaxy's deploy paths read this view.
CREATE VIEW galaxy.gate_results AS
SELECT p.name AS project, m.project_id, m.id AS model, m.version, m.status AS model_status,
       g.metric, g.op, g.threshold,
       CASE WHEN g.project_id IS NULL THEN 'default' ELSE 'project' END AS scope,
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
JOIN galaxy.deployment_gates g ON g.project_id = m.project_id OR g.project_id IS NULL
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
COMMENT ON VIEW galaxy.gate_results IS 'Per model and gate: the measured value, passed / failed / missing / not_measured, and the margin (negative: short of the threshold by that much)';

CREATE FUNCTION galaxy.check_gates(model bigint)
    RETURNS SETOF galaxy.gate_results
    AS 'MODULE_PATHNAME', 'galaxy_check_gates' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION galaxy.check_gates(bigint) IS 'The gates of a model''s project evaluated for the model, measuring its predict latency first when a latency gate needs it and it has none';

CREATE FUNCTION galaxy.describe(model bigint) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'galaxy_describe_model' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION galaxy.describe(bigint) IS 'describe() of a registered model''s value plus its registry facts: project, version, status, metrics and its gate results';

CREATE FUNCTION galaxy.deploy_override(project text, model bigint, reason text, traffic float8 DEFAULT 1.0)
    RETURNS galaxy.deployments
    AS 'MODULE_PATHNAME', 'galaxy_deploy_override' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.deploy_override(text, bigint, text, float8) IS 'Emergency: deploy a model that fails its project''s gates; galaxy_admin only, needs a reason; audited with the reason and the failed gates';
