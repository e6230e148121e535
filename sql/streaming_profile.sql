--
-- A streamed model's training profile (the drift baseline): from a sample
-- of the relation's blocks (TABLESAMPLE SYSTEM ... REPEATABLE (seed)), so
-- galaxy.drift(project, relation) needs no baseline relation; none for a
-- view, which cannot be sampled so.
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

-- a larger table is sampled by blocks, the same blocks for the same seed
CREATE TABLE big (a float8, b float8, y float8);
INSERT INTO big SELECT g % 1000, (g * 7) % 113, 0 FROM generate_series(1, 150000) g;
UPDATE big SET y = a + 2 * b;
VACUUM ANALYZE big;
CREATE TABLE mb AS SELECT (galaxy.train('big_lin', 'big', 'y', algorithm => 'linear_regression',
       hyperparams => '{"solver": "streaming"}', seed => 5)).*;
CREATE TABLE mb2 AS SELECT (galaxy.train('big_lin', 'big', 'y', algorithm => 'linear_regression',
       hyperparams => '{"solver": "streaming"}', seed => 5)).*;
SELECT (g1.training_profile->>'rows')::int BETWEEN 6000 AND 20000 AS sampled,
       (g1.training_profile->>'rows')::int < 150000 AS fewer_than_all,
       g1.training_profile = g2.training_profile AS same_profile_same_seed
  FROM galaxy.models g1, galaxy.models g2
 WHERE g1.id = (SELECT id FROM mb) AND g2.id = (SELECT id FROM mb2);
SELECT feature, status FROM galaxy.drift('big_lin', 'big') ORDER BY feature;

-- a view cannot be sampled by blocks: no profile, drift takes a baseline relation
CREATE TABLE mv AS SELECT (galaxy.train('sp_view_lin', 'sp_view', 'y', algorithm => 'linear_regression',
       features => '{a,b,flag}', hyperparams => '{"solver": "streaming"}')).*;
SELECT training_profile IS NULL AS no_profile, metrics ? 'profile_sample_rows' AS sampled
  FROM galaxy.models WHERE id = (SELECT id FROM mv);
SELECT count(*) AS drift_rows FROM galaxy.drift('sp_view_lin', 'sp', 'sp_view');
