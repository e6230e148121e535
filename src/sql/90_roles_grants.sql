-- ---------------------------------------------------------------------------
-- Roles, privileges and row-level security (runs last: it looks at every
-- function, table and view the earlier parts created, in schemas galaxy and
-- galaxy_internal).
--
-- This part runs again at the end of every upgrade script (the Makefile
-- appends it, with 95_comments.sql, to upgrade/<from>--<to>.sql), so an
-- upgrade gives new objects the grants, policies and settings a fresh
-- install gives them.  Keep every statement re-runnable: CREATE OR REPLACE,
-- DROP ... IF EXISTS before CREATE, loops that skip what is done.
--
--   galaxy_reader    predict, describe, evaluate; read the catalog and views
--                    (rows of projects the role may read only)
--   galaxy_trainer   + datasets, train, submit, cancel, deploy, rollback,
--                    request deployments, export/import, grant own projects
--   galaxy_approver  + approve/reject deployment requests, verify the audit
--                    chain; sees every project (to review requests)
--   galaxy_admin     everything (member of the three others), every row
--
-- Roles are cluster-wide: they are created here only if absent and survive
-- DROP EXTENSION (a later CREATE EXTENSION in any database reuses them).
-- What a role may do inside a project (owner, project_grants) is checked by
-- galaxy's C functions themselves; row-level security shows the same rows.
-- ---------------------------------------------------------------------------

DO $roles$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['galaxy_reader', 'galaxy_trainer', 'galaxy_approver', 'galaxy_admin']
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$roles$;

COMMENT ON ROLE galaxy_reader IS 'galaxy: predict with and read the projects one may read';
COMMENT ON ROLE galaxy_trainer IS 'galaxy: register datasets, train, submit, deploy own projects';
COMMENT ON ROLE galaxy_approver IS 'galaxy: approve or reject deployment requests of others; verify the audit chain';
COMMENT ON ROLE galaxy_admin IS 'galaxy: everything, every project';

-- memberships: trainer ⊇ reader; approver ⊇ reader; admin ⊇ all three
DO $members$
DECLARE
    m record;
BEGIN
    FOR m IN SELECT * FROM (VALUES ('galaxy_reader', 'galaxy_trainer'),
                                   ('galaxy_reader', 'galaxy_approver'),
                                   ('galaxy_reader', 'galaxy_admin'),
                                   ('galaxy_trainer', 'galaxy_admin'),
                                   ('galaxy_approver', 'galaxy_admin')) v(role, member)
    LOOP
        IF NOT pg_catalog.pg_has_role(m.member, m.role, 'MEMBER') THEN
            EXECUTE pg_catalog.format('GRANT %I TO %I', m.role, m.member);
        END IF;
    END LOOP;
END
$members$;

-- ---------------------------------------------------------------------------
-- Row-level security.  The C functions read the catalog as the extension
-- owner (who bypasses these policies) and check access themselves.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION galaxy_internal.owner_visible(owner name) RETURNS boolean
    AS 'MODULE_PATHNAME', 'galaxy_owner_visible' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION galaxy_internal.owner_visible(name) IS 'Whether the calling role acts for the named owner role (or is a galaxy_admin); used by row-level security';

ALTER TABLE galaxy.projects ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS projects_visible ON galaxy.projects;
CREATE POLICY projects_visible ON galaxy.projects FOR SELECT
    USING (galaxy_internal.project_visible(id));

ALTER TABLE galaxy.datasets ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS datasets_visible ON galaxy.datasets;
CREATE POLICY datasets_visible ON galaxy.datasets FOR SELECT
    USING (galaxy_internal.owner_visible(owner));

ALTER TABLE galaxy.jobs ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS jobs_visible ON galaxy.jobs;
CREATE POLICY jobs_visible ON galaxy.jobs FOR SELECT
    USING (galaxy_internal.owner_visible(owner)
           OR (project_id IS NOT NULL AND galaxy_internal.project_visible(project_id)));

ALTER TABLE galaxy.job_progress ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS job_progress_visible ON galaxy.job_progress;
CREATE POLICY job_progress_visible ON galaxy.job_progress FOR SELECT
    USING (EXISTS (SELECT 1 FROM galaxy.jobs j WHERE j.id = job_id));

-- every other table with a project_id (models, deployments, approvals,
-- project_grants, and those of later parts): rows of visible projects
DO $rls$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.relname
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'project_id' AND NOT a.attisdropped
         WHERE c.relnamespace = 'galaxy'::regnamespace
           AND c.relkind IN ('r', 'p')
           AND NOT c.relrowsecurity
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE galaxy.%I ENABLE ROW LEVEL SECURITY', t.relname);
        EXECUTE pg_catalog.format('CREATE POLICY %I ON galaxy.%I FOR SELECT USING (galaxy_internal.project_visible(project_id))',
                                  t.relname || '_visible', t.relname);
    END LOOP;
END
$rls$;

-- ---------------------------------------------------------------------------
-- Tables: PUBLIC has nothing; readers SELECT the tables that have row-level
-- security; admins SELECT everything (the audit log included).  Nobody but
-- the owner writes: all changes go through galaxy's functions.
-- ---------------------------------------------------------------------------
DO $tables$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.relname, c.relrowsecurity
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace = 'galaxy'::regnamespace
           AND c.relkind IN ('r', 'p')
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON galaxy.%I FROM PUBLIC', t.relname);
        EXECUTE pg_catalog.format('GRANT SELECT ON galaxy.%I TO galaxy_admin', t.relname);
        IF t.relrowsecurity THEN
            EXECUTE pg_catalog.format('GRANT SELECT ON galaxy.%I TO galaxy_reader', t.relname);
        END IF;
    END LOOP;
END
$tables$;

-- Model bytes are not for readers (or approvers, who are readers): every
-- column of galaxy.models but "model".  Reading a model's bytes goes through
-- galaxy.export_model(), which needs the project's export privilege and is
-- audited.
DO $model_bytes$
DECLARE
    cols text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = 'galaxy.models'::regclass AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attname <> 'model';
    REVOKE SELECT ON galaxy.models FROM galaxy_reader;
    EXECUTE pg_catalog.format('GRANT SELECT (%s) ON galaxy.models TO galaxy_reader', cols);
END
$model_bytes$;

-- ---------------------------------------------------------------------------
-- Views run with the privileges of the caller (security_invoker), so the
-- row-level security above applies to BI users too.
-- ---------------------------------------------------------------------------
DO $views$
DECLARE
    v record;
BEGIN
    FOR v IN
        SELECT c.relname
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace = 'galaxy'::regnamespace AND c.relkind = 'v'
    LOOP
        EXECUTE pg_catalog.format('ALTER VIEW galaxy.%I SET (security_invoker = true)', v.relname);
        EXECUTE pg_catalog.format('REVOKE ALL ON galaxy.%I FROM PUBLIC', v.relname);
        EXECUTE pg_catalog.format('GRANT SELECT ON galaxy.%I TO galaxy_reader, galaxy_admin', v.relname);
    END LOOP;
END
$views$;

-- ---------------------------------------------------------------------------
-- Functions: REVOKE EXECUTE from PUBLIC, then grant by role.  PUBLIC keeps
-- the type I/O functions (pg_dump, COPY, casts), describe() and the
-- visibility helpers row-level security calls.  Functions a view uses, and
-- aggregates (their support functions run with the aggregate owner's
-- rights), go to galaxy_reader.  Anything not listed is galaxy_admin's only.
-- The same rules hold in galaxy_internal, whose USAGE only galaxy's roles
-- have: PostgreSQL calls its functions by OID (triggers, policies, views,
-- the type, the planner's rewrite), which needs no USAGE, only EXECUTE.
-- ---------------------------------------------------------------------------
REVOKE ALL ON SCHEMA galaxy_internal FROM PUBLIC;
GRANT USAGE ON SCHEMA galaxy_internal TO galaxy_reader;
REVOKE ALL ON ALL ROUTINES IN SCHEMA galaxy, galaxy_internal FROM PUBLIC;

DO $functions$
DECLARE
    f record;
    public_fns text[] := ARRAY['describe', 'project_visible', 'owner_visible', 'has_project_privilege'];
    reader_fns text[] := ARRAY['predict', 'predict_proba', 'predict_label', 'predict_batch', 'tokenize',
                               'predict_columns', 'predict_proba_columns', 'predict_label_columns',
                               'predict_values', 'predict_proba_values', 'predict_label_values',
                               'deployed_model', 'serving_model', 'evaluate', 'confusion_matrix', 'roc_curve',
                               'feature_importance', 'drift', 'health', 'prometheus', 'prometheus_label', 'prometheus_value',
                               'health_runtime', 'inference_stats_entries', 'algorithms',
                               'metrics_key', 'audit_canonical', 'route_fallbacks',
                               'inference_stats', 'model_metrics', 'series_windows', 'forecast',
                               'model_card', 'moments_ols', 'moments_summary', 'next_run', 'drift_live',
                               'inference_log_rows', 'inference_log_columns', 'flush_inference_log',
                               'stream_sample_key', 'stream_sample_key_array'];
    trainer_fns text[] := ARRAY['create_dataset', 'drop_dataset', 'profile', 'train', 'submit', 'cancel', 'wait',
                                'deploy', 'rollback', 'request_deployment', 'export_model', 'import_model',
                                'grant_project', 'revoke_project',
                                'drop_project', 'delete_model', 'archive_model', 'compress_model', 'compress',
                                'set_gate', 'drop_gate', 'check_gates', 'set_drift_thresholds',
                                'schedule_drift', 'unschedule', 'set_logging', 'acknowledge_alert',
                                'schedule', 'set_alert_rule', 'drop_alert_rule', 'submit_retrain'];
    approver_fns text[] := ARRAY['approve', 'reject', 'verify_audit', 'audit_head'];
    superuser_fns text[] := ARRAY['purge_audit'];
    io_fns oid[];
    view_fns oid[];
BEGIN
    -- type input/output/receive/send/typmod/analyze functions of galaxy's types
    SELECT pg_catalog.array_agg(DISTINCT io.fn::oid) INTO io_fns
      FROM pg_catalog.pg_type t,
           LATERAL (VALUES (t.typinput), (t.typoutput), (t.typreceive), (t.typsend),
                           (t.typmodin), (t.typmodout), (t.typanalyze)) io(fn)
     WHERE t.typnamespace IN ('galaxy'::regnamespace, 'galaxy_internal'::regnamespace) AND io.fn::oid <> 0;

    -- functions used by galaxy's views
    SELECT pg_catalog.array_agg(DISTINCT d.refobjid) INTO view_fns
      FROM pg_catalog.pg_rewrite r
      JOIN pg_catalog.pg_class c ON c.oid = r.ev_class AND c.relnamespace = 'galaxy'::regnamespace
      JOIN pg_catalog.pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                                 AND d.refclassid = 'pg_proc'::regclass
      JOIN pg_catalog.pg_proc p ON p.oid = d.refobjid
                               AND p.pronamespace IN ('galaxy'::regnamespace, 'galaxy_internal'::regnamespace);

    FOR f IN
        SELECT p.oid, p.oid::regprocedure AS sig, p.proname, p.prokind
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace IN ('galaxy'::regnamespace, 'galaxy_internal'::regnamespace)
    LOOP
        IF f.proname = ANY (superuser_fns) THEN
            CONTINUE;           -- superusers only (checked again in C)
        END IF;
        EXECUTE pg_catalog.format('GRANT EXECUTE ON ROUTINE %s TO galaxy_admin', f.sig);
        IF f.oid = ANY (coalesce(io_fns, '{}')) OR f.proname = ANY (public_fns) THEN
            EXECUTE pg_catalog.format('GRANT EXECUTE ON ROUTINE %s TO PUBLIC', f.sig);
        ELSIF f.proname = ANY (reader_fns) OR f.oid = ANY (coalesce(view_fns, '{}')) OR f.prokind = 'a' THEN
            EXECUTE pg_catalog.format('GRANT EXECUTE ON ROUTINE %s TO galaxy_reader', f.sig);
        ELSIF f.proname = ANY (trainer_fns) THEN
            EXECUTE pg_catalog.format('GRANT EXECUTE ON ROUTINE %s TO galaxy_trainer', f.sig);
        ELSIF f.proname = ANY (approver_fns) THEN
            EXECUTE pg_catalog.format('GRANT EXECUTE ON ROUTINE %s TO galaxy_approver', f.sig);
        END IF;
    END LOOP;
END
$functions$;

-- ---------------------------------------------------------------------------
-- Every SECURITY DEFINER function pins its search_path, whoever wrote it.
-- ---------------------------------------------------------------------------
DO $secdef$
DECLARE
    f record;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure AS sig
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace IN ('galaxy'::regnamespace, 'galaxy_internal'::regnamespace)
           AND p.prosecdef
           AND NOT coalesce('search_path=pg_catalog, galaxy, pg_temp' = ANY (p.proconfig), false)
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, galaxy, pg_temp', f.sig);
    END LOOP;
END
$secdef$;
