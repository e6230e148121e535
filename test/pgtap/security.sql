-- test/pgtap/security.sql — one check (or a few) per security finding of the
-- hostile review (issue 20) fixed in c73b3e6.  Each check failed on the code
-- before that commit (6fb7bf4); the finding's number is in the comments.
-- What needs several sessions (the project-creation race, the audit-chain
-- lock, one deployment snapshot per statement and per cursor, concurrent
-- deploys, training through submit()) is in test/t/033_deploy_snapshot.pl.
-- Runs in a fresh database with pgtap and galaxy (scripts/check), as a
-- superuser, with galaxy preloaded.
BEGIN;
SELECT plan(57);

SET LOCAL client_min_messages = warning;

-- ---------------------------------------------------------------------------
-- Fixtures
-- ---------------------------------------------------------------------------
-- run SQL: the first value of a query as text, 'ok' for a command, or
-- 'SQLSTATE | hint' of its error
CREATE FUNCTION pg_temp.sec_try(sql text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    st text;
    hint text;
BEGIN
    IF sql ~* '^\s*SELECT' THEN
        EXECUTE sql INTO st;
    ELSE
        EXECUTE sql;
    END IF;
    RETURN coalesce(st, 'ok');
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, hint = PG_EXCEPTION_HINT;
    RETURN st || ' | ' || coalesce(hint, '');
END
$f$;

-- noisy: r2 < 1; exact: the same law without noise, r2 = 1 (better)
CREATE TABLE public.sec_noisy AS
SELECT g AS id, (g % 7)::float8 AS x1, (g % 11)::float8 AS x2,
       (3 * (g % 7) - 2 * (g % 11) + 0.5 * sin(g))::float8 AS y
  FROM generate_series(1, 200) g;
CREATE TABLE public.sec_exact AS
SELECT g AS id, (g % 7)::float8 AS x1, (g % 11)::float8 AS x2,
       (3 * (g % 7) - 2 * (g % 11))::float8 AS y
  FROM generate_series(1, 200) g;

CREATE ROLE sec_owner NOLOGIN IN ROLE galaxy_trainer;      -- owns project sec_p
CREATE ROLE sec_trainer NOLOGIN IN ROLE galaxy_trainer;    -- holds only train on sec_p
CREATE ROLE sec_lead NOLOGIN IN ROLE galaxy_trainer;       -- requests deployments
CREATE ROLE sec_boss NOLOGIN IN ROLE galaxy_approver;      -- a member of sec_lead
CREATE ROLE sec_deputy NOLOGIN IN ROLE galaxy_approver;    -- sec_lead is a member of it
CREATE ROLE sec_ann NOLOGIN IN ROLE galaxy_approver;       -- unrelated to sec_lead
CREATE ROLE sec_reader NOLOGIN IN ROLE galaxy_reader;      -- column grants only
CREATE ROLE sec_colonly NOLOGIN IN ROLE galaxy_trainer;    -- no privilege on the target column
GRANT sec_lead TO sec_boss;
GRANT sec_deputy TO sec_lead;
GRANT SELECT ON sec_noisy, sec_exact TO sec_owner, sec_trainer, sec_lead;
GRANT SELECT (x1, x2, y) ON sec_noisy TO sec_reader;
GRANT SELECT (id, x1, x2) ON sec_noisy TO sec_colonly;

SET LOCAL SESSION AUTHORIZATION sec_owner;
CREATE TEMP TABLE sec_m0 AS
SELECT id FROM galaxy.train('sec_p', 'public.sec_noisy', 'y', 'linear_regression', features => ARRAY['x1', 'x2']);
GRANT SELECT ON sec_m0 TO PUBLIC;
SELECT galaxy.grant_project('sec_p', 'sec_trainer', 'train');
SELECT galaxy.grant_project('sec_p', 'sec_lead', 'deploy');
SELECT galaxy.grant_project('sec_p', 'sec_reader', 'read');
RESET SESSION AUTHORIZATION;
SELECT is(galaxy.deployed_model('sec_p'), (SELECT id FROM sec_m0), 'fixture: the first model serves sec_p');

-- ---------------------------------------------------------------------------
-- 1. The train privilege does not deploy: the model is registered, the
--    primary stays (the NOTICE is checked in 033_deploy_snapshot.pl)
-- ---------------------------------------------------------------------------
SET LOCAL SESSION AUTHORIZATION sec_trainer;
SELECT ok(galaxy.has_project_privilege('sec_p', 'train') AND NOT galaxy.has_project_privilege('sec_p', 'deploy'),
          'fixture: sec_trainer holds train but not deploy');
CREATE TEMP TABLE sec_t1 AS
SELECT id, status FROM galaxy.train('sec_p', 'public.sec_exact', 'y', 'linear_regression',
                                    features => ARRAY['x1', 'x2'], deploy => 'always');
GRANT SELECT ON sec_t1 TO PUBLIC;
CREATE TEMP TABLE sec_t2 AS
SELECT id, status, (metrics->>'r2')::float8 AS r2
  FROM galaxy.train('sec_p', 'public.sec_exact', 'y', 'linear_regression', features => ARRAY['x1', 'x2']);
GRANT SELECT ON sec_t2 TO PUBLIC;
RESET SESSION AUTHORIZATION;
SELECT is((SELECT status FROM sec_t1), 'ready', '1: deploy => ''always'' by a role with train only registers the model');
SELECT is(galaxy.deployed_model('sec_p'), (SELECT id FROM sec_m0),
          '1: ... and does not deploy it: the primary stays');
SELECT cmp_ok((SELECT r2 FROM sec_t2), '>',
              (SELECT (metrics->>'r2')::float8 FROM galaxy.models WHERE id = (SELECT id FROM sec_m0)),
              'fixture: the new model is better than the primary (so if_better would deploy it)');
SELECT is((SELECT status FROM sec_t2), 'ready', '1: deploy => ''if_better'' (the default) by a role with train only registers');
SELECT is(galaxy.deployed_model('sec_p'), (SELECT id FROM sec_m0), '1: ... and does not deploy either');
SELECT is((SELECT count(*)::int FROM galaxy.deployments
            WHERE project_id = (SELECT id FROM galaxy.projects WHERE name = 'sec_p')), 1,
          '1: no deployment row was written for the trainer''s models');
SET LOCAL SESSION AUTHORIZATION sec_owner;
CREATE TEMP TABLE sec_t3 AS
SELECT id FROM galaxy.train('sec_p', 'public.sec_exact', 'y', 'linear_regression',
                            features => ARRAY['x1', 'x2'], deploy => 'always');
GRANT SELECT ON sec_t3 TO PUBLIC;
RESET SESSION AUTHORIZATION;
SELECT is(galaxy.deployed_model('sec_p'), (SELECT id FROM sec_t3),
          '1: the owner (who holds deploy) still deploys by training');

-- ---------------------------------------------------------------------------
-- 5. Four eyes compares role membership, not names
-- ---------------------------------------------------------------------------
SET LOCAL SESSION AUTHORIZATION sec_lead;
CREATE TEMP TABLE sec_req AS SELECT galaxy.request_deployment((SELECT id FROM sec_t1), 'please') AS id;
CREATE TEMP TABLE sec_req2 AS SELECT galaxy.request_deployment((SELECT id FROM sec_t2), 'this one too') AS id;
GRANT SELECT ON sec_req, sec_req2 TO PUBLIC;
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION sec_boss;
SELECT throws_ok($$SELECT galaxy.approve((SELECT id FROM sec_req))$$, '42501', NULL,
                 '5: an approver who is a member of the requesting role cannot approve');
SELECT throws_ok($$SELECT galaxy.reject((SELECT id FROM sec_req))$$, '42501', NULL,
                 '5: ... nor reject');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION sec_deputy;
SELECT throws_ok($$SELECT galaxy.approve((SELECT id FROM sec_req))$$, '42501', NULL,
                 '5: an approver of whom the requester is a member cannot approve');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION sec_ann;
SELECT is((SELECT state FROM galaxy.approve((SELECT id FROM sec_req2), 'fine')), 'approved',
          '5: an unrelated approver approves');
RESET SESSION AUTHORIZATION;

-- ---------------------------------------------------------------------------
-- 8. has_project_privilege does not tell which projects exist
-- ---------------------------------------------------------------------------
SET LOCAL SESSION AUTHORIZATION sec_reader;
SELECT lives_ok($$SELECT galaxy.has_project_privilege('sec_no_such_project', 'read')$$,
                '8: has_project_privilege on a missing project raises no error');
SELECT is(pg_temp.sec_try($$SELECT galaxy.has_project_privilege('sec_no_such_project', 'read')$$), 'false',
          '8: ... and answers false, as for a project one cannot read');
SELECT is(galaxy.has_project_privilege('sec_p', 'train'), false, '8: an existing project without the privilege: false too');
RESET SESSION AUTHORIZATION;
SELECT is(pg_temp.sec_try($$SELECT galaxy.has_project_privilege('sec_no_such_project', 'deploy')$$), 'false',
          '8: false for a superuser as well');

-- ---------------------------------------------------------------------------
-- 12. Canaries: the primary cannot be its own canary; at most 7 canaries
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE sec_c AS
SELECT g, (SELECT id FROM galaxy.train('sec_c', 'public.sec_noisy', 'y', 'linear_regression',
                                       features => ARRAY['x1', 'x2'],
                                       hyperparams => jsonb_build_object('alpha', 10 * (g - 1)),
                                       deploy => 'never')) AS id
  FROM generate_series(1, 9) g;
SELECT is((SELECT model_id FROM galaxy.deploy('sec_c', (SELECT id FROM sec_c WHERE g = 1))),
          (SELECT id FROM sec_c WHERE g = 1), 'fixture: the first of nine models is the primary of sec_c');
SELECT throws_ok($$SELECT galaxy.deploy('sec_c', (SELECT id FROM sec_c WHERE g = 1), 0.5)$$, '22023', NULL,
                 '12: deploying the primary as a canary is refused');
SELECT is(galaxy.deployed_model('sec_c'), (SELECT id FROM sec_c WHERE g = 1), '12: the primary still serves');
SELECT results_eq($$SELECT model_id, traffic FROM galaxy.deployments
                     WHERE project_id = (SELECT id FROM galaxy.projects WHERE name = 'sec_c') AND retired_at IS NULL$$,
                  $$SELECT id, 1.0::float8 FROM sec_c WHERE g = 1$$,
                  '12: its deployment is untouched');
SELECT is(pg_temp.sec_try($$SELECT galaxy.predict('sec_c', ARRAY[1.0, 2.0]) IS NOT NULL$$), 'true',
          '12: the project keeps serving predictions');
SELECT is((SELECT model_id FROM galaxy.deploy('sec_c', (SELECT id FROM sec_c WHERE g = 1))),
          (SELECT id FROM sec_c WHERE g = 1), 'fixture: deploying the primary again is fine (and repairs the old state)');
SELECT lives_ok($$SELECT galaxy.deploy('sec_c', id, 0.05) FROM sec_c WHERE g BETWEEN 2 AND 8 ORDER BY g$$,
                '12: seven canaries are accepted');
SELECT throws_ok($$SELECT galaxy.deploy('sec_c', (SELECT id FROM sec_c WHERE g = 9), 0.05)$$, '54000', NULL,
                 '12: an eighth canary is refused');
SELECT is((SELECT count(*)::int FROM galaxy.deployments
            WHERE project_id = (SELECT id FROM galaxy.projects WHERE name = 'sec_c') AND retired_at IS NULL), 8,
          '12: the primary and seven canaries are active');
CREATE TEMP TABLE sec_c_pred AS
SELECT c.g, galaxy.predict(c.id, ARRAY[1.0, 2.0]) AS p FROM sec_c c WHERE g <= 8;
SELECT is((SELECT count(DISTINCT p)::int FROM sec_c_pred), 8, 'fixture: the eight deployed models predict differently');
-- 2000 keyed calls: how many came from no deployed model, and how many from the primary
SELECT is(pg_temp.sec_try($$
    SELECT count(*) FILTER (WHERE c.p IS NULL OR c.p NOT IN (SELECT p FROM sec_c_pred)) || ' ' ||
           (count(*) FILTER (WHERE c.p = (SELECT p FROM sec_c_pred WHERE g = 1)) > 1000)
      FROM (SELECT galaxy.predict('sec_c', ARRAY[1.0, 2.0], key => 'user-' || k) AS p
              FROM generate_series(1, 2000) k) c$$), '0 true',
          '12: with seven canaries every prediction comes from a deployed model, most from the primary (65 %)');

-- ---------------------------------------------------------------------------
-- 14. evaluate skips and counts NaN/Infinity targets
-- ---------------------------------------------------------------------------
CREATE TABLE public.sec_eval AS
SELECT x1, x2, CASE WHEN id % 10 = 0 THEN 'NaN'::float8 WHEN id % 10 = 5 THEN 'Infinity'::float8
                    WHEN id % 20 = 7 THEN '-Infinity'::float8 ELSE y END AS y
  FROM sec_noisy;
CREATE TABLE public.sec_eval_nan AS SELECT x1, x2, 'NaN'::float8 AS y FROM sec_noisy;
CREATE TEMP TABLE sec_ev AS SELECT galaxy.evaluate((SELECT id FROM sec_m0), 'public.sec_eval') AS r;
SELECT is((SELECT (r->>'rows_with_non_finite_target')::int FROM sec_ev), 50,
          '14: rows with a NaN or infinite target are counted');
SELECT is((SELECT (r->>'rows')::int FROM sec_ev), 150, '14: ... and skipped');
SELECT ok((SELECT (r->>'r2') IS NOT NULL AND (r->>'rmse') IS NOT NULL FROM sec_ev), '14: the metrics are not null');
SELECT ok((SELECT (r->>'rmse')::float8 < 1 FROM sec_ev), '14: ... and computed from the finite rows');
SELECT throws_ok($$SELECT galaxy.evaluate((SELECT id FROM sec_m0), 'public.sec_eval_nan')$$, '22000', NULL,
                 '14: every target NaN: 22000');

-- ---------------------------------------------------------------------------
-- 15. Clear errors
-- ---------------------------------------------------------------------------
-- submit resolves columns and privileges at submit time
SET LOCAL SESSION AUTHORIZATION sec_colonly;
SELECT throws_ok($$SELECT galaxy.submit('sec_col', 'public.sec_noisy', 'y', 'linear_regression',
                                        features => ARRAY['x1', 'x2'])$$, '42501', NULL,
                 '15: submit with a target column the caller may not read: 42501 at submit');
CREATE TEMP TABLE sec_tmp AS SELECT g::float8 AS x1, (g % 3)::float8 AS x2, (2 * g)::float8 AS y FROM generate_series(1, 50) g;
SELECT throws_ok($$SELECT galaxy.submit('sec_col', 'sec_tmp', 'y', 'linear_regression')$$, '0A000', NULL,
                 '15: submit on the caller''s temp table: 0A000 at submit');
RESET SESSION AUTHORIZATION;
SELECT throws_ok($$SELECT galaxy.submit('sec_col', 'public.sec_noisy', 'nope')$$, '42703', NULL,
                 '15: submit with an unknown target: 42703 at submit');
SELECT is((SELECT count(*)::int FROM galaxy.jobs WHERE project = 'sec_col'), 0, '15: no job was queued');

-- evaluate resolves columns itself, and needs only the columns it reads
CREATE TABLE public.sec_no_x2 AS SELECT id, x1, y FROM sec_noisy;
SELECT throws_ok($$SELECT galaxy.evaluate((SELECT id FROM sec_m0), 'public.sec_no_x2')$$, '42703',
                 'relation "sec_no_x2" has no column "x2"',
                 '15: evaluate on a relation without a model column: 42703 naming the column');
SET LOCAL SESSION AUTHORIZATION sec_reader;
SELECT lives_ok($$SELECT galaxy.evaluate((SELECT id FROM sec_m0), 'public.sec_noisy')$$,
                '15: evaluate works with column-level SELECT on the columns it needs');
SELECT is(pg_temp.sec_try($$SELECT galaxy.evaluate('sec_p', 'public.sec_noisy')->>'rows'$$), '200',
          '15: ... by project too, over every row');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION sec_colonly;
SELECT throws_ok($$SELECT galaxy.evaluate((SELECT id FROM sec_m0), 'public.sec_noisy')$$, '42501', NULL,
                 '15: evaluate without the privilege on a needed column: 42501');
RESET SESSION AUTHORIZATION;

-- empty features, dataset names
SELECT throws_ok($$SELECT galaxy.train('sec_f', 'public.sec_noisy', 'y', features => '{}')$$, '22023', NULL,
                 '15: train with features => ''{}'': 22023');
SELECT throws_ok($$SELECT galaxy.submit('sec_f', 'public.sec_noisy', 'y', features => '{}')$$, '22023', NULL,
                 '15: submit with features => ''{}'': 22023');
SELECT throws_ok($$SELECT galaxy.create_dataset(repeat('d', 10240), 'public.sec_noisy', 'y')$$, '22023', NULL,
                 '15: a 10 kB dataset name: 22023');
SELECT throws_ok($$SELECT galaxy.create_dataset((SELECT string_agg(md5(g::text), '') FROM generate_series(1, 320) g),
                                                'public.sec_noisy', 'y')$$, '22023', NULL,
                 '15: a 10 kB incompressible dataset name: 22023');
SELECT throws_ok($$SELECT galaxy.create_dataset(E'two\nlines', 'public.sec_noisy', 'y')$$, '22023', NULL,
                 '15: a dataset name with a newline: 22023');
SELECT is((SELECT count(*)::int FROM galaxy.datasets), 0, '15: no dataset was registered');

-- ---------------------------------------------------------------------------
-- 8: probing model ids does not reveal project names to a role without grants
-- ---------------------------------------------------------------------------
CREATE FUNCTION pg_temp.sec_err(sql text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    st text; msg text; det text; hint text;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
    RETURN st || ' | ' || msg || ' | ' || coalesce(det, '') || ' | ' || coalesce(hint, '');
END
$f$;
GRANT EXECUTE ON FUNCTION pg_temp.sec_err(text) TO PUBLIC;
CREATE ROLE nogrant_role NOLOGIN IN ROLE galaxy_trainer;
CREATE TEMP TABLE sec_probe AS SELECT min(id) AS id FROM galaxy.models;
GRANT SELECT ON sec_probe TO nogrant_role;
SET LOCAL ROLE nogrant_role;
SELECT alike(pg_temp.sec_err('SELECT galaxy.export_model((SELECT id FROM sec_probe))'),
             '42501 | permission denied to export galaxy model %', '8: export of a probed model id: 42501');
SELECT unalike(pg_temp.sec_err('SELECT galaxy.export_model((SELECT id FROM sec_probe))'),
               '%sec\_p%', '8: and the error names no project');
SELECT alike(pg_temp.sec_err('SELECT galaxy.predict((SELECT id FROM sec_probe), ARRAY[1.0, 2.0]::float8[])'),
             '42501 | permission denied to predict galaxy model %', '8: predict by a probed model id: 42501 naming only the model');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- 13: finite values whose mean or spread overflows are refused at training
-- (no model galaxy cannot read back is registered)
-- ---------------------------------------------------------------------------
CREATE TABLE public.sec_huge AS
SELECT g AS id, (1e306 * (1 + g % 7))::float8 AS x, (g % 7)::float8 AS y FROM generate_series(1, 300) g;
SELECT throws_ok($$SELECT galaxy.train('sec_huge', 'public.sec_huge', 'y', 'linear_regression', features => ARRAY['x'])$$,
                 '22003', NULL, '13: values around 1e306: 22003 at training');
SELECT is((SELECT count(*)::int FROM galaxy.projects WHERE name = 'sec_huge'), 0,
          '13: nothing was registered');

-- ---------------------------------------------------------------------------
-- DROP EXTENSION galaxy is refused while it holds models or audit rows
-- (last: on the old code the drop succeeds and takes galaxy away)
-- ---------------------------------------------------------------------------
SELECT alike(pg_temp.sec_try('DROP EXTENSION galaxy'), '2BP01 | %galaxy.allow_drop_with_data%',
            'DROP EXTENSION galaxy with models and audit rows: 2BP01 with a hint');
SELECT alike(pg_temp.sec_try('DROP SCHEMA galaxy CASCADE'), '2BP01 | %',
            'DROP SCHEMA galaxy CASCADE: 2BP01 too');
SELECT has_extension('galaxy', 'galaxy is still installed');
SET LOCAL galaxy.allow_drop_with_data = on;
SELECT lives_ok('DROP EXTENSION galaxy', 'with galaxy.allow_drop_with_data = on the drop succeeds (rolled back below)');
SELECT hasnt_extension('galaxy', 'galaxy is gone (until the ROLLBACK)');

SELECT * FROM finish();
ROLLBACK;
