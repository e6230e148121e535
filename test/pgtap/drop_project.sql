-- test/pgtap/drop_project.sql — galaxy.drop_project: removes a project with
-- its models, deployments, approvals, grants and jobs, needs "all" on it,
-- refuses while a job of it is queued or running, and is audited (the audit
-- log keeps the project's history and still verifies).
BEGIN;
SELECT plan(17);

SET LOCAL client_min_messages = warning;
CREATE TABLE public.dp_lin AS
SELECT g AS id, (g % 7)::float8 AS x1, (g % 11)::float8 AS x2, (3 * (g % 7) - 2 * (g % 11))::float8 AS y
  FROM generate_series(1, 200) g;
CREATE ROLE dp_alice LOGIN IN ROLE galaxy_trainer;
CREATE ROLE dp_bob LOGIN IN ROLE galaxy_trainer;
CREATE ROLE dp_rita LOGIN IN ROLE galaxy_reader;
GRANT SELECT ON public.dp_lin TO dp_alice;

SET LOCAL SESSION AUTHORIZATION dp_alice;
SELECT lives_ok($$SELECT galaxy.train('dp_prices', 'public.dp_lin', 'y', algorithm => 'linear_regression',
                                      features => ARRAY['x1', 'x2'])$$, 'alice trains a project');
SELECT lives_ok($$SELECT galaxy.train('dp_prices', 'public.dp_lin', 'y', algorithm => 'linear_regression',
                                      features => ARRAY['x1'])$$, 'and a second version');
SELECT lives_ok($$SELECT galaxy.train('dp_keep', 'public.dp_lin', 'y', algorithm => 'linear_regression',
                                      features => ARRAY['x1', 'x2'])$$, 'and another project');
SELECT galaxy.grant_project('dp_prices', 'dp_bob', 'deploy');
RESET SESSION AUTHORIZATION;

-- who may drop it
SELECT ok(has_function_privilege('dp_alice', 'galaxy.drop_project(text)', 'EXECUTE'), 'a trainer may call drop_project');
SELECT ok(NOT has_function_privilege('dp_rita', 'galaxy.drop_project(text)', 'EXECUTE'), 'a reader may not');
SET LOCAL SESSION AUTHORIZATION dp_bob;
SELECT throws_ok($$SELECT galaxy.drop_project('dp_prices')$$, '42501', NULL,
                 'deploy on the project is not enough: dropping needs all');
RESET SESSION AUTHORIZATION;
SELECT throws_ok($$SELECT galaxy.drop_project('dp_nothing')$$, '42704', NULL, 'an unknown project is an error');

-- not while a job of the project is queued (the job row is never committed: the test rolls back)
INSERT INTO galaxy.jobs (id, project_id, project, owner, owner_oid, request)
SELECT -1, id, name, 'dp_alice', 'dp_alice'::regrole, '{}' FROM galaxy.projects WHERE name = 'dp_prices';
SET LOCAL SESSION AUTHORIZATION dp_alice;
SELECT throws_ok($$SELECT galaxy.drop_project('dp_prices')$$, '55006', NULL,
                 'a project with a queued job cannot be dropped');
RESET SESSION AUTHORIZATION;
UPDATE galaxy.jobs SET state = 'cancelled', finished_at = now() WHERE id = -1;

SELECT id AS dp_id FROM galaxy.projects WHERE name = 'dp_prices' \gset
SET LOCAL SESSION AUTHORIZATION dp_alice;
SELECT is(galaxy.drop_project('dp_prices'), 2::bigint, 'the owner drops it: two models deleted');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT count(*)::int FROM galaxy.projects WHERE name = 'dp_prices'), 0, 'the project is gone');
SELECT is((SELECT count(*)::int FROM galaxy.models WHERE project_id = :dp_id), 0, 'with its models');
SELECT is((SELECT count(*)::int FROM galaxy.deployments WHERE project_id = :dp_id), 0, 'its deployments');
SELECT is((SELECT count(*)::int FROM galaxy.project_grants WHERE project_id = :dp_id), 0, 'its grants');
SELECT is((SELECT count(*)::int FROM galaxy.jobs WHERE id = -1), 0, 'and its job history');
SELECT is((SELECT count(*)::int FROM galaxy.projects WHERE name = 'dp_keep'), 1, 'other projects stay');
SELECT is((SELECT details->>'models' FROM galaxy.audit_log
            WHERE action = 'drop_project' AND object_id = :'dp_id'), '2', 'the drop is audited');
SELECT ok((SELECT ok FROM galaxy.verify_audit()), 'the audit chain still verifies, the project''s history included');

SELECT * FROM finish();
ROLLBACK;
