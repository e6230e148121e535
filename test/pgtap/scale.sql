-- test/pgtap/scale.sql — the scale-out contract (issue #18): the moments
-- aggregates are real, parallel-safe aggregates with a combine function over
-- a real type (what PostgreSQL's parallel query and Citus's pushdown need),
-- who may call what, and the streaming solver's refusals with their SQLSTATEs.
-- Runs in a fresh database with pgtap and galaxy (scripts/check), as a superuser.
BEGIN;
SELECT plan(62);

-- ---------------------------------------------------------------------------
-- Structure
-- ---------------------------------------------------------------------------
SELECT has_type('galaxy', 'moments', 'galaxy.moments exists');
SELECT is((SELECT typinput::text || ',' || typoutput::text || ',' || typreceive::text || ',' || typsend::text
             FROM pg_type WHERE oid = 'galaxy.moments'::regtype),
          'galaxy_internal.moments_in,galaxy_internal.moments_out,galaxy_internal.moments_recv,galaxy_internal.moments_send',
          'galaxy.moments has text and binary input and output');
SELECT is((SELECT typalign FROM pg_type WHERE oid = 'galaxy.moments'::regtype), 'd',
          'galaxy.moments is double aligned');
SELECT is((SELECT aggtranstype::regtype::text FROM pg_aggregate WHERE aggfnoid = 'galaxy.regression_moments'::regproc),
          'galaxy.moments', 'the state of regression_moments is galaxy.moments, not internal');
SELECT is((SELECT aggcombinefn::text FROM pg_aggregate WHERE aggfnoid = 'galaxy.regression_moments'::regproc),
          'galaxy_internal.moments_combine', 'regression_moments has a combine function');
SELECT is((SELECT aggcombinefn::text FROM pg_aggregate WHERE aggfnoid = 'galaxy_internal.split_moments'::regproc),
          'galaxy_internal.moments_combine', 'split_moments has a combine function');
SELECT is((SELECT aggcombinefn::text FROM pg_aggregate WHERE aggfnoid = 'galaxy_internal.split_moments_values'::regproc),
          'galaxy_internal.moments_combine', 'split_moments_values has a combine function');
SELECT is((SELECT proparallel FROM pg_proc WHERE oid = 'galaxy.regression_moments'::regproc), 's',
          'regression_moments is PARALLEL SAFE');
SELECT is((SELECT proparallel FROM pg_proc WHERE oid = 'galaxy_internal.split_moments'::regproc), 's',
          'split_moments is PARALLEL SAFE');
SELECT is((SELECT count(*)::int FROM pg_proc
            WHERE proname IN ('moments_accum', 'split_moments_accum', 'split_moments_values_accum', 'split_moments_values',
                              'moments_combine', 'moments_in', 'moments_out',
                              'moments_recv', 'moments_send', 'moments_ols', 'moments_summary')
              AND proparallel <> 's'), 0, 'every moments function is PARALLEL SAFE');
SELECT is((SELECT count(*)::int FROM pg_proc
            WHERE proname IN ('moments_ols', 'moments_summary', 'moments_in', 'moments_out') AND provolatile <> 'i'),
          0, 'the moments readers are IMMUTABLE');
SELECT function_returns('galaxy', 'moments_ols', ARRAY['galaxy.moments', 'double precision', 'boolean'], 'double precision[]',
                        'moments_ols returns float8[]');
SELECT function_returns('galaxy', 'moments_summary', ARRAY['galaxy.moments'], 'jsonb', 'moments_summary returns jsonb');

-- ---------------------------------------------------------------------------
-- Privileges: readers aggregate and solve; PUBLIC only reads the type
-- ---------------------------------------------------------------------------
SELECT ok(has_function_privilege('galaxy_reader', 'galaxy.regression_moments(float8, float8[])', 'EXECUTE'),
          'galaxy_reader may run regression_moments');
SELECT ok(has_function_privilege('galaxy_reader', 'galaxy.moments_ols(galaxy.moments, float8, boolean)', 'EXECUTE'),
          'galaxy_reader may run moments_ols');
SELECT ok(NOT has_function_privilege('public', 'galaxy.moments_ols(galaxy.moments, float8, boolean)', 'EXECUTE'),
          'PUBLIC may not run moments_ols');
SELECT ok(has_function_privilege('public', 'galaxy_internal.moments_in(cstring)', 'EXECUTE'),
          'PUBLIC may read galaxy.moments text (type I/O)');

CREATE ROLE scale_reader NOLOGIN IN ROLE galaxy_reader;
CREATE ROLE scale_nobody NOLOGIN;
CREATE TABLE scale_pts AS SELECT i::float8 AS x, 2 * i + 1::float8 AS y FROM generate_series(1, 100) i;
GRANT SELECT ON scale_pts TO scale_reader, scale_nobody;
SET LOCAL ROLE scale_reader;
SELECT is((SELECT round(c[2]::numeric, 6) FROM (SELECT galaxy.moments_ols(galaxy.regression_moments(y, ARRAY[x])) c FROM scale_pts) s),
          2.000000, 'a reader fits OLS over a table it may read');
RESET ROLE;
SET LOCAL ROLE scale_nobody;
SELECT throws_ok($$SELECT galaxy.moments_ols(galaxy.regression_moments(y, ARRAY[x])) FROM scale_pts$$, '42501', NULL,
                 'a role without galaxy''s roles may not aggregate');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- Error codes
-- ---------------------------------------------------------------------------
SELECT throws_ok($$SELECT 'GMO1:zz'::galaxy.moments$$, '22P02', NULL, 'a non-hexadecimal state is 22P02');
SELECT throws_ok($$SELECT 'GMO1:474d4f3100000002'::galaxy.moments$$, '22P03', NULL, 'a truncated state is 22P03');
SELECT throws_ok($$SELECT galaxy.regression_moments(y, ARRAY[x, NULL]) FROM (VALUES (1::float8, 'NaN'::float8)) v(y, x)$$,
                 '22000', NULL, 'a NaN feature is 22000');
SELECT throws_ok($$SELECT galaxy.train('scale_bad', 'scale_pts', 'y', algorithm => 'linear_regression',
                                      hyperparams => '{"solver": "streaming"}', folds => 3)$$,
                 '0A000', NULL, 'streaming with folds is 0A000');
SELECT throws_ok($$SELECT galaxy.train('scale_bad', 'scale_pts', 'y', algorithm => 'linear_regression',
                                      hyperparams => '{"solver": "sideways"}')$$,
                 '22023', NULL, 'an unknown solver is 22023');
SELECT is((SELECT metrics->>'solver' FROM galaxy.train('scale_ok', 'scale_pts', 'y', algorithm => 'linear_regression',
                                                       hyperparams => '{"solver": "streaming"}', test_size => 0)),
          'streaming', 'a streaming fit says so in its metrics');


-- ---------------------------------------------------------------------------
-- galaxy.newton: logistic_regression's Newton pass
-- ---------------------------------------------------------------------------
SELECT is((SELECT typinput::text || ',' || typoutput::text || ',' || typreceive::text || ',' || typsend::text || ',' || typalign::text
             FROM pg_type WHERE oid = 'galaxy.newton'::regtype),
          'galaxy_internal.newton_in,galaxy_internal.newton_out,galaxy_internal.newton_recv,galaxy_internal.newton_send,d',
          'galaxy.newton has text and binary input and output, double aligned');
SELECT is((SELECT string_agg(aggtranstype::regtype::text || '/' || aggcombinefn::text, ',' ORDER BY aggfnoid::text)
             FROM pg_aggregate WHERE aggfnoid IN ('galaxy_internal.logistic_pass'::regproc, 'galaxy_internal.logistic_pass_array'::regproc)),
          'galaxy.newton/galaxy_internal.newton_combine,galaxy.newton/galaxy_internal.newton_combine',
          'the logistic passes aggregate into galaxy.newton with a combine function');
SELECT is((SELECT count(*)::int FROM pg_proc
            WHERE proname IN ('logistic_pass', 'logistic_pass_array', 'logistic_pass_accum', 'logistic_pass_array_accum',
                              'newton_combine', 'newton_in', 'newton_out', 'newton_recv', 'newton_send')
              AND proparallel <> 's'), 0, 'every newton function is PARALLEL SAFE');
SELECT ok(has_function_privilege('galaxy_reader', 'galaxy_internal.logistic_pass(float8, int8, float8, float8[], "any")', 'EXECUTE'),
          'galaxy_reader may run the logistic pass');
SELECT ok(NOT has_function_privilege('public', 'galaxy_internal.logistic_pass(float8, int8, float8, float8[], "any")', 'EXECUTE'),
          'PUBLIC may not run the logistic pass');
SELECT throws_ok($$SELECT 'GNS1:zz'::galaxy.newton$$, '22P02', NULL, 'a non-hexadecimal newton state is 22P02');
SELECT throws_ok($$SELECT 'GNS1:474e533100000001'::galaxy.newton$$, '22P03', NULL, 'a truncated newton state is 22P03');
SELECT throws_ok($$SELECT galaxy_internal.logistic_pass(0.5, 1, 0, ARRAY[1, 1, 0, 0, 0, 1, 0]::float8[], 1::float8)$$,
                 '22000', NULL, 'a target other than 0 or 1 is 22000');
CREATE TABLE scale_cls AS SELECT i::float8 AS x, (i % 3)::text AS c3, i > 50 AS c2 FROM generate_series(1, 100) i;
SELECT is((SELECT metrics->>'solver' || '/' || jsonb_array_length(metrics->'confusion_matrix') || '/' || (metrics ? 'roc_auc')
             FROM galaxy.train('scale_cls3', 'scale_cls', 'c3', algorithm => 'logistic_regression', features => ARRAY['x'],
                               hyperparams => '{"solver": "streaming"}', test_size => 0)),
          'streaming/3/true', 'streaming logistic regression fits three classes, with roc_auc');
SELECT is((SELECT metrics->>'solver' FROM galaxy.train('scale_cls_ok', 'scale_cls', 'c2', algorithm => 'logistic_regression',
                                                       features => ARRAY['x'], hyperparams => '{"solver": "streaming"}', test_size => 0)),
          'streaming', 'a streaming logistic fit says so in its metrics');
SELECT is((SELECT metrics->>'solver' FROM galaxy.train('scale_cls_ok', 'scale_cls', 'c2', algorithm => 'logistic_regression',
                                                       features => ARRAY['x'], test_size => 0)),
          NULL, 'a small table trains in memory with "auto"');

-- ---------------------------------------------------------------------------
-- naive_bayes's scoring pass and kmeans's Lloyd pass (float8[] states)
-- ---------------------------------------------------------------------------
SELECT is((SELECT string_agg(aggfnoid::text || ':' || aggtranstype::regtype::text || '/' || aggcombinefn::text, ',' ORDER BY aggfnoid::text)
             FROM pg_aggregate WHERE aggfnoid::text IN ('galaxy_internal.nb_score', 'galaxy_internal.nb_score_array',
                                                         'galaxy_internal.kmeans_pass', 'galaxy_internal.kmeans_pass_array')),
          'galaxy_internal.kmeans_pass:double precision[]/galaxy_internal.pass_combine,'
          'galaxy_internal.kmeans_pass_array:double precision[]/galaxy_internal.pass_combine,'
          'galaxy_internal.nb_score:double precision[]/galaxy_internal.pass_combine,'
          'galaxy_internal.nb_score_array:double precision[]/galaxy_internal.pass_combine',
          'the passes aggregate into float8[] with one combine function');
SELECT is((SELECT count(*)::int FROM pg_proc
            WHERE proname IN ('nb_score', 'nb_score_array', 'nb_score_accum', 'nb_score_array_accum', 'kmeans_pass',
                              'kmeans_pass_array', 'kmeans_pass_accum', 'kmeans_pass_array_accum', 'pass_combine',
                              'stream_sample_key', 'stream_sample_key_array')
              AND pronamespace = 'galaxy_internal'::regnamespace AND proparallel = 's'), 11,
          'every pass function is PARALLEL SAFE');
SELECT ok(has_function_privilege('galaxy_reader', 'galaxy_internal.kmeans_pass(int8, float8, float8[], "any")', 'EXECUTE')
          AND has_function_privilege('galaxy_reader', 'galaxy_internal.stream_sample_key(int8, float8, int4, "any")', 'EXECUTE'),
          'galaxy_reader may run the k-means pass and its sample');
SELECT ok(NOT has_function_privilege('public', 'galaxy_internal.nb_score(float8, int8, float8, float8[], "any")', 'EXECUTE')
          AND NOT has_function_privilege('public', 'galaxy_internal.stream_sample_key(int8, float8, int4, "any")', 'EXECUTE'),
          'PUBLIC may not run the passes');
SELECT throws_ok($$SELECT galaxy_internal.pass_combine('{20034,2,0,1}', '{20034,2,0,1}')$$, '22023', NULL,
                 'a malformed pass state is 22023');
SELECT throws_ok($$SELECT galaxy_internal.kmeans_pass(1, 0, '{1,1,0,NaN,1,0}', 1::float8)$$, '22023', NULL,
                 'non-finite centres are 22023');
SELECT throws_ok($$SELECT galaxy_internal.nb_score(5, 1, 0, '{2,1,0,1e-9,1,0,1,0,0,1,0,5,5,0,1,2,3}', 1::float8)$$, '22000', NULL,
                 'a class index out of range is 22000');
SELECT throws_ok($$SELECT galaxy.train('scale_bad', 'scale_cls', 'c3', algorithm => 'naive_bayes', features => ARRAY['x'],
                                      hyperparams => '{"solver": "streaming", "distribution": "bernoulli"}')$$,
                 '0A000', NULL, 'streaming bernoulli naive Bayes is 0A000');
SELECT is((SELECT metrics->>'solver' || '/' || (metrics->>'passes') FROM galaxy.train('scale_nb_ok', 'scale_cls', 'c3', algorithm => 'naive_bayes',
                                                       features => ARRAY['x'], hyperparams => '{"solver": "streaming"}', test_size => 0)),
          'streaming/2', 'streaming naive Bayes on three classes makes two passes');
SELECT throws_ok($$SELECT galaxy.train('scale_bad', 'scale_cls', NULL, algorithm => 'kmeans', task => 'clustering', features => ARRAY['x'],
                                      hyperparams => '{"solver": "streaming", "batch_size": 10}')$$,
                 '0A000', NULL, 'streaming mini-batch k-means is 0A000');
SELECT is((SELECT metrics->>'solver' FROM galaxy.train('scale_km_ok', 'scale_cls', NULL, algorithm => 'kmeans', task => 'clustering',
                                                       features => ARRAY['x'], hyperparams => '{"solver": "streaming", "n_clusters": 2}', test_size => 0)),
          'streaming', 'a streaming k-means fit says so in its metrics');


-- ---------------------------------------------------------------------------
-- multinomial logistic regression's Newton pass and the scores of roc_auc
-- ---------------------------------------------------------------------------
SELECT is((SELECT string_agg(aggfnoid::text || ':' || aggtranstype::regtype::text || '/' || aggcombinefn::text || '/' || aggfinalfn::text,
                             ',' ORDER BY aggfnoid::text)
             FROM pg_aggregate WHERE aggfnoid::text IN ('galaxy_internal.softmax_pass', 'galaxy_internal.softmax_pass_array')),
          'galaxy_internal.softmax_pass:double precision[]/galaxy_internal.pass_combine/galaxy_internal.softmax_pass_final,'
          'galaxy_internal.softmax_pass_array:double precision[]/galaxy_internal.pass_combine/galaxy_internal.softmax_pass_final',
          'the softmax pass aggregates into float8[] with the passes'' combine function and a final function');
SELECT is((SELECT count(*)::int FROM pg_proc
            WHERE proname IN ('softmax_pass', 'softmax_pass_array', 'softmax_pass_accum', 'softmax_pass_array_accum',
                              'softmax_pass_final', 'logistic_proba', 'logistic_proba_array', 'nb_proba', 'nb_proba_array')
              AND pronamespace = 'galaxy_internal'::regnamespace AND proparallel = 's'), 9,
          'every softmax pass and scoring function is PARALLEL SAFE');
SELECT ok(has_function_privilege('galaxy_reader', 'galaxy_internal.softmax_pass(float8, int8, float8, float8[], "any")', 'EXECUTE')
          AND NOT has_function_privilege('public', 'galaxy_internal.softmax_pass(float8, int8, float8, float8[], "any")', 'EXECUTE')
          AND NOT has_function_privilege('public', 'galaxy_internal.logistic_proba(float8, int8, float8, int4, float8[], "any")', 'EXECUTE'),
          'galaxy_reader may run the softmax pass, PUBLIC may not');
SELECT throws_ok($$SELECT galaxy_internal.pass_combine('{21325,3,1}', '{21325,3,1}')$$, '22023', NULL,
                 'a malformed softmax pass state is 22023');
SELECT throws_ok($$SELECT galaxy_internal.softmax_pass_final(array_fill(0::float8, ARRAY[2]) || '{21325,3,1}'::float8[])$$, '22023', NULL,
                 'a state that is not a softmax pass state is 22023 in the final function');
SELECT throws_ok($$SELECT galaxy_internal.softmax_pass(1, 1, 0, ARRAY[200, 5]::float8[] || array_fill(1::float8, ARRAY[1415]),
                                                     1::float8, 2::float8, 3::float8, 4::float8, 5::float8)$$,
                 '54000', NULL, 'a point of more parameters than a Hessian takes is 54000');
SELECT throws_ok($$SELECT galaxy_internal.softmax_pass(3, 1, 0, '{3,1,1,1,1,0,0,0,0,0,0,0,1,0}'::float8[], 1::float8)$$,
                 '22000', NULL, 'a class index out of range is 22000');
SELECT throws_ok($$SELECT galaxy_internal.logistic_proba(1, 1, 0, 0, '{2,1,0,1,0,NaN,0}'::float8[], 1::float8)$$,
                 '22023', NULL, 'a non-finite model of logistic_proba is 22023');
SELECT throws_ok($$SELECT galaxy_internal.nb_proba(1, 1, 0, 0, '{2,1,0,1e-9,1,0,1,0,0,0,0,5,5,0,1,2,3}', 1::float8)$$, '22023', NULL,
                 'a model of nb_proba with a zero scale is 22023');
CREATE TABLE scale_many AS SELECT i::float8 AS x, (i % 11)::float8 AS x2, (i % 7)::float8 AS x3, (i % 5)::float8 AS x4,
                                 (i % 3)::float8 AS x5, (i % 200)::text AS c FROM generate_series(1, 600) i;
SELECT throws_ok($$SELECT galaxy.train('scale_bad', 'scale_many', 'c', algorithm => 'logistic_regression',
                                      hyperparams => '{"solver": "streaming"}')$$,
                 '0A000', NULL, 'streaming logistic regression with more parameters than a Hessian takes is 0A000');

-- ---------------------------------------------------------------------------
-- galaxy's own catalog statements plan serially, whatever the session allows:
-- a trigger on the audit log records what its INSERT ran under
-- ---------------------------------------------------------------------------
CREATE TABLE public.scale_guc_seen (setting text);
GRANT INSERT ON public.scale_guc_seen TO PUBLIC;
CREATE FUNCTION public.scale_guc_record() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    INSERT INTO public.scale_guc_seen VALUES (current_setting('max_parallel_workers_per_gather'));
    RETURN NEW;
END $f$;
CREATE TRIGGER scale_guc_record AFTER INSERT ON galaxy.audit_log
    FOR EACH ROW EXECUTE FUNCTION public.scale_guc_record();
CREATE TABLE public.scale_guc_data AS
SELECT g::float8 AS x, (2 * g + 1)::float8 AS y FROM generate_series(1, 200) g;
SET LOCAL max_parallel_workers_per_gather = 3;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SELECT ok((SELECT version FROM galaxy.train('scale_guc', 'public.scale_guc_data', 'y', 'linear_regression',
                                            hyperparams => '{"solver": "streaming"}')) IS NOT NULL,
          'a streaming training in a session that forces parallel plans');
SELECT is((SELECT array_agg(DISTINCT setting) FROM public.scale_guc_seen), ARRAY['0'],
          'its audit rows were written with max_parallel_workers_per_gather = 0 (catalog statements plan serially)');
SELECT is(current_setting('max_parallel_workers_per_gather'), '3',
          'and the session''s own setting is back afterwards');
DROP TRIGGER scale_guc_record ON galaxy.audit_log;
-- a pass that fails (a NaN feature) under a caller that catches the error: the pass's own setting
-- (parallel_leader_participation off when the workers reach the CPUs) does not outlive it
SET LOCAL max_parallel_workers_per_gather = 64;
CREATE TABLE public.scale_guc_nan AS
SELECT CASE WHEN g = 150 THEN 'NaN'::float8 ELSE g::float8 END AS x, (2 * g + 1)::float8 AS y
  FROM generate_series(1, 200) g;
CREATE FUNCTION pg_temp.scale_guc_caught() RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
    PERFORM galaxy.train('scale_guc_nan', 'public.scale_guc_nan', 'y', 'linear_regression',
                         hyperparams => '{"solver": "streaming"}');
    RETURN 'trained';
EXCEPTION WHEN data_exception THEN
    RETURN SQLSTATE;
END $f$;
SELECT is(pg_temp.scale_guc_caught(), '22000', 'a streamed pass over a NaN feature fails with 22000, caught by the caller');
SELECT is(current_setting('parallel_leader_participation'), 'on',
          'parallel_leader_participation is the session''s again after the failed pass');
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET min_parallel_table_scan_size;

SELECT * FROM finish();
ROLLBACK;
