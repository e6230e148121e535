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
    dataset      text     DEFAULT NULL,
    search_trials integer DEFAULT NULL,
    search_metric text    DEFAULT NULL,
    search_objective text DEFAULT NULL,
    max_parameters bigint DEFAULT NULL
) RETURNS galaxy.models
    AS 'MODULE_PATHNAME', 'galaxy_train' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION galaxy.train(text, regclass, text, text, jsonb, float8, text, jsonb, integer, text, integer, text[], jsonb, text, text, integer, text, text, bigint) IS
    'Train a model synchronously: load the relation (as the caller), preprocess, optionally search hyperparameters or architectures (search, search_space, search_trials, search_metric, search_objective, max_parameters; algorithm auto with search auto tries every suitable algorithm), fit, evaluate on a held-out split, register a new version and deploy per policy (if_better, always, never)';

CREATE FUNCTION galaxy_internal.algorithm_list(
    OUT name text, OUT tasks text[], OUT description text, OUT default_scaling boolean, OUT n_hyperparameters integer)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'galaxy_algorithm_list' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.algorithm_list() IS 'The algorithms galaxy can train (rows behind galaxy.algorithms)';

CREATE FUNCTION galaxy_internal.algorithm_hyperparameter_list(
    OUT algorithm text, OUT name text, OUT type text, OUT default_value text,
    OUT min_value float8, OUT max_value float8, OUT min_exclusive boolean,
    OUT choices text, OUT description text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'galaxy_algorithm_hyperparameter_list' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.algorithm_hyperparameter_list() IS 'Every hyperparameter of every algorithm (rows behind galaxy.algorithm_hyperparameters)';

CREATE VIEW galaxy.algorithm_hyperparameters AS
    SELECT * FROM galaxy_internal.algorithm_hyperparameter_list();
COMMENT ON VIEW galaxy.algorithm_hyperparameters IS 'One row per algorithm and hyperparameter: type, default, range, choices, meaning';

CREATE VIEW galaxy.algorithms AS
    SELECT a.name, a.tasks, a.description, a.default_scaling,
           coalesce((SELECT jsonb_object_agg(h.name, jsonb_build_object(
                        'type', h.type, 'default', h.default_value, 'min', h.min_value,
                        'max', h.max_value, 'min_exclusive', h.min_exclusive,
                        'choices', h.choices, 'description', h.description))
                     FROM galaxy.algorithm_hyperparameters h WHERE h.algorithm = a.name),
                    '{}'::jsonb) AS hyperparameters
    FROM galaxy_internal.algorithm_list() a;
COMMENT ON VIEW galaxy.algorithms IS 'Algorithms with their tasks and hyperparameters (defaults and ranges)';
