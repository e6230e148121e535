-- ---------------------------------------------------------------------------
-- Projects (src/registry/projects_api.c): removing one, audited.  A project
-- is created by its first train, submit or import_model.
-- ---------------------------------------------------------------------------
CREATE FUNCTION galaxy.drop_project(project text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_drop_project' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION galaxy.drop_project(text) IS
    'Delete a project with its models, deployments, approvals, grants and job history (needs all on it; refused while one of its jobs is queued or running); the audit log keeps its history; returns the number of models deleted; audited';
