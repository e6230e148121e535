-- Linear models and the metric set: linear_regression (OLS, ridge, rank
-- deficiency, no intercept) and logistic_regression (binary, multinomial,
-- class weights, C, max_iter), on inline data and the shared data sets.
-- Everything runs in one transaction that is rolled back, and galaxy's
-- sequences are put back afterwards, so later tests see no projects, models,
-- audit rows or used-up ids from here.
\set VERBOSITY terse
\getenv abs_srcdir PG_ABS_SRCDIR
\set diabetes_csv :abs_srcdir '/test/data/diabetes.csv'
\set iris_csv :abs_srcdir '/test/data/iris.csv'
\set cancer_csv :abs_srcdir '/test/data/breast_cancer.csv'
\set wine_csv :abs_srcdir '/test/data/wine.csv'

CREATE TEMP TABLE lin_sequences AS
SELECT format('%I.%I', schemaname, sequencename) AS seq, last_value, start_value
FROM pg_sequences WHERE schemaname = 'galaxy';

BEGIN;
-- the NOTICE summary of each train() carries timings: keep it out of the output
SET client_min_messages = warning;

-- the two algorithms and their hyperparameters
SELECT name, tasks, default_scaling FROM galaxy.algorithms
WHERE name IN ('linear_regression', 'logistic_regression') ORDER BY name;
SELECT algorithm, name, type, default_value, min_value, max_value, min_exclusive, choices
FROM galaxy.algorithm_hyperparameters
WHERE algorithm IN ('linear_regression', 'logistic_regression') ORDER BY algorithm, name;

-- ---------------------------------------------------------------------------
-- linear_regression on exact data: y = 3 + 2a - b is recovered exactly
CREATE TABLE lin_exact AS
SELECT g::float8 AS a, ((g * 7) % 11)::float8 AS b, 3 + 2 * g - ((g * 7) % 11) AS y
FROM generate_series(1, 40) g;
SELECT algorithm, task, training_rows, round((metrics->>'r2')::numeric, 6) AS r2,
       round((metrics->>'rmse')::numeric, 6) AS rmse, metrics->>'evaluated_on' AS evaluated_on
FROM galaxy.train('lin_exact', 'lin_exact', 'y', algorithm => 'linear_regression', test_size => 0);
SELECT round(galaxy.predict('lin_exact', ARRAY[100, 5]::float8[])::numeric, 6) AS expect_198,
       round(galaxy.predict('lin_exact', ARRAY[-1, 0]::float8[])::numeric, 6) AS expect_1;

-- rank deficient: a duplicated column and a constant column still give the
-- exact fit, and the minimum-norm solution splits the weight evenly
CREATE TABLE lin_dup AS SELECT a, b, a AS a_copy, 5.0::float8 AS k, y FROM lin_exact;
SELECT round((metrics->>'r2')::numeric, 6) AS r2
FROM galaxy.train('lin_dup', 'lin_dup', 'y', algorithm => 'linear_regression', test_size => 0);
SELECT round(galaxy.predict('lin_dup', ARRAY[100, 5, 100, 5]::float8[])::numeric, 6) AS expect_198;
SELECT feature, round(importance::numeric, 6) AS importance
FROM galaxy.feature_importance((SELECT id FROM galaxy.models WHERE project_id =
     (SELECT id FROM galaxy.projects WHERE name = 'lin_dup')))
ORDER BY feature;

-- ridge shrinks the coefficients; a huge alpha leaves only the intercept
SELECT hyperparams_given FROM galaxy.train('lin_ridge', 'lin_exact', 'y', algorithm => 'linear_regression',
    hyperparams => '{"alpha": 10}', test_size => 0, deploy => 'never');
SELECT hyperparams_given FROM galaxy.train('lin_ridge', 'lin_exact', 'y', algorithm => 'linear_regression',
    hyperparams => '{"alpha": 1e9}', test_size => 0, deploy => 'never');
SELECT m.hyperparams->'alpha' AS alpha, round(galaxy.predict(m.id, ARRAY[100, 5]::float8[])::numeric, 3) AS at_100_5
FROM galaxy.models m WHERE m.project_id = (SELECT id FROM galaxy.projects WHERE name = 'lin_ridge')
ORDER BY m.id;
SELECT round(avg(y)::numeric, 3) AS mean_y FROM lin_exact;

-- no intercept, no scaling: y = 2a through the origin
CREATE TABLE lin_origin AS SELECT g::float8 AS a, 2.0 * g + 1 AS y FROM generate_series(1, 20) g;
SELECT hyperparams_given
FROM galaxy.train('lin_origin', 'lin_origin', 'y', algorithm => 'linear_regression',
                  hyperparams => '{"fit_intercept": false}', preprocess => '{"scale": "none"}', test_size => 0);
-- least squares through the origin: sum(a*y) / sum(a*a)
SELECT round(galaxy.predict('lin_origin', ARRAY[1.0])::numeric, 6) AS slope,
       round((sum(a * y) / sum(a * a))::numeric, 6) AS expected FROM lin_origin;

-- diabetes: held-out metrics (every regression metric) and 5-fold CV
CREATE TABLE lin_diabetes (age float8, sex float8, bmi float8, bp float8, s1 float8, s2 float8,
                           s3 float8, s4 float8, s5 float8, s6 float8, progression float8);
COPY lin_diabetes FROM :'diabetes_csv' WITH (FORMAT csv, HEADER true);
SELECT key, round(value::numeric, 2) AS value
FROM galaxy.train('lin_diabetes', 'lin_diabetes', 'progression', algorithm => 'linear_regression') m,
     jsonb_each_text(m.metrics)
WHERE key IN ('mae', 'mse', 'rmse', 'r2', 'explained_variance', 'median_absolute_error')
ORDER BY key;
SELECT round((metrics->>'cv_r2_mean')::numeric, 2) AS cv_r2
FROM galaxy.train('lin_diabetes_cv', 'lin_diabetes', 'progression', algorithm => 'linear_regression',
                  folds => 5, deploy => 'never');
SELECT round((metrics->>'cv_r2_mean')::numeric, 2) AS cv_r2_ridge
FROM galaxy.train('lin_diabetes_cv', 'lin_diabetes', 'progression', algorithm => 'linear_regression',
                  hyperparams => '{"alpha": 1}', folds => 5, deploy => 'never');

-- ---------------------------------------------------------------------------
-- logistic_regression, binary (text labels): every classification metric
CREATE TABLE lin_cancer (mean_radius float8, mean_texture float8, mean_perimeter float8, mean_area float8,
    mean_smoothness float8, mean_compactness float8, mean_concavity float8, mean_concave_points float8,
    mean_symmetry float8, mean_fractal_dimension float8, radius_error float8, texture_error float8,
    perimeter_error float8, area_error float8, smoothness_error float8, compactness_error float8,
    concavity_error float8, concave_points_error float8, symmetry_error float8, fractal_dimension_error float8,
    worst_radius float8, worst_texture float8, worst_perimeter float8, worst_area float8,
    worst_smoothness float8, worst_compactness float8, worst_concavity float8, worst_concave_points float8,
    worst_symmetry float8, worst_fractal_dimension float8, diagnosis text);
COPY lin_cancer FROM :'cancer_csv' WITH (FORMAT csv, HEADER true);
SELECT key, round(value::numeric, 2) AS value
FROM galaxy.train('lin_cancer', 'lin_cancer', 'diagnosis', algorithm => 'logistic_regression') m,
     jsonb_each_text(m.metrics - 'confusion_matrix')
WHERE key NOT LIKE '%seconds' AND key NOT LIKE 'predict\_%' AND key NOT IN ('evaluated_on', 'training_rows', 'test_rows')
ORDER BY key;
SELECT jsonb_array_length(metrics->'confusion_matrix') AS classes,
       (SELECT sum(v::int) FROM jsonb_array_elements(metrics->'confusion_matrix') r,
                                jsonb_array_elements_text(r) v) AS test_rows
FROM galaxy.models WHERE project_id = (SELECT id FROM galaxy.projects WHERE name = 'lin_cancer');
SELECT round((metrics->>'cv_accuracy_mean')::numeric, 2) AS cv_accuracy
FROM galaxy.train('lin_cancer_cv', 'lin_cancer', 'diagnosis', algorithm => 'logistic_regression',
                  folds => 5, deploy => 'never');
-- probabilities of two classes sum to one; the label follows the larger one
SELECT diagnosis, galaxy.predict_label('lin_cancer', c) AS predicted,
       round((galaxy.predict_proba('lin_cancer', c))[1]::numeric + (galaxy.predict_proba('lin_cancer', c))[2]::numeric, 6) AS total
FROM lin_cancer c LIMIT 3;

-- stronger regularisation and a single iteration are both worse on the training data
SELECT (SELECT (metrics->>'log_loss')::float8 FROM galaxy.train('lin_cancer_c', 'lin_cancer', 'diagnosis',
            algorithm => 'logistic_regression', hyperparams => '{"C": 0.001}', test_size => 0, deploy => 'never'))
     > (SELECT (metrics->>'log_loss')::float8 FROM galaxy.train('lin_cancer_c', 'lin_cancer', 'diagnosis',
            algorithm => 'logistic_regression', test_size => 0, deploy => 'never')) AS small_c_fits_worse,
       (SELECT (metrics->>'log_loss')::float8 FROM galaxy.train('lin_cancer_c', 'lin_cancer', 'diagnosis',
            algorithm => 'logistic_regression', hyperparams => '{"max_iter": 1}', test_size => 0, deploy => 'never'))
     > (SELECT (metrics->>'log_loss')::float8 FROM galaxy.train('lin_cancer_c', 'lin_cancer', 'diagnosis',
            algorithm => 'logistic_regression', test_size => 0, deploy => 'never')) AS one_iteration_fits_worse;

-- multinomial (iris): confusion matrix, probabilities, labels, CV
CREATE TABLE lin_iris (sepal_length float8, sepal_width float8, petal_length float8, petal_width float8, species text);
COPY lin_iris FROM :'iris_csv' WITH (FORMAT csv, HEADER true);
SELECT round((metrics->>'accuracy')::numeric, 2) AS accuracy, round((metrics->>'roc_auc')::numeric, 2) AS roc_auc,
       metrics->'confusion_matrix' AS confusion_matrix
FROM galaxy.train('lin_iris', 'lin_iris', 'species', algorithm => 'logistic_regression', test_size => 0.3);
SELECT galaxy.predict_label('lin_iris', ARRAY[5.1, 3.5, 1.4, 0.2]) AS setosa,
       galaxy.predict_label('lin_iris', ARRAY[6.0, 2.7, 4.2, 1.3]) AS versicolor,
       galaxy.predict_label('lin_iris', ARRAY[6.7, 3.0, 5.2, 2.3]) AS virginica;
SELECT array_length(p, 1) AS n, round((p[1] + p[2] + p[3])::numeric, 6) AS total, p[3] > 0.5 AS virginica_likely
FROM (SELECT galaxy.predict_proba('lin_iris', ARRAY[6.7, 3.0, 5.2, 2.3]) AS p) s;
SELECT round((metrics->>'cv_accuracy_mean')::numeric, 2) AS cv_accuracy
FROM galaxy.train('lin_iris_cv', 'lin_iris', 'species', algorithm => 'logistic_regression', folds => 5, deploy => 'never');

-- wine: balanced class weights and a smaller C
CREATE TABLE lin_wine (alcohol float8, malic_acid float8, ash float8, alcalinity_of_ash float8, magnesium float8,
    total_phenols float8, flavanoids float8, nonflavanoid_phenols float8, proanthocyanins float8,
    color_intensity float8, hue float8, od280_od315_of_diluted_wines float8, proline float8, cultivar text);
COPY lin_wine FROM :'wine_csv' WITH (FORMAT csv, HEADER true);
SELECT hyperparams_given, round((metrics->>'cv_accuracy_mean')::numeric, 2) AS cv_accuracy
FROM galaxy.train('lin_wine', 'lin_wine', 'cultivar', algorithm => 'logistic_regression',
                  hyperparams => '{"C": 0.5, "class_weight": "balanced"}', folds => 5);

-- separable data with a weak penalty: finite model, perfect on the training rows
CREATE TABLE lin_sep AS SELECT g::float8 AS x, (g > 10) AS y FROM generate_series(1, 20) g;
SELECT round((metrics->>'accuracy')::numeric, 2) AS accuracy
FROM galaxy.train('lin_sep', 'lin_sep', 'y', algorithm => 'logistic_regression',
                  hyperparams => '{"C": 1e6}', test_size => 0);
SELECT galaxy.predict_label('lin_sep', ARRAY[3.0]) AS low, galaxy.predict_label('lin_sep', ARRAY[18.0]) AS high;

-- determinism: the same call gives the same bytes
SELECT a.model::text = b.model::text AS identical
FROM galaxy.train('lin_det', 'lin_iris', 'species', algorithm => 'logistic_regression', deploy => 'never') a,
     galaxy.train('lin_det', 'lin_iris', 'species', algorithm => 'logistic_regression', deploy => 'never') b;

ROLLBACK;
SELECT count(*) > 0 AS sequences_restored
FROM (SELECT CASE WHEN last_value IS NULL THEN setval(seq, start_value, false)
                  ELSE setval(seq, last_value, true) END
      FROM lin_sequences) s;
DROP TABLE lin_sequences;
