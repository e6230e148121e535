-- Tree models: decision_tree, random_forest, gradient_boosting (small data, fixed seeds, rounded metrics).
\set VERBOSITY terse
-- the NOTICE summary carries timings: keep it out of the expected output
SET client_min_messages = warning;
\getenv abs_srcdir PG_ABS_SRCDIR
\set iris_csv :abs_srcdir '/test/data/iris.csv'
\set cancer_csv :abs_srcdir '/test/data/breast_cancer.csv'
\set diabetes_csv :abs_srcdir '/test/data/diabetes.csv'

CREATE TABLE tr_iris (sepal_length float8, sepal_width float8, petal_length float8, petal_width float8, species text);
COPY tr_iris FROM :'iris_csv' WITH (FORMAT csv, HEADER true);
CREATE TABLE tr_cancer (mean_radius float8, mean_texture float8, mean_perimeter float8, mean_area float8,
    mean_smoothness float8, mean_compactness float8, mean_concavity float8, mean_concave_points float8,
    mean_symmetry float8, mean_fractal_dimension float8, radius_error float8, texture_error float8,
    perimeter_error float8, area_error float8, smoothness_error float8, compactness_error float8,
    concavity_error float8, concave_points_error float8, symmetry_error float8, fractal_dimension_error float8,
    worst_radius float8, worst_texture float8, worst_perimeter float8, worst_area float8,
    worst_smoothness float8, worst_compactness float8, worst_concavity float8, worst_concave_points float8,
    worst_symmetry float8, worst_fractal_dimension float8, diagnosis text);
COPY tr_cancer FROM :'cancer_csv' WITH (FORMAT csv, HEADER true);
CREATE TABLE tr_diabetes (age float8, sex float8, bmi float8, bp float8, s1 float8, s2 float8, s3 float8,
                          s4 float8, s5 float8, s6 float8, progression float8);
COPY tr_diabetes FROM :'diabetes_csv' WITH (FORMAT csv, HEADER true);

-- the registry: tasks, no default scaling, every hyperparameter with its default and range
SELECT name, tasks, default_scaling FROM galaxy.algorithms
WHERE name IN ('decision_tree', 'random_forest', 'gradient_boosting') ORDER BY name;
SELECT algorithm, name, type, default_value, min_value, max_value, min_exclusive, choices
FROM galaxy.algorithm_hyperparameters
WHERE algorithm IN ('decision_tree', 'random_forest', 'gradient_boosting') ORDER BY algorithm, name;

-- classification (three classes)
SELECT algorithm, task, round((metrics->>'accuracy')::numeric, 2) AS accuracy
FROM galaxy.train('tr_iris_dt', 'tr_iris', 'species', algorithm => 'decision_tree', seed => 7);
SELECT algorithm, round((metrics->>'accuracy')::numeric, 2) AS accuracy
FROM galaxy.train('tr_iris_rf', 'tr_iris', 'species', algorithm => 'random_forest',
                  hyperparams => '{"n_estimators": 25}', seed => 7);
SELECT algorithm, round((metrics->>'accuracy')::numeric, 2) AS accuracy
FROM galaxy.train('tr_iris_gb', 'tr_iris', 'species', algorithm => 'gradient_boosting',
                  hyperparams => '{"n_estimators": 30, "max_depth": 3}', seed => 7);
SELECT algorithm, round((metrics->>'accuracy')::numeric, 2) AS accuracy, hyperparams_given
FROM galaxy.train('tr_iris_dt2', 'tr_iris', 'species', algorithm => 'decision_tree',
                  hyperparams => '{"criterion": "entropy", "max_leaf_nodes": 4}', seed => 7);

-- predictions: labels, probabilities that sum to 1
SELECT p AS project,
       galaxy.predict_label(p, ARRAY[5.1, 3.5, 1.4, 0.2]) AS setosa,
       galaxy.predict_label(p, ARRAY[6.7, 3.0, 5.2, 2.3]) AS virginica,
       round((SELECT sum(x) FROM unnest(galaxy.predict_proba(p, ARRAY[6.0, 2.9, 4.5, 1.5])) x)::numeric, 6) AS proba_sum
FROM unnest(ARRAY['tr_iris_dt', 'tr_iris_rf', 'tr_iris_gb']) p;
SELECT species, count(*) FILTER (WHERE galaxy.predict_label('tr_iris_rf', i) = species) AS correct, count(*)
FROM tr_iris i GROUP BY species ORDER BY species;

-- feature importance: normalised gain, the petals lead
SELECT m.project_id IS NOT NULL AS ok, round(sum(fi.importance)::numeric, 6) AS total,
       (array_agg(fi.feature ORDER BY fi.importance DESC))[1] LIKE 'petal%' AS petal_first
FROM galaxy.models m, galaxy.feature_importance(m.id) fi
WHERE m.algorithm IN ('decision_tree', 'random_forest', 'gradient_boosting')
  AND m.project_id IN (SELECT id FROM galaxy.projects WHERE name IN ('tr_iris_dt', 'tr_iris_rf', 'tr_iris_gb'))
GROUP BY m.id, m.project_id ORDER BY m.id;

-- binary classification: logistic objective, AUC
SELECT algorithm, round((metrics->>'accuracy')::numeric, 2) AS accuracy,
       round((metrics->>'roc_auc')::numeric, 2) AS auc
FROM galaxy.train('tr_cancer_gb', 'tr_cancer', 'diagnosis', algorithm => 'gradient_boosting',
                  hyperparams => '{"n_estimators": 50, "max_depth": 4}', seed => 3);
SELECT algorithm, round((metrics->>'accuracy')::numeric, 2) AS accuracy,
       round((metrics->>'roc_auc')::numeric, 2) AS auc
FROM galaxy.train('tr_cancer_rf', 'tr_cancer', 'diagnosis', algorithm => 'random_forest',
                  hyperparams => '{"n_estimators": 30, "max_features": "log2", "min_samples_leaf": 2}', seed => 3);

-- early stopping on the validation split keeps the best round: fewer trees than asked
SELECT (galaxy.describe(a.model)->>'payload_bytes')::int < (galaxy.describe(b.model)->>'payload_bytes')::int AS stopped_early
FROM galaxy.train('tr_cancer_es', 'tr_cancer', 'diagnosis', algorithm => 'gradient_boosting',
                  hyperparams => '{"n_estimators": 300, "early_stopping_rounds": 5}', deploy => 'never', seed => 3) a,
     galaxy.train('tr_cancer_es', 'tr_cancer', 'diagnosis', algorithm => 'gradient_boosting',
                  hyperparams => '{"n_estimators": 300}', deploy => 'never', seed => 3) b;

-- regression: squared error
SELECT algorithm, task, round((metrics->>'r2')::numeric, 2) AS r2
FROM galaxy.train('tr_dia_dt', 'tr_diabetes', 'progression', algorithm => 'decision_tree',
                  hyperparams => '{"max_depth": 3}', seed => 11);
SELECT algorithm, round((metrics->>'r2')::numeric, 2) AS r2
FROM galaxy.train('tr_dia_rf', 'tr_diabetes', 'progression', algorithm => 'random_forest',
                  hyperparams => '{"n_estimators": 40, "min_samples_leaf": 5}', seed => 11);
SELECT algorithm, round((metrics->>'r2')::numeric, 2) AS r2
FROM galaxy.train('tr_dia_gb', 'tr_diabetes', 'progression', algorithm => 'gradient_boosting',
                  hyperparams => '{"n_estimators": 60, "max_depth": 2, "learning_rate": 0.1, "subsample": 0.8, "colsample_bytree": 0.7, "base_score": 150}', seed => 11);
SELECT round(galaxy.predict('tr_dia_gb', d)::numeric, 0) AS predicted, progression
FROM tr_diabetes d ORDER BY age, bmi LIMIT 3;

-- determinism: same call, same bytes, whatever galaxy.threads says
SET galaxy.threads = 1;
CREATE TEMP TABLE det1 AS
SELECT algorithm, model FROM galaxy.train('tr_det', 'tr_cancer', 'diagnosis', algorithm => 'gradient_boosting',
                                          hyperparams => '{"n_estimators": 20, "subsample": 0.7, "colsample_bytree": 0.5}', deploy => 'never')
UNION ALL
SELECT algorithm, model FROM galaxy.train('tr_det', 'tr_cancer', 'diagnosis', algorithm => 'random_forest',
                                          hyperparams => '{"n_estimators": 10}', deploy => 'never')
UNION ALL
SELECT algorithm, model FROM galaxy.train('tr_det', 'tr_cancer', 'diagnosis', algorithm => 'decision_tree', deploy => 'never');
SET galaxy.threads = 2;
CREATE TEMP TABLE det2 AS
SELECT algorithm, model FROM galaxy.train('tr_det', 'tr_cancer', 'diagnosis', algorithm => 'gradient_boosting',
                                          hyperparams => '{"n_estimators": 20, "subsample": 0.7, "colsample_bytree": 0.5}', deploy => 'never')
UNION ALL
SELECT algorithm, model FROM galaxy.train('tr_det', 'tr_cancer', 'diagnosis', algorithm => 'random_forest',
                                          hyperparams => '{"n_estimators": 10}', deploy => 'never')
UNION ALL
SELECT algorithm, model FROM galaxy.train('tr_det', 'tr_cancer', 'diagnosis', algorithm => 'decision_tree', deploy => 'never');
SELECT det1.algorithm, det1.model::text = det2.model::text AS identical
FROM det1 JOIN det2 USING (algorithm) ORDER BY 1;
RESET galaxy.threads;

-- a larger forest is LZ4-compressed and its text form round-trips
SELECT galaxy.describe(model)->>'compression' AS compression,
       model::text::galaxy.model::text = model::text AS text_round_trip
FROM galaxy.train('tr_big_rf', 'tr_cancer', 'diagnosis', algorithm => 'random_forest', deploy => 'never');

-- bad hyperparameters are errors that name the range
SELECT * FROM galaxy.train('tr_bad', 'tr_iris', 'species', algorithm => 'gradient_boosting', hyperparams => '{"max_depth": 0}');
SELECT * FROM galaxy.train('tr_bad', 'tr_iris', 'species', algorithm => 'gradient_boosting', hyperparams => '{"learning_rate": 0}');
SELECT * FROM galaxy.train('tr_bad', 'tr_iris', 'species', algorithm => 'gradient_boosting', hyperparams => '{"subsample": 1.5}');
SELECT * FROM galaxy.train('tr_bad', 'tr_iris', 'species', algorithm => 'random_forest', hyperparams => '{"max_features": "half"}');
SELECT * FROM galaxy.train('tr_bad', 'tr_iris', 'species', algorithm => 'decision_tree', hyperparams => '{"criterion": "squared_error"}');
SELECT * FROM galaxy.train('tr_bad', 'tr_diabetes', 'progression', algorithm => 'random_forest', hyperparams => '{"criterion": "gini"}');
SELECT * FROM galaxy.train('tr_bad', 'tr_iris', 'species', algorithm => 'decision_tree', hyperparams => '{"max_leaf_nodes": 1}');
SELECT * FROM galaxy.train('tr_bad', 'tr_iris', 'species', algorithm => 'gradient_boosting', hyperparams => '{"base_score": 2}');
-- sizes beyond galaxy.max_training_memory are refused before fitting (54000)
SET galaxy.max_training_memory = '1MB';
SELECT * FROM galaxy.train('tr_bad', 'tr_cancer', 'diagnosis', algorithm => 'gradient_boosting',
                           hyperparams => '{"n_estimators": 10000, "max_depth": 16}');
SELECT * FROM galaxy.train('tr_bad', 'tr_cancer', 'diagnosis', algorithm => 'random_forest',
                           hyperparams => '{"n_estimators": 5000}');
RESET galaxy.max_training_memory;
