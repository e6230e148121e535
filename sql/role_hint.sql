--
-- A role without galaxy's roles gets PostgreSQL's "permission denied" for
-- galaxy's functions, tables and views with a HINT naming the galaxy role to
-- grant (src/registry/role_hint.c); other permission errors are untouched.
--
CREATE TABLE rh_points AS
SELECT g AS x, 2 * g + 1 AS y FROM generate_series(1, 50) g;
CREATE TABLE rh_private (a int);
SET client_min_messages = warning;
SELECT algorithm FROM galaxy.train('rh_line', 'rh_points', 'y', 'linear_regression');
RESET client_min_messages;

CREATE ROLE rh_nobody;
CREATE ROLE rh_reader IN ROLE galaxy_reader;
GRANT SELECT ON rh_points TO rh_nobody, rh_reader;
SELECT galaxy.grant_project('rh_line', 'rh_reader', 'read');

SET ROLE rh_nobody;
-- functions: the weakest galaxy role that may call them
SELECT galaxy.train('rh_line2', 'rh_points', 'y');
SELECT galaxy.train('rh_line2', '{"relation": "rh_points", "target": "y"}');
SELECT galaxy.predict('rh_line', ARRAY[3]);
SELECT galaxy.predict_label('rh_line', '{"x": 3}');
SELECT galaxy.approve(1);
SELECT galaxy.purge_audit(now());
-- in a PL/pgSQL block too
DO $$ BEGIN PERFORM galaxy.evaluate('rh_line', 'rh_points'); END $$;
-- views (checked while planning) and tables
SELECT project FROM galaxy.deployed_models;
SELECT count(*) FROM galaxy.models;
-- not galaxy's: unchanged
SELECT * FROM rh_private;
SELECT 1 / 0;
RESET ROLE;

SET ROLE rh_reader;
SELECT round(galaxy.predict('rh_line', ARRAY[3])) AS predicted;
SELECT count(*) FROM galaxy.deployed_models;
-- a reader may read every column of galaxy.models but the model bytes
SELECT * FROM galaxy.models;
SELECT version FROM galaxy.models;
SELECT galaxy.train('rh_line2', 'rh_points', 'y');
SELECT count(*) FROM galaxy.audit_log;
RESET ROLE;

-- a prepared statement is checked when it runs, for the role that runs it
SET client_min_messages = warning;
PREPARE rh_train AS SELECT version FROM galaxy.train('rh_line', 'rh_points', 'y', 'linear_regression');
EXECUTE rh_train;
RESET client_min_messages;
SET ROLE rh_reader;
EXECUTE rh_train;
RESET ROLE;
DEALLOCATE rh_train;

DROP OWNED BY rh_nobody, rh_reader;
DROP ROLE rh_nobody, rh_reader;
