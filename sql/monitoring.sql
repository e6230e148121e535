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

--
-- Inference statistics: galaxy.inference_stats from shared memory.
--
SELECT galaxy.reset_inference_stats() >= 0 AS reset;
SELECT count(galaxy.predict('drift_demo', s)) FROM serving s WHERE id <= 100;
SELECT count(galaxy.predict(:model_id::bigint, s)) FROM serving s WHERE id <= 20;
SELECT count(galaxy.predict_label('drift_demo', s)) FROM serving s WHERE id <= 5;
-- a bad row is an error of the model (caught here, so in a subtransaction)
SELECT try($$SELECT galaxy.predict('drift_demo', '{"x1": "high"}'::jsonb)$$);
SELECT try($$SELECT galaxy.predict('drift_demo', '{"x1": "high"}'::jsonb)$$);
-- an unknown project has no model: not counted
SELECT try($$SELECT galaxy.predict('no_such_project', ARRAY[1.0])$$);
SELECT project, version, algorithm, calls, rows, errors,
       mean_ms > 0 AS timed, p50_ms <= p95_ms AND p95_ms <= p99_ms AND p99_ms <= max_ms AS ordered,
       total_ms >= max_ms AS total, stats_since <= now() AS since, last_call >= stats_since AS last
  FROM galaxy.inference_stats;
-- the cumulative histogram ends at the number of timed calls: each statement
-- above is its own transaction, whose first call and 1 in 16 after it are timed
SELECT latency_buckets[array_upper(latency_buckets, 1)] AS histogram_total, timed_calls, calls
  FROM galaxy_internal.inference_stats_entries();
-- off: predict is not counted
SET galaxy.track_inference = off;
SELECT count(galaxy.predict('drift_demo', s)) FROM serving s WHERE id <= 100;
RESET galaxy.track_inference;
SELECT calls, errors FROM galaxy.inference_stats;
-- a rolled-back transaction's calls still happened
BEGIN;
SELECT count(galaxy.predict('drift_demo', s)) FROM serving s WHERE id <= 10;
ROLLBACK;
SELECT calls FROM galaxy.inference_stats;
SELECT galaxy.reset_inference_stats() AS removed;
SELECT count(*) FROM galaxy.inference_stats;

--
-- Prometheus text, health, BI views.
--
SELECT count(galaxy.predict('drift_demo', s)) FROM serving s WHERE id <= 40;
CREATE TEMP TABLE prom AS
SELECT line FROM regexp_split_to_table(galaxy.prometheus(), E'\n') line WHERE line <> '';
-- every line is a HELP, a TYPE or a sample of a galaxy_ metric
SELECT count(*) AS malformed FROM prom
 WHERE line !~ '^# (HELP|TYPE) galaxy_[a-z0-9_]+ .+$'
   AND line !~ '^galaxy_[a-z0-9_]+(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? (NaN|[+-]Inf|-?[0-9.e+-]+)$';
-- every family has HELP and TYPE; counters end in _total; units in _seconds
SELECT count(*) FILTER (WHERE line LIKE '# HELP %') = count(*) FILTER (WHERE line LIKE '# TYPE %') AS help_type,
       bool_and(split_part(line, ' ', 3) LIKE '%\_total') FILTER (WHERE line LIKE '# TYPE % counter') AS total
  FROM prom;
SELECT line FROM prom
 WHERE line ~ '^galaxy_(inference_calls_total|inference_errors_total|inference_duration_seconds_count|drift_status|models)[{]'
 ORDER BY line;
SELECT galaxy_internal.prometheus_label(E'a"b\\c\nd') AS escaped, galaxy_internal.prometheus_value('Infinity') AS inf;
-- health
SELECT h->>'status' AS status, h->'preloaded' AS preloaded, h->'launcher'->'alive' AS launcher,
       h->'workers'->'max' AS workers_max, h->'jobs'->'queued' AS queued,
       (h->'inference_stats'->>'models')::int >= 1 AS stats, h->'drift'->'features_drifting' AS drifting
  FROM galaxy.health() h;
SELECT preloaded, launcher_alive, workers_free = workers_max - workers_busy AS free, queue_depth,
       jobs_failed_last_hour, projects_serving, features_drifting
  FROM galaxy.health_status;
-- BI views: every number of the metrics, the summary's columns from the same numbers
SELECT count(*) = (SELECT count(*) FROM jsonb_each(metrics) WHERE jsonb_typeof(value) = 'number') AS all_numbers
  FROM galaxy.model_metrics, galaxy.models WHERE model_metrics.model_id = models.id GROUP BY models.metrics;
SELECT project, split, metric, round(value::numeric, 3) FROM galaxy.model_metrics
 WHERE metric IN ('r2', 'training_rows', 'test_rows') ORDER BY metric;
SELECT project, version, status, serving, round(r2::numeric, 3) AS r2, round(rmse::numeric, 3) AS rmse,
       accuracy IS NULL AS no_accuracy, training_rows
  FROM galaxy.model_summary;

-- A training profile beyond 65,536 rows (edges from an even stride of the
-- rows, every value counted, NULLs apart; values exact in the profile's
-- JSON): the training relation against its own profile shows no drift,
-- bin by bin (PSI exactly 0), and every row is counted.
SELECT setseed(0.5);
CREATE TABLE big_rows AS
SELECT i AS id, (random() * 100000)::int / 4.0::float8 AS x1,
       CASE WHEN i % 10 = 0 THEN NULL ELSE round(random() * 100) END AS x2, random() AS y
  FROM generate_series(1, 70000) i;
SET client_min_messages = warning;
SELECT (galaxy.train('drift_big', relation => 'big_rows', target => 'y', features => ARRAY['x1', 'x2'],
                     algorithm => 'linear_regression', test_size => 0)).id AS big_id \gset
RESET client_min_messages;
SELECT f->>'name' AS feature, f->>'count' AS count, f->>'nulls' AS nulls,
       jsonb_array_length(f->'edges') AS edges,
       (SELECT sum(n::int8) FROM jsonb_array_elements_text(f->'counts') n) AS counted
  FROM galaxy.models, jsonb_array_elements(training_profile->'features') f WHERE id = :big_id;
SELECT feature, rows, baseline_rows, psi, status
  FROM galaxy.drift('drift_big', 'big_rows') WHERE feature <> '(prediction)' ORDER BY feature;

-- Every bin count of such a profile is the binary search's: a value goes to
-- the first edge at or above it.  Recounted here with width_bucket over the
-- stored edges (negated: width_bucket counts the thresholds at or below its
-- operand); a skewed column puts several edges in one cell of the lookup
-- grid, repeated values sit on edges, a value far above every other and
-- one far below put all the rest in one cell.  (The values have at most 15
-- significant digits, as the stored edges do.)
CREATE TABLE skew_rows AS
SELECT i AS id, round((power(random(), 8) * 1e6)::numeric, 3)::float8 AS x1, (i % 1000) / 8.0::float8 AS x2,
       CASE WHEN i = 1 THEN -1e300 WHEN i = 2 THEN 1e300 ELSE round(exp(random() * 30)) END AS x3, random() AS y
  FROM generate_series(1, 70000) i;
SET client_min_messages = warning;
SELECT (galaxy.train('drift_skew', relation => 'skew_rows', target => 'y', features => ARRAY['x1', 'x2', 'x3'],
                     algorithm => 'linear_regression', test_size => 0)).id AS skew_id \gset
RESET client_min_messages;
WITH vals AS (
    SELECT 'public.big_rows' AS relation, v.f, v.x
      FROM big_rows, LATERAL (VALUES ('x1', x1), ('x2', x2)) v(f, x)
    UNION ALL
    SELECT 'public.skew_rows', v.f, v.x
      FROM skew_rows, LATERAL (VALUES ('x1', x1), ('x2', x2), ('x3', x3)) v(f, x)
), profile AS (
    SELECT m.relation, f->>'name' AS feature,
           ARRAY(SELECT -e::float8 FROM jsonb_array_elements_text(f->'edges') e ORDER BY -e::float8) AS negated,
           ARRAY(SELECT n::int8 FROM jsonb_array_elements_text(f->'counts') WITH ORDINALITY c(n, i) ORDER BY i) AS counts
      FROM galaxy.models m, jsonb_array_elements(m.training_profile->'features') f
     WHERE m.id IN (:big_id, :skew_id)
), recount AS (
    SELECT p.relation, p.feature, p.counts,
           ARRAY(SELECT count(b.bin) FROM generate_series(0, cardinality(p.negated)) g(i)
                 LEFT JOIN (SELECT cardinality(p.negated) - width_bucket(-v.x, p.negated) AS bin
                              FROM vals v
                             WHERE v.relation = p.relation AND v.f = p.feature AND v.x IS NOT NULL) b
                        ON b.bin = g.i
                 GROUP BY g.i ORDER BY g.i) AS recounted
      FROM profile p
)
SELECT relation, feature, cardinality(counts) AS bins, counts = recounted AS exact
  FROM recount ORDER BY relation, feature;
