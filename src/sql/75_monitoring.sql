-- ---------------------------------------------------------------------------
-- Monitoring (src/monitor/): drift against the training profile or a
-- baseline window, its history and per-project thresholds.
-- ---------------------------------------------------------------------------

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
