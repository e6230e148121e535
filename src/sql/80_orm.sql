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
