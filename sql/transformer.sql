-- transformer: an encoder over sequences or token ids in one array column (issue #13)
SET client_min_messages = warning;

-- numeric sequences: y says whether the last value is above the one before
-- (the order of the steps matters; position codes carry it)
CREATE TABLE tf_seq AS
SELECT s, (s[8] > s[7])::int AS y
FROM (SELECT g, ARRAY(SELECT ((hashint4(g * 100 + j) % 1000) / 1000.0)::real
                      FROM generate_series(1, 8) j) AS s
      FROM generate_series(1, 1500) g) x;

SELECT (t.metrics->>'accuracy')::float8 >= 0.9 AS learns_order, t.algorithm, t.task
FROM galaxy.train('tf_order', 'tf_seq', 'y', algorithm => 'transformer',
                  hyperparams => '{"d_model": 16, "heads": 2, "layers": 1, "ff_units": 32,
                                   "epochs": 40, "learning_rate": 0.005, "batch_size": 32}') t;

-- token ids: does token 5 occur anywhere in the sequence?
CREATE TABLE tf_tokens AS
SELECT ids, 5 = ANY (ids) AS has_five
FROM (SELECT ARRAY(SELECT (abs(hashint4(g * 31 + t)) % 9) + 1 FROM generate_series(1, 10) t)::int[] AS ids
      FROM generate_series(1, 2000) g) x;

SELECT (t.metrics->>'accuracy')::float8 >= 0.95 AS finds_token
FROM galaxy.train('tf_tok', 'tf_tokens', 'has_five', algorithm => 'transformer',
                  hyperparams => '{"vocab_size": 10, "d_model": 16, "heads": 2, "layers": 1, "ff_units": 32,
                                   "epochs": 30, "batch_size": 32}') t;

-- predict on raw ids (not scaled: token ids never are)
SELECT galaxy.predict_label('tf_tok', ARRAY[1, 2, 3, 5, 4, 4, 4, 4, 4, 4]::float8[]) AS with_five,
       galaxy.predict_label('tf_tok', ARRAY[1, 2, 3, 6, 4, 4, 4, 4, 4, 4]::float8[]) AS without_five;

-- the layers of an encoder block
SELECT l->>'type' AS type, l->>'out' AS "out", l->>'params' AS params,
       coalesce(l->>'heads', l->>'vocabulary', l->>'from_layer') AS detail
FROM galaxy.models m, jsonb_array_elements(galaxy.describe(m.model)->'architecture'->'layers') l
WHERE m.id = galaxy.deployed_model('tf_tok');

-- the same call gives the same model, byte for byte
SELECT md5(galaxy.model_send(a.model)::text) = md5(galaxy.model_send(b.model)::text) AS deterministic
FROM galaxy.train('tf_det_a', 'tf_tokens', 'has_five', algorithm => 'transformer',
                  hyperparams => '{"vocab_size": 10, "d_model": 8, "heads": 2, "layers": 2, "ff_units": 8,
                                   "dropout": 0.1, "epochs": 2}') a,
     galaxy.train('tf_det_b', 'tf_tokens', 'has_five', algorithm => 'transformer',
                  hyperparams => '{"vocab_size": 10, "d_model": 8, "heads": 2, "layers": 2, "ff_units": 8,
                                   "dropout": 0.1, "epochs": 2}') b;

-- bad input: clear errors
\set VERBOSITY terse
SELECT galaxy.train('tf_bad', 'tf_seq', 'y', algorithm => 'transformer', hyperparams => '{"d_model": 10, "heads": 4}');
SELECT galaxy.train('tf_bad', 'tf_seq', 'y', algorithm => 'transformer', hyperparams => '{"input_shape": [3, 2]}');
SELECT galaxy.train('tf_bad', 'tf_seq', 'y', algorithm => 'transformer', hyperparams => '{"batch_norm": true}');
SELECT galaxy.train('tf_bad', 'tf_tokens', 'has_five', algorithm => 'transformer', hyperparams => '{"vocab_size": 5}');
SELECT galaxy.train('tf_bad', 'tf_seq', 'y', algorithm => 'transformer', hyperparams => '{"vocab_size": 10}');
SELECT galaxy.train('tf_bad', 'tf_tokens', 'has_five', algorithm => 'transformer',
                    hyperparams => '{"vocab_size": 10, "input_shape": [2, 5]}');
SELECT galaxy.train('tf_bad', 'tf_seq', 'y', algorithm => 'transformer', hyperparams => '{"heads": 0}');
