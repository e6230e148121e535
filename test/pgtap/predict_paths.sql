-- test/pgtap/predict_paths.sql — galaxy.predict's input paths agree.
--
-- A table of float8 columns for numeric inputs takes the one-pass path
-- (preprocess_float8_apply: whole-row predict rewritten to the columns form,
-- and a row value that is not a table's); positional input (ARRAY[...],
-- jsonb) takes the two steps (raw row, then preprocess_apply_raw).  Both
-- must give the same predictions bit for bit, with scaled and unscaled
-- (tree) preprocessing, imputed NULLs, and the same errors in the same order:
-- a non-finite value is reported before a NULL that impute "error" refuses.
BEGIN;
SELECT plan(9);

SET LOCAL client_min_messages = warning;

CREATE TABLE pp_train AS
SELECT g AS id, (g % 7)::float8 AS x1, (g % 11)::float8 - 5 AS x2, sin(g)::float8 AS x3,
       CASE WHEN (g % 7) + sin(g) > 3 THEN 1 ELSE 0 END AS y
  FROM generate_series(1, 200) g;
-- every third x2 missing, every fifth x3
CREATE TABLE pp_rows AS
SELECT id, x1, CASE WHEN id % 3 = 0 THEN NULL ELSE x2 END AS x2,
       CASE WHEN id % 5 = 0 THEN NULL ELSE x3 END AS x3, y
  FROM pp_train;

SELECT id AS lr FROM galaxy.train('pp_lr', 'pp_train', 'y', 'logistic_regression', test_size => 0,
                                  deploy => 'never', features => ARRAY['x1', 'x2', 'x3']) \gset
SELECT id AS gb FROM galaxy.train('pp_gb', 'pp_train', 'y', 'gradient_boosting',
                                  '{"n_estimators": 10, "max_depth": 3}', test_size => 0, deploy => 'never',
                                  features => ARRAY['x1', 'x2', 'x3']) \gset
SELECT id AS lre FROM galaxy.train('pp_lre', 'pp_train', 'y', 'logistic_regression', test_size => 0,
                                   deploy => 'never', features => ARRAY['x1', 'x2', 'x3'],
                                   preprocess => '{"impute": "error"}') \gset

SELECT is((SELECT count(*) FROM pp_rows t
            WHERE galaxy.predict_proba(:lr::bigint, t) IS DISTINCT FROM
                  galaxy.predict_proba(:lr::bigint, ARRAY[x1, x2, x3])), 0::bigint,
          'scaled model: whole-row and array input give the same probabilities, NULLs imputed');
SELECT is((SELECT count(*) FROM pp_rows t
            WHERE galaxy.predict_proba(:gb::bigint, t) IS DISTINCT FROM
                  galaxy.predict_proba(:gb::bigint, ARRAY[x1, x2, x3])), 0::bigint,
          'unscaled (tree) model: whole-row and array input give the same probabilities, NULLs imputed');
SELECT is((SELECT count(*) FROM (SELECT x3, x1, x2, y FROM pp_rows OFFSET 0) s
            WHERE galaxy.predict(:lr::bigint, s) IS DISTINCT FROM
                  galaxy.predict(:lr::bigint, jsonb_build_array(x1, x2, x3))), 0::bigint,
          'a row value that is not a table''s (columns in another order) gives the same as jsonb input');
SELECT is((SELECT sum(galaxy.predict(:gb::bigint, t)) FROM pp_rows t),
          (SELECT sum(galaxy.predict(:gb::bigint, ARRAY[x1, x2, x3])) FROM pp_rows),
          'the same classes by table and by array');

-- errors: the same codes and order as the two-step path
CREATE TABLE pp_bad (x1 float8, x2 float8, x3 float8, y int);
INSERT INTO pp_bad VALUES (NULL, 'NaN', 1, 0);
SELECT throws_ok(format('SELECT galaxy.predict(%s::bigint, t) FROM pp_bad t', :lre), '22023',
                 'column "x2" contains NaN, which is not a valid feature value',
                 'NaN is reported before a NULL that impute "error" refuses');
SELECT throws_ok(format('SELECT galaxy.predict(%s::bigint, t) FROM pp_bad t', :lr), '22023',
                 'column "x2" contains NaN, which is not a valid feature value',
                 'NaN in an imputed model is an ERROR naming the column');
UPDATE pp_bad SET x2 = 1;
SELECT throws_ok(format('SELECT galaxy.predict(%s::bigint, t) FROM pp_bad t', :lre), '22004',
                 'column "x1" is NULL and its preprocess option "impute" is "error"',
                 'a NULL that impute "error" refuses');
UPDATE pp_bad SET x1 = 1, x3 = '-Infinity';
SELECT throws_ok(format('SELECT galaxy.predict(%s::bigint, s) FROM (SELECT * FROM pp_bad OFFSET 0) s', :gb),
                 '22023', 'column "x3" contains -Infinity, which is not a valid feature value',
                 'an infinite value in a row value');
SELECT is((SELECT galaxy.predict(:lr::bigint, t) FROM pp_bad t WHERE false), NULL,
          'no row, no prediction');

SELECT * FROM finish();
ROLLBACK;
