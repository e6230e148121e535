-- neural_network (alias mlp) contracts: its rows in galaxy.algorithms and
-- galaxy.algorithm_hyperparameters; every bad hyperparameter, bad data set,
-- damaged model value and bad prediction input is an ERROR with a fitting
-- SQLSTATE, never a crash or a silently wrong model.
--
-- Checks under todo() pin what galaxy should do but does not yet; each names
-- the place in src/ to fix.  Remove the todo() when the fix lands.
BEGIN;
SELECT plan(128);

-- the server must not restart underneath this file (checked at the end)
CREATE TEMP TABLE nn_start AS SELECT pg_postmaster_start_time() AS started, pg_backend_pid() AS pid;

SET LOCAL client_min_messages = warning;

-- ---------------------------------------------------------------------------
-- Fixtures
-- ---------------------------------------------------------------------------
CREATE TABLE nn_cls AS
SELECT (g % 7)::float8 AS x1, (g % 11)::float8 AS x2, (g % 5)::float8 AS x3,
       CASE g % 3 WHEN 0 THEN 'a' WHEN 1 THEN 'b' ELSE 'c' END AS label
  FROM generate_series(1, 90) g;
CREATE TABLE nn_bin AS
SELECT (g % 7)::float8 AS x1, (g % 11)::float8 AS x2, g % 7 > 3 AS label FROM generate_series(1, 80) g;
CREATE TABLE nn_reg AS
SELECT (g % 7)::float8 AS x1, (g % 11)::float8 AS x2, (3 * (g % 7) - 2 * (g % 11))::float8 AS y
  FROM generate_series(1, 80) g;
-- array features: real[] of length 3
CREATE TABLE nn_arr AS
SELECT ARRAY[g % 7, g % 5, g % 3]::real[] AS x, g % 2 = 0 AS y FROM generate_series(1, 60) g;
CREATE TABLE nn_arr_nan AS SELECT * FROM nn_arr;
UPDATE nn_arr_nan SET x[2] = 'NaN' WHERE ctid = (SELECT min(ctid) FROM nn_arr_nan);
CREATE TABLE nn_arr_inf AS SELECT * FROM nn_arr;
UPDATE nn_arr_inf SET x[3] = '-Infinity' WHERE ctid = (SELECT min(ctid) FROM nn_arr_inf);
CREATE TABLE nn_arr_ragged AS SELECT * FROM nn_arr;
INSERT INTO nn_arr_ragged VALUES (ARRAY[1, 2]::real[], true);
CREATE TABLE nn_arr_empty AS SELECT * FROM nn_arr;
INSERT INTO nn_arr_empty VALUES ('{}'::real[], true);
CREATE TABLE nn_arr_empty_first (x real[], y boolean);
INSERT INTO nn_arr_empty_first VALUES ('{}', true);
INSERT INTO nn_arr_empty_first SELECT * FROM nn_arr;
CREATE TABLE nn_arr_2d AS SELECT * FROM nn_arr;
INSERT INTO nn_arr_2d VALUES ('{{1,2,3}}'::real[], true);
CREATE TABLE nn_arr_nulls AS SELECT * FROM nn_arr;
INSERT INTO nn_arr_nulls VALUES (NULL, true), (ARRAY[NULL, 1, 2]::real[], false);
CREATE TABLE nn_arr_all_null AS SELECT NULL::real[] AS x, y FROM nn_arr;
CREATE TABLE nn_num_nan AS SELECT * FROM nn_reg;
UPDATE nn_num_nan SET x1 = 'NaN' WHERE ctid = (SELECT min(ctid) FROM nn_num_nan);
-- rows to predict from, with nn_arr's column name
CREATE TABLE nn_row_short AS SELECT ARRAY[1, 2]::real[] AS x;
CREATE TABLE nn_row_long AS SELECT ARRAY[1, 2, 3, 4]::real[] AS x;
CREATE TABLE nn_row_empty AS SELECT '{}'::real[] AS x;
CREATE TABLE nn_row_2d AS SELECT '{{1,2,3}}'::real[] AS x;
CREATE TABLE nn_row_nan AS SELECT ARRAY[1, 'NaN', 3]::real[] AS x;
CREATE TABLE nn_row_null AS SELECT NULL::real[] AS x;

-- "SQLSTATE | message | detail | hint" of a statement's error
CREATE FUNCTION pg_temp.error_of(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    st text;
    msg text;
    det text;
    hnt text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
                            hnt = PG_EXCEPTION_HINT;
    RETURN st || ' | ' || msg || ' | ' || coalesce(det, '') || ' | ' || coalesce(hnt, '');
END $$;

-- train nn_cls with the given hyperparameters (as SQL text for throws_ok)
CREATE FUNCTION pg_temp.cls(hp text) RETURNS text LANGUAGE sql AS $$
    SELECT format('SELECT galaxy.train(%L, %L, %L, algorithm => %L, hyperparams => %L, deploy => %L)',
                  'nn_p', 'nn_cls', 'label', 'neural_network', hp, 'never')
$$;

-- ---------------------------------------------------------------------------
-- the registry
-- ---------------------------------------------------------------------------
SELECT results_eq($$SELECT name, tasks::text, default_scaling FROM galaxy.algorithms WHERE name = 'neural_network'$$,
                  $$VALUES ('neural_network', '{regression,classification}', true)$$,
                  'galaxy.algorithms: neural_network does regression and classification, scaled by default');
SELECT is((SELECT count(*) FROM galaxy.algorithms WHERE name = 'mlp'), 0::bigint,
          'the alias mlp is not a second row of galaxy.algorithms');
SELECT set_eq($$SELECT name FROM galaxy.algorithm_hyperparameters WHERE algorithm = 'neural_network'$$,
              ARRAY['hidden_layers', 'activation', 'dropout', 'batch_norm', 'optimizer', 'learning_rate', 'momentum',
                    'nesterov', 'lr_schedule', 'lr_step_size', 'lr_gamma', 'lr_patience', 'batch_size', 'epochs',
                    'early_stopping_rounds', 'validation_fraction', 'weight_decay', 'class_weight', 'loss',
                    'huber_delta', 'clip_norm', 'seed', 'init'],
              'the 23 hyperparameters of neural_network');
SELECT results_eq(
    $$SELECT name, type, default_value, min_value, max_value, min_exclusive
        FROM galaxy.algorithm_hyperparameters
       WHERE algorithm = 'neural_network'
         AND name IN ('hidden_layers', 'epochs', 'batch_size', 'dropout', 'learning_rate', 'validation_fraction',
                      'early_stopping_rounds', 'lr_gamma', 'huber_delta', 'seed')
       ORDER BY name$$,
    $$VALUES ('batch_size', 'integer', '200', 1::float8, 65536::float8, false),
             ('dropout', 'float', '0', 0, 0.9, false),
             ('early_stopping_rounds', 'integer', '10', 0, 100000, false),
             ('epochs', 'integer', '100', 1, 100000, false),
             ('hidden_layers', 'integer[]', '[100]', 1, 1048576, false),
             ('huber_delta', 'float', '1', 0, 1000000, true),
             ('learning_rate', 'float', '0.001', 0, 10, true),
             ('lr_gamma', 'float', '0.1', 0, 1, true),
             ('seed', 'integer', '-1', -1, 2147483647, false),
             ('validation_fraction', 'float', '0.1', 0, 0.5, false)$$,
    'types, defaults and ranges of the numeric hyperparameters (hidden_layers: integer[], default [100])');
SELECT results_eq(
    $$SELECT name, type, default_value, choices FROM galaxy.algorithm_hyperparameters
       WHERE algorithm = 'neural_network' AND type IN ('choice', 'boolean') ORDER BY name$$,
    $$VALUES ('activation', 'choice', 'relu', 'relu,leaky_relu,tanh,sigmoid,gelu'),
             ('batch_norm', 'boolean', 'false', NULL),
             ('class_weight', 'choice', 'none', 'none,balanced'),
             ('init', 'choice', 'auto', 'auto,he,glorot,uniform'),
             ('loss', 'choice', 'auto', 'auto,cross_entropy,binary_cross_entropy,mse,huber'),
             ('lr_schedule', 'choice', 'constant', 'constant,step,cosine,plateau'),
             ('nesterov', 'boolean', 'false', NULL),
             ('optimizer', 'choice', 'adam', 'adam,adamw,sgd')$$,
    'choices and booleans with their defaults');
SELECT is((SELECT hyperparameters->'hidden_layers'->>'type' FROM galaxy.algorithms WHERE name = 'neural_network'),
          'integer[]', 'galaxy.algorithms.hyperparameters agrees: hidden_layers is integer[]');
SELECT is((SELECT algorithm FROM galaxy.train('nn_alias', 'nn_cls', 'label', algorithm => 'mlp',
                                              hyperparams => '{"hidden_layers": [2], "epochs": 1}', deploy => 'never')),
          'neural_network', 'train with algorithm mlp stores neural_network');

-- ---------------------------------------------------------------------------
-- bad hyperparameters: 22023 naming the parameter (checked before any data is read)
-- ---------------------------------------------------------------------------
SELECT throws_ok(pg_temp.cls('{"hidden_layers": [0]}'), '22023',
                 'hyperparameter "hidden_layers" = 0 is out of range for neural_network', 'hidden_layers [0]');
SELECT throws_ok(pg_temp.cls('{"hidden_layers": [-1]}'), '22023',
                 'hyperparameter "hidden_layers" = -1 is out of range for neural_network', 'hidden_layers [-1]');
SELECT throws_ok(pg_temp.cls('{"hidden_layers": [8, 0, 8]}'), '22023', NULL, 'hidden_layers with a 0 inside');
SELECT throws_ok(pg_temp.cls('{"hidden_layers": 0}'), '22023', NULL, 'hidden_layers 0 as a single integer');
SELECT throws_ok(pg_temp.cls('{"hidden_layers": [1048577]}'), '22023', NULL, 'hidden_layers above 2^20 units');
SELECT throws_ok(pg_temp.cls('{"hidden_layers": [1e30]}'), '22023', NULL, 'hidden_layers [1e30]');
SELECT throws_ok(pg_temp.cls('{"hidden_layers": "abc"}'), '22023',
                 'hyperparameter "hidden_layers" of neural_network must be an array of integers, e.g. [64, 32]',
                 'hidden_layers "abc"');
SELECT throws_ok(pg_temp.cls('{"hidden_layers": {"a": 1}}'), '22023',
                 'hyperparameter "hidden_layers" of neural_network must be an array of integers, e.g. [64, 32]',
                 'hidden_layers {"a": 1}');
SELECT throws_ok(pg_temp.cls('{"hidden_layers": ["8"]}'), '22023', NULL, 'hidden_layers ["8"]');
SELECT throws_ok(pg_temp.cls('{"hidden_layers": [null]}'), '22023', NULL, 'hidden_layers [null]');
SELECT throws_ok(pg_temp.cls('{"hidden_layers": null}'), '22023', NULL, 'hidden_layers null');
SELECT throws_ok(pg_temp.cls('{"hidden_layers": [[4]]}'), '22023', NULL, 'hidden_layers [[4]]');
SELECT throws_ok(pg_temp.cls('{"hidden_layers": [true]}'), '22023', NULL, 'hidden_layers [true]');
SELECT throws_ok(pg_temp.cls('{"hidden_layers": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}'), '22023',
                 'hyperparameter "hidden_layers" of neural_network has more than 16 elements', 'hidden_layers of 17 elements');
SELECT throws_ok(pg_temp.cls('{"hidden_layers": 2.5}'), '22023', NULL, 'hidden_layers 2.5 is not an integer');
SELECT throws_ok(pg_temp.cls('{"hidden_layers": [8, 2.5]}'), '22023', NULL, 'hidden_layers [8, 2.5] is not a list of integers');
SELECT is(pg_temp.error_of(pg_temp.cls('{"hidden_layers": [0]}')),
          '22023 | hyperparameter "hidden_layers" = 0 is out of range for neural_network | Allowed range: [1, 1048576]. | ',
          'the detail gives the exact range of a layer width');
SELECT lives_ok(pg_temp.cls('{"hidden_layers": 3, "epochs": 1}'), 'hidden_layers 3 is a list of one');
SELECT lives_ok(pg_temp.cls('{"hidden_layers": [], "epochs": 1}'), 'hidden_layers [] (no hidden layer)');
SELECT lives_ok(pg_temp.cls('{"hidden_layers": [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3], "epochs": 1}'),
                'hidden_layers of 16 elements');

-- too large for galaxy.max_training_memory: 54000 before anything is allocated
SET LOCAL galaxy.max_training_memory = '64MB';
SELECT throws_ok(pg_temp.cls('{"hidden_layers": [100000]}'), '54000', NULL,
                 '100000 units need more than galaxy.max_training_memory = 64MB');
SELECT throws_like(pg_temp.cls('{"hidden_layers": [100000]}'), '%the neural network needs % MB, more than galaxy.max_training_memory (64 MB)%',
                   'the message names the need and the limit');
SET LOCAL galaxy.max_training_memory = '4GB';
-- 16 hidden layers with batch norm and dropout are 65 layers: a network holds them
SELECT lives_ok(pg_temp.cls('{"hidden_layers": [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], "batch_norm": true, "dropout": 0.1, "epochs": 1}'),
                '16 hidden layers with batch norm and dropout');

SELECT throws_ok(pg_temp.cls('{"epochs": 0}'), '22023', 'hyperparameter "epochs" = 0 is out of range for neural_network', 'epochs 0');
SELECT throws_ok(pg_temp.cls('{"epochs": 1.5}'), '22023', NULL, 'epochs 1.5');
SELECT throws_ok(pg_temp.cls('{"epochs": 100001}'), '22023', NULL, 'epochs above 100000');
SELECT throws_ok(pg_temp.cls('{"dropout": 1}'), '22023', 'hyperparameter "dropout" = 1 is out of range for neural_network', 'dropout 1');
SELECT throws_ok(pg_temp.cls('{"dropout": -0.1}'), '22023', NULL, 'dropout -0.1');
SELECT throws_ok(pg_temp.cls('{"learning_rate": 0}'), '22023',
                 'hyperparameter "learning_rate" = 0 is out of range for neural_network', 'learning_rate 0 (exclusive minimum)');
SELECT throws_ok(pg_temp.cls('{"learning_rate": 11}'), '22023', NULL, 'learning_rate 11');
SELECT throws_ok(pg_temp.cls('{"learning_rate": "fast"}'), '22023', NULL, 'learning_rate as a string');
SELECT throws_ok(pg_temp.cls('{"optimizer": "rmsprop"}'), '22023',
                 'hyperparameter "optimizer" of neural_network has no choice "rmsprop"', 'unknown optimizer');
SELECT is(pg_temp.error_of(pg_temp.cls('{"optimizer": "rmsprop"}')),
          '22023 | hyperparameter "optimizer" of neural_network has no choice "rmsprop" |  | Valid choices: adam,adamw,sgd.',
          'the hint lists the optimizers');
SELECT throws_ok(pg_temp.cls('{"activation": "softmax"}'), '22023', NULL, 'unknown activation');
SELECT throws_ok(pg_temp.cls('{"lr_schedule": "linear"}'), '22023', NULL, 'unknown lr_schedule');
SELECT throws_ok(pg_temp.cls('{"class_weight": "auto"}'), '22023', NULL, 'unknown class_weight');
SELECT throws_ok(pg_temp.cls('{"loss": "hinge"}'), '22023', NULL, 'unknown loss');
SELECT throws_ok(pg_temp.cls('{"batch_norm": 1}'), '22023', NULL, 'batch_norm as a number');
SELECT throws_ok(pg_temp.cls('{"batch_size": 0}'), '22023', NULL, 'batch_size 0');
SELECT throws_ok(pg_temp.cls('{"validation_fraction": 0.6}'), '22023', NULL, 'validation_fraction above 0.5');
SELECT throws_ok(pg_temp.cls('{"momentum": 1}'), '22023', NULL, 'momentum 1');
SELECT throws_ok(pg_temp.cls('{"lr_gamma": 0}'), '22023', NULL, 'lr_gamma 0 (exclusive minimum)');
SELECT throws_ok(pg_temp.cls('{"huber_delta": 0}'), '22023', NULL, 'huber_delta 0 (exclusive minimum)');
SELECT throws_ok(pg_temp.cls('{"weight_decay": -1}'), '22023', NULL, 'negative weight_decay');
SELECT throws_ok(pg_temp.cls('{"clip_norm": -1}'), '22023', NULL, 'negative clip_norm');
SELECT throws_ok(pg_temp.cls('{"seed": -2}'), '22023', NULL, 'seed -2');
SELECT lives_ok(pg_temp.cls('{"seed": -1, "epochs": 1}'), 'seed -1 (train''s seed)');
SELECT throws_ok(pg_temp.cls('{"n_estimators": 10}'), '22023',
                 'unknown hyperparameter "n_estimators" for algorithm neural_network', 'a hyperparameter of another algorithm');

-- combinations that need the data (the task, the classes)
SELECT throws_ok(pg_temp.cls('{"loss": "mse"}'), '22023',
                 'loss "mse" is for regression; classification takes cross_entropy or binary_cross_entropy',
                 'loss mse on a classification target');
SELECT throws_ok(pg_temp.cls('{"loss": "huber"}'), '22023', NULL, 'loss huber on a classification target');
SELECT throws_ok($$SELECT galaxy.train('nn_p_reg', 'nn_reg', 'y', algorithm => 'neural_network', hyperparams => '{"loss": "cross_entropy"}')$$,
                 '22023', 'loss "cross_entropy" is for classification; regression takes mse or huber',
                 'loss cross_entropy on a regression target');
SELECT throws_ok($$SELECT galaxy.train('nn_p_reg', 'nn_reg', 'y', algorithm => 'neural_network', hyperparams => '{"loss": "binary_cross_entropy"}')$$,
                 '22023', NULL, 'loss binary_cross_entropy on a regression target');
SELECT throws_ok(pg_temp.cls('{"loss": "binary_cross_entropy"}'), '22023',
                 'loss "binary_cross_entropy" needs two classes, the target has 3', 'binary_cross_entropy with 3 classes');
SELECT lives_ok($$SELECT galaxy.train('nn_p_bin', 'nn_bin', 'label', algorithm => 'neural_network',
                                      hyperparams => '{"loss": "binary_cross_entropy", "epochs": 2}', deploy => 'never')$$,
                'binary_cross_entropy with 2 classes');
SELECT throws_ok(pg_temp.cls('{"early_stopping_rounds": 5, "validation_fraction": 0}'), '22023',
                 'early_stopping_rounds needs a validation split', 'early_stopping_rounds > 0 without a validation split');
SELECT lives_ok(pg_temp.cls('{"early_stopping_rounds": 0, "validation_fraction": 0, "epochs": 2}'),
                'early_stopping_rounds 0 without a validation split');
SELECT lives_ok(pg_temp.cls('{"validation_fraction": 0, "epochs": 2}'),
                'validation_fraction 0 with early stopping left at its default');
-- submit() checks the hyperparameters when called
SELECT throws_ok($$SELECT galaxy.submit('nn_job', 'nn_cls', 'label', algorithm => 'neural_network', hyperparams => '{"hidden_layers": [0]}')$$,
                 '22023', NULL, 'submit refuses hidden_layers [0] at once');
SELECT throws_ok($$SELECT galaxy.submit('nn_job', 'nn_cls', 'label', algorithm => 'mlp', hyperparams => '{"optimizer": "lbfgs"}')$$,
                 '22023', NULL, 'submit with the alias refuses an unknown optimizer at once');

-- a learning rate that blows the loss up: 22003, naming the epoch
SELECT throws_like($$SELECT galaxy.train('nn_p_reg', 'nn_reg', 'y', algorithm => 'neural_network',
                                         hyperparams => '{"hidden_layers": [64, 64], "optimizer": "sgd", "momentum": 0.99, "learning_rate": 10, "epochs": 50}')$$,
                   'neural network training diverged in epoch %', 'a diverging fit is an error');
SELECT throws_ok($$SELECT galaxy.train('nn_p_reg', 'nn_reg', 'y', algorithm => 'neural_network',
                                       hyperparams => '{"hidden_layers": [64, 64], "optimizer": "sgd", "momentum": 0.99, "learning_rate": 10, "epochs": 50}')$$,
                 '22003', NULL, 'with SQLSTATE 22003');
SELECT throws_ok(pg_temp.cls('{"batch_norm": true, "batch_size": 1}'), '22023', NULL,
                 'batch_norm with batch_size 1 is refused as a bad combination, not reported as divergence');

-- ---------------------------------------------------------------------------
-- bad data
-- ---------------------------------------------------------------------------
CREATE FUNCTION pg_temp.arr(rel text, preprocess text DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
    SELECT format('SELECT galaxy.train(%L, %L, %L, algorithm => %L, hyperparams => %L, preprocess => %L, deploy => %L)',
                  'nn_p_arr', rel, 'y', 'neural_network', '{"hidden_layers": [4], "epochs": 2}', preprocess, 'never')
$$;
SELECT lives_ok(pg_temp.arr('nn_arr'), 'a real[] feature trains');
SELECT throws_ok($$SELECT galaxy.train('nn_p_reg', 'nn_num_nan', 'y', algorithm => 'neural_network')$$, '22000',
                 'column "x1" contains NaN', 'NaN in a numeric feature');
SELECT throws_ok(pg_temp.arr('nn_arr_nan'), '22000', 'column "x" contains NaN', 'NaN inside an array feature');
SELECT throws_ok(pg_temp.arr('nn_arr_inf'), '22000', 'column "x" contains -Infinity', '-Infinity inside an array feature');
SELECT throws_ok(pg_temp.arr('nn_arr_ragged'), '22000', 'column "x" contains arrays of differing lengths (3 and 2)',
                 'arrays of different lengths');
SELECT throws_ok(pg_temp.arr('nn_arr_empty'), '22000', 'column "x" contains arrays of differing lengths (3 and 0)',
                 'an empty array among arrays of 3');
SELECT throws_ok(pg_temp.arr('nn_arr_empty_first'), '22000', NULL, 'an empty array first (its length gives the width)');
SELECT throws_ok(pg_temp.arr('nn_arr_2d'), '22000', 'column "x" contains a multidimensional array', 'a two-dimensional array');
SELECT throws_ok(pg_temp.arr('nn_arr_all_null'), '22000', 'array column "x" has no non-NULL value, so its length is unknown',
                 'an array column of NULLs only');
-- a NULL array, and a NULL element, are imputed like any missing value (or refused with impute "error")
SELECT is((SELECT training_rows + test_rows FROM galaxy.train('nn_p_arr', 'nn_arr_nulls', 'y', algorithm => 'neural_network',
                                                              hyperparams => '{"hidden_layers": [4], "epochs": 2}', deploy => 'never')),
          62::bigint, 'NULL arrays and NULL elements are imputed: every row is used');
SELECT throws_ok(pg_temp.arr('nn_arr_nulls', '{"impute": "error"}'), '22004', NULL, 'NULL arrays with impute "error"');

-- ---------------------------------------------------------------------------
-- predicting with a wrong input
-- ---------------------------------------------------------------------------
SELECT lives_ok($$SELECT galaxy.train('nn_pred', 'nn_arr', 'y', algorithm => 'neural_network',
                                      hyperparams => '{"hidden_layers": [4], "epochs": 2}')$$, 'a deployed array model');
SELECT throws_ok($$SELECT galaxy.predict('nn_pred', r) FROM nn_row_short r$$, '2202E',
                 'column "x" has 2 elements, but the model expects 3', 'predict: a row whose array is too short');
SELECT throws_ok($$SELECT galaxy.predict_label('nn_pred', r) FROM nn_row_long r$$, '2202E', NULL,
                 'predict_label: a row whose array is too long');
SELECT throws_ok($$SELECT galaxy.predict_proba('nn_pred', r) FROM nn_row_short r$$, '2202E', NULL,
                 'predict_proba: a row whose array is too short');
SELECT throws_ok($$SELECT galaxy.predict('nn_pred', r) FROM nn_row_empty r$$, '2202E', NULL, 'predict: an empty array');
SELECT throws_ok($$SELECT galaxy.predict('nn_pred', r) FROM nn_row_2d r$$, '2202E', NULL, 'predict: a two-dimensional array');
SELECT throws_ok($$SELECT galaxy.predict('nn_pred', r) FROM nn_row_nan r$$, '22023', NULL, 'predict: NaN inside the array');
SELECT ok((SELECT galaxy.predict('nn_pred', r) IN (0, 1) FROM nn_row_null r), 'predict: a NULL array is imputed');
SELECT throws_ok($$SELECT galaxy.predict('nn_pred', ARRAY[1, 2]::float8[])$$, '2202E',
                 'the model expects 3 features, got 2', 'predict: float8[] of 2 values for 3 features');
SELECT throws_ok($$SELECT galaxy.predict_proba('nn_pred', ARRAY[1, 2, 3, 4]::float8[])$$, '2202E', NULL,
                 'predict_proba: float8[] of 4 values for 3 features');
SELECT throws_ok($$SELECT galaxy.predict('nn_pred', ARRAY[1, 'NaN', 3]::float8[])$$, '22023', 'feature 2 is NaN',
                 'predict: NaN in a float8[]');

-- ---------------------------------------------------------------------------
-- damaged model values: 22P02 / XX001 (corrupted), never a crash
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE nn_models AS
SELECT 'cls' AS kind, model FROM galaxy.train('nn_m_cls', 'nn_cls', 'label', algorithm => 'neural_network',
    hyperparams => '{"hidden_layers": [3], "batch_norm": true, "dropout": 0.5, "epochs": 3}', deploy => 'never')
UNION ALL
SELECT 'reg', model FROM galaxy.train('nn_m_reg', 'nn_reg', 'y', algorithm => 'neural_network',
    hyperparams => '{"hidden_layers": [2, 2], "activation": "gelu", "epochs": 2}', deploy => 'never')
UNION ALL
SELECT 'bce', model FROM galaxy.train('nn_m_bce', 'nn_arr', 'y', algorithm => 'neural_network',
    hyperparams => '{"hidden_layers": [2], "loss": "binary_cross_entropy", "epochs": 2, "validation_fraction": 0}', deploy => 'never');
SELECT is((SELECT string_agg(galaxy.describe(model)->>'compression', ',') FROM nn_models), 'none,none,none',
          'the three small models are stored uncompressed (their bytes can be edited in place)');

-- the text form of a model value from its bytes
CREATE FUNCTION pg_temp.as_text(b bytea) RETURNS text LANGUAGE sql AS $$
    SELECT 'galaxy:' || translate(encode(b, 'base64'), E'\n', '')
$$;
-- CRC-32C (Castagnoli, reflected 0x82F63B78), as the model header's checksum
CREATE FUNCTION pg_temp.crc32c(b bytea) RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    tbl bigint[];
    c bigint;
    crc bigint := 4294967295;
BEGIN
    FOR i IN 0..255 LOOP
        c := i;
        FOR k IN 1..8 LOOP
            c := CASE WHEN (c & 1) = 1 THEN (c >> 1) # 2197175160 ELSE c >> 1 END;
        END LOOP;
        tbl[i] := c;
    END LOOP;
    FOR i IN 0..length(b) - 1 LOOP
        crc := tbl[(crc # get_byte(b, i)) & 255] # (crc >> 8);
    END LOOP;
    RETURN crc # 4294967295;
END $$;
CREATE FUNCTION pg_temp.le32(v bigint) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT set_byte(set_byte(set_byte(set_byte('\x00000000'::bytea, 0, (v & 255)::int), 1, ((v >> 8) & 255)::int),
                             2, ((v >> 16) & 255)::int), 3, ((v >> 24) & 255)::int)
$$;
-- an uncompressed value whose payload was edited, with the header's payload
-- size (bytes 25-28) and checksum (bytes 29-32) made to fit again, so the
-- reader goes past them into the network
CREATE FUNCTION pg_temp.resealed(b bytea) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.as_text(overlay(overlay(b placing pg_temp.le32(length(b) - 32) from 25 for 4)
                                   placing pg_temp.le32(pg_temp.crc32c(substr(b, 33))) from 29 for 4))
$$;
-- b with 'with' written at offset 'at' from the start of the MLP1 section (0 = the tag), resealed
CREATE FUNCTION pg_temp.edited(b bytea, at int, with_ bytea) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.resealed(overlay(b placing with_ from position('\x4d4c5031'::bytea in b) + at for length(with_)))
$$;
-- describe() parses the whole value; the SQLSTATE it ends with, or 'ok'
CREATE FUNCTION pg_temp.parse_state(t text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM galaxy.describe(t::galaxy.model);
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
CREATE TEMP TABLE nn_bytes AS SELECT kind, galaxy.model_send(model) AS b FROM nn_models;

SELECT is((SELECT string_agg(pg_temp.parse_state(pg_temp.resealed(b)), ',') FROM nn_bytes), 'ok,ok,ok',
          'resealing an unedited value changes nothing (the checksum is computed as galaxy does)');
-- plain damage: the checksum and the sizes catch it
SELECT throws_ok($$SELECT galaxy.describe(pg_temp.as_text(set_byte(b, length(b) - 40, get_byte(b, length(b) - 40) # 255))::galaxy.model)
                     FROM nn_bytes WHERE kind = 'cls'$$, 'XX001', NULL, 'one flipped byte in the weights');
SELECT throws_ok($$SELECT galaxy.describe(pg_temp.as_text(substr(b, 1, length(b) - 8))::galaxy.model) FROM nn_bytes WHERE kind = 'cls'$$,
                 'XX001', NULL, 'the last 8 bytes cut off');
SELECT throws_ok($$SELECT galaxy.describe(pg_temp.as_text(substr(b, 1, 20))::galaxy.model) FROM nn_bytes WHERE kind = 'cls'$$,
                 'XX001', NULL, 'cut inside the header');
SELECT throws_ok($$SELECT galaxy.describe(pg_temp.as_text(b || '\x00'::bytea)::galaxy.model) FROM nn_bytes WHERE kind = 'reg'$$,
                 'XX001', NULL, 'a trailing byte');
SELECT throws_ok($$SELECT galaxy.describe(('galaxy:' || left(pg_temp.as_text(b), -3) || '!!!')::galaxy.model) FROM nn_bytes WHERE kind = 'reg'$$,
                 '22P02', NULL, 'broken base64');
-- damage behind a valid checksum: the network reader names what is wrong
-- (MLP1 section: tag 0-3, loss 4, target mean 5-12 and scale 13-20, NNET tag
-- 21-24, version 25-28, input ndim 29, width 30-33, layer count 34-37, then
-- the first layer: kind 38, units 39-42, weights)
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 0, '\x4d4c5032')::galaxy.model) FROM nn_bytes WHERE kind = 'cls'$$,
                   'corrupted galaxy.model%', 'the MLP1 tag');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 4, '\x03')::galaxy.model) FROM nn_bytes WHERE kind = 'cls'$$,
                   '%loss 3 does not fit a classification model%', 'a regression loss in a classification model');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 4, '\x01')::galaxy.model) FROM nn_bytes WHERE kind = 'reg'$$,
                   '%loss 1 does not fit a regression model%', 'a classification loss in a regression model');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 13, '\x0000000000000000')::galaxy.model) FROM nn_bytes WHERE kind = 'reg'$$,
                   '%target scale 0%', 'a target scale of 0');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 5, '\x000000000000f87f')::galaxy.model) FROM nn_bytes WHERE kind = 'reg'$$,
                   'corrupted galaxy.model%', 'a NaN target mean');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 25, '\x03000000')::galaxy.model) FROM nn_bytes WHERE kind = 'cls'$$,
                   '%neural network format 3 is not supported%', 'an unknown network format version');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 25, '\x02000000')::galaxy.model) FROM nn_bytes WHERE kind = 'cls'$$,
                   '%neural network format 2 in a model of format 1%', 'a compressed network (format 2) in a model of format 1');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 29, '\x04')::galaxy.model) FROM nn_bytes WHERE kind = 'cls'$$,
                   '%input of 4 dimensions%', 'a 4-dimensional input');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 30, '\x04000000')::galaxy.model) FROM nn_bytes WHERE kind = 'cls'$$,
                   'corrupted galaxy.model%', 'a network input width that is not the model''s feature count');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 34, '\x49000000')::galaxy.model) FROM nn_bytes WHERE kind = 'cls'$$,
                   'corrupted galaxy.model%', '73 layers, one more than a network holds');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 34, '\xffffffff')::galaxy.model) FROM nn_bytes WHERE kind = 'cls'$$,
                   'corrupted galaxy.model%', '4294967295 layers');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 38, '\x7f')::galaxy.model) FROM nn_bytes WHERE kind = 'cls'$$,
                   '%layer 0: unknown kind 127%', 'an unknown layer kind');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 39, '\x00000000')::galaxy.model) FROM nn_bytes WHERE kind = 'cls'$$,
                   'corrupted galaxy.model%', 'a dense layer of 0 units');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 39, '\x00001000')::galaxy.model) FROM nn_bytes WHERE kind = 'cls'$$,
                   '%weights do not fit in the bytes left%', 'a dense layer of 2^20 units with the bytes of 3');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 43, '\x0000c07f')::galaxy.model) FROM nn_bytes WHERE kind = 'cls'$$,
                   '%weights: non-finite value%', 'a NaN weight');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 43, '\x0000807f')::galaxy.model) FROM nn_bytes WHERE kind = 'cls'$$,
                   '%weights: non-finite value%', 'an infinite weight');
-- the training curve ends the value: epochs (u32), best epoch (u32), then
-- 2 x epochs doubles (loss, validation loss): 48 bytes for the cls model's 3 epochs
SELECT is((SELECT (galaxy.describe(model)->'training_curve'->>'epochs')::int FROM nn_models WHERE kind = 'cls'), 3,
          'the cls model has a training curve of 3 epochs');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.resealed(overlay(b placing pg_temp.le32(4) from length(b) - 48 - 3 for 4))::galaxy.model)
                       FROM nn_bytes WHERE kind = 'cls'$$,
                   '%best epoch 4 of 3%', 'a best epoch after the last epoch');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.resealed(overlay(b placing pg_temp.le32(4) from length(b) - 48 - 7 for 4))::galaxy.model)
                       FROM nn_bytes WHERE kind = 'cls'$$,
                   'corrupted galaxy.model%', 'a curve of 4 epochs with the bytes of 3');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.resealed(overlay(b placing pg_temp.le32(2000000) from length(b) - 48 - 7 for 4))::galaxy.model)
                       FROM nn_bytes WHERE kind = 'cls'$$,
                   'corrupted galaxy.model%', 'a curve of 2000000 epochs');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.resealed(overlay(b placing pg_temp.le32(2) from length(b) - 48 - 7 for 4))::galaxy.model)
                       FROM nn_bytes WHERE kind = 'cls'$$,
                   'corrupted galaxy.model%', 'a curve of 2 epochs with the bytes of 3 (bytes left over)');
-- every single-byte edit of the whole payload (three ways), deletion and
-- insertion, behind a valid checksum: only 'ok' or XX001, and the server stays up
SELECT is((SELECT string_agg(DISTINCT r, ',' ORDER BY r)
             FROM (SELECT pg_temp.parse_state(pg_temp.resealed(
                            CASE m WHEN 0 THEN set_byte(b, p, get_byte(b, p) # 255)
                                   WHEN 1 THEN set_byte(b, p, get_byte(b, p) # 1)
                                   WHEN 2 THEN set_byte(b, p, 0)
                                   WHEN 3 THEN overlay(b placing '' from p + 1 for 1)
                                   ELSE overlay(b placing '\x7f'::bytea from p + 1 for 0) END)) AS r
                     FROM nn_bytes, generate_series(32, length(b) - 1) p, generate_series(0, 4) m) s),
          'XX001,ok', 'every edited value is read or refused as corrupted (XX001), nothing else');

-- ---------------------------------------------------------------------------
-- transformer (issue #13): its contract, its errors, and its stored layers
-- (embedding, position codes, layer norm, attention, residuals) read back or
-- refused as corrupted after any single-byte edit
-- ---------------------------------------------------------------------------
CREATE TABLE nn_tok AS
SELECT ARRAY[g % 5, (g / 5) % 5, (g / 25) % 5]::int[] AS ids, (g % 5 = 2) AS y FROM generate_series(1, 120) g;
SELECT is((SELECT tasks FROM galaxy.algorithms WHERE name = 'transformer'), '{regression,classification}'::text[],
          'transformer is listed for classification and regression');
SELECT throws_ok($$SELECT galaxy.train('nn_tf_bad', 'nn_tok', 'y', algorithm => 'transformer',
                                        hyperparams => '{"vocab_size": 5, "d_model": 6, "heads": 4}')$$,
                 '22023', NULL, 'heads that do not divide d_model: 22023');
SELECT throws_ok($$SELECT galaxy.train('nn_tf_bad', 'nn_tok', 'y', algorithm => 'transformer',
                                        hyperparams => '{"vocab_size": 3}')$$,
                 '22023', NULL, 'a token id outside the vocabulary: 22023');
CREATE TEMP TABLE nn_tf AS
SELECT galaxy.model_send(model) AS b FROM galaxy.train('nn_tf', 'nn_tok', 'y', algorithm => 'transformer',
    hyperparams => '{"vocab_size": 5, "d_model": 4, "heads": 2, "layers": 1, "ff_units": 4, "epochs": 2}', deploy => 'never');
SELECT is((SELECT pg_temp.parse_state(pg_temp.resealed(b)) FROM nn_tf), 'ok',
          'a resealed, unedited transformer reads back');
SELECT is((SELECT string_agg(DISTINCT r, ',' ORDER BY r)
             FROM (SELECT pg_temp.parse_state(pg_temp.resealed(
                            CASE m WHEN 0 THEN set_byte(b, p, get_byte(b, p) # 255)
                                   WHEN 1 THEN set_byte(b, p, 0)
                                   ELSE overlay(b placing '' from p + 1 for 1) END)) AS r
                     FROM nn_tf, generate_series(32, length(b) - 1) p, generate_series(0, 2) m) s),
          'XX001,ok', 'every edited transformer value is read or refused as corrupted (XX001), nothing else');

-- ---------------------------------------------------------------------------
-- a neural algorithm keeps its rows in float32: the data fingerprint (of the
-- float64 values) and the metrics still match the float64 path's
-- ---------------------------------------------------------------------------
CREATE TABLE nn_fp AS
SELECT g::float8 / 3 AS x1, sqrt(g::float8) AS x2, ARRAY[g / 7.0, 1.0 / g]::float8[] AS v,
       (g % 3 = 0) AS y FROM generate_series(1, 300) g;
CREATE TEMP TABLE nn_fp_models AS
SELECT id FROM galaxy.train('nn_fp_mlp', 'nn_fp', 'y', algorithm => 'neural_network',
                            hyperparams => '{"hidden_layers": [8], "epochs": 3}')
UNION ALL
SELECT id FROM galaxy.train('nn_fp_lr', 'nn_fp', 'y', algorithm => 'logistic_regression');
SELECT is((SELECT count(DISTINCT data_fingerprint) FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id
            WHERE p.name IN ('nn_fp_mlp', 'nn_fp_lr')), 1::bigint,
          'the data fingerprint is the same for a float32 (neural) and a float64 load of the same rows');
SELECT is((SELECT (metrics ->> 'test_rows')::int FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id
            WHERE p.name = 'nn_fp_mlp'), 60, 'the float32 split holds out the same 60 rows');

-- ---------------------------------------------------------------------------
SELECT is((SELECT pg_postmaster_start_time() = started AND pg_backend_pid() = pid FROM nn_start), true,
          'the server did not restart and this session survived');

SELECT * FROM finish();
ROLLBACK;
