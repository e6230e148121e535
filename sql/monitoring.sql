--
-- Monitoring: galaxy.drift() against the training profile and window against
-- window, its thresholds and history, and its errors (each with a SQLSTATE).
--
\pset null '(null)'

-- Run a statement; report "ok" or "SQLSTATE: message".
CREATE FUNCTION try(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- Two standard normal features (Box-Muller, fixed seeds), a category, a target.
SELECT setseed(0.42);
CREATE TABLE train_data AS
SELECT i AS id, x1, x2, (ARRAY['a', 'b', 'c'])[1 + (i % 3)] AS c, 2 * x1 - x2 + 0.1 * random() AS y
  FROM (SELECT i, sqrt(-2 * ln(random())) * cos(2 * pi() * random()) AS x1,
               sqrt(-2 * ln(random())) * cos(2 * pi() * random()) AS x2
          FROM generate_series(1, 2000) i) s;
-- Serving data from another seed: x1 shifted by 0.5 standard deviations, x2 not.
SELECT setseed(0.17);
CREATE TABLE serving AS
SELECT i AS id, x1 + 0.5 AS x1, x2, (ARRAY['a', 'b', 'c'])[1 + (i % 3)] AS c
  FROM (SELECT i, sqrt(-2 * ln(random())) * cos(2 * pi() * random()) AS x1,
               sqrt(-2 * ln(random())) * cos(2 * pi() * random()) AS x2
          FROM generate_series(1, 2000) i) s;
-- The same distribution as training, from a third seed.
SELECT setseed(0.91);
CREATE TABLE steady AS
SELECT i AS id, x1, x2, (ARRAY['a', 'b', 'c'])[1 + (i % 3)] AS c
  FROM (SELECT i, sqrt(-2 * ln(random())) * cos(2 * pi() * random()) AS x1,
               sqrt(-2 * ln(random())) * cos(2 * pi() * random()) AS x2
          FROM generate_series(1, 2000) i) s;

SET client_min_messages = warning;
SELECT (galaxy.train('drift_demo', relation => 'train_data', target => 'y',
                     features => ARRAY['x1', 'x2', 'c'], algorithm => 'linear_regression')).id AS model_id \gset
RESET client_min_messages;

-- The stored training profile: format version 2, the training split's rows,
-- 101 percentile edges for a continuous feature, frequencies for a category.
SELECT training_profile->>'version' AS version, training_profile->>'rows' AS rows,
       jsonb_array_length(training_profile->'features'->0->'edges') AS x1_edges,
       training_profile->'features'->2->'categories' AS c_categories,
       training_profile->'prediction'->>'name' AS prediction
  FROM galaxy.models WHERE id = :model_id;

-- x1 (shifted 0.5 sd) is flagged, x2 and c are not; the predictions move with x1.
SELECT feature, kind, rows, baseline_rows, round(psi::numeric, 3) AS psi,
       round(ks_statistic::numeric, 3) AS ks, ks_p_value < 0.001 AS ks_significant,
       round(js_distance::numeric, 3) AS js, round(linf_distance::numeric, 3) AS linf, status
  FROM galaxy.drift('drift_demo', 'serving') ORDER BY feature;

-- Data from the training distribution: nothing flagged.
SELECT feature, round(psi::numeric, 3) AS psi, ks_p_value > 0.05 AS ks_not_significant, status
  FROM galaxy.drift('drift_demo', 'steady') ORDER BY feature;

-- Window against window: the baseline is a relation.
SELECT feature, rows, baseline_rows, round(psi::numeric, 3) AS psi, status
  FROM galaxy.drift('drift_demo', 'serving', 'steady') ORDER BY feature;

-- Thresholds: per call, then per project (audited), then back to the defaults.
SELECT feature, status FROM galaxy.drift('drift_demo', 'serving', psi_warning => 0.3, psi_drift => 0.5)
 WHERE feature = 'x1';
SELECT galaxy.set_drift_thresholds('drift_demo', 0.05, 0.2);
SELECT psi_warning, psi_drift FROM galaxy.drift_thresholds;
SELECT feature, status FROM galaxy.drift('drift_demo', 'serving', predictions => false) ORDER BY feature;
SELECT action, (details->>'psi_drift')::float8 AS psi_drift FROM galaxy.audit_log WHERE action = 'set_drift_thresholds';
SELECT galaxy.set_drift_thresholds('drift_demo', NULL, NULL);
SELECT count(*) AS thresholds FROM galaxy.drift_thresholds;

-- Every call is recorded.
SELECT baseline, count(*), count(*) FILTER (WHERE status <> 'ok') AS flagged
  FROM galaxy.drift_history GROUP BY baseline ORDER BY baseline;

-- Bad input
CREATE TABLE empty_serving (LIKE serving);
CREATE TABLE no_x2 AS SELECT id, x1, c FROM serving;
CREATE TABLE text_x1 AS SELECT id, x1::text AS x1, x2, c FROM serving;
SELECT try($$SELECT * FROM galaxy.drift('no_such_project', 'serving')$$);
SELECT try($$SELECT * FROM galaxy.drift('drift_demo', 'no_x2')$$);
SELECT try($$SELECT * FROM galaxy.drift('drift_demo', 'text_x1')$$);
SELECT try($$SELECT * FROM galaxy.drift('drift_demo', 'empty_serving')$$);
SELECT try($$SELECT * FROM galaxy.drift('drift_demo', 'serving', 'empty_serving')$$);
SELECT try($$SELECT * FROM galaxy.drift('drift_demo', NULL)$$);
SELECT try($$SELECT * FROM galaxy.drift('drift_demo', 'serving', psi_warning => 0)$$);
SELECT try($$SELECT * FROM galaxy.drift('drift_demo', 'serving', psi_warning => 0.3, psi_drift => 0.2)$$);
SELECT try($$SELECT * FROM galaxy.drift('drift_demo', 'serving', psi_drift => 'NaN')$$);
SELECT try($$SELECT galaxy.set_drift_thresholds('drift_demo', -1, 0.25)$$);
SELECT try($$SELECT galaxy.set_drift_thresholds('no_such_project')$$);
-- A model without a usable profile: none (trained before profiles), or a
-- newer format.  Model rows are immutable: replica mode skips the guard.
SET session_replication_role = replica;
UPDATE galaxy.models SET training_profile = NULL WHERE id = :model_id;
SELECT try($$SELECT * FROM galaxy.drift('drift_demo', 'serving')$$);
UPDATE galaxy.models SET training_profile = '{"version": 3}' WHERE id = :model_id;
SELECT try($$SELECT * FROM galaxy.drift('drift_demo', 'serving')$$);
RESET session_replication_role;
-- the window form needs no stored profile
SELECT count(*) FROM galaxy.drift('drift_demo', 'serving', 'steady');
