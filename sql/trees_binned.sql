--
-- Gradient boosting and random forest on a large plain table are loaded
-- straight into bin codes (one byte per value after a sampled pass for the
-- bin edges): NULLs (imputed, then binned with their imputed value), a
-- constant column, more distinct values than max_bins, and the same fit
-- through a view (loaded as values, binned by the fit) for comparison.
-- Output: booleans and rounded metrics only.
--
\set VERBOSITY terse
SET client_min_messages = warning;

CREATE FUNCTION try(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

SELECT setseed(0.18);
CREATE TABLE tb (a float8, b float8, c int, k float8, y int, r float8);
INSERT INTO tb (a, b, c, k)
SELECT random() * 10, CASE WHEN random() < 0.1 THEN NULL ELSE random() * 4 - 2 END,
       (random() * 1000)::int, 7.0
  FROM generate_series(1, 20000);
UPDATE tb SET y = (a + 2 * coalesce(b, 0) + c / 250.0 > 7)::int,
              r = a * a + 3 * coalesce(b, 1) + c / 100.0;
-- the same rows through a view: read through SPI, loaded as values
CREATE VIEW tb_view AS SELECT * FROM tb;

-- classification: gradient boosting and random forest, 16 bins
CREATE TABLE fits AS
SELECT 'gb_table' AS fit, (m).id, (m).metrics FROM (SELECT galaxy.train('tb_gb', 'tb', 'y',
       algorithm => 'gradient_boosting', features => '{a,b,c,k}',
       hyperparams => '{"n_estimators": 30, "max_depth": 4, "max_bins": 16}', seed => 7) m) s;
INSERT INTO fits SELECT 'gb_view', (m).id, (m).metrics FROM (SELECT galaxy.train('tb_gbv', 'tb_view', 'y',
       algorithm => 'gradient_boosting', features => '{a,b,c,k}',
       hyperparams => '{"n_estimators": 30, "max_depth": 4, "max_bins": 16}', seed => 7) m) s;
INSERT INTO fits SELECT 'rf_table', (m).id, (m).metrics FROM (SELECT galaxy.train('tb_rf', 'tb', 'y',
       algorithm => 'random_forest', features => '{a,b,c,k}',
       hyperparams => '{"n_estimators": 10, "max_depth": 8, "max_bins": 16, "oob_score": true}', seed => 7) m) s;
INSERT INTO fits SELECT 'rf_view', (m).id, (m).metrics FROM (SELECT galaxy.train('tb_rfv', 'tb_view', 'y',
       algorithm => 'random_forest', features => '{a,b,c,k}',
       hyperparams => '{"n_estimators": 10, "max_depth": 8, "max_bins": 16, "oob_score": true}', seed => 7) m) s;
-- regression: random forest with 32 bins
INSERT INTO fits SELECT 'rf_reg', (m).id, (m).metrics FROM (SELECT galaxy.train('tb_rfr', 'tb', 'r',
       algorithm => 'random_forest', features => '{a,b,c,k}',
       hyperparams => '{"n_estimators": 10, "max_depth": 10, "max_bins": 32}', seed => 7) m) s;

-- the table is loaded as bin codes, the view as values; quality is high either way
SELECT fit, coalesce(metrics->>'loaded_as', 'values') AS loaded_as,
       (metrics->>'training_rows')::int AS training_rows,
       round((metrics->>'roc_auc')::numeric, 2) AS auc_2dp,
       (metrics->>'roc_auc')::float8 > 0.97 AS auc_high,
       (metrics->>'oob_score')::float8 > 0.9 AS oob_high,
       (metrics->>'r2')::float8 > 0.95 AS r2_high
  FROM fits ORDER BY fit;

-- binned at load and binned at fit agree closely
SELECT abs((t.metrics->>'roc_auc')::float8 - (v.metrics->>'roc_auc')::float8) < 0.01 AS gb_auc_close
  FROM fits t, fits v WHERE t.fit = 'gb_table' AND v.fit = 'gb_view';
SELECT abs((t.metrics->>'roc_auc')::float8 - (v.metrics->>'roc_auc')::float8) < 0.01 AS rf_auc_close
  FROM fits t, fits v WHERE t.fit = 'rf_table' AND v.fit = 'rf_view';

-- the models split in the columns' own units: predictions from the raw
-- values of every row (NULLs imputed by the stored preprocessor) are sane
SELECT f.fit,
       avg((((galaxy.predict_proba(f.id, ARRAY[a, b, c, k]))[2] > 0.5)::int = y)::int) > 0.9 AS accurate,
       bool_and((galaxy.predict_proba(f.id, ARRAY[a, b, c, k]))[2] BETWEEN 0 AND 1) AS proba_in_range
  FROM fits f, tb WHERE f.fit IN ('gb_table', 'rf_table') GROUP BY f.fit ORDER BY f.fit;
SELECT round(avg(abs(galaxy.predict(f.id, ARRAY[a, b, c, k]) - r))::numeric, 0) < 3 AS rf_reg_close
  FROM fits f, tb WHERE f.fit = 'rf_reg';
-- a row with a NULL and values outside the training range
SELECT (galaxy.predict_proba(id, ARRAY[1e6, NULL, -5, 7]))[2] BETWEEN 0 AND 1 AS extreme_ok
  FROM fits WHERE fit = 'gb_table';
-- the constant column never splits: zero importance
SELECT f.fit, i.feature, round(i.importance::numeric, 6) AS importance
  FROM fits f, galaxy.feature_importance(f.id) i
 WHERE f.fit IN ('gb_table', 'rf_table') AND i.feature = 'k' ORDER BY f.fit;

-- a NULL where the column's preprocess option refuses it: the same error as with values
SELECT try($$SELECT galaxy.train('tb_err', 'tb', 'y', algorithm => 'gradient_boosting',
       features => '{a,b,c,k}', preprocess => '{"columns": {"b": {"impute": "error"}}}',
       hyperparams => '{"n_estimators": 2, "max_bins": 16}')$$);

-- a skewed column (most bin edges crowd into a few of the loader's cells),
-- NULLs, and more rows than one chunk of the scan: galaxy.threads codes the
-- rows on a second thread while the scan reads on, and gives the same bytes
SELECT setseed(0.27);
CREATE TABLE tsk AS
SELECT exp(random() * 40) AS e, CASE WHEN random() < 0.05 THEN NULL ELSE random() END AS u, g::float8 AS s
  FROM generate_series(1, 40000) g;
ALTER TABLE tsk ADD COLUMN y int;
UPDATE tsk SET y = (ln(e) + 10 * coalesce(u, 0.5) > 25)::int;
CREATE VIEW tsk_view AS SELECT * FROM tsk;
SET client_min_messages = warning;
SET galaxy.threads = 1;
CREATE TABLE sk_one AS SELECT md5(galaxy.model_send(model)) AS h, metrics
  FROM galaxy.train('tsk1', 'tsk', 'y', algorithm => 'gradient_boosting',
                    hyperparams => '{"n_estimators": 20, "max_depth": 4, "max_bins": 16}', seed => 3);
SET galaxy.threads = 2;
CREATE TABLE sk_two AS SELECT md5(galaxy.model_send(model)) AS h, metrics
  FROM galaxy.train('tsk2', 'tsk', 'y', algorithm => 'gradient_boosting',
                    hyperparams => '{"n_estimators": 20, "max_depth": 4, "max_bins": 16}', seed => 3);
CREATE TABLE sk_view AS SELECT metrics
  FROM galaxy.train('tsk3', 'tsk_view', 'y', algorithm => 'gradient_boosting',
                    hyperparams => '{"n_estimators": 20, "max_depth": 4, "max_bins": 16}', seed => 3);
RESET galaxy.threads;
SELECT o.metrics->>'loaded_as' AS loaded_as, o.h = t.h AS same_bytes_two_threads,
       (o.metrics->>'roc_auc')::float8 > 0.97 AS auc_high,
       abs((o.metrics->>'roc_auc')::float8 - (v.metrics->>'roc_auc')::float8) < 0.01 AS auc_close_to_view
  FROM sk_one o, sk_two t, sk_view v;
