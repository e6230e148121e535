-- neural_network (alias mlp): non-linear problems a linear model cannot learn,
-- determinism, multiclass / binary / regression, every layer, optimizer,
-- schedule and loss option, an array-column feature (row-by-row predictions
-- equal the batch ones of training), describe()'s architecture and training
-- curve, early stopping.  Training results are printed as booleans or
-- deterministic integers only: float32 kernels may round differently on
-- another CPU, so no raw float from training reaches the output.
\set VERBOSITY terse
-- the NOTICE summary of each train() carries timings: keep it out of the output
SET client_min_messages = warning;
\getenv abs_srcdir PG_ABS_SRCDIR
\set iris_csv :abs_srcdir '/test/data/iris.csv'
\set cancer_csv :abs_srcdir '/test/data/breast_cancer.csv'
\set diabetes_csv :abs_srcdir '/test/data/diabetes.csv'
\set digits_csv :abs_srcdir '/test/data/digits.csv'

CREATE TABLE nn_iris (sepal_length float8, sepal_width float8, petal_length float8, petal_width float8, species text);
COPY nn_iris FROM :'iris_csv' WITH (FORMAT csv, HEADER true);
CREATE TABLE nn_cancer (mean_radius float8, mean_texture float8, mean_perimeter float8, mean_area float8,
    mean_smoothness float8, mean_compactness float8, mean_concavity float8, mean_concave_points float8,
    mean_symmetry float8, mean_fractal_dimension float8, radius_error float8, texture_error float8,
    perimeter_error float8, area_error float8, smoothness_error float8, compactness_error float8,
    concavity_error float8, concave_points_error float8, symmetry_error float8, fractal_dimension_error float8,
    worst_radius float8, worst_texture float8, worst_perimeter float8, worst_area float8,
    worst_smoothness float8, worst_compactness float8, worst_concavity float8, worst_concave_points float8,
    worst_symmetry float8, worst_fractal_dimension float8, diagnosis text);
COPY nn_cancer FROM :'cancer_csv' WITH (FORMAT csv, HEADER true);
CREATE TABLE nn_diabetes (age float8, sex float8, bmi float8, bp float8, s1 float8, s2 float8, s3 float8,
                          s4 float8, s5 float8, s6 float8, progression float8);
COPY nn_diabetes FROM :'diabetes_csv' WITH (FORMAT csv, HEADER true);

-- ---------------------------------------------------------------------------
-- XOR: the label is whether x1 and x2 have the same sign (points within 0.1
-- of an axis left out); deterministic pseudo-random points from modular
-- arithmetic.  A linear model is at chance, a small network gets it.
CREATE TABLE nn_xor AS
SELECT x1, x2, CASE WHEN (x1 > 0) = (x2 > 0) THEN 'same' ELSE 'diff' END AS quadrant
  FROM (SELECT ((g * 7919) % 1009) / 504.5 - 1 AS x1, ((g * 104729) % 1013) / 506.5 - 1 AS x2
          FROM generate_series(1, 1000) g) s
 WHERE abs(x1) > 0.1 AND abs(x2) > 0.1;
SELECT quadrant, count(*) FROM nn_xor GROUP BY quadrant ORDER BY quadrant;
SELECT n.algorithm, n.task,
       (n.metrics->>'accuracy')::float8 >= 0.95 AS network_accuracy_ge_095,
       (l.metrics->>'accuracy')::float8 < 0.7 AS linear_accuracy_lt_07
  FROM galaxy.train('nn_xor', 'nn_xor', 'quadrant', algorithm => 'neural_network',
                    hyperparams => '{"hidden_layers": [32, 32], "epochs": 60, "batch_size": 32, "learning_rate": 0.01}',
                    seed => 1) n,
       galaxy.train('nn_xor_linear', 'nn_xor', 'quadrant', algorithm => 'logistic_regression', seed => 1) l;
SELECT galaxy.predict_label('nn_xor', ARRAY[0.5, 0.5]) AS q1, galaxy.predict_label('nn_xor', ARRAY[-0.5, 0.5]) AS q2,
       galaxy.predict_label('nn_xor', ARRAY[-0.5, -0.5]) AS q3, galaxy.predict_label('nn_xor', ARRAY[0.5, -0.5]) AS q4;

-- two concentric rings (radius 0.2-0.45 and 0.75-1.0), the same way
CREATE TABLE nn_rings AS
SELECT r * cos(t) AS x, r * sin(t) AS y, CASE WHEN r < 0.5 THEN 'inner' ELSE 'outer' END AS ring
  FROM (SELECT CASE WHEN g % 2 = 0 THEN 0.2 + 0.25 * ((g * 7919) % 1009) / 1009.0
                    ELSE 0.75 + 0.25 * ((g * 7919) % 1009) / 1009.0 END AS r,
               2 * pi() * ((g * 104729) % 1013) / 1013.0 AS t
          FROM generate_series(1, 800) g) s;
SELECT ring, count(*) FROM nn_rings GROUP BY ring ORDER BY ring;
SELECT n.algorithm,
       (n.metrics->>'accuracy')::float8 >= 0.95 AS network_accuracy_ge_095,
       (l.metrics->>'accuracy')::float8 < 0.7 AS linear_accuracy_lt_07
  FROM galaxy.train('nn_rings', 'nn_rings', 'ring', algorithm => 'neural_network',
                    hyperparams => '{"hidden_layers": [32, 32], "epochs": 60, "batch_size": 32, "learning_rate": 0.01}',
                    seed => 1) n,
       galaxy.train('nn_rings_linear', 'nn_rings', 'ring', algorithm => 'logistic_regression', seed => 1) l;
SELECT galaxy.predict_label('nn_rings', ARRAY[0.0, 0.3]) AS at_0_03, galaxy.predict_label('nn_rings', ARRAY[-0.25, -0.2]) AS near_centre,
       galaxy.predict_label('nn_rings', ARRAY[0.9, 0.0]) AS at_09_0, galaxy.predict_label('nn_rings', ARRAY[-0.6, 0.6]) AS at_r085;

-- ---------------------------------------------------------------------------
-- determinism: the same call twice gives the same model value, byte for byte
-- (dropout and batch norm draw from the generator too); another seed gives
-- another model; galaxy.threads does not change the result
CREATE TEMP TABLE nn_det AS
SELECT 'a' AS run, id, model FROM galaxy.train('nn_det', 'nn_rings', 'ring', algorithm => 'neural_network',
    hyperparams => '{"hidden_layers": [16, 16], "epochs": 15, "batch_size": 32, "dropout": 0.1, "batch_norm": true}',
    seed => 5, deploy => 'never')
UNION ALL
SELECT 'b', id, model FROM galaxy.train('nn_det', 'nn_rings', 'ring', algorithm => 'neural_network',
    hyperparams => '{"hidden_layers": [16, 16], "epochs": 15, "batch_size": 32, "dropout": 0.1, "batch_norm": true}',
    seed => 5, deploy => 'never')
UNION ALL
SELECT 'other seed', id, model FROM galaxy.train('nn_det', 'nn_rings', 'ring', algorithm => 'neural_network',
    hyperparams => '{"hidden_layers": [16, 16], "epochs": 15, "batch_size": 32, "dropout": 0.1, "batch_norm": true}',
    seed => 6, deploy => 'never');
SET galaxy.threads = 2;
INSERT INTO nn_det
SELECT 'threads 2', id, model FROM galaxy.train('nn_det', 'nn_rings', 'ring', algorithm => 'neural_network',
    hyperparams => '{"hidden_layers": [16, 16], "epochs": 15, "batch_size": 32, "dropout": 0.1, "batch_norm": true}',
    seed => 5, deploy => 'never');
RESET galaxy.threads;
-- the same call gives the same bytes (src/nn/nn.h: "the same seed, data and
-- thread count give the same model"); and the same predictions
SELECT b.run,
       md5(galaxy.model_send(a.model)) = md5(galaxy.model_send(b.model)) AS identical_bytes,
       (SELECT bool_and(galaxy.predict(a.id, ARRAY[r.x, r.y]) = galaxy.predict(b.id, ARRAY[r.x, r.y])
                        AND galaxy.predict_proba(a.id, ARRAY[r.x, r.y]) = galaxy.predict_proba(b.id, ARRAY[r.x, r.y]))
          FROM nn_rings r) AS identical_predictions
  FROM nn_det a JOIN nn_det b ON a.run = 'a' AND b.run <> 'a'
 ORDER BY b.run;
-- the hyperparameter "seed" overrides train's seed for the network (with no
-- test split, train's seed has nothing else to do)
SELECT (SELECT galaxy.describe(model)->'training_curve'->'loss'
          FROM galaxy.train('nn_seed', 'nn_rings', 'ring', algorithm => 'neural_network',
                            hyperparams => '{"hidden_layers": [8], "epochs": 5, "seed": 77}', test_size => 0, seed => 1, deploy => 'never'))
     = (SELECT galaxy.describe(model)->'training_curve'->'loss'
          FROM galaxy.train('nn_seed', 'nn_rings', 'ring', algorithm => 'neural_network',
                            hyperparams => '{"hidden_layers": [8], "epochs": 5, "seed": 77}', test_size => 0, seed => 2, deploy => 'never'))
       AS hp_seed_wins,
       (SELECT galaxy.describe(model)->'training_curve'->'loss'
          FROM galaxy.train('nn_seed', 'nn_rings', 'ring', algorithm => 'neural_network',
                            hyperparams => '{"hidden_layers": [8], "epochs": 5}', test_size => 0, seed => 1, deploy => 'never'))
     = (SELECT galaxy.describe(model)->'training_curve'->'loss'
          FROM galaxy.train('nn_seed', 'nn_rings', 'ring', algorithm => 'neural_network',
                            hyperparams => '{"hidden_layers": [8], "epochs": 5}', test_size => 0, seed => 2, deploy => 'never'))
       AS train_seed_used_otherwise;

-- ---------------------------------------------------------------------------
-- multiclass: iris (three classes), probabilities sum to one
SELECT algorithm, task, (metrics->>'accuracy')::float8 >= 0.9 AS accuracy_ge_09,
       (metrics->>'epochs_trained')::int BETWEEN 1 AND 100 AS epochs_in_range
  FROM galaxy.train('nn_iris', 'nn_iris', 'species', algorithm => 'neural_network',
                    hyperparams => '{"hidden_layers": [16], "epochs": 100, "batch_size": 16, "learning_rate": 0.01}', seed => 2);
SELECT galaxy.predict_label('nn_iris', ARRAY[5.1, 3.5, 1.4, 0.2]) AS setosa,
       galaxy.predict_label('nn_iris', ARRAY[6.7, 3.0, 5.2, 2.3]) AS virginica,
       cardinality(galaxy.predict_proba('nn_iris', ARRAY[6.0, 2.9, 4.5, 1.5])) AS n_proba,
       round((SELECT sum(p) FROM unnest(galaxy.predict_proba('nn_iris', ARRAY[6.0, 2.9, 4.5, 1.5])) p)::numeric, 6) AS proba_sum;

-- regression: diabetes, in the target's units (the network learns the standardised target)
SELECT n.algorithm, n.task, (n.metrics->>'r2')::float8 > 0.3 AS r2_gt_03,
       (n.metrics->>'r2')::float8 > (l.metrics->>'r2')::float8 - 0.15 AS near_linear
  FROM galaxy.train('nn_diabetes', 'nn_diabetes', 'progression', algorithm => 'neural_network',
                    hyperparams => '{"hidden_layers": [16], "epochs": 80, "batch_size": 32, "learning_rate": 0.01}', seed => 2) n,
       galaxy.train('nn_diabetes_linear', 'nn_diabetes', 'progression', algorithm => 'linear_regression', seed => 2) l;
SELECT bool_and(galaxy.predict('nn_diabetes', d) BETWEEN 0 AND 400) AS in_target_range,
       corr(galaxy.predict('nn_diabetes', d), progression) > 0.6 AS follows_target
  FROM nn_diabetes d;

-- the alias: 'mlp' trains neural_network
SELECT algorithm, hyperparams_given
  FROM galaxy.train('nn_alias', 'nn_iris', 'species', algorithm => 'mlp',
                    hyperparams => '{"hidden_layers": [4], "epochs": 3}', deploy => 'never');

-- ---------------------------------------------------------------------------
-- every option trains, predicts, and shows in the architecture
CREATE TABLE nn_options (name text, relation regclass, target text, bound float8, hp jsonb);
INSERT INTO nn_options VALUES
 ('batch_norm dropout gelu', 'nn_iris', 'species', 0.85,
  '{"hidden_layers": [32, 16], "batch_norm": true, "dropout": 0.2, "activation": "gelu", "epochs": 80, "batch_size": 16, "learning_rate": 0.01}'),
 ('sgd nesterov cosine', 'nn_iris', 'species', 0.85,
  '{"hidden_layers": [16], "optimizer": "sgd", "nesterov": true, "momentum": 0.9, "learning_rate": 0.05, "lr_schedule": "cosine", "epochs": 80, "batch_size": 16}'),
 ('sgd step', 'nn_iris', 'species', 0.85,
  '{"hidden_layers": [16], "optimizer": "sgd", "momentum": 0, "learning_rate": 0.1, "lr_schedule": "step", "lr_step_size": 30, "lr_gamma": 0.5, "epochs": 80, "batch_size": 16}'),
 ('adamw plateau', 'nn_iris', 'species', 0.85,
  '{"hidden_layers": [16], "optimizer": "adamw", "weight_decay": 0.01, "learning_rate": 0.01, "lr_schedule": "plateau", "lr_patience": 3, "epochs": 80, "batch_size": 16}'),
 ('tanh clip_norm', 'nn_iris', 'species', 0.85,
  '{"hidden_layers": [16], "activation": "tanh", "clip_norm": 1.0, "learning_rate": 0.01, "epochs": 80, "batch_size": 16}'),
 ('leaky_relu', 'nn_iris', 'species', 0.85,
  '{"hidden_layers": [16], "activation": "leaky_relu", "learning_rate": 0.01, "epochs": 80, "batch_size": 16}'),
 ('sigmoid', 'nn_iris', 'species', 0.85,
  '{"hidden_layers": [16], "activation": "sigmoid", "learning_rate": 0.03, "epochs": 80, "batch_size": 16}'),
 ('no hidden layer', 'nn_iris', 'species', 0.85,
  '{"hidden_layers": [], "learning_rate": 0.05, "epochs": 80, "batch_size": 16}'),
 ('cross_entropy two classes', 'nn_cancer', 'diagnosis', 0.9,
  '{"hidden_layers": [16], "loss": "cross_entropy", "learning_rate": 0.01, "epochs": 40, "batch_size": 32}'),
 ('binary_cross_entropy balanced', 'nn_cancer', 'diagnosis', 0.9,
  '{"hidden_layers": [16], "loss": "binary_cross_entropy", "class_weight": "balanced", "learning_rate": 0.01, "epochs": 40, "batch_size": 32}'),
 ('huber', 'nn_diabetes', 'progression', 0.2,
  '{"hidden_layers": [16], "loss": "huber", "huber_delta": 1.0, "learning_rate": 0.01, "epochs": 80, "batch_size": 32}'),
 ('mse', 'nn_diabetes', 'progression', 0.2,
  '{"hidden_layers": [16], "loss": "mse", "learning_rate": 0.01, "epochs": 80, "batch_size": 32}');
CREATE TABLE nn_option_models AS
SELECT o.name, t.id, t.task, coalesce(t.metrics->>'accuracy', t.metrics->>'r2')::float8 >= o.bound AS metric_ok, t.model
  FROM nn_options o,
       LATERAL galaxy.train('nn_opt_' || o.relation::text, o.relation, o.target, algorithm => 'neural_network',
                            hyperparams => o.hp, seed => 2, deploy => 'never') t;
SELECT m.name, m.task, m.metric_ok,
       d->'architecture'->>'loss' AS loss,
       (SELECT string_agg(l->>'type' || coalesce(':' || (l->>'function'), '') || coalesce(':' || round((l->>'rate')::numeric, 6), ''), ' ' ORDER BY i)
          FROM jsonb_array_elements(d->'architecture'->'layers') WITH ORDINALITY e(l, i)) AS layers
  FROM nn_option_models m, galaxy.describe(m.model) d
 ORDER BY m.name;
-- each predicts from rows by model id: a label of its data with probabilities
-- that sum to one, or a value in the target's range
SELECT m.name,
       CASE o.relation
         WHEN 'nn_iris'::regclass THEN
           (SELECT bool_and(galaxy.predict_label(m.id, i) IN ('setosa', 'versicolor', 'virginica')
                            AND abs((SELECT sum(p) FROM unnest(galaxy.predict_proba(m.id, i)) p) - 1) < 1e-9)
              FROM nn_iris i)
         WHEN 'nn_cancer'::regclass THEN
           (SELECT bool_and(galaxy.predict_label(m.id, c) IN ('benign', 'malignant')
                            AND abs((SELECT sum(p) FROM unnest(galaxy.predict_proba(m.id, c)) p) - 1) < 1e-9)
              FROM nn_cancer c)
         ELSE
           (SELECT bool_and(galaxy.predict(m.id, d) BETWEEN 0 AND 400) FROM nn_diabetes d)
       END AS predicts
  FROM nn_option_models m JOIN nn_options o USING (name)
 ORDER BY m.name;

-- ---------------------------------------------------------------------------
-- an array feature: digits' 64 pixels as one real[] column (the primary key
-- is left out of the default features)
CREATE TABLE nn_digits_wide (px0 float8, px1 float8, px2 float8, px3 float8, px4 float8, px5 float8, px6 float8, px7 float8,
    px8 float8, px9 float8, px10 float8, px11 float8, px12 float8, px13 float8, px14 float8, px15 float8,
    px16 float8, px17 float8, px18 float8, px19 float8, px20 float8, px21 float8, px22 float8, px23 float8,
    px24 float8, px25 float8, px26 float8, px27 float8, px28 float8, px29 float8, px30 float8, px31 float8,
    px32 float8, px33 float8, px34 float8, px35 float8, px36 float8, px37 float8, px38 float8, px39 float8,
    px40 float8, px41 float8, px42 float8, px43 float8, px44 float8, px45 float8, px46 float8, px47 float8,
    px48 float8, px49 float8, px50 float8, px51 float8, px52 float8, px53 float8, px54 float8, px55 float8,
    px56 float8, px57 float8, px58 float8, px59 float8, px60 float8, px61 float8, px62 float8, px63 float8, digit int);
COPY nn_digits_wide FROM :'digits_csv' WITH (FORMAT csv, HEADER true);
CREATE TABLE nn_digits (id int PRIMARY KEY, pixels real[] NOT NULL, digit int NOT NULL);
INSERT INTO nn_digits
SELECT row_number() OVER (), ARRAY[px0, px1, px2, px3, px4, px5, px6, px7, px8, px9, px10, px11, px12, px13, px14, px15,
       px16, px17, px18, px19, px20, px21, px22, px23, px24, px25, px26, px27, px28, px29, px30, px31,
       px32, px33, px34, px35, px36, px37, px38, px39, px40, px41, px42, px43, px44, px45, px46, px47,
       px48, px49, px50, px51, px52, px53, px54, px55, px56, px57, px58, px59, px60, px61, px62, px63]::real[], digit
  FROM nn_digits_wide;
SELECT count(*) AS rows, min(cardinality(pixels)) AS min_len, max(cardinality(pixels)) AS max_len FROM nn_digits;
-- no test split: the metrics are those of one batch prediction over every row
CREATE TEMP TABLE nn_dig AS
SELECT id, algorithm, task, features, feature_types, training_rows, metrics, model
  FROM galaxy.train('nn_digits', 'nn_digits', 'digit', algorithm => 'mlp',
                    hyperparams => '{"hidden_layers": [64], "epochs": 30, "batch_size": 64}', test_size => 0, seed => 3);
SELECT algorithm, task, features, feature_types, training_rows, metrics->>'evaluated_on' AS evaluated_on,
       (metrics->>'accuracy')::float8 >= 0.95 AS accuracy_ge_095,
       galaxy.describe(model)->>'n_inputs' AS n_inputs, galaxy.describe(model)->>'n_features' AS n_features,
       galaxy.describe(model)->'architecture'->>'inputs' AS network_inputs,
       galaxy.describe(model)->'architecture'->>'outputs' AS network_outputs
  FROM nn_dig;
-- row by row (whole row, and the array as float8[]) against the batch
CREATE TEMP TABLE nn_dig_rows AS
SELECT d.id, d.digit,
       galaxy.predict('nn_digits', d) AS pred_row,
       galaxy.predict('nn_digits', d.pixels::float8[]) AS pred_arr,
       galaxy.predict_label('nn_digits', d) AS label_row,
       galaxy.predict_label('nn_digits', d.pixels::float8[]) AS label_arr,
       galaxy.predict_label((SELECT id FROM nn_dig), d) AS label_by_id,
       galaxy.predict_proba('nn_digits', d) AS proba_row,
       galaxy.predict_proba('nn_digits', d.pixels::float8[]) AS proba_arr
  FROM nn_digits d;
SELECT count(*) FILTER (WHERE label_row <> label_arr OR label_row <> label_by_id) AS label_forms_differ,
       count(*) FILTER (WHERE pred_row <> pred_arr OR label_row <> pred_row::int::text) AS predict_forms_differ,
       count(*) FILTER (WHERE proba_row <> proba_arr) AS proba_forms_differ,
       count(*) FILTER (WHERE cardinality(proba_row) <> 10
                           OR abs((SELECT sum(p) FROM unnest(proba_row) p) - 1) > 1e-9
                           OR label_row <> (SELECT (array_position(proba_row, (SELECT max(p) FROM unnest(proba_row) p)) - 1)::text))
         AS proba_inconsistent
  FROM nn_dig_rows;
-- the row-by-row accuracy is the batch accuracy of training and of evaluate();
-- the row-by-row log loss is the batch one (float32 kernels of one row and of
-- a batch may round the last bits differently)
SELECT abs(avg((r.label_row = r.digit::text)::int) - (m.metrics->>'accuracy')::float8) < 1e-12 AS row_accuracy_is_batch,
       abs(-avg(ln(greatest(r.proba_row[r.digit + 1], 1e-15))) - (m.metrics->>'log_loss')::float8) < 1e-6 AS row_log_loss_is_batch,
       (galaxy.evaluate(m.id, 'nn_digits')->>'accuracy')::float8 = (m.metrics->>'accuracy')::float8 AS evaluate_is_batch
  FROM nn_dig_rows r, nn_dig m
 GROUP BY m.id, m.metrics;

-- ---------------------------------------------------------------------------
-- describe(): the architecture (layers, shapes, parameter counts) and the training curve
CREATE TEMP TABLE nn_desc AS
SELECT id, metrics, galaxy.describe(model) AS d
  FROM galaxy.train('nn_describe', 'nn_iris', 'species', algorithm => 'neural_network',
                    hyperparams => '{"hidden_layers": [32, 16], "batch_norm": true, "dropout": 0.25, "epochs": 40, "batch_size": 16}',
                    seed => 4, deploy => 'never');
SELECT d->'architecture'->>'inputs' AS inputs, d->'architecture'->>'outputs' AS outputs,
       d->'architecture'->>'parameters' AS parameters, d->'architecture'->>'loss' AS loss,
       (SELECT sum((l->>'params')::int) FROM jsonb_array_elements(d->'architecture'->'layers') l)
         = (d->'architecture'->>'parameters')::int AS layer_params_add_up
  FROM nn_desc;
SELECT i, l->>'type' AS type, l->>'in' AS "in", l->>'out' AS "out", l->>'params' AS params,
       l->>'function' AS function, round((l->>'rate')::numeric, 6) AS rate
  FROM nn_desc, jsonb_array_elements(d->'architecture'->'layers') WITH ORDINALITY e(l, i)
 ORDER BY i;
-- one value per epoch trained; the kept weights are those of the epoch with the lowest validation loss
SELECT (d->'training_curve'->>'epochs')::int = (metrics->>'epochs_trained')::int AS epochs_is_metric,
       (d->'training_curve'->>'best_epoch')::int = (metrics->>'best_epoch')::int AS best_epoch_is_metric,
       jsonb_array_length(d->'training_curve'->'loss') = (metrics->>'epochs_trained')::int AS loss_per_epoch,
       jsonb_array_length(d->'training_curve'->'val_loss') = (metrics->>'epochs_trained')::int AS val_loss_per_epoch,
       (metrics->>'best_epoch')::int BETWEEN 1 AND (metrics->>'epochs_trained')::int AS best_epoch_in_range,
       (metrics->>'epochs_trained')::int <= 40 AS at_most_epochs,
       (d->'training_curve'->'val_loss'->>((metrics->>'best_epoch')::int - 1))::float8
         = (SELECT min(v::float8) FROM jsonb_array_elements_text(d->'training_curve'->'val_loss') v) AS best_is_lowest_val_loss,
       (SELECT bool_and(v::float8 > 0) FROM jsonb_array_elements_text(d->'training_curve'->'loss') v) AS losses_positive
  FROM nn_desc;
-- without a validation split: no validation loss, every epoch runs, the last one is kept
SELECT (metrics->>'epochs_trained')::int AS epochs_trained, (metrics->>'best_epoch')::int AS best_epoch,
       (SELECT bool_and(v = 'null') FROM jsonb_array_elements(galaxy.describe(model)->'training_curve'->'val_loss') v) AS no_val_loss
  FROM galaxy.train('nn_describe', 'nn_iris', 'species', algorithm => 'neural_network',
                    hyperparams => '{"hidden_layers": [8], "epochs": 12, "validation_fraction": 0}', seed => 4, deploy => 'never');

-- early stopping on an easy problem: it stops 3 epochs after the best one, long before 500
SELECT (metrics->>'epochs_trained')::int < 500 AS stopped_early,
       (metrics->>'epochs_trained')::int - (metrics->>'best_epoch')::int AS epochs_after_best
  FROM galaxy.train('nn_early', 'nn_rings', 'ring', algorithm => 'neural_network',
                    hyperparams => '{"hidden_layers": [16], "epochs": 500, "early_stopping_rounds": 3, "learning_rate": 0.05, "batch_size": 32}',
                    seed => 1, deploy => 'never');
-- and with early stopping off, every epoch runs
SELECT (metrics->>'epochs_trained')::int AS epochs_trained
  FROM galaxy.train('nn_early', 'nn_rings', 'ring', algorithm => 'neural_network',
                    hyperparams => '{"hidden_layers": [16], "epochs": 25, "early_stopping_rounds": 0, "learning_rate": 0.05, "batch_size": 32}',
                    seed => 1, deploy => 'never');
