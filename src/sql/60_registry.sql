-- ---------------------------------------------------------------------------
-- Registry governance (src/registry/audit.c, chain.c, access.c, approvals.c, versions.c):
-- the audit hash chain, project grants, approvals, model immutability.
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- Audit chain.  Ids are assigned by the chain trigger under the chain lock,
-- so id order is chain order.
-- ---------------------------------------------------------------------------
ALTER TABLE galaxy.audit_log ALTER COLUMN id DROP DEFAULT;

CREATE TABLE galaxy.audit_purges (
    id           bigserial PRIMARY KEY,
    purged_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    purged_by    name NOT NULL,
    before       timestamptz NOT NULL,
    deleted_rows bigint NOT NULL CHECK (deleted_rows >= 0),
    anchor_id    bigint NOT NULL,
    anchor_hash  bytea NOT NULL CHECK (length(anchor_hash) = 32)
);
COMMENT ON TABLE galaxy.audit_purges IS 'Append-only record of galaxy.purge_audit() runs; the newest anchor_hash is the hash the oldest remaining audit row chains to';
SELECT pg_catalog.pg_extension_config_dump('galaxy.audit_purges', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.audit_purges_id_seq', '');

CREATE FUNCTION galaxy_internal.audit_log_chain() RETURNS trigger
    AS 'MODULE_PATHNAME', 'galaxy_audit_log_chain' LANGUAGE C;
COMMENT ON FUNCTION galaxy_internal.audit_log_chain() IS 'Trigger: assigns id, time, session identity and txid of a new audit row and links it into the SHA-256 chain';

CREATE FUNCTION galaxy_internal.append_only_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'galaxy_append_only_guard' LANGUAGE C;
COMMENT ON FUNCTION galaxy_internal.append_only_guard() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE on append-only tables, for every role (galaxy.purge_audit() excepted)';

CREATE TRIGGER audit_log_chain BEFORE INSERT ON galaxy.audit_log
    FOR EACH ROW EXECUTE FUNCTION galaxy_internal.audit_log_chain();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON galaxy.audit_log
    FOR EACH ROW EXECUTE FUNCTION galaxy_internal.append_only_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON galaxy.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION galaxy_internal.append_only_guard();
CREATE TRIGGER audit_purges_append_only BEFORE UPDATE OR DELETE ON galaxy.audit_purges
    FOR EACH ROW EXECUTE FUNCTION galaxy_internal.append_only_guard();
CREATE TRIGGER audit_purges_no_truncate BEFORE TRUNCATE ON galaxy.audit_purges
    FOR EACH STATEMENT EXECUTE FUNCTION galaxy_internal.append_only_guard();

CREATE FUNCTION galaxy_internal.drop_guard() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'galaxy_drop_guard' LANGUAGE C;
COMMENT ON FUNCTION galaxy_internal.drop_guard() IS 'Event trigger: refuses DROP EXTENSION galaxy (or DROP SCHEMA galaxy) while galaxy holds models or audit rows, unless galaxy.allow_drop_with_data is on';
CREATE EVENT TRIGGER galaxy_drop_guard ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA')
    EXECUTE FUNCTION galaxy_internal.drop_guard();

CREATE FUNCTION galaxy.verify_audit(
    OUT ok boolean, OUT checked bigint, OUT first_broken_id bigint, OUT detail text)
    AS 'MODULE_PATHNAME', 'galaxy_verify_audit' LANGUAGE C STABLE;
COMMENT ON FUNCTION galaxy.verify_audit() IS 'Recompute the audit hash chain; ok = false names the first row whose link or content does not hold';

CREATE FUNCTION galaxy.audit_canonical(entry galaxy.audit_log) RETURNS bytea
    AS 'MODULE_PATHNAME', 'galaxy_audit_canonical' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION galaxy.audit_canonical(galaxy.audit_log) IS 'Canonical bytes of an audit row: hash = sha256(prev_hash || galaxy.audit_canonical(row))';

CREATE FUNCTION galaxy.audit_head(OUT id bigint, OUT hash bytea)
    AS 'MODULE_PATHNAME', 'galaxy_audit_head' LANGUAGE C STABLE;
COMMENT ON FUNCTION galaxy.audit_head() IS 'Id and hash of the newest audit row: record it outside the database to detect a rewritten or truncated chain later';

CREATE FUNCTION galaxy.purge_audit(before timestamptz) RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_purge_audit' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION galaxy.purge_audit(timestamptz) IS 'Superuser retention: delete audit rows older than "before", keeping the chain verifiable through an anchor in galaxy.audit_purges; audited';

-- ---------------------------------------------------------------------------
-- Project privileges.  A project's owner (and members of the owning role)
-- and galaxy_admin hold everything; others need a grant.  Levels, weakest
-- first: read (see, predict) < train (train, submit, cancel, export,
-- import) < deploy (deploy, rollback, request_deployment) < all (grant).
-- ---------------------------------------------------------------------------
CREATE TABLE galaxy.project_grants (
    project_id bigint NOT NULL REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    grantee    name NOT NULL,      -- a role name, or 'public'
    privilege  text NOT NULL CHECK (privilege IN ('read', 'train', 'deploy', 'all')),
    granted_by name NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, grantee)
);
COMMENT ON TABLE galaxy.project_grants IS 'Who besides the owner may read, train, deploy or manage a project';
SELECT pg_catalog.pg_extension_config_dump('galaxy.project_grants', '');

CREATE FUNCTION galaxy_internal.access_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'galaxy_access_changed' LANGUAGE C;
COMMENT ON FUNCTION galaxy_internal.access_changed() IS 'Trigger: projects or grants changed; every backend forgets its cached project access decisions';
CREATE TRIGGER project_grants_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON galaxy.project_grants
    FOR EACH STATEMENT EXECUTE FUNCTION galaxy_internal.access_changed();
CREATE TRIGGER projects_changed AFTER UPDATE OR DELETE OR TRUNCATE ON galaxy.projects
    FOR EACH STATEMENT EXECUTE FUNCTION galaxy_internal.access_changed();

CREATE FUNCTION galaxy.grant_project(project text, role text, privilege text DEFAULT 'read')
    RETURNS void
    AS 'MODULE_PATHNAME', 'galaxy_grant_project' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.grant_project(text, text, text) IS 'Give a role (or PUBLIC) read, train, deploy or all on a project; needs "all" on it; audited';

CREATE FUNCTION galaxy.revoke_project(project text, role text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'galaxy_revoke_project' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION galaxy.revoke_project(text, text) IS 'Remove a role''s grant on a project (true if there was one); needs "all" on it; audited';

CREATE FUNCTION galaxy_internal.project_visible(project_id bigint) RETURNS boolean
    AS 'MODULE_PATHNAME', 'galaxy_project_visible' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION galaxy_internal.project_visible(bigint) IS 'Whether the calling role may see a project''s rows (owner, grantee, galaxy_approver, galaxy_admin); used by row-level security';

CREATE FUNCTION galaxy.has_project_privilege(project text, privilege text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'galaxy_has_project_privilege' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION galaxy.has_project_privilege(text, text) IS 'Whether the calling role holds read, train, deploy or all on a project';

-- ---------------------------------------------------------------------------
-- Approvals (four eyes).
-- ---------------------------------------------------------------------------
CREATE TABLE galaxy.approvals (
    id                     bigserial PRIMARY KEY,
    project_id             bigint NOT NULL REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    model_id               bigint NOT NULL REFERENCES galaxy.models (id) ON DELETE CASCADE,
    requested_by           name NOT NULL,
    requested_session_user name NOT NULL,
    requested_at           timestamptz NOT NULL DEFAULT now(),
    note                   text,
    state                  text NOT NULL DEFAULT 'pending'
                           CHECK (state IN ('pending', 'approved', 'rejected', 'expired', 'used')),
    decided_by             name,
    decided_at             timestamptz,
    decision_note          text,
    expires_at             timestamptz NOT NULL,
    used_at                timestamptz,
    used_by                name,
    deployment_id          bigint REFERENCES galaxy.deployments (id) ON DELETE SET NULL,
    CHECK (state IN ('pending', 'expired') OR decided_by IS NOT NULL),
    CHECK (decided_by IS NULL OR decided_by <> requested_by)
);
CREATE INDEX approvals_model_idx ON galaxy.approvals (model_id, state);
COMMENT ON TABLE galaxy.approvals IS 'Deployment requests and their four-eyes decisions';
SELECT pg_catalog.pg_extension_config_dump('galaxy.approvals', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.approvals_id_seq', '');

CREATE FUNCTION galaxy.request_deployment(model bigint, note text DEFAULT NULL) RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_request_deployment' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.request_deployment(bigint, text) IS 'Ask for approval to deploy a model (needs deploy on its project); returns the request id; audited';

CREATE FUNCTION galaxy.approve(request bigint, note text DEFAULT NULL) RETURNS galaxy.approvals
    AS 'MODULE_PATHNAME', 'galaxy_approve' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.approve(bigint, text) IS 'Approve a pending deployment request; the caller must be a galaxy_approver other than the requester; audited';

CREATE FUNCTION galaxy.reject(request bigint, note text DEFAULT NULL) RETURNS galaxy.approvals
    AS 'MODULE_PATHNAME', 'galaxy_reject' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.reject(bigint, text) IS 'Reject a pending deployment request; the caller must be a galaxy_approver other than the requester; audited';

CREATE FUNCTION galaxy.set_require_approval(project text, required boolean DEFAULT true) RETURNS void
    AS 'MODULE_PATHNAME', 'galaxy_set_require_approval' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.set_require_approval(text, boolean) IS 'galaxy_admin only: make a project require (true), not require (false) or follow galaxy.require_approval (NULL); audited';

CREATE VIEW galaxy.approval_requests AS
SELECT a.id, p.name AS project, a.model_id AS model, m.version,
       CASE WHEN a.state IN ('pending', 'approved') AND a.expires_at <= now()
            THEN 'expired' ELSE a.state END AS state,
       a.requested_by, a.requested_at, a.note,
       a.decided_by, a.decided_at, a.decision_note, a.expires_at,
       a.used_by, a.used_at, a.deployment_id
FROM galaxy.approvals a
JOIN galaxy.projects p ON p.id = a.project_id
JOIN galaxy.models m ON m.id = a.model_id;
COMMENT ON VIEW galaxy.approval_requests IS 'Deployment requests with their effective state (expired once past expires_at)';

-- ---------------------------------------------------------------------------
-- Model immutability: after 'training' only status changes, along
-- ready → deployed → archived (deployed → ready on retire, archived →
-- deployed on rollback).
-- ---------------------------------------------------------------------------
ALTER TABLE galaxy.models ADD COLUMN imported_from jsonb;
COMMENT ON COLUMN galaxy.models.imported_from IS 'For galaxy.import_model(): the exporting database''s project, model, version and trainer, and the export''s SHA-256';

CREATE FUNCTION galaxy_internal.model_immutable() RETURNS trigger
    AS 'MODULE_PATHNAME', 'galaxy_model_immutable' LANGUAGE C;
COMMENT ON FUNCTION galaxy_internal.model_immutable() IS 'Trigger: a trained model row never changes except its status';

CREATE TRIGGER models_immutable BEFORE UPDATE ON galaxy.models
    FOR EACH ROW EXECUTE FUNCTION galaxy_internal.model_immutable();

-- ---------------------------------------------------------------------------
-- Deployments (src/registry/deployments_api.c on the primitive in deploy.c).
-- ---------------------------------------------------------------------------
CREATE FUNCTION galaxy_internal.deployment_gate() RETURNS trigger
    AS 'MODULE_PATHNAME', 'galaxy_deployment_gate' LANGUAGE C;
COMMENT ON FUNCTION galaxy_internal.deployment_gate() IS 'Trigger: when approval is required, only deployments cleared by galaxy.deploy() with an approved request, or galaxy.rollback(), are recorded';

CREATE TRIGGER deployments_gate BEFORE INSERT ON galaxy.deployments
    FOR EACH ROW EXECUTE FUNCTION galaxy_internal.deployment_gate();

CREATE FUNCTION galaxy.deploy(project text, model bigint, traffic float8 DEFAULT 1.0, reason text DEFAULT NULL)
    RETURNS galaxy.deployments
    AS 'MODULE_PATHNAME', 'galaxy_deploy_model' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.deploy(text, bigint, float8, text) IS 'Deploy a specific model: traffic 1.0 makes it the primary, less adds it as a canary; needs deploy on the project and, when required, an approved request; audited';

CREATE FUNCTION galaxy.deploy(project text, strategy text, reason text DEFAULT NULL)
    RETURNS galaxy.deployments
    AS 'MODULE_PATHNAME', 'galaxy_deploy_strategy' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.deploy(text, text, text) IS 'Deploy by strategy: best (key metric), latest, rollback (the previous primary); audited';

CREATE FUNCTION galaxy.rollback(project text, reason text DEFAULT NULL)
    RETURNS galaxy.deployments
    AS 'MODULE_PATHNAME', 'galaxy_rollback' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.rollback(text, text) IS 'Make the previous primary model primary again (needs no new approval: it was in production before); audited';

CREATE FUNCTION galaxy.deployed_model(project text, at timestamptz DEFAULT clock_timestamp()) RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_deployed_model' LANGUAGE C STABLE;
COMMENT ON FUNCTION galaxy.deployed_model(text, timestamptz) IS 'The primary model that served the project at a point in time (NULL if none)';

CREATE VIEW galaxy.deployed_models AS
SELECT p.name AS project, d.project_id, d.model_id AS model, m.version, m.algorithm, m.task,
       d.traffic, d.traffic >= 1.0 AS is_primary, d.strategy, d.reason,
       d.deployed_at, d.deployed_by, m.trained_by, m.created_at AS trained_at, d.id AS deployment_id
FROM galaxy.deployments d
JOIN galaxy.models m ON m.id = d.model_id
JOIN galaxy.projects p ON p.id = d.project_id
WHERE d.retired_at IS NULL;
COMMENT ON VIEW galaxy.deployed_models IS 'Models serving now: one primary per project and its canaries';

CREATE VIEW galaxy.inference_routes AS
SELECT p.name AS project, d.model_id AS model, m.version,
       CASE WHEN d.traffic >= 1.0 THEN 'primary' ELSE 'canary' END AS route,
       CASE WHEN d.traffic >= 1.0
            THEN 1.0 - coalesce((SELECT sum(c.traffic) FROM galaxy.deployments c
                                  WHERE c.project_id = d.project_id AND c.retired_at IS NULL
                                    AND c.traffic < 1.0), 0)
            ELSE d.traffic END AS traffic_share
FROM galaxy.deployments d
JOIN galaxy.models m ON m.id = d.model_id
JOIN galaxy.projects p ON p.id = d.project_id
WHERE d.retired_at IS NULL;
COMMENT ON VIEW galaxy.inference_routes IS 'How galaxy.predict splits a project''s traffic: the primary takes what its canaries leave';

-- ---------------------------------------------------------------------------
-- Export / import (src/registry/export.c).
-- ---------------------------------------------------------------------------
CREATE FUNCTION galaxy.export_model(model bigint) RETURNS bytea
    AS 'MODULE_PATHNAME', 'galaxy_export_model' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION galaxy.export_model(bigint) IS 'A self-checking copy of a model: format version, metadata to re-register it, the model value, SHA-256; needs train on its project; audited';

CREATE FUNCTION galaxy.import_model(project text, data bytea) RETURNS galaxy.models
    AS 'MODULE_PATHNAME', 'galaxy_import_model' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.import_model(text, bytea) IS 'Validate an export (checksum, model value, metadata) and register it as a new version of the project; audited';
