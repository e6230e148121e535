-- test/pgtap/datasets.sql — the contract of galaxy.create_dataset(), galaxy.profile()
-- and the loader behind galaxy.train(): results, audit, privileges and the SQLSTATE
-- of every bad input.  Runs in a fresh database with pgtap and galaxy created.
BEGIN;
SELECT plan(69);

CREATE SCHEMA tap_ds;
SET LOCAL search_path = tap_ds, public;
CREATE TYPE tap_ds.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE tap_ds.items (id integer, x double precision, n numeric, b boolean, color text,
                           m tap_ds.mood, v real[], ts timestamptz, label text);
INSERT INTO tap_ds.items
SELECT i, i * 0.5, i % 7, i % 2 = 0, (ARRAY['red', 'green', 'blue'])[1 + i % 3],
       (ARRAY['sad', 'ok', 'happy'])[1 + i % 3]::tap_ds.mood, ARRAY[i, i * 2]::real[],
       now(), CASE WHEN i % 3 = 0 THEN 'cat' ELSE 'dog' END
FROM generate_series(1, 60) i;
CREATE TABLE tap_ds.empty_items (x double precision, label text);
CREATE TABLE tap_ds.ragged (v double precision[], y double precision);
INSERT INTO tap_ds.ragged VALUES ('{1,2}', 1), ('{1,2,3}', 2);
CREATE TABLE tap_ds.nan_items (x double precision, y double precision);
INSERT INTO tap_ds.nan_items VALUES (1, 1), (2, 2), ('NaN', 3);
CREATE TABLE tap_ds.null_items (x double precision, y double precision);
INSERT INTO tap_ds.null_items VALUES (1, 1), (2, 2), (NULL, 3), (4, 4);
CREATE INDEX items_id_idx ON tap_ds.items (id);
CREATE MATERIALIZED VIEW tap_ds.unfilled AS SELECT x FROM tap_ds.items WITH NO DATA;
CREATE TEMP TABLE temp_items AS SELECT x, label FROM tap_ds.items;

-- ---------------------------------------------------------------------------
-- The functions
-- ---------------------------------------------------------------------------
SELECT has_function('galaxy', 'create_dataset', ARRAY['text', 'regclass', 'text', 'text[]', 'text'],
                    'galaxy.create_dataset(name, relation, target, features, description) exists');
SELECT has_function('galaxy', 'profile', ARRAY['regclass'], 'galaxy.profile(relation) exists');
SELECT is((SELECT prorettype::regtype::text FROM pg_proc
           WHERE oid = 'galaxy.create_dataset(text, regclass, text, text[], text)'::regprocedure),
          'galaxy.datasets', 'create_dataset returns a galaxy.datasets row');
SELECT is((SELECT proargnames FROM pg_proc
           WHERE oid = 'galaxy.create_dataset(text, regclass, text, text[], text)'::regprocedure),
          ARRAY['name', 'relation', 'target', 'features', 'description'], 'create_dataset arguments are named');
SELECT isnt(obj_description('galaxy.create_dataset(text, regclass, text, text[], text)'::regprocedure, 'pg_proc'),
            NULL, 'create_dataset has a comment');
SELECT isnt(obj_description('galaxy.profile(regclass)'::regprocedure, 'pg_proc'), NULL, 'profile has a comment');

-- ---------------------------------------------------------------------------
-- A registration
-- ---------------------------------------------------------------------------
SELECT lives_ok($$SELECT galaxy.create_dataset('tap_items', 'tap_ds.items', 'label',
                                              ARRAY['x', 'n', 'b', 'color', 'm', 'v'], 'pgTAP')$$,
                'a table with every supported feature type registers');
SELECT is((SELECT row_count FROM galaxy.datasets WHERE name = 'tap_items'), 60::bigint, 'row_count is stored');
SELECT is((SELECT features FROM galaxy.datasets WHERE name = 'tap_items'),
          ARRAY['x', 'n', 'b', 'color', 'm', 'v'], 'features are stored in order');
SELECT is((SELECT relation FROM galaxy.datasets WHERE name = 'tap_items'), 'tap_ds.items'::regclass,
          'the relation is stored as regclass');
SELECT is((SELECT owner FROM galaxy.datasets WHERE name = 'tap_items'), current_user::name,
          'the dataset belongs to the caller');
SELECT matches((SELECT schema_fingerprint FROM galaxy.datasets WHERE name = 'tap_items'), '^[0-9a-f]{64}$',
               'the schema fingerprint is a hex SHA-256');
SELECT is((SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(profile->'columns') k)
           FROM galaxy.datasets WHERE name = 'tap_items'),
          ARRAY['b', 'color', 'label', 'm', 'n', 'v', 'x'], 'the profile covers the features and the target');
SELECT is((SELECT profile->'columns'->'x'->'histogram'->'counts' FROM galaxy.datasets WHERE name = 'tap_items'),
          '[6, 6, 6, 6, 6, 6, 6, 6, 6, 6]'::jsonb, 'numeric columns carry a 10-bin equal-frequency histogram');
SELECT is((SELECT profile->'columns'->'label'->'top_values' FROM galaxy.datasets WHERE name = 'tap_items'),
          '[{"value": "dog", "count": 40}, {"value": "cat", "count": 20}]'::jsonb,
          'categorical columns carry their top values');
SELECT is((SELECT count(*) FROM galaxy.audit_log a JOIN galaxy.datasets d ON a.object_id = d.id::text
           WHERE a.action = 'create_dataset' AND a.object_type = 'dataset' AND d.name = 'tap_items'),
          1::bigint, 'the registration is audited');
SELECT lives_ok($$SELECT galaxy.create_dataset('tap_untargeted', 'tap_ds.items', features => ARRAY['x'])$$,
                'a dataset without a target registers');

-- ---------------------------------------------------------------------------
-- create_dataset: bad input
-- ---------------------------------------------------------------------------
SELECT throws_ok($$SELECT galaxy.create_dataset('tap_items', 'tap_ds.items', 'label', ARRAY['x'])$$,
                 '42710', 'dataset "tap_items" already exists', 'a duplicate name (42710)');
SELECT throws_ok($$SELECT galaxy.create_dataset('tap_bad', 'tap_ds.items', 'nope')$$,
                 '42703', 'target column "nope" of relation "items" does not exist', 'a missing target (42703)');
SELECT throws_ok($$SELECT galaxy.create_dataset('tap_bad', 'tap_ds.items', 'label', ARRAY['x', 'nope'])$$,
                 '42703', 'feature column "nope" of relation "items" does not exist', 'a missing feature (42703)');
SELECT throws_ok($$SELECT galaxy.create_dataset('tap_bad', 'tap_ds.items', 'label', ARRAY['x', 'label'])$$,
                 '22023', 'target column "label" is also listed as a feature', 'the target as a feature (22023)');
SELECT throws_ok($$SELECT galaxy.create_dataset('tap_bad', 'tap_ds.items', 'label', ARRAY['x', 'x'])$$,
                 '22023', 'feature column "x" is listed twice', 'a feature twice (22023)');
SELECT throws_ok($$SELECT galaxy.create_dataset('tap_bad', 'tap_ds.items', 'label')$$,
                 '42804', 'column "ts" of relation "items" has unsupported type timestamp with time zone',
                 'an unsupported feature type (42804)');
SELECT throws_ok($$SELECT galaxy.create_dataset('tap_bad', 'tap_ds.items', 'v', ARRAY['x'])$$,
                 '42804', 'target column "v" has unsupported type real[]', 'an array target (42804)');
SELECT throws_ok($$SELECT galaxy.create_dataset('tap_bad', 'tap_ds.items', 'label', ARRAY[]::text[])$$,
                 '22023', 'features must not be empty', 'an empty feature list (22023)');
SELECT throws_ok($$SELECT galaxy.create_dataset('tap_bad', 'tap_ds.items', 'label', ARRAY['x', NULL])$$,
                 '22004', 'features must not contain NULL', 'a NULL feature name (22004)');
SELECT throws_ok($$SELECT galaxy.create_dataset('tap_bad', 'tap_ds.items', 'label', ARRAY['xmin'])$$,
                 '22023', 'system column "xmin" cannot be used as a feature', 'a system column (22023)');
SELECT throws_ok($$SELECT galaxy.create_dataset(NULL, 'tap_ds.items', 'label')$$,
                 '22004', 'dataset name must not be NULL', 'a NULL name (22004)');
SELECT throws_ok($$SELECT galaxy.create_dataset('', 'tap_ds.items', 'label')$$,
                 '22023', 'dataset name must not be empty', 'an empty name (22023)');
SELECT throws_ok($$SELECT galaxy.create_dataset('tap_bad', NULL, 'label')$$,
                 '22004', 'relation must not be NULL', 'a NULL relation (22004)');
SELECT throws_ok($$SELECT galaxy.create_dataset('tap_bad', 'tap_ds.no_such_table', 'label')$$,
                 '42P01', NULL, 'a relation that does not exist (42P01)');
SELECT throws_ok($$SELECT galaxy.create_dataset('tap_bad', 'tap_ds.empty_items', 'label')$$,
                 '22000', 'relation "empty_items" has no rows', 'an empty table (22000)');
SELECT throws_ok($$SELECT galaxy.create_dataset('tap_bad', 'tap_ds.ragged', 'y')$$,
                 '22000', 'column "v" contains arrays of differing lengths', 'arrays of differing lengths (22000)');
SELECT throws_ok($$SELECT galaxy.create_dataset('tap_bad', 'temp_items', 'label')$$,
                 '22023', 'cannot register temporary relation "temp_items" as a dataset', 'a temporary table (22023)');
SELECT throws_ok($$SELECT galaxy.create_dataset('tap_bad', 'tap_ds.items_id_idx', 'label')$$,
                 '42809', NULL, 'an index (42809)');
SELECT is((SELECT count(*) FROM galaxy.datasets WHERE name = 'tap_bad'), 0::bigint,
          'failed registrations leave no dataset');
SELECT is((SELECT count(*) FROM galaxy.audit_log WHERE action = 'create_dataset' AND details->>'name' = 'tap_bad'),
          0::bigint, 'failed registrations leave no audit row');

-- ---------------------------------------------------------------------------
-- drop_dataset
-- ---------------------------------------------------------------------------
SELECT lives_ok($$SELECT galaxy.drop_dataset('tap_untargeted')$$, 'the owner drops a dataset');
SELECT is((SELECT count(*) FROM galaxy.audit_log WHERE action = 'drop_dataset' AND details->>'name' = 'tap_untargeted'),
          1::bigint, 'dropping is audited');
SELECT throws_ok($$SELECT galaxy.drop_dataset('tap_untargeted')$$, '42704', 'dataset "tap_untargeted" does not exist',
                 'dropping a dataset that does not exist (42704)');
SELECT throws_ok($$SELECT galaxy.drop_dataset(NULL)$$, '22004', NULL, 'drop_dataset(NULL) (22004)');
SET LOCAL client_min_messages = warning;
DO $$
BEGIN
    PERFORM galaxy.create_dataset('tap_trained', 'tap_ds.null_items', 'y');
    PERFORM galaxy.train('tap_trained', dataset => 'tap_trained', deploy => 'never');
END
$$;
SELECT throws_ok($$SELECT galaxy.drop_dataset('tap_trained')$$, '2BP01', NULL,
                 'a dataset a model was trained on cannot be dropped (2BP01)');

-- ---------------------------------------------------------------------------
-- profile
-- ---------------------------------------------------------------------------
SELECT is((SELECT count(*) FROM galaxy.profile('tap_ds.items')), 9::bigint, 'profile returns one row per column');
SELECT is((SELECT kind FROM galaxy.profile('tap_ds.items') WHERE column_name = 'ts'), 'other',
          'profile also describes types galaxy cannot train on');
SELECT is((SELECT array_length(quantiles, 1) FROM galaxy.profile('tap_ds.items') WHERE column_name = 'x'), 5,
          'quantiles are p5, p25, p50, p75, p95');
SELECT is((SELECT n_distinct FROM galaxy.profile('tap_ds.items') WHERE column_name = 'color'), 3::bigint,
          'n_distinct of a categorical column');
SELECT throws_ok($$SELECT * FROM galaxy.profile(NULL)$$, '22004', 'relation must not be NULL', 'profile(NULL) (22004)');
SELECT throws_ok($$SELECT * FROM galaxy.profile('tap_ds.items_id_idx')$$, '42809', NULL, 'profile of an index (42809)');
SELECT throws_ok($$SELECT * FROM galaxy.profile('tap_ds.unfilled')$$, '55000', NULL,
                 'profile of an unpopulated materialized view (55000)');

-- ---------------------------------------------------------------------------
-- Privileges: the relation is read as the caller
-- ---------------------------------------------------------------------------
CREATE ROLE tap_ds_user IN ROLE galaxy_trainer;
GRANT USAGE ON SCHEMA tap_ds TO tap_ds_user;
GRANT SELECT (x, label) ON tap_ds.items TO tap_ds_user;
GRANT SELECT (x) ON tap_ds.null_items TO tap_ds_user;
SET LOCAL ROLE tap_ds_user;
SELECT throws_ok($$SELECT galaxy.create_dataset('tap_denied', 'tap_ds.items', 'label', ARRAY['x', 'color'])$$,
                 '42501', 'permission denied for table items', 'a column the caller cannot read (42501)');
SELECT throws_ok($$SELECT * FROM galaxy.profile('tap_ds.items')$$,
                 '42501', NULL, 'profile of a relation the caller cannot read (42501)');
SELECT throws_ok($$SELECT galaxy.train('tap_denied', 'tap_ds.null_items', 'y', features => ARRAY['x'])$$,
                 '42501', 'permission denied for table null_items', 'train on a relation the caller cannot read (42501)');
SELECT lives_ok($$SELECT galaxy.create_dataset('tap_columns', 'tap_ds.items', 'label', ARRAY['x'])$$,
                'column privileges suffice for the columns used');
SELECT is((SELECT array_agg(name ORDER BY name) FROM galaxy.datasets), ARRAY['tap_columns'],
          'a role sees only its own datasets');
SELECT throws_ok($$SELECT galaxy.drop_dataset('tap_items')$$, '42501', 'must be the owner of dataset "tap_items" to drop it',
                 'only the owner drops a dataset (42501)');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- The loader behind galaxy.train (bad data and arguments)
-- ---------------------------------------------------------------------------
SELECT throws_ok($$SELECT galaxy.train('tap_loader', 'tap_ds.nan_items', 'y')$$,
                 '22000', 'column "x" contains NaN', 'a NaN feature (22000)');
SELECT throws_ok($$SELECT galaxy.train('tap_loader', 'tap_ds.items', 'id', features => ARRAY['x', 'ts'])$$,
                 '42804', NULL, 'an unsupported feature type (42804)');
SELECT throws_ok($$SELECT galaxy.train('tap_loader', 'tap_ds.ragged', 'y')$$,
                 '22000', 'column "v" contains arrays of differing lengths (2 and 3)', 'arrays of differing lengths (22000)');
SELECT throws_ok($$SELECT galaxy.train('tap_loader', 'tap_ds.empty_items', 'x', features => ARRAY['label'], task => 'regression')$$,
                 '22000', 'relation "empty_items" has no rows', 'an empty table (22000)');
SELECT throws_ok($$SELECT galaxy.train('tap_loader', 'tap_ds.items', 'nope')$$,
                 '42703', NULL, 'a missing target (42703)');
SELECT throws_ok($$SELECT galaxy.train('tap_loader', 'tap_ds.items', 'x', features => ARRAY['n', 'x'])$$,
                 '22023', 'target column "x" is also listed as a feature', 'the target as a feature (22023)');
SELECT throws_ok($$SELECT galaxy.train('tap_loader', 'tap_ds.items', 'label', features => ARRAY['x'], task => 'regression')$$,
                 '42804', NULL, 'regression on a text target (42804)');
SELECT throws_ok($$SELECT galaxy.train('tap_loader', 'tap_ds.null_items', 'y', preprocess => '{"impute": "error"}')$$,
                 '22004', NULL, 'a NULL feature with impute = error (22004)');
SELECT throws_ok($$SELECT galaxy.train('tap_loader', 'tap_ds.null_items', 'y', preprocess => '{"scale": "log"}')$$,
                 '22023', 'invalid value "log" for preprocess option "scale"', 'an unknown scaling (22023)');
SELECT throws_ok($$SELECT galaxy.train('tap_loader', 'tap_ds.null_items', 'y', preprocess => '{"colour": {}}')$$,
                 '22023', 'unknown preprocess option "colour"', 'an unknown preprocess option (22023)');
SELECT throws_ok($$SELECT galaxy.train('tap_loader', 'tap_ds.null_items', 'y', preprocess => '{"columns": {"z": {}}}')$$,
                 '22023', NULL, 'preprocess naming a column that is not a feature (22023)');
SELECT throws_ok($$SELECT galaxy.train('tap_loader', 'tap_ds.null_items', 'y', preprocess => '{"hash_buckets": -1}')$$,
                 '22023', NULL, 'a negative hash_buckets (22023)');
CREATE TABLE tap_ds.wide AS SELECT i::float8 AS a, i::float8 AS b, i::float8 AS y FROM generate_series(1, 50000) i;
ANALYZE tap_ds.wide;
SET LOCAL galaxy.max_training_memory = 1;
SELECT throws_like($$SELECT galaxy.train('tap_loader', 'tap_ds.wide', 'y')$$,
                   'loading relation "wide" % needs 2 MB, more than galaxy.max_training_memory (1 MB)',
                   'the memory limit is checked before loading (54000), naming the need');
SELECT throws_ok($$SELECT galaxy.train('tap_loader', 'tap_ds.wide', 'y')$$, '54000', NULL,
                 'the memory limit error is 54000');
RESET galaxy.max_training_memory;

SELECT * FROM finish();
ROLLBACK;
