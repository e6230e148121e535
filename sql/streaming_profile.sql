--
-- A streamed model's training profile (the drift baseline): from the sample
-- of the rows the moments pass carries (rows whose hash with the seed is
-- below 2^-level), so galaxy.drift(project, relation) needs no baseline
-- relation; a view has one too.  Serial and parallel passes sample the same
-- rows.
-- Output: booleans, counts and rounded statistics only.
--
\set VERBOSITY terse
SET client_min_messages = warning;

SELECT setseed(0.41);
CREATE TABLE sp (a float8, b float8, flag boolean, y float8, c int);
INSERT INTO sp SELECT random() * 10, CASE WHEN random() < 0.1 THEN NULL ELSE random() END,
       random() < 0.3, 0, (random() * 2)::int
  FROM generate_series(1, 3000);
UPDATE sp SET y = 2 * a + coalesce(b, 0.5) + random() * 0.1;
ANALYZE sp;
CREATE VIEW sp_view AS SELECT * FROM sp;

-- a small table: every row is in the profile
CREATE TABLE m1 AS SELECT (galaxy.train('sp_lin', 'sp', 'y', algorithm => 'linear_regression',
       features => '{a,b,flag}', hyperparams => '{"solver": "streaming"}')).*;
SELECT (metrics->>'profile_sample_rows')::int AS sample_rows, training_profile IS NOT NULL AS has_profile,
       (training_profile->>'rows')::int AS profile_rows,
       jsonb_array_length(training_profile->'features') AS profiled_features,
       training_profile ? 'prediction' AS has_prediction
  FROM galaxy.models WHERE id = (SELECT id FROM m1);
-- drift against the profile, no baseline relation: the same table does not drift
SELECT feature, rows, baseline_rows, round(psi::numeric, 6) AS psi, status,
       round(null_fraction::numeric, 3) AS null_fraction
  FROM galaxy.drift('sp_lin', 'sp') ORDER BY feature;
-- shifted rows drift
CREATE TABLE sp_shift AS SELECT a + 5 AS a, b, flag, y + 10 AS y, c FROM sp;
SELECT feature, status FROM galaxy.drift('sp_lin', 'sp_shift') WHERE feature IN ('a', 'b') ORDER BY feature;

-- a classifier's profile has its labels
CREATE TABLE m2 AS SELECT (galaxy.train('sp_cls', 'sp', 'flag', algorithm => 'logistic_regression',
       features => '{a,b}', hyperparams => '{"solver": "streaming"}')).*;
SELECT training_profile->'prediction'->>'kind' AS prediction_kind,
       (training_profile->>'rows')::int AS profile_rows
  FROM galaxy.models WHERE id = (SELECT id FROM m2);

-- a larger table is sampled, the same rows for the same seed
CREATE TABLE big (a float8, b float8, y float8);
INSERT INTO big SELECT g % 1000, (g * 7) % 113, 0 FROM generate_series(1, 150000) g;
UPDATE big SET y = a + 2 * b;
VACUUM ANALYZE big;
CREATE TABLE mb AS SELECT (galaxy.train('big_lin', 'big', 'y', algorithm => 'linear_regression',
       hyperparams => '{"solver": "streaming"}', seed => 5)).*;
CREATE TABLE mb2 AS SELECT (galaxy.train('big_lin', 'big', 'y', algorithm => 'linear_regression',
       hyperparams => '{"solver": "streaming"}', seed => 5)).*;
SELECT (g1.training_profile->>'rows')::int BETWEEN 3000 AND 10000 AS sampled,
       (g1.training_profile->>'rows')::int < 150000 AS fewer_than_all,
       g1.training_profile = g2.training_profile AS same_profile_same_seed
  FROM galaxy.models g1, galaxy.models g2
 WHERE g1.id = (SELECT id FROM mb) AND g2.id = (SELECT id FROM mb2);
SELECT feature, status FROM galaxy.drift('big_lin', 'big') ORDER BY feature;

-- with parallel workers, the same sample and so the same profile
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
CREATE TABLE mbp AS SELECT (galaxy.train('big_lin', 'big', 'y', algorithm => 'linear_regression',
       hyperparams => '{"solver": "streaming"}', seed => 5)).*;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SELECT g1.training_profile = g2.training_profile AS same_profile_parallel
  FROM galaxy.models g1, galaxy.models g2
 WHERE g1.id = (SELECT id FROM mb) AND g2.id = (SELECT id FROM mbp);

-- without statistics the pass starts at every row and raises its level past 32,768 rows
CREATE TABLE big_nostats (a float8, b float8, y float8) WITH (autovacuum_enabled = off);
INSERT INTO big_nostats SELECT a, b, y FROM big;
CREATE TABLE mn AS SELECT (galaxy.train('big_nostats', 'big_nostats', 'y', algorithm => 'linear_regression',
       hyperparams => '{"solver": "streaming"}', seed => 5)).*;
SELECT (training_profile->>'rows')::int BETWEEN 1000 AND 32768 AS bounded_sample
  FROM galaxy.models WHERE id = (SELECT id FROM mn);

-- a view has a profile too: drift needs no baseline relation
CREATE TABLE mv AS SELECT (galaxy.train('sp_view_lin', 'sp_view', 'y', algorithm => 'linear_regression',
       features => '{a,b,flag}', hyperparams => '{"solver": "streaming"}')).*;
SELECT training_profile IS NOT NULL AS has_profile, (metrics->>'profile_sample_rows')::int AS sample_rows
  FROM galaxy.models WHERE id = (SELECT id FROM mv);
SELECT feature, status FROM galaxy.drift('sp_view_lin', 'sp_view') WHERE feature IN ('a', 'b') ORDER BY feature;
