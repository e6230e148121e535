-- Sparse linear models: lasso and elastic_net (exact zeros, between lasso and
-- ridge) on inline data and the shared data set diabetes.  Everything runs in
-- one transaction that is rolled back, and galaxy's sequences are put back
-- afterwards.
\set VERBOSITY terse
\getenv abs_srcdir PG_ABS_SRCDIR
\set diabetes_csv :abs_srcdir '/test/data/diabetes.csv'
\set iris_csv :abs_srcdir '/test/data/iris.csv'
\set cancer_csv :abs_srcdir '/test/data/breast_cancer.csv'
\set wine_csv :abs_srcdir '/test/data/wine.csv'

CREATE TEMP TABLE sl_sequences AS
SELECT format('%I.%I', schemaname, sequencename) AS seq, last_value, start_value
FROM pg_sequences WHERE schemaname = 'galaxy';

BEGIN;
-- the NOTICE summary of each train() carries timings: keep it out of the output
SET client_min_messages = warning;

-- the algorithms, their tasks and their hyperparameters
SELECT name, tasks, default_scaling FROM galaxy.algorithms
WHERE name IN ('lasso', 'elastic_net') ORDER BY name;
SELECT algorithm, name, type, default_value, min_value, max_value, min_exclusive, choices
FROM galaxy.algorithm_hyperparameters
WHERE algorithm IN ('lasso', 'elastic_net') ORDER BY algorithm, name;

CREATE TABLE sl_diabetes (age float8, sex float8, bmi float8, bp float8, s1 float8, s2 float8,
                          s3 float8, s4 float8, s5 float8, s6 float8, progression float8);
COPY sl_diabetes FROM :'diabetes_csv' WITH (FORMAT csv, HEADER true);

-- ---------------------------------------------------------------------------
-- lasso: the default alpha (1) drops three of the ten features exactly
-- (scikit-learn's Lasso(alpha=1) on standardised features drops age, s2, s4)
SELECT round((metrics->>'r2')::numeric, 4) AS r2, metrics->'nonzero_coefficients' AS nonzero
FROM galaxy.train('sl_lasso', 'sl_diabetes', 'progression', algorithm => 'lasso', test_size => 0);
SELECT feature, round(importance::numeric, 3) AS abs_coef, importance = 0 AS exactly_zero
FROM galaxy.feature_importance((SELECT max(id) FROM galaxy.models WHERE algorithm = 'lasso'))
ORDER BY feature;
-- a large alpha keeps no feature: every coefficient is exactly zero, the
-- model predicts the mean of the target
SELECT metrics->'nonzero_coefficients' AS nonzero, (metrics->>'n_iter')::int AS sweeps
FROM galaxy.train('sl_lasso_big', 'sl_diabetes', 'progression', algorithm => 'lasso',
                  hyperparams => '{"alpha": 100}', test_size => 0);
SELECT count(*) AS features, count(*) FILTER (WHERE importance = 0) AS zero
FROM galaxy.feature_importance((SELECT max(id) FROM galaxy.models WHERE algorithm = 'lasso'));
SELECT round(galaxy.predict('sl_lasso_big', ARRAY[50, 1, 25, 90, 190, 110, 50, 4, 4.6, 90]::float8[])::numeric, 4) AS prediction,
       round(avg(progression)::numeric, 4) AS mean_target FROM sl_diabetes;
-- the alpha path: fewer features the larger alpha
SELECT a.alpha, (m.metrics->>'nonzero_coefficients')::int AS nonzero
FROM unnest(ARRAY[0.01, 1, 5, 20, 100]) a(alpha),
     LATERAL galaxy.train('sl_path', 'sl_diabetes', 'progression', algorithm => 'lasso',
                          hyperparams => jsonb_build_object('alpha', a.alpha), test_size => 0, deploy => 'never') m
ORDER BY a.alpha;

-- elastic_net sits between lasso (l1_ratio 1) and ridge (l1_ratio near 0):
-- with the same alpha it keeps more features than lasso
SELECT r.l1_ratio, (m.metrics->>'nonzero_coefficients')::int AS nonzero,
       round((m.metrics->>'r2')::numeric, 4) AS r2
FROM unnest(ARRAY[0.01, 0.5, 1.0]) r(l1_ratio),
     LATERAL galaxy.train('sl_enet', 'sl_diabetes', 'progression', algorithm => 'elastic_net',
                          hyperparams => jsonb_build_object('alpha', 5, 'l1_ratio', r.l1_ratio),
                          test_size => 0, deploy => 'never') m
ORDER BY r.l1_ratio;
-- elastic_net with l1_ratio 1 is lasso: the same predictions
SELECT hyperparams_given FROM galaxy.train('sl_enet1', 'sl_diabetes', 'progression', algorithm => 'elastic_net',
    hyperparams => '{"alpha": 0.5, "l1_ratio": 1}', test_size => 0);
SELECT hyperparams_given FROM galaxy.train('sl_lasso1', 'sl_diabetes', 'progression', algorithm => 'lasso',
    hyperparams => '{"alpha": 0.5}', test_size => 0);
SELECT round(galaxy.predict('sl_enet1', ARRAY[50, 1, 25, 90, 190, 110, 50, 4, 4.6, 90]::float8[])::numeric, 6)
     = round(galaxy.predict('sl_lasso1', ARRAY[50, 1, 25, 90, 190, 110, 50, 4, 4.6, 90]::float8[])::numeric, 6) AS same;
-- 5-fold CV on diabetes
SELECT round((metrics->>'cv_r2_mean')::numeric, 2) AS cv_r2
FROM galaxy.train('sl_enet_cv', 'sl_diabetes', 'progression', algorithm => 'elastic_net',
                  hyperparams => '{"alpha": 0.1}', folds => 5, deploy => 'never');
-- no intercept, no scaling: y = 2a exactly is recovered by a tiny alpha
CREATE TABLE sl_origin AS SELECT g::float8 AS a, 2.0 * g AS y FROM generate_series(1, 20) g;
SELECT hyperparams_given FROM galaxy.train('sl_origin', 'sl_origin', 'y', algorithm => 'lasso',
    hyperparams => '{"alpha": 1e-6, "fit_intercept": false}', preprocess => '{"scale": "none"}', test_size => 0);
SELECT round(galaxy.predict('sl_origin', ARRAY[1.0])::numeric, 3) AS slope;
-- a constant feature keeps a zero coefficient
CREATE TABLE sl_const AS SELECT g::float8 AS a, 7.0::float8 AS k, 3 * g + 1.0 AS y FROM generate_series(1, 30) g;
SELECT hyperparams_given FROM galaxy.train('sl_const', 'sl_const', 'y', algorithm => 'lasso',
    hyperparams => '{"alpha": 0.1}', test_size => 0);
SELECT feature, importance = 0 AS zero
FROM galaxy.feature_importance((SELECT max(id) FROM galaxy.models WHERE algorithm = 'lasso'))
ORDER BY feature;

-- determinism: the same call gives the same bytes, for each algorithm
SELECT a.algorithm, a.model::text = b.model::text AS identical
FROM (VALUES ('lasso', 'sl_diabetes', 'progression'), ('elastic_net', 'sl_diabetes', 'progression')) v(algo, rel, target),
     LATERAL galaxy.train('sl_det_' || v.algo, v.rel, v.target, algorithm => v.algo, deploy => 'never') a,
     LATERAL galaxy.train('sl_det_' || v.algo, v.rel, v.target, algorithm => v.algo, deploy => 'never') b
ORDER BY 1;

ROLLBACK;
SELECT count(*) > 0 AS sequences_restored
FROM (SELECT CASE WHEN last_value IS NULL THEN setval(seq, start_value, false)
                  ELSE setval(seq, last_value, true) END
      FROM sl_sequences) s;
DROP TABLE sl_sequences;
