-- galaxy.train / predict error contract: every bad input is an ERROR with a
-- specific SQLSTATE and a message naming the culprit; the server never restarts.
BEGIN;
SELECT plan(44);

CREATE TABLE t_ok (a float8, b float8, c int, label text);
INSERT INTO t_ok SELECT g, g % 7, g % 3, CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END FROM generate_series(1, 60) g;
CREATE TABLE t_empty (a float8, label text);
CREATE TABLE t_one_class (a float8, label text);
INSERT INTO t_one_class SELECT g, 'same' FROM generate_series(1, 20) g;
CREATE TABLE t_nan (a float8, label text);
INSERT INTO t_nan SELECT CASE WHEN g = 5 THEN 'NaN'::float8 ELSE g END, (g % 2)::text FROM generate_series(1, 20) g;
CREATE TABLE t_inf (a float8, label text);
INSERT INTO t_inf SELECT CASE WHEN g = 5 THEN 'Infinity'::float8 ELSE g END, (g % 2)::text FROM generate_series(1, 20) g;
CREATE TABLE t_types (a float8, p point, label text);
INSERT INTO t_types SELECT g, point(g, g), (g % 2)::text FROM generate_series(1, 20) g;
CREATE TABLE t_arrays (v float8[], label text);
INSERT INTO t_arrays SELECT CASE WHEN g = 3 THEN ARRAY[1.0, 2.0, 3.0] ELSE ARRAY[g, g * 2.0] END, (g % 2)::text
FROM generate_series(1, 20) g;
CREATE TABLE t_secret (a float8, label text);
INSERT INTO t_secret SELECT g, (g % 2)::text FROM generate_series(1, 20) g;
CREATE ROLE galaxy_contract_nobody NOLOGIN;
GRANT USAGE ON SCHEMA public TO galaxy_contract_nobody;
GRANT SELECT ON t_ok TO galaxy_contract_nobody;

-- arguments
SELECT throws_ok($$SELECT galaxy.train(NULL, 't_ok', 'label')$$, '22004', NULL, 'NULL project');
SELECT throws_ok($$SELECT galaxy.train('no spaces please', 't_ok', 'label')$$, '22023', 'invalid project name "no spaces please"', 'bad project name');
SELECT throws_ok($$SELECT galaxy.train('p', 'no_such_table', 'label')$$, '42P01', NULL, 'unknown relation');
SELECT throws_ok($$SELECT galaxy.train('p', 't_ok', 'nope')$$, '42703', NULL, 'target missing');
SELECT throws_like($$SELECT galaxy.train('p', 't_ok', 'nope')$$, '%nope%', 'the message names the missing target');
SELECT throws_ok($$SELECT galaxy.train('p', 't_ok')$$, '22004', 'target must be given', 'no target');
SELECT throws_like($$SELECT galaxy.train('p', 't_ok', 'label', features => ARRAY['a', 'label'])$$, '%label%', 'target is a feature');
SELECT throws_ok($$SELECT galaxy.train('p', 't_ok', 'label', features => ARRAY['a', 'zzz'])$$, '42703', NULL, 'unknown feature column');
SELECT throws_ok($$SELECT galaxy.train('p', 't_ok', 'label', test_size => 1)$$, '22023', 'test_size must be in [0, 1), got 1', 'test_size >= 1');
SELECT throws_ok($$SELECT galaxy.train('p', 't_ok', 'label', test_size => -0.1)$$, '22023', NULL, 'negative test_size');
SELECT throws_ok($$SELECT galaxy.train('p', 't_ok', 'label', algorithm => 'magic')$$, '22023', 'unknown algorithm "magic"', 'unknown algorithm');
SELECT throws_ok($$SELECT galaxy.train('p', 't_ok', 'label', algorithm => 'linear_regression')$$, '22023', NULL, 'algorithm that does not support the task');
SELECT throws_ok($$SELECT galaxy.train('p', 't_ok', 'a', algorithm => 'linear_regression', hyperparams => '{"alpha": -1}')$$, '22023', NULL, 'negative alpha');
SELECT throws_like($$SELECT galaxy.train('p', 't_ok', 'a', algorithm => 'linear_regression', hyperparams => '{"alpha": -1}')$$, '%alpha%', 'the message names alpha');
SELECT throws_ok($$SELECT galaxy.train('p', 't_ok', 'a', algorithm => 'linear_regression', hyperparams => '{"lambda": 1}')$$, '22023', 'unknown hyperparameter "lambda" for algorithm linear_regression', 'unknown hyperparameter');
SELECT throws_ok($$SELECT galaxy.train('p', 't_ok', 'a', algorithm => 'linear_regression', hyperparams => '[1, 2]')$$, '22023', NULL, 'hyperparams not an object');
SELECT throws_ok($$SELECT galaxy.train('p', 't_ok', 'a', algorithm => 'linear_regression', hyperparams => '{"alpha": "big"}')$$, '22023', NULL, 'hyperparameter of the wrong JSON type');
SELECT throws_ok($$SELECT galaxy.train('p', 't_ok', 'a', hyperparams => '{bad json')$$, '22P02', NULL, 'malformed jsonb');
SELECT throws_ok($$SELECT galaxy.train('p', 't_ok', 'a', preprocess => '"minmax"')$$, '22023', NULL, 'preprocess not an object');
SELECT throws_ok($$SELECT galaxy.train('p', 't_ok', 'label', deploy => 'sometimes')$$, '22023', 'unknown deploy policy "sometimes"', 'unknown deploy policy');
SELECT throws_ok($$SELECT galaxy.train('p', 't_ok', 'label', folds => 1)$$, '22023', NULL, 'folds < 2');
SELECT throws_ok($$SELECT galaxy.train('p', 't_ok', 'label', search => 'grid')$$, '22023', 'a grid search needs an explicit algorithm', 'search needs an explicit algorithm');
SELECT throws_ok($$SELECT galaxy.train('p', 't_ok', 'label', task => 'telepathy')$$, '22023', 'unknown task "telepathy"', 'unknown task');

-- data
SELECT throws_like($$SELECT galaxy.train('p', 't_empty', 'label')$$, '%no rows%', 'empty table');
SELECT throws_like($$SELECT galaxy.train('p', 't_one_class', 'label')$$, '%label%', 'one class only names the target');
SELECT throws_like($$SELECT galaxy.train('p', 't_nan', 'label', algorithm => 'logistic_regression')$$, '%"a"%', 'NaN feature names the column');
SELECT throws_like($$SELECT galaxy.train('p', 't_inf', 'label', algorithm => 'logistic_regression')$$, '%"a"%', 'infinite feature names the column');
SELECT throws_ok($$SELECT galaxy.train('p', 't_types', 'label')$$, '42804', NULL, 'unsupported column type');
SELECT throws_like($$SELECT galaxy.train('p', 't_arrays', 'label')$$, '%"v"%', 'arrays of differing lengths name the column');

-- privileges: the caller's, not galaxy's
SET ROLE galaxy_contract_nobody;
SELECT throws_ok($$SELECT galaxy.train('p', 't_secret', 'label')$$, '42501', NULL, 'relation the caller cannot read');
RESET ROLE;

-- predict
SELECT throws_ok($$SELECT galaxy.predict('no_such_project', ARRAY[1.0])$$, '42704', NULL, 'unknown project');
SELECT lives_ok($$SELECT galaxy.train('contract', 't_ok', 'a', features => ARRAY['b', 'c'], algorithm => 'linear_regression')$$, 'a valid training works');
SELECT throws_ok($$SELECT galaxy.predict('contract', ARRAY[1.0])$$, '2202E', 'the model expects 2 features, got 1', 'wrong array length');
SELECT throws_ok($$SELECT galaxy.predict('contract', ARRAY[1.0, 'NaN']::float8[])$$, '22023', NULL, 'NaN feature at predict');

-- whole-row predict on a table runs as predict_columns (planner rewrite): a
-- reader may use it, and it still needs SELECT on every column of the row
CREATE ROLE galaxy_contract_reader NOLOGIN IN ROLE galaxy_reader;
CREATE ROLE galaxy_contract_cols NOLOGIN IN ROLE galaxy_reader;
GRANT USAGE ON SCHEMA public TO galaxy_contract_reader, galaxy_contract_cols;
GRANT SELECT ON t_ok TO galaxy_contract_reader;
GRANT SELECT (b, c) ON t_ok TO galaxy_contract_cols;
SELECT galaxy.grant_project('contract', 'galaxy_contract_reader');
SELECT galaxy.grant_project('contract', 'galaxy_contract_cols');
SET ROLE galaxy_contract_reader;
SELECT results_eq($$SELECT count(galaxy.predict('contract', t)) FROM t_ok t$$, ARRAY[60::bigint],
                  'a reader predicts from whole rows of a table');
RESET ROLE;
SET ROLE galaxy_contract_cols;
SELECT throws_ok($$SELECT galaxy.predict('contract', t) FROM t_ok t$$, '42501', NULL,
                 'whole-row predict needs SELECT on every column, as any whole-row reference');
SELECT results_eq($$SELECT count(galaxy.predict('contract', ARRAY[b, c])) FROM t_ok$$, ARRAY[60::bigint],
                  'the granted columns still predict as an array');
RESET ROLE;
SELECT results_eq($$SELECT count(*) FROM t_ok t WHERE galaxy.predict('contract', t) = galaxy.predict('contract', ARRAY[t.b, t.c])$$,
                  ARRAY[60::bigint], 'whole-row and array predictions agree');

-- one argument list: train's (TA_* in src/api/train.h, TA_NARGS = 15), and
-- submit's, which starts with the same arguments in the same order
SELECT is((SELECT array_length(proargnames, 1) FROM pg_proc
            WHERE proname = 'train' AND pronamespace = 'galaxy'::regnamespace ORDER BY pronargs DESC LIMIT 1),
          19, 'train takes the 19 arguments api/train.h''s TA_* enum names');
SELECT is((SELECT (proargnames)[1:19] FROM pg_proc
            WHERE proname = 'submit' AND pronamespace = 'galaxy'::regnamespace ORDER BY pronargs DESC LIMIT 1),
          (SELECT (proargnames)[1:19] FROM pg_proc
            WHERE proname = 'train' AND pronamespace = 'galaxy'::regnamespace ORDER BY pronargs DESC LIMIT 1),
          'submit starts with train''s arguments, in the same order and with the same names');
SELECT is((SELECT (proargtypes::oid[])[0:18] FROM pg_proc
            WHERE proname = 'submit' AND pronamespace = 'galaxy'::regnamespace ORDER BY pronargs DESC LIMIT 1),
          (SELECT (proargtypes::oid[])[0:18] FROM pg_proc
            WHERE proname = 'train' AND pronamespace = 'galaxy'::regnamespace ORDER BY pronargs DESC LIMIT 1),
          'and with the same types');

-- keys are never default features: primary key, identity and serial columns
CREATE TABLE public.tc_keyed (id serial PRIMARY KEY, code int GENERATED ALWAYS AS IDENTITY,
                              x float8, z float8, y float8);
INSERT INTO public.tc_keyed (x, z, y) SELECT g % 7, g % 5, 2 * (g % 7) + (g % 5) FROM generate_series(1, 200) g;
SELECT is((SELECT features FROM galaxy.train('tc_keyed', 'public.tc_keyed', 'y', 'linear_regression')),
          ARRAY['x', 'z'], 'train without features leaves out the primary key, identity and serial columns');
SELECT is((SELECT features FROM galaxy.train('tc_keyed', 'public.tc_keyed', 'y', 'linear_regression',
                                             features => ARRAY['id', 'x', 'z'])),
          ARRAY['id', 'x', 'z'], 'a key named in features is used');
SELECT is((SELECT features FROM galaxy.create_dataset('tc_keyed_ds', 'public.tc_keyed', 'y')),
          ARRAY['x', 'z'], 'create_dataset leaves the keys out too');

SELECT * FROM finish();
ROLLBACK;
