-- cnn: convolutional networks on images held in one real[] column (issue
-- #13).  The 8 x 8 digits of test/data/digits.csv as images: learned to
-- >= 0.9 accuracy in a second; determinism; the three spellings of one
-- input shape give one model; describe()'s layers with their shapes and
-- parameter counts; row-by-row predictions equal the batch metrics; a
-- two-channel image; pooling off and other kernel sizes; evaluate() on
-- held-out images.  Training results are printed as booleans or
-- deterministic integers only (float32 kernels may round differently on
-- another CPU).
\set VERBOSITY terse
-- the NOTICE summary of each train() carries timings: keep it out of the output
SET client_min_messages = warning;
\getenv abs_srcdir PG_ABS_SRCDIR
\set digits_csv :abs_srcdir '/test/data/digits.csv'

-- 1,797 digits: 64 pixels (8 x 8, row by row, grey levels 0..16) and the digit
CREATE TABLE cnn_csv (line text);
COPY cnn_csv FROM :'digits_csv' WITH (FORMAT text, HEADER true);
CREATE TABLE cnn_all (id int PRIMARY KEY, pixels real[] NOT NULL, digit int NOT NULL);
INSERT INTO cnn_all
SELECT row_number() OVER (), a[1:64], a[65] FROM (SELECT string_to_array(line, ',')::real[] AS a FROM cnn_csv) s;
-- every fifth image is held out for evaluate(); the primary key is not a feature
CREATE TABLE cnn_digits AS SELECT * FROM cnn_all WHERE id % 5 <> 0;
ALTER TABLE cnn_digits ADD PRIMARY KEY (id);
CREATE TABLE cnn_holdout AS SELECT * FROM cnn_all WHERE id % 5 = 0;
ALTER TABLE cnn_holdout ADD PRIMARY KEY (id);
SELECT (SELECT count(*) FROM cnn_digits) AS train_images, (SELECT count(*) FROM cnn_holdout) AS holdout_images,
       (SELECT min(cardinality(pixels)) = 64 AND max(cardinality(pixels)) = 64 FROM cnn_all) AS all_8x8,
       (SELECT count(DISTINCT digit) FROM cnn_all) AS classes;

-- ---------------------------------------------------------------------------
-- a small cnn learns the digits (no test split: the metrics are one batch
-- prediction over every training row)
CREATE TEMP TABLE cnn_main AS
SELECT id, algorithm, task, features, feature_types, training_rows, metrics, model
  FROM galaxy.train('cnn_digits', 'cnn_digits', 'digit', algorithm => 'cnn',
                    hyperparams => '{"input_shape": [8, 8], "conv_filters": [8, 16], "dense_units": [32], "epochs": 10, "batch_size": 32, "learning_rate": 0.01}',
                    test_size => 0, seed => 1);
SELECT algorithm, task, features, feature_types, training_rows, metrics->>'evaluated_on' AS evaluated_on,
       (metrics->>'accuracy')::float8 >= 0.9 AS accuracy_ge_09,
       (metrics->>'epochs_trained')::int BETWEEN 1 AND 10 AS epochs_in_range,
       galaxy.describe(model)->'architecture'->>'inputs' AS network_inputs,
       galaxy.describe(model)->'architecture'->>'outputs' AS network_outputs,
       galaxy.describe(model)->'architecture'->>'parameters' AS parameters,
       galaxy.describe(model)->'architecture'->>'loss' AS loss
  FROM cnn_main;
-- the layers: conv(3x3, same) -> relu -> max pool 2 per block, flatten, dense head
SELECT i, l->>'type' AS type, l->>'in' AS "in", l->>'out' AS "out", l->>'shape' AS shape, l->>'params' AS params,
       l->>'kernel' AS kernel, l->>'stride' AS stride, l->>'padding' AS padding, l->>'function' AS function
  FROM cnn_main, jsonb_array_elements(galaxy.describe(model)->'architecture'->'layers') WITH ORDINALITY e(l, i)
 ORDER BY i;
SELECT (SELECT sum((l->>'params')::int) FROM jsonb_array_elements(galaxy.describe(model)->'architecture'->'layers') l)
         = (galaxy.describe(model)->'architecture'->>'parameters')::int AS layer_params_add_up,
       -- conv 1 x 8 x 3 x 3 + 8, conv 8 x 16 x 3 x 3 + 16, dense 64 -> 32, dense 32 -> 10
       (1 * 9 + 1) * 8 + (8 * 9 + 1) * 16 + (16 * 2 * 2 + 1) * 32 + (32 + 1) * 10 AS expected_parameters
  FROM cnn_main;

-- row by row (whole row, the array as float8[], by model id) against the batch
CREATE TEMP TABLE cnn_rows AS
SELECT d.id, d.digit,
       galaxy.predict('cnn_digits', d) AS pred_row,
       galaxy.predict('cnn_digits', d.pixels::float8[]) AS pred_arr,
       galaxy.predict_label('cnn_digits', d) AS label_row,
       galaxy.predict_label('cnn_digits', d.pixels::float8[]) AS label_arr,
       galaxy.predict_label((SELECT id FROM cnn_main), d) AS label_by_id,
       galaxy.predict_proba('cnn_digits', d) AS proba_row,
       galaxy.predict_proba('cnn_digits', d.pixels::float8[]) AS proba_arr
  FROM cnn_digits d;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE label_row <> label_arr OR label_row <> label_by_id) AS label_forms_differ,
       count(*) FILTER (WHERE pred_row <> pred_arr OR label_row <> pred_row::int::text) AS predict_forms_differ,
       count(*) FILTER (WHERE proba_row <> proba_arr) AS proba_forms_differ,
       count(*) FILTER (WHERE cardinality(proba_row) <> 10
                           OR abs((SELECT sum(p) FROM unnest(proba_row) p) - 1) > 1e-9
                           OR label_row <> (SELECT (array_position(proba_row, (SELECT max(p) FROM unnest(proba_row) p)) - 1)::text))
         AS proba_inconsistent
  FROM cnn_rows;
-- the row-by-row accuracy is the batch accuracy of training and of
-- evaluate(); the row-by-row log loss is the batch one (one row and a batch
-- may round the last float32 bits differently)
SELECT abs(avg((r.label_row = r.digit::text)::int) - (m.metrics->>'accuracy')::float8) < 1e-12 AS row_accuracy_is_batch,
       abs(-avg(ln(greatest(r.proba_row[r.digit + 1], 1e-15))) - (m.metrics->>'log_loss')::float8) < 1e-6 AS row_log_loss_is_batch,
       (galaxy.evaluate(m.id, 'cnn_digits')->>'accuracy')::float8 = (m.metrics->>'accuracy')::float8 AS evaluate_is_batch
  FROM cnn_rows r, cnn_main m
 GROUP BY m.id, m.metrics;

-- held-out images: evaluate() on a table the model never saw, and the same
-- accuracy from predict_label row by row
SELECT (e->>'accuracy')::float8 >= 0.9 AS holdout_accuracy_ge_09,
       (e->>'rows')::int AS rows,
       abs((e->>'accuracy')::float8 - (SELECT avg((galaxy.predict_label('cnn_digits', h) = h.digit::text)::int)
                                          FROM cnn_holdout h)) < 1e-12 AS row_by_row_is_evaluate
  FROM (SELECT galaxy.evaluate((SELECT id FROM cnn_main), 'cnn_holdout') AS e) s;
SELECT galaxy.predict_label('cnn_digits', h) AS predicted, h.digit
  FROM cnn_holdout h WHERE h.id IN (5, 10)
 ORDER BY h.id;

-- ---------------------------------------------------------------------------
-- determinism: the same call gives the same model value, byte for byte;
-- another seed another; input_shape [8, 8], [1, 8, 8] and [] (one square
-- channel) are one shape and give the same network and the same weights
-- (the value also keeps the hyperparameters as given, so only they differ)
CREATE TEMP TABLE cnn_det AS
SELECT 'a' AS run, id, model FROM galaxy.train('cnn_det', 'cnn_digits', 'digit', algorithm => 'cnn',
    hyperparams => '{"input_shape": [8, 8], "conv_filters": [4, 8], "dense_units": [16], "epochs": 3, "batch_size": 64, "dropout": 0.1}',
    seed => 5, deploy => 'never')
UNION ALL
SELECT 'b', id, model FROM galaxy.train('cnn_det', 'cnn_digits', 'digit', algorithm => 'cnn',
    hyperparams => '{"input_shape": [8, 8], "conv_filters": [4, 8], "dense_units": [16], "epochs": 3, "batch_size": 64, "dropout": 0.1}',
    seed => 5, deploy => 'never')
UNION ALL
SELECT 'other seed', id, model FROM galaxy.train('cnn_det', 'cnn_digits', 'digit', algorithm => 'cnn',
    hyperparams => '{"input_shape": [8, 8], "conv_filters": [4, 8], "dense_units": [16], "epochs": 3, "batch_size": 64, "dropout": 0.1}',
    seed => 6, deploy => 'never')
UNION ALL
SELECT 'shape [1, 8, 8]', id, model FROM galaxy.train('cnn_det', 'cnn_digits', 'digit', algorithm => 'cnn',
    hyperparams => '{"input_shape": [1, 8, 8], "conv_filters": [4, 8], "dense_units": [16], "epochs": 3, "batch_size": 64, "dropout": 0.1}',
    seed => 5, deploy => 'never')
UNION ALL
SELECT 'shape []', id, model FROM galaxy.train('cnn_det', 'cnn_digits', 'digit', algorithm => 'cnn',
    hyperparams => '{"input_shape": [], "conv_filters": [4, 8], "dense_units": [16], "epochs": 3, "batch_size": 64, "dropout": 0.1}',
    seed => 5, deploy => 'never')
UNION ALL
SELECT 'shape left out', id, model FROM galaxy.train('cnn_det', 'cnn_digits', 'digit', algorithm => 'cnn',
    hyperparams => '{"conv_filters": [4, 8], "dense_units": [16], "epochs": 3, "batch_size": 64, "dropout": 0.1}',
    seed => 5, deploy => 'never');
SELECT b.run,
       md5(galaxy.model_send(a.model)) = md5(galaxy.model_send(b.model)) AS identical_bytes,
       galaxy.describe(a.model)->'architecture' = galaxy.describe(b.model)->'architecture' AS same_architecture,
       galaxy.describe(a.model) - '{hyperparams,stored_bytes,payload_bytes}'::text[]
         = galaxy.describe(b.model) - '{hyperparams,stored_bytes,payload_bytes}'::text[] AS same_but_hyperparams,
       galaxy.describe(a.model)->'training_curve'->'loss' = galaxy.describe(b.model)->'training_curve'->'loss' AS same_losses,
       (SELECT bool_and(galaxy.predict_proba(a.id, d) = galaxy.predict_proba(b.id, d)) FROM cnn_holdout d) AS same_predictions
  FROM cnn_det a JOIN cnn_det b ON a.run = 'a' AND b.run <> 'a'
 ORDER BY b.run;

-- ---------------------------------------------------------------------------
-- two channels: each image and its mirror image (columns reversed) as
-- channels of one [2, 8, 8] image, channel by channel in the array
CREATE TABLE cnn_two (id int PRIMARY KEY, pixels real[] NOT NULL, digit int NOT NULL);
INSERT INTO cnn_two
SELECT id, pixels || ARRAY(SELECT pixels[r * 8 + (9 - c)] FROM generate_series(0, 7) r, generate_series(1, 8) c ORDER BY r, c), digit
  FROM cnn_digits;
SELECT count(*) AS rows, min(cardinality(pixels)) AS len,
       bool_and(pixels[65:72] = ARRAY[pixels[8], pixels[7], pixels[6], pixels[5], pixels[4], pixels[3], pixels[2], pixels[1]])
         AS second_channel_is_mirror
  FROM cnn_two;
CREATE TEMP TABLE cnn_two_m AS
SELECT id, metrics, galaxy.describe(model) AS d
  FROM galaxy.train('cnn_two', 'cnn_two', 'digit', algorithm => 'cnn',
                    hyperparams => '{"input_shape": [2, 8, 8], "conv_filters": [8, 16], "dense_units": [32], "epochs": 10, "batch_size": 32, "learning_rate": 0.01}',
                    seed => 1, deploy => 'never');
SELECT (metrics->>'accuracy')::float8 >= 0.9 AS accuracy_ge_09, d->'architecture'->>'inputs' AS inputs,
       d->'architecture'->>'parameters' AS parameters,
       d->'architecture'->'layers'->0->>'in' AS conv_in, d->'architecture'->'layers'->0->>'out' AS conv_out,
       d->'architecture'->'layers'->0->>'params' AS conv_params
  FROM cnn_two_m;
-- the same images with input_shape [8, 16] (one channel twice as wide) are another network
SELECT d->'architecture'->'layers'->0->>'in' AS conv_in, d->'architecture'->'layers'->2->>'out' AS pool_out
  FROM (SELECT galaxy.describe(model) AS d
          FROM galaxy.train('cnn_two', 'cnn_two', 'digit', algorithm => 'cnn',
                            hyperparams => '{"input_shape": [8, 16], "conv_filters": [4], "dense_units": [8], "epochs": 1}',
                            seed => 1, deploy => 'never')) s;

-- ---------------------------------------------------------------------------
-- pooling off (pool_size 1), kernel sizes 1 and 5, pooling stops when the
-- image is smaller than the window, no dense layer, other activations
CREATE TABLE cnn_options (name text, hp jsonb, bound float8);
INSERT INTO cnn_options VALUES
 ('pool_size 1', '{"input_shape": [8, 8], "conv_filters": [8, 8], "pool_size": 1, "dense_units": [32], "epochs": 8, "batch_size": 32, "learning_rate": 0.01}', 0.9),
 ('kernel_size 1', '{"input_shape": [8, 8], "conv_filters": [8], "kernel_size": 1, "dense_units": [32], "epochs": 8, "batch_size": 32, "learning_rate": 0.01}', 0.8),
 ('kernel_size 5', '{"input_shape": [8, 8], "conv_filters": [8, 16], "kernel_size": 5, "dense_units": [32], "epochs": 8, "batch_size": 32, "learning_rate": 0.01}', 0.9),
 ('pool_size 3, three blocks', '{"input_shape": [8, 8], "conv_filters": [4, 8, 8], "pool_size": 3, "dense_units": [16], "epochs": 8, "batch_size": 32, "learning_rate": 0.01}', 0.7),
 ('no dense layer, tanh', '{"input_shape": [8, 8], "conv_filters": [8], "dense_units": [], "activation": "tanh", "epochs": 8, "batch_size": 32, "learning_rate": 0.01}', 0.9),
 ('batch_norm dropout gelu', '{"input_shape": [8, 8], "conv_filters": [8], "dense_units": [32], "batch_norm": true, "dropout": 0.2, "activation": "gelu", "epochs": 8, "batch_size": 32, "learning_rate": 0.01}', 0.9);
CREATE TEMP TABLE cnn_option_models AS
SELECT o.name, t.id, (t.metrics->>'accuracy')::float8 >= o.bound AS accuracy_ok, galaxy.describe(t.model) AS d
  FROM cnn_options o,
       LATERAL galaxy.train('cnn_opt', 'cnn_digits', 'digit', algorithm => 'cnn', hyperparams => o.hp, seed => 2, deploy => 'never') t;
SELECT name, accuracy_ok, d->'architecture'->>'parameters' AS parameters,
       (SELECT string_agg(l->>'type' || coalesce('(' || (l->>'kernel') || ')', '') || coalesce(':' || (l->>'function'), '') || ' ' || coalesce(l->>'shape', l->>'out'), ' | ' ORDER BY i)
          FROM jsonb_array_elements(d->'architecture'->'layers') WITH ORDINALITY e(l, i)) AS layers
  FROM cnn_option_models
 ORDER BY name;

-- ---------------------------------------------------------------------------
-- a custom architecture: "layers", a list of layer objects (the output
-- layer is added); defaults are filled in and shown back
SELECT (t.metrics->>'accuracy')::float8 >= 0.9 AS accuracy_ok, t.hyperparams->'layers' AS layers,
       (SELECT string_agg(l->>'type' || ' ' || coalesce(l->>'shape', l->>'out'), ' | ' ORDER BY i)
          FROM jsonb_array_elements(galaxy.describe(t.model)->'architecture'->'layers') WITH ORDINALITY e(l, i)) AS network
  FROM galaxy.train('cnn_custom', 'cnn_digits', 'digit', algorithm => 'cnn', seed => 2,
                    hyperparams => '{"input_shape": [8, 8], "epochs": 8, "batch_size": 32, "learning_rate": 0.01,
                      "layers": [{"type": "conv2d", "filters": 8}, {"type": "activation", "function": "relu"},
                                 {"type": "max_pool2d"},
                                 {"type": "conv2d", "filters": 16, "kernel": 3, "padding": 0}, {"type": "activation", "function": "relu"},
                                 {"type": "dense", "units": 32}, {"type": "dropout", "rate": 0.2},
                                 {"type": "activation", "function": "relu"}]}') t;
SELECT galaxy.predict_label('cnn_custom', pixels::float8[]) = digit::text AS predicts FROM cnn_digits LIMIT 1;
SELECT name, type, default_value FROM galaxy.algorithm_hyperparameters WHERE algorithm = 'cnn' AND name = 'layers';

\set VERBOSITY terse
SELECT galaxy.train('cnn_bad', 'cnn_digits', 'digit', algorithm => 'cnn', hyperparams => '{"layers": [{"type": "conv3d"}]}');
SELECT galaxy.train('cnn_bad', 'cnn_digits', 'digit', algorithm => 'cnn', hyperparams => '{"layers": [{"type": "conv2d"}]}');
SELECT galaxy.train('cnn_bad', 'cnn_digits', 'digit', algorithm => 'cnn', hyperparams => '{"layers": [{"type": "conv2d", "filters": 4, "kernel": 9, "padding": 0}]}');
SELECT galaxy.train('cnn_bad', 'cnn_digits', 'digit', algorithm => 'cnn', hyperparams => '{"layers": [{"type": "dense", "units": 4}, {"type": "max_pool2d"}]}');
SELECT galaxy.train('cnn_bad', 'cnn_digits', 'digit', algorithm => 'cnn', hyperparams => '{"layers": [{"type": "dropout", "rate": 0.95}]}');
SELECT galaxy.train('cnn_bad', 'cnn_digits', 'digit', algorithm => 'cnn', hyperparams => '{"layers": [{"type": "dense", "units": 4}], "conv_filters": [3]}');
SELECT galaxy.train('cnn_bad', 'cnn_digits', 'digit', algorithm => 'cnn', hyperparams => '{"layers": [{"type": "dense", "units": 4}], "dropout": 0.5}');
SELECT galaxy.train('cnn_bad', 'cnn_digits', 'digit', algorithm => 'cnn', hyperparams => '{"layers": {"type": "dense"}}');
SELECT galaxy.train('cnn_bad', 'cnn_digits', 'digit', algorithm => 'cnn', hyperparams => '{"layers": [{"type": "activation", "function": "identity"}]}');
SELECT galaxy.train('cnn_bad', 'cnn_digits', 'digit', algorithm => 'cnn', hyperparams => '{"layers": [{"type": "dense", "units": 4, "size": 3}]}');
SELECT galaxy.train('cnn_bad', 'cnn_digits', 'digit', algorithm => 'cnn', hyperparams => '{"layers": [3]}');
SELECT galaxy.train('cnn_bad', 'cnn_digits', 'digit', algorithm => 'cnn', hyperparams => '{"layers": [{"type": "conv2d", "filters": 4, "kernel": 3, "padding": 3}]}');
SELECT galaxy.train('cnn_bad', 'cnn_digits', 'digit', algorithm => 'cnn',
                    hyperparams => '{"layers": [{"type": "flatten"}, {"type": "flatten"}, {"type": "flatten"}, {"type": "flatten"}, {"type": "flatten"},
                                                {"type": "flatten"}, {"type": "flatten"}, {"type": "flatten"}, {"type": "flatten"}, {"type": "flatten"},
                                                {"type": "flatten"}, {"type": "flatten"}, {"type": "flatten"}, {"type": "flatten"}, {"type": "flatten"},
                                                {"type": "flatten"}, {"type": "flatten"}, {"type": "flatten"}, {"type": "flatten"}, {"type": "flatten"}]}');
