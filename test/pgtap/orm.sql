-- The ORM calling convention (src/sql/80_orm.sql): how PostgreSQL resolves the
-- calls ORMs send (quoted literals, jsonb expressions, numbers, whole rows) to
-- exactly one function; the options forms of train and submit against their
-- named forms; jsonb and text features against the whole-row and array forms;
-- one metric as a scalar; every error's SQLSTATE; privileges.
BEGIN;
SELECT plan(143);
SET LOCAL client_min_messages = warning;

CREATE TABLE orm_t (id serial PRIMARY KEY, x1 float8, x2 float8, flag boolean, color text, v float8[], label text);
INSERT INTO orm_t (x1, x2, flag, color, v, label)
SELECT g % 7, (g * 3) % 11, g % 3 = 0, (ARRAY['red', 'green', 'blue'])[g % 3 + 1],
       ARRAY[g % 5, g % 2]::float8[],
       CASE WHEN (g % 7) + ((g * 3) % 11) + (g % 5) > 11 THEN 'high' ELSE 'low' END
  FROM generate_series(1, 300) g;
UPDATE orm_t SET x2 = NULL WHERE id % 50 = 0;
UPDATE orm_t SET color = NULL WHERE id % 70 = 0;

-- Which galaxy function(s) a call resolves to, without running it: the
-- functions a view on the call depends on, or 'ambiguous' / 'no function'.
CREATE FUNCTION pg_temp.resolves(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    EXECUTE 'CREATE TEMP VIEW orm_resolve AS SELECT ' || call;
    SELECT string_agg(DISTINCT d.refobjid::regprocedure::text, ' + ') INTO r
      FROM pg_depend d
      JOIN pg_rewrite w ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid
      JOIN pg_proc p ON p.oid = d.refobjid
     WHERE w.ev_class = 'orm_resolve'::regclass AND d.refclassid = 'pg_proc'::regclass
       AND p.pronamespace = 'galaxy'::regnamespace;
    DROP VIEW orm_resolve;
    RETURN r;
EXCEPTION
    WHEN ambiguous_function THEN RETURN 'ambiguous';
    WHEN undefined_function THEN RETURN 'no function';
END
$$;

-- ---------------------------------------------------------------------------
-- Resolution: every shape of call an ORM sends reaches exactly one function
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE shapes (n serial, call text, expected text);
INSERT INTO shapes (call, expected) VALUES
    -- str / Json(dict) / None from psycopg2: quoted literals
    ($$galaxy.%s('p', '{"x1": 1}')$$, 'galaxy.%s(text,text,text)'),
    ($$galaxy.%s('p', '{"x1": 1}', 'customer-42')$$, 'galaxy.%s(text,text,text)'),
    ($$galaxy.%s('p', '{"x1": 1}', NULL)$$, 'galaxy.%s(text,text,text)'),
    ($$galaxy.%s('p', NULL)$$, 'galaxy.%s(text,text,text)'),
    ($$galaxy.%s('p', '[1, 2]')$$, 'galaxy.%s(text,text,text)'),
    ($$galaxy.%s('p'::varchar, '{"x1": 1}'::varchar)$$, 'galaxy.%s(text,text,text)'),
    -- jsonb expressions
    ($$galaxy.%s('p', jsonb_build_object('x1', 1))$$, 'galaxy.%s(text,jsonb,text)'),
    ($$galaxy.%s('p', '{"x1": 1}'::jsonb, 'k')$$, 'galaxy.%s(text,jsonb,text)'),
    ($$galaxy.%s('p', to_jsonb(t)) FROM orm_t t$$, 'galaxy.%s(text,jsonb,text)'),
    -- by model id: Python ints are integer literals
    ($$galaxy.%s(7, '{"x1": 1}')$$, 'galaxy.%s(bigint,text)'),
    ($$galaxy.%s(7, NULL)$$, 'galaxy.%s(bigint,text)'),
    ($$galaxy.%s(7, jsonb_build_array(1, 2))$$, 'galaxy.%s(bigint,jsonb)'),
    -- the existing forms keep their calls
    ($$galaxy.%s('p', ARRAY[1, 2])$$, 'galaxy.%s(text,double precision[],text)'),
    ($$galaxy.%s('p', ARRAY[1.5, 2])$$, 'galaxy.%s(text,double precision[],text)'),
    ($$galaxy.%s('p', '{1,2}'::float8[], 'k')$$, 'galaxy.%s(text,double precision[],text)'),
    ($$galaxy.%s(7, ARRAY[1.0, 2.0])$$, 'galaxy.%s(bigint,double precision[])'),
    ($$galaxy.%s('p', t) FROM orm_t t$$, 'galaxy.%s(text,record,text)'),
    ($$galaxy.%s('p', t, 'k') FROM orm_t t$$, 'galaxy.%s(text,record,text)'),
    ($$galaxy.%s(7, t) FROM orm_t t$$, 'galaxy.%s(bigint,record)');
SELECT is(pg_temp.resolves(format(s.call, f.name)), format(s.expected, f.name), format(s.call, f.name))
  FROM shapes s, (VALUES (1, 'predict'), (2, 'predict_proba'), (3, 'predict_label')) f(k, name)
 ORDER BY f.k, s.n;

SELECT is(pg_temp.resolves(c), e, c) FROM (VALUES
    (1, $$galaxy.train('p', '{"relation": "orm_t", "target": "label"}')$$, 'galaxy.train(text,text)'),
    (2, $$galaxy.train('p', '{}'::jsonb)$$, 'galaxy.train(text,jsonb)'),
    (3, $$galaxy.train('p', NULL)$$, 'galaxy.train(text,text)'),
    (4, $$galaxy.train('p', 'orm_t')$$, 'galaxy.train(text,text)'),
    (5, $$galaxy.train('p', 'orm_t', 'label')$$,
        'galaxy.train(text,regclass,text,text,jsonb,double precision,text,jsonb,integer,text,integer,text[],jsonb,text,text,integer,text,text,bigint)'),
    (6, $$galaxy.train('p', relation => 'orm_t')$$,
        'galaxy.train(text,regclass,text,text,jsonb,double precision,text,jsonb,integer,text,integer,text[],jsonb,text,text,integer,text,text,bigint)'),
    (7, $$galaxy.train('p')$$,
        'galaxy.train(text,regclass,text,text,jsonb,double precision,text,jsonb,integer,text,integer,text[],jsonb,text,text,integer,text,text,bigint)'),
    (8, $$galaxy.submit('p', '{"relation": "orm_t"}')$$, 'galaxy.submit(text,text)'),
    (9, $$galaxy.submit('p', '{}'::jsonb)$$, 'galaxy.submit(text,jsonb)'),
    (10, $$galaxy.submit('p', 'orm_t', 'label')$$,
        'galaxy.submit(text,regclass,text,text,jsonb,double precision,text,jsonb,integer,text,integer,text[],jsonb,text,text,integer,text,text,bigint,integer,integer,interval)'),
    (11, $$galaxy.evaluate('p', 'orm_t')$$, 'galaxy.evaluate(text,regclass)'),
    (12, $$galaxy.evaluate(7, 'orm_t')$$, 'galaxy.evaluate(bigint,regclass)'),
    (13, $$galaxy.evaluate('p', 'orm_t', 'accuracy')$$, 'galaxy.evaluate(text,regclass,text)'),
    (14, $$galaxy.evaluate(7, 'orm_t', 'accuracy')$$, 'galaxy.evaluate(bigint,regclass,text)'),
    (15, $$galaxy.deploy('p', 7)$$, 'galaxy.deploy(text,bigint,double precision,text)'),
    (16, $$galaxy.deploy('p', 7, 0.25)$$, 'galaxy.deploy(text,bigint,double precision,text)'),
    (17, $$galaxy.deploy('p', 'best')$$, 'galaxy.deploy(text,text,text)'),
    (18, $$galaxy.wait(7, '10 seconds')$$, 'galaxy.wait(bigint,interval)'),
    (19, $$galaxy.create_dataset('d', 'orm_t')$$, 'galaxy.create_dataset(text,regclass,text,text[],text)')
) v(n, c, e) ORDER BY n;

-- ---------------------------------------------------------------------------
-- Privileges: every form of a function is granted to the same roles
-- ---------------------------------------------------------------------------
SELECT is_empty($$
    SELECT p.proname, r.rolname
      FROM pg_proc p,
           (VALUES ('public'), ('galaxy_reader'), ('galaxy_trainer'), ('galaxy_approver'), ('galaxy_admin')) r(rolname)
     WHERE p.pronamespace = 'galaxy'::regnamespace
     GROUP BY p.proname, r.rolname
    HAVING count(DISTINCT has_function_privilege(r.rolname, p.oid, 'EXECUTE')) > 1
$$, 'every overload of a galaxy function is executable by the same roles');
SELECT ok(has_function_privilege('galaxy_reader', 'galaxy.predict(text, jsonb, text)', 'EXECUTE')
          AND has_function_privilege('galaxy_reader', 'galaxy.predict_label(bigint, text)', 'EXECUTE')
          AND has_function_privilege('galaxy_reader', 'galaxy.evaluate(text, regclass, text)', 'EXECUTE'),
          'readers predict from JSON and evaluate one metric');
SELECT ok(NOT has_function_privilege('galaxy_reader', 'galaxy.train(text, jsonb)', 'EXECUTE')
          AND NOT has_function_privilege('galaxy_reader', 'galaxy.submit(text, text)', 'EXECUTE'),
          'readers do not train with options');
SELECT ok(has_function_privilege('galaxy_trainer', 'galaxy.train(text, text)', 'EXECUTE')
          AND has_function_privilege('galaxy_trainer', 'galaxy.submit(text, jsonb)', 'EXECUTE'),
          'trainers train and submit with options');
SELECT is((SELECT count(*)::int FROM pg_proc p
            WHERE p.pronamespace = 'galaxy'::regnamespace
              AND p.proname IN ('train', 'submit', 'predict', 'predict_proba', 'predict_label', 'evaluate')
              AND obj_description(p.oid, 'pg_proc') IS NULL), 0, 'every form has a comment');

-- ---------------------------------------------------------------------------
-- train(project, options): the named form, called with the options
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE ids (name text PRIMARY KEY, id bigint);
INSERT INTO ids SELECT 'options', galaxy.train('orm_a',
    '{"relation": "orm_t", "target": "label", "algorithm": "logistic_regression",
      "features": ["x1", "x2", "flag", "color", "v"], "hyperparams": {"max_iter": 300}, "seed": 3}');
INSERT INTO ids SELECT 'named', (galaxy.train('orm_b', 'orm_t', 'label', 'logistic_regression',
    hyperparams => '{"max_iter": 300}', features => ARRAY['x1', 'x2', 'flag', 'color', 'v'], seed => 3)).id;
INSERT INTO ids SELECT 'jsonb', galaxy.train('orm_c', jsonb_build_object(
    'relation', 'public.orm_t', 'target', 'label', 'algorithm', 'logistic_regression',
    'features', jsonb_build_array('x1', 'x2', 'flag', 'color', 'v'), 'hyperparams', '{"max_iter": 300}'::jsonb,
    'seed', 3, 'test_size', null));
SELECT is((SELECT id FROM ids WHERE name = 'options'),
          (SELECT m.id FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id WHERE p.name = 'orm_a'),
          'train(project, options) returns the new model''s id');
SELECT is((SELECT row(m.algorithm, m.features, m.hyperparams, m.hyperparams_given, m.preprocess, m.training_rows,
                      m.test_rows, m.seed, m.status, m.metrics -> 'accuracy', m.metrics -> 'log_loss')::text
             FROM galaxy.models m JOIN ids USING (id) WHERE ids.name = 'options'),
          (SELECT row(m.algorithm, m.features, m.hyperparams, m.hyperparams_given, m.preprocess, m.training_rows,
                      m.test_rows, m.seed, m.status, m.metrics -> 'accuracy', m.metrics -> 'log_loss')::text
             FROM galaxy.models m JOIN ids USING (id) WHERE ids.name = 'named'),
          'the options form trains the model the named form trains (left-out options take the defaults)');
SELECT is((SELECT m.test_rows FROM galaxy.models m JOIN ids USING (id) WHERE ids.name = 'jsonb'), 60::bigint,
          'a JSON null is SQL NULL, as passing NULL by name (test_size NULL: the default, 60 held-out rows)');
SELECT is((SELECT model FROM galaxy.models m JOIN ids USING (id) WHERE ids.name = 'options')::text,
          (SELECT model FROM galaxy.models m JOIN ids USING (id) WHERE ids.name = 'named')::text,
          'and the two model values are the same bytes');
SELECT throws_ok($$SELECT galaxy.train('orm_d', 'orm_t')$$, '22004', 'target must be given',
                 'a text that is not JSON is the relation, as before: train(''p'', ''orm_t'')');

-- bad options: an ERROR naming the option, with a SQLSTATE
SELECT throws_ok($$SELECT galaxy.train('orm_d', '{"relation": "orm_t", "target": "label", "algoritm": "x"}')$$,
                 '22023', 'unknown option "algoritm" for galaxy.train', 'an unknown option');
SELECT throws_like($$SELECT galaxy.train('orm_d', '{"relaton": "orm_t"}')$$,
                   '%unknown option "relaton"%', 'the unknown option is named');
SELECT throws_ok($$SELECT galaxy.train('orm_d', '{"project": "x"}')$$, '22023',
                 'project is galaxy.train''s first argument, not an option', 'project is not an option');
SELECT throws_ok($$SELECT galaxy.train('orm_d', '{"relation": 5}')$$, '22023',
                 'option "relation" of galaxy.train must be a JSON string naming a table or view, got a JSON number',
                 'relation of the wrong type');
SELECT throws_ok($$SELECT galaxy.train('orm_d', '{"relation": "orm_t", "target": "label", "test_size": "half"}')$$,
                 '22023', 'option "test_size" of galaxy.train must be a JSON number, got a JSON string',
                 'test_size of the wrong type');
SELECT throws_ok($$SELECT galaxy.train('orm_d', '{"relation": "orm_t", "target": "label", "folds": 2.5}')$$,
                 '22023', 'option "folds" of galaxy.train must be an integer, got 2.5', 'folds not an integer');
SELECT throws_ok($$SELECT galaxy.train('orm_d', '{"relation": "orm_t", "target": "label", "seed": 1e10}')$$,
                 '22023', NULL, 'seed out of the integer range');
SELECT throws_ok($$SELECT galaxy.train('orm_d', '{"relation": "orm_t", "target": "label", "features": "x1"}')$$,
                 '22023', 'option "features" of galaxy.train must be a JSON array of strings, got a JSON string',
                 'features not an array');
SELECT throws_ok($$SELECT galaxy.train('orm_d', '{"relation": "orm_t", "target": "label", "features": ["x1", 2]}')$$,
                 '22023', NULL, 'features with a number');
SELECT throws_ok($$SELECT galaxy.train('orm_d', '{"relation": "orm_t", "target": "label", "features": ["x1", null]}')$$,
                 '22004', 'features must not contain NULL', 'features with a null: the named form''s error');
SELECT throws_ok($$SELECT galaxy.train('orm_d', '{"relation": "orm_t", "target": "label", "test_size": 1}')$$,
                 '22023', 'test_size must be in [0, 1), got 1', 'the named form''s checks apply');
SELECT throws_ok($$SELECT galaxy.train('orm_d', '{"relation": "no_such_table", "target": "label"}')$$,
                 '42P01', NULL, 'an unknown relation');
SELECT throws_ok($$SELECT galaxy.train('orm_d', NULL)$$, '22004', 'options of galaxy.train must not be NULL',
                 'NULL options (text)');
SELECT throws_ok($$SELECT galaxy.train('orm_d', NULL::jsonb)$$, '22004', NULL, 'NULL options (jsonb)');
SELECT throws_ok($$SELECT galaxy.train('orm_d', '[1, 2]')$$, '22023',
                 'options of galaxy.train must be a JSON object, got a JSON array', 'options as an array');
SELECT throws_ok($$SELECT galaxy.train('orm_d', '"orm_t"'::jsonb)$$, '22023',
                 'options of galaxy.train must be a JSON object, got a JSON string', 'options as a string');
SELECT throws_ok($$SELECT galaxy.train('orm_d', '{"relation": ')$$, '22P02', NULL, 'options that are not JSON');
SELECT throws_ok($$SELECT galaxy.train(NULL, '{"relation": "orm_t", "target": "label"}')$$, '22004',
                 'project must not be NULL', 'a NULL project: the named form''s error');

-- ---------------------------------------------------------------------------
-- submit(project, options): the job the named form queues
-- ---------------------------------------------------------------------------
INSERT INTO ids SELECT 'job_options', galaxy.submit('orm_s',
    '{"relation": "orm_t", "target": "label", "features": ["x1", "x2"], "priority": 5, "retries": 2,
      "timeout": "90 seconds"}');
INSERT INTO ids SELECT 'job_named', galaxy.submit('orm_s', 'orm_t', 'label', features => ARRAY['x1', 'x2'],
                                                  priority => 5, retries => 2, timeout => '90 seconds');
INSERT INTO ids SELECT 'job_seconds', galaxy.submit('orm_s',
    '{"relation": "orm_t", "target": "label", "features": ["x1", "x2"], "priority": 5, "retries": 2, "timeout": 90}'::jsonb);
SELECT is((SELECT array_agg(row(j.priority, j.retries, j.timeout, j.request)::text ORDER BY ids.name)
             FROM galaxy.jobs j JOIN ids ON ids.id = j.id WHERE ids.name LIKE 'job_%'),
          (SELECT array_fill(row(j.priority, j.retries, j.timeout, j.request)::text, ARRAY[3])
             FROM galaxy.jobs j JOIN ids ON ids.id = j.id WHERE ids.name = 'job_named'),
          'submit(project, options) queues the job the named form queues (timeout as text or seconds)');
SELECT throws_ok($$SELECT galaxy.submit('orm_s', '{"relation": "orm_t", "target": "label", "timeout": "soon"}')$$,
                 '22007', NULL, 'a timeout that is no interval');
SELECT throws_like($$SELECT galaxy.submit('orm_s', '{"relation": "orm_t", "target": "label", "priorty": 1}')$$,
                   '%unknown option "priorty" for galaxy.submit%', 'submit names its unknown option');
SELECT throws_ok($$SELECT galaxy.submit('orm_s', '{"relation": "orm_t", "target": "label", "retries": true}')$$,
                 '22023', 'option "retries" of galaxy.submit must be a JSON integer, got a JSON boolean',
                 'retries of the wrong type');

-- ---------------------------------------------------------------------------
-- predict from JSON: the whole-row and array forms' answers
-- ---------------------------------------------------------------------------
SELECT is((SELECT count(*)::int FROM orm_t t
            WHERE galaxy.predict('orm_a', to_jsonb(t)) IS DISTINCT FROM galaxy.predict('orm_a', t)
               OR galaxy.predict_proba('orm_a', to_jsonb(t)) IS DISTINCT FROM galaxy.predict_proba('orm_a', t)
               OR galaxy.predict_label('orm_a', to_jsonb(t)) IS DISTINCT FROM galaxy.predict_label('orm_a', t)),
          0, 'a JSON object of the columns (numbers, boolean, text, array, nulls) predicts what the whole row predicts');
SELECT is((SELECT count(*)::int FROM orm_t t, ids
            WHERE ids.name = 'options'
              AND galaxy.predict_proba(ids.id, jsonb_build_object('x1', t.x1, 'x2', t.x2, 'flag', t.flag,
                                                                  'color', t.color, 'v', t.v))
                  IS DISTINCT FROM galaxy.predict_proba(ids.id, t)),
          0, 'by model id, from the columns the model reads only');
SELECT is(galaxy.predict_label('orm_a', '{"x1": 6, "x2": 10, "flag": true, "color": "red", "v": [4, 1]}'),
          galaxy.predict_label('orm_a', '{"x1": 6, "x2": 10, "flag": true, "color": "red", "v": [4, 1]}'::jsonb),
          'JSON text predicts what jsonb predicts');
SELECT is(galaxy.predict_proba('orm_a', '{"x1": 6, "x2": null, "flag": 1, "color": null, "v": [4, null]}'),
          (SELECT galaxy.predict_proba('orm_a', t) FROM (SELECT 6::float8 AS x1, NULL::float8 AS x2, true AS flag,
                                                                 NULL::text AS color, ARRAY[4, NULL]::float8[] AS v) t),
          'JSON null is a missing value, as NULL in a row; 1 is true for a boolean input');
SELECT is(galaxy.predict('orm_a', NULL::jsonb), NULL, 'NULL features: NULL');
SELECT is(galaxy.predict('orm_a', NULL), NULL, 'NULL features as text: NULL');

INSERT INTO ids SELECT 'numeric', galaxy.train('orm_n',
    '{"relation": "orm_t", "target": "x1", "algorithm": "linear_regression", "features": ["x2", "id"]}');
SELECT is(galaxy.predict('orm_n', '[3, 17]'), galaxy.predict('orm_n', ARRAY[3, 17]),
          'a JSON array of numbers predicts what a float8[] predicts');
SELECT is(galaxy.predict('orm_n', '[null, 17]'), galaxy.predict('orm_n', ARRAY[NULL, 17]::float8[]),
          'null in a JSON array is a missing value');
SELECT is(galaxy.predict((SELECT id FROM ids WHERE name = 'numeric'), '{"x2": 3, "id": 17, "other": "ignored"}'),
          galaxy.predict('orm_n', ARRAY[3, 17]), 'keys the model does not read are ignored');

-- the routing key reaches the router: a canary takes some keys, the same for JSON and rows
INSERT INTO ids SELECT 'canary', galaxy.train('orm_a',
    '{"relation": "orm_t", "target": "label", "algorithm": "decision_tree", "features": ["x1", "x2", "flag", "color", "v"],
      "hyperparams": {"max_depth": 2}, "deploy": "never"}');
SELECT lives_ok($$SELECT galaxy.deploy('orm_a', (SELECT id FROM ids WHERE name = 'canary'), 0.5)$$, 'a canary takes half');
SELECT is((SELECT count(*)::int FROM orm_t t
            WHERE galaxy.predict_proba('orm_a', to_jsonb(t), 'key-' || t.id)
                  IS DISTINCT FROM galaxy.predict_proba('orm_a', t, 'key-' || t.id)),
          0, 'the same key takes the same route from JSON and from a row');
SELECT ok((SELECT count(DISTINCT galaxy.predict_proba('orm_a', '{"x1": 6, "x2": 10, "flag": true, "color": "red", "v": [4, 1]}',
                                                      'key-' || g)) = 2
             FROM generate_series(1, 40) g),
          'keys given as the third argument split between the primary and the canary');

-- bad features: an ERROR naming the feature, with a SQLSTATE
SELECT throws_ok($$SELECT galaxy.predict('orm_a', '{"x1": 1, "flag": true, "v": [1, 2]}')$$, '42703',
                 'the features lack input columns of the model: x2, color', 'missing keys are named');
SELECT throws_ok($$SELECT galaxy.predict('orm_a', '{"x1": "1", "x2": 1, "flag": true, "color": "red", "v": [1, 2]}')$$,
                 '42804', 'feature "x1" must be a JSON number or boolean, got a JSON string', 'a string for a number');
SELECT throws_ok($$SELECT galaxy.predict('orm_a', '{"x1": 1, "x2": 1, "flag": true, "color": true, "v": [1, 2]}')$$,
                 '42804', 'feature "color" must be a JSON string, got a JSON boolean', 'a boolean for a text input');
SELECT throws_ok($$SELECT galaxy.predict('orm_a', '{"x1": 1, "x2": 1, "flag": true, "color": "red", "v": 3}')$$,
                 '42804', 'feature "v" must be a JSON array of numbers, got a JSON number', 'a number for an array input');
SELECT throws_ok($$SELECT galaxy.predict('orm_a', '{"x1": 1, "x2": 1, "flag": true, "color": "red", "v": [1, "2"]}')$$,
                 '42804', 'element 2 of feature "v" must be a JSON number, got a JSON string', 'a string in an array input');
SELECT throws_ok($$SELECT galaxy.predict('orm_a', '{"x1": 1, "x2": 1, "flag": true, "color": "red", "v": [1, 2, 3]}')$$,
                 '2202E', NULL, 'an array input of the wrong length');
SELECT throws_ok($$SELECT galaxy.predict('orm_a', '{"x1": 1e400, "x2": 1, "flag": true, "color": "red", "v": [1, 2]}')$$,
                 '22023', NULL, 'a number beyond float8 is infinite, which is no feature value');
SELECT throws_ok($$SELECT galaxy.predict('orm_a', '[1, 2, 3, 4, 5]')$$, '42804',
                 'this model has categorical inputs and cannot take a JSON array', 'an array for a model with text inputs');
SELECT throws_ok($$SELECT galaxy.predict('orm_n', '[1, 2, 3]')$$, '2202E', 'the model expects 2 features, got 3',
                 'a JSON array of the wrong length');
SELECT throws_ok($$SELECT galaxy.predict('orm_n', '[1, "2"]')$$, '42804',
                 'feature 2 must be a JSON number, got a JSON string', 'a string in a JSON array');
SELECT throws_ok($$SELECT galaxy.predict('orm_n', '7'::jsonb)$$, '42804',
                 'features must be a JSON object or array, got a JSON number', 'a JSON scalar');
SELECT throws_ok($$SELECT galaxy.predict('orm_n', '{1,2}')$$, '22P02', NULL,
                 'a PostgreSQL array literal as text is not JSON');
SELECT throws_ok($$SELECT galaxy.predict('no_such_project', '{"x2": 1}')$$, '42704', NULL, 'an unknown project');

-- ---------------------------------------------------------------------------
-- evaluate(target, relation, metric): one metric as a scalar
-- ---------------------------------------------------------------------------
SELECT is(galaxy.evaluate('orm_a', 'orm_t', 'accuracy'), (galaxy.evaluate('orm_a', 'orm_t') ->> 'accuracy')::float8,
          'evaluate(project, relation, metric) is that metric of evaluate(project, relation)');
SELECT is(galaxy.evaluate((SELECT id FROM ids WHERE name = 'numeric'), 'orm_t', 'rmse'),
          (galaxy.evaluate((SELECT id FROM ids WHERE name = 'numeric'), 'orm_t') ->> 'rmse')::float8,
          'evaluate(model, relation, metric) likewise');
SELECT throws_ok($$SELECT galaxy.evaluate('orm_a', 'orm_t', 'acuracy')$$, '22023', NULL, 'an unknown metric');
SELECT throws_like($$SELECT galaxy.evaluate('orm_a', 'orm_t', 'acuracy')$$, '%no metric "acuracy"%',
                   'the unknown metric is named');
SELECT throws_ok($$SELECT galaxy.evaluate('orm_a', 'orm_t', NULL)$$, '22004', 'metric must not be NULL', 'a NULL metric');
SELECT is(galaxy.evaluate(NULL::bigint, 'orm_t', 'accuracy'), NULL, 'a NULL model: NULL');

-- ---------------------------------------------------------------------------
-- Privileges at run time
-- ---------------------------------------------------------------------------
CREATE ROLE orm_reader NOLOGIN IN ROLE galaxy_reader;
CREATE ROLE orm_trainer NOLOGIN IN ROLE galaxy_trainer;
GRANT SELECT ON orm_t TO orm_reader, orm_trainer;
SELECT galaxy.grant_project('orm_a', 'orm_reader', 'read');
SET LOCAL ROLE orm_reader;
SELECT is(galaxy.predict_label('orm_a', '{"x1": 6, "x2": 10, "flag": true, "color": "red", "v": [4, 1]}', 'k'),
          galaxy.predict_label('orm_a', '{"x1": 6, "x2": 10, "flag": true, "color": "red", "v": [4, 1]}'::jsonb, 'k'),
          'a reader predicts from JSON text and jsonb');
SELECT throws_ok($$SELECT galaxy.predict_label('orm_n', '[1, 2]')$$, '42501', NULL,
                 'a reader without a grant on the project cannot predict from JSON either');
SELECT throws_ok($$SELECT galaxy.train('orm_r', '{"relation": "orm_t", "target": "label"}')$$, '42501',
                 'permission denied for function train', 'a reader cannot train with options');
RESET ROLE;
-- the options form refuses when the named form is revoked, even if it is itself granted
REVOKE EXECUTE ON FUNCTION galaxy.train(text, regclass, text, text, jsonb, float8, text, jsonb, integer, text,
                                        integer, text[], jsonb, text, text, integer, text, text, bigint) FROM galaxy_trainer;
SET LOCAL ROLE orm_trainer;
SELECT throws_ok($$SELECT galaxy.train('orm_t2', '{"relation": "orm_t", "target": "label"}')$$, '42501',
                 'permission denied for function train', 'the options form does not bypass the named form''s grant');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
