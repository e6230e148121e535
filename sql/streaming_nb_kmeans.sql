--
-- The streaming solver of naive_bayes and kmeans (issue #18): naive Bayes
-- from per-class moments and a scoring pass (galaxy_internal.nb_score),
-- k-means from a sample and one Lloyd pass (galaxy_internal.kmeans_pass) per
-- iteration.  Streaming and in-memory fits agree; serial and parallel passes
-- agree; a table four times galaxy.max_training_memory trains with "auto";
-- hostile pass states and arguments are ERRORs; what does not stream is an
-- ERROR with its SQLSTATE.
--
\set VERBOSITY terse
SET client_min_messages = warning;
SET extra_float_digits = 0;

CREATE FUNCTION try_nbk(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- ---------------------------------------------------------------------------
-- naive_bayes
-- ---------------------------------------------------------------------------
-- 30,000 rows, three text classes; NULLs in x1, x2 far from zero, a boolean, counts
SELECT setseed(0.5);
CREATE TABLE nbt AS
SELECT i, c,
       CASE WHEN i % 17 = 0 THEN NULL ELSE c * 2.0 + random() END AS x1,
       1000 + c * 0.5 + random() * 2 AS x2,
       random() > 0.3 * c AS b,
       floor(random() * (3 + 2 * c))::int AS n1,
       floor(random() * (6 - 2 * c))::int AS n2,
       (ARRAY['ant', 'bee', 'cat'])[c + 1] AS label
  FROM (SELECT i, i % 3 AS c FROM generate_series(1, 30000) i) s;
VACUUM ANALYZE nbt;

-- the same rows (test_size 0): the same confusion matrix, log loss and roc_auc (its scoring query,
-- galaxy_internal.nb_proba) within 1e-9 and class probabilities within 1e-8 (the sums are added in
-- another order)
CREATE FUNCTION both_nb(tag text, feats text[], exprs text, hp jsonb) RETURNS TABLE (what text, same boolean)
LANGUAGE plpgsql AS $$
DECLARE
    ms jsonb;
    mm jsonb;
    d float8;
BEGIN
    PERFORM galaxy.train(tag || '_s', 'nbt', 'label', algorithm => 'naive_bayes', test_size => 0,
                         features => feats, hyperparams => hp || '{"solver": "streaming"}');
    PERFORM galaxy.train(tag || '_m', 'nbt', 'label', algorithm => 'naive_bayes', test_size => 0,
                         features => feats, hyperparams => hp || '{"solver": "in_memory"}');
    SELECT metrics INTO ms FROM galaxy.models WHERE id = galaxy.deployed_model(tag || '_s');
    SELECT metrics INTO mm FROM galaxy.models WHERE id = galaxy.deployed_model(tag || '_m');
    what := 'solver'; same := ms->>'solver' = 'streaming' AND mm->>'solver' IS NULL; RETURN NEXT;
    what := 'confusion_matrix'; same := ms->'confusion_matrix' = mm->'confusion_matrix'; RETURN NEXT;
    what := 'log_loss'; same := abs((ms->>'log_loss')::float8 - (mm->>'log_loss')::float8) < 1e-9; RETURN NEXT;
    what := 'roc_auc'; same := abs((ms->>'roc_auc')::float8 - (mm->>'roc_auc')::float8) < 1e-9; RETURN NEXT;
    EXECUTE format($q$SELECT max(abs(ps - pm)) FROM nbt,
                   LATERAL (SELECT unnest(galaxy.predict_proba(%L, ARRAY[%s])) ps,
                                   unnest(galaxy.predict_proba(%L, ARRAY[%s])) pm) p WHERE i <= 3000$q$,
                   tag || '_s', exprs, tag || '_m', exprs) INTO d;
    what := 'probabilities'; same := d < 1e-8; RETURN NEXT;
END
$$;
SELECT * FROM both_nb('nbg', ARRAY['x1', 'x2', 'b'], 'x1, x2, b::int', '{}');
SELECT * FROM both_nb('nbv', ARRAY['x1', 'x2'], 'x1, x2', '{"var_smoothing": 0.01, "fit_prior": false}');
SELECT * FROM both_nb('nbm', ARRAY['n1', 'n2'], 'n1, n2', '{"distribution": "multinomial", "alpha": 0.5}');

-- held out: metrics from the scoring pass's held-out counts; the same seed, the same split
SELECT (metrics->>'training_rows')::int + (metrics->>'test_rows')::int AS usable_rows,
       (metrics->>'test_rows')::int BETWEEN 5000 AND 7000 AS about_20_percent,
       metrics->>'evaluated_on' AS evaluated_on, metrics->>'passes' AS passes,
       round((metrics->>'accuracy')::numeric, 1) AS accuracy,
       jsonb_array_length(metrics->'confusion_matrix') AS classes
  FROM galaxy.train('nbheld', 'nbt', 'label', algorithm => 'naive_bayes',
                    hyperparams => '{"solver": "streaming"}', features => ARRAY['x1', 'x2', 'b']);
SELECT t.metrics->'confusion_matrix' = (SELECT metrics->'confusion_matrix' FROM galaxy.models
                                         WHERE id = galaxy.deployed_model('nbheld')) AS same_split
  FROM galaxy.train('nbheld2', 'nbt', 'label', algorithm => 'naive_bayes',
                    hyperparams => '{"solver": "streaming"}', features => ARRAY['x1', 'x2', 'b']) t;
SELECT galaxy.predict_label('nbheld', ARRAY[0.5, 1001, 1]) AS ant, galaxy.predict_label('nbheld', ARRAY[4.5, 1002, 0]) AS cat;

-- with parallel workers: the same model and counts
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET force_parallel_mode = on;
SELECT t.metrics->'confusion_matrix' = (SELECT metrics->'confusion_matrix' FROM galaxy.models
                                         WHERE id = galaxy.deployed_model('nbheld')) AS same_counts_parallel,
       abs((t.metrics->>'log_loss')::float8 - (SELECT (metrics->>'log_loss')::float8 FROM galaxy.models
                                                 WHERE id = galaxy.deployed_model('nbheld'))) < 1e-9 AS same_log_loss,
       abs((t.metrics->>'roc_auc')::float8 - (SELECT (metrics->>'roc_auc')::float8 FROM galaxy.models
                                                WHERE id = galaxy.deployed_model('nbheld'))) < 1e-9 AS same_roc_auc
  FROM galaxy.train('nbpar', 'nbt', 'label', algorithm => 'naive_bayes',
                    hyperparams => '{"solver": "streaming"}', features => ARRAY['x1', 'x2', 'b']) t;
RESET force_parallel_mode;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- a table four times galaxy.max_training_memory (150,000 x 7 float64 is 8.4 MB) trains with "auto" (streaming), not in memory
CREATE TABLE nbwide AS
SELECT i, i % 4 AS c, random() + i % 4 AS x1, random() AS x2, random() AS x3, random() AS x4,
       random() AS x5, random() AS x6, random() * (i % 4) AS x7
  FROM generate_series(1, 150000) i;
VACUUM ANALYZE nbwide;
SET galaxy.max_training_memory = '2MB';
SELECT try_nbk($$SELECT galaxy.train('nbwide_mem', 'nbwide', 'c', algorithm => 'naive_bayes',
                                     hyperparams => '{"solver": "in_memory"}',
                                     features => ARRAY['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'])$$)
       LIKE '54000: loading relation "nbwide"%' AS in_memory_refused;
SELECT metrics->>'solver' AS solver, (metrics->>'accuracy')::float8 > 0.8 AS accurate
  FROM galaxy.train('nbwide', 'nbwide', 'c', algorithm => 'naive_bayes',
                    features => ARRAY['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7']);
RESET galaxy.max_training_memory;

-- what does not stream: a clear ERROR
SELECT try_nbk($$SELECT galaxy.train('bad', 'nbt', 'label', algorithm => 'naive_bayes',
                 hyperparams => '{"solver": "streaming", "distribution": "bernoulli"}', features => ARRAY['x1', 'x2'])$$);
CREATE TABLE many AS SELECT i, random() AS x, (i % 300)::text AS label FROM generate_series(1, 3000) i;
SELECT try_nbk($$SELECT galaxy.train('bad', 'many', 'label', algorithm => 'naive_bayes',
                 hyperparams => '{"solver": "streaming"}')$$);
SELECT try_nbk($$SELECT galaxy.train('bad', 'nbt', 'label', algorithm => 'naive_bayes',
                 hyperparams => '{"solver": "streaming", "distribution": "multinomial"}', features => ARRAY['x1', 'x2'],
                 preprocess => '{"scale": "standard"}')$$);
SELECT try_nbk($$SELECT galaxy.train('bad', 'nbt', 'x2', algorithm => 'naive_bayes', task => 'regression',
                 hyperparams => '{"solver": "streaming"}', features => ARRAY['x1'])$$);
SELECT count(*) AS projects_left_by_failures FROM galaxy.projects WHERE name = 'bad';

-- the scoring pass and its hostile arguments and states: ERRORs, never a crash
CREATE TABLE nbmodel AS SELECT ARRAY[2, 1, 0, 1e-9, 1, 0, 1, 0, 0, 1, 0, 5, 5, 0, 1, 2, 3]::float8[] AS m;
SELECT (s)[1:3] AS header, (s)[4:9] AS training_part
  FROM (SELECT galaxy_internal.nb_score(c::float8, 7, 0, m, x::float8) s
          FROM (VALUES (0, 0.1), (1, 0.9), (1, 1.2), (NULL, 0.5)) v(c, x), nbmodel) q;
SELECT galaxy_internal.nb_score_array(c::float8, ARRAY[x::float8], 7, 0, m) = galaxy_internal.nb_score(c::float8, 7, 0, m, x::float8) AS same_forms
  FROM (VALUES (0, 0.1), (1, 0.9), (1, NULL)) v(c, x), nbmodel;
SELECT try_nbk($$SELECT galaxy_internal.nb_score(0, 7, 0, m[1:10], 0.5::float8) FROM nbmodel$$);
SELECT try_nbk($$SELECT galaxy_internal.nb_score(0, 7, 0, m || 1.0::float8, 0.5::float8) FROM nbmodel$$);
SELECT try_nbk($$SELECT galaxy_internal.nb_score(0, 7, 0, array_replace(m, 5, 'NaN'), 0.5::float8) FROM nbmodel$$);
SELECT try_nbk($$SELECT galaxy_internal.nb_score(0, 7, 0, array_replace(m, 5, -5), 0.5::float8) FROM nbmodel$$);
SELECT try_nbk($$SELECT galaxy_internal.nb_score(0, 7, 0, array_replace(m, 2, 1e9), 0.5::float8) FROM nbmodel$$);
SELECT try_nbk($$SELECT galaxy_internal.nb_score(0, 7, 0, NULL, 0.5::float8)$$);
SELECT try_nbk($$SELECT galaxy_internal.nb_score(2, 7, 0, m, 0.5::float8) FROM nbmodel$$);
SELECT try_nbk($$SELECT galaxy_internal.nb_score(0, 7, 0, m, 'NaN'::float8) FROM nbmodel$$);
SELECT try_nbk($$SELECT galaxy_internal.nb_score(0, 7, 1.5, m, 0.5::float8) FROM nbmodel$$);
SELECT try_nbk($$SELECT galaxy_internal.nb_score(0, 7, 0, m, 0.5::float8, 0.5::float8) FROM nbmodel$$);
SELECT try_nbk($$SELECT galaxy_internal.pass_combine('{1,2,3}', '{1,2,3}')$$);
SELECT try_nbk($$SELECT galaxy_internal.pass_combine(NULL, '{20034,2,0, 1,0,1,0,0,0, 0,0,0,0,0,0}')$$);
SELECT try_nbk($$SELECT galaxy_internal.pass_combine(NULL, '{20034,2,0, 1,0,1,0,0,0, 0,0,0,0,0}')$$);
SELECT try_nbk($$SELECT galaxy_internal.pass_combine(NULL, '{20034,2,0, 1,NaN,1,0,0,0, 0,0,0,0,0,0}')$$);
SELECT try_nbk($$SELECT galaxy_internal.pass_combine(NULL, '{20034,2.5,0, 1,0,1,0,0,0, 0,0,0,0,0,0}')$$);
SELECT try_nbk($$SELECT galaxy_internal.pass_combine(NULL, '{20034,2,0, 1,0,1,NULL,0,0, 0,0,0,0,0,0}')$$);
SELECT try_nbk($$SELECT galaxy_internal.pass_combine('{20034,2,0, 1,0,1,0,0,0, 0,0,0,0,0,0}', '{20034,3,0, 1,0,1,0,0,0, 0,0,0,0,0,0}')$$);
SELECT try_nbk($$SELECT galaxy_internal.pass_combine('{20034,2,0, 1,0,1,0,0,0, 0,0,0,0,0,0}', '{{20034,2},{0,1}}')$$);
SELECT try_nbk($$SELECT galaxy_internal.nb_score_accum('{19277,1,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0}', 0, 7, 0, m, 0.5::float8) FROM nbmodel$$);
SELECT galaxy_internal.pass_combine('{20034,2,1, 1,0.5,1,0,0,0, 0,0,0,0,0,0}', '{20034,2,2, 1,0.25,0,0,1,0, 1,0.125,0,0,0,1}') AS summed;

-- ---------------------------------------------------------------------------
-- kmeans
-- ---------------------------------------------------------------------------
-- four well-separated blobs of 10,000 rows; NULLs in x3
SELECT setseed(0.25);
CREATE TABLE blobs AS
SELECT i, c, (ARRAY[0, 10, 0, 10])[c + 1] + random() AS x1, (ARRAY[0, 0, 10, 10])[c + 1] + random() AS x2,
       CASE WHEN i % 23 = 0 THEN NULL ELSE c * 3 + random() END AS x3
  FROM (SELECT i, i % 4 AS c FROM generate_series(1, 40000) i) s;
VACUUM ANALYZE blobs;

-- the same rows (test_size 0): the same clusters, the same training inertia (to 1e-9, relative)
SELECT metrics->>'solver' AS solver, metrics->>'converged' AS converged,
       (metrics->>'lloyd_passes')::int <= 5 AS few_passes, metrics->>'n_clusters' AS n_clusters
  FROM galaxy.train('kms', 'blobs', NULL, algorithm => 'kmeans', task => 'clustering', test_size => 0,
                    features => ARRAY['x1', 'x2', 'x3'], hyperparams => '{"n_clusters": 4, "solver": "streaming"}');
SELECT metrics->>'solver' AS solver
  FROM galaxy.train('kmm', 'blobs', NULL, algorithm => 'kmeans', task => 'clustering', test_size => 0,
                    features => ARRAY['x1', 'x2', 'x3'], hyperparams => '{"n_clusters": 4, "solver": "in_memory"}');
SELECT count(DISTINCT (s, m)) AS pairs, count(DISTINCT s) AS streaming_clusters, count(DISTINCT m) AS in_memory_clusters
  FROM (SELECT galaxy.predict('kms', ARRAY[x1, x2, x3]) s, galaxy.predict('kmm', ARRAY[x1, x2, x3]) m FROM blobs) q;
SELECT abs((s.metrics->>'train_inertia')::float8 / (m.metrics->>'train_inertia')::float8 - 1) < 1e-9 AS same_inertia,
       abs((s.metrics->>'inertia')::float8 / (m.metrics->>'inertia')::float8 - 1) < 1e-9 AS same_metric_inertia,
       abs((s.metrics->>'silhouette')::float8 - (m.metrics->>'silhouette')::float8) < 0.01 AS close_silhouette,
       (SELECT array_agg(x ORDER BY x) FROM jsonb_array_elements(s.metrics->'cluster_sizes') x)
     = (SELECT array_agg(x ORDER BY x) FROM jsonb_array_elements(m.metrics->'cluster_sizes') x) AS same_sizes
  FROM galaxy.models s, galaxy.models m
 WHERE s.id = galaxy.deployed_model('kms') AND m.id = galaxy.deployed_model('kmm');

-- held out; the same seed, the same sample and model
SELECT metrics->>'evaluated_on' AS evaluated_on, (metrics->>'test_rows')::int BETWEEN 7000 AND 9000 AS about_20_percent,
       (metrics->>'silhouette')::float8 > 0.85 AS separated, jsonb_array_length(metrics->'cluster_sizes') AS clusters
  FROM galaxy.train('kmheld', 'blobs', NULL, algorithm => 'kmeans', task => 'clustering',
                    features => ARRAY['x1', 'x2', 'x3'], hyperparams => '{"n_clusters": 4, "solver": "streaming", "n_init": 2}');
SELECT t.metrics->>'train_inertia' = (SELECT metrics->>'train_inertia' FROM galaxy.models
                                       WHERE id = galaxy.deployed_model('kmheld')) AS deterministic
  FROM galaxy.train('kmheld2', 'blobs', NULL, algorithm => 'kmeans', task => 'clustering',
                    features => ARRAY['x1', 'x2', 'x3'], hyperparams => '{"n_clusters": 4, "solver": "streaming", "n_init": 2}') t;

-- the Lloyd pass: serial and with parallel workers, the same counts and sums (to rounding)
CREATE TABLE centres AS SELECT ARRAY[2, 3, 0, 0, 0, 10, 10, 10, 0, 0, 0, 1, 1, 1, 5, 5, 5]::float8[] AS cc;
CREATE TABLE lloyd_serial AS SELECT galaxy_internal.kmeans_pass(3, 0.2, cc, x1, x2, x3) s FROM blobs, centres;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET force_parallel_mode = on;
EXPLAIN (COSTS OFF) SELECT galaxy_internal.kmeans_pass(3, 0.2, (SELECT cc FROM centres), x1, x2, x3) FROM blobs;
SELECT (SELECT s[1:4] || s[6:8] FROM lloyd_serial) = s[1:4] || s[6:8] AS same_header_counts_farthest,
       (SELECT max(abs(a - b) / greatest(abs(a), 1)) FROM unnest((SELECT s FROM lloyd_serial), s) u(a, b)) < 1e-9 AS same_sums
  FROM (SELECT galaxy_internal.kmeans_pass(3, 0.2, (SELECT cc FROM centres), x1, x2, x3) s FROM blobs) q;
EXPLAIN (COSTS OFF) SELECT galaxy_internal.nb_score(c::float8, 3, 0.2, (SELECT m FROM nbmodel), x1) FROM nbt;
RESET force_parallel_mode;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SELECT galaxy_internal.kmeans_pass_array(ARRAY[x1, x2, x3], 3, 0.2, cc) = (SELECT s FROM lloyd_serial) AS same_forms FROM blobs, centres;
SELECT try_nbk($$SELECT galaxy_internal.kmeans_pass(3, 0.2, cc[1:5], x1, x2, x3) FROM blobs, centres$$);
SELECT try_nbk($$SELECT galaxy_internal.kmeans_pass(3, 0.2, cc, x1, x2) FROM blobs, centres$$);
SELECT try_nbk($$SELECT galaxy_internal.kmeans_pass(3, 0.2, array_replace(cc, 1, 0), x1, x2, x3) FROM blobs, centres$$);
SELECT try_nbk($$SELECT galaxy_internal.kmeans_pass(3, 0.2, array_replace(cc, 2, 0.5), x1, x2, x3) FROM blobs, centres$$);
SELECT try_nbk($$SELECT galaxy_internal.kmeans_pass(3, 0.2, cc, x1, 'Infinity'::float8, x3) FROM blobs, centres$$);
SELECT try_nbk($$SELECT galaxy_internal.pass_combine((SELECT s FROM lloyd_serial), (SELECT s[1:20] FROM lloyd_serial))$$);
SELECT try_nbk($$SELECT galaxy_internal.pass_combine((SELECT s FROM lloyd_serial), (SELECT array_replace(s, 3, 2) FROM lloyd_serial))$$);
SELECT try_nbk($$SELECT galaxy_internal.stream_sample_key(3, 0.2, 2, 1.0::float8)$$);
SELECT galaxy_internal.stream_sample_key(3, 0.2, 0, 1.0::float8, 2.0::float8) = galaxy_internal.stream_sample_key_array(ARRAY[1.0, 2.0], 3, 0.2, 0) AS same_key;

-- a table four times galaxy.max_training_memory (150,000 x 7 float64 is 8.4 MB) trains with "auto" (streaming), not in memory
CREATE TABLE kmwide AS
SELECT i, (i % 3) * 5 + random() AS x1, (i % 3) * 5 + random() AS x2, random() AS x3, random() AS x4,
       random() AS x5, random() AS x6, random() AS x7
  FROM generate_series(1, 150000) i;
VACUUM ANALYZE kmwide;
SET galaxy.max_training_memory = '2MB';
SELECT try_nbk($$SELECT galaxy.train('kmwide_mem', 'kmwide', NULL, algorithm => 'kmeans', task => 'clustering',
                                     features => ARRAY['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'],
                                     hyperparams => '{"n_clusters": 3, "solver": "in_memory"}')$$)
       LIKE '54000: loading relation "kmwide"%' AS in_memory_refused;
SELECT metrics->>'solver' AS solver, metrics->>'converged' AS converged,
       (SELECT array_agg(x::int / 1000 ORDER BY x::int) FROM jsonb_array_elements(metrics->'cluster_sizes') x) AS thousands_per_cluster
  FROM galaxy.train('kmwide', 'kmwide', NULL, algorithm => 'kmeans', task => 'clustering',
                    features => ARRAY['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'], hyperparams => '{"n_clusters": 3}');
RESET galaxy.max_training_memory;

-- what does not stream: a clear ERROR
SELECT try_nbk($$SELECT galaxy.train('bad', 'blobs', NULL, algorithm => 'kmeans', task => 'clustering',
                 features => ARRAY['x1', 'x2'], hyperparams => '{"solver": "streaming", "batch_size": 100}')$$);
SELECT try_nbk($$SELECT galaxy.train('bad', 'blobs', NULL, algorithm => 'kmeans', task => 'clustering', test_size => 0,
                 features => ARRAY['x1', 'x2'], hyperparams => '{"solver": "streaming", "n_clusters": 50000}')$$);
CREATE TABLE few AS SELECT i, i::float8 AS x FROM generate_series(1, 5) i;
SELECT try_nbk($$SELECT galaxy.train('bad', 'few', NULL, algorithm => 'kmeans', task => 'clustering', test_size => 0,
                 features => ARRAY['x'], hyperparams => '{"solver": "streaming", "n_clusters": 8}')$$);
SELECT count(*) AS projects_left_by_failures FROM galaxy.projects WHERE name = 'bad';
