-- test/pgtap/compress.sql — galaxy.compress's contract (issue #17): which
-- methods each kind of model offers and the ERROR (0A000, naming the
-- methods it offers) for one it does not; the options of each method and
-- their errors (22023); the lineage of prune and distill copies (next patch
-- version, parent, relation, status); the guard as a deployment gate.
-- The audit row of a refused deploy is written after the refused transaction
-- ends, so it is checked by pg_regress (sql/compress_distill.sql), not here
-- inside one transaction.
-- Runs in a fresh database with pgtap and galaxy (scripts/check), as a superuser.
BEGIN;
SELECT plan(30);

CREATE TABLE public.cmp_iris (sepal_length float8, sepal_width float8, petal_length float8,
                              petal_width float8, species text);
-- scripts/check runs pg_prove from the directory that holds the copy of test/
\copy public.cmp_iris FROM 'src/test/data/iris.csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE public.cmp_points AS SELECT sepal_length, sepal_width FROM public.cmp_iris;

SET client_min_messages = warning;
SELECT id AS lr FROM galaxy.train('cmp_lr', 'cmp_iris', 'species', 'logistic_regression', seed => 7) \gset
SELECT id AS gb FROM galaxy.train('cmp_gb', 'cmp_iris', 'species', 'gradient_boosting',
                                  '{"n_estimators": 20, "max_depth": 3}', seed => 7) \gset
SELECT id AS rf FROM galaxy.train('cmp_rf', 'cmp_iris', 'species', 'random_forest', '{"n_estimators": 5}', seed => 7) \gset
SELECT id AS nn FROM galaxy.train('cmp_nn', 'cmp_iris', 'species', 'neural_network',
                                  '{"hidden_layers": [8], "epochs": 20, "seed": 1}', seed => 7) \gset
SELECT id AS km FROM galaxy.train('cmp_km', 'cmp_points', NULL, 'kmeans', '{"n_clusters": 3}', seed => 7,
                                  task => 'clustering') \gset

-- ---------------------------------------------------------------------------
-- Methods an algorithm does not offer: 0A000 naming those it does
-- ---------------------------------------------------------------------------
SELECT throws_ok(format('SELECT galaxy.compress(%s, %L)', :gb, 'int8'), '0A000',
                 'algorithm gradient_boosting does not support compression method "int8" (it supports prune,distill)',
                 'int8 of gradient boosting: 0A000 naming prune and distill');
SELECT throws_ok(format('SELECT galaxy.compress(%s, %L)', :rf, 'prune'), '0A000',
                 'algorithm random_forest does not support compression method "prune" (it supports distill)',
                 'prune of a random forest: 0A000 naming distill');
SELECT throws_ok(format('SELECT galaxy.compress(%s, %L)', :rf, 'int8'), '0A000',
                 'algorithm random_forest does not support compression method "int8" (it supports distill)',
                 'int8 of a random forest: 0A000 naming distill');
SELECT throws_ok(format('SELECT galaxy.compress(%s, %L)', :km, 'distill'), '0A000',
                 'algorithm kmeans does not support compression method "distill" (it supports none)',
                 'distill of a clustering model: 0A000, it supports none');
SELECT throws_ok(format('SELECT galaxy.compress(%s, %L)', :km, 'int8'), '0A000', NULL,
                 'int8 of kmeans: 0A000');
SELECT throws_ok(format('SELECT galaxy.compress(%s, %L)', :lr, 'int4'), '22023',
                 'unknown compression method "int4"', 'an unknown method: 22023');
SELECT throws_ok('SELECT galaxy.compress(NULL, ''distill'')', '22004', NULL, 'a NULL model: 22004');

-- ---------------------------------------------------------------------------
-- Options of each method
-- ---------------------------------------------------------------------------
SELECT throws_ok(format('SELECT galaxy.compress(%s, %L, %L)', :gb, 'distill', '{"sparsity": 0.5}'), '22023',
                 'galaxy.compress option "sparsity" is for method prune, not distill', 'sparsity with distill');
SELECT throws_ok(format('SELECT galaxy.compress(%s, %L, %L)', :gb, 'prune', '{"student": "neural_network"}'), '22023',
                 'galaxy.compress option "student" is for method distill, not prune', 'student with prune');
SELECT throws_ok(format('SELECT galaxy.compress(%s, %L, %L)', :nn, 'int8', '{"epochs": 3}'), '22023',
                 'galaxy.compress option "epochs" is for method prune, not int8', 'epochs with int8');
SELECT throws_ok(format('SELECT galaxy.compress(%s, %L, %L)', :gb, 'prune', '{"epochs": 3}'), '0A000', NULL,
                 'epochs (fine-tuning) of a tree ensemble: 0A000');
SELECT throws_ok(format('SELECT galaxy.compress(%s, %L, %L)', :nn, 'prune', '{"epochs": 2.5}'), '22023', NULL,
                 'epochs must be a whole number');
SELECT throws_ok(format('SELECT galaxy.compress(%s, %L, %L)', :nn, 'prune', '{"epochs": 1001}'), '22023', NULL,
                 'epochs at most 1000');
SELECT throws_ok(format('SELECT galaxy.compress(%s, %L, %L)', :gb, 'distill', '{"student": "kmeans"}'), '22023', NULL,
                 'a student that does not do the teacher''s task');
SELECT throws_ok(format('SELECT galaxy.compress(%s, %L, %L)', :gb, 'distill', '{"student": "nope"}'), '22023', NULL,
                 'an unknown student');
SELECT throws_ok(format('SELECT galaxy.compress(%s, %L, %L)', :gb, 'distill', '{"hyperparams": "x"}'), '22023', NULL,
                 'hyperparams must be an object');
SELECT throws_ok(format('SELECT galaxy.compress(%s, %L, %L)', :gb, 'distill', '{"hyperparams": {"depth": 3}}'), '22023', NULL,
                 'the student''s unknown hyperparameter');
SELECT throws_ok(format('SELECT galaxy.compress(%s, %L, %L)', :gb, 'distill', '{"test_size": -0.1}'), '22023', NULL,
                 'test_size in [0, 1)');
SELECT throws_ok(format('SELECT galaxy.compress(%s, %L, %L)', :gb, 'distill', '{"relation": "no_such"}'), '42P01', NULL,
                 'a relation that does not exist');

-- ---------------------------------------------------------------------------
-- Lineage of prune and distill copies
-- ---------------------------------------------------------------------------
SELECT id AS gbp FROM galaxy.compress(:gb, 'prune', '{"sparsity": 0.5, "max_metric_drop": 1}') \gset
SELECT is((SELECT version || ' ' || parent_id || ' ' || status FROM galaxy.models WHERE id = :gbp),
          '1.0.1 ' || :gb || ' ready', 'prune of trees: the next patch version, its parent, ready');
SELECT ok((SELECT size_bytes FROM galaxy.models WHERE id = :gbp) < (SELECT size_bytes FROM galaxy.models WHERE id = :gb),
          'prune of trees: a smaller value');
SELECT id AS st FROM galaxy.compress(:rf, 'distill', '{"max_metric_drop": 1}') \gset
SELECT is((SELECT version || ' ' || parent_id || ' ' || algorithm || ' ' || relation || ' ' || status
             FROM galaxy.models WHERE id = :st),
          '1.0.1 ' || :rf || ' gradient_boosting public.cmp_iris ready',
          'distill: the next patch version, its parent, the default student, the teacher''s relation, ready');
SELECT is((SELECT method FROM galaxy.compressions WHERE model_id = :st), 'distill', 'distill: a compressions row');
SELECT is((SELECT count(*)::int FROM galaxy.audit_log WHERE action = 'compress' AND object_id = :st::text), 1,
          'distill: audited as a compression');
SELECT is((SELECT count(*)::int FROM galaxy.audit_log WHERE action = 'train' AND object_id = :st::text), 1,
          'distill: the student''s training is audited too');
SELECT is((SELECT count(*)::int FROM pg_class WHERE relname LIKE 'galaxy_distill%'), 0,
          'distill: no temporary table is left');
SELECT id AS nnp FROM galaxy.compress(:nn, 'prune', '{"sparsity": 0.5, "epochs": 2, "max_metric_drop": 1}') \gset
SELECT is((SELECT options->>'epochs' FROM galaxy.compressions WHERE model_id = :nnp), '2',
          'prune with fine-tuning records its epochs');

-- ---------------------------------------------------------------------------
-- The guard is a deployment gate for every method
-- ---------------------------------------------------------------------------
SELECT id AS lossy FROM galaxy.compress(:gb, 'prune', '{"sparsity": 0.99, "max_metric_drop": 0}') \gset
SELECT is((SELECT guard_passed FROM galaxy.model_compressions WHERE model = :lossy), false,
          'a pruned ensemble that loses accuracy fails its guard');
SELECT throws_ok(format('SELECT galaxy.deploy(%L, %s)', 'cmp_gb', :lossy), '23514', NULL,
                 'deploying it is refused (23514)');
SELECT lives_ok(format('SELECT galaxy.deploy(%L, %s)', 'cmp_gb', :gbp), 'the pruned ensemble within its guard deploys');

SELECT * FROM finish();
ROLLBACK;
