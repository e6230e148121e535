--
-- galaxy.compress: int8 quantisation of logistic regression and a neural
-- network, the new version and its lineage, predictions beside the parent's,
-- round trips of the quantised value, the accuracy guard as a deployment
-- gate, the audit rows, and every bad input as an ERROR with its SQLSTATE.
-- Float results are rounded or compared, never printed raw.
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

SELECT id, version FROM galaxy.train('iris_lr', 'iris', 'species', 'logistic_regression', seed => 7);
SELECT id, version FROM galaxy.train('iris_tree', 'iris', 'species', 'decision_tree', seed => 7);
SELECT id AS lr FROM galaxy.models WHERE project_id = (SELECT id FROM galaxy.projects WHERE name = 'iris_lr') \gset

-- int8: the next patch version, parent set, smaller, its metrics and guard
SELECT id, version, parent_id = :lr AS parent_ok, status, size_bytes < (SELECT size_bytes FROM galaxy.models WHERE id = :lr) AS smaller,
       metrics ? 'accuracy' AS has_accuracy, metrics ? 'metric_drop' AS has_drop,
       (metrics->>'max_metric_drop')::float8 AS max_metric_drop
  FROM galaxy.compress(:lr, 'int8');
SELECT max(id) AS q FROM galaxy.models \gset
SELECT (galaxy.compress(:lr, 'int8', '{"max_metric_drop": 0.05}')).version;
SELECT model - :q AS nth, parent = :lr AS parent_ok, parent_version, version, algorithm, method, options,
       measured_on, main_metric, round(metric_drop::numeric, 4) AS metric_drop, guard_passed,
       size_ratio < 1 AS smaller, predict_p50_ms > 0 AS timed, status
  FROM galaxy.model_compressions ORDER BY model;
SELECT galaxy.describe(:q)->>'format_version' AS format, galaxy.describe(:lr)->>'format_version' AS parent_format;
SELECT d->'compressed_from'->>'parent' = :'lr' AS parent_ok, d->'compressed_from'->>'method' AS method,
       d->'compressed_from'->>'guard_passed' AS guard_passed, galaxy.describe(:lr) ? 'compressed_from' AS parent_has_one
  FROM galaxy.describe(:q) d;

-- predictions: the same class for (nearly) every row, probabilities close
SELECT count(*) AS rows,
       count(*) FILTER (WHERE galaxy.predict(:lr, i) <> galaxy.predict(:q, i)) AS different_classes,
       max(abs((galaxy.predict_proba(:lr, i))[1] - (galaxy.predict_proba(:q, i))[1])) < 0.05 AS probabilities_close
  FROM iris i;

-- the quantised value survives its text form and export / import
SELECT galaxy.describe(model::text::galaxy.model) = galaxy.describe(model) AS text_round_trip
  FROM galaxy.models WHERE id = :q;
SELECT (galaxy.import_model('iris_lr_copy', galaxy.export_model(:q))).id AS imported \gset
SELECT count(*) FILTER (WHERE galaxy.predict(:q, i) <> galaxy.predict(:imported, i)) AS import_differs FROM iris i;

-- the guard is a gate of scope compression, and deploys honour it
SELECT model = :q AS model_ok, metric, op, threshold, scope, status FROM galaxy.gate_results WHERE model = :q;
SELECT model_id = :q AS deployed, traffic FROM galaxy.deploy('iris_lr', :q, 0.5);

-- a relation on which the int8 model loses: rows where it decides otherwise
-- than its parent, labelled with the parent's class (parent 100 %, int8 0 %)
CREATE TABLE boundary AS
SELECT s.*, galaxy.predict_label(:lr, s) AS species
  FROM (SELECT 4 + (g % 97) * 0.04 AS sepal_length, 2 + (g % 89) * 0.025 AS sepal_width,
               1 + (g % 83) * 0.07 AS petal_length, 0.1 + (g % 79) * 0.03 AS petal_width
          FROM generate_series(1, 20000) g) s
 WHERE galaxy.predict(:lr, s) <> galaxy.predict(:q, s);
SELECT count(*) > 0 AS some_rows FROM boundary;
RESET client_min_messages;
SELECT id AS failing, version, round((metrics->>'metric_drop')::numeric, 2) AS metric_drop
  FROM galaxy.compress(:lr, 'int8', '{"relation": "boundary"}') \gset
SET client_min_messages = warning;
SELECT :'version' AS version, :metric_drop AS metric_drop;
SELECT guard_passed, status FROM galaxy.model_compressions WHERE model = :failing;
SELECT status, margin < 0 AS short FROM galaxy.gate_results WHERE model = :failing;
SELECT try(format('SELECT galaxy.deploy(%L, %s)', 'iris_lr', :failing));
SELECT try(format('SELECT galaxy.deploy(%L, %s, 0.1)', 'iris_lr', :failing));
SELECT status FROM galaxy.models WHERE id = :failing;
-- the explicit override: a galaxy_admin's audited galaxy.deploy_override
SELECT model_id = :failing AS overridden FROM galaxy.deploy_override('iris_lr', :failing, 'accepted loss on boundary rows');

-- audit rows: one per compression, and the override with its failed gate
SELECT action, object_id::bigint IN (:q, :failing) AS model_ok, details->>'method' AS method,
       details->>'guard_passed' AS guard_passed
  FROM galaxy.audit_log WHERE action = 'compress' ORDER BY id;
SELECT action, object_id::bigint = :failing AS model_ok, details->'failed_gates'->0->>'gate' AS gate
  FROM galaxy.audit_log WHERE action = 'override_gates';

-- a neural network: dense layers in int8
SELECT id AS nn FROM galaxy.train('iris_nn', 'iris', 'species', 'neural_network',
                                   '{"hidden_layers": [16], "epochs": 30, "seed": 1}', seed => 7) \gset
SELECT (galaxy.compress(:nn, 'int8')).id AS qnn \gset
SELECT jsonb_path_query_array(galaxy.describe(:qnn)->'architecture', '$.layers[*] ? (@.type == "dense") .weights') AS dense_weights;
SELECT count(*) FILTER (WHERE galaxy.predict(:nn, i) <> galaxy.predict(:qnn, i)) <= 3 AS nearly_same FROM iris i;
SELECT galaxy.describe(model::text::galaxy.model) = galaxy.describe(model) AS text_round_trip FROM galaxy.models WHERE id = :qnn;

-- prune: the smallest coefficients / dense weights zero, stored sparse
SELECT id AS pruned, version, size_bytes < (SELECT size_bytes FROM galaxy.models WHERE id = :lr) AS smaller
  FROM galaxy.compress(:lr, 'prune', '{"sparsity": 0.5, "max_metric_drop": 1}') \gset
SELECT :'version' AS version, :'smaller' AS smaller;
SELECT method, options, guard_passed FROM galaxy.model_compressions WHERE model = :pruned;
SELECT galaxy.describe(model::text::galaxy.model) = galaxy.describe(model) AS text_round_trip FROM galaxy.models WHERE id = :pruned;
SELECT (galaxy.compress(:nn, 'prune', '{"sparsity": 0.5, "max_metric_drop": 1}')).id AS pnn \gset
SELECT jsonb_path_query_array(galaxy.describe(:pnn)->'architecture', '$.layers[*] ? (@.type == "dense") .weights') AS dense_weights;
SELECT galaxy.describe(model::text::galaxy.model) = galaxy.describe(model) AS text_round_trip FROM galaxy.models WHERE id = :pnn;
SELECT (SELECT size_bytes FROM galaxy.models WHERE id = :pnn) < (SELECT size_bytes FROM galaxy.models WHERE id = :nn) AS smaller;

-- bad input: each a clear ERROR with its SQLSTATE
SELECT try('SELECT galaxy.compress(NULL, ''int8'')');
SELECT try(format('SELECT galaxy.compress(%s, NULL)', :lr));
SELECT try('SELECT galaxy.compress(999999, ''int8'')');
SELECT try(format('SELECT galaxy.compress(%s, ''int4'')', :lr));
SELECT try(format('SELECT galaxy.compress(%s, ''distill'', ''{"student": "kmeans"}'')', :lr));
SELECT try(format('SELECT galaxy.compress(%s, ''int8'')', (SELECT id FROM galaxy.models WHERE algorithm = 'decision_tree')));
SELECT try(format('SELECT galaxy.compress(%s, ''int8'')', :q));
SELECT try(format('SELECT galaxy.compress(%s, ''int8'', ''{"max_drop": 0.1}'')', :lr));
SELECT try(format('SELECT galaxy.compress(%s, ''int8'', ''{"max_metric_drop": -1}'')', :lr));
SELECT try(format('SELECT galaxy.compress(%s, ''int8'', ''{"max_metric_drop": "x"}'')', :lr));
SELECT try(format('SELECT galaxy.compress(%s, ''int8'', ''[1]'')', :lr));
SELECT try(format('SELECT galaxy.compress(%s, ''int8'', ''{"relation": "no_such_table"}'')', :lr));
SELECT try(format('SELECT galaxy.compress(%s, ''int8'', ''{"relation": 5}'')', :lr));
SELECT try(format('SELECT galaxy.compress(%s, ''prune'', ''{"sparsity": 1}'')', :lr));
SELECT try(format('SELECT galaxy.compress(%s, ''prune'')', :pruned));

-- privileges: galaxy_trainer, and train on the project
CREATE ROLE compress_reader NOLOGIN IN ROLE galaxy_reader;
CREATE ROLE compress_trainer NOLOGIN IN ROLE galaxy_trainer;
GRANT SELECT ON iris TO compress_reader, compress_trainer;
SET ROLE compress_reader;
SELECT split_part(try(format('SELECT galaxy.compress(%s, ''int8'')', :lr)), ':', 1) AS reader;
SET ROLE compress_trainer;
SELECT split_part(try(format('SELECT galaxy.compress(%s, ''int8'')', :lr)), ':', 1) AS trainer_without_grant;
RESET ROLE;
SELECT galaxy.grant_project('iris_lr', 'compress_trainer', 'train');
SET ROLE compress_trainer;
SELECT version, trained_by FROM galaxy.compress(:lr, 'int8');
RESET ROLE;

DROP OWNED BY compress_reader, compress_trainer;
DROP ROLE compress_reader;
DROP ROLE compress_trainer;
