-- lstm: sequences in one array column (issue #13)
SET client_min_messages = warning;

-- y says whether the last value is above the one before: the network must
-- keep the order of the steps (a model of the values without order cannot)
CREATE TABLE lstm_seq AS
SELECT s, (s[12] > s[11])::int AS y
FROM (SELECT g, ARRAY(SELECT ((hashint4(g * 100 + j) % 1000) / 1000.0)::real
                      FROM generate_series(1, 12) j) AS s
      FROM generate_series(1, 1500) g) x;

SELECT (t.metrics->>'accuracy')::float8 >= 0.9 AS learns_order,
       (t.metrics->>'epochs_trained')::int BETWEEN 1 AND 40 AS epochs_ok
FROM galaxy.train('lstm_order', 'lstm_seq', 'y', algorithm => 'lstm',
                  hyperparams => '{"lstm_units": [16], "epochs": 40, "learning_rate": 0.01,
                                   "early_stopping_rounds": 10}') t;

-- the GRU cell learns the same
SELECT (t.metrics->>'accuracy')::float8 >= 0.9 AS gru_learns_order,
       galaxy.describe(t.model)->'architecture'->'layers'->0->>'type' AS layer
FROM galaxy.train('lstm_gru', 'lstm_seq', 'y', algorithm => 'lstm',
                  hyperparams => '{"cell": "gru", "lstm_units": [16], "epochs": 40, "learning_rate": 0.01,
                                   "early_stopping_rounds": 10}') t;

-- the same call gives the same model, byte for byte
SELECT md5(galaxy.model_send(a.model)::text) = md5(galaxy.model_send(b.model)::text) AS deterministic
FROM galaxy.train('lstm_det_a', 'lstm_seq', 'y', algorithm => 'lstm',
                  hyperparams => '{"lstm_units": [8], "epochs": 3}') a,
     galaxy.train('lstm_det_b', 'lstm_seq', 'y', algorithm => 'lstm',
                  hyperparams => '{"lstm_units": [8], "epochs": 3}') b;

-- forecasting: windows of a series (a window function) and the next value
CREATE TABLE lstm_series AS
SELECT t, sin(t / 6.0) + (hashint4(t) % 1000) / 20000.0 AS value
FROM generate_series(1, 1200) t;
CREATE VIEW lstm_windows AS
SELECT array_agg(value) OVER w AS history, lead(value) OVER (ORDER BY t) AS next_value
FROM lstm_series
WINDOW w AS (ORDER BY t ROWS BETWEEN 15 PRECEDING AND CURRENT ROW)
ORDER BY t OFFSET 15;

SELECT (t.metrics->>'r2')::float8 > 0.9 AS forecasts,
       t.task, t.algorithm
FROM galaxy.train('lstm_forecast', 'lstm_windows', 'next_value', algorithm => 'lstm',
                  hyperparams => '{"input_shape": [16, 1], "lstm_units": [16, 8], "dense_units": [8],
                                   "epochs": 15, "learning_rate": 0.01}') t;

-- stacked layers: every one but the last returns its whole sequence
SELECT l->>'type' AS type, l->>'in' AS "in", l->>'out' AS "out", l->>'params' AS params,
       l->>'returns' AS returns
FROM galaxy.models m, jsonb_array_elements(galaxy.describe(m.model)->'architecture'->'layers') l
WHERE m.id = galaxy.deployed_model('lstm_forecast');

-- a window predicted on its own gives what evaluate scores
SELECT abs(galaxy.predict('lstm_forecast', history::float8[]) - next_value) < 0.5 AS close
FROM lstm_windows WHERE next_value IS NOT NULL LIMIT 3;

-- several features per step: [steps, features] in step order
-- (each step holds the value and its complement)
CREATE TABLE lstm_multi AS
SELECT ARRAY(SELECT v FROM generate_series(1, 12) i,
                    unnest(ARRAY[s[i], 1 - s[i]]) WITH ORDINALITY u(v, k) ORDER BY i, k) AS s2, y
FROM lstm_seq;
SELECT (t.metrics->>'accuracy')::float8 >= 0.85 AS learns_order
FROM galaxy.train('lstm_multi', 'lstm_multi', 'y', algorithm => 'lstm',
                  hyperparams => '{"input_shape": [12, 2], "lstm_units": [16], "epochs": 30,
                                   "learning_rate": 0.01}') t;

-- bad shapes: clear errors
\set VERBOSITY terse
SELECT galaxy.train('lstm_bad', 'lstm_seq', 'y', algorithm => 'lstm', hyperparams => '{"input_shape": [5, 2]}');
SELECT galaxy.train('lstm_bad', 'lstm_seq', 'y', algorithm => 'lstm', hyperparams => '{"input_shape": [2, 2, 3]}');
SELECT galaxy.train('lstm_bad', 'lstm_seq', 'y', algorithm => 'lstm', hyperparams => '{"lstm_units": []}');
SELECT galaxy.train('lstm_bad', 'lstm_seq', 'y', algorithm => 'lstm', hyperparams => '{"lstm_units": [0]}');

-- galaxy.series_windows and galaxy.forecast: windows of a series, and the
-- next values from a model fed its own predictions.  The model has no dense
-- head (its stored LSTM is followed by a 33-float output layer only: the
-- reader once refused such a value as corrupted)
CREATE TABLE lstm_wave AS
SELECT t, sin(t / 8.0) + 0.5 * sin(t / 3.0) AS value FROM generate_series(1, 1200) t;
SELECT "position", array_length(history, 1) AS len, round(target::numeric, 4) AS target
FROM galaxy.series_windows('lstm_wave', 't', 'value', 24) ORDER BY "position" LIMIT 2;
SELECT count(*) AS windows, count(target) AS with_target FROM galaxy.series_windows('lstm_wave', 't', 'value', 24, 3);
CREATE VIEW lstm_wave_windows AS SELECT history, target FROM galaxy.series_windows('lstm_wave', 't', 'value', 24);
SELECT (t.metrics->>'r2')::float8 > 0.95 AS fits
FROM galaxy.train('lstm_wave', 'lstm_wave_windows', 'target', algorithm => 'lstm',
                  hyperparams => '{"input_shape": [24, 1], "lstm_units": [32], "epochs": 20, "learning_rate": 0.005}') t;
SELECT step, abs(value - (sin((1200 + step) / 8.0) + 0.5 * sin((1200 + step) / 3.0))) < 0.1 AS close
FROM galaxy.forecast('lstm_wave', 'lstm_wave', 't', 'value', 24, 3);
SELECT * FROM galaxy.forecast('lstm_wave', 'lstm_wave', 't', 'value', 12);
SELECT * FROM galaxy.forecast('lstm_wave', 'lstm_wave', 't', 'value', 24, 0);
SELECT * FROM galaxy.series_windows('lstm_wave', 't', 'value', 0);
SELECT * FROM galaxy.series_windows('lstm_wave', 't', 'value', 5000);
