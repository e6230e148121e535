-- test/pgtap/monitoring.sql — monitoring contracts (issue #15): who may call
-- drift, set its thresholds and reset the inference statistics; what readers
-- see of the history and the statistics (row-level security); error codes.
-- Runs in a fresh database with pgtap and galaxy (scripts/check), as a superuser.
BEGIN;
SELECT plan(16);

CREATE ROLE mon_alice LOGIN IN ROLE galaxy_trainer;   -- owns the project
CREATE ROLE mon_rita LOGIN IN ROLE galaxy_reader;     -- granted read on it
CREATE ROLE mon_olga LOGIN IN ROLE galaxy_reader;     -- holds nothing on it
CREATE TABLE public.mon_points AS
SELECT i AS id, (i % 7)::float8 AS x1, (i % 11)::float8 AS x2, (3 * (i % 7) - 2 * (i % 11))::float8 AS y
  FROM generate_series(1, 300) i;
GRANT SELECT ON public.mon_points TO mon_alice, mon_rita, mon_olga;

SET LOCAL ROLE mon_alice;
SET LOCAL client_min_messages = warning;
SELECT galaxy.train('mon', 'public.mon_points', 'y', 'linear_regression');
SELECT galaxy.grant_project('mon', 'mon_rita', 'read');
RESET client_min_messages;
SELECT lives_ok($$SELECT * FROM galaxy.drift('mon', 'public.mon_points')$$, 'the owner computes drift');
SELECT lives_ok($$SELECT galaxy.set_drift_thresholds('mon', 0.2, 0.3)$$, 'the owner sets the thresholds');
SELECT throws_ok($$SELECT galaxy.reset_inference_stats()$$, '42501', NULL, 'a trainer may not reset the statistics');
RESET ROLE;

SET LOCAL ROLE mon_rita;
SELECT lives_ok($$SELECT * FROM galaxy.drift('mon', 'public.mon_points')$$, 'a reader with read on the project computes drift');
SELECT throws_ok($$SELECT galaxy.set_drift_thresholds('mon', 0.2, 0.3)$$, '42501', NULL,
                 'read does not set thresholds (deploy does)');
SELECT is((SELECT count(*)::int FROM galaxy.drift_history), 8, 'the reader sees the project''s drift history (two calls, three features and the predictions)');
SELECT is((SELECT psi_warning FROM galaxy.drift_thresholds), 0.2::float8, 'and its thresholds');
SELECT is((SELECT count(*)::int FROM galaxy.drift('mon', 'public.mon_points') WHERE status = 'ok'), 4,
          'the training data has not drifted');
RESET ROLE;
SELECT galaxy.reset_inference_stats();   -- training and drift predicted too
SET LOCAL ROLE mon_rita;
SELECT count(galaxy.predict('mon', p)) FROM public.mon_points p WHERE id <= 10;
SELECT is((SELECT calls FROM galaxy.inference_stats WHERE project = 'mon'), 10::bigint,
          'the reader sees the statistics of the project');
SELECT throws_ok($$SELECT galaxy.reset_inference_stats()$$, '42501', NULL, 'a reader may not reset them');
RESET ROLE;

SET LOCAL ROLE mon_olga;
SELECT throws_ok($$SELECT * FROM galaxy.drift('mon', 'public.mon_points')$$, '42501', NULL,
                 'no privilege on the project: no drift');
SELECT is((SELECT count(*)::int FROM galaxy.drift_history), 0, 'nor its history');
SELECT is((SELECT count(*)::int FROM galaxy.inference_stats), 0, 'nor its statistics');
SELECT ok(galaxy.prometheus() !~ 'project="mon"', 'nor its series in prometheus()');
RESET ROLE;

SELECT throws_ok($$SELECT * FROM galaxy.drift('mon', 'public.mon_points', psi_warning => 1, psi_drift => 0.5)$$,
                 '22023', NULL, 'thresholds out of order');
SELECT ok(galaxy.reset_inference_stats() >= 1, 'a superuser resets the statistics');

SELECT * FROM finish();
ROLLBACK;
