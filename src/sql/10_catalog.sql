-- ---------------------------------------------------------------------------
-- Catalog: galaxy's tables.  Every table is dumped by pg_dump.
-- ---------------------------------------------------------------------------

CREATE TABLE galaxy.projects (
    id               bigserial PRIMARY KEY,
    name             text NOT NULL UNIQUE
                     CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_.-]{0,62}$'),
    task             text CHECK (task IN ('regression', 'classification', 'clustering')),
    owner            name NOT NULL DEFAULT current_user,
    description      text,
    key_metric       text,
    require_approval boolean,          -- NULL: follow galaxy.require_approval
    created_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE galaxy.projects IS 'A named prediction problem; its models are versions of one another';

CREATE TABLE galaxy.datasets (
    id                 bigserial PRIMARY KEY,
    name               text NOT NULL UNIQUE,
    relation           regclass NOT NULL,
    target             text,
    features           text[] NOT NULL,
    description        text,
    row_count          bigint NOT NULL CHECK (row_count >= 0),
    profile            jsonb NOT NULL,
    schema_fingerprint text NOT NULL,
    owner              name NOT NULL DEFAULT current_user,
    created_at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE galaxy.datasets IS 'Registered relations with their column profile (the baseline for drift)';

CREATE TABLE galaxy.jobs (
    id             bigserial PRIMARY KEY,
    project_id     bigint REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    project        text NOT NULL,
    owner          name NOT NULL DEFAULT current_user,
    owner_oid      oid NOT NULL,
    state          text NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    priority       integer NOT NULL DEFAULT 0,
    retries        integer NOT NULL DEFAULT 0 CHECK (retries >= 0),
    attempts       integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    timeout        interval,
    request        jsonb NOT NULL,
    model_id       bigint,
    worker_pid     integer,
    error_message  text,
    error_sqlstate text,
    error_context  text,
    submitted_at   timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    finished_at    timestamptz,
    CHECK (state <> 'succeeded' OR model_id IS NOT NULL),
    CHECK (finished_at IS NULL OR started_at IS NULL OR finished_at >= started_at)
);
CREATE INDEX jobs_queue_idx ON galaxy.jobs (priority DESC, submitted_at, id) WHERE state = 'queued';
CREATE INDEX jobs_state_idx ON galaxy.jobs (state);
COMMENT ON TABLE galaxy.jobs IS 'Background training jobs: the queue and its history';

CREATE TABLE galaxy.job_progress (
    job_id         bigint NOT NULL REFERENCES galaxy.jobs (id) ON DELETE CASCADE,
    iteration      integer NOT NULL CHECK (iteration >= 0),
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    phase          text NOT NULL,
    total          integer,
    rows_processed bigint,
    loss           float8,
    val_loss       float8,
    metric         float8,
    learning_rate  float8,
    PRIMARY KEY (job_id, iteration)
);
COMMENT ON TABLE galaxy.job_progress IS 'Per-iteration history of background training jobs';

CREATE TABLE galaxy.models (
    id                 bigserial PRIMARY KEY,
    project_id         bigint NOT NULL REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    version            text NOT NULL,
    version_major      integer NOT NULL CHECK (version_major >= 1),
    version_minor      integer NOT NULL CHECK (version_minor >= 0),
    version_patch      integer NOT NULL CHECK (version_patch >= 0),
    status             text NOT NULL DEFAULT 'ready'
                       CHECK (status IN ('training', 'ready', 'deployed', 'archived')),
    algorithm          text NOT NULL,
    task               text NOT NULL CHECK (task IN ('regression', 'classification', 'clustering')),
    model              galaxy.model,
    hyperparams        jsonb NOT NULL DEFAULT '{}',
    hyperparams_given  jsonb NOT NULL DEFAULT '{}',
    preprocess         jsonb,
    metrics            jsonb NOT NULL DEFAULT '{}',
    features           text[] NOT NULL,
    feature_types      text[] NOT NULL,
    target             text,
    label_type         text,
    relation           text,
    dataset_id         bigint REFERENCES galaxy.datasets (id) ON DELETE SET NULL,
    training_rows      bigint CHECK (training_rows >= 0),
    test_rows          bigint CHECK (test_rows >= 0),
    schema_fingerprint text NOT NULL,
    data_fingerprint   text,
    seed               integer,
    size_bytes         integer,
    trained_by         name NOT NULL DEFAULT current_user,
    job_id             bigint REFERENCES galaxy.jobs (id) ON DELETE SET NULL,
    parent_id          bigint,          -- no foreign key: see below
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, version),
    CHECK (version = version_major || '.' || version_minor || '.' || version_patch),
    CHECK (status = 'training' OR model IS NOT NULL)
);
CREATE INDEX models_project_idx ON galaxy.models (project_id, created_at DESC);
COMMENT ON TABLE galaxy.models IS 'Every trained model: a semantic version of its project, with metrics and provenance';

-- jobs.model_id deliberately has no foreign key: with models.job_id it would
-- close a cycle that pg_restore cannot load (each table's data needs the
-- other's first).  models.job_id is the provenance link; jobs is history.
COMMENT ON COLUMN galaxy.jobs.model_id IS 'The model a succeeded job registered (history: kept if the model is deleted)';
--
-- models.parent_id (the version a model succeeds, always of the same
-- project) has no foreign key either.  pg_dump dumps an extension's tables
-- as data only, ordered by their foreign keys, and takes a table that
-- references itself for a cycle: every pg_dump warned "there are circular
-- foreign-key constraints on this table: models".  The trigger does what
-- ON DELETE SET NULL did; galaxy's own code is the only writer of the column.
CREATE FUNCTION galaxy_internal.models_unlink_parent() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, galaxy, pg_temp
    AS $$
BEGIN
    UPDATE galaxy.models m SET parent_id = NULL
     WHERE m.parent_id IN (SELECT g.id FROM gone g);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION galaxy_internal.models_unlink_parent() IS 'Trigger: a deleted model''s successors lose their parent_id (what ON DELETE SET NULL would do; models.parent_id has no foreign key so that pg_dump sees no cycle)';
CREATE TRIGGER models_unlink_parent AFTER DELETE ON galaxy.models
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION galaxy_internal.models_unlink_parent();

CREATE TABLE galaxy.deployments (
    id           bigserial PRIMARY KEY,
    project_id   bigint NOT NULL REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    model_id     bigint NOT NULL REFERENCES galaxy.models (id) ON DELETE CASCADE,
    traffic      float8 NOT NULL DEFAULT 1.0 CHECK (traffic > 0 AND traffic <= 1),
    strategy     text NOT NULL DEFAULT 'specific',
    reason       text,
    deployed_at  timestamptz NOT NULL DEFAULT now(),
    deployed_by  name NOT NULL DEFAULT current_user,
    retired_at   timestamptz,
    retired_by   name,
    CHECK (retired_at IS NULL OR retired_at >= deployed_at)
);
CREATE INDEX deployments_active_idx ON galaxy.deployments (project_id) WHERE retired_at IS NULL;
CREATE INDEX deployments_time_idx ON galaxy.deployments (project_id, deployed_at);
COMMENT ON TABLE galaxy.deployments IS 'Temporal record of which model served each project, when, and who decided';

CREATE TABLE galaxy.audit_log (
    id               bigserial PRIMARY KEY,
    at               timestamptz NOT NULL DEFAULT clock_timestamp(),
    session_user_name name NOT NULL DEFAULT session_user,
    current_user_name name NOT NULL DEFAULT current_user,
    client_addr      inet DEFAULT inet_client_addr(),
    application_name text DEFAULT current_setting('application_name', true),
    action           text NOT NULL,
    object_type      text NOT NULL,
    object_id        text,
    details          jsonb NOT NULL DEFAULT '{}',
    txid             xid8 NOT NULL DEFAULT pg_current_xact_id(),
    prev_hash        bytea,
    hash             bytea
);
CREATE INDEX audit_log_object_idx ON galaxy.audit_log (object_type, object_id);
COMMENT ON TABLE galaxy.audit_log IS 'Append-only, hash-chained record of every state-changing galaxy call';

SELECT pg_catalog.pg_extension_config_dump('galaxy.projects', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.projects_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.datasets', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.datasets_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.jobs', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.jobs_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.job_progress', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.models', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.models_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.deployments', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.deployments_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.audit_log_id_seq', '');

-- Catalog tables are written only through galaxy's functions.
REVOKE ALL ON ALL TABLES IN SCHEMA galaxy FROM PUBLIC;
GRANT USAGE ON SCHEMA galaxy TO PUBLIC;
