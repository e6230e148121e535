-- cnn contracts: its rows in galaxy.algorithms and
-- galaxy.algorithm_hyperparameters; every bad image shape, bad architecture,
-- bad data set, damaged model value and bad prediction input is an ERROR
-- with a fitting SQLSTATE, never a crash or a silently wrong model.
--
-- Checks under todo() pin what galaxy should do but does not yet; each names
-- the place in src/ to fix.  Remove the todo() when the fix lands.
BEGIN;
SELECT plan(73);

-- the server must not restart underneath this file (checked at the end)
CREATE TEMP TABLE cnn_start AS SELECT pg_postmaster_start_time() AS started, pg_backend_pid() AS pid;

SET LOCAL client_min_messages = warning;

-- ---------------------------------------------------------------------------
-- Fixtures: 4 x 4 images (16 values) in a real[] column, two classes
-- ---------------------------------------------------------------------------
CREATE TABLE cnn_img AS
SELECT ARRAY(SELECT ((g * 7 + i * 3) % 5)::real FROM generate_series(1, 16) i) AS x, g % 2 AS y
  FROM generate_series(1, 60) g;
CREATE TABLE cnn_img10 AS
SELECT ARRAY(SELECT ((g * 7 + i * 3) % 5)::real FROM generate_series(1, 10) i) AS x, g % 2 AS y
  FROM generate_series(1, 60) g;
-- the image and a scalar column beside it: 17 features
CREATE TABLE cnn_extra AS SELECT x, (y * 2)::float8 AS z, y FROM cnn_img;
CREATE TABLE cnn_ragged AS SELECT * FROM cnn_img;
INSERT INTO cnn_ragged VALUES (ARRAY[1, 2, 3]::real[], 1);
CREATE TABLE cnn_empty AS SELECT * FROM cnn_img;
INSERT INTO cnn_empty VALUES ('{}'::real[], 1);
CREATE TABLE cnn_nulls AS SELECT * FROM cnn_img;
INSERT INTO cnn_nulls VALUES (NULL, 1), (ARRAY[NULL, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]::real[], 0);
CREATE TABLE cnn_all_null AS SELECT NULL::real[] AS x, y FROM cnn_img;
CREATE TABLE cnn_2d AS SELECT * FROM cnn_img;
INSERT INTO cnn_2d VALUES ('{{1,2,3,4},{5,6,7,8},{9,10,11,12},{13,14,15,16}}'::real[], 1);
CREATE TABLE cnn_nan AS SELECT * FROM cnn_img;
UPDATE cnn_nan SET x[5] = 'NaN' WHERE ctid = (SELECT min(ctid) FROM cnn_nan);
-- a regression target on the same images
CREATE TABLE cnn_reg AS SELECT x, (x[1] + 2 * x[16])::float8 AS t FROM cnn_img;
-- rows to predict from, with cnn_img's column name
CREATE TABLE cnn_row_short AS SELECT ARRAY[1, 2, 3]::real[] AS x;
CREATE TABLE cnn_row_empty AS SELECT '{}'::real[] AS x;
CREATE TABLE cnn_row_null AS SELECT NULL::real[] AS x;

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

-- train a cnn on a table with the given hyperparameters (as SQL text for throws_ok)
CREATE FUNCTION pg_temp.cnn(hp text, rel text DEFAULT 'cnn_img') RETURNS text LANGUAGE sql AS $$
    SELECT format('SELECT galaxy.train(%L, %L, %L, algorithm => %L, hyperparams => %L, deploy => %L)',
                  'cnn_p', rel, 'y', 'cnn', hp, 'never')
$$;

-- ---------------------------------------------------------------------------
-- the registry
-- ---------------------------------------------------------------------------
SELECT results_eq($$SELECT name, tasks::text, default_scaling FROM galaxy.algorithms WHERE name = 'cnn'$$,
                  $$VALUES ('cnn', '{regression,classification}', true)$$,
                  'galaxy.algorithms: cnn does regression and classification, scaled by default');
SELECT set_eq($$SELECT name FROM galaxy.algorithm_hyperparameters WHERE algorithm = 'cnn'$$,
              ARRAY['input_shape', 'conv_filters', 'kernel_size', 'pool_size', 'dense_units',
                    'activation', 'dropout', 'batch_norm', 'optimizer', 'learning_rate', 'momentum',
                    'nesterov', 'lr_schedule', 'lr_step_size', 'lr_gamma', 'lr_patience', 'batch_size', 'epochs',
                    'early_stopping_rounds', 'validation_fraction', 'weight_decay', 'class_weight', 'loss',
                    'huber_delta', 'clip_norm', 'seed', 'init', 'layers'],
              'the 28 hyperparameters of cnn: 5 of the architecture, the 22 training ones of neural_network and layers');
SELECT results_eq(
    $$SELECT name, type, default_value, min_value, max_value, min_exclusive
        FROM galaxy.algorithm_hyperparameters
       WHERE algorithm = 'cnn' AND name IN ('input_shape', 'conv_filters', 'kernel_size', 'pool_size', 'dense_units')
       ORDER BY name$$,
    $$VALUES ('conv_filters', 'integer[]', '[32,64]', 1::float8, 4096::float8, false),
             ('dense_units', 'integer[]', '[128]', 1, 1048576, false),
             ('input_shape', 'integer[]', '[]', 1, 1048576, false),
             ('kernel_size', 'integer', '3', 1, 15, false),
             ('pool_size', 'integer', '2', 1, 8, false)$$,
    'types, defaults and ranges of the architecture hyperparameters');
SELECT results_eq(
    $$SELECT a.name, a.type, a.default_value, a.min_value, a.max_value, a.choices
        FROM galaxy.algorithm_hyperparameters a
       WHERE a.algorithm = 'cnn' AND a.name NOT IN ('input_shape', 'conv_filters', 'kernel_size', 'pool_size', 'dense_units', 'layers')
       ORDER BY a.name$$,
    $$SELECT b.name, b.type, b.default_value, b.min_value, b.max_value, b.choices
        FROM galaxy.algorithm_hyperparameters b
       WHERE b.algorithm = 'neural_network' AND b.name <> 'hidden_layers'
       ORDER BY b.name$$,
    'the training hyperparameters are those of neural_network, with the same defaults and ranges');
SELECT is((SELECT hyperparameters->'conv_filters'->>'type' FROM galaxy.algorithms WHERE name = 'cnn'),
          'integer[]', 'galaxy.algorithms.hyperparameters agrees: conv_filters is integer[]');

-- ---------------------------------------------------------------------------
-- the image shape: 22023 with a message that says what to give
-- ---------------------------------------------------------------------------
SELECT throws_ok(pg_temp.cnn('{"input_shape": [3, 3]}'), '22023',
                 '"input_shape" [1, 3, 3] holds 9 values, but the rows have 16 features',
                 'input_shape whose product is not the feature count');
SELECT is(pg_temp.error_of(pg_temp.cnn('{"input_shape": [2, 4, 4]}')),
          '22023 | "input_shape" [2, 4, 4] holds 32 values, but the rows have 16 features |  | '
          'The features must be the image''s array column alone, of channels x height x width values.',
          'the hint says what the features must be');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [1, 1, 4, 4]}'), '22023',
                 '"input_shape" has 2 or 3 dimensions ([height, width] or [channels, height, width]), not 4',
                 'a 4-dimensional input_shape');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [16]}'), '22023', NULL, 'a 1-dimensional input_shape');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [0, 4]}'), '22023',
                 'hyperparameter "input_shape" = 0 is out of range for cnn', 'a side of 0');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [-4, -4]}'), '22023', NULL, 'negative sides');
SELECT throws_ok(pg_temp.cnn('{"input_shape": "4x4"}'), '22023', NULL, 'input_shape as a string');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [65536, 16]}'), '22023',
                 '"input_shape" [1, 65536, 16] holds 1048576 values, but the rows have 16 features',
                 'an input_shape far larger than the rows');
SELECT is(pg_temp.error_of(pg_temp.cnn('{"epochs": 1}', 'cnn_img10')),
          '22023 | cnn needs "input_shape": 10 features are not one square image |  | '
          'Give the shape of each image, e.g. ''{"input_shape": [3, 32, 32]}''.',
          'no input_shape and 10 features: not a square, the hint shows input_shape');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [], "epochs": 1}', 'cnn_img10'), '22023', NULL,
                 'input_shape [] and 10 features');
SELECT lives_ok(pg_temp.cnn('{"input_shape": [2, 5], "conv_filters": [2], "dense_units": [2], "epochs": 1}', 'cnn_img10'),
                'a non-square image with its input_shape [2, 5]');
SELECT lives_ok(pg_temp.cnn('{"input_shape": [16, 1], "conv_filters": [2], "dense_units": [2], "epochs": 1}'),
                'a 16 x 1 image (pooling skipped: narrower than the window)');
-- an extra scalar column beside the image: the features are no longer one image
SELECT throws_ok(pg_temp.cnn('{"input_shape": [4, 4], "epochs": 1}', 'cnn_extra'), '22023',
                 '"input_shape" [1, 4, 4] holds 16 values, but the rows have 17 features',
                 'an extra numeric column besides the array: shape mismatch');
SELECT throws_ok(pg_temp.cnn('{"epochs": 1}', 'cnn_extra'), '22023',
                 'cnn needs "input_shape": 17 features are not one square image',
                 'an extra numeric column besides the array, no input_shape');
SELECT lives_ok($$SELECT galaxy.train('cnn_p', 'cnn_extra', 'y', features => ARRAY['x'], algorithm => 'cnn',
                                      hyperparams => '{"input_shape": [4, 4], "conv_filters": [2], "dense_units": [2], "epochs": 1}',
                                      deploy => 'never')$$,
                'features => the array column alone trains');

-- ---------------------------------------------------------------------------
-- the architecture
-- ---------------------------------------------------------------------------
SELECT throws_ok(pg_temp.cnn('{"input_shape": [4, 4], "conv_filters": [0]}'), '22023',
                 'hyperparameter "conv_filters" = 0 is out of range for cnn', 'conv_filters [0]');
SELECT is(pg_temp.error_of(pg_temp.cnn('{"input_shape": [4, 4], "conv_filters": [0]}')),
          '22023 | hyperparameter "conv_filters" = 0 is out of range for cnn | Allowed range: [1, 4096]. | ',
          'the detail gives the range of a filter count');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [4, 4], "conv_filters": [4097]}'), '22023', NULL, 'conv_filters above 4096');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [4, 4], "conv_filters": [4, -1]}'), '22023', NULL, 'a negative filter count');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [4, 4], "dense_units": [0]}'), '22023', NULL, 'dense_units [0]');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [4, 4], "kernel_size": 0}'), '22023', NULL, 'kernel_size 0');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [4, 4], "kernel_size": 16}'), '22023',
                 'hyperparameter "kernel_size" = 16 is out of range for cnn', 'kernel_size 16');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [4, 4], "pool_size": 0}'), '22023', NULL, 'pool_size 0');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [4, 4], "pool_size": 9}'), '22023', NULL, 'pool_size 9');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [4, 4], "hidden_layers": [8]}'), '22023',
                 'unknown hyperparameter "hidden_layers" for algorithm cnn', 'hidden_layers belongs to neural_network');
-- a kernel larger than the image: "same" padding (kernel_size / 2 zeros on
-- every side) keeps the image's size, so it is well defined and trains; a
-- pool window larger than the image is skipped
SELECT lives_ok(pg_temp.cnn('{"input_shape": [4, 4], "kernel_size": 9, "conv_filters": [2], "dense_units": [2], "epochs": 1}'),
                'kernel_size 9 on a 4 x 4 image, then a 2 x 2 pool');
SELECT lives_ok(pg_temp.cnn('{"input_shape": [4, 4], "kernel_size": 15, "pool_size": 8, "conv_filters": [2], "dense_units": [2], "epochs": 1}'),
                'kernel_size 15 and pool_size 8 on a 4 x 4 image');
SELECT is((SELECT galaxy.describe(model)->'architecture'->'layers'->0->>'shape'
             FROM galaxy.train('cnn_p', 'cnn_img', 'y', algorithm => 'cnn', deploy => 'never',
                               hyperparams => '{"input_shape": [4, 4], "kernel_size": 9, "conv_filters": [2], "dense_units": [2], "epochs": 1}')),
          '[2, 4, 4]', 'kernel_size 9 keeps the 4 x 4 image (padding 4)');
SELECT is((SELECT string_agg(l->>'type', ',' ORDER BY i)
             FROM galaxy.train('cnn_p', 'cnn_img', 'y', algorithm => 'cnn', deploy => 'never',
                               hyperparams => '{"input_shape": [4, 4], "pool_size": 8, "conv_filters": [2], "dense_units": [2], "epochs": 1}') t,
                  jsonb_array_elements(galaxy.describe(t.model)->'architecture'->'layers') WITH ORDINALITY e(l, i)),
          'conv2d,activation,flatten,dense,activation,dense', 'a pool window larger than the image adds no pooling layer');
-- an even kernel cannot keep the image's size ("same" padding): refused
SELECT is(pg_temp.error_of(pg_temp.cnn('{"input_shape": [4, 4], "kernel_size": 4, "conv_filters": [2], "dense_units": [2], "epochs": 1}')),
          '22023 | "kernel_size" of cnn must be odd, not 4 | The convolutions keep the image''s size ("same" padding of '
          '(kernel_size - 1) / 2 on every side), which an even kernel cannot do. | ',
          'kernel_size 4 is refused: an even kernel cannot keep the image''s size');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [4, 4], "kernel_size": 2}'), '22023', NULL, 'kernel_size 2 is refused');
SELECT lives_ok(pg_temp.cnn('{"input_shape": [4, 4], "conv_filters": [], "dense_units": [4], "epochs": 1}'),
                'conv_filters [] (no convolution: the dense head on the pixels)');

-- too large for galaxy.max_training_memory: 54000 before anything is allocated
SET LOCAL galaxy.max_training_memory = '64MB';
SELECT throws_ok(pg_temp.cnn('{"input_shape": [4, 4], "conv_filters": [4096, 4096]}'), '54000', NULL,
                 'two blocks of 4096 filters need more than galaxy.max_training_memory = 64MB');
SELECT throws_like(pg_temp.cnn('{"input_shape": [4, 4], "conv_filters": [4096, 4096]}'),
                   '%the neural network needs % MB, more than galaxy.max_training_memory (64 MB)%',
                   'the message names the need and the limit');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [4, 4], "conv_filters": [256], "kernel_size": 15, "dense_units": [1048576]}'), '54000', NULL,
                 'a dense head of 2^20 units after the convolutions');
SET LOCAL galaxy.max_training_memory = '4GB';

-- the task: classification (cross-entropy) and regression (mse) both train
SELECT lives_ok($$SELECT galaxy.train('cnn_p_reg', 'cnn_reg', 't', algorithm => 'cnn', deploy => 'never',
                                      hyperparams => '{"input_shape": [4, 4], "conv_filters": [2], "dense_units": [4], "epochs": 2}')$$,
                'a regression target');
SELECT throws_ok($$SELECT galaxy.train('cnn_p_reg', 'cnn_reg', 't', algorithm => 'cnn', deploy => 'never',
                                       hyperparams => '{"input_shape": [4, 4], "loss": "cross_entropy"}')$$,
                 '22023', 'loss "cross_entropy" is for classification; regression takes mse or huber',
                 'a classification loss on a regression target');
-- issue #13: task 'vision' is image classification
SELECT is((SELECT task FROM galaxy.train('cnn_p', 'cnn_img', 'y', algorithm => 'cnn', task => 'vision', deploy => 'never',
                                         hyperparams => '{"input_shape": [4, 4], "conv_filters": [2], "dense_units": [2], "epochs": 1}')),
          'classification', 'task vision trains a cnn classification');
SELECT throws_ok($$SELECT galaxy.submit('cnn_job', 'cnn_img', 'y', algorithm => 'cnn', hyperparams => '{"conv_filters": [0]}')$$,
                 '22023', NULL, 'submit refuses conv_filters [0] at once');

-- ---------------------------------------------------------------------------
-- bad data (the loader's checks, for an image column)
-- ---------------------------------------------------------------------------
SELECT throws_ok(pg_temp.cnn('{"input_shape": [4, 4], "epochs": 1}', 'cnn_ragged'), '22000',
                 'column "x" contains arrays of differing lengths (16 and 3)', 'ragged images');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [4, 4], "epochs": 1}', 'cnn_empty'), '22000',
                 'column "x" contains arrays of differing lengths (16 and 0)', 'an empty image among 4 x 4 ones');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [4, 4], "epochs": 1}', 'cnn_all_null'), '22000',
                 'array column "x" has no non-NULL value, so its length is unknown', 'an image column of NULLs only');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [4, 4], "epochs": 1}', 'cnn_2d'), '22000',
                 'column "x" contains a multidimensional array', 'a 4 x 4 two-dimensional array');
SELECT throws_ok(pg_temp.cnn('{"input_shape": [4, 4], "epochs": 1}', 'cnn_nan'), '22000',
                 'column "x" contains NaN', 'NaN inside an image');
-- a NULL image, and a NULL pixel, are imputed like any missing value
SELECT is((SELECT training_rows + test_rows FROM galaxy.train('cnn_p', 'cnn_nulls', 'y', algorithm => 'cnn', deploy => 'never',
                                                              hyperparams => '{"input_shape": [4, 4], "conv_filters": [2], "dense_units": [2], "epochs": 1}')),
          62::bigint, 'a NULL image and a NULL pixel are imputed: every row is used');
SELECT throws_ok(format('SELECT galaxy.train(%L, %L, %L, algorithm => %L, hyperparams => %L, preprocess => %L, deploy => %L)',
                        'cnn_p', 'cnn_nulls', 'y', 'cnn', '{"input_shape": [4, 4], "epochs": 1}', '{"impute": "error"}', 'never'),
                 '22004', NULL, 'NULL images with impute "error"');

-- ---------------------------------------------------------------------------
-- predicting with a wrong image
-- ---------------------------------------------------------------------------
SELECT lives_ok($$SELECT galaxy.train('cnn_pred', 'cnn_img', 'y', algorithm => 'cnn',
                                      hyperparams => '{"input_shape": [4, 4], "conv_filters": [2], "dense_units": [2], "epochs": 2}')$$,
                'a deployed cnn');
SELECT throws_ok($$SELECT galaxy.predict('cnn_pred', r) FROM cnn_row_short r$$, '2202E',
                 'column "x" has 3 elements, but the model expects 16', 'predict: an image of 3 pixels');
SELECT throws_ok($$SELECT galaxy.predict_proba('cnn_pred', r) FROM cnn_row_empty r$$, '2202E', NULL, 'predict_proba: an empty image');
SELECT throws_ok($$SELECT galaxy.predict_label('cnn_pred', ARRAY[1, 2, 3]::float8[])$$, '2202E',
                 'the model expects 16 features, got 3', 'predict_label: float8[] of 3 values');
SELECT ok((SELECT galaxy.predict('cnn_pred', r) IN (0, 1) FROM cnn_row_null r), 'predict: a NULL image is imputed');

-- ---------------------------------------------------------------------------
-- damaged model values: XX001 (corrupted), never a crash
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE cnn_models AS
SELECT 'cls' AS kind, model FROM galaxy.train('cnn_m', 'cnn_img', 'y', algorithm => 'cnn',
    hyperparams => '{"input_shape": [1, 4, 4], "conv_filters": [2], "dense_units": [2], "epochs": 2, "validation_fraction": 0, "early_stopping_rounds": 0}',
    test_size => 0, deploy => 'never')
UNION ALL
SELECT 'two blocks', model FROM galaxy.train('cnn_m2', 'cnn_img', 'y', algorithm => 'cnn',
    hyperparams => '{"input_shape": [4, 4], "conv_filters": [2, 2], "pool_size": 2, "dense_units": [], "epochs": 1, "validation_fraction": 0, "early_stopping_rounds": 0}',
    test_size => 0, deploy => 'never');
SELECT is((SELECT string_agg(galaxy.describe(model)->>'compression', ',') FROM cnn_models), 'none,none',
          'the small cnn models are stored uncompressed (their bytes can be edited in place)');
SELECT is((SELECT string_agg(l->>'type' || ' ' || coalesce(l->>'shape', l->>'out'), ', ' ORDER BY i)
             FROM cnn_models, jsonb_array_elements(galaxy.describe(model)->'architecture'->'layers') WITH ORDINALITY e(l, i)
            WHERE kind = 'cls'),
          'conv2d [2, 4, 4], activation [2, 4, 4], max_pool2d [2, 2, 2], flatten 8, dense 2, activation 2, dense 2',
          'the layers of the cls model (whose bytes are edited below)');

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
-- size (bytes 25-28) and checksum (bytes 29-32) made to fit again
CREATE FUNCTION pg_temp.resealed(b bytea) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.as_text(overlay(overlay(b placing pg_temp.le32(length(b) - 32) from 25 for 4)
                                   placing pg_temp.le32(pg_temp.crc32c(substr(b, 33))) from 29 for 4))
$$;
-- b with 'with' written at offset 'at' from the start of the MLP1 section (0 = the tag), resealed
CREATE FUNCTION pg_temp.edited(b bytea, at int, with_ bytea) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.resealed(overlay(b placing with_ from position('\x4d4c5031'::bytea in b) + at for length(with_)))
$$;
CREATE FUNCTION pg_temp.parse_state(t text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM galaxy.describe(t::galaxy.model);
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
CREATE TEMP TABLE cnn_bytes AS SELECT kind, galaxy.model_send(model) AS b FROM cnn_models;

SELECT is((SELECT string_agg(pg_temp.parse_state(pg_temp.resealed(b)), ',') FROM cnn_bytes), 'ok,ok',
          'resealing an unedited value changes nothing');
SELECT throws_ok($$SELECT galaxy.describe(pg_temp.as_text(set_byte(b, length(b) - 40, get_byte(b, length(b) - 40) # 255))::galaxy.model)
                     FROM cnn_bytes WHERE kind = 'cls'$$, 'XX001', NULL, 'one flipped byte in the weights');
-- behind a valid checksum (MLP1 section: tag 0-3, loss 4, target mean 5-12,
-- scale 13-20, NNET tag 21-24, version 25-28, input ndim 29, dimensions
-- 30-33, 34-37, 38-41, layer count 42-45; then the conv2d layer: kind 46,
-- filters 47-50, kernel 51-54, stride 55-58, padding 59-62, its weights)
SELECT is((SELECT encode(substr(b, position('\x4d4c5031'::bytea in b) + 29, 34), 'hex') FROM cnn_bytes WHERE kind = 'cls'),
          '03' || '010000000400000004000000' || '07000000' || '05' || '02000000' || '03000000' || '01000000' || '01000000',
          'the bytes of the input shape and the conv2d layer are where this test edits them');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 30, '\x02000000')::galaxy.model) FROM cnn_bytes WHERE kind = 'cls'$$,
                   'corrupted galaxy.model%', 'an input of 2 channels for 16 features');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 47, '\x00000000')::galaxy.model) FROM cnn_bytes WHERE kind = 'cls'$$,
                   'corrupted galaxy.model%', 'a conv2d of 0 filters');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 47, '\x00000100')::galaxy.model) FROM cnn_bytes WHERE kind = 'cls'$$,
                   '%conv2d weights do not fit in the bytes left%', 'a conv2d of 65536 filters with the bytes of 2');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 51, '\x41000000')::galaxy.model) FROM cnn_bytes WHERE kind = 'cls'$$,
                   'corrupted galaxy.model%', 'a conv2d kernel of 65');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 51, '\x09000000')::galaxy.model) FROM cnn_bytes WHERE kind = 'cls'$$,
                   '%conv2d does not fit its input%', 'a 9 x 9 kernel with padding 1 on a 4 x 4 image');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 55, '\x00000000')::galaxy.model) FROM cnn_bytes WHERE kind = 'cls'$$,
                   'corrupted galaxy.model%', 'a stride of 0');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 59, '\xffffffff')::galaxy.model) FROM cnn_bytes WHERE kind = 'cls'$$,
                   'corrupted galaxy.model%', 'a padding of -1');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 59, '\x02000000')::galaxy.model) FROM cnn_bytes WHERE kind = 'cls'$$,
                   'corrupted galaxy.model%', 'a padding of 2 (a 6 x 6 output: the layers after it no longer fit)');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 46, '\x09')::galaxy.model) FROM cnn_bytes WHERE kind = 'cls'$$,
                   'corrupted galaxy.model%', 'the conv2d turned into a global average pooling');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 46, '\x06')::galaxy.model) FROM cnn_bytes WHERE kind = 'cls'$$,
                   'corrupted galaxy.model%', 'the conv2d turned into a max pooling');
-- every single-byte edit of the payloads (three ways), deletion and
-- insertion, behind a valid checksum: only 'ok' or XX001, and the server stays up
SELECT is((SELECT string_agg(DISTINCT r, ',' ORDER BY r)
             FROM (SELECT pg_temp.parse_state(pg_temp.resealed(
                            CASE m WHEN 0 THEN set_byte(b, p, get_byte(b, p) # 255)
                                   WHEN 1 THEN set_byte(b, p, get_byte(b, p) # 1)
                                   WHEN 2 THEN set_byte(b, p, 0)
                                   WHEN 3 THEN overlay(b placing '' from p + 1 for 1)
                                   ELSE overlay(b placing '\x7f'::bytea from p + 1 for 0) END)) AS r
                     FROM cnn_bytes, generate_series(32, length(b) - 1) p, generate_series(0, 4) m) s),
          'XX001,ok', 'every edited cnn value is read or refused as corrupted (XX001), nothing else');

-- ---------------------------------------------------------------------------
SELECT is((SELECT pg_postmaster_start_time() = started AND pg_backend_pid() = pid FROM cnn_start), true,
          'the server did not restart and this session survived');

SELECT * FROM finish();
ROLLBACK;
