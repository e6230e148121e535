-- ---------------------------------------------------------------------------
-- Model compression (src/api/compress_api.c, the algorithms' compress
-- hooks, src/algo/quant.h): galaxy.compress registers a compressed copy of a
-- model as its next patch version; galaxy.compressions records how it was
-- made and how it measured beside its parent.  The accuracy guard is a
-- deployment gate: galaxy.gate_results (65_gates.sql) gives every model
-- whose metrics carry max_metric_drop the gate "metric_drop <= max_metric_drop"
-- (scope compression).
-- ---------------------------------------------------------------------------

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
