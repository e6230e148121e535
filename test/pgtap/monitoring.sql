-- test/pgtap/monitoring.sql — monitoring contracts (issue #15): who may call
-- drift, set its thresholds and reset the inference statistics; what readers
-- see of the history and the statistics (row-level security); error codes.
-- Runs in a fresh database with pgtap and galaxy (scripts/check), as a superuser.
BEGIN;
SELECT plan(22);

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

-- the relation's own privileges and policies hold, whichever way drift reads it
-- (a plain table directly, a view or a table with row-level security through the executor)
CREATE TABLE public.mon_secret AS SELECT * FROM public.mon_points;
CREATE TABLE public.mon_cols AS SELECT * FROM public.mon_points;
GRANT SELECT (id, x1, x2) ON public.mon_cols TO mon_rita;
CREATE TABLE public.mon_rls AS SELECT * FROM public.mon_points;
GRANT SELECT ON public.mon_rls TO mon_rita;
ALTER TABLE public.mon_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY mon_first ON public.mon_rls FOR SELECT USING (id <= 100);
CREATE VIEW public.mon_view AS SELECT * FROM public.mon_points;
GRANT SELECT ON public.mon_view TO mon_rita;
SET LOCAL ROLE mon_rita;
SELECT throws_ok($$SELECT * FROM galaxy.drift('mon', 'public.mon_secret', predictions => false)$$, '42501', NULL,
                 'no SELECT on the relation: no drift of it (direct read)');
SELECT throws_ok($$SELECT * FROM galaxy.drift('mon', 'public.mon_secret')$$, '42501', NULL,
                 'nor with the predictions (read through the executor)');
SELECT is((SELECT count(*)::int FROM galaxy.drift('mon', 'public.mon_cols', predictions => false)), 3,
          'SELECT on the feature columns alone is enough');
SELECT is((SELECT min(rows)::int FROM galaxy.drift('mon', 'public.mon_rls', predictions => false)), 100,
          'row-level security: drift sees only the rows the policy shows');
SELECT is((SELECT array_agg(psi ORDER BY feature) FROM galaxy.drift('mon', 'public.mon_points', predictions => false)),
          (SELECT array_agg(psi ORDER BY feature) FROM galaxy.drift('mon', 'public.mon_view', predictions => false)),
          'a table read directly and the same rows through a view give the same drift');
RESET ROLE;
SELECT is((SELECT min(rows)::int FROM galaxy.drift('mon', 'public.mon_rls', predictions => false)), 300,
          'a superuser sees every row');

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
