-- ---------------------------------------------------------------------------
-- Inference and evaluation (src/api/predict.c, src/eval/evaluate.c)
-- ---------------------------------------------------------------------------

-- Whole-row predict on a plain table is rewritten at plan time into the
-- *_columns form, and predict on an ARRAY[...] of numbers into the *_values
-- form (src/api/predict_support.c): the columns or values arrive as arguments
-- instead of a composite or an array built for every row.  These functions
-- are what EXPLAIN shows; they can be called directly, but the whole-row and
-- array forms are the interface.
CREATE FUNCTION galaxy_internal.predict_support(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'galaxy_predict_support' LANGUAGE C STRICT;
COMMENT ON FUNCTION galaxy_internal.predict_support(internal) IS
    'Planner support of whole-row predict: rewrites galaxy.predict*(target, t) for a table t into the *_columns form';

CREATE FUNCTION galaxy_internal.predict_columns(project text, row_id tid, key text, names text[], VARIADIC "columns" "any") RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy_internal.predict_columns(model bigint, row_id tid, key text, names text[], VARIADIC "columns" "any") RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.predict_columns(text, tid, text, text[], "any") IS
    'What galaxy.predict(project, t) becomes for a table t: the row''s columns by name (NULL row_id: NULL result)';
COMMENT ON FUNCTION galaxy_internal.predict_columns(bigint, tid, text, text[], "any") IS
    'What galaxy.predict(model, t) becomes for a table t: the row''s columns by name (NULL row_id: NULL result)';

CREATE FUNCTION galaxy_internal.predict_proba_columns(project text, row_id tid, key text, names text[], VARIADIC "columns" "any") RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy_internal.predict_proba_columns(model bigint, row_id tid, key text, names text[], VARIADIC "columns" "any") RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.predict_proba_columns(text, tid, text, text[], "any") IS
    'What galaxy.predict_proba(project, t) becomes for a table t: the row''s columns by name (NULL row_id: NULL result)';
COMMENT ON FUNCTION galaxy_internal.predict_proba_columns(bigint, tid, text, text[], "any") IS
    'What galaxy.predict_proba(model, t) becomes for a table t: the row''s columns by name (NULL row_id: NULL result)';

CREATE FUNCTION galaxy_internal.predict_label_columns(project text, row_id tid, key text, names text[], VARIADIC "columns" "any") RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy_internal.predict_label_columns(model bigint, row_id tid, key text, names text[], VARIADIC "columns" "any") RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.predict_label_columns(text, tid, text, text[], "any") IS
    'What galaxy.predict_label(project, t) becomes for a table t: the row''s columns by name (NULL row_id: NULL result)';
COMMENT ON FUNCTION galaxy_internal.predict_label_columns(bigint, tid, text, text[], "any") IS
    'What galaxy.predict_label(model, t) becomes for a table t: the row''s columns by name (NULL row_id: NULL result)';

CREATE FUNCTION galaxy_internal.predict_values(project text, key text, VARIADIC "values" "any") RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy_internal.predict_values(model bigint, key text, VARIADIC "values" "any") RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.predict_values(text, text, "any") IS
    'What galaxy.predict(project, ARRAY[x1, ...]) becomes: the features as arguments, in order';
COMMENT ON FUNCTION galaxy_internal.predict_values(bigint, text, "any") IS
    'What galaxy.predict(model, ARRAY[x1, ...]) becomes: the features as arguments, in order';

CREATE FUNCTION galaxy_internal.predict_proba_values(project text, key text, VARIADIC "values" "any") RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy_internal.predict_proba_values(model bigint, key text, VARIADIC "values" "any") RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.predict_proba_values(text, text, "any") IS
    'What galaxy.predict_proba(project, ARRAY[x1, ...]) becomes: the features as arguments, in order';
COMMENT ON FUNCTION galaxy_internal.predict_proba_values(bigint, text, "any") IS
    'What galaxy.predict_proba(model, ARRAY[x1, ...]) becomes: the features as arguments, in order';

CREATE FUNCTION galaxy_internal.predict_label_values(project text, key text, VARIADIC "values" "any") RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy_internal.predict_label_values(model bigint, key text, VARIADIC "values" "any") RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.predict_label_values(text, text, "any") IS
    'What galaxy.predict_label(project, ARRAY[x1, ...]) becomes: the features as arguments, in order';
COMMENT ON FUNCTION galaxy_internal.predict_label_values(bigint, text, "any") IS
    'What galaxy.predict_label(model, ARRAY[x1, ...]) becomes: the features as arguments, in order';

-- By project: STABLE, because the deployed model can change between statements.
CREATE FUNCTION galaxy.predict(project text, features float8[], key text DEFAULT NULL) RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy_internal.predict_support;
CREATE FUNCTION galaxy.predict(project text, "row" record, key text DEFAULT NULL) RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy_internal.predict_support;
CREATE FUNCTION galaxy.predict(model bigint, features float8[]) RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy_internal.predict_support;
CREATE FUNCTION galaxy.predict(model bigint, "row" record) RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy_internal.predict_support;
COMMENT ON FUNCTION galaxy.predict(text, float8[], text) IS
    'Predict with the project''s deployed model (routed by key among canaries): value for regression, label (numeric labels) or class index for classification, cluster for clustering';
COMMENT ON FUNCTION galaxy.predict(text, record, text) IS
    'Predict from a whole row with the project''s deployed model; columns are matched to the model''s inputs by name';
COMMENT ON FUNCTION galaxy.predict(bigint, float8[]) IS 'Predict with a specific model';
COMMENT ON FUNCTION galaxy.predict(bigint, record) IS 'Predict from a whole row with a specific model';

CREATE FUNCTION galaxy.predict_proba(project text, features float8[], key text DEFAULT NULL) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy_internal.predict_support;
CREATE FUNCTION galaxy.predict_proba(project text, "row" record, key text DEFAULT NULL) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy_internal.predict_support;
CREATE FUNCTION galaxy.predict_proba(model bigint, features float8[]) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy_internal.predict_support;
CREATE FUNCTION galaxy.predict_proba(model bigint, "row" record) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy_internal.predict_support;
COMMENT ON FUNCTION galaxy.predict_proba(text, float8[], text) IS 'Class probabilities (in the order of the model''s labels) from the project''s deployed model';
COMMENT ON FUNCTION galaxy.predict_proba(text, record, text) IS 'Class probabilities for a whole row from the project''s deployed model';
COMMENT ON FUNCTION galaxy.predict_proba(bigint, float8[]) IS 'Class probabilities from a specific model';
COMMENT ON FUNCTION galaxy.predict_proba(bigint, record) IS 'Class probabilities for a whole row from a specific model';

CREATE FUNCTION galaxy.predict_label(project text, features float8[], key text DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy_internal.predict_support;
CREATE FUNCTION galaxy.predict_label(project text, "row" record, key text DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy_internal.predict_support;
CREATE FUNCTION galaxy.predict_label(model bigint, features float8[]) RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy_internal.predict_support;
CREATE FUNCTION galaxy.predict_label(model bigint, "row" record) RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT galaxy_internal.predict_support;
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

-- On a galaxy.model value: no registry is read, so these run where there is
-- none, such as Citus worker nodes; galaxy.serving_model() is the value of
-- the project's serving model, read once (on the coordinator) and shipped
-- with the query (docs/citus.md, docs/adr/0004-predict-on-citus-workers.md).
-- IMMUTABLE: the answer depends on the arguments only.
CREATE FUNCTION galaxy.serving_model(project text, key text DEFAULT NULL) RETURNS galaxy.model
    AS 'MODULE_PATHNAME', 'galaxy_serving_model' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION galaxy.predict(model galaxy.model, features float8[]) RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy.predict(model galaxy.model, "row" record) RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_predict' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_proba(model galaxy.model, features float8[]) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_proba(model galaxy.model, "row" record) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_predict_proba' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_label(model galaxy.model, features float8[]) RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy.predict_label(model galaxy.model, "row" record) RETURNS text
    AS 'MODULE_PATHNAME', 'galaxy_predict_label' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.serving_model(text, text) IS
    'The galaxy.model value serving the project now (routed by key among canaries), to ship with a query to nodes without the registry (Citus workers)';
COMMENT ON FUNCTION galaxy.predict(galaxy.model, float8[]) IS 'Predict with a model value (from galaxy.serving_model): reads no registry, so it runs on Citus workers';
COMMENT ON FUNCTION galaxy.predict(galaxy.model, record) IS 'Predict from a whole row with a model value: reads no registry, so it runs on Citus workers';
COMMENT ON FUNCTION galaxy.predict_proba(galaxy.model, float8[]) IS 'Class probabilities from a model value: reads no registry, so it runs on Citus workers';
COMMENT ON FUNCTION galaxy.predict_proba(galaxy.model, record) IS 'Class probabilities for a whole row from a model value: reads no registry';
COMMENT ON FUNCTION galaxy.predict_label(galaxy.model, float8[]) IS 'The predicted label from a model value: reads no registry, so it runs on Citus workers';
COMMENT ON FUNCTION galaxy.predict_label(galaxy.model, record) IS 'The predicted label for a whole row from a model value: reads no registry';

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
