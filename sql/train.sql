-- Training pipeline end to end: train, version, deploy policy, predict, evaluate.
\set VERBOSITY terse
-- the NOTICE summary carries timings: keep it out of the expected output
SET client_min_messages = warning;
\getenv abs_srcdir PG_ABS_SRCDIR
\set iris_csv :abs_srcdir '/test/data/iris.csv'
\set cancer_csv :abs_srcdir '/test/data/breast_cancer.csv'
\set diabetes_csv :abs_srcdir '/test/data/diabetes.csv'

CREATE TABLE iris (sepal_length float8, sepal_width float8, petal_length float8, petal_width float8, species text);
COPY iris FROM :'iris_csv' WITH (FORMAT csv, HEADER true);
CREATE TABLE diabetes (age float8, sex float8, bmi float8, bp float8, s1 float8, s2 float8, s3 float8,
                       s4 float8, s5 float8, s6 float8, progression float8);
COPY diabetes FROM :'diabetes_csv' WITH (FORMAT csv, HEADER true);

-- the algorithm registry
SELECT name, tasks, default_scaling FROM galaxy.algorithms WHERE name IN ('linear_regression', 'logistic_regression') ORDER BY name;
SELECT algorithm, name, type, default_value, min_value, max_value, choices
FROM galaxy.algorithm_hyperparameters WHERE algorithm = 'linear_regression' ORDER BY name;

-- regression: first model is 1.0.0 and deployed (no model deployed yet)
SELECT id, version, algorithm, task, status, training_rows, test_rows,
       round((metrics->>'r2')::numeric, 2) AS r2, metrics->>'evaluated_on' AS evaluated_on,
       hyperparams, hyperparams_given, features[1:3] AS first_features, target
FROM galaxy.train('diabetes', 'diabetes', 'progression');

-- same schema, ridge: minor bump; deployed only if better
SELECT version, hyperparams_given, parent_id IS NOT NULL AS has_parent
FROM galaxy.train('diabetes', 'diabetes', 'progression', algorithm => 'linear_regression',
                  hyperparams => '{"alpha": 1000}', deploy => 'if_better');
-- fewer inputs: major bump
SELECT version FROM galaxy.train('diabetes', 'diabetes', 'progression', features => ARRAY['bmi', 's5'], deploy => 'never');
SELECT m.version, d.traffic, d.strategy, d.retired_at IS NULL AS active
FROM galaxy.deployments d JOIN galaxy.models m ON m.id = d.model_id ORDER BY d.id;

-- predict by project (array and row), by model id
SELECT round(galaxy.predict('diabetes', ARRAY[59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]::float8[])::numeric, 1) AS by_array;
SELECT round(galaxy.predict('diabetes', d)::numeric, 1) AS by_row FROM diabetes d LIMIT 1;
SELECT round(galaxy.predict(m.id, ARRAY[32.1, 4.8598])::numeric, 1) AS by_model
FROM galaxy.models m WHERE version = '2.0.0';
SELECT round((galaxy.evaluate('diabetes', 'diabetes')->>'r2')::numeric, 2) AS r2_all_rows;

-- classification with text labels; labels come back as text
SELECT version, round((metrics->>'accuracy')::numeric, 2) AS accuracy, metrics ? 'roc_auc' AS has_auc,
       jsonb_array_length(metrics->'confusion_matrix') AS classes, label_type
FROM galaxy.train('iris', 'iris', 'species', algorithm => 'logistic_regression', test_size => 0.3);
SELECT galaxy.predict_label('iris', ARRAY[5.1, 3.5, 1.4, 0.2]) AS setosa,
       galaxy.predict_label('iris', ARRAY[6.7, 3.0, 5.2, 2.3]) AS virginica;
SELECT array_length(galaxy.predict_proba('iris', ARRAY[6.7, 3.0, 5.2, 2.3]), 1) AS n_proba,
       round((SELECT sum(p) FROM unnest(galaxy.predict_proba('iris', ARRAY[6.7, 3.0, 5.2, 2.3])) p)::numeric, 6) AS proba_sum;
SELECT species, galaxy.predict_label('iris', i) = species AS correct, count(*)
FROM iris i GROUP BY 1, 2 ORDER BY 1, 2;
SELECT galaxy.describe(model)->'labels' AS labels FROM galaxy.models WHERE project_id = (SELECT id FROM galaxy.projects WHERE name = 'iris');

-- determinism: same call, same bytes
SELECT a.model::text = b.model::text AS identical
FROM galaxy.train('det', 'iris', 'species', algorithm => 'logistic_regression', deploy => 'never') a,
     galaxy.train('det', 'iris', 'species', algorithm => 'logistic_regression', deploy => 'never') b;

-- cross-validation
SELECT round((metrics->>'cv_accuracy_mean')::numeric, 2) AS cv_accuracy, metrics->>'cv_folds' AS folds
FROM galaxy.train('iris_cv', 'iris', 'species', algorithm => 'logistic_regression', folds => 5);

-- integer labels predict as themselves
CREATE TABLE tiny AS SELECT g AS x, (g > 50)::int AS y FROM generate_series(1, 100) g;
SELECT label_type FROM galaxy.train('tiny', 'tiny', 'y', test_size => 0);
SELECT galaxy.predict('tiny', ARRAY[3.0]) AS low, galaxy.predict('tiny', ARRAY[97.0]) AS high;

-- feature importance
SELECT feature, importance > 0 AS nonzero FROM galaxy.feature_importance(
    (SELECT id FROM galaxy.models WHERE version = '2.0.0' AND project_id = (SELECT id FROM galaxy.projects WHERE name = 'diabetes')))
ORDER BY feature;

-- a deploy rolled back changes nothing
BEGIN;
SELECT (galaxy.train('tiny', 'tiny', 'y', test_size => 0, deploy => 'always')).id IS NOT NULL AS trained;
ROLLBACK;
SELECT count(*) AS tiny_models FROM galaxy.models WHERE project_id = (SELECT id FROM galaxy.projects WHERE name = 'tiny');

-- the audit log has one row per training
SELECT action, count(*) FROM galaxy.audit_log WHERE action IN ('train', 'deploy', 'create_project') GROUP BY 1 ORDER BY 1;

-- errors
SELECT galaxy.train('bad name!', 'iris', 'species');
SELECT galaxy.train('p', 'iris', 'species', test_size => 1);
SELECT galaxy.train('p', 'iris', 'species', algorithm => 'nope');
SELECT galaxy.train('p', 'iris', 'species', algorithm => 'linear_regression');
SELECT galaxy.train('p', 'iris', 'species', algorithm => 'logistic_regression', hyperparams => '{"lambda": 1}');
SELECT galaxy.train('p', 'iris', 'species', hyperparams => '{"C": 1}');
SELECT galaxy.train('p', 'iris', 'species', deploy => 'sometimes');
SELECT galaxy.train('p', 'iris', 'species', folds => 1);
SELECT galaxy.train('p', 'iris');
SELECT galaxy.predict('nope', ARRAY[1.0]);
SELECT galaxy.predict('iris', ARRAY[1.0, 2.0]);
SELECT galaxy.predict('iris', ARRAY[1.0, 2.0, 'NaN', 4.0]::float8[]);
SELECT galaxy.predict_proba('diabetes', ARRAY[59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]::float8[]);
SELECT galaxy.predict('iris', r) FROM (SELECT 1.0::float8 AS sepal_length) r;

-- whole-row predict on a table is rewritten at plan time into the *_columns
-- form (columns by name, no composite value per row); it must agree with the
-- composite path (a subquery's row) whatever the column order, an extra or a
-- dropped column, and give NULL for an outer join's null-extended row
CREATE TABLE iris_wide AS
SELECT row_number() OVER () AS id, 'x'::text AS note, species, petal_width, petal_length, sepal_width, sepal_length
FROM iris;
ALTER TABLE iris_wide DROP COLUMN note;
EXPLAIN (COSTS OFF, VERBOSE) SELECT galaxy.predict_label('iris', w) FROM iris_wide w;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE galaxy.predict_label('iris', w) = galaxy.predict_label('iris', s)) AS same_label,
       count(*) FILTER (WHERE galaxy.predict_proba('iris', w) = galaxy.predict_proba('iris', s)) AS same_proba,
       count(*) FILTER (WHERE galaxy.predict('iris', w) = galaxy.predict('iris', s)) AS same_value
FROM iris_wide w JOIN (SELECT * FROM iris_wide OFFSET 0) s USING (id);
SELECT count(*) FILTER (WHERE galaxy.predict(m.id, w) = galaxy.predict(m.id, s)) AS same_by_model
FROM galaxy.models m, iris_wide w JOIN (SELECT * FROM iris_wide OFFSET 0) s USING (id)
WHERE m.id = (SELECT max(id) FROM galaxy.models WHERE project_id = (SELECT id FROM galaxy.projects WHERE name = 'iris'));
SELECT o.k, galaxy.predict_label('iris', w) AS label
FROM (VALUES (1), (1000)) o(k) LEFT JOIN iris_wide w ON w.id = o.k ORDER BY o.k;
-- (only there, on the nullable side of an outer join, is the ctid passed as the row id)
EXPLAIN (COSTS OFF, VERBOSE)
SELECT galaxy.predict_label('iris', w) FROM (VALUES (1), (1000)) o(k) LEFT JOIN iris_wide w ON w.id = o.k;
-- a partitioned table: partitions with their own column order and a dropped column
CREATE TABLE iris_parts (id bigint, sepal_length float8, sepal_width float8, petal_length float8,
                         petal_width float8, species text) PARTITION BY RANGE (id);
CREATE TABLE iris_parts_1 PARTITION OF iris_parts FOR VALUES FROM (0) TO (76);
CREATE TABLE iris_parts_2 (species text, junk int, petal_width float8, petal_length float8,
                           sepal_width float8, sepal_length float8, id bigint);
ALTER TABLE iris_parts_2 DROP COLUMN junk;
ALTER TABLE iris_parts ATTACH PARTITION iris_parts_2 FOR VALUES FROM (76) TO (1000);
INSERT INTO iris_parts SELECT id, sepal_length, sepal_width, petal_length, petal_width, species FROM iris_wide;
EXPLAIN (COSTS OFF, VERBOSE) SELECT galaxy.predict_label('iris', p) FROM iris_parts p;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE galaxy.predict_label('iris', p) = galaxy.predict_label('iris', s)) AS same_label
FROM iris_parts p JOIN (SELECT * FROM iris_parts OFFSET 0) s USING (id);
-- the columns form called directly: names must be a constant of one name per column
SELECT galaxy_internal.predict_label_columns('iris', '(0,1)'::tid, NULL,
       ARRAY['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], 6.7::float8, 3.0::float8, 5.2::float8, 2.3::float8)
       = galaxy.predict_label('iris', ARRAY[6.7, 3.0, 5.2, 2.3]) AS direct_call_agrees,
       galaxy_internal.predict_label_columns('iris', NULL, NULL,
       ARRAY['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], 6.7::float8, 3.0::float8, 5.2::float8, 2.3::float8)
       IS NULL AS null_row_id_is_null;
SELECT galaxy_internal.predict_columns('iris', '(0,1)'::tid, NULL, ARRAY['sepal_length', 'sepal_width'], 1.0::float8);
SELECT galaxy_internal.predict_columns('iris', '(0,1)'::tid, NULL, n.names, 1.0::float8)
FROM (SELECT * FROM (VALUES (ARRAY['sepal_length'])) v(names) OFFSET 0) n;
CREATE TABLE one_col AS SELECT 1.0::float8 AS sepal_length;
SELECT galaxy.predict('iris', o) FROM one_col o;

-- predict on an ARRAY[...] of numbers is rewritten into the *_values form (no
-- array built per row): same answers as the array path (COALESCE keeps a
-- call on it), NULL elements imputed, the same errors
EXPLAIN (COSTS OFF, VERBOSE)
SELECT galaxy.predict('iris', ARRAY[sepal_length, sepal_width, petal_length, petal_width]) FROM iris;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE galaxy.predict_label('iris', ARRAY[sepal_length, sepal_width, petal_length, petal_width])
                            = galaxy.predict_label('iris', COALESCE(ARRAY[sepal_length, sepal_width, petal_length, petal_width]))) AS same_label,
       count(*) FILTER (WHERE galaxy.predict_proba('iris', ARRAY[sepal_length, sepal_width, petal_length, petal_width])
                            = galaxy.predict_proba('iris', COALESCE(ARRAY[sepal_length, sepal_width, petal_length, petal_width]))) AS same_proba,
       count(*) FILTER (WHERE galaxy.predict('iris', ARRAY[sepal_length, NULL, petal_length, petal_width])
                            = galaxy.predict('iris', COALESCE(ARRAY[sepal_length, NULL, petal_length, petal_width]))) AS same_with_null,
       count(*) FILTER (WHERE galaxy.predict('iris', ARRAY[round(sepal_length)::int, 3, 1, 0])
                            = galaxy.predict('iris', COALESCE(ARRAY[round(sepal_length)::int, 3, 1, 0]))) AS same_ints
FROM iris;
SELECT galaxy.predict('iris', ARRAY[sepal_length, sepal_width]) FROM iris LIMIT 1;
SELECT galaxy.predict('iris', ARRAY[sepal_length, sepal_width, petal_length, 'NaN'::float8]) FROM iris LIMIT 1;
SELECT galaxy_internal.predict_values('iris', NULL, 5.1::float8, 3.5::float8, 'x'::text, 0.2::float8);

-- train() measures its new model's predict latency with the model it holds,
-- lent to this backend's predict cache.  A statement timeout that fires during
-- that measurement (the relation is a view that turns slow after its first 60
-- rows: the training read them all) aborts the training; the lent entry goes
-- with the training's memory, so asking for the rolled-back model's id is an
-- ERROR, not a read of freed memory.
CREATE TABLE slow_pts AS SELECT i::float8 AS x, 2.0 * i + 1 AS y FROM generate_series(1, 60) i;
CREATE FUNCTION slow_after(n int) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    calls int := coalesce(nullif(current_setting('test.slow_calls', true), ''), '0')::int + 1;
BEGIN
    PERFORM set_config('test.slow_calls', calls::text, false);
    IF calls > n THEN
        PERFORM pg_sleep(0.2);
    END IF;
    RETURN true;
END
$$;
CREATE VIEW slow_view AS SELECT x, y FROM slow_pts WHERE slow_after(60);
SELECT last_value AS seq_before FROM galaxy.models_id_seq \gset
SET statement_timeout = '3s';
SELECT id FROM galaxy.train('slowly', 'slow_view', 'y', 'linear_regression', test_size => 0);
RESET statement_timeout;
SELECT last_value > :seq_before AS model_was_inserted_before_the_timeout FROM galaxy.models_id_seq;
SELECT count(*) AS models_of_slowly FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id
 WHERE p.name = 'slowly';
SELECT last_value AS rolled_back FROM galaxy.models_id_seq \gset
SELECT galaxy.predict(:rolled_back::bigint, ARRAY[1.0]::float8[]);
-- the same training without the timeout: its model, and a predict with it
SELECT version, status, (metrics ? 'predict_p50_ms') AS latency_measured FROM galaxy.train('slowly', 'slow_pts', 'y', 'linear_regression', test_size => 0);
SELECT round(galaxy.predict('slowly', ARRAY[10.0]::float8[])::numeric, 6) AS at_10;
