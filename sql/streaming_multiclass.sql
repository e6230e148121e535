--
-- Streaming multinomial logistic regression (issue #18): the Newton pass
-- galaxy_internal.softmax_pass gives the same state serial, with parallel
-- workers and across partitions; hostile states and points are ERRORs;
-- streaming and in-memory fits reach the same optimum for three and four
-- classes (the same confusion matrix, log loss within 1e-6, roc_auc within
-- 1e-4 and class probabilities within 1e-4: the in-memory L-BFGS stops at a
-- relative decrease of 2e-9, up to ~5e-5 short in probability on these
-- data, where Newton's decrement is below 1e-12); roc_auc of a streamed fit
-- (binary and multiclass, ties included) is exactly the in-memory metric of
-- the same model on the same rows (galaxy.evaluate, within 1e-9); a table
-- four times galaxy.max_training_memory trains
-- with "auto"; too many parameters for a Hessian is a clear 0A000.
--
\set VERBOSITY terse
SET client_min_messages = warning;
SET extra_float_digits = 0;

CREATE FUNCTION try(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- 30,000 rows, three classes by thresholds on a noisy score; NULLs in x1 and in the label
SELECT setseed(0.3);
CREATE TABLE m3 AS
SELECT i, random() * 10 AS x1, 1000 + random() * 5 AS x2, random() > 0.5 AS b, random() AS u
  FROM generate_series(1, 30000) i;
ALTER TABLE m3 ADD COLUMN label text;
UPDATE m3 SET label = CASE WHEN 0.6 * x1 + 0.8 * (x2 - 1002.5) + b::int + 3 * u < 3 THEN 'low'
                           WHEN 0.6 * x1 + 0.8 * (x2 - 1002.5) + b::int + 3 * u < 5.5 THEN 'mid' ELSE 'high' END;
UPDATE m3 SET x1 = NULL WHERE i % 10 = 0;
UPDATE m3 SET label = NULL WHERE i % 97 = 0;
-- four classes as numbers
CREATE TABLE m4 AS SELECT i, x1, x2, b, (CASE label WHEN 'low' THEN 0 WHEN 'mid' THEN 1 ELSE 2 END) + (u > 0.8)::int AS y
  FROM m3 WHERE label IS NOT NULL;
ANALYZE m3, m4;

-- ---------------------------------------------------------------------------
-- The pass: serial, parallel workers and partitions give the same state
-- ---------------------------------------------------------------------------
-- the point {k, p, class weights[3], theta[3 x 4], center[3], scale[3], fill[3]}
CREATE TEMP TABLE pt AS
SELECT ARRAY[3, 3, 1, 1, 1, 0.1, 0.2, -0.1, 0.3, -0.2, 0.1, 0.3, -0.1, 0.1, -0.3, -0.2, -0.2,
             5, 1002.5, 0.5, 2.9, 1.4, 0.5, 5, 1002.5, 0]::float8[] AS p;
CREATE TEMP TABLE sserial AS
SELECT galaxy_internal.softmax_pass((CASE label WHEN 'low' THEN 0 WHEN 'mid' THEN 1 WHEN 'high' THEN 2 END)::float8,
                                    7, 0.2, (SELECT p FROM pt), x1, x2, b::int::float8) s FROM m3;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET force_parallel_mode = on;
EXPLAIN (COSTS OFF)
SELECT galaxy_internal.softmax_pass((CASE label WHEN 'low' THEN 0 WHEN 'mid' THEN 1 WHEN 'high' THEN 2 END)::float8,
                                    7, 0.2, (SELECT p FROM pt), x1, x2, b::int::float8) FROM m3;
CREATE TEMP TABLE spar AS
SELECT galaxy_internal.softmax_pass_array((CASE label WHEN 'low' THEN 0 WHEN 'mid' THEN 1 WHEN 'high' THEN 2 END)::float8,
                                          ARRAY[x1, x2, b::int], 7, 0.2, (SELECT p FROM pt)) s FROM m3;
RESET force_parallel_mode;
RESET max_parallel_workers_per_gather;
CREATE TABLE m3parts (LIKE m3) PARTITION BY RANGE (i);
CREATE TABLE m3parts_1 PARTITION OF m3parts FOR VALUES FROM (MINVALUE) TO (10000);
CREATE TABLE m3parts_2 PARTITION OF m3parts FOR VALUES FROM (10000) TO (MAXVALUE);
INSERT INTO m3parts SELECT * FROM m3;
SET enable_partitionwise_aggregate = on;
CREATE TEMP TABLE spart AS
SELECT galaxy_internal.softmax_pass((CASE label WHEN 'low' THEN 0 WHEN 'mid' THEN 1 WHEN 'high' THEN 2 END)::float8,
                                    7, 0.2, (SELECT p FROM pt), x1, x2, b::int::float8) s FROM m3parts;
RESET enable_partitionwise_aggregate;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
-- the same length, header, counts and point exactly; the sums to 1e-9 of the largest (the Hessian's
-- entries are differences of sums, rounded differently in another order); nothing left buffered
SELECT array_length(a.s, 1) AS doubles, a.s[1:3] AS header,
       (SELECT bool_and(abs(x - y) <= 1e-9 * (SELECT max(abs(v)) FROM unnest(a.s) v)) FROM unnest(a.s, o.s) u(x, y)) AS same_state,
       (SELECT bool_and(x = y) FROM unnest(a.s[4:4] || a.s[8:16] || a.s[array_length(a.s, 1) - 128 * 4 - 21:], o.s[4:4] || o.s[8:16] || o.s[array_length(a.s, 1) - 128 * 4 - 21:]) u(x, y)) AS same_counts_and_point,
       a.s[4] AS training_rows, a.s[array_length(a.s, 1) - 128 * 4] AS buffered
  FROM sserial a, (SELECT s FROM spar UNION ALL SELECT s FROM spart) o;
-- the training and held-out rows: every row with a label, once
SELECT s[4] + s[4 + 4 + 9 + 12 + 144] AS rows_with_labels, (SELECT count(label) FROM m3) AS expected FROM sserial;

-- hostile and malformed states and points: ERRORs, never a crash
SELECT try($$SELECT galaxy_internal.pass_combine('{21325,3,3}', '{21325,3,3}')$$);
SELECT try(format('SELECT galaxy_internal.pass_combine(%L, %L)', s, s[1:100])) FROM sserial;
-- a row count, a buffered row count, a class weight out of range; NaN in the Hessian
SELECT try(format('SELECT galaxy_internal.softmax_pass_final(%L)', s[1:3] || '{0.5}'::float8[] || s[5:])) FROM sserial;
SELECT try(format('SELECT galaxy_internal.softmax_pass_final(%L)', s[1:array_length(s, 1) - 513] || '{129}'::float8[] || s[array_length(s, 1) - 511:])) FROM sserial;
SELECT try(format('SELECT galaxy_internal.softmax_pass_final(%L)', s[1:array_length(s, 1) - 513] || '{1, 7}'::float8[] || s[array_length(s, 1) - 510:])) FROM sserial;
SELECT try(format('SELECT galaxy_internal.pass_combine(%L, %L)', s, s[1:200] || '{NaN}'::float8[] || s[202:])) FROM sserial;
SELECT try(format('SELECT galaxy_internal.softmax_pass_final(%L)', '{20034}'::float8[] || s[2:])) FROM sserial;
-- states taken at different points do not combine
SELECT try(format('SELECT galaxy_internal.pass_combine(%L, %L)', a.s,
                  galaxy_internal.softmax_pass(1, 7, 0.2, p[1:2] || '{2}'::float8[] || p[4:], 1.0::float8, 1000.0::float8, 1.0::float8)))
  FROM sserial a, pt GROUP BY a.s;
-- an aggregate of one's own with a hostile initial state: its buffer is checked before it is read
SELECT try(format('CREATE AGGREGATE hostile_sm(float8, int8, float8, float8[], VARIADIC "any") (SFUNC = galaxy_internal.softmax_pass_accum, STYPE = float8[], INITCOND = %L)',
                  s[1:array_length(s, 1) - 513] || '{1e9}'::float8[] || s[array_length(s, 1) - 511:])) FROM sserial;
SELECT try($$SELECT hostile_sm(0, 7, 0.2, (SELECT p FROM pt), x1, x2, b::int::float8) FROM m3$$);
SELECT try(format('CREATE AGGREGATE hostile_sm2(float8, int8, float8, float8[], VARIADIC "any") (SFUNC = galaxy_internal.softmax_pass_accum, STYPE = float8[], INITCOND = %L)',
                  s[1:array_length(s, 1) - 513] || '{5, 1, 1, 1, 1, 1e9}'::float8[] || s[array_length(s, 1) - 506:])) FROM sserial;
SELECT try($$SELECT hostile_sm2(0, 7, 0.2, (SELECT p FROM pt), x1, x2, b::int::float8) FROM m3$$);
SELECT try($$SELECT galaxy_internal.softmax_pass(1, 7, 0.2, '{3,1,1,1,1,0,0,0,0,0,0,0,1,0}'::float8[], 1.0::float8)$$);
SELECT try($$SELECT galaxy_internal.softmax_pass(1, 7, 0.2, '{3,1,1,-1,1,0,0,0,0,0,0,0,1,0}'::float8[], 1.0::float8)$$);
SELECT try($$SELECT galaxy_internal.softmax_pass(1, 7, 0.2, '{3,1,1,1,1,0,0,0,0,0,0,0,0}'::float8[], 1.0::float8)$$);
SELECT try($$SELECT galaxy_internal.softmax_pass(1, 7, 0.2, '{2,1,1,1,0,0,0,0,0,1,0}'::float8[], 1.0::float8)$$);
SELECT try($$SELECT galaxy_internal.softmax_pass(3, 7, 0.2, '{3,1,1,1,1,0,0,0,0,0,0,0,1,0}'::float8[], 1.0::float8)$$);
SELECT try($$SELECT galaxy_internal.softmax_pass(1, 7, 0.2, '{3,1,1,1,1,0,0,0,0,0,0,0,1,0}'::float8[], 'NaN'::float8)$$);
SELECT try($$SELECT galaxy_internal.softmax_pass(1, 7, 0.2, NULL, 1.0::float8)$$);
-- 300 classes x 4 parameters: more than a Hessian takes
SELECT try(format('SELECT galaxy_internal.softmax_pass(1, 7, 0.2, %L, 1.0::float8, 2.0::float8, 3.0::float8)',
                  ARRAY[300, 3]::float8[] || array_fill(1.0::float8, ARRAY[300 + 1200 + 9])));
SELECT try(format('SELECT galaxy_internal.softmax_pass(1, 7, 0.2, %L, 1.0::float8, 2.0::float8, 3.0::float8, 4.0::float8, 5.0::float8)',
                  ARRAY[200, 5]::float8[] || array_fill(1.0::float8, ARRAY[200 + 1200 + 15])));
SELECT try($$SELECT galaxy_internal.logistic_proba(1, 7, 0.2, 1, '{2,1,0,1,0,0,0}'::float8[], 1.0::float8)$$);
SELECT try($$SELECT galaxy_internal.logistic_proba(1, 7, 0.2, 2, '{2,1,0,1,0,1,0}'::float8[], 1.0::float8)$$);
SELECT galaxy_internal.logistic_proba(1, 7, 0, 0, '{2,1,0,1,0,1,0}'::float8[], 1.0::float8) AS proba;
SELECT galaxy_internal.logistic_proba_array(1, ARRAY[1.0::float8], 7, 0, 0, '{2,1,0,1,0,1,0}'::float8[]) AS proba_array,
       galaxy_internal.logistic_proba_array(NULL, ARRAY[1.0::float8], 7, 0, 0, '{2,1,0,1,0,1,0}'::float8[]) AS no_target,
       galaxy_internal.logistic_proba_array(1, ARRAY[1.0::float8], 7, 0, 1, '{2,1,0,1,0,1,0}'::float8[]) AS other_part;

-- ---------------------------------------------------------------------------
-- train(): streaming and in-memory reach the same optimum on the same rows
-- ---------------------------------------------------------------------------
CREATE FUNCTION both_softmax(tag text, rel text, target text, hp jsonb, prep jsonb DEFAULT NULL)
RETURNS TABLE (what text, same boolean)
LANGUAGE plpgsql AS $$
DECLARE
    s text := tag || '_s';
    m text := tag || '_m';
    ms jsonb;
    mm jsonb;
BEGIN
    PERFORM galaxy.train(s, rel, target, algorithm => 'logistic_regression', test_size => 0,
                         features => ARRAY['x1', 'x2', 'b'], preprocess => prep,
                         hyperparams => hp || '{"solver": "streaming"}');
    PERFORM galaxy.train(m, rel, target, algorithm => 'logistic_regression', test_size => 0,
                         features => ARRAY['x1', 'x2', 'b'], preprocess => prep,
                         hyperparams => hp || '{"solver": "in_memory", "tol": 1e-9, "max_iter": 10000}');
    SELECT metrics INTO ms FROM galaxy.models WHERE id = galaxy.deployed_model(s);
    SELECT metrics INTO mm FROM galaxy.models WHERE id = galaxy.deployed_model(m);
    what := 'solver'; same := ms->>'solver' = 'streaming'; RETURN NEXT;
    what := 'confusion_matrix'; same := ms->'confusion_matrix' = mm->'confusion_matrix'; RETURN NEXT;
    what := 'log_loss'; same := abs((ms->>'log_loss')::float8 - (mm->>'log_loss')::float8) < 1e-6; RETURN NEXT;
    what := 'roc_auc'; same := abs((ms->>'roc_auc')::float8 - (mm->>'roc_auc')::float8) < 1e-4; RETURN NEXT;
    what := 'probabilities';
    EXECUTE format('SELECT max(abs(a - b)) < 1e-4 FROM (SELECT unnest(galaxy.predict_proba(%L, ARRAY[x1, x2, b::int])) a,
                           unnest(galaxy.predict_proba(%L, ARRAY[x1, x2, b::int])) b FROM %I WHERE i <= 2000) s', s, m, rel)
      INTO same;
    RETURN NEXT;
    what := 'converged'; same := (ms->>'converged')::boolean AND (ms->>'newton_passes')::int < 25; RETURN NEXT;
END
$$;
SELECT * FROM both_softmax('three', 'm3', 'label', '{}');
SELECT * FROM both_softmax('balanced', 'm3', 'label', '{"class_weight": "balanced"}');
SELECT * FROM both_softmax('noint', 'm3', 'label', '{"fit_intercept": false}', '{"scale": "minmax"}');
SELECT * FROM both_softmax('four', 'm4', 'y', '{}');

-- held out: the metrics of the held-out rows; roc_auc is exactly evaluate()'s on the same rows
SELECT (metrics->>'training_rows')::int + (metrics->>'test_rows')::int AS usable_rows,
       (metrics->>'test_rows')::int BETWEEN 5300 AND 6500 AS about_20_percent,
       metrics->>'evaluated_on' AS evaluated_on,
       round((metrics->>'accuracy')::numeric, 2) AS accuracy,
       round((metrics->>'roc_auc')::numeric, 2) AS roc_auc,
       jsonb_array_length(metrics->'confusion_matrix') AS classes
  FROM galaxy.train('m3held', 'm3', 'label', algorithm => 'logistic_regression',
                    hyperparams => '{"solver": "streaming"}', features => ARRAY['x1', 'x2', 'b']);
SELECT galaxy.predict_label('m3held', ARRAY[9.0, 1004, 1]) AS likely_high, galaxy.predict_label('m3held', ARRAY[0.0, 1000, 0]) AS likely_low;
-- trained on every row (test_size 0), evaluated on every row: the streamed roc_auc is the in-memory metric
SELECT abs((m.metrics->>'roc_auc')::float8 - (galaxy.evaluate('three_s', 'm3')->>'roc_auc')::float8) < 1e-9 AS multiclass_auc_exact,
       abs((m.metrics->>'log_loss')::float8 - (galaxy.evaluate('three_s', 'm3')->>'log_loss')::float8) < 1e-9 AS log_loss_exact
  FROM galaxy.models m WHERE m.id = galaxy.deployed_model('three_s');
CREATE TABLE m2 AS SELECT i, x1, x2, b, label = 'high' AS high FROM m3;
ANALYZE m2;
SELECT metrics->>'solver' AS solver
  FROM galaxy.train('two_s', 'm2', 'high', algorithm => 'logistic_regression', test_size => 0,
                    features => ARRAY['x1', 'x2', 'b'], hyperparams => '{"solver": "streaming"}');
SELECT abs((metrics->>'roc_auc')::float8 - (galaxy.evaluate('two_s', 'm2')->>'roc_auc')::float8) < 1e-9 AS binary_auc_exact
  FROM galaxy.models WHERE id = galaxy.deployed_model('two_s');
-- ties: a score shared by rows of both classes counts a half (average ranks), as in memory
CREATE TABLE ties AS SELECT i, (i % 4)::float8 AS x1, (i % 3 = 0) AS c FROM generate_series(1, 400) i;
SELECT metrics->>'solver' AS solver, round((metrics->>'roc_auc')::numeric, 6) AS roc_auc
  FROM galaxy.train('ties_s', 'ties', 'c', algorithm => 'logistic_regression', test_size => 0,
                    features => ARRAY['x1'], hyperparams => '{"solver": "streaming"}');
SELECT abs((metrics->>'roc_auc')::float8 - (galaxy.evaluate('ties_s', 'ties')->>'roc_auc')::float8) < 1e-12 AS ties_exact
  FROM galaxy.models WHERE id = galaxy.deployed_model('ties_s');
-- held out (the split hashes each row's values and class): evaluate() on exactly the held-out rows
CREATE TABLE m3_held AS
SELECT * FROM m3
 WHERE galaxy_internal.logistic_proba((CASE label WHEN 'high' THEN 0 WHEN 'low' THEN 1 WHEN 'mid' THEN 2 END)::float8, 42, 0.2, 1,
                                      '{2,3,0,0,0,0,0,0,0,1,1,1,0,0,0}'::float8[], x1::float8, x2::float8, b::int::float8) IS NOT NULL;
SELECT count(*) = (SELECT (metrics->>'test_rows')::int FROM galaxy.models WHERE id = galaxy.deployed_model('m3held')) AS same_rows,
       abs((galaxy.evaluate('m3held', 'm3_held')->>'roc_auc')::float8 -
           (SELECT (metrics->>'roc_auc')::float8 FROM galaxy.models WHERE id = galaxy.deployed_model('m3held'))) < 1e-9 AS held_out_auc_exact
  FROM m3_held;

-- a table four times galaxy.max_training_memory with three classes trains with "auto" (streaming)
CREATE TABLE wide3 AS
SELECT i, random() AS x1, random() AS x2, random() AS x3, random() AS x4, random() AS x5, random() AS x6, random() AS x7
  FROM generate_series(1, 150000) i;
ALTER TABLE wide3 ADD COLUMN c int;
UPDATE wide3 SET c = CASE WHEN x1 + x2 < 0.8 THEN 0 WHEN x1 + x2 < 1.2 + (x7 - 0.5) / 4 THEN 1 ELSE 2 END;
VACUUM ANALYZE wide3;
SET galaxy.max_training_memory = '4MB';
SELECT try($$SELECT galaxy.train('wide3_mem', 'wide3', 'c', algorithm => 'logistic_regression', task => 'classification',
                                 features => ARRAY['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'],
                                 hyperparams => '{"solver": "in_memory"}')$$) LIKE '54000: loading relation "wide3"%' AS in_memory_refused;
SELECT metrics->>'solver' AS solver, (metrics->>'accuracy')::float8 > 0.9 AS accurate, metrics->>'converged' AS converged,
       jsonb_array_length(metrics->'confusion_matrix') AS classes
  FROM galaxy.train('wide3', 'wide3', 'c', algorithm => 'logistic_regression', task => 'classification',
                    features => ARRAY['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7']);
RESET galaxy.max_training_memory;

-- too many parameters for a Hessian: 0A000 with "streaming"; "auto" stays in memory even when the
-- table is larger than galaxy.max_training_memory (the in-memory fit is then refused for its L-BFGS state)
CREATE TABLE many AS SELECT (i % 7)::float8 AS x1, (i % 11)::float8 AS x2, (i % 13)::float8 AS x3,
                            (i % 17)::float8 AS x4, (i % 19)::float8 AS x5, (i % 200)::text AS c200
  FROM generate_series(1, 12000) i;
VACUUM ANALYZE many;
SELECT try($$SELECT galaxy.train('bad', 'many', 'c200', algorithm => 'logistic_regression', hyperparams => '{"solver": "streaming"}')$$);
SET galaxy.max_training_memory = '1MB';
SELECT try($$SELECT galaxy.train('bad', 'many', 'c200', algorithm => 'logistic_regression')$$)
       LIKE '54000: the L-BFGS state of logistic_regression%' AS auto_stayed_in_memory;
RESET galaxy.max_training_memory;
UPDATE many SET c200 = (random() * 1000)::int::text;
SELECT try($$SELECT galaxy.train('bad', 'many', 'c200', algorithm => 'logistic_regression', hyperparams => '{"solver": "streaming"}')$$);
SELECT count(*) AS projects_left_by_failures FROM galaxy.projects WHERE name = 'bad';
