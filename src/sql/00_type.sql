-- galaxy extension script, assembled from src/sql/*.sql by the Makefile.
\echo Use "CREATE EXTENSION galaxy" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Schema galaxy holds what users call (\df galaxy.*); galaxy_internal holds
-- what only galaxy itself calls: trigger functions, the planner's rewrite
-- targets and their support function, the functions behind views and
-- row-level security, the type's I/O.  The extension creates and owns it
-- (an existing schema of that name makes CREATE EXTENSION fail), and DROP
-- EXTENSION removes it.  Grants: 90_roles_grants.sql.
-- ---------------------------------------------------------------------------
CREATE SCHEMA galaxy_internal;
COMMENT ON SCHEMA galaxy_internal IS 'galaxy''s internal functions (triggers, planner rewrite targets, helpers of views and row-level security, type I/O): not for direct calls';

-- ---------------------------------------------------------------------------
-- The galaxy.model type (src/model/model_type.c)
-- ---------------------------------------------------------------------------
CREATE TYPE galaxy.model;

CREATE FUNCTION galaxy_internal.model_in(cstring) RETURNS galaxy.model
    AS 'MODULE_PATHNAME', 'galaxy_model_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy_internal.model_out(galaxy.model) RETURNS cstring
    AS 'MODULE_PATHNAME', 'galaxy_model_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy_internal.model_recv(internal) RETURNS galaxy.model
    AS 'MODULE_PATHNAME', 'galaxy_model_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy.model_send(galaxy.model) RETURNS bytea
    AS 'MODULE_PATHNAME', 'galaxy_model_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE galaxy.model (
    INPUT = galaxy_internal.model_in,
    OUTPUT = galaxy_internal.model_out,
    RECEIVE = galaxy_internal.model_recv,
    SEND = galaxy.model_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = external
);
COMMENT ON TYPE galaxy.model IS 'A trained galaxy model: header, preprocessor and algorithm state; LZ4-compressed above 4 kB';
COMMENT ON FUNCTION galaxy_internal.model_in(cstring) IS 'Text input for galaxy.model ("galaxy:" + base64); validates the whole value';
COMMENT ON FUNCTION galaxy_internal.model_out(galaxy.model) IS 'Text output for galaxy.model ("galaxy:" + base64)';
COMMENT ON FUNCTION galaxy_internal.model_recv(internal) IS 'Binary input for galaxy.model; validates the whole value';
COMMENT ON FUNCTION galaxy.model_send(galaxy.model) IS 'Binary output for galaxy.model';

CREATE FUNCTION galaxy.describe(model galaxy.model) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'galaxy_describe' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.describe(galaxy.model) IS 'Readable summary of a model value: algorithm, task, inputs, labels, hyperparameters, preprocessing, size';
