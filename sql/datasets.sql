-- Datasets, column profiles and the loader/preprocessor behind galaxy.train.
\set VERBOSITY terse
CREATE SCHEMA dstest;
SET search_path = dstest;
SET extra_float_digits = 0;

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE items (
    id    integer,
    x     double precision,
    n     numeric,
    b     boolean,
    color text,
    m     mood,
    v     real[],
    ts    timestamptz,
    label text
);
INSERT INTO items
SELECT i, i * 0.5, i % 7, i % 2 = 0,
       (ARRAY['red', 'green', 'blue'])[1 + i % 3],
       (ARRAY['sad', 'ok', 'happy'])[1 + i % 3]::mood,
       ARRAY[i, i * 2]::real[],
       '2024-01-01 00:00:00+00'::timestamptz + i * interval '1 day',
       CASE WHEN i % 10 = 0 THEN NULL WHEN i % 3 = 0 THEN 'cat' ELSE 'dog' END
FROM generate_series(1, 100) i;
UPDATE items SET x = NULL WHERE id IN (5, 6);
UPDATE items SET color = NULL WHERE id = 7;

-- ---------------------------------------------------------------------------
-- galaxy.profile: one row per column, numbers rounded for stable output
-- ---------------------------------------------------------------------------
SELECT column_name, data_type, kind, count, nulls, n_distinct,
       round(min::numeric, 3) AS min, round(max::numeric, 3) AS max,
       round(mean::numeric, 3) AS mean, round(stddev::numeric, 3) AS stddev
FROM galaxy.profile('items');
SELECT column_name,
       (SELECT array_agg(round(q::numeric, 2)) FROM unnest(quantiles) q) AS quantiles,
       (SELECT array_agg(round(e::numeric, 2)) FROM unnest(histogram_edges) e) AS edges,
       histogram_counts
FROM galaxy.profile('items') WHERE quantiles IS NOT NULL;
SELECT column_name, top_values FROM galaxy.profile('items') WHERE column_name IN ('b', 'color', 'm', 'label');
-- the histogram counts cover every finite value, and the quantiles match percentile_cont
SELECT column_name, (SELECT sum(c) FROM unnest(histogram_counts) c) = count AS histogram_covers_all
FROM galaxy.profile('items') WHERE column_name IN ('id', 'x', 'n');
SELECT round(quantiles[3]::numeric, 6) = (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 6) FROM items)
       AS median_matches
FROM galaxy.profile('items') WHERE column_name = 'x';
-- a constant column: one bin, no division by zero
CREATE TABLE constant (c double precision);
INSERT INTO constant SELECT 3 FROM generate_series(1, 5);
SELECT count, n_distinct, min, max, stddev, histogram_edges, histogram_counts FROM galaxy.profile('constant');
-- NaN and Infinity are counted apart, not mixed into the statistics
INSERT INTO constant VALUES ('NaN'), ('Infinity'), (NULL);
SELECT count, nulls, n_distinct, min, max FROM galaxy.profile('constant');

-- a view, a materialized view and a partitioned table profile the same rows
CREATE VIEW items_view AS SELECT id, x, color, label FROM items WHERE id > 50;
CREATE MATERIALIZED VIEW items_mat AS SELECT id, x, color, label FROM items;
CREATE TABLE items_part (id integer, x double precision, color text, label text) PARTITION BY RANGE (id);
CREATE TABLE items_part_1 PARTITION OF items_part FOR VALUES FROM (MINVALUE) TO (50);
CREATE TABLE items_part_2 PARTITION OF items_part FOR VALUES FROM (50) TO (MAXVALUE);
INSERT INTO items_part SELECT id, x, color, label FROM items;
SELECT 'view' AS relation, column_name, count, nulls, round(mean::numeric, 3) AS mean FROM galaxy.profile('items_view') WHERE column_name = 'x'
UNION ALL
SELECT 'matview', column_name, count, nulls, round(mean::numeric, 3) FROM galaxy.profile('items_mat') WHERE column_name = 'x'
UNION ALL
SELECT 'partitioned', column_name, count, nulls, round(mean::numeric, 3) FROM galaxy.profile('items_part') WHERE column_name = 'x';

-- ---------------------------------------------------------------------------
-- galaxy.create_dataset
-- ---------------------------------------------------------------------------
SELECT name, relation, target, features, description, row_count, owner = current_user AS owned,
       length(schema_fingerprint) AS fingerprint_length,
       profile->'row_count' AS profile_rows,
       profile->'columns'->'x'->>'nulls' AS x_nulls,
       profile->'columns'->'label'->'top_values' AS label_top,
       profile->'columns'->'v'->>'width' AS v_width
FROM galaxy.create_dataset('ds_items', 'items', target => 'label',
                           features => ARRAY['x', 'n', 'b', 'color', 'm', 'v'],
                           description => 'all supported feature types');
-- every column of the profile, with the keys the drift checks read
SELECT key AS column_name, value->>'kind' AS kind,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(value) k) AS keys
FROM galaxy.datasets, jsonb_each(profile->'columns') WHERE name = 'ds_items' ORDER BY key;
-- features default to every column but the target; the same inputs give the same fingerprint
SELECT features FROM galaxy.create_dataset('ds_view', 'items_view', 'label');
SELECT (SELECT schema_fingerprint FROM galaxy.create_dataset('ds_part', 'items_part', 'label', ARRAY['id', 'x', 'color']))
     = (SELECT schema_fingerprint FROM galaxy.datasets WHERE name = 'ds_view') AS same_schema_same_fingerprint;
SELECT (SELECT schema_fingerprint FROM galaxy.create_dataset('ds_mat', 'items_mat', 'label', ARRAY['color', 'id', 'x']))
     = (SELECT schema_fingerprint FROM galaxy.datasets WHERE name = 'ds_view') AS other_order_other_fingerprint;
-- no target (clustering data)
SELECT name, target, features, row_count FROM galaxy.create_dataset('ds_untargeted', 'items_part', features => ARRAY['x']);
-- registration is audited
SELECT action, object_type, details->>'name' AS name, details->>'relation' AS relation,
       details->'features' AS features, details->'row_count' AS row_count
FROM galaxy.audit_log WHERE action = 'create_dataset' AND details->>'name' LIKE 'ds\_%' ORDER BY id;

-- drop_dataset: by its owner, audited
SELECT galaxy.drop_dataset('ds_untargeted');
SELECT count(*) AS left_after_drop FROM galaxy.datasets WHERE name = 'ds_untargeted';
SELECT action, object_type, details->>'name' AS name FROM galaxy.audit_log WHERE action = 'drop_dataset' AND details->>'name' LIKE 'ds\_%';
SELECT galaxy.drop_dataset('ds_untargeted');

-- errors name the culprit
SELECT * FROM galaxy.create_dataset('ds_items', 'items', 'label', ARRAY['x']);
SELECT * FROM galaxy.create_dataset('ds_bad', 'items', 'nope');
SELECT * FROM galaxy.create_dataset('ds_bad', 'items', 'label', ARRAY['x', 'nope']);
SELECT * FROM galaxy.create_dataset('ds_bad', 'items', 'label', ARRAY['x', 'label']);
SELECT * FROM galaxy.create_dataset('ds_bad', 'items', 'label', ARRAY['x', 'x']);
SELECT * FROM galaxy.create_dataset('ds_bad', 'items', 'label');
SELECT * FROM galaxy.create_dataset('ds_bad', 'items', 'label', ARRAY[]::text[]);
SELECT * FROM galaxy.create_dataset('ds_bad', 'items', 'label', ARRAY['x', NULL]);
SELECT * FROM galaxy.create_dataset('ds_bad', 'items', 'v', ARRAY['x']);
SELECT * FROM galaxy.create_dataset('ds_bad', 'items', 'label', ARRAY['ctid']);
SELECT * FROM galaxy.create_dataset(NULL, 'items', 'label');
SELECT * FROM galaxy.create_dataset('', 'items', 'label');
SELECT * FROM galaxy.create_dataset('ds_bad', NULL, 'label');
CREATE TABLE empty_items (x double precision, label text);
SELECT * FROM galaxy.create_dataset('ds_bad', 'empty_items', 'label');
CREATE TABLE ragged (v double precision[], y double precision);
INSERT INTO ragged VALUES ('{1,2}', 1), ('{1,2,3}', 2);
SELECT * FROM galaxy.create_dataset('ds_bad', 'ragged', 'y');
CREATE TEMP TABLE temp_items AS SELECT x, label FROM items;
SELECT * FROM galaxy.create_dataset('ds_bad', 'temp_items', 'label');
CREATE INDEX items_id_idx ON items (id);
SELECT * FROM galaxy.create_dataset('ds_bad', 'items_id_idx', 'label');
SELECT * FROM galaxy.profile('items_id_idx');
SELECT count(*) AS failed_registrations_left_nothing FROM galaxy.datasets WHERE name = 'ds_bad';

-- privileges: a role that cannot read the table cannot register or profile it
CREATE ROLE regress_ds_reader IN ROLE galaxy_trainer;
GRANT USAGE ON SCHEMA dstest TO regress_ds_reader;
GRANT SELECT (x, label) ON items TO regress_ds_reader;
SET ROLE regress_ds_reader;
SELECT * FROM galaxy.create_dataset('ds_denied', 'items', 'label', ARRAY['x', 'color']);
SELECT * FROM galaxy.profile('items');
-- column privileges are enough for the columns used; the row belongs to the caller
SELECT name, features, row_count, owner FROM galaxy.create_dataset('ds_columns', 'items', 'label', ARRAY['x']);
SELECT name FROM galaxy.datasets WHERE name LIKE 'ds\_%' ORDER BY name;
SELECT galaxy.drop_dataset('ds_items');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- The loader and preprocessor, through galaxy.train
-- ---------------------------------------------------------------------------
CREATE TABLE sales (x double precision, color text, v double precision[], y double precision);
INSERT INTO sales
SELECT i, (ARRAY['red', 'green', 'blue'])[1 + i % 3], ARRAY[i % 5, i % 7],
       2 * i + CASE i % 3 WHEN 0 THEN 10 WHEN 1 THEN 20 ELSE 30 END + (i % 5)
FROM generate_series(1, 200) i;
INSERT INTO sales VALUES (NULL, 'red', '{1,1}', 50), (3, NULL, '{1,1}', 36), (4, 'red', '{1,1}', NULL);
-- (galaxy.train's summary NOTICE names model ids, which depend on other tests)
SET client_min_messages = warning;
-- the row with a NULL label is skipped (202 of 203 rows are used); NULL features are imputed
SELECT version, training_rows, test_rows, features, round((metrics->>'r2')::numeric, 2) AS r2
FROM galaxy.train('ds_sales', 'sales', 'y', deploy => 'always');
-- one-hot names, imputation and scaling are stored in the model
SELECT i->>'name' AS input, i->>'kind' AS kind, i->>'encoding' AS encoding, i->'categories' AS categories,
       i->>'impute' AS impute, i->>'scale' AS scale, i->>'n_features' AS n_features
FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id,
     jsonb_array_elements(galaxy.describe(m.model)->'preprocess'->'inputs') i
WHERE p.name = 'ds_sales' ORDER BY i->>'first_feature';
-- predicting a whole row: unseen categories and NULLs are handled, not errors
SELECT round(galaxy.predict('ds_sales', t)::numeric, 1) AS unseen_color
FROM (SELECT 10::float8 AS x, 'purple'::text AS color, ARRAY[1, 2]::float8[] AS v) t;
SELECT round(galaxy.predict('ds_sales', t)::numeric, 1) AS null_color
FROM (SELECT 10::float8 AS x, NULL::text AS color, ARRAY[1, 2]::float8[] AS v) t;
SELECT round(galaxy.predict('ds_sales', t)::numeric, 1) AS matches_training_row, y
FROM (SELECT x, color, v, y FROM sales WHERE x = 100) t;
-- ... but bad values are
SELECT galaxy.predict('ds_sales', t) FROM (SELECT 10::float8 AS x, 'red'::text AS color, ARRAY[1, 2, 3]::float8[] AS v) t;
SELECT galaxy.predict('ds_sales', t) FROM (SELECT 'NaN'::float8 AS x, 'red'::text AS color, ARRAY[1, 2]::float8[] AS v) t;
SELECT galaxy.predict('ds_sales', t) FROM (SELECT 1::float8 AS x, 'red'::text AS color, ARRAY[1, 'Infinity']::float8[] AS v) t;
SELECT galaxy.predict('ds_sales', t) FROM (SELECT now() AS x, 'red'::text AS color, ARRAY[1, 2]::float8[] AS v) t;
-- hashing beyond max_categories, min-max scaling: the same fit
SELECT version, features, round((metrics->>'r2')::numeric, 2) AS r2
FROM galaxy.train('ds_sales', 'sales', 'y', deploy => 'never',
                  preprocess => '{"scale": "minmax", "columns": {"color": {"max_categories": 2, "hash_buckets": 8}}}');
SELECT jsonb_path_query(galaxy.describe(m.model), '$.preprocess.inputs[*] ? (@.name == "color")') - 'first_feature' AS color
FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id WHERE p.name = 'ds_sales' AND m.version = '1.1.0';
-- a view, a materialized view and a partitioned table load the same rows
CREATE VIEW sales_view AS SELECT * FROM sales;
CREATE MATERIALIZED VIEW sales_mat AS SELECT * FROM sales;
CREATE TABLE sales_part (x double precision, color text, v double precision[], y double precision) PARTITION BY LIST (color);
CREATE TABLE sales_part_red PARTITION OF sales_part FOR VALUES IN ('red');
CREATE TABLE sales_part_rest PARTITION OF sales_part DEFAULT;
INSERT INTO sales_part SELECT * FROM sales;
-- (the partitioned table returns its rows in another order, so its held-out rows differ)
SELECT 'view' AS relation, training_rows, test_rows, (metrics->>'r2')::float8 > 0.9 AS good_fit
FROM galaxy.train('ds_sales_view', 'sales_view', 'y')
UNION ALL
SELECT 'matview', training_rows, test_rows, (metrics->>'r2')::float8 > 0.9
FROM galaxy.train('ds_sales_mat', 'sales_mat', 'y')
UNION ALL
SELECT 'partitioned', training_rows, test_rows, (metrics->>'r2')::float8 > 0.9
FROM galaxy.train('ds_sales_part', 'sales_part', 'y');

-- inheritance children are read too
CREATE TABLE inh_parent (x double precision, y double precision);
CREATE TABLE inh_child () INHERITS (inh_parent);
INSERT INTO inh_parent SELECT i, 2 * i FROM generate_series(1, 10) i;
INSERT INTO inh_child SELECT i, 2 * i FROM generate_series(11, 30) i;
SELECT training_rows + test_rows AS rows_used FROM galaxy.train('ds_inherit', 'inh_parent', 'y');
-- a registered dataset trains by name; a dataset with models cannot be dropped
SELECT name, row_count FROM galaxy.create_dataset('ds_sales', 'sales', 'y');
SELECT version, training_rows FROM galaxy.train('ds_sales_by_name', dataset => 'ds_sales', deploy => 'never');
RESET client_min_messages;
SELECT galaxy.drop_dataset('ds_sales');

-- loader errors (a NULL label is reported before the preprocess errors)
CREATE TABLE nan_feature (x double precision, y double precision);
INSERT INTO nan_feature VALUES (1, 1), (2, 2), ('NaN', 3);
SELECT version FROM galaxy.train('ds_errors', 'nan_feature', 'y');
SELECT version FROM galaxy.train('ds_errors', 'items', 'id', features => ARRAY['x', 'ts']);
SELECT version FROM galaxy.train('ds_errors', 'ragged', 'y');
CREATE TABLE empty_sales (x double precision, y double precision);
SELECT version FROM galaxy.train('ds_errors', 'empty_sales', 'y');
INSERT INTO empty_sales VALUES (1, NULL), (2, NULL);
SELECT version FROM galaxy.train('ds_errors', 'empty_sales', 'y');
SELECT version FROM galaxy.train('ds_errors', 'sales', 'nope');
SELECT version FROM galaxy.train('ds_errors', 'sales', 'y', features => ARRAY['x', 'y']);
SELECT version FROM galaxy.train('ds_errors', 'sales', 'color', task => 'regression');
SELECT version FROM galaxy.train('ds_errors', 'sales', 'y', features => ARRAY['x'], preprocess => '{"impute": "error"}');
SELECT version FROM galaxy.train('ds_errors', 'sales', 'y', preprocess => '{"bogus": 1}');
SELECT version FROM galaxy.train('ds_errors', 'sales', 'y', preprocess => '{"scale": "log"}');
SELECT version FROM galaxy.train('ds_errors', 'sales', 'y', preprocess => '{"max_categories": 0}');
SELECT version FROM galaxy.train('ds_errors', 'sales', 'y', preprocess => '{"columns": {"nope": {"impute": "zero"}}}');
SELECT version FROM galaxy.train('ds_errors', 'sales', 'y', preprocess => '{"columns": {"color": {"impute": "mean"}}}');
SELECT version FROM galaxy.train('ds_errors', 'sales', 'y', preprocess => '[1, 2]');
GRANT SELECT (x) ON sales TO regress_ds_reader;
SET ROLE regress_ds_reader;
SELECT version FROM galaxy.train('ds_errors', 'sales', 'y', features => ARRAY['x']);
RESET ROLE;

DROP SCHEMA dstest CASCADE;
REVOKE ALL ON SCHEMA public FROM regress_ds_reader;
DROP OWNED BY regress_ds_reader;
DROP ROLE regress_ds_reader;
