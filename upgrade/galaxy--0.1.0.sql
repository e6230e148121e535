-- galaxy extension script, assembled from src/sql/*.sql by the Makefile.
\echo Use "CREATE EXTENSION galaxy" to load this file. \quit

-- ---------------------------------------------------------------------------
-- The galaxy.model type (src/model/model_type.c)
-- ---------------------------------------------------------------------------
CREATE TYPE galaxy.model;

CREATE FUNCTION galaxy.model_in(cstring) RETURNS galaxy.model
    AS 'MODULE_PATHNAME', 'galaxy_model_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy.model_out(galaxy.model) RETURNS cstring
    AS 'MODULE_PATHNAME', 'galaxy_model_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy.model_recv(internal) RETURNS galaxy.model
    AS 'MODULE_PATHNAME', 'galaxy_model_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy.model_send(galaxy.model) RETURNS bytea
    AS 'MODULE_PATHNAME', 'galaxy_model_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE galaxy.model (
    INPUT = galaxy.model_in,
    OUTPUT = galaxy.model_out,
    RECEIVE = galaxy.model_recv,
    SEND = galaxy.model_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = external
);
COMMENT ON TYPE galaxy.model IS 'A trained galaxy model: header, preprocessor and algorithm state; LZ4-compressed above 4 kB';
COMMENT ON FUNCTION galaxy.model_in(cstring) IS 'Text input for galaxy.model ("galaxy:" + base64); validates the whole value';
COMMENT ON FUNCTION galaxy.model_out(galaxy.model) IS 'Text output for galaxy.model ("galaxy:" + base64)';
COMMENT ON FUNCTION galaxy.model_recv(internal) IS 'Binary input for galaxy.model; validates the whole value';
COMMENT ON FUNCTION galaxy.model_send(galaxy.model) IS 'Binary output for galaxy.model';

CREATE FUNCTION galaxy.describe(model galaxy.model) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'galaxy_describe' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.describe(galaxy.model) IS 'Readable summary of a model value: algorithm, task, inputs, labels, hyperparameters, preprocessing, size';
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
CREATE FUNCTION galaxy.models_unlink_parent() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, galaxy, pg_temp
    AS $$
BEGIN
    UPDATE galaxy.models m SET parent_id = NULL
     WHERE m.parent_id IN (SELECT g.id FROM gone g);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION galaxy.models_unlink_parent() IS 'Trigger: a deleted model''s successors lose their parent_id (what ON DELETE SET NULL would do; models.parent_id has no foreign key so that pg_dump sees no cycle)';
CREATE TRIGGER models_unlink_parent AFTER DELETE ON galaxy.models
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION galaxy.models_unlink_parent();

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
-- ---------------------------------------------------------------------------
-- Datasets and column profiles (src/api/dataset_api.c, src/data/profile.c).
-- Both read the relation as the calling role: privileges and row-level
-- security apply.  create_dataset writes its catalog row as the extension
-- owner and audits it.
-- ---------------------------------------------------------------------------

CREATE FUNCTION galaxy.create_dataset(
    name        text,
    relation    regclass,
    target      text DEFAULT NULL,
    features    text[] DEFAULT NULL,
    description text DEFAULT NULL)
    RETURNS galaxy.datasets
    AS 'MODULE_PATHNAME', 'galaxy_create_dataset' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.create_dataset(text, regclass, text, text[], text) IS
'Register a relation as a dataset: checks that the caller may read it, that the target and features exist and have supported types, profiles every column (the drift baseline) and stores it with a schema fingerprint; audited';

CREATE FUNCTION galaxy.profile(relation regclass)
    RETURNS TABLE (
        column_name      text,
        data_type        text,
        kind             text,
        count            bigint,
        nulls            bigint,
        n_distinct       bigint,
        min              double precision,
        max              double precision,
        mean             double precision,
        stddev           double precision,
        quantiles        double precision[],
        histogram_edges  double precision[],
        histogram_counts bigint[],
        top_values       jsonb)
    AS 'MODULE_PATHNAME', 'galaxy_profile' LANGUAGE C STABLE;
COMMENT ON FUNCTION galaxy.profile(regclass) IS
'Column profile of a relation, one row per column: counts, NULLs, distinct values, min/max/mean/stddev, quantiles p5/p25/p50/p75/p95 and a 10-bin equal-frequency histogram for numbers, top values for the rest';

CREATE FUNCTION galaxy.drop_dataset(name text) RETURNS void
    AS 'MODULE_PATHNAME', 'galaxy_drop_dataset' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.drop_dataset(text) IS
'Remove a registered dataset (its owner or a galaxy_admin); refused while models trained on it exist, since a model keeps its dataset as provenance; audited';
-- ---------------------------------------------------------------------------
-- Training (src/api/train.c) and the algorithm registry (src/api/algorithms_api.c)
-- ---------------------------------------------------------------------------

CREATE FUNCTION galaxy.train(
    project      text,
    relation     regclass DEFAULT NULL,
    target       text     DEFAULT NULL,
    algorithm    text     DEFAULT 'auto',
    hyperparams  jsonb    DEFAULT '{}',
    test_size    float8   DEFAULT 0.2,
    search       text     DEFAULT NULL,
    search_space jsonb    DEFAULT NULL,
    folds        integer  DEFAULT NULL,
    deploy       text     DEFAULT 'if_better',
    seed         integer  DEFAULT 42,
    features     text[]   DEFAULT NULL,
    preprocess   jsonb    DEFAULT NULL,
    task         text     DEFAULT NULL,
    dataset      text     DEFAULT NULL
) RETURNS galaxy.models
    AS 'MODULE_PATHNAME', 'galaxy_train' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION galaxy.train(text, regclass, text, text, jsonb, float8, text, jsonb, integer, text, integer, text[], jsonb, text, text) IS
    'Train a model synchronously: load the relation (as the caller), preprocess, fit, evaluate on a held-out split, register a new version and deploy per policy (if_better, always, never)';

CREATE FUNCTION galaxy.algorithm_list(
    OUT name text, OUT tasks text[], OUT description text, OUT default_scaling boolean, OUT n_hyperparameters integer)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'galaxy_algorithm_list' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.algorithm_list() IS 'The algorithms galaxy can train (rows behind galaxy.algorithms)';

CREATE FUNCTION galaxy.algorithm_hyperparameter_list(
    OUT algorithm text, OUT name text, OUT type text, OUT default_value text,
    OUT min_value float8, OUT max_value float8, OUT min_exclusive boolean,
    OUT choices text, OUT description text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'galaxy_algorithm_hyperparameter_list' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.algorithm_hyperparameter_list() IS 'Every hyperparameter of every algorithm (rows behind galaxy.algorithm_hyperparameters)';

CREATE VIEW galaxy.algorithm_hyperparameters AS
    SELECT * FROM galaxy.algorithm_hyperparameter_list();
COMMENT ON VIEW galaxy.algorithm_hyperparameters IS 'One row per algorithm and hyperparameter: type, default, range, choices, meaning';

CREATE VIEW galaxy.algorithms AS
    SELECT a.name, a.tasks, a.description, a.default_scaling,
           coalesce((SELECT jsonb_object_agg(h.name, jsonb_build_object(
                        'type', h.type, 'default', h.default_value, 'min', h.min_value,
                        'max', h.max_value, 'min_exclusive', h.min_exclusive,
                        'choices', h.choices, 'description', h.description))
                     FROM galaxy.algorithm_hyperparameters h WHERE h.algorithm = a.name),
                    '{}'::jsonb) AS hyperparameters
    FROM galaxy.algorithm_list() a;
COMMENT ON VIEW galaxy.algorithms IS 'Algorithms with their tasks and hyperparameters (defaults and ranges)';
-- ---------------------------------------------------------------------------
-- Text features (src/text): the tokenizer every text feature column uses
-- ---------------------------------------------------------------------------

CREATE FUNCTION galaxy.tokenize(document text, config regconfig DEFAULT 'english') RETURNS text[]
    AS 'MODULE_PATHNAME', 'galaxy_tokenize' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.tokenize(text, regconfig) IS
    'The lexemes of a text, in order, as galaxy''s text features see them: the parser and dictionaries of a text search configuration (the lexemes to_tsvector indexes)';
-- ---------------------------------------------------------------------------
-- Inference and evaluation (src/api/predict.c, src/eval/evaluate.c)
-- ---------------------------------------------------------------------------

-- Whole-row predict on a plain table is rewritten at plan time into the
-- *_columns form, and predict on an ARRAY[...] of numbers into the *_values
-- form (src/api/predict_support.c): the columns or values arrive as arguments
-- instead of a composite or an array built for every row.  These functions
-- are what EXPLAIN shows; they can be called directly, but the whole-row and
-- array forms are the interface.
CREATE FUNCTION galaxy.predict_support(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'galaxy_predict_support' LANGUAGE C STRICT;
COMMENT ON FUNCTION galaxy.predict_support(internal) IS
    'Planner support of whole-row predict: rewrites galaxy.predict*(target, t) for a table t into the *_columns form';

CREATE FUNCTION galaxy.predict_columns(project text, row_id tid, key text, names text[], VARIADIC "columns" "any") RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_columns(model bigint, row_id tid, key text, names text[], VARIADIC "columns" "any") RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.predict_columns(text, tid, text, text[], "any") IS
    'What galaxy.predict(project, t) becomes for a table t: the row''s columns by name (NULL row_id: NULL result)';
COMMENT ON FUNCTION galaxy.predict_columns(bigint, tid, text, text[], "any") IS
    'What galaxy.predict(model, t) becomes for a table t: the row''s columns by name (NULL row_id: NULL result)';

CREATE FUNCTION galaxy.predict_proba_columns(project text, row_id tid, key text, names text[], VARIADIC "columns" "any") RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_proba_columns(model bigint, row_id tid, key text, names text[], VARIADIC "columns" "any") RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.predict_proba_columns(text, tid, text, text[], "any") IS
    'What galaxy.predict_proba(project, t) becomes for a table t: the row''s columns by name (NULL row_id: NULL result)';
COMMENT ON FUNCTION galaxy.predict_proba_columns(bigint, tid, text, text[], "any") IS
    'What galaxy.predict_proba(model, t) becomes for a table t: the row''s columns by name (NULL row_id: NULL result)';

CREATE FUNCTION galaxy.predict_label_columns(project text, row_id tid, key text, names text[], VARIADIC "columns" "any") RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_label_columns(model bigint, row_id tid, key text, names text[], VARIADIC "columns" "any") RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.predict_label_columns(text, tid, text, text[], "any") IS
    'What galaxy.predict_label(project, t) becomes for a table t: the row''s columns by name (NULL row_id: NULL result)';
COMMENT ON FUNCTION galaxy.predict_label_columns(bigint, tid, text, text[], "any") IS
    'What galaxy.predict_label(model, t) becomes for a table t: the row''s columns by name (NULL row_id: NULL result)';

CREATE FUNCTION galaxy.predict_values(project text, key text, VARIADIC "values" "any") RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_values(model bigint, key text, VARIADIC "values" "any") RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.predict_values(text, text, "any") IS
    'What galaxy.predict(project, ARRAY[x1, ...]) becomes: the features as arguments, in order';
COMMENT ON FUNCTION galaxy.predict_values(bigint, text, "any") IS
    'What galaxy.predict(model, ARRAY[x1, ...]) becomes: the features as arguments, in order';

CREATE FUNCTION galaxy.predict_proba_values(project text, key text, VARIADIC "values" "any") RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_proba_values(model bigint, key text, VARIADIC "values" "any") RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.predict_proba_values(text, text, "any") IS
    'What galaxy.predict_proba(project, ARRAY[x1, ...]) becomes: the features as arguments, in order';
COMMENT ON FUNCTION galaxy.predict_proba_values(bigint, text, "any") IS
    'What galaxy.predict_proba(model, ARRAY[x1, ...]) becomes: the features as arguments, in order';

CREATE FUNCTION galaxy.predict_label_values(project text, key text, VARIADIC "values" "any") RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_label_values(model bigint, key text, VARIADIC "values" "any") RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.predict_label_values(text, text, "any") IS
    'What galaxy.predict_label(project, ARRAY[x1, ...]) becomes: the features as arguments, in order';
COMMENT ON FUNCTION galaxy.predict_label_values(bigint, text, "any") IS
    'What galaxy.predict_label(model, ARRAY[x1, ...]) becomes: the features as arguments, in order';

-- By project: STABLE, because the deployed model can change between statements.
CREATE FUNCTION galaxy.predict(project text, features float8[], key text DEFAULT NULL) RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy.predict_support;
CREATE FUNCTION galaxy.predict(project text, "row" record, key text DEFAULT NULL) RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy.predict_support;
CREATE FUNCTION galaxy.predict(model bigint, features float8[]) RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy.predict_support;
CREATE FUNCTION galaxy.predict(model bigint, "row" record) RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy.predict_support;
COMMENT ON FUNCTION galaxy.predict(text, float8[], text) IS
    'Predict with the project''s deployed model (routed by key among canaries): value for regression, label (numeric labels) or class index for classification, cluster for clustering';
COMMENT ON FUNCTION galaxy.predict(text, record, text) IS
    'Predict from a whole row with the project''s deployed model; columns are matched to the model''s inputs by name';
COMMENT ON FUNCTION galaxy.predict(bigint, float8[]) IS 'Predict with a specific model';
COMMENT ON FUNCTION galaxy.predict(bigint, record) IS 'Predict from a whole row with a specific model';

CREATE FUNCTION galaxy.predict_proba(project text, features float8[], key text DEFAULT NULL) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy.predict_support;
CREATE FUNCTION galaxy.predict_proba(project text, "row" record, key text DEFAULT NULL) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy.predict_support;
CREATE FUNCTION galaxy.predict_proba(model bigint, features float8[]) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy.predict_support;
CREATE FUNCTION galaxy.predict_proba(model bigint, "row" record) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy.predict_support;
COMMENT ON FUNCTION galaxy.predict_proba(text, float8[], text) IS 'Class probabilities (in the order of the model''s labels) from the project''s deployed model';
COMMENT ON FUNCTION galaxy.predict_proba(text, record, text) IS 'Class probabilities for a whole row from the project''s deployed model';
COMMENT ON FUNCTION galaxy.predict_proba(bigint, float8[]) IS 'Class probabilities from a specific model';
COMMENT ON FUNCTION galaxy.predict_proba(bigint, record) IS 'Class probabilities for a whole row from a specific model';

CREATE FUNCTION galaxy.predict_label(project text, features float8[], key text DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy.predict_support;
CREATE FUNCTION galaxy.predict_label(project text, "row" record, key text DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy.predict_support;
CREATE FUNCTION galaxy.predict_label(model bigint, features float8[]) RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy.predict_support;
CREATE FUNCTION galaxy.predict_label(model bigint, "row" record) RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy.predict_support;
COMMENT ON FUNCTION galaxy.predict_label(text, float8[], text) IS 'The predicted label as text (the target column''s own values) from the project''s deployed model';
COMMENT ON FUNCTION galaxy.predict_label(text, record, text) IS 'The predicted label for a whole row from the project''s deployed model';
COMMENT ON FUNCTION galaxy.predict_label(bigint, float8[]) IS 'The predicted label from a specific model';
COMMENT ON FUNCTION galaxy.predict_label(bigint, record) IS 'The predicted label for a whole row from a specific model';

-- On a text: the document, for a model whose only input is a text column (text
-- features); for any other model the text is JSON features (the ORM form, 80_orm.sql).
CREATE FUNCTION galaxy.predict(project text, document text, key text DEFAULT NULL) RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict_text' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy.predict(model bigint, document text) RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict_text' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_proba(project text, document text, key text DEFAULT NULL) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba_text' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_proba(model bigint, document text) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba_text' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_label(project text, document text, key text DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label_text' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_label(model bigint, document text) RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label_text' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.predict(text, text, text) IS 'Predict with the project''s deployed model on a text (a model whose only input is a text column) or on JSON features given as text';
COMMENT ON FUNCTION galaxy.predict(bigint, text) IS 'Predict with a specific model on a text (its only input is a text column) or on JSON features given as text';
COMMENT ON FUNCTION galaxy.predict_proba(text, text, text) IS 'Class probabilities from the project''s deployed model for a text (its only input is text) or JSON features given as text';
COMMENT ON FUNCTION galaxy.predict_proba(bigint, text) IS 'Class probabilities from a specific model for a text (its only input is text) or JSON features given as text';
COMMENT ON FUNCTION galaxy.predict_label(text, text, text) IS 'The predicted label from the project''s deployed model for a text (its only input is text) or JSON features given as text';
COMMENT ON FUNCTION galaxy.predict_label(bigint, text) IS 'The predicted label from a specific model for a text (its only input is text) or JSON features given as text';

CREATE FUNCTION galaxy.route_fallbacks() RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_route_fallbacks' LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.route_fallbacks() IS 'Predictions in this session that fell back to the primary because a canary model could not be loaded';

CREATE FUNCTION galaxy.evaluate(model bigint, relation regclass) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'galaxy_evaluate_model' LANGUAGE C STABLE STRICT PARALLEL UNSAFE;
CREATE FUNCTION galaxy.evaluate(project text, relation regclass) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'galaxy_evaluate_project' LANGUAGE C STABLE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION galaxy.evaluate(bigint, regclass) IS 'Metrics of a model on the rows of a relation that has its input and target columns';
COMMENT ON FUNCTION galaxy.evaluate(text, regclass) IS 'Metrics of the project''s deployed model on the rows of a relation';

CREATE FUNCTION galaxy.feature_importance(model bigint, OUT feature text, OUT importance float8) RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'galaxy_feature_importance' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.feature_importance(bigint) IS 'Importance of each model feature (after preprocessing): |coefficient| for linear models, gain for trees';

-- ---------------------------------------------------------------------------
-- Time series: windows for sequence models, and forecasting with one
-- ---------------------------------------------------------------------------
CREATE FUNCTION galaxy.series_windows(relation regclass, time_column name, value_column name,
                                      window_size integer, horizon integer DEFAULT 1)
    RETURNS TABLE ("position" bigint, history float8[], target float8)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF relation IS NULL OR time_column IS NULL OR value_column IS NULL THEN
        RAISE EXCEPTION 'relation, time_column and value_column must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF window_size IS NULL OR window_size < 1 OR window_size > 100000 THEN
        RAISE EXCEPTION 'window_size must be from 1 to 100000, not %', coalesce(window_size::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF horizon IS NULL OR horizon < 1 OR horizon > 100000 THEN
        RAISE EXCEPTION 'horizon must be from 1 to 100000, not %', coalesce(horizon::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- the caller's own rights: the relation is read as the caller
    RETURN QUERY EXECUTE format(
        'SELECT s.n, s.h, s.t FROM ('
        '  SELECT row_number() OVER w AS n,'
        '         array_agg(%2$I::float8) OVER (w ROWS BETWEEN %3$s PRECEDING AND CURRENT ROW) AS h,'
        '         lead(%2$I::float8, %4$s) OVER w AS t'
        '    FROM %5$s WINDOW w AS (ORDER BY %1$I)) s'
        ' WHERE s.n >= %6$s ORDER BY s.n',
        time_column, value_column, window_size - 1, horizon, relation, window_size);
END
$$;
COMMENT ON FUNCTION galaxy.series_windows(regclass, name, name, integer, integer) IS
    'Windows of a time-ordered series: the window_size values up to each position and the value horizon steps later (NULL at the end), to train lstm or transformer models';

CREATE FUNCTION galaxy.forecast(project text, relation regclass, time_column name, value_column name,
                                window_size integer, steps integer DEFAULT 1)
    RETURNS TABLE (step integer, value float8)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hist float8[];
    v float8;
BEGIN
    IF steps IS NULL OR steps < 1 OR steps > 100000 THEN
        RAISE EXCEPTION 'steps must be from 1 to 100000, not %', coalesce(steps::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT w.history INTO hist
      FROM galaxy.series_windows(relation, time_column, value_column, window_size) w
     ORDER BY w."position" DESC LIMIT 1;
    IF hist IS NULL THEN
        RAISE EXCEPTION 'relation % has fewer than % values of "%"', relation, window_size, value_column
            USING ERRCODE = 'data_exception';
    END IF;
    -- each prediction joins the window for the next step
    FOR i IN 1 .. steps LOOP
        v := galaxy.predict(project, hist);
        step := i;
        value := v;
        RETURN NEXT;
        hist := hist[2:] || v;
    END LOOP;
END
$$;
COMMENT ON FUNCTION galaxy.forecast(text, regclass, name, name, integer, integer) IS
    'The next steps values of a series from the project''s deployed model, fed its own predictions: the model must take the last window_size values';
-- ---------------------------------------------------------------------------
-- Background training (src/jobs): job queue functions, live progress from
-- shared memory, and flat views for psql \watch and BI tools.
-- ---------------------------------------------------------------------------

-- History rows are numbered per attempt: one job runs several loops (folds,
-- the final fit), so the algorithm's iteration alone is not a key.
ALTER TABLE galaxy.job_progress DROP CONSTRAINT job_progress_pkey;
ALTER TABLE galaxy.job_progress
    ADD COLUMN attempt integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    ADD COLUMN step    integer NOT NULL CHECK (step >= 1);
ALTER TABLE galaxy.job_progress ADD PRIMARY KEY (job_id, attempt, step);
COMMENT ON COLUMN galaxy.job_progress.step IS 'Position of the row within the attempt (at most about 1000 rows are kept per attempt: later iterations are thinned evenly)';
COMMENT ON COLUMN galaxy.job_progress.attempt IS 'Which attempt of the job (jobs.attempts at the time)';

CREATE FUNCTION galaxy.submit(
    project      text,
    relation     regclass DEFAULT NULL,
    target       text     DEFAULT NULL,
    algorithm    text     DEFAULT 'auto',
    hyperparams  jsonb    DEFAULT '{}',
    test_size    float8   DEFAULT 0.2,
    search       text     DEFAULT NULL,
    search_space jsonb    DEFAULT NULL,
    folds        integer  DEFAULT NULL,
    deploy       text     DEFAULT 'if_better',
    seed         integer  DEFAULT 42,
    features     text[]   DEFAULT NULL,
    preprocess   jsonb    DEFAULT NULL,
    task         text     DEFAULT NULL,
    dataset      text     DEFAULT NULL,
    priority     integer  DEFAULT 0,
    retries      integer  DEFAULT 0,
    timeout      interval DEFAULT NULL
) RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_submit' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION galaxy.submit(text, regclass, text, text, jsonb, float8, text, jsonb, integer, text, integer, text[], jsonb, text, text, integer, integer, interval) IS
    'Queue a background training job with galaxy.train()''s arguments (validated now); a worker runs it as the calling role after COMMIT; returns the job id; audited';

CREATE FUNCTION galaxy.cancel(job bigint) RETURNS galaxy.jobs
    AS 'MODULE_PATHNAME', 'galaxy_cancel' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION galaxy.cancel(bigint) IS
    'Cancel a job: a queued one at once, a running one within a second (its worker stops, no model is registered); returns the job row; audited';

CREATE FUNCTION galaxy.wait(job bigint, timeout interval DEFAULT NULL) RETURNS galaxy.jobs
    AS 'MODULE_PATHNAME', 'galaxy_wait' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION galaxy.wait(bigint, interval) IS
    'Block until a job has finished (succeeded, failed or cancelled) and return its row; after timeout, return the row as it is (state queued or running)';

CREATE FUNCTION galaxy.progress_slots(
    OUT pid integer, OUT job_id bigint, OUT role oid, OUT project text, OUT algorithm text,
    OUT phase text, OUT iteration integer, OUT total integer, OUT rows bigint,
    OUT loss float8, OUT val_loss float8, OUT metric float8, OUT learning_rate float8,
    OUT started_at timestamptz, OUT updated_at timestamptz, OUT eta_seconds float8,
    OUT rows_per_second float8)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'galaxy_progress_slots' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION galaxy.progress_slots() IS
    'Live training runs of this database from shared memory (galaxy.train() sessions and job workers) that the caller may see';

CREATE FUNCTION galaxy.progress_bar(percent numeric, width integer DEFAULT 20) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN percent IS NULL OR width IS NULL OR width < 1 THEN NULL
           ELSE '[' || repeat('#', floor(least(greatest(percent, 0), 100) * width / 100)::integer)
                    || repeat('.', width - floor(least(greatest(percent, 0), 100) * width / 100)::integer)
                    || '] ' || round(least(greatest(percent, 0), 100))::integer || '%' END;
COMMENT ON FUNCTION galaxy.progress_bar(numeric, integer) IS
    'A text progress bar such as [#######.............] 35%';

CREATE VIEW galaxy.training_progress AS
WITH live AS (
    SELECT s.*,
           CASE WHEN s.total > 0 THEN round(100.0 * s.iteration / s.total, 1) END AS percent
      FROM galaxy.progress_slots() s
)
SELECT l.job_id, l.project, l.algorithm,
       CASE WHEN l.job_id IS NULL THEN 'training' ELSE 'running' END AS state,
       pg_catalog.pg_get_userbyid(l.role) AS owner,
       l.pid, l.phase, l.iteration, l.total, l.percent,
       galaxy.progress_bar(l.percent) AS progress_bar,
       l.rows, l.loss, l.val_loss, l.metric, l.learning_rate,
       clock_timestamp() - l.started_at AS elapsed,
       make_interval(secs => l.eta_seconds) AS eta,
       l.started_at, l.updated_at, l.rows_per_second
  FROM live l
UNION ALL
SELECT j.id, j.project, j.request ->> 'algorithm',
       j.state, j.owner, NULL::integer,
       CASE j.state WHEN 'running' THEN 'starting' ELSE j.state END,
       h.iteration, h.total,
       CASE WHEN j.state = 'succeeded' THEN 100.0
            WHEN h.total > 0 THEN round(100.0 * h.iteration / h.total, 1) END,
       galaxy.progress_bar(CASE WHEN j.state = 'succeeded' THEN 100.0
                                WHEN h.total > 0 THEN round(100.0 * h.iteration / h.total, 1) END),
       h.rows_processed, h.loss, h.val_loss, h.metric, h.learning_rate,
       coalesce(j.finished_at, clock_timestamp()) - j.started_at,
       NULL::interval,
       j.started_at, coalesce(j.finished_at, h.at, j.started_at, j.submitted_at),
       NULL::float8
  FROM galaxy.jobs j
  LEFT JOIN LATERAL (SELECT p.* FROM galaxy.job_progress p
                      WHERE p.job_id = j.id
                      ORDER BY p.attempt DESC, p.step DESC LIMIT 1) h ON true
 WHERE (j.state IN ('queued', 'running') OR j.finished_at > now() - interval '10 minutes')
   AND NOT EXISTS (SELECT 1 FROM live l WHERE l.job_id = j.id);
COMMENT ON VIEW galaxy.training_progress IS
    'Training runs as they happen (live from shared memory: phase, iteration, loss, percent, progress bar, ETA, rows per second), plus queued jobs and jobs finished in the last 10 minutes; made for \watch 1';

CREATE VIEW galaxy.jobs_overview AS
SELECT j.id AS job_id, j.project, j.request ->> 'algorithm' AS algorithm,
       j.request ->> 'relation' AS relation, j.request ->> 'target' AS target,
       j.state, j.owner, j.priority, j.attempts, j.retries, j.timeout,
       j.submitted_at, j.started_at, j.finished_at,
       CASE WHEN j.state = 'queued' THEN clock_timestamp() - j.submitted_at END AS waiting,
       coalesce(j.finished_at, CASE WHEN j.state = 'running' THEN clock_timestamp() END)
           - j.started_at AS run_time,
       j.model_id, m.version AS model_version, j.worker_pid,
       j.error_message, j.error_sqlstate, j.error_context
  FROM galaxy.jobs j
  LEFT JOIN galaxy.models m ON m.id = j.model_id;
COMMENT ON VIEW galaxy.jobs_overview IS
    'One row per background job: state, timings, owner, resulting model, error';
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

CREATE FUNCTION galaxy.audit_log_chain() RETURNS trigger
    AS 'MODULE_PATHNAME', 'galaxy_audit_log_chain' LANGUAGE C;
COMMENT ON FUNCTION galaxy.audit_log_chain() IS 'Trigger: assigns id, time, session identity and txid of a new audit row and links it into the SHA-256 chain';

CREATE FUNCTION galaxy.append_only_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'galaxy_append_only_guard' LANGUAGE C;
COMMENT ON FUNCTION galaxy.append_only_guard() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE on append-only tables, for every role (galaxy.purge_audit() excepted)';

CREATE TRIGGER audit_log_chain BEFORE INSERT ON galaxy.audit_log
    FOR EACH ROW EXECUTE FUNCTION galaxy.audit_log_chain();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON galaxy.audit_log
    FOR EACH ROW EXECUTE FUNCTION galaxy.append_only_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON galaxy.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION galaxy.append_only_guard();
CREATE TRIGGER audit_purges_append_only BEFORE UPDATE OR DELETE ON galaxy.audit_purges
    FOR EACH ROW EXECUTE FUNCTION galaxy.append_only_guard();
CREATE TRIGGER audit_purges_no_truncate BEFORE TRUNCATE ON galaxy.audit_purges
    FOR EACH STATEMENT EXECUTE FUNCTION galaxy.append_only_guard();

CREATE FUNCTION galaxy.drop_guard() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'galaxy_drop_guard' LANGUAGE C;
COMMENT ON FUNCTION galaxy.drop_guard() IS 'Event trigger: refuses DROP EXTENSION galaxy (or DROP SCHEMA galaxy) while galaxy holds models or audit rows, unless galaxy.allow_drop_with_data is on';
CREATE EVENT TRIGGER galaxy_drop_guard ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA')
    EXECUTE FUNCTION galaxy.drop_guard();

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

CREATE FUNCTION galaxy.access_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'galaxy_access_changed' LANGUAGE C;
COMMENT ON FUNCTION galaxy.access_changed() IS 'Trigger: projects or grants changed; every backend forgets its cached project access decisions';
CREATE TRIGGER project_grants_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON galaxy.project_grants
    FOR EACH STATEMENT EXECUTE FUNCTION galaxy.access_changed();
CREATE TRIGGER projects_changed AFTER UPDATE OR DELETE OR TRUNCATE ON galaxy.projects
    FOR EACH STATEMENT EXECUTE FUNCTION galaxy.access_changed();

CREATE FUNCTION galaxy.grant_project(project text, role text, privilege text DEFAULT 'read')
    RETURNS void
    AS 'MODULE_PATHNAME', 'galaxy_grant_project' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.grant_project(text, text, text) IS 'Give a role (or PUBLIC) read, train, deploy or all on a project; needs "all" on it; audited';

CREATE FUNCTION galaxy.revoke_project(project text, role text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'galaxy_revoke_project' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION galaxy.revoke_project(text, text) IS 'Remove a role''s grant on a project (true if there was one); needs "all" on it; audited';

CREATE FUNCTION galaxy.project_visible(project_id bigint) RETURNS boolean
    AS 'MODULE_PATHNAME', 'galaxy_project_visible' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION galaxy.project_visible(bigint) IS 'Whether the calling role may see a project''s rows (owner, grantee, galaxy_approver, galaxy_admin); used by row-level security';

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

CREATE FUNCTION galaxy.model_immutable() RETURNS trigger
    AS 'MODULE_PATHNAME', 'galaxy_model_immutable' LANGUAGE C;
COMMENT ON FUNCTION galaxy.model_immutable() IS 'Trigger: a trained model row never changes except its status';

CREATE TRIGGER models_immutable BEFORE UPDATE ON galaxy.models
    FOR EACH ROW EXECUTE FUNCTION galaxy.model_immutable();

-- ---------------------------------------------------------------------------
-- Deployments (src/registry/deployments_api.c on the primitive in deploy.c).
-- ---------------------------------------------------------------------------
CREATE FUNCTION galaxy.deployment_gate() RETURNS trigger
    AS 'MODULE_PATHNAME', 'galaxy_deployment_gate' LANGUAGE C;
COMMENT ON FUNCTION galaxy.deployment_gate() IS 'Trigger: when approval is required, only deployments cleared by galaxy.deploy() with an approved request, or galaxy.rollback(), are recorded';

CREATE TRIGGER deployments_gate BEFORE INSERT ON galaxy.deployments
    FOR EACH ROW EXECUTE FUNCTION galaxy.deployment_gate();

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
-- ---------------------------------------------------------------------------
-- Deployment quality gates (src/registry/gates.c, src/model/model_latency.c):
-- per-project rules (metric, comparison, threshold) that every model must
-- pass before it serves, defaults for every project, latency measured by
-- galaxy itself, the results as data, and the admin's audited override.
-- ---------------------------------------------------------------------------

CREATE TABLE galaxy.deployment_gates (
    id          bigserial PRIMARY KEY,
    project_id  bigint REFERENCES galaxy.projects (id) ON DELETE CASCADE,   -- NULL: every project
    metric      text NOT NULL CHECK (metric ~ '^[a-z][a-z0-9_]{0,62}$'),
    op          text NOT NULL CHECK (op IN ('>=', '>', '<=', '<')),
    threshold   float8 NOT NULL CHECK (threshold NOT IN ('NaN', 'Infinity', '-Infinity')),
    set_by      name NOT NULL DEFAULT current_user,
    set_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (project_id, metric)
);
COMMENT ON TABLE galaxy.deployment_gates IS 'Quality gates a model must pass before it serves: per project, or for every project (project_id NULL)';
SELECT pg_catalog.pg_extension_config_dump('galaxy.deployment_gates', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.deployment_gates_id_seq', '');

-- Defaults (project_id NULL) are visible to everyone who may read galaxy's
-- tables; a project's own gates to those who may see the project.
ALTER TABLE galaxy.deployment_gates ENABLE ROW LEVEL SECURITY;
CREATE POLICY deployment_gates_visible ON galaxy.deployment_gates FOR SELECT
    USING (project_id IS NULL OR galaxy.project_visible(project_id));

-- Latency measured on demand, for models registered without one (before
-- gates existed, or imported): a model row never changes, so the
-- measurement lives beside it.  Models trained here carry predict_p50_ms
-- and predict_p99_ms in their metrics, measured at registration.
CREATE TABLE galaxy.model_latency (
    model_id     bigint PRIMARY KEY REFERENCES galaxy.models (id) ON DELETE CASCADE,
    project_id   bigint NOT NULL REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    p50_ms       float8 NOT NULL CHECK (p50_ms >= 0),
    p99_ms       float8 NOT NULL CHECK (p99_ms >= p50_ms),
    sample_rows  integer NOT NULL CHECK (sample_rows > 0),
    source       text NOT NULL CHECK (source IN ('relation', 'synthetic')),
    measured_by  name NOT NULL DEFAULT current_user,
    measured_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE galaxy.model_latency IS 'Single-row predict latency measured on demand for models whose metrics lack predict_p50_ms / predict_p99_ms';
SELECT pg_catalog.pg_extension_config_dump('galaxy.model_latency', '');

CREATE FUNCTION galaxy.set_gate(project text, metric text, op text, threshold float8)
    RETURNS void
    AS 'MODULE_PATHNAME', 'galaxy_set_gate' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.set_gate(text, text, text, float8) IS 'Set (or change) the gate "metric op threshold" of a project (needs deploy on it), or of every project with project => ''*'' (galaxy_admin); audited';

CREATE FUNCTION galaxy.drop_gate(project text, metric text)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'galaxy_drop_gate' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.drop_gate(text, text) IS 'Remove a project''s gate on a metric (or a default gate with project => ''*''); true if there was one; audited';

CREATE VIEW galaxy.gates AS
SELECT CASE WHEN g.project_id IS NULL THEN '*' ELSE p.name END AS project,
       g.project_id,
       CASE WHEN g.project_id IS NULL THEN 'default' ELSE 'project' END AS scope,
       g.metric, g.op, g.threshold,
       g.metric || ' ' || g.op || ' ' || g.threshold::text AS gate,
       g.set_by, g.set_at
FROM galaxy.deployment_gates g
LEFT JOIN galaxy.projects p ON p.id = g.project_id;
COMMENT ON VIEW galaxy.gates IS 'Every gate: a project''s own (scope project) and the defaults every project has (project ''*'', scope default)';

-- One row per model and gate that applies to it (the project's own and the
-- defaults).  value: the metric from the model's metrics, size_bytes from
-- the model row, latency from the metrics or galaxy.model_latency
-- (value_source: metrics, model, on_demand_relation, on_demand_synthetic).  status:
-- passed, failed, missing (the model has no such metric: it fails) or
-- not_measured (a latency gate on a model not measured yet: galaxy measures
-- it when a deployment needs it, or galaxy.check_gates(model)).  margin is
-- how far the value is on the passing side of the threshold (negative: by
-- how much it fails).  galaxy's deploy paths read this view.
CREATE VIEW galaxy.gate_results AS
SELECT p.name AS project, m.project_id, m.id AS model, m.version, m.status AS model_status,
       g.metric, g.op, g.threshold,
       CASE WHEN g.project_id IS NULL THEN 'default' ELSE 'project' END AS scope,
       v.value,
       v.source AS value_source,
       CASE WHEN v.value IS NULL THEN
                 CASE WHEN g.metric IN ('predict_p50_ms', 'predict_p99_ms') THEN 'not_measured' ELSE 'missing' END
            WHEN (g.op = '>=' AND v.value >= g.threshold) OR (g.op = '>' AND v.value > g.threshold)
              OR (g.op = '<=' AND v.value <= g.threshold) OR (g.op = '<' AND v.value < g.threshold)
            THEN 'passed' ELSE 'failed' END AS status,
       CASE WHEN v.value IS NULL THEN
                 CASE WHEN g.metric IN ('predict_p50_ms', 'predict_p99_ms') THEN NULL ELSE false END
            ELSE (g.op = '>=' AND v.value >= g.threshold) OR (g.op = '>' AND v.value > g.threshold)
              OR (g.op = '<=' AND v.value <= g.threshold) OR (g.op = '<' AND v.value < g.threshold)
       END AS passed,
       CASE WHEN g.op IN ('>=', '>') THEN v.value - g.threshold ELSE g.threshold - v.value END AS margin,
       g.metric || ' ' || g.op || ' ' || g.threshold::text AS gate
FROM galaxy.models m
JOIN galaxy.projects p ON p.id = m.project_id
JOIN galaxy.deployment_gates g ON g.project_id = m.project_id OR g.project_id IS NULL
LEFT JOIN galaxy.model_latency l ON l.model_id = m.id
CROSS JOIN LATERAL (
    SELECT CASE WHEN g.metric = 'size_bytes' THEN m.size_bytes::float8
                WHEN jsonb_typeof(m.metrics -> g.metric) = 'number' THEN (m.metrics ->> g.metric)::float8
                WHEN g.metric = 'predict_p50_ms' THEN l.p50_ms
                WHEN g.metric = 'predict_p99_ms' THEN l.p99_ms
           END AS value,
           CASE WHEN g.metric = 'size_bytes' THEN 'model'
                WHEN jsonb_typeof(m.metrics -> g.metric) = 'number' THEN 'metrics'
                WHEN g.metric IN ('predict_p50_ms', 'predict_p99_ms') AND l.model_id IS NOT NULL
                THEN 'on_demand_' || l.source
           END AS source
) v
WHERE m.status <> 'training';
COMMENT ON VIEW galaxy.gate_results IS 'Per model and gate: the measured value, passed / failed / missing / not_measured, and the margin (negative: short of the threshold by that much)';

CREATE FUNCTION galaxy.check_gates(model bigint)
    RETURNS SETOF galaxy.gate_results
    AS 'MODULE_PATHNAME', 'galaxy_check_gates' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION galaxy.check_gates(bigint) IS 'The gates of a model''s project evaluated for the model, measuring its predict latency first when a latency gate needs it and it has none';

CREATE FUNCTION galaxy.describe(model bigint) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'galaxy_describe_model' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION galaxy.describe(bigint) IS 'describe() of a registered model''s value plus its registry facts: project, version, status, metrics and its gate results';

CREATE FUNCTION galaxy.deploy_override(project text, model bigint, reason text, traffic float8 DEFAULT 1.0)
    RETURNS galaxy.deployments
    AS 'MODULE_PATHNAME', 'galaxy_deploy_override' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.deploy_override(text, bigint, text, float8) IS 'Emergency: deploy a model that fails its project''s gates; galaxy_admin only, needs a reason; audited with the reason and the failed gates';
-- ---------------------------------------------------------------------------
-- Projects (src/registry/projects_api.c): removing one, audited.  A project
-- is created by its first train, submit or import_model.
-- ---------------------------------------------------------------------------
CREATE FUNCTION galaxy.drop_project(project text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_drop_project' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION galaxy.drop_project(text) IS
    'Delete a project with its models, deployments, approvals, grants and job history (needs all on it; refused while one of its jobs is queued or running); the audit log keeps its history; returns the number of models deleted; audited';
-- ---------------------------------------------------------------------------
-- The model card (src/eval/model_card.c): one self-contained HTML page per
-- model, with inline CSS and SVG, no scripts and nothing loaded from the
-- network.
-- ---------------------------------------------------------------------------

CREATE FUNCTION galaxy.model_card(model bigint, relation regclass DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_model_card' LANGUAGE C STABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION galaxy.model_card(bigint, regclass) IS
    'A self-contained HTML page about a model: lineage, metrics, gate results, confusion matrix, training curve, feature importance, data profile, hyperparameters; with a relation to score (read as the caller) also ROC, precision-recall and calibration curves, or predicted against actual and residuals';

CREATE FUNCTION galaxy.model_card(project text, relation regclass DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_model_card_project' LANGUAGE C STABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION galaxy.model_card(text, regclass) IS
    'galaxy.model_card() of the model the project serves as primary';
-- ---------------------------------------------------------------------------
-- The ORM calling convention (src/api/options_api.c, src/api/predict.c):
-- forms for clients that call functions positionally, want scalar results
-- and send JSON, as SQLAlchemy's func.galaxy.*() and Django's Func() do.
-- Each shares its function's name; PostgreSQL tells them apart by the
-- arguments' types alone:
--   * a quoted literal (what psycopg2 sends for a str, a Json(dict) and
--     None) goes to the text form, because a string type wins an argument of
--     unknown type; a jsonb expression (jsonb_build_object, a jsonb column)
--     goes to the jsonb form, which the text form calls;
--   * calls with => or with more arguments still reach the named-argument
--     forms, and a call that was ambiguous before (galaxy.predict('p',
--     '{1,2}')) is now the text form's, which says it is not JSON.
-- ---------------------------------------------------------------------------

-- Training with options: the named form's arguments as one JSON object.
CREATE FUNCTION galaxy.train(project text, options jsonb) RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_train_options' LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE FUNCTION galaxy.train(project text, options text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_train_options' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION galaxy.train(text, jsonb) IS
    'galaxy.train() for ORMs: the named arguments as one JSON object (relation, target, algorithm, hyperparams, features, preprocess, test_size, seed, deploy, folds, task, dataset, ...); returns the new model''s id';
COMMENT ON FUNCTION galaxy.train(text, text) IS
    'galaxy.train(project, options jsonb) with the options as JSON text (a text that starts with neither { nor [ is the relation, as before)';

CREATE FUNCTION galaxy.submit(project text, options jsonb) RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_submit_options' LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE FUNCTION galaxy.submit(project text, options text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_submit_options' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION galaxy.submit(text, jsonb) IS
    'galaxy.submit() for ORMs: train''s options plus priority, retries and timeout (a string such as "10 minutes" or seconds) as one JSON object; returns the job id';
COMMENT ON FUNCTION galaxy.submit(text, text) IS
    'galaxy.submit(project, options jsonb) with the options as JSON text (a text that starts with neither { nor [ is the relation, as before)';

-- Predicting from JSON: {"column": value, ...} by name, or [x1, x2, ...] in order.
-- JSON as text goes to the text forms of 40_predict.sql (galaxy_predict_text), which read
-- it as JSON unless the model's one input is a text column (then it is the document).
CREATE FUNCTION galaxy.predict(project text, features jsonb, key text DEFAULT NULL) RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy.predict(model bigint, features jsonb) RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.predict(text, jsonb, text) IS
    'Predict from JSON with the project''s deployed model: an object of input columns by name (text and categorical inputs included; other keys ignored) or an array of numbers in order';
COMMENT ON FUNCTION galaxy.predict(bigint, jsonb) IS 'Predict from JSON (an object by column name, or an array of numbers) with a specific model';

CREATE FUNCTION galaxy.predict_proba(project text, features jsonb, key text DEFAULT NULL) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_proba(model bigint, features jsonb) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.predict_proba(text, jsonb, text) IS 'Class probabilities from JSON features with the project''s deployed model';
COMMENT ON FUNCTION galaxy.predict_proba(bigint, jsonb) IS 'Class probabilities from JSON features with a specific model';

CREATE FUNCTION galaxy.predict_label(project text, features jsonb, key text DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_label(model bigint, features jsonb) RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.predict_label(text, jsonb, text) IS 'The predicted label from JSON features with the project''s deployed model';
COMMENT ON FUNCTION galaxy.predict_label(bigint, jsonb) IS 'The predicted label from JSON features with a specific model';

-- One metric as a scalar.
CREATE FUNCTION galaxy.evaluate(model bigint, relation regclass, metric text) RETURNS float8
    LANGUAGE plpgsql STABLE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m jsonb;
BEGIN
    IF metric IS NULL THEN
        RAISE EXCEPTION 'metric must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    m := galaxy.evaluate(model, relation);
    IF m IS NULL THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(m -> metric) IS DISTINCT FROM 'number' THEN
        RAISE EXCEPTION 'model % has no metric "%"', model, metric
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Its metrics: ' || (SELECT string_agg(e.key, ', ' ORDER BY e.key)
                                               FROM jsonb_each(m) e
                                              WHERE jsonb_typeof(e.value) = 'number'
                                                AND e.key NOT IN ('model_id', 'rows')) || '.';
    END IF;
    RETURN (m ->> metric)::float8;
END
$$;
CREATE FUNCTION galaxy.evaluate(project text, relation regclass, metric text) RETURNS float8
    LANGUAGE plpgsql STABLE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m jsonb;
BEGIN
    IF metric IS NULL THEN
        RAISE EXCEPTION 'metric must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    m := galaxy.evaluate(project, relation);
    IF m IS NULL THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(m -> metric) IS DISTINCT FROM 'number' THEN
        RAISE EXCEPTION 'the deployed model of project "%" has no metric "%"', project, metric
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Its metrics: ' || (SELECT string_agg(e.key, ', ' ORDER BY e.key)
                                               FROM jsonb_each(m) e
                                              WHERE jsonb_typeof(e.value) = 'number'
                                                AND e.key NOT IN ('model_id', 'rows')) || '.';
    END IF;
    RETURN (m ->> metric)::float8;
END
$$;
COMMENT ON FUNCTION galaxy.evaluate(bigint, regclass, text) IS 'One metric (e.g. accuracy, rmse) of a model on the rows of a relation, as a scalar';
COMMENT ON FUNCTION galaxy.evaluate(text, regclass, text) IS 'One metric of the project''s deployed model on the rows of a relation, as a scalar';
-- ---------------------------------------------------------------------------
-- Roles, privileges and row-level security (runs last: it looks at every
-- function, table and view the earlier parts created).
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
CREATE FUNCTION galaxy.owner_visible(owner name) RETURNS boolean
    AS 'MODULE_PATHNAME', 'galaxy_owner_visible' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION galaxy.owner_visible(name) IS 'Whether the calling role acts for the named owner role (or is a galaxy_admin); used by row-level security';

ALTER TABLE galaxy.projects ENABLE ROW LEVEL SECURITY;
CREATE POLICY projects_visible ON galaxy.projects FOR SELECT
    USING (galaxy.project_visible(id));

ALTER TABLE galaxy.datasets ENABLE ROW LEVEL SECURITY;
CREATE POLICY datasets_visible ON galaxy.datasets FOR SELECT
    USING (galaxy.owner_visible(owner));

ALTER TABLE galaxy.jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY jobs_visible ON galaxy.jobs FOR SELECT
    USING (galaxy.owner_visible(owner)
           OR (project_id IS NOT NULL AND galaxy.project_visible(project_id)));

ALTER TABLE galaxy.job_progress ENABLE ROW LEVEL SECURITY;
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
        EXECUTE pg_catalog.format('CREATE POLICY %I ON galaxy.%I FOR SELECT USING (galaxy.project_visible(project_id))',
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
-- ---------------------------------------------------------------------------
REVOKE ALL ON ALL ROUTINES IN SCHEMA galaxy FROM PUBLIC;

DO $functions$
DECLARE
    f record;
    public_fns text[] := ARRAY['describe', 'project_visible', 'owner_visible', 'has_project_privilege'];
    reader_fns text[] := ARRAY['predict', 'predict_proba', 'predict_label', 'predict_batch', 'tokenize',
                               'predict_columns', 'predict_proba_columns', 'predict_label_columns',
                               'predict_values', 'predict_proba_values', 'predict_label_values',
                               'deployed_model', 'evaluate', 'confusion_matrix', 'roc_curve',
                               'feature_importance', 'drift', 'health', 'prometheus', 'algorithms',
                               'metrics_key', 'audit_canonical', 'route_fallbacks',
                               'inference_stats', 'model_metrics', 'series_windows', 'forecast',
                               'model_card'];
    trainer_fns text[] := ARRAY['create_dataset', 'drop_dataset', 'profile', 'train', 'submit', 'cancel', 'wait',
                                'deploy', 'rollback', 'request_deployment', 'export_model', 'import_model',
                                'grant_project', 'revoke_project', 'schedule_evaluation', 'unschedule_evaluation',
                                'drop_project', 'delete_model', 'archive_model', 'compress_model',
                                'set_gate', 'drop_gate', 'check_gates'];
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
     WHERE t.typnamespace = 'galaxy'::regnamespace AND io.fn::oid <> 0;

    -- functions used by galaxy's views
    SELECT pg_catalog.array_agg(DISTINCT d.refobjid) INTO view_fns
      FROM pg_catalog.pg_rewrite r
      JOIN pg_catalog.pg_class c ON c.oid = r.ev_class AND c.relnamespace = 'galaxy'::regnamespace
      JOIN pg_catalog.pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                                 AND d.refclassid = 'pg_proc'::regclass
      JOIN pg_catalog.pg_proc p ON p.oid = d.refobjid AND p.pronamespace = 'galaxy'::regnamespace;

    FOR f IN
        SELECT p.oid, p.oid::regprocedure AS sig, p.proname, p.prokind
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'galaxy'::regnamespace
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
         WHERE p.pronamespace = 'galaxy'::regnamespace
           AND p.prosecdef
           AND NOT coalesce('search_path=pg_catalog, galaxy, pg_temp' = ANY (p.proconfig), false)
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, galaxy, pg_temp', f.sig);
    END LOOP;
END
$secdef$;
-- ---------------------------------------------------------------------------
-- Column comments of galaxy's catalog tables and views, for \d+ in psql and
-- for BI tools that show them.  One place for all of them, after every part
-- that creates or alters a table or view (90_roles_grants.sql creates none).
-- test/pgtap/comments.sql fails when a column of a galaxy table or view has
-- no comment: a part that adds a column adds its comment here (or beside the
-- column, as 50_jobs.sql does for job_progress.attempt and step).
-- ---------------------------------------------------------------------------

-- projects
COMMENT ON COLUMN galaxy.projects.id IS 'Project id';
COMMENT ON COLUMN galaxy.projects.name IS 'Unique project name (letters, digits, _ . -; at most 63 characters): the first argument of train, predict, deploy';
COMMENT ON COLUMN galaxy.projects.task IS 'regression, classification or clustering, fixed by the first model';
COMMENT ON COLUMN galaxy.projects.owner IS 'Role that created the project (its first train, submit or import_model); holds every privilege on it';
COMMENT ON COLUMN galaxy.projects.description IS 'Free text about the project';
COMMENT ON COLUMN galaxy.projects.key_metric IS 'Metric that deploy strategy best compares; NULL: r2 (regression), accuracy (classification), silhouette (clustering)';
COMMENT ON COLUMN galaxy.projects.require_approval IS 'Whether deployments need an approved request; NULL follows the setting galaxy.require_approval';
COMMENT ON COLUMN galaxy.projects.created_at IS 'When the project was created';

-- datasets
COMMENT ON COLUMN galaxy.datasets.id IS 'Dataset id';
COMMENT ON COLUMN galaxy.datasets.name IS 'Unique dataset name, for train(dataset => ...)';
COMMENT ON COLUMN galaxy.datasets.relation IS 'The registered table, view, materialized view, partitioned or foreign table';
COMMENT ON COLUMN galaxy.datasets.target IS 'Column to predict (NULL for clustering data)';
COMMENT ON COLUMN galaxy.datasets.features IS 'Input columns, in order (without features: every column but the target and keys)';
COMMENT ON COLUMN galaxy.datasets.description IS 'Free text given to create_dataset';
COMMENT ON COLUMN galaxy.datasets.row_count IS 'Rows of the relation when it was registered';
COMMENT ON COLUMN galaxy.datasets.profile IS 'Profile of every feature and the target at registration (counts, NULLs, statistics, quantiles, histogram, top values): the baseline for drift';
COMMENT ON COLUMN galaxy.datasets.schema_fingerprint IS 'SHA-256 (hex) of name:type:width; of every feature, in order; models trained on the same input schema share it';
COMMENT ON COLUMN galaxy.datasets.owner IS 'Role that registered the dataset; it (or a galaxy_admin) may drop it';
COMMENT ON COLUMN galaxy.datasets.created_at IS 'When the dataset was registered';

-- jobs (model_id is commented in 10_catalog.sql)
COMMENT ON COLUMN galaxy.jobs.id IS 'Job id, returned by galaxy.submit()';
COMMENT ON COLUMN galaxy.jobs.project_id IS 'The project, once it exists (a job may create it)';
COMMENT ON COLUMN galaxy.jobs.project IS 'Project name as submitted';
COMMENT ON COLUMN galaxy.jobs.owner IS 'Role that submitted the job; the worker connects as this role';
COMMENT ON COLUMN galaxy.jobs.owner_oid IS 'OID of the owner role (the worker logs in by OID, so a renamed role still runs its jobs)';
COMMENT ON COLUMN galaxy.jobs.state IS 'queued, running, succeeded, failed or cancelled';
COMMENT ON COLUMN galaxy.jobs.priority IS 'Higher runs first; equal priorities run oldest first';
COMMENT ON COLUMN galaxy.jobs.retries IS 'Extra attempts allowed after a failed attempt';
COMMENT ON COLUMN galaxy.jobs.attempts IS 'Attempts started so far (a failed start counts)';
COMMENT ON COLUMN galaxy.jobs.timeout IS 'Time limit of each attempt; NULL: the owner''s galaxy.job_timeout';
COMMENT ON COLUMN galaxy.jobs.request IS 'The arguments of galaxy.submit(), as jsonb: what the worker passes to the training pipeline';
COMMENT ON COLUMN galaxy.jobs.worker_pid IS 'Process id of the training worker while the job runs';
COMMENT ON COLUMN galaxy.jobs.error_message IS 'Message of the error that failed (or cancelled) the last attempt';
COMMENT ON COLUMN galaxy.jobs.error_sqlstate IS 'SQLSTATE of that error';
COMMENT ON COLUMN galaxy.jobs.error_context IS 'DETAIL, HINT and CONTEXT of that error';
COMMENT ON COLUMN galaxy.jobs.submitted_at IS 'When the job was queued';
COMMENT ON COLUMN galaxy.jobs.started_at IS 'When the last attempt started';
COMMENT ON COLUMN galaxy.jobs.finished_at IS 'When the job reached succeeded, failed or cancelled';

-- job_progress (attempt and step are commented in 50_jobs.sql)
COMMENT ON COLUMN galaxy.job_progress.job_id IS 'The job';
COMMENT ON COLUMN galaxy.job_progress.iteration IS 'Iteration of the loop that reported (round, epoch, sweep)';
COMMENT ON COLUMN galaxy.job_progress.at IS 'When the iteration was reported';
COMMENT ON COLUMN galaxy.job_progress.phase IS 'load, preprocess, cross-validate, fit, evaluate or register';
COMMENT ON COLUMN galaxy.job_progress.total IS 'Iterations planned in that loop (NULL when unknown)';
COMMENT ON COLUMN galaxy.job_progress.rows_processed IS 'Training rows of the run';
COMMENT ON COLUMN galaxy.job_progress.loss IS 'Training loss reported by the algorithm (NULL when it reports none)';
COMMENT ON COLUMN galaxy.job_progress.val_loss IS 'Validation loss reported by the algorithm';
COMMENT ON COLUMN galaxy.job_progress.metric IS 'Metric reported by the algorithm (e.g. validation accuracy or R²)';
COMMENT ON COLUMN galaxy.job_progress.learning_rate IS 'Learning rate (or step length) in use';

-- models (imported_from is commented in 60_registry.sql)
COMMENT ON COLUMN galaxy.models.id IS 'Model id: galaxy.predict(id, ...) uses this model';
COMMENT ON COLUMN galaxy.models.project_id IS 'The project this model is a version of';
COMMENT ON COLUMN galaxy.models.version IS 'Semantic version within the project: major.minor.patch';
COMMENT ON COLUMN galaxy.models.version_major IS 'Major version: bumped when the input schema changes';
COMMENT ON COLUMN galaxy.models.version_minor IS 'Minor version: bumped on a retrain with the same input schema';
COMMENT ON COLUMN galaxy.models.version_patch IS 'Patch version: a derived variant of a model (compression, recalibration)';
COMMENT ON COLUMN galaxy.models.status IS 'training, ready, deployed or archived; the only column that changes once the model is trained';
COMMENT ON COLUMN galaxy.models.algorithm IS 'Algorithm name (aliases resolved: mlp is neural_network)';
COMMENT ON COLUMN galaxy.models.task IS 'regression, classification or clustering';
COMMENT ON COLUMN galaxy.models.model IS 'The trained model value (galaxy.model; galaxy.describe() reads it); not granted to galaxy_reader';
COMMENT ON COLUMN galaxy.models.hyperparams IS 'Effective hyperparameters: every one, defaults filled in';
COMMENT ON COLUMN galaxy.models.hyperparams_given IS 'Hyperparameters as passed to train()';
COMMENT ON COLUMN galaxy.models.preprocess IS 'The preprocess option passed to train() (NULL: the defaults); what was fitted is in galaxy.describe(model)';
COMMENT ON COLUMN galaxy.models.metrics IS 'Metrics on the held-out rows (or the training rows with test_size 0) and run statistics, as jsonb';
COMMENT ON COLUMN galaxy.models.features IS 'Input columns, in order; predict matches a row''s columns to them by name';
COMMENT ON COLUMN galaxy.models.feature_types IS 'Type of each input column at training';
COMMENT ON COLUMN galaxy.models.target IS 'Column the model predicts (NULL for clustering)';
COMMENT ON COLUMN galaxy.models.label_type IS 'Type of the target column (the labels keep it)';
COMMENT ON COLUMN galaxy.models.relation IS 'Schema-qualified name of the relation trained on';
COMMENT ON COLUMN galaxy.models.dataset_id IS 'The registered dataset trained on, if any';
COMMENT ON COLUMN galaxy.models.training_rows IS 'Rows the model was fitted on';
COMMENT ON COLUMN galaxy.models.test_rows IS 'Held-out rows the metrics were measured on';
COMMENT ON COLUMN galaxy.models.schema_fingerprint IS 'SHA-256 (hex) of the input schema (names, types, widths): decides minor or major version';
COMMENT ON COLUMN galaxy.models.data_fingerprint IS 'Checksum of the training data (values, labels, categories): the same data gives the same fingerprint';
COMMENT ON COLUMN galaxy.models.seed IS 'Seed of every random choice (split, initialisation, sampling)';
COMMENT ON COLUMN galaxy.models.size_bytes IS 'Stored size of the model value in bytes';
COMMENT ON COLUMN galaxy.models.trained_by IS 'Role that trained (or imported) the model';
COMMENT ON COLUMN galaxy.models.job_id IS 'Background job that trained the model (NULL for train() in a session)';
COMMENT ON COLUMN galaxy.models.parent_id IS 'The model this one succeeds: the project''s previous version when it was registered (no foreign key: a trigger clears it when that model is deleted)';
COMMENT ON COLUMN galaxy.models.created_at IS 'When the model was registered';

-- deployments
COMMENT ON COLUMN galaxy.deployments.id IS 'Deployment id';
COMMENT ON COLUMN galaxy.deployments.project_id IS 'The project served';
COMMENT ON COLUMN galaxy.deployments.model_id IS 'The model that serves';
COMMENT ON COLUMN galaxy.deployments.traffic IS 'Share of the traffic: 1.0 is the primary, less a canary';
COMMENT ON COLUMN galaxy.deployments.strategy IS 'How the model was chosen: specific, best, latest, rollback, or train''s deploy policy';
COMMENT ON COLUMN galaxy.deployments.reason IS 'Reason given to deploy or rollback';
COMMENT ON COLUMN galaxy.deployments.deployed_at IS 'When the deployment started to serve (taken under the project''s deployment lock)';
COMMENT ON COLUMN galaxy.deployments.deployed_by IS 'Role that deployed';
COMMENT ON COLUMN galaxy.deployments.retired_at IS 'When it stopped serving (NULL while it serves)';
COMMENT ON COLUMN galaxy.deployments.retired_by IS 'Role whose deployment retired it';

-- audit_log
COMMENT ON COLUMN galaxy.audit_log.id IS 'Position in the hash chain (assigned under the chain lock; gaps are rolled-back rows)';
COMMENT ON COLUMN galaxy.audit_log.at IS 'clock_timestamp() when the row was written';
COMMENT ON COLUMN galaxy.audit_log.session_user_name IS 'Login role of the session';
COMMENT ON COLUMN galaxy.audit_log.current_user_name IS 'Role acting (differs from the login role after SET ROLE)';
COMMENT ON COLUMN galaxy.audit_log.client_addr IS 'Client address (NULL for Unix sockets and background workers)';
COMMENT ON COLUMN galaxy.audit_log.application_name IS 'application_name of the session';
COMMENT ON COLUMN galaxy.audit_log.action IS 'What happened: create_dataset, train, submit, deploy, approve, export, ...';
COMMENT ON COLUMN galaxy.audit_log.object_type IS 'Kind of object acted on: project, model, dataset, job, approval, ...';
COMMENT ON COLUMN galaxy.audit_log.object_id IS 'Id or name of the object acted on';
COMMENT ON COLUMN galaxy.audit_log.details IS 'What else the call recorded, as jsonb (at most 8 kB; larger details are kept as size and SHA-256)';
COMMENT ON COLUMN galaxy.audit_log.txid IS 'Transaction id (pg_current_xact_id()) of the call';
COMMENT ON COLUMN galaxy.audit_log.prev_hash IS 'Hash of the previous row (32 zero bytes for the first, the anchor after a purge)';
COMMENT ON COLUMN galaxy.audit_log.hash IS 'sha256(prev_hash || galaxy.audit_canonical(row))';

-- audit_purges
COMMENT ON COLUMN galaxy.audit_purges.id IS 'Purge id';
COMMENT ON COLUMN galaxy.audit_purges.purged_at IS 'When galaxy.purge_audit() ran';
COMMENT ON COLUMN galaxy.audit_purges.purged_by IS 'Superuser who ran it';
COMMENT ON COLUMN galaxy.audit_purges.before IS 'The before argument: rows older than this were deleted';
COMMENT ON COLUMN galaxy.audit_purges.deleted_rows IS 'Audit rows deleted';
COMMENT ON COLUMN galaxy.audit_purges.anchor_id IS 'Id of the last deleted audit row';
COMMENT ON COLUMN galaxy.audit_purges.anchor_hash IS 'Hash of the last deleted audit row: the oldest remaining row chains to it';

-- project_grants
COMMENT ON COLUMN galaxy.project_grants.project_id IS 'The project';
COMMENT ON COLUMN galaxy.project_grants.grantee IS 'Role name given the privilege, or public';
COMMENT ON COLUMN galaxy.project_grants.privilege IS 'read, train, deploy or all (each includes the ones before)';
COMMENT ON COLUMN galaxy.project_grants.granted_by IS 'Role that granted it';
COMMENT ON COLUMN galaxy.project_grants.granted_at IS 'When it was granted';

-- approvals
COMMENT ON COLUMN galaxy.approvals.id IS 'Request id, returned by galaxy.request_deployment()';
COMMENT ON COLUMN galaxy.approvals.project_id IS 'The model''s project';
COMMENT ON COLUMN galaxy.approvals.model_id IS 'The model to deploy';
COMMENT ON COLUMN galaxy.approvals.requested_by IS 'Role that requested (current role)';
COMMENT ON COLUMN galaxy.approvals.requested_session_user IS 'Login role of the requesting session (an approver may be neither)';
COMMENT ON COLUMN galaxy.approvals.requested_at IS 'When the request was made';
COMMENT ON COLUMN galaxy.approvals.note IS 'The requester''s note';
COMMENT ON COLUMN galaxy.approvals.state IS 'pending, approved, rejected, expired or used (galaxy.approval_requests shows the effective state)';
COMMENT ON COLUMN galaxy.approvals.decided_by IS 'Approver who approved or rejected (never the requester)';
COMMENT ON COLUMN galaxy.approvals.decided_at IS 'When it was decided';
COMMENT ON COLUMN galaxy.approvals.decision_note IS 'The approver''s note';
COMMENT ON COLUMN galaxy.approvals.expires_at IS 'A pending request, then an approval, is valid until this time (galaxy.approval_ttl)';
COMMENT ON COLUMN galaxy.approvals.used_at IS 'When a deploy used the approval';
COMMENT ON COLUMN galaxy.approvals.used_by IS 'Role whose deploy used it';
COMMENT ON COLUMN galaxy.approvals.deployment_id IS 'The deployment that used it';

-- views: algorithms, algorithm_hyperparameters
COMMENT ON COLUMN galaxy.algorithms.name IS 'Algorithm name, for train(algorithm => ...)';
COMMENT ON COLUMN galaxy.algorithms.tasks IS 'Tasks it can learn';
COMMENT ON COLUMN galaxy.algorithms.description IS 'What it fits';
COMMENT ON COLUMN galaxy.algorithms.default_scaling IS 'Whether numeric inputs are standard-scaled unless preprocess says otherwise';
COMMENT ON COLUMN galaxy.algorithms.hyperparameters IS 'Every hyperparameter as jsonb: type, default, min, max, min_exclusive, choices, description';
COMMENT ON COLUMN galaxy.algorithm_hyperparameters.algorithm IS 'Algorithm name';
COMMENT ON COLUMN galaxy.algorithm_hyperparameters.name IS 'Hyperparameter name, a key of train(hyperparams => ...)';
COMMENT ON COLUMN galaxy.algorithm_hyperparameters.type IS 'integer, float, boolean, choice or integer[]';
COMMENT ON COLUMN galaxy.algorithm_hyperparameters.default_value IS 'Value used when it is not given, as text';
COMMENT ON COLUMN galaxy.algorithm_hyperparameters.min_value IS 'Smallest allowed value (numbers; for integer[] each element)';
COMMENT ON COLUMN galaxy.algorithm_hyperparameters.max_value IS 'Largest allowed value';
COMMENT ON COLUMN galaxy.algorithm_hyperparameters.min_exclusive IS 'Whether min_value itself is excluded';
COMMENT ON COLUMN galaxy.algorithm_hyperparameters.choices IS 'Allowed values of a choice, comma-separated';
COMMENT ON COLUMN galaxy.algorithm_hyperparameters.description IS 'What it does';

-- view: approval_requests
COMMENT ON COLUMN galaxy.approval_requests.id IS 'Request id';
COMMENT ON COLUMN galaxy.approval_requests.project IS 'Project name';
COMMENT ON COLUMN galaxy.approval_requests.model IS 'Model id to deploy';
COMMENT ON COLUMN galaxy.approval_requests.version IS 'Its version';
COMMENT ON COLUMN galaxy.approval_requests.state IS 'Effective state: pending, approved, rejected, expired (past expires_at) or used';
COMMENT ON COLUMN galaxy.approval_requests.requested_by IS 'Role that requested';
COMMENT ON COLUMN galaxy.approval_requests.requested_at IS 'When it was requested';
COMMENT ON COLUMN galaxy.approval_requests.note IS 'The requester''s note';
COMMENT ON COLUMN galaxy.approval_requests.decided_by IS 'Approver who decided';
COMMENT ON COLUMN galaxy.approval_requests.decided_at IS 'When it was decided';
COMMENT ON COLUMN galaxy.approval_requests.decision_note IS 'The approver''s note';
COMMENT ON COLUMN galaxy.approval_requests.expires_at IS 'Valid until';
COMMENT ON COLUMN galaxy.approval_requests.used_by IS 'Role whose deploy used the approval';
COMMENT ON COLUMN galaxy.approval_requests.used_at IS 'When it was used';
COMMENT ON COLUMN galaxy.approval_requests.deployment_id IS 'The deployment that used it';

-- view: deployed_models
COMMENT ON COLUMN galaxy.deployed_models.project IS 'Project name';
COMMENT ON COLUMN galaxy.deployed_models.project_id IS 'Project id';
COMMENT ON COLUMN galaxy.deployed_models.model IS 'Model id serving';
COMMENT ON COLUMN galaxy.deployed_models.version IS 'Its version';
COMMENT ON COLUMN galaxy.deployed_models.algorithm IS 'Its algorithm';
COMMENT ON COLUMN galaxy.deployed_models.task IS 'Its task';
COMMENT ON COLUMN galaxy.deployed_models.traffic IS 'Traffic weight: 1.0 for the primary, the canary''s share otherwise';
COMMENT ON COLUMN galaxy.deployed_models.is_primary IS 'Whether it is the primary (it serves what the canaries leave)';
COMMENT ON COLUMN galaxy.deployed_models.strategy IS 'How it was deployed: specific, best, latest, rollback, or train''s deploy policy';
COMMENT ON COLUMN galaxy.deployed_models.reason IS 'Reason given when deploying';
COMMENT ON COLUMN galaxy.deployed_models.deployed_at IS 'Serving since';
COMMENT ON COLUMN galaxy.deployed_models.deployed_by IS 'Role that deployed it';
COMMENT ON COLUMN galaxy.deployed_models.trained_by IS 'Role that trained it';
COMMENT ON COLUMN galaxy.deployed_models.trained_at IS 'When it was registered';
COMMENT ON COLUMN galaxy.deployed_models.deployment_id IS 'Row of galaxy.deployments';

-- view: inference_routes
COMMENT ON COLUMN galaxy.inference_routes.project IS 'Project name';
COMMENT ON COLUMN galaxy.inference_routes.model IS 'Model id';
COMMENT ON COLUMN galaxy.inference_routes.version IS 'Its version';
COMMENT ON COLUMN galaxy.inference_routes.route IS 'primary or canary';
COMMENT ON COLUMN galaxy.inference_routes.traffic_share IS 'Share of the predictions it answers (the primary takes what the canaries leave)';

-- view: jobs_overview
COMMENT ON COLUMN galaxy.jobs_overview.job_id IS 'Job id';
COMMENT ON COLUMN galaxy.jobs_overview.project IS 'Project name';
COMMENT ON COLUMN galaxy.jobs_overview.algorithm IS 'Algorithm requested';
COMMENT ON COLUMN galaxy.jobs_overview.relation IS 'Relation to train on, as submitted';
COMMENT ON COLUMN galaxy.jobs_overview.target IS 'Target column, as submitted';
COMMENT ON COLUMN galaxy.jobs_overview.state IS 'queued, running, succeeded, failed or cancelled';
COMMENT ON COLUMN galaxy.jobs_overview.owner IS 'Role that submitted it (the worker runs as this role)';
COMMENT ON COLUMN galaxy.jobs_overview.priority IS 'Higher runs first';
COMMENT ON COLUMN galaxy.jobs_overview.attempts IS 'Attempts started';
COMMENT ON COLUMN galaxy.jobs_overview.retries IS 'Extra attempts allowed after a failure';
COMMENT ON COLUMN galaxy.jobs_overview.timeout IS 'Time limit of each attempt (NULL: galaxy.job_timeout)';
COMMENT ON COLUMN galaxy.jobs_overview.submitted_at IS 'When it was queued';
COMMENT ON COLUMN galaxy.jobs_overview.started_at IS 'When the last attempt started';
COMMENT ON COLUMN galaxy.jobs_overview.finished_at IS 'When it finished';
COMMENT ON COLUMN galaxy.jobs_overview.waiting IS 'Time in the queue so far (queued jobs only)';
COMMENT ON COLUMN galaxy.jobs_overview.run_time IS 'Duration of the last attempt (so far, for a running job)';
COMMENT ON COLUMN galaxy.jobs_overview.model_id IS 'Model the job registered';
COMMENT ON COLUMN galaxy.jobs_overview.model_version IS 'Its version';
COMMENT ON COLUMN galaxy.jobs_overview.worker_pid IS 'Process id of the training worker while it runs';
COMMENT ON COLUMN galaxy.jobs_overview.error_message IS 'Error of the last failed attempt';
COMMENT ON COLUMN galaxy.jobs_overview.error_sqlstate IS 'Its SQLSTATE';
COMMENT ON COLUMN galaxy.jobs_overview.error_context IS 'Its DETAIL, HINT and CONTEXT';

-- view: training_progress
COMMENT ON COLUMN galaxy.training_progress.job_id IS 'Job id (NULL for a galaxy.train() session)';
COMMENT ON COLUMN galaxy.training_progress.project IS 'Project name';
COMMENT ON COLUMN galaxy.training_progress.algorithm IS 'Algorithm being trained';
COMMENT ON COLUMN galaxy.training_progress.state IS 'training (a session), queued, running, succeeded, failed or cancelled';
COMMENT ON COLUMN galaxy.training_progress.owner IS 'Role training';
COMMENT ON COLUMN galaxy.training_progress.pid IS 'Process training: a galaxy training worker, or the session''s backend';
COMMENT ON COLUMN galaxy.training_progress.phase IS 'load, preprocess, cross-validate, fit, evaluate, register; starting, or the final state, for jobs not running live';
COMMENT ON COLUMN galaxy.training_progress.iteration IS 'Iteration (round, epoch) of the current loop';
COMMENT ON COLUMN galaxy.training_progress.total IS 'Iterations planned in the current loop';
COMMENT ON COLUMN galaxy.training_progress.percent IS '100 x iteration / total';
COMMENT ON COLUMN galaxy.training_progress.progress_bar IS 'percent as a text bar, [#######.............] 35%';
COMMENT ON COLUMN galaxy.training_progress.rows IS 'Training rows';
COMMENT ON COLUMN galaxy.training_progress.loss IS 'Training loss reported by the algorithm';
COMMENT ON COLUMN galaxy.training_progress.val_loss IS 'Validation loss reported by the algorithm';
COMMENT ON COLUMN galaxy.training_progress.metric IS 'Metric reported by the algorithm';
COMMENT ON COLUMN galaxy.training_progress.learning_rate IS 'Learning rate in use';
COMMENT ON COLUMN galaxy.training_progress.elapsed IS 'Time since the run started';
COMMENT ON COLUMN galaxy.training_progress.eta IS 'Estimated time left in the current loop';
COMMENT ON COLUMN galaxy.training_progress.started_at IS 'Start of the run';
COMMENT ON COLUMN galaxy.training_progress.updated_at IS 'Last progress report';
COMMENT ON COLUMN galaxy.training_progress.rows_per_second IS 'Rows processed per second so far (NULL for queued and finished jobs)';

-- deployment quality gates (65_gates.sql)
COMMENT ON COLUMN galaxy.deployment_gates.id IS 'Gate id';
COMMENT ON COLUMN galaxy.deployment_gates.project_id IS 'The project the gate belongs to; NULL: a default every project has';
COMMENT ON COLUMN galaxy.deployment_gates.metric IS 'What is compared: a key of the model''s metrics, size_bytes, predict_p50_ms or predict_p99_ms';
COMMENT ON COLUMN galaxy.deployment_gates.op IS 'The comparison the value must satisfy: >=, >, <= or <';
COMMENT ON COLUMN galaxy.deployment_gates.threshold IS 'The finite number the value is compared with';
COMMENT ON COLUMN galaxy.deployment_gates.set_by IS 'Role that set (or last changed) the gate';
COMMENT ON COLUMN galaxy.deployment_gates.set_at IS 'When the gate was set or last changed';

COMMENT ON COLUMN galaxy.model_latency.model_id IS 'The model measured';
COMMENT ON COLUMN galaxy.model_latency.project_id IS 'The model''s project';
COMMENT ON COLUMN galaxy.model_latency.p50_ms IS 'Median single-row predict time, milliseconds';
COMMENT ON COLUMN galaxy.model_latency.p99_ms IS '99th percentile of single-row predict time, milliseconds';
COMMENT ON COLUMN galaxy.model_latency.sample_rows IS 'Rows predicted one at a time for the measurement';
COMMENT ON COLUMN galaxy.model_latency.source IS 'Where the rows came from: relation (the training relation) or synthetic';
COMMENT ON COLUMN galaxy.model_latency.measured_by IS 'Role whose call measured it';
COMMENT ON COLUMN galaxy.model_latency.measured_at IS 'When it was measured';

COMMENT ON COLUMN galaxy.gates.project IS 'Project name, or * for a default every project has';
COMMENT ON COLUMN galaxy.gates.project_id IS 'Project id (NULL for a default)';
COMMENT ON COLUMN galaxy.gates.scope IS 'project (the project''s own gate) or default';
COMMENT ON COLUMN galaxy.gates.metric IS 'What is compared: a metrics key, size_bytes, predict_p50_ms or predict_p99_ms';
COMMENT ON COLUMN galaxy.gates.op IS 'Comparison: >=, >, <= or <';
COMMENT ON COLUMN galaxy.gates.threshold IS 'The number the value is compared with';
COMMENT ON COLUMN galaxy.gates.gate IS 'The gate as text, e.g. accuracy >= 0.975';
COMMENT ON COLUMN galaxy.gates.set_by IS 'Role that set the gate';
COMMENT ON COLUMN galaxy.gates.set_at IS 'When the gate was set';

COMMENT ON COLUMN galaxy.gate_results.project IS 'Project name';
COMMENT ON COLUMN galaxy.gate_results.project_id IS 'Project id';
COMMENT ON COLUMN galaxy.gate_results.model IS 'Model id';
COMMENT ON COLUMN galaxy.gate_results.version IS 'Model version (major.minor.patch)';
COMMENT ON COLUMN galaxy.gate_results.model_status IS 'The model''s registry status';
COMMENT ON COLUMN galaxy.gate_results.metric IS 'The gated metric';
COMMENT ON COLUMN galaxy.gate_results.op IS 'The gate''s comparison';
COMMENT ON COLUMN galaxy.gate_results.threshold IS 'The gate''s threshold';
COMMENT ON COLUMN galaxy.gate_results.scope IS 'project (the project''s own gate) or default';
COMMENT ON COLUMN galaxy.gate_results.value IS 'The model''s value of the metric (NULL: missing or not measured)';
COMMENT ON COLUMN galaxy.gate_results.value_source IS 'Where the value comes from: metrics, model (size_bytes), on_demand_relation or on_demand_synthetic';
COMMENT ON COLUMN galaxy.gate_results.status IS 'passed, failed, missing (no such metric: fails) or not_measured (latency not measured yet)';
COMMENT ON COLUMN galaxy.gate_results.passed IS 'Whether the model passes the gate (NULL while its latency is not measured)';
COMMENT ON COLUMN galaxy.gate_results.margin IS 'How far the value is on the passing side of the threshold; negative: how much it misses by';
COMMENT ON COLUMN galaxy.gate_results.gate IS 'The gate as text, e.g. accuracy >= 0.975';
