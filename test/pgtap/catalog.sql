-- test/pgtap/catalog.sql — the catalog's contract: tables, keys, constraints,
-- indexes, pg_dump registration, PUBLIC privileges, the galaxy.model type.
-- Runs in a fresh database with pgtap and galaxy created (scripts/check).
BEGIN;
SELECT plan(116);

-- ---------------------------------------------------------------------------
-- The extension
-- ---------------------------------------------------------------------------
SELECT has_extension('galaxy', 'galaxy is installed');
SELECT has_schema('galaxy', 'schema galaxy exists');
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'galaxy'), false,
          'galaxy is not relocatable');
SELECT is((SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'galaxy'), 'galaxy',
          'galaxy lives in schema galaxy');

-- ---------------------------------------------------------------------------
-- Tables, primary keys, unique keys
-- ---------------------------------------------------------------------------
SELECT has_table('galaxy', t, 'table galaxy.' || t || ' exists')
  FROM unnest(ARRAY['projects', 'datasets', 'jobs', 'job_progress', 'models', 'deployments', 'audit_log']) t;
SELECT has_pk('galaxy', t, 'galaxy.' || t || ' has a primary key')
  FROM unnest(ARRAY['projects', 'datasets', 'jobs', 'job_progress', 'models', 'deployments', 'audit_log']) t;
SELECT col_is_pk('galaxy', t, 'id', 'galaxy.' || t || '.id is the primary key')
  FROM unnest(ARRAY['projects', 'datasets', 'jobs', 'models', 'deployments', 'audit_log']) t;
SELECT col_is_pk('galaxy', 'job_progress', ARRAY['job_id', 'attempt', 'step'],
                 'galaxy.job_progress is keyed by (job_id, attempt, step)');
SELECT col_is_unique('galaxy', 'projects', ARRAY['name'], 'project names are unique');
SELECT col_is_unique('galaxy', 'datasets', ARRAY['name'], 'dataset names are unique');
SELECT col_is_unique('galaxy', 'models', ARRAY['project_id', 'version'],
                     'a version is unique within its project');

-- ---------------------------------------------------------------------------
-- Foreign keys
-- ---------------------------------------------------------------------------
SELECT fk_ok('galaxy', 'jobs', 'project_id', 'galaxy', 'projects', 'id');
SELECT is((SELECT count(*)::int FROM pg_constraint c
            WHERE c.conrelid = 'galaxy.jobs'::regclass AND c.contype = 'f'
              AND c.conkey = ARRAY[(SELECT attnum FROM pg_attribute
                                    WHERE attrelid = 'galaxy.jobs'::regclass AND attname = 'model_id')]),
          0, 'jobs.model_id has no foreign key: with models.job_id it would be a cycle pg_restore cannot load');
SELECT fk_ok('galaxy', 'job_progress', 'job_id', 'galaxy', 'jobs', 'id');
SELECT fk_ok('galaxy', 'models', 'project_id', 'galaxy', 'projects', 'id');
SELECT fk_ok('galaxy', 'models', 'dataset_id', 'galaxy', 'datasets', 'id');
SELECT fk_ok('galaxy', 'models', 'job_id', 'galaxy', 'jobs', 'id');
SELECT is((SELECT count(*)::int FROM pg_constraint c
            WHERE c.conrelid = 'galaxy.models'::regclass AND c.contype = 'f'
              AND c.confrelid = 'galaxy.models'::regclass),
          0, 'models.parent_id has no foreign key: pg_dump takes a self-reference for a cycle and warns on every dump');
-- what ON DELETE SET NULL did, a trigger does: a deleted model's successors lose their parent_id
INSERT INTO galaxy.projects (id, name) VALUES (-1, 'catalog_parent_link');
INSERT INTO galaxy.models (id, project_id, version, version_major, version_minor, version_patch, status,
                           algorithm, task, features, feature_types, schema_fingerprint, parent_id)
VALUES (-1, -1, '1.0.0', 1, 0, 0, 'training', 'linear_regression', 'regression', '{x}', '{float8}', 'f', NULL),
       (-2, -1, '1.1.0', 1, 1, 0, 'training', 'linear_regression', 'regression', '{x}', '{float8}', 'f', -1);
DELETE FROM galaxy.models WHERE id = -1;
SELECT is((SELECT parent_id FROM galaxy.models WHERE id = -2), NULL,
          'deleting a model clears its successor''s parent_id (trigger models_unlink_parent)');
SELECT is((SELECT count(*)::int FROM pg_trigger WHERE tgrelid = 'galaxy.models'::regclass
              AND tgname = 'models_unlink_parent'), 1, 'the parent link trigger exists');
DELETE FROM galaxy.projects WHERE id = -1;
SELECT fk_ok('galaxy', 'deployments', 'project_id', 'galaxy', 'projects', 'id');
SELECT fk_ok('galaxy', 'deployments', 'model_id', 'galaxy', 'models', 'id');

-- ---------------------------------------------------------------------------
-- CHECK constraints (declared, and enforced)
-- ---------------------------------------------------------------------------
SELECT col_has_check('galaxy', 'projects', 'name', 'project names are checked');
SELECT col_has_check('galaxy', 'projects', 'task', 'project tasks are checked');
SELECT col_has_check('galaxy', 'datasets', 'row_count', 'dataset row counts are checked');
SELECT col_has_check('galaxy', 'jobs', 'state', 'job states are checked');
SELECT col_has_check('galaxy', 'jobs', 'retries', 'job retries are checked');
SELECT col_has_check('galaxy', 'jobs', 'attempts', 'job attempts are checked');
SELECT col_has_check('galaxy', 'job_progress', 'iteration', 'progress iterations are checked');
SELECT col_has_check('galaxy', 'models', 'status', 'model status is checked');
SELECT col_has_check('galaxy', 'models', 'task', 'model task is checked');
SELECT col_has_check('galaxy', 'models', 'version_major', 'major versions are checked');
SELECT col_has_check('galaxy', 'models', 'training_rows', 'training row counts are checked');
SELECT col_has_check('galaxy', 'deployments', 'traffic', 'deployment traffic shares are checked');

-- what the constraints refuse, as the owner (bypassing the API on purpose)
INSERT INTO galaxy.projects (name, task) VALUES ('tap_project', 'classification');
SELECT throws_ok($$INSERT INTO galaxy.projects (name) VALUES ('no spaces allowed')$$,
                 '23514', NULL, 'a project name with spaces is refused');
SELECT throws_ok($$INSERT INTO galaxy.projects (name) VALUES ('1starts_with_digit')$$,
                 '23514', NULL, 'a project name starting with a digit is refused');
SELECT throws_ok($$INSERT INTO galaxy.projects (name, task) VALUES ('p2', 'astrology')$$,
                 '23514', NULL, 'an unknown project task is refused');
SELECT throws_ok($$INSERT INTO galaxy.projects (name) VALUES ('tap_project')$$,
                 '23505', NULL, 'a duplicate project name is refused');
SELECT throws_ok($$INSERT INTO galaxy.jobs (project, owner_oid, request, state)
                   VALUES ('tap_project', 10, '{}', 'paused')$$,
                 '23514', NULL, 'an unknown job state is refused');
SELECT throws_ok($$INSERT INTO galaxy.jobs (project, owner_oid, request, state)
                   VALUES ('tap_project', 10, '{}', 'succeeded')$$,
                 '23514', NULL, 'a succeeded job without a model is refused');
SELECT throws_ok($$INSERT INTO galaxy.jobs (project, owner_oid, request, started_at, finished_at)
                   VALUES ('tap_project', 10, '{}', now(), now() - interval '1 hour')$$,
                 '23514', NULL, 'a job that finished before it started is refused');
SELECT throws_ok($$INSERT INTO galaxy.jobs (project, owner_oid, request, retries)
                   VALUES ('tap_project', 10, '{}', -1)$$,
                 '23514', NULL, 'negative retries are refused');
SELECT throws_ok($$INSERT INTO galaxy.job_progress (job_id, step, iteration, phase) VALUES (-42, 1, 1, 'fit')$$,
                 '23503', NULL, 'progress for a job that does not exist is refused');
SELECT throws_ok($$INSERT INTO galaxy.models (project_id, version, version_major, version_minor,
                     version_patch, algorithm, task, features, feature_types, schema_fingerprint, status)
                   VALUES (-7, '1.0.0', 1, 0, 0, 'linear_regression', 'regression', '{x}', '{float8}', 'f',
                           'training')$$,
                 '23503', NULL, 'a model of a project that does not exist is refused');
SELECT throws_ok($$INSERT INTO galaxy.models (project_id, version, version_major, version_minor,
                     version_patch, algorithm, task, features, feature_types, schema_fingerprint, status)
                   SELECT id, '1.2.0', 1, 0, 0, 'linear_regression', 'regression', '{x}', '{float8}', 'f',
                          'training'
                     FROM galaxy.projects WHERE name = 'tap_project'$$,
                 '23514', NULL, 'a version string that disagrees with its parts is refused');
SELECT throws_ok($$INSERT INTO galaxy.models (project_id, version, version_major, version_minor,
                     version_patch, algorithm, task, features, feature_types, schema_fingerprint, status)
                   SELECT id, '0.1.0', 0, 1, 0, 'linear_regression', 'regression', '{x}', '{float8}', 'f',
                          'training'
                     FROM galaxy.projects WHERE name = 'tap_project'$$,
                 '23514', NULL, 'major version 0 is refused');
SELECT throws_ok($$INSERT INTO galaxy.models (project_id, version, version_major, version_minor,
                     version_patch, algorithm, task, features, feature_types, schema_fingerprint, status)
                   SELECT id, '1.0.0', 1, 0, 0, 'linear_regression', 'regression', '{x}', '{float8}', 'f',
                          'ready'
                     FROM galaxy.projects WHERE name = 'tap_project'$$,
                 '23514', NULL, 'a ready model without a model value is refused');
SELECT throws_ok($$INSERT INTO galaxy.models (project_id, version, version_major, version_minor,
                     version_patch, algorithm, task, features, feature_types, schema_fingerprint, status)
                   SELECT id, '1.0.0', 1, 0, 0, 'linear_regression', 'forecasting', '{x}', '{float8}', 'f',
                          'training'
                     FROM galaxy.projects WHERE name = 'tap_project'$$,
                 '23514', NULL, 'an unknown model task is refused');
SELECT throws_ok($$INSERT INTO galaxy.deployments (project_id, model_id, traffic)
                   SELECT id, -1, 0.5 FROM galaxy.projects WHERE name = 'tap_project'$$,
                 '23503', NULL, 'a deployment of a model that does not exist is refused');

-- ---------------------------------------------------------------------------
-- Indexes the queue, the registry and the audit log rely on
-- ---------------------------------------------------------------------------
SELECT has_index('galaxy', 'jobs', 'jobs_queue_idx', 'the job queue has its index');
SELECT is((SELECT indpred IS NOT NULL FROM pg_index WHERE indexrelid = 'galaxy.jobs_queue_idx'::regclass),
          true, 'the job queue index covers queued jobs only');
SELECT has_index('galaxy', 'jobs', 'jobs_state_idx', 'jobs are indexed by state');
SELECT has_index('galaxy', 'models', 'models_project_idx', 'models are indexed by project');
SELECT has_index('galaxy', 'deployments', 'deployments_active_idx', 'active deployments have an index');
SELECT is((SELECT indpred IS NOT NULL FROM pg_index WHERE indexrelid = 'galaxy.deployments_active_idx'::regclass),
          true, 'the active deployment index covers live deployments only');
SELECT has_index('galaxy', 'deployments', 'deployments_time_idx', 'deployments are indexed by time');
SELECT has_index('galaxy', 'audit_log', 'audit_log_object_idx', 'the audit log is indexed by object');

-- ---------------------------------------------------------------------------
-- pg_dump keeps every catalog table and sequence
-- ---------------------------------------------------------------------------
SELECT ok(format('galaxy.%I', t)::regclass::oid = ANY (
              (SELECT extconfig FROM pg_extension WHERE extname = 'galaxy')::oid[]),
          'galaxy.' || t || ' is registered with pg_extension_config_dump')
  FROM unnest(ARRAY['projects', 'datasets', 'jobs', 'job_progress', 'models', 'deployments', 'audit_log']) t;
SELECT is_empty($$
    SELECT c.oid::regclass::text
      FROM pg_class c
      JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'galaxy'
     WHERE c.relkind IN ('r', 'p', 'S')
       AND c.oid <> ALL (e.extconfig)
$$, 'every table and sequence of the extension is dumped by pg_dump');
SELECT is((SELECT count(*)::int FROM pg_extension e, unnest(e.extconfig) c WHERE e.extname = 'galaxy'),
          (SELECT array_length(extcondition, 1) FROM pg_extension WHERE extname = 'galaxy'),
          'every dumped relation has a (possibly empty) dump condition');

-- ---------------------------------------------------------------------------
-- PUBLIC: no privileges on the catalog, usage of the schema
-- ---------------------------------------------------------------------------
CREATE ROLE galaxy_tap_nobody NOLOGIN;
SELECT is_empty($$
    SELECT c.oid::regclass::text
      FROM pg_class c
     WHERE c.relnamespace = 'galaxy'::regnamespace
       AND CASE WHEN c.relkind IN ('r', 'p')
                THEN has_table_privilege('galaxy_tap_nobody', c.oid,
                                         'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER') END
$$, 'a role with only PUBLIC''s rights has no privilege on any galaxy table');
SELECT is_empty($$
    SELECT c.oid::regclass::text
      FROM pg_class c
     WHERE c.relnamespace = 'galaxy'::regnamespace
       AND CASE WHEN c.relkind = 'S'
                THEN has_sequence_privilege('galaxy_tap_nobody', c.oid, 'USAGE, SELECT, UPDATE') END
$$, 'a role with only PUBLIC''s rights has no privilege on any galaxy sequence');
SELECT ok(NOT has_table_privilege('galaxy_tap_nobody', format('galaxy.%I', t), 'SELECT'),
          'PUBLIC cannot read galaxy.' || t)
  FROM unnest(ARRAY['projects', 'datasets', 'jobs', 'job_progress', 'models', 'deployments', 'audit_log']) t;
SELECT ok(has_schema_privilege('galaxy_tap_nobody', 'galaxy', 'USAGE'),
          'PUBLIC may use schema galaxy (to call its functions)');
SELECT ok(NOT has_schema_privilege('galaxy_tap_nobody', 'galaxy', 'CREATE'),
          'PUBLIC may not create objects in schema galaxy');
SET LOCAL ROLE galaxy_tap_nobody;
SELECT throws_ok('SELECT * FROM galaxy.models', '42501', NULL,
                 'reading galaxy.models directly is refused');
SELECT throws_ok($$INSERT INTO galaxy.projects (name) VALUES ('sneaky')$$, '42501', NULL,
                 'writing galaxy.projects directly is refused');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- Every object is documented
-- ---------------------------------------------------------------------------
SELECT is_empty($$
    SELECT c.oid::regclass::text FROM pg_class c
     WHERE c.relnamespace = 'galaxy'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
       AND obj_description(c.oid, 'pg_class') IS NULL
$$, 'every galaxy table and view has a COMMENT');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace IN ('galaxy'::regnamespace, 'galaxy_internal'::regnamespace)
       AND obj_description(p.oid, 'pg_proc') IS NULL
$$, 'every galaxy and galaxy_internal function has a COMMENT');

-- ---------------------------------------------------------------------------
-- galaxy_internal: what only galaxy calls, out of \df galaxy.*
-- ---------------------------------------------------------------------------
SELECT has_schema('galaxy_internal', 'schema galaxy_internal exists');
SELECT is((SELECT d.deptype::text FROM pg_depend d
            WHERE d.classid = 'pg_namespace'::regclass AND d.objid = 'galaxy_internal'::regnamespace
              AND d.refclassid = 'pg_extension'::regclass),
          'e', 'the extension owns schema galaxy_internal (DROP EXTENSION removes it)');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace = 'galaxy'::regnamespace
       AND (p.prorettype IN ('trigger'::regtype, 'event_trigger'::regtype, 'internal'::regtype)
            OR EXISTS (SELECT 1 FROM pg_type t WHERE p.oid IN (t.typinput, t.typoutput, t.typreceive))
            OR EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_policy'::regclass AND d.refclassid = 'pg_proc'::regclass
                          AND d.refobjid = p.oid))
$$, 'schema galaxy holds no trigger, planner support, type input or row-level-security function');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace = 'galaxy'::regnamespace
       AND (p.proname ~ '_(columns|values)$'
            OR p.proname IN ('algorithm_list', 'algorithm_hyperparameter_list', 'progress_slots'))
$$, 'the planner''s rewrite targets and the functions behind views are in galaxy_internal');
SELECT ok(NOT has_schema_privilege('galaxy_tap_nobody', 'galaxy_internal', 'USAGE'),
          'PUBLIC may not use schema galaxy_internal');
SELECT ok(has_schema_privilege('galaxy_reader', 'galaxy_internal', 'USAGE')
          AND NOT has_schema_privilege('galaxy_reader', 'galaxy_internal', 'CREATE'),
          'galaxy_reader may use schema galaxy_internal, not create in it');

-- ---------------------------------------------------------------------------
-- The galaxy.model type
-- ---------------------------------------------------------------------------
SELECT has_type('galaxy', 'model', 'type galaxy.model exists');
SELECT is((SELECT typinput::text FROM pg_type WHERE oid = 'galaxy.model'::regtype), 'galaxy_internal.model_in',
          'galaxy.model has text input');
SELECT is((SELECT typoutput::text FROM pg_type WHERE oid = 'galaxy.model'::regtype), 'galaxy_internal.model_out',
          'galaxy.model has text output');
SELECT is((SELECT typreceive::text FROM pg_type WHERE oid = 'galaxy.model'::regtype), 'galaxy_internal.model_recv',
          'galaxy.model has binary input (recv)');
SELECT is((SELECT typsend::text FROM pg_type WHERE oid = 'galaxy.model'::regtype), 'galaxy.model_send',
          'galaxy.model has binary output (send)');
SELECT is((SELECT typlen FROM pg_type WHERE oid = 'galaxy.model'::regtype), -1::smallint,
          'galaxy.model is a varlena');
SELECT is((SELECT typstorage FROM pg_type WHERE oid = 'galaxy.model'::regtype), 'e'::"char",
          'galaxy.model is stored out of line without pglz (it compresses itself with LZ4)');
SELECT col_type_is('galaxy', 'models', 'model', 'galaxy', 'model', 'galaxy.models.model is a galaxy.model');
SELECT function_returns('galaxy', 'describe', ARRAY['galaxy.model'], 'jsonb',
                        'galaxy.describe(galaxy.model) returns jsonb');
SELECT volatility_is('galaxy', 'describe', ARRAY['galaxy.model'], 'immutable',
                     'galaxy.describe is immutable');
SELECT throws_ok($$SELECT 'not a model'::galaxy.model$$, '22P02', NULL,
                 'text that is not a model is refused with 22P02');
SELECT throws_ok($$SELECT ('galaxy:' || translate(encode(sha256('x') || sha256('y'), 'base64'), E'\n', ''))::galaxy.model$$,
                 'XX001', NULL, 'random bytes are refused as corrupted (XX001)');

SELECT * FROM finish();
ROLLBACK;
