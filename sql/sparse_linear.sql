-- Sparse linear models, the linear SVM and naive Bayes: lasso and
-- elastic_net (exact zeros, between lasso and ridge), linear_svm (binary and
-- one-vs-rest, Platt probabilities) and naive_bayes (gaussian, multinomial,
-- bernoulli), on inline data and the shared data sets.  Everything runs in
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

-- the four algorithms, their tasks and their hyperparameters
SELECT name, tasks, default_scaling FROM galaxy.algorithms
WHERE name IN ('lasso', 'elastic_net', 'linear_svm', 'naive_bayes') ORDER BY name;
SELECT algorithm, name, type, default_value, min_value, max_value, min_exclusive, choices
FROM galaxy.algorithm_hyperparameters
WHERE algorithm IN ('lasso', 'elastic_net', 'linear_svm', 'naive_bayes') ORDER BY algorithm, name;

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

-- ---------------------------------------------------------------------------
-- linear_svm, binary: breast cancer
CREATE TABLE sl_cancer (mean_radius float8, mean_texture float8, mean_perimeter float8, mean_area float8,
    mean_smoothness float8, mean_compactness float8, mean_concavity float8, mean_concave_points float8,
    mean_symmetry float8, mean_fractal_dimension float8, radius_error float8, texture_error float8,
    perimeter_error float8, area_error float8, smoothness_error float8, compactness_error float8,
    concavity_error float8, concave_points_error float8, symmetry_error float8, fractal_dimension_error float8,
    worst_radius float8, worst_texture float8, worst_perimeter float8, worst_area float8,
    worst_smoothness float8, worst_compactness float8, worst_concavity float8, worst_concave_points float8,
    worst_symmetry float8, worst_fractal_dimension float8, diagnosis text);
COPY sl_cancer FROM :'cancer_csv' WITH (FORMAT csv, HEADER true);
SELECT round((metrics->>'accuracy')::numeric, 2) AS train_accuracy
FROM galaxy.train('sl_svm', 'sl_cancer', 'diagnosis', algorithm => 'linear_svm', test_size => 0);
SELECT (metrics->>'cv_accuracy_mean')::float8 >= 0.95 AS cv_accuracy_at_least_095
FROM galaxy.train('sl_svm_cv', 'sl_cancer', 'diagnosis', algorithm => 'linear_svm', folds => 5, deploy => 'never');
SELECT (metrics->>'cv_accuracy_mean')::float8 >= 0.95 AS hinge_cv_accuracy_at_least_095
FROM galaxy.train('sl_svm_cv', 'sl_cancer', 'diagnosis', algorithm => 'linear_svm',
                  hyperparams => '{"loss": "hinge"}', folds => 5, deploy => 'never');
-- probabilities: two per row, summing to one; the label agrees with them
-- on every training row but a handful near the boundary
SELECT count(*) AS rows,
       count(*) FILTER (WHERE abs(p[1] + p[2] - 1) < 1e-12) AS sums_to_one,
       count(*) FILTER (WHERE (p[2] > 0.5) = (galaxy.predict_label('sl_svm', c) = 'malignant')) >= 560 AS agree
FROM sl_cancer c, LATERAL (SELECT galaxy.predict_proba('sl_svm', c) AS p) s;
-- a small C regularises more: smaller coefficients
SELECT hyperparams_given FROM galaxy.train('sl_svm_c', 'sl_cancer', 'diagnosis', algorithm => 'linear_svm',
    hyperparams => '{"C": 0.01}', test_size => 0, deploy => 'never');
SELECT (SELECT sum(importance) FROM galaxy.feature_importance((SELECT max(id) FROM galaxy.models WHERE algorithm = 'linear_svm')))
     < (SELECT sum(importance) FROM galaxy.feature_importance((SELECT min(id) FROM galaxy.models WHERE algorithm = 'linear_svm')))
       AS small_c_smaller_coefficients;

-- one-vs-rest: iris
CREATE TABLE sl_iris (sepal_length float8, sepal_width float8, petal_length float8, petal_width float8, species text);
COPY sl_iris FROM :'iris_csv' WITH (FORMAT csv, HEADER true);
SELECT round((metrics->>'accuracy')::numeric, 2) AS train_accuracy
FROM galaxy.train('sl_svm_iris', 'sl_iris', 'species', algorithm => 'linear_svm', test_size => 0);
SELECT galaxy.predict_label('sl_svm_iris', ARRAY[5.1, 3.5, 1.4, 0.2]) AS setosa,
       galaxy.predict_label('sl_svm_iris', ARRAY[6.7, 3.0, 5.2, 2.3]) AS virginica;
SELECT array_length(p, 1) AS n, round((p[1] + p[2] + p[3])::numeric, 12) AS total, p[1] > 0.5 AS setosa_likely
FROM (SELECT galaxy.predict_proba('sl_svm_iris', ARRAY[5.1, 3.5, 1.4, 0.2]) AS p) s;
SELECT count(*) FILTER (WHERE abs(p[1] + p[2] + p[3] - 1) < 1e-12) AS rows_summing_to_one
FROM sl_iris i, LATERAL (SELECT galaxy.predict_proba('sl_svm_iris', i) AS p) s;

-- ---------------------------------------------------------------------------
-- naive_bayes, gaussian: iris and wine (no scaling by default; the same
-- training accuracy as scikit-learn's GaussianNB: 0.96 and 0.9888)
SELECT round((metrics->>'accuracy')::numeric, 4) AS iris_accuracy, round((metrics->>'log_loss')::numeric, 4) AS log_loss
FROM galaxy.train('sl_nb_iris', 'sl_iris', 'species', algorithm => 'naive_bayes', test_size => 0);
SELECT input->>'scale' AS scale FROM galaxy.models m,
       jsonb_array_elements(galaxy.describe(m.model)->'preprocess'->'inputs') input
WHERE m.id = (SELECT max(id) FROM galaxy.models WHERE algorithm = 'naive_bayes') LIMIT 1;
SELECT round((p[1] + p[2] + p[3])::numeric, 12) AS total, p[3] > 0.9 AS virginica_likely
FROM (SELECT galaxy.predict_proba('sl_nb_iris', ARRAY[6.7, 3.0, 5.2, 2.3]) AS p) s;
CREATE TABLE sl_wine (alcohol float8, malic_acid float8, ash float8, alcalinity_of_ash float8, magnesium float8,
    total_phenols float8, flavanoids float8, nonflavanoid_phenols float8, proanthocyanins float8,
    color_intensity float8, hue float8, od280_od315_of_diluted_wines float8, proline float8, cultivar text);
COPY sl_wine FROM :'wine_csv' WITH (FORMAT csv, HEADER true);
SELECT round((metrics->>'accuracy')::numeric, 4) AS wine_accuracy
FROM galaxy.train('sl_nb_wine', 'sl_wine', 'cultivar', algorithm => 'naive_bayes', test_size => 0);
SELECT round((metrics->>'cv_accuracy_mean')::numeric, 2) AS wine_cv_accuracy
FROM galaxy.train('sl_nb_wine_cv', 'sl_wine', 'cultivar', algorithm => 'naive_bayes', folds => 5, deploy => 'never');

-- multinomial on word counts: spam words vs. meeting words
CREATE TABLE sl_counts (free int, win int, money int, meeting int, agenda int, notes int, label text);
INSERT INTO sl_counts VALUES
    (3, 2, 1, 0, 0, 0, 'spam'), (2, 3, 2, 0, 0, 1, 'spam'), (4, 1, 3, 0, 1, 0, 'spam'),
    (1, 2, 2, 0, 0, 0, 'spam'), (2, 2, 0, 1, 0, 0, 'spam'),
    (0, 0, 0, 3, 2, 2, 'ham'), (0, 1, 0, 2, 3, 1, 'ham'), (1, 0, 0, 2, 2, 3, 'ham'),
    (0, 0, 1, 4, 1, 2, 'ham'), (0, 0, 0, 1, 2, 2, 'ham');
SELECT round((metrics->>'accuracy')::numeric, 2) AS accuracy
FROM galaxy.train('sl_nb_counts', 'sl_counts', 'label', algorithm => 'naive_bayes',
                  hyperparams => '{"distribution": "multinomial"}', test_size => 0);
-- scikit-learn's MultinomialNB(alpha=1) gives P(spam) = 0.8394 for these counts
SELECT galaxy.predict_label('sl_nb_counts', ARRAY[2, 1, 1, 0, 0, 0]) AS free_money,
       galaxy.predict_label('sl_nb_counts', ARRAY[0, 0, 0, 1, 1, 1]) AS meeting_notes,
       round((galaxy.predict_proba('sl_nb_counts', ARRAY[1, 0, 1, 1, 0, 0]))[2]::numeric, 4) AS p_spam;
-- bernoulli: presence only
SELECT hyperparams_given FROM galaxy.train('sl_nb_bern', 'sl_counts', 'label', algorithm => 'naive_bayes',
    hyperparams => '{"distribution": "bernoulli"}', test_size => 0);
SELECT galaxy.predict_label('sl_nb_bern', ARRAY[5, 5, 5, 0, 0, 0]) AS spam_words,
       galaxy.predict_label('sl_nb_bern', ARRAY[0, 0, 0, 9, 9, 9]) AS ham_words;

-- ---------------------------------------------------------------------------
-- text features (sparse rows, never made dense) for linear_regression, lasso
-- and elastic_net: the same model as on the same words given as dense 0/1
-- columns (binary text features, the 'simple' configuration, no scaling)
CREATE TABLE sl_docs (id int, body text, y float8);
INSERT INTO sl_docs
SELECT g, concat_ws(' ', CASE WHEN g % 2 = 0 THEN 'red' END, CASE WHEN g % 3 = 0 THEN 'green' END,
                    CASE WHEN g % 5 < 2 THEN 'blue' END, CASE WHEN g % 7 < 3 THEN 'big' END,
                    CASE WHEN g % 4 = 1 THEN 'small' END, 'the'),
       1 + 2 * (g % 2 = 0)::int - 1.5 * (g % 3 = 0)::int + 0.5 * (g % 7 < 3)::int + ((g * 37) % 11) / 10.0
FROM generate_series(1, 60) g;
INSERT INTO sl_docs VALUES (61, '', 1.2), (62, NULL, 0.9);
CREATE TABLE sl_docs_dense AS
SELECT id, (coalesce(body, '') ~ '\mred\M')::int::float8 AS red, (coalesce(body, '') ~ '\mgreen\M')::int::float8 AS green,
       (coalesce(body, '') ~ '\mblue\M')::int::float8 AS blue, (coalesce(body, '') ~ '\mbig\M')::int::float8 AS big,
       (coalesce(body, '') ~ '\msmall\M')::int::float8 AS small, (coalesce(body, '') ~ '\mthe\M')::int::float8 AS the, y
FROM sl_docs;
CREATE TEMP TABLE sl_pairs AS
SELECT v.algo, v.hp, t.id AS text_id, d.id AS dense_id, (t.metrics->>'training_rows')::int AS rows,
       round((t.metrics->>'r2')::numeric, 4) AS r2_text, round((d.metrics->>'r2')::numeric, 4) AS r2_dense,
       t.metrics->'nonzero_coefficients' AS nonzero_text, d.metrics->'nonzero_coefficients' AS nonzero_dense
FROM (VALUES ('lasso', '{"alpha": 0.05, "tol": 1e-10, "max_iter": 100000}'),
             ('lasso', '{"alpha": 0.3, "tol": 1e-10, "max_iter": 100000, "fit_intercept": false}'),
             ('elastic_net', '{"alpha": 0.05, "l1_ratio": 0.3, "tol": 1e-10, "max_iter": 100000}'),
             ('linear_regression', '{}'),
             ('linear_regression', '{"alpha": 2}')) v(algo, hp),
     LATERAL galaxy.train('sl_txt_' || v.algo, 'sl_docs', 'y', algorithm => v.algo, hyperparams => v.hp::jsonb,
                          features => '{body}', task => 'regression', test_size => 0, deploy => 'never',
                          preprocess => '{"columns": {"body": {"text": "binary", "config": "simple"}}}') t,
     LATERAL galaxy.train('sl_dense_' || v.algo, 'sl_docs_dense', 'y', algorithm => v.algo, hyperparams => v.hp::jsonb,
                          features => '{red, green, blue, big, small, the}', test_size => 0, deploy => 'never',
                          preprocess => '{"scale": "none"}') d;
SELECT algo, hp, rows, r2_text, r2_dense, nonzero_text, nonzero_dense,
       (SELECT max(abs(galaxy.predict(text_id, s.body) - galaxy.predict(dense_id, ARRAY[x.red, x.green, x.blue, x.big, x.small, x.the])))
          FROM sl_docs s JOIN sl_docs_dense x USING (id)) < 1e-6 AS same_predictions
FROM sl_pairs ORDER BY 1, 2;
-- the vocabulary is never made dense: 20,000 hashed features train, and the
-- model's coefficients cover all of them
SELECT algorithm, round((metrics->>'r2')::numeric, 4) AS r2
FROM galaxy.train('sl_txt_hashed', 'sl_docs', 'y', algorithm => 'elastic_net', features => '{body}',
                  task => 'regression', test_size => 0, hyperparams => '{"alpha": 0.01}',
                  preprocess => '{"columns": {"body": {"text": "hashing", "n_features": 20000, "config": "simple"}}}');
SELECT count(*) AS importances FROM galaxy.feature_importance((SELECT max(id) FROM galaxy.models));
-- predict on text: a document, an empty one, NULL
SELECT round(galaxy.predict('sl_txt_hashed', 'red big')::numeric, 3) AS red_big,
       round(galaxy.predict('sl_txt_hashed', '')::numeric, 3) AS empty,
       galaxy.predict('sl_txt_hashed', NULL::text) IS NULL AS null_is_null;
-- a classification target on text is refused like any other
CREATE FUNCTION sl_err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'no error'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$;
SELECT sl_err($$SELECT galaxy.train('sl_txt_bad', 'sl_docs', 'body', algorithm => 'lasso', features => '{y}',
                                    task => 'classification')$$) AS lasso_classification;
SELECT sl_err($$SELECT galaxy.train('sl_txt_bad', 'sl_docs', 'y', algorithm => 'elastic_net', features => '{body}',
                                    hyperparams => '{"l1_ratio": 2}', preprocess => '{"columns": {"body": {"text": "tfidf"}}}')$$) AS bad_l1_ratio;

-- determinism: the same call gives the same bytes, for each algorithm
SELECT a.algorithm, a.model::text = b.model::text AS identical
FROM (VALUES ('lasso', 'sl_diabetes', 'progression'), ('elastic_net', 'sl_diabetes', 'progression'),
             ('linear_svm', 'sl_iris', 'species'), ('naive_bayes', 'sl_iris', 'species')) v(algo, rel, target),
     LATERAL galaxy.train('sl_det_' || v.algo, v.rel, v.target, algorithm => v.algo, deploy => 'never') a,
     LATERAL galaxy.train('sl_det_' || v.algo, v.rel, v.target, algorithm => v.algo, deploy => 'never') b
ORDER BY 1;

ROLLBACK;
SELECT count(*) > 0 AS sequences_restored
FROM (SELECT CASE WHEN last_value IS NULL THEN setval(seq, start_value, false)
                  ELSE setval(seq, last_value, true) END
      FROM sl_sequences) s;
DROP TABLE sl_sequences;
