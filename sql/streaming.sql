--
-- The streaming solver and the moments aggregates (issue #18): the same
-- result serial, with parallel workers and across partitions; the state's
-- text and binary round trips; hostile states; streaming and in-memory fits
-- agree (NULLs, ridge, scalings, no intercept); a table larger than
-- galaxy.max_training_memory trains; every unsupported request is an ERROR
-- with its SQLSTATE.
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

-- 60,000 rows: y = 3 + 2 x1 - 0.5 x2 + 4 b + noise, x2 far from zero; NULLs in x1 and x2
SELECT setseed(0.18);
CREATE TABLE pts AS
SELECT i, random() * 10 AS x1, 1000 + random() * 5 AS x2, random() > 0.5 AS b, random() AS u
  FROM generate_series(1, 60000) i;
ALTER TABLE pts ADD COLUMN y float8;
UPDATE pts SET y = 3 + 2 * x1 - 0.5 * x2 + 4 * b::int + u;
CREATE TABLE pts_null AS SELECT * FROM pts;
UPDATE pts_null SET x1 = NULL WHERE i % 10 = 0;
UPDATE pts_null SET x2 = NULL WHERE i % 7 = 0;
UPDATE pts_null SET b = NULL WHERE i % 13 = 0;
UPDATE pts_null SET y = NULL WHERE i % 101 = 0;
ANALYZE pts, pts_null;

-- ---------------------------------------------------------------------------
-- The aggregate: OLS equals PostgreSQL's own regr_* on one feature
-- ---------------------------------------------------------------------------
SELECT round(c[1]::numeric, 8) = round(regr_intercept(y, x1)::numeric, 8) AS intercept_ok,
       round(c[2]::numeric, 8) = round(regr_slope(y, x1)::numeric, 8) AS slope_ok
  FROM (SELECT galaxy.moments_ols(galaxy.regression_moments(y, ARRAY[x1])) c FROM pts) s,
       pts
 GROUP BY c;
-- three features: the coefficients we generated
SELECT array_agg(round(v::numeric, 1)) FROM unnest(
    (SELECT galaxy.moments_ols(galaxy.regression_moments(y, ARRAY[x1, x2, b::int])) FROM pts)) v;

-- serial, parallel workers, and partitions give the same moments
CREATE TEMP TABLE serial AS
SELECT galaxy.regression_moments(y, ARRAY[x1, x2, b::int]) m FROM pts_null;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET force_parallel_mode = on;
EXPLAIN (COSTS OFF) SELECT galaxy.regression_moments(y, ARRAY[x1, x2, b::int]) FROM pts_null;
CREATE TEMP TABLE par AS
SELECT galaxy.regression_moments(y, ARRAY[x1, x2, b::int]) m FROM pts_null;
RESET force_parallel_mode;
RESET max_parallel_workers_per_gather;
CREATE TABLE parts (LIKE pts_null) PARTITION BY RANGE (i);
CREATE TABLE parts_1 PARTITION OF parts FOR VALUES FROM (MINVALUE) TO (20000);
CREATE TABLE parts_2 PARTITION OF parts FOR VALUES FROM (20000) TO (45000);
CREATE TABLE parts_3 PARTITION OF parts FOR VALUES FROM (45000) TO (MAXVALUE);
INSERT INTO parts SELECT * FROM pts_null;
SET enable_partitionwise_aggregate = on;
CREATE TEMP TABLE part AS
SELECT galaxy.regression_moments(y, ARRAY[x1, x2, b::int]) m FROM parts;
RESET enable_partitionwise_aggregate;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
-- the same rows, the same statistics: coefficients agree to 1e-9, relative (merge order changes the rounding)
SELECT (SELECT bool_and(abs(a - b) <= 1e-9 * greatest(1, abs(a)))
          FROM unnest(galaxy.moments_ols(s.m), galaxy.moments_ols(o.m)) x(a, b)) AS same_ols,
       galaxy.moments_summary(s.m)->'parts'->0->'rows' = galaxy.moments_summary(o.m)->'parts'->0->'rows' AS same_rows
  FROM serial s, (SELECT m FROM par UNION ALL SELECT m FROM part) o;
SELECT jsonb_pretty(galaxy.moments_summary(m) #- '{parts,0,mean}' #- '{parts,0,stddev}' #- '{parts,0,min}' #- '{parts,0,max}')
  FROM serial;

-- text and binary round trips are exact
SELECT m::text::galaxy.moments::text = m::text AS text_round_trip FROM serial;
CREATE TEMP TABLE back (m galaxy.moments);
DO $$
DECLARE f text := '/tmp/galaxy_moments_' || pg_backend_pid() || '.copy';
BEGIN
    EXECUTE format('COPY serial TO %L WITH (FORMAT binary)', f);
    EXECUTE format('COPY back FROM %L WITH (FORMAT binary)', f);
END
$$;
SELECT b.m::text = s.m::text AS binary_round_trip FROM back b, serial s;
-- merging a state with itself doubles the rows, keeps the coefficients
SELECT (galaxy.moments_summary(galaxy_internal.moments_combine(m, m))->'parts'->0->>'rows')::int AS doubled,
       (SELECT bool_and(abs(a - b) < 1e-9)
          FROM unnest(galaxy.moments_ols(galaxy_internal.moments_combine(m, m)), galaxy.moments_ols(m)) x(a, b)) AS same_ols
  FROM serial;

-- hostile and malformed values: ERRORs, never a crash
SELECT try($$SELECT 'nonsense'::galaxy.moments$$);
SELECT try($$SELECT 'GMO1:'::galaxy.moments$$);
SELECT try($$SELECT 'GMO1:0g'::galaxy.moments$$);
SELECT try($$SELECT 'GMO1:474d4f31'::galaxy.moments$$);
SELECT try($$SELECT ('GMO1:474d4f31000000020000000100000000' || repeat('00', 24))::galaxy.moments$$);
-- a valid value with one byte changed: its count, its mean, its length
SELECT try(format('SELECT %L::galaxy.moments', overlay(m::text PLACING 'ff' FROM 2 * 40 + 6 FOR 2))) FROM serial;
SELECT try(format('SELECT %L::galaxy.moments', overlay(m::text PLACING '7ff8' FROM 2 * 56 + 6 FOR 4))) FROM serial;
SELECT try(format('SELECT %L::galaxy.moments', m::text || '00')) FROM serial;
SELECT try($$SELECT galaxy.regression_moments(y, x) FROM (VALUES (1.0::float8, ARRAY[1.0::float8]), (2.0, ARRAY[1.0, 2.0])) v(y, x)$$);
SELECT try($$SELECT galaxy.regression_moments(y, x) FROM (VALUES (1.0::float8, NULL::float8[])) v(y, x)$$);
SELECT try($$SELECT galaxy.regression_moments(y, x) FROM (VALUES (1.0::float8, ARRAY[['1'::float8]])) v(y, x)$$);
SELECT try($$SELECT galaxy.regression_moments(y, x) FROM (VALUES ('NaN'::float8, ARRAY[1.0::float8])) v(y, x)$$);
SELECT try($$SELECT galaxy.regression_moments(y, x) FROM (VALUES (1.0::float8, ARRAY['Infinity'::float8])) v(y, x)$$);
SELECT try($$SELECT galaxy.regression_moments(1, '{}'::float8[])$$);
SELECT try($$SELECT galaxy.moments_ols(m, -1) FROM serial$$);
SELECT try($$SELECT galaxy_internal.moments_combine(s.m, b.m) FROM serial s,
                 (SELECT galaxy.regression_moments(y, ARRAY[x1]) m FROM pts) b$$);
SELECT try($$SELECT galaxy_internal.split_moments(y, ARRAY[x1], 1, 1.5, NULL) FROM pts$$);
-- the pass's two forms (features as an array, or as separate arguments) build the same state
SELECT a::text = v::text AS same_state
  FROM (SELECT galaxy_internal.split_moments(y, ARRAY[x1, x2, b::int], 5, 0.3, NULL) a,
               galaxy_internal.split_moments_values(y, 5, 0.3, NULL, x1, x2, b::int::float8) v FROM pts_null) s;
SELECT try($$SELECT galaxy_internal.split_moments_values(y, 5, 0.3, NULL, x1, 1) FROM pts$$);
SELECT try($$SELECT galaxy_internal.split_moments_values(y, 5, 0.3, NULL, VARIADIC ARRAY[x1]) FROM pts$$);
-- with a sample of the rows (the training profile's): level 0 keeps every row (up to 32,768); the
-- two forms agree, the statistics are those of the unsampled state, the text form reads back
CREATE TABLE sampled AS
SELECT galaxy_internal.split_moments(y, ARRAY[x1, x2, b::int], 5, 0.3, 0) a,
       galaxy_internal.split_moments_values(y, 5, 0.3, 0, x1, x2, b::int::float8) v,
       galaxy_internal.split_moments_values(y, 5, 0.3, 3, x1, x2, b::int::float8) v3,
       galaxy_internal.split_moments_values(y, 5, 0.3, NULL, x1, x2, b::int::float8) plain,
       count(*) AS n
  FROM pts_null;
SELECT a::text = v::text AS same_sampled_state,
       galaxy.moments_summary(v) = galaxy.moments_summary(plain) AS same_statistics,
       v::text::galaxy.moments::text = v::text AS text_round_trip,
       length(v::text) > length(plain::text) AS carries_rows,
       length(v3::text) < length(v::text) AS level_3_fewer
  FROM sampled;
SELECT try($$SELECT galaxy_internal.split_moments(y, ARRAY[x1], 1, 0.2, -1) FROM pts$$);
SELECT try($$SELECT galaxy_internal.split_moments_values(y, 1, 0.2, 65, x1) FROM pts$$);
SELECT try($$SELECT galaxy_internal.moments_combine(v, plain) FROM sampled$$);
-- a sampled state cut short, or with a row count beyond its rows
SELECT try(format('SELECT %L::galaxy.moments', left(v::text, -8))) FROM sampled;
SELECT try(format('SELECT %L::galaxy.moments', v::text || '0000000000000000')) FROM sampled;
-- only NULL targets: a state with no rows
SELECT galaxy.moments_summary(galaxy.regression_moments(NULL, ARRAY[x1])) ->> 'skipped_rows' FROM pts;
SELECT try($$SELECT galaxy.moments_ols(galaxy.regression_moments(NULL, ARRAY[x1])) FROM pts$$);

-- ---------------------------------------------------------------------------
-- train(): streaming and in-memory give the same model on the same rows
-- ---------------------------------------------------------------------------
CREATE FUNCTION both_ways(tag text, rel text, hp jsonb, prep jsonb DEFAULT NULL) RETURNS TABLE (what text, same boolean)
LANGUAGE plpgsql AS $$
DECLARE
    s text := tag || '_s';
    m text := tag || '_m';
    r_s float8;
    r_m float8;
BEGIN
    PERFORM galaxy.train(s, rel, 'y', algorithm => 'linear_regression', test_size => 0,
                         features => ARRAY['x1', 'x2', 'b'], preprocess => prep,
                         hyperparams => hp || '{"solver": "streaming"}');
    PERFORM galaxy.train(m, rel, 'y', algorithm => 'linear_regression', test_size => 0,
                         features => ARRAY['x1', 'x2', 'b'], preprocess => prep,
                         hyperparams => hp || '{"solver": "in_memory"}');
    SELECT (metrics->>'r2')::float8 INTO r_s FROM galaxy.models WHERE id = galaxy.deployed_model(s);
    SELECT (metrics->>'r2')::float8 INTO r_m FROM galaxy.models WHERE id = galaxy.deployed_model(m);
    what := 'r2'; same := abs(r_s - r_m) <= 1e-9 * greatest(1, abs(r_m)); RETURN NEXT;
    what := 'predictions';
    SELECT bool_and(abs(galaxy.predict(s, ARRAY[x1, x2, b::int]) - galaxy.predict(m, ARRAY[x1, x2, b::int])) < 1e-8)
      INTO same FROM pts_null WHERE i <= 2000;
    RETURN NEXT;
    what := 'solver';
    SELECT metrics->>'solver' = 'streaming' INTO same FROM galaxy.models WHERE id = galaxy.deployed_model(s);
    RETURN NEXT;
END
$$;
SELECT * FROM both_ways('plain', 'pts', '{}');
SELECT * FROM both_ways('nulls', 'pts_null', '{}');
SELECT * FROM both_ways('ridge', 'pts_null', '{"alpha": 25}');
SELECT * FROM both_ways('noint', 'pts_null', '{"fit_intercept": false}');
SELECT * FROM both_ways('minmax', 'pts_null', '{}', '{"scale": "minmax", "impute": "zero"}');
SELECT * FROM both_ways('raw', 'pts_null', '{}', '{"scale": "none", "columns": {"b": {"impute": "median"}}}');
SELECT * FROM both_ways('parts', 'parts', '{}');

-- a held-out split: metrics from the held-out moments, rows counted
SELECT (metrics->>'training_rows')::int + (metrics->>'test_rows')::int AS usable_rows,
       (metrics->>'test_rows')::int BETWEEN 11000 AND 13000 AS about_20_percent,
       metrics->>'evaluated_on' AS evaluated_on,
       round((metrics->>'r2')::numeric, 2) AS r2,
       metrics ? 'mae' AS has_mae
  FROM galaxy.train('held', 'pts_null', 'y', algorithm => 'linear_regression',
                    hyperparams => '{"solver": "streaming"}', features => ARRAY['x1', 'x2', 'b']);
-- the same seed puts the same rows aside: the same model again
SELECT t.metrics->>'r2' = (SELECT metrics->>'r2' FROM galaxy.models WHERE id = galaxy.deployed_model('held')) AS deterministic,
       t.metrics->>'test_rows' = (SELECT metrics->>'test_rows' FROM galaxy.models WHERE id = galaxy.deployed_model('held')) AS same_split
  FROM galaxy.train('held2', 'pts_null', 'y', algorithm => 'linear_regression',
                    hyperparams => '{"solver": "streaming"}', features => ARRAY['x1', 'x2', 'b']) t;

-- a table four times galaxy.max_training_memory trains with "auto" (streaming), not in memory
CREATE TABLE wide AS
SELECT i, random() AS x1, random() AS x2, random() AS x3, random() AS x4, random() AS x5, random() AS x6, random() AS x7
  FROM generate_series(1, 150000) i;
ALTER TABLE wide ADD COLUMN y float8;
UPDATE wide SET y = x1 + 2 * x2 - x7;
VACUUM ANALYZE wide;
SET galaxy.max_training_memory = '4MB';
SELECT try($$SELECT galaxy.train('wide_mem', 'wide', 'y', algorithm => 'linear_regression',
                                 hyperparams => '{"solver": "in_memory"}')$$) LIKE '54000: loading relation "wide"%' AS in_memory_refused;
SELECT metrics->>'solver' AS solver, round((metrics->>'r2')::numeric, 6) AS r2
  FROM galaxy.train('wide', 'wide', 'y', algorithm => 'linear_regression',
                    features => ARRAY['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7']);
RESET galaxy.max_training_memory;
-- and the model predicts like the formula
SELECT round(galaxy.predict('wide', ARRAY[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25])::numeric, 6) AS predicted;

-- ---------------------------------------------------------------------------
-- What the streaming solver does not take: a clear ERROR (0A000)
-- ---------------------------------------------------------------------------
CREATE TABLE mixed AS SELECT i, x1, y, CASE WHEN b THEN 'yes' ELSE 'no' END AS label FROM pts;
SELECT try($$SELECT galaxy.train('bad', 'mixed', 'y', algorithm => 'linear_regression', hyperparams => '{"solver": "streaming"}')$$);
SELECT try($$SELECT galaxy.train('bad', 'pts', 'y', algorithm => 'linear_regression', hyperparams => '{"solver": "streaming"}', folds => 3)$$);
SELECT try($$SELECT galaxy.train('bad', 'pts', 'y', algorithm => 'linear_regression', hyperparams => '{"solver": "streaming"}',
                                 search => 'grid', search_space => '{"alpha": [0, 1]}')$$);
SELECT try($$SELECT galaxy.train('bad', 'mixed', 'label', algorithm => 'linear_regression', hyperparams => '{"solver": "streaming"}')$$);
SELECT try($$SELECT galaxy.train('bad', 'pts_null', 'y', algorithm => 'linear_regression', hyperparams => '{"solver": "streaming"}',
                                 features => ARRAY['x1'], preprocess => '{"impute": "median"}')$$);
SELECT try($$SELECT galaxy.train('bad', 'pts_null', 'y', algorithm => 'linear_regression', hyperparams => '{"solver": "streaming"}',
                                 features => ARRAY['x1'], preprocess => '{"impute": "error"}')$$);
SELECT try($$SELECT galaxy.train('bad', 'pts', 'y', algorithm => 'linear_regression', hyperparams => '{"solver": "fast"}')$$);
SELECT try($$SELECT galaxy.train('bad', 'pts', 'y', algorithm => 'linear_regression', hyperparams => '{"solver": "streaming"}', test_size => 0.99999)$$);
CREATE TABLE empty_pts (x1 float8, y float8);
SELECT try($$SELECT galaxy.train('bad', 'empty_pts', 'y', algorithm => 'linear_regression', hyperparams => '{"solver": "streaming"}')$$);
SELECT count(*) AS projects_left_by_failures FROM galaxy.projects WHERE name = 'bad';

-- ---------------------------------------------------------------------------
-- logistic_regression: Newton passes of galaxy_internal.logistic_pass
-- ---------------------------------------------------------------------------
-- 60,000 rows, two classes from a logistic model; NULLs in x1; a text label too
SELECT setseed(0.25);
CREATE TABLE lg AS
SELECT i, random() * 10 AS x1, 1000 + random() * 5 AS x2, random() > 0.5 AS b FROM generate_series(1, 60000) i;
ALTER TABLE lg ADD COLUMN y int;
UPDATE lg SET y = (random() < 1 / (1 + exp(-(0.5 * x1 - 2.5 + 0.8 * (x2 - 1002.5) + b::int))))::int;
UPDATE lg SET x1 = NULL WHERE i % 10 = 0;
UPDATE lg SET y = NULL WHERE i % 97 = 0;
CREATE TABLE lgt AS SELECT i, x1, x2, b, CASE y WHEN 1 THEN 'yes' WHEN 0 THEN 'no' END AS label FROM lg;
ANALYZE lg, lgt;

-- the pass: serial, with parallel workers and across partitions, the same state (sums: to rounding)
CREATE TEMP TABLE lserial AS
SELECT galaxy_internal.logistic_pass(y::float8, 7, 0.2, ARRAY[1, 1, -0.5, 0.3, 0.2, 0.4, 5, 1002.5, 2.9, 1.4, 0.3, 0.5, 5, 1002.5, 0]::float8[],
                                     x1, x2, b::int::float8) s FROM lg;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET force_parallel_mode = on;
EXPLAIN (COSTS OFF)
SELECT galaxy_internal.logistic_pass(y::float8, 7, 0.2, ARRAY[1, 1, -0.5, 0.3, 0.2, 0.4, 5, 1002.5, 2.9, 1.4, 0.3, 0.5, 5, 1002.5, 0]::float8[],
                                     x1, x2, b::int::float8) FROM lg;
CREATE TEMP TABLE lpar AS
SELECT galaxy_internal.logistic_pass_array(y::float8, ARRAY[x1, x2, b::int], 7, 0.2,
                                           ARRAY[1, 1, -0.5, 0.3, 0.2, 0.4, 5, 1002.5, 2.9, 1.4, 0.3, 0.5, 5, 1002.5, 0]::float8[]) s FROM lg;
RESET force_parallel_mode;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
-- the same header and point, the same training rows (the sums differ in their rounding only)
SELECT substr(a.s::text, 1, 5 + 2 * (36 + 8 * 15)) = substr(b.s::text, 1, 5 + 2 * (36 + 8 * 15)) AS same_header_and_point,
       substr(a.s::text, 6 + 2 * 156, 16) = substr(b.s::text, 6 + 2 * 156, 16) AS same_training_rows,
       galaxy_internal.newton_combine(a.s, a.s)::text <> a.s::text AS combine_adds,
       a.s::text::galaxy.newton::text = a.s::text AS text_round_trip
  FROM lserial a, lpar b;
-- text and binary round trips are exact
CREATE TEMP TABLE nback (s galaxy.newton);
DO $$
DECLARE f text := '/tmp/galaxy_newton_' || pg_backend_pid() || '.copy';
BEGIN
    EXECUTE format('COPY lserial TO %L WITH (FORMAT binary)', f);
    EXECUTE format('COPY nback FROM %L WITH (FORMAT binary)', f);
END
$$;
SELECT b.s::text = a.s::text AS binary_round_trip FROM nback b, lserial a;

-- hostile and malformed states and arguments: ERRORs, never a crash
SELECT try($$SELECT 'GNS1:'::galaxy.newton$$);
SELECT try($$SELECT 'GMO1:474e5331'::galaxy.newton$$);
SELECT try($$SELECT 'GNS1:474e5331000000030000000200'::galaxy.newton$$);
-- a valid value with a row count, a class weight, its length changed
SELECT try(format('SELECT %L::galaxy.newton', overlay(s::text PLACING 'ff' FROM 6 + 2 * 156 FOR 2))) FROM lserial;
SELECT try(format('SELECT %L::galaxy.newton', overlay(s::text PLACING 'bff0' FROM 6 + 2 * 36 FOR 4))) FROM lserial;
SELECT try(format('SELECT %L::galaxy.newton', s::text || '00')) FROM lserial;
SELECT try($$SELECT galaxy_internal.logistic_pass(2, 1, 0.2, ARRAY[1, 1, 0, 0, 0, 1, 0]::float8[], 1.0::float8)$$);
SELECT try($$SELECT galaxy_internal.logistic_pass(1, 1, 0.2, ARRAY[1, 1, 0, 0, 0, 1]::float8[], 1.0::float8)$$);
SELECT try($$SELECT galaxy_internal.logistic_pass(1, 1, 0.2, ARRAY[1, 1, 0, 0, 0, 0, 0]::float8[], 1.0::float8)$$);
SELECT try($$SELECT galaxy_internal.logistic_pass(1, 1, 0.2, ARRAY[1, 1, 'NaN', 0, 0, 1, 0]::float8[], 1.0::float8)$$);
SELECT try($$SELECT galaxy_internal.logistic_pass(1, 1, 1.2, ARRAY[1, 1, 0, 0, 0, 1, 0]::float8[], 1.0::float8)$$);
SELECT try($$SELECT galaxy_internal.logistic_pass(1, 1, 0.2, NULL, 1.0::float8)$$);
SELECT try($$SELECT galaxy_internal.logistic_pass(1, 1, 0.2, ARRAY[1, 1, 0, 0, 0, 1, 0]::float8[], 'Infinity'::float8)$$);
-- states taken at different points do not merge
SELECT try($$SELECT galaxy_internal.newton_combine(a.s, (SELECT galaxy_internal.logistic_pass(1, 7, 0.2,
                 ARRAY[1, 1, -0.5, 0.3, 0.2, 0.4, 5, 1002.5, 2.9, 1.4, 0.3, 0.5, 5, 1002.5, 1]::float8[], 1.0::float8, 2.0::float8, 0.0::float8)))
               FROM lserial a$$);

-- train(): streaming and in-memory reach the same optimum on the same rows (test_size 0):
-- the same confusion matrix, log loss within 1e-6 and class probabilities within 1e-5 (the
-- in-memory L-BFGS stops at a relative decrease of 2e-9, short of Newton's optimum by ~1e-7)
CREATE FUNCTION both_logistic(tag text, rel text, target text, hp jsonb, prep jsonb DEFAULT NULL)
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
    what := 'confusion_matrix'; same := ms->'confusion_matrix' = mm->'confusion_matrix'; RETURN NEXT;
    what := 'log_loss'; same := abs((ms->>'log_loss')::float8 - (mm->>'log_loss')::float8) < 1e-6; RETURN NEXT;
    what := 'probabilities';
    SELECT max(abs((galaxy.predict_proba(s, ARRAY[x1, x2, b::int]))[2] - (galaxy.predict_proba(m, ARRAY[x1, x2, b::int]))[2])) < 1e-5
      INTO same FROM lg WHERE i <= 2000;
    RETURN NEXT;
    what := 'converged'; same := (ms->>'converged')::boolean AND (ms->>'newton_passes')::int < 20; RETURN NEXT;
END
$$;
SELECT * FROM both_logistic('lplain', 'lg', 'y', '{}');
SELECT * FROM both_logistic('lstrong', 'lg', 'y', '{"C": 0.001, "class_weight": "balanced"}');
SELECT * FROM both_logistic('lnoint', 'lgt', 'label', '{"fit_intercept": false}', '{"scale": "minmax"}');

-- held out: text labels in their order, metrics from the held-out counts, the same split each time
SELECT (metrics->>'training_rows')::int + (metrics->>'test_rows')::int AS usable_rows,
       (metrics->>'test_rows')::int BETWEEN 11000 AND 13000 AS about_20_percent,
       metrics->>'evaluated_on' AS evaluated_on,
       round((metrics->>'accuracy')::numeric, 2) AS accuracy,
       jsonb_array_length(metrics->'confusion_matrix') AS classes
  FROM galaxy.train('lheld', 'lgt', 'label', algorithm => 'logistic_regression',
                    hyperparams => '{"solver": "streaming"}', features => ARRAY['x1', 'x2', 'b']);
SELECT galaxy.predict_label('lheld', ARRAY[9.0, 1004, 1]) AS likely_yes, galaxy.predict_label('lheld', ARRAY[0.0, 1000, 0]) AS likely_no;

-- a table four times galaxy.max_training_memory trains with "auto" (streaming), not in memory
ALTER TABLE wide ADD COLUMN c boolean;
UPDATE wide SET c = x1 + x2 > 1 + (x7 - 0.5) / 4;
VACUUM ANALYZE wide;
SET galaxy.max_training_memory = '4MB';
SELECT try($$SELECT galaxy.train('wide_lmem', 'wide', 'c', algorithm => 'logistic_regression',
                                 features => ARRAY['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'],
                                 hyperparams => '{"solver": "in_memory"}')$$) LIKE '54000: loading relation "wide"%' AS in_memory_refused;
SELECT metrics->>'solver' AS solver, (metrics->>'accuracy')::float8 > 0.97 AS accurate, metrics->>'converged' AS converged
  FROM galaxy.train('wide_l', 'wide', 'c', algorithm => 'logistic_regression',
                    features => ARRAY['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7']);
RESET galaxy.max_training_memory;

-- what it does not take: a clear ERROR (0A000)
-- (three classes or more stream too: sql/streaming_multiclass.sql; more than 256 do not)
CREATE TABLE three AS SELECT i, x1, x2, b, (i % 3)::text AS label, (i % 300)::text AS many FROM lg;
SELECT try($$SELECT galaxy.train('bad', 'three', 'many', algorithm => 'logistic_regression', hyperparams => '{"solver": "streaming"}',
                                 features => ARRAY['x1', 'x2', 'b'])$$);
SELECT try($$SELECT galaxy.train('bad', 'lgt', 'label', algorithm => 'logistic_regression', hyperparams => '{"solver": "streaming"}',
                                 features => ARRAY['x1', 'x2', 'b'], task => 'regression')$$);
SELECT try($$SELECT galaxy.train('bad', 'three', 'b', algorithm => 'logistic_regression', hyperparams => '{"solver": "streaming"}',
                                 features => ARRAY['x1', 'label'])$$);
SELECT count(*) AS projects_left_by_failures FROM galaxy.projects WHERE name = 'bad';
