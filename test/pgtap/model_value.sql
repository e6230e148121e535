-- test/pgtap/model_value.sql — galaxy.serving_model() and predict on a
-- galaxy.model value (what a Citus worker runs, docs/citus.md): the same
-- answers as predict by project, the privilege check on the coordinator's
-- side, and clear errors for bad values.
BEGIN;
SELECT plan(17);

CREATE TABLE mv_points AS
SELECT i AS id, (i % 17)::float8 AS x1, ((i % 13) / 2.0)::float8 AS x2,
       (1.5 + 2 * (i % 17) - 3 * ((i % 13) / 2.0))::float8 AS y,
       CASE WHEN 2 * (i % 17) - 3 * ((i % 13) / 2.0) > 0 THEN 'up' ELSE 'down' END AS c
  FROM generate_series(1, 600) i;
SET LOCAL client_min_messages = warning;
SELECT lives_ok($$SELECT galaxy.train('mv_reg', relation => 'mv_points', target => 'y',
                                      algorithm => 'linear_regression', features => ARRAY['x1', 'x2'])$$,
                'train a regression model');
SELECT lives_ok($$SELECT galaxy.train('mv_cls', relation => 'mv_points', target => 'c',
                                      algorithm => 'logistic_regression', features => ARRAY['x1', 'x2'])$$,
                'train a classification model');
RESET client_min_messages;

CREATE FUNCTION pg_temp.error_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

SELECT is((SELECT galaxy.serving_model('mv_reg')::text),
          (SELECT model::text FROM galaxy.models WHERE id = galaxy.deployed_model('mv_reg')),
          'serving_model is the deployed model''s value');
SELECT is((WITH m AS MATERIALIZED (SELECT galaxy.serving_model('mv_reg') AS model)
           SELECT count(*) FROM mv_points p, m
            WHERE galaxy.predict(m.model, ARRAY[x1, x2]) IS DISTINCT FROM galaxy.predict('mv_reg', ARRAY[x1, x2])),
          0::bigint, 'predict on the value = predict by project, every row (array form)');
SELECT is((WITH m AS MATERIALIZED (SELECT galaxy.serving_model('mv_reg') AS model)
           SELECT count(*) FROM mv_points p, m
            WHERE abs(galaxy.predict(m.model, p) - galaxy.predict('mv_reg', ARRAY[x1, x2])) > 1e-9),
          0::bigint, 'predict on the value, whole-row form');
SELECT is((WITH m AS MATERIALIZED (SELECT galaxy.serving_model('mv_cls') AS model)
           SELECT count(*) FROM mv_points p, m
            WHERE galaxy.predict_label(m.model, ARRAY[x1, x2]) IS DISTINCT FROM galaxy.predict_label('mv_cls', ARRAY[x1, x2])
               OR galaxy.predict_proba(m.model, ARRAY[x1, x2]) IS DISTINCT FROM galaxy.predict_proba('mv_cls', ARRAY[x1, x2])),
          0::bigint, 'predict_label and predict_proba on the value = by project');
-- one call site, the model changing from row to row
SELECT is((SELECT count(DISTINCT galaxy.predict_label(m.model, ARRAY[3, 1]::float8[]))
             FROM generate_series(1, 6) g
             JOIN galaxy.models m ON m.id = (SELECT id FROM galaxy.models ORDER BY id LIMIT 1 OFFSET g % 2)),
          2::bigint, 'a call site follows the model value from row to row');
SELECT is(galaxy.predict(NULL::galaxy.model, ARRAY[1, 2]::float8[]), NULL, 'a NULL model: NULL');
SELECT ok(galaxy.serving_model(NULL) IS NULL, 'serving_model of NULL: NULL');

SELECT is(pg_temp.error_of($$SELECT galaxy.serving_model('mv_nope')$$),
          '42704: project "mv_nope" does not exist', 'serving_model: unknown project');
SELECT is(pg_temp.error_of($$SELECT galaxy.predict(galaxy.serving_model('mv_reg'), ARRAY[1, 2, 3]::float8[])$$),
          '2202E: the model expects 2 features, got 3', 'predict on a value: wrong feature count');
SELECT matches(pg_temp.error_of($$SELECT galaxy.predict('galaxy:AAAA'::galaxy.model, ARRAY[1]::float8[])$$),
               '^XX001: corrupted galaxy.model', 'a corrupted value: an ERROR, not a crash');
SELECT is(pg_temp.error_of($$SELECT galaxy.predict(galaxy.serving_model('mv_reg'), ARRAY[1e308, 1e308]::float8[])$$),
          '22003: the galaxy model gives no finite prediction for this row', 'a value''s overflow names no model id');

-- the privilege check is serving_model's: a reader without a grant on the project gets no value
CREATE ROLE mv_reader LOGIN IN ROLE galaxy_reader;
GRANT SELECT ON mv_points TO mv_reader;
SET LOCAL ROLE mv_reader;
SELECT matches(pg_temp.error_of($$SELECT galaxy.serving_model('mv_reg')$$),
               '^42501: permission denied to predict in galaxy project "mv_reg"',
               'serving_model needs the predict privilege on the project');
RESET ROLE;
SELECT lives_ok($$SELECT galaxy.grant_project('mv_reg', 'mv_reader', 'read')$$, 'grant read on the project');
SET LOCAL ROLE mv_reader;
SELECT is((WITH m AS MATERIALIZED (SELECT galaxy.serving_model('mv_reg') AS model)
           SELECT count(galaxy.predict(m.model, ARRAY[x1, x2])) FROM mv_points, m),
          600::bigint, 'with a grant, the reader predicts with the value');
RESET ROLE;

SELECT is((SELECT provolatile FROM pg_proc WHERE oid = 'galaxy.predict(galaxy.model, float8[])'::regprocedure),
          'i'::"char", 'predict on a value is IMMUTABLE');

SELECT * FROM finish();
ROLLBACK;
