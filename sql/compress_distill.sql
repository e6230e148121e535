--
-- galaxy.compress beyond int8: 'prune' of a gradient boosting model (its
-- trailing rounds dropped), 'prune' of a neural network with fine-tuning
-- (option epochs, the pruned weights held at zero), 'distill' (a student
-- trained on the teacher's predictions through the training pipeline,
-- registered as the teacher's next patch version), the audit rows of a
-- compression and of a refused deploy, and every bad input as an ERROR with
-- its SQLSTATE.  Float results are rounded or compared, never printed raw.
--
\set VERBOSITY terse
SET client_min_messages = warning;
\getenv abs_srcdir PG_ABS_SRCDIR
\set iris_csv :abs_srcdir '/test/data/iris.csv'

CREATE TABLE iris (sepal_length float8, sepal_width float8, petal_length float8, petal_width float8, species text);
COPY iris FROM :'iris_csv' WITH (FORMAT csv, HEADER true);

-- "SQLSTATE: message" of a statement, or 'ok'.
CREATE FUNCTION try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

SELECT id AS gb FROM galaxy.train('iris_gb', 'iris', 'species', 'gradient_boosting',
                                  '{"n_estimators": 40, "max_depth": 3}', seed => 7) \gset

-- prune of a tree ensemble: the leading 40 % of the rounds (3 trees a round for 3 classes)
SELECT id AS gbp, version, parent_id = :gb AS parent_ok, status,
       size_bytes < (SELECT size_bytes FROM galaxy.models WHERE id = :gb) AS smaller
  FROM galaxy.compress(:gb, 'prune', '{"sparsity": 0.6, "max_metric_drop": 0.05}') \gset
SELECT :'version' AS version, :'parent_ok' AS parent_ok, :'status' AS status, :'smaller' AS smaller;
SELECT method, options, main_metric, metric_drop <= 0.05 AS within, guard_passed, size_ratio < 0.6 AS smaller
  FROM galaxy.model_compressions WHERE model = :gbp;
SELECT galaxy.describe(:gbp)->>'format_version' AS format,
       galaxy.describe(model::text::galaxy.model) = galaxy.describe(model) AS text_round_trip
  FROM galaxy.models WHERE id = :gbp;
SELECT count(*) FILTER (WHERE galaxy.predict(:gb, i) <> galaxy.predict(:gbp, i)) <= 8 AS nearly_same FROM iris i;
SELECT (galaxy.import_model('iris_gb_copy', galaxy.export_model(:gbp))).id AS gbi \gset
SELECT count(*) FILTER (WHERE galaxy.predict(:gbp, i) <> galaxy.predict(:gbi, i)) AS import_differs FROM iris i;

-- distill: a student of the teacher's predictions (by default 8 trees of depth 8), its next patch version
SELECT id AS st, version, parent_id = :gb AS parent_ok, algorithm, status, relation,
       hyperparams->>'n_estimators' AS trees, hyperparams->>'max_depth' AS depth
  FROM galaxy.compress(:gb, 'distill', '{"max_metric_drop": 0.05}') \gset
SELECT :'version' AS version, :'parent_ok' AS parent_ok, :'algorithm' AS algorithm, :'status' AS status,
       :'relation' AS relation, :'trees' AS trees, :'depth' AS depth;
SELECT method, measured_on, main_metric, metric_drop <= 0.05 AS within, guard_passed, size_ratio < 1 AS smaller,
       predict_p50_ms > 0 AS timed
  FROM galaxy.model_compressions WHERE model = :st;
SELECT d->'compressed_from'->>'method' AS method, d->'compressed_from'->>'parent_version' AS parent_version
  FROM galaxy.describe(:st) d;
SELECT count(*) FILTER (WHERE galaxy.predict_label(:st, i) = i.species)::float8 / count(*) >= 0.9 AS accurate FROM iris i;
-- the student survives export and import like any model
SELECT (galaxy.import_model('iris_student_copy', galaxy.export_model(:st))).id AS sti \gset
SELECT count(*) FILTER (WHERE galaxy.predict(:st, i) <> galaxy.predict(:sti, i)) AS import_differs FROM iris i;
-- the transfer rows were a temporary table, gone after the call
SELECT count(*) AS temporary_tables FROM pg_class WHERE relname LIKE 'galaxy_distill%';
-- an MLP student, its own hyperparameters
SELECT algorithm, version, hyperparams->'hidden_layers' AS hidden
  FROM galaxy.compress(:gb, 'distill', '{"student": "neural_network", "max_metric_drop": 1,
                                         "hyperparams": {"hidden_layers": [8], "epochs": 40, "seed": 1}}');
-- a regressor teacher: a regression student
SELECT id AS reg FROM galaxy.train('iris_reg', 'iris', 'petal_width', 'linear_regression', seed => 7) \gset
SELECT algorithm, task, version, parent_id = :reg AS parent_ok
  FROM galaxy.compress(:reg, 'distill', '{"max_metric_drop": 1, "test_size": 0}');
SELECT main_metric, method FROM galaxy.model_compressions WHERE parent = :reg;

-- prune of a neural network, fine-tuned with the mask fixed
SELECT id AS nn FROM galaxy.train('iris_nn', 'iris', 'species', 'neural_network',
                                  '{"hidden_layers": [32], "epochs": 60, "seed": 1}', seed => 7) \gset
SELECT id AS p0 FROM galaxy.compress(:nn, 'prune', '{"sparsity": 0.9, "max_metric_drop": 1}') \gset
SELECT id AS p5 FROM galaxy.compress(:nn, 'prune', '{"sparsity": 0.9, "epochs": 20, "max_metric_drop": 1}') \gset
SELECT (SELECT value FROM galaxy.model_compressions WHERE model = :p5) >=
       (SELECT value FROM galaxy.model_compressions WHERE model = :p0) AS fine_tuning_helps,
       (SELECT size_bytes FROM galaxy.models WHERE id = :p5) = (SELECT size_bytes FROM galaxy.models WHERE id = :p0) AS same_sparsity;
SELECT jsonb_path_query_array(galaxy.describe(:p5)->'architecture', '$.layers[*] ? (@.type == "dense") .weights') AS dense_weights;
SELECT galaxy.describe(model::text::galaxy.model) = galaxy.describe(model) AS text_round_trip FROM galaxy.models WHERE id = :p5;
SELECT options FROM galaxy.model_compressions WHERE model = :p5;
-- the pruned network (format 2: a bitmap of the kept weights, then their values) survives export and import
SELECT (galaxy.import_model('iris_nn_copy', galaxy.export_model(:p5))).id AS p5i \gset
SELECT galaxy.describe(:p5i)->>'format_version' AS format,
       count(*) FILTER (WHERE galaxy.predict(:p5, i) <> galaxy.predict(:p5i, i)) AS import_differs FROM iris i;

-- audit: every compression, and a deploy the guard refuses (written once the refused transaction has ended)
SELECT action, m.version, details->>'method' AS method, details->>'guard_passed' AS guard_passed
  FROM galaxy.audit_log a JOIN galaxy.models m ON m.id = a.object_id::bigint
 WHERE action = 'compress' AND m.project_id = (SELECT id FROM galaxy.projects WHERE name = 'iris_gb') ORDER BY a.id;
SELECT id AS lossy FROM galaxy.compress(:gb, 'prune', '{"sparsity": 0.99, "max_metric_drop": 0}') \gset
SELECT guard_passed FROM galaxy.model_compressions WHERE model = :lossy;
SELECT regexp_replace(try(format('SELECT galaxy.deploy(%L, %s, 0.1)', 'iris_gb', :lossy)), 'model \d+', 'model N') AS refused;
DO $$
BEGIN
    FOR i IN 1..600 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM galaxy.audit_log WHERE action = 'deploy_refused');
        PERFORM pg_sleep(0.05);
    END LOOP;
END
$$;
SELECT action, object_id::bigint = :lossy AS model_ok, details->>'gate' AS gate, details->>'failed_gates' AS failed_gates,
       current_user_name = current_user AS actor_ok
  FROM galaxy.audit_log WHERE action = 'deploy_refused';
SELECT ok FROM galaxy.verify_audit();

-- bad input: each a clear ERROR with its SQLSTATE
CREATE TABLE blobs AS SELECT sepal_length, sepal_width FROM iris;
SELECT id AS km FROM galaxy.train('iris_km', 'blobs', NULL, 'kmeans', '{"n_clusters": 3}', seed => 7, task => 'clustering') \gset
SELECT try(format('SELECT galaxy.compress(%s, ''distill'')', :km));
SELECT try(format('SELECT galaxy.compress(%s, ''int8'')', :gb));
SELECT try(format('SELECT galaxy.compress(%s, ''prune'')', :reg));
SELECT try(format('SELECT galaxy.compress(%s, ''distill'', ''{"student": "kmeans"}'')', :gb));
SELECT try(format('SELECT galaxy.compress(%s, ''distill'', ''{"student": "no_such"}'')', :gb));
SELECT try(format('SELECT galaxy.compress(%s, ''distill'', ''{"student": 3}'')', :gb));
SELECT try(format('SELECT galaxy.compress(%s, ''distill'', ''{"hyperparams": [1]}'')', :gb));
SELECT try(format('SELECT galaxy.compress(%s, ''distill'', ''{"hyperparams": {"no_such": 1}}'')', :gb));
SELECT try(format('SELECT galaxy.compress(%s, ''distill'', ''{"test_size": 1}'')', :gb));
SELECT try(format('SELECT galaxy.compress(%s, ''distill'', ''{"sparsity": 0.5}'')', :gb));
SELECT try(format('SELECT galaxy.compress(%s, ''prune'', ''{"student": "neural_network"}'')', :gb));
SELECT try(format('SELECT galaxy.compress(%s, ''distill'', ''{"epochs": 1, "student": "neural_network"}'')', :gb));
SELECT try(format('SELECT galaxy.compress(%s, ''prune'', ''{"epochs": 2}'')', :gb));
SELECT try(format('SELECT galaxy.compress(%s, ''prune'', ''{"epochs": 1.5}'')', :nn));
SELECT try(format('SELECT galaxy.compress(%s, ''prune'', ''{"epochs": -1}'')', :nn));
SELECT try(format('SELECT galaxy.compress(%s, ''int8'', ''{"epochs": 2}'')', :nn));
SELECT try(format('SELECT galaxy.compress(%s, ''prune'')',
                  (SELECT id FROM galaxy.train('iris_gb1', 'iris', 'species', 'gradient_boosting', '{"n_estimators": 1}', seed => 7))));
