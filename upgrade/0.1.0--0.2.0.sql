-- galaxy upgrade script 0.1.0 → 0.2.0, assembled by the Makefile: this file
-- (the release's own changes), then src/sql/90_roles_grants.sql and
-- src/sql/95_comments.sql run again, so that new objects get the grants,
-- row-level security, view settings and column comments of a fresh install.
\echo Use "ALTER EXTENSION galaxy UPDATE TO '0.2.0'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- How to add a schema change of this release (see CONTRIBUTING.md,
-- "Changing the SQL"):
--
--   * Make the change in src/sql/ (that is the fresh install), then say here
--     what turns a 0.1.0 database into the same thing, in the same order of
--     dependencies as the parts:
--       - a new function, view, table, index, trigger: copy its CREATE
--         statement and COMMENT ON here (grants, row-level security for a
--         table with project_id, security_invoker and column comments come
--         from the parts that run after this file);
--       - a new table registered for pg_dump: its
--         pg_catalog.pg_extension_config_dump() calls too;
--       - a new column: ALTER TABLE ... ADD COLUMN.  An upgrade can only
--         append a column, so src/sql/ adds it with ALTER TABLE ... ADD
--         COLUMN after the table's existing columns too (as 50_jobs.sql and
--         60_registry.sql do), or the two column orders differ;
--       - a changed function: CREATE OR REPLACE FUNCTION (same arguments and
--         result type), or DROP FUNCTION and CREATE for a new signature;
--       - a changed view: CREATE OR REPLACE VIEW when only columns are
--         appended, else DROP VIEW and CREATE VIEW;
--       - a renamed or moved object: ALTER ... RENAME / SET SCHEMA, as below.
--   * Keep every C entry point that an earlier script names (AS
--     'MODULE_PATHNAME', 'galaxy_...'): one galaxy.so serves every version,
--     and a database still at 0.1.0 calls the old names until it updates.
--   * test/t/060_upgrade.pl installs 0.1.0, fills it, runs ALTER EXTENSION
--     galaxy UPDATE and compares every object of the extension with a fresh
--     CREATE EXTENSION galaxy: it fails with a diff naming what differs.
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- galaxy_internal: what only galaxy calls leaves \df galaxy.*.  ALTER ...
-- SET SCHEMA keeps each function's OID, so triggers, policies, views, the
-- type and every grant and comment follow it.
-- ---------------------------------------------------------------------------
CREATE SCHEMA galaxy_internal;
COMMENT ON SCHEMA galaxy_internal IS 'galaxy''s internal functions (triggers, planner rewrite targets, helpers of views and row-level security, type I/O): not for direct calls';

-- the type's I/O (model_send stays: users call it for the binary form)
ALTER FUNCTION galaxy.model_in(cstring) SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.model_out(galaxy.model) SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.model_recv(internal) SET SCHEMA galaxy_internal;

-- trigger and event trigger functions
ALTER FUNCTION galaxy.models_unlink_parent() SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.audit_log_chain() SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.append_only_guard() SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.drop_guard() SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.access_changed() SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.model_immutable() SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.deployment_gate() SET SCHEMA galaxy_internal;

-- the planner's rewrite of whole-row and ARRAY[...] predict, and its targets
ALTER FUNCTION galaxy.predict_support(internal) SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_columns(text, tid, text, text[], "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_columns(bigint, tid, text, text[], "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_proba_columns(text, tid, text, text[], "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_proba_columns(bigint, tid, text, text[], "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_label_columns(text, tid, text, text[], "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_label_columns(bigint, tid, text, text[], "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_values(text, text, "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_values(bigint, text, "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_proba_values(text, text, "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_proba_values(bigint, text, "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_label_values(text, text, "any") SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.predict_label_values(bigint, text, "any") SET SCHEMA galaxy_internal;

-- the rows behind views, and the helpers of row-level security
ALTER FUNCTION galaxy.algorithm_list() SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.algorithm_hyperparameter_list() SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.progress_slots() SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.project_visible(bigint) SET SCHEMA galaxy_internal;
ALTER FUNCTION galaxy.owner_visible(name) SET SCHEMA galaxy_internal;

-- ---------------------------------------------------------------------------
-- Other changes of this release go here (see the list at the top).
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- What follows is src/sql/90_roles_grants.sql, then src/sql/95_comments.sql.
-- ---------------------------------------------------------------------------
