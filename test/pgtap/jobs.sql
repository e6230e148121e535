-- Background jobs: the SQL contract of galaxy.submit / cancel / wait, the
-- progress views and their errors.  Everything happens in one transaction
-- that is rolled back, so no job ever runs.
BEGIN;
SELECT plan(49);

CREATE TABLE public.jobs_pts AS
SELECT i AS id, (i % 7)::float8 AS x1, (3 * (i % 7) + 1)::float8 AS y FROM generate_series(1, 100) i;
CREATE ROLE galaxy_jobs_other LOGIN;
CREATE ROLE galaxy_jobs_nologin NOLOGIN;
GRANT galaxy_trainer TO galaxy_jobs_other, galaxy_jobs_nologin;
GRANT USAGE ON SCHEMA public TO galaxy_jobs_other, galaxy_jobs_nologin;
GRANT SELECT ON public.jobs_pts TO galaxy_jobs_nologin;

-- signatures
SELECT has_function('galaxy', 'submit',
    ARRAY['text', 'regclass', 'text', 'text', 'jsonb', 'double precision', 'text', 'jsonb', 'integer',
          'text', 'integer', 'text[]', 'jsonb', 'text', 'text', 'integer', 'text', 'text', 'bigint', 'integer', 'integer', 'interval'],
    'galaxy.submit takes train()''s arguments plus priority, retries, timeout');
SELECT function_returns('galaxy', 'submit',
    ARRAY['text', 'regclass', 'text', 'text', 'jsonb', 'double precision', 'text', 'jsonb', 'integer',
          'text', 'integer', 'text[]', 'jsonb', 'text', 'text', 'integer', 'text', 'text', 'bigint', 'integer', 'integer', 'interval'],
    'bigint', 'galaxy.submit returns the job id');
SELECT is(
    (SELECT array_to_string(proargnames[1:19], ',') FROM pg_proc WHERE oid = 'galaxy.submit(text, regclass, text, text, jsonb, float8, text, jsonb, integer, text, integer, text[], jsonb, text, text, integer, text, text, bigint, integer, integer, interval)'::regprocedure),
    (SELECT array_to_string(proargnames, ',') FROM pg_proc WHERE oid = 'galaxy.train(text, regclass, text, text, jsonb, float8, text, jsonb, integer, text, integer, text[], jsonb, text, text, integer, text, text, bigint)'::regprocedure),
    'submit''s leading argument names are train()''s');
SELECT is(
    (SELECT array_to_string(proargnames[20:22], ',') FROM pg_proc WHERE oid = 'galaxy.submit(text, regclass, text, text, jsonb, float8, text, jsonb, integer, text, integer, text[], jsonb, text, text, integer, text, text, bigint, integer, integer, interval)'::regprocedure),
    'priority,retries,timeout', 'submit''s own arguments');
SELECT ok(
    starts_with(pg_get_function_arguments('galaxy.submit(text, regclass, text, text, jsonb, float8, text, jsonb, integer, text, integer, text[], jsonb, text, text, integer, text, text, bigint, integer, integer, interval)'::regprocedure),
                pg_get_function_arguments('galaxy.train(text, regclass, text, text, jsonb, float8, text, jsonb, integer, text, integer, text[], jsonb, text, text, integer, text, text, bigint)'::regprocedure)),
    'submit''s leading defaults are train()''s');
SELECT has_function('galaxy', 'cancel', ARRAY['bigint'], 'galaxy.cancel(job bigint)');
SELECT ok((SELECT prorettype = 'galaxy.jobs'::regtype FROM pg_proc WHERE oid = 'galaxy.cancel(bigint)'::regprocedure),
    'galaxy.cancel returns a galaxy.jobs row');
SELECT has_function('galaxy', 'wait', ARRAY['bigint', 'interval'], 'galaxy.wait(job bigint, timeout interval)');
SELECT ok((SELECT prorettype = 'galaxy.jobs'::regtype FROM pg_proc WHERE oid = 'galaxy.wait(bigint, interval)'::regprocedure),
    'galaxy.wait returns a galaxy.jobs row');
SELECT has_function('galaxy_internal', 'progress_slots', 'galaxy_internal.progress_slots() (behind galaxy.training_progress)');
SELECT has_view('galaxy', 'training_progress', 'view galaxy.training_progress');
SELECT has_view('galaxy', 'jobs_overview', 'view galaxy.jobs_overview');
SELECT columns_are('galaxy', 'training_progress',
    ARRAY['job_id', 'project', 'algorithm', 'state', 'owner', 'pid', 'phase', 'iteration', 'total',
          'percent', 'progress_bar', 'rows', 'loss', 'val_loss', 'metric', 'learning_rate',
          'elapsed', 'eta', 'started_at', 'updated_at', 'rows_per_second'],
    'training_progress columns');
SELECT col_type_is('galaxy', 'training_progress', 'progress_bar', 'text', 'progress_bar is text');
SELECT col_type_is('galaxy', 'training_progress', 'eta', 'interval', 'eta is an interval');
SELECT col_type_is('galaxy', 'training_progress', 'loss', 'double precision', 'loss is float8');
SELECT has_column('galaxy', 'jobs_overview', 'error_message', 'jobs_overview has the error');
SELECT col_type_is('galaxy', 'jobs_overview', 'run_time', 'interval', 'run_time is an interval');
SELECT is((SELECT count(*)::int FROM pg_proc p
            WHERE p.proname IN ('submit', 'cancel', 'wait', 'progress_slots', 'progress_bar')
              AND p.pronamespace IN ('galaxy'::regnamespace, 'galaxy_internal'::regnamespace)
              AND obj_description(p.oid, 'pg_proc') IS NULL),
          0, 'every job function has a comment');
SELECT is(current_setting('galaxy.job_timeout'), '0', 'galaxy.job_timeout defaults to 0 (no limit)');

-- the progress bar
SELECT is(galaxy.progress_bar(35), '[#######.............] 35%', 'progress_bar(35)');
SELECT is(galaxy.progress_bar(100), '[####################] 100%', 'progress_bar(100)');
SELECT is(galaxy.progress_bar(0, 10), '[..........] 0%', 'progress_bar(0, width => 10)');
SELECT is(galaxy.progress_bar(NULL), NULL, 'no bar without a percent');

-- bad arguments fail at submit time
SELECT throws_ok($$SELECT galaxy.submit(NULL, 'public.jobs_pts', 'y')$$, '22004', NULL, 'NULL project');
SELECT throws_ok($$SELECT galaxy.submit('p', 'public.jobs_pts', 'y', algorithm => 'lineer')$$, '22023', NULL, 'misspelt algorithm');
SELECT throws_ok($$SELECT galaxy.submit('p', 'public.jobs_pts', 'y', algorithm => 'linear_regression', hyperparams => '{"alhpa": 1}')$$,
    '22023', NULL, 'misspelt hyperparameter');
SELECT throws_ok($$SELECT galaxy.submit('p', 'public.no_such_table', 'y')$$, '42P01', NULL, 'unknown relation');
SELECT throws_ok($$SELECT galaxy.submit('p', 'public.jobs_pts', 'y', retries => -1)$$, '22023',
    'retries must be between 0 and 100, got -1', 'negative retries');
SELECT throws_ok($$SELECT galaxy.submit('p', 'public.jobs_pts', 'y', timeout => '-1 s')$$, '22023',
    'timeout must be positive', 'negative timeout');
SELECT throws_ok($$SELECT galaxy.submit('p', 'public.jobs_pts', 'y', timeout => '0')$$, '22023',
    'timeout must be positive', 'zero timeout');
SELECT throws_ok($$SELECT galaxy.cancel(-1)$$, '42704', 'galaxy job -1 does not exist', 'cancel of an unknown job');
SELECT throws_ok($$SELECT galaxy.wait(-1)$$, '42704', 'galaxy job -1 does not exist', 'wait for an unknown job');

-- privileges: the caller's
SET ROLE galaxy_jobs_other;
SELECT throws_ok($$SELECT galaxy.submit('p', 'public.jobs_pts', 'y')$$, '42501', NULL,
    'a role that cannot read the relation cannot submit');
RESET ROLE;
SET ROLE galaxy_jobs_nologin;
SELECT throws_ok($$SELECT galaxy.submit('p', 'public.jobs_pts', 'y')$$, '28000', NULL,
    'a role that cannot log in cannot submit (its worker could not connect)');
RESET ROLE;

-- a queued job
SELECT lives_ok($$SELECT galaxy.submit('jobs_contract', 'public.jobs_pts', 'y', algorithm => 'linear_regression',
                                      features => ARRAY['x1'], priority => 3, retries => 2, timeout => '10 min')$$,
    'submit with every option');
SELECT is(
    (SELECT state || '|' || owner || '|' || priority || '|' || retries || '|' || timeout || '|' || (request ->> 'algorithm')
       FROM galaxy.jobs WHERE project = 'jobs_contract'),
    'queued|' || current_user || '|3|2|00:10:00|linear_regression',
    'the job is queued as the caller with its options and request');
SELECT is(
    (SELECT count(*)::int FROM galaxy.audit_log a JOIN galaxy.jobs j ON a.object_id = j.id::text
      WHERE a.object_type = 'job' AND a.action = 'submit' AND j.project = 'jobs_contract'),
    1, 'the submit is audited');
SELECT is(
    (SELECT state || '|' || phase FROM galaxy.training_progress WHERE project = 'jobs_contract'),
    'queued|queued', 'training_progress lists the queued job');
SELECT is(
    (SELECT state || '|' || algorithm || '|' || relation FROM galaxy.jobs_overview WHERE project = 'jobs_contract'),
    'queued|linear_regression|jobs_pts', 'jobs_overview lists the queued job');
SELECT throws_ok(
    format('SELECT galaxy.wait(%s)', (SELECT id FROM galaxy.jobs WHERE project = 'jobs_contract')),
    '55000', NULL, 'waiting for a job submitted in the same transaction is refused');
SELECT throws_ok(
    format('SELECT galaxy.wait(%s, %L)', (SELECT id FROM galaxy.jobs WHERE project = 'jobs_contract'), '-1 s'),
    '22023', 'timeout must not be negative', 'negative wait timeout');

SELECT id AS jid FROM galaxy.jobs WHERE project = 'jobs_contract' \gset
SET ROLE galaxy_jobs_other;
SELECT is((SELECT count(*)::int FROM galaxy.jobs_overview WHERE project = 'jobs_contract'), 0,
    'another role does not see the job');
SELECT throws_ok('SELECT galaxy.cancel(' || :jid || ')', '42501', NULL, 'another role cannot cancel the job');
SELECT throws_ok('SELECT galaxy.wait(' || :jid || ')', '42501', NULL, 'another role cannot wait for the job');
RESET ROLE;

SELECT is(
    (SELECT state || '|' || error_sqlstate FROM galaxy.cancel((SELECT id FROM galaxy.jobs WHERE project = 'jobs_contract'))),
    'cancelled|57014', 'the owner cancels a queued job at once');
SELECT is(
    (SELECT count(*)::int FROM galaxy.audit_log a JOIN galaxy.jobs j ON a.object_id = j.id::text
      WHERE a.object_type = 'job' AND a.action = 'cancel' AND j.project = 'jobs_contract'),
    1, 'the cancel is audited');
SELECT is(
    (SELECT state FROM galaxy.wait((SELECT id FROM galaxy.jobs WHERE project = 'jobs_contract'))),
    'cancelled', 'waiting for a finished job returns at once');
SELECT is(
    (SELECT state FROM galaxy.cancel((SELECT id FROM galaxy.jobs WHERE project = 'jobs_contract'))),
    'cancelled', 'cancelling a finished job changes nothing');

SELECT * FROM finish();
ROLLBACK;
