-- test/pgtap/blas_threads.sql — a backend that trains starts no OpenBLAS
-- threads it does not use.  openblas_set_num_threads() restarts OpenBLAS's
-- thread pool in a forked process, and the idle pool thread spins for a
-- while after each use: galaxy calls it only when the count changes, and
-- keeps small work (a streamed fit's solve, logistic regression's score
-- blocks) on one thread whatever galaxy.blas_threads says.  The threads of
-- this backend are the entries of /proc/<pid>/task (Linux; galaxy is
-- preloaded by the test cluster, so the library was loaded before the fork).
BEGIN;
SELECT plan(7);

CREATE FUNCTION pg_temp.backend_threads() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM pg_ls_dir('/proc/' || pg_backend_pid() || '/task')
$$;

CREATE TABLE bt_points AS
SELECT i AS id, (i % 17)::float8 AS x1, ((i % 13) / 2.0)::float8 AS x2,
       (1.5 + 2 * (i % 17) - 3 * ((i % 13) / 2.0) + (i % 7) / 10.0)::float8 AS y,
       CASE WHEN 2 * (i % 17) - 3 * ((i % 13) / 2.0) > 0 THEN 'up' ELSE 'down' END AS c
  FROM generate_series(1, 3000) i;

SELECT is(pg_temp.backend_threads(), 1::bigint, 'a new backend has one thread');

SET LOCAL client_min_messages = warning;
SET LOCAL galaxy.blas_threads = 2;
SELECT lives_ok($$SELECT galaxy.train('bt_reg', relation => 'bt_points', target => 'y',
                                      algorithm => 'linear_regression', features => ARRAY['x1', 'x2'],
                                      hyperparams => '{"solver": "streaming"}')$$,
                'a streamed linear regression with galaxy.blas_threads = 2');
SELECT is(pg_temp.backend_threads(), 1::bigint,
          'a streamed linear regression (a 3 x 3 solve) starts no OpenBLAS thread, even with galaxy.blas_threads = 2');

SELECT lives_ok($$SELECT galaxy.train('bt_cls', relation => 'bt_points', target => 'c',
                                      algorithm => 'logistic_regression', features => ARRAY['x1', 'x2'])$$,
                'a logistic regression with galaxy.blas_threads = 2');
SELECT is(pg_temp.backend_threads(), 1::bigint,
          'logistic regression on 2,400 rows (score blocks of 2,048 x 2) starts no OpenBLAS thread');

RESET galaxy.blas_threads;
SELECT lives_ok($$SELECT galaxy.train('bt_reg', relation => 'bt_points', target => 'y',
                                      algorithm => 'linear_regression', features => ARRAY['x1', 'x2'])$$,
                'an in-memory linear regression with galaxy.blas_threads = 1');
SELECT is(pg_temp.backend_threads(), 1::bigint,
          'with galaxy.blas_threads = 1, an in-memory fit starts no OpenBLAS thread either');
RESET client_min_messages;

SELECT * FROM finish();
ROLLBACK;
