-- ---------------------------------------------------------------------------
-- Scale out (issue #18): the galaxy.moments type and the sufficient-statistic
-- aggregates (src/scale/).  Their state is a real type with text and binary
-- I/O and a combine function, so PostgreSQL runs them in parallel workers and
-- Citus pushes them down to its worker nodes.  New in 0.2.0: the Makefile
-- appends this whole file to the 0.1.0 -> 0.2.0 update (UPGRADE_NEW_PARTS).
-- ---------------------------------------------------------------------------
CREATE TYPE galaxy.moments;

CREATE FUNCTION galaxy_internal.moments_in(cstring) RETURNS galaxy.moments
    AS 'MODULE_PATHNAME', 'galaxy_moments_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy_internal.moments_out(galaxy.moments) RETURNS cstring
    AS 'MODULE_PATHNAME', 'galaxy_moments_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy_internal.moments_recv(internal) RETURNS galaxy.moments
    AS 'MODULE_PATHNAME', 'galaxy_moments_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy_internal.moments_send(galaxy.moments) RETURNS bytea
    AS 'MODULE_PATHNAME', 'galaxy_moments_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE galaxy.moments (
    INPUT = galaxy_internal.moments_in,
    OUTPUT = galaxy_internal.moments_out,
    RECEIVE = galaxy_internal.moments_recv,
    SEND = galaxy_internal.moments_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE galaxy.moments IS 'Sufficient statistics of a regression problem (counts, means, centred cross products of features and target; sums for rows with NULLs): the state of galaxy.regression_moments';
COMMENT ON FUNCTION galaxy_internal.moments_in(cstring) IS 'Text input for galaxy.moments ("GMO1:" + hexadecimal); validates the whole value';
COMMENT ON FUNCTION galaxy_internal.moments_out(galaxy.moments) IS 'Text output for galaxy.moments ("GMO1:" + hexadecimal)';
COMMENT ON FUNCTION galaxy_internal.moments_recv(internal) IS 'Binary input for galaxy.moments; validates the whole value';
COMMENT ON FUNCTION galaxy_internal.moments_send(galaxy.moments) IS 'Binary output for galaxy.moments';

CREATE FUNCTION galaxy_internal.moments_accum(galaxy.moments, float8, float8[]) RETURNS galaxy.moments
    AS 'MODULE_PATHNAME', 'galaxy_moments_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION galaxy_internal.split_moments_accum(galaxy.moments, float8, float8[], int8, float8, int4)
    RETURNS galaxy.moments
    AS 'MODULE_PATHNAME', 'galaxy_moments_split_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION galaxy_internal.split_moments_values_accum(galaxy.moments, float8, int8, float8, int4, VARIADIC "any")
    RETURNS galaxy.moments
    AS 'MODULE_PATHNAME', 'galaxy_moments_split_values_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.split_moments_values_accum(galaxy.moments, float8, int8, float8, int4, "any") IS 'Transition function of galaxy_internal.split_moments_values';
CREATE FUNCTION galaxy_internal.moments_combine(galaxy.moments, galaxy.moments) RETURNS galaxy.moments
    AS 'MODULE_PATHNAME', 'galaxy_moments_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.moments_accum(galaxy.moments, float8, float8[]) IS 'Transition function of galaxy.regression_moments (Welford''s update)';
COMMENT ON FUNCTION galaxy_internal.split_moments_accum(galaxy.moments, float8, float8[], int8, float8, int4) IS 'Transition function of galaxy_internal.split_moments';
COMMENT ON FUNCTION galaxy_internal.moments_combine(galaxy.moments, galaxy.moments) IS 'Combine function of the moments aggregates (Chan''s pairwise merge)';

CREATE AGGREGATE galaxy.regression_moments(y float8, x float8[]) (
    SFUNC = galaxy_internal.moments_accum,
    STYPE = galaxy.moments,
    COMBINEFUNC = galaxy_internal.moments_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE galaxy.regression_moments(float8, float8[]) IS 'Sufficient statistics of regressing y on x[] over the rows (NULL y skipped, NULL elements of x kept for imputation): parallel, and pushed down by Citus';

CREATE AGGREGATE galaxy_internal.split_moments(y float8, x float8[], seed int8, test_size float8, sample_level int4) (
    SFUNC = galaxy_internal.split_moments_accum,
    STYPE = galaxy.moments,
    COMBINEFUNC = galaxy_internal.moments_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE galaxy_internal.split_moments(float8, float8[], int8, float8, int4) IS 'galaxy.regression_moments with a held-out part chosen per row by a hash of its values and the seed (the streaming solver''s pass); unless sample_level is NULL, also a sample of the rows (those whose second hash is below 2^-level, the level raised past 32,768 rows or about 8 MB), the model''s training profile';

CREATE FUNCTION galaxy.moments_ols(moments galaxy.moments, alpha float8 DEFAULT 0,
                                   fit_intercept boolean DEFAULT true) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_moments_ols' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.moments_ols(galaxy.moments, float8, boolean) IS 'Least-squares (ridge when alpha > 0) coefficients {intercept, b1, ..., bp} of y on x in their own units, from galaxy.regression_moments; NULL features imputed with their mean';

CREATE FUNCTION galaxy.moments_summary(moments galaxy.moments) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'galaxy_moments_summary' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION galaxy.moments_summary(galaxy.moments) IS 'Rows, and per column (the features, then the target) count, mean, standard deviation, minimum and maximum of a galaxy.moments value';

CREATE AGGREGATE galaxy_internal.split_moments_values(y float8, seed int8, test_size float8, sample_level int4, VARIADIC x "any") (
    SFUNC = galaxy_internal.split_moments_values_accum,
    STYPE = galaxy.moments,
    COMBINEFUNC = galaxy_internal.moments_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE galaxy_internal.split_moments_values(float8, int8, float8, int4, VARIADIC "any") IS 'galaxy_internal.split_moments with the features as separate float8 arguments (no array built per row): the streaming solver''s pass on a local relation';

-- ---------------------------------------------------------------------------
-- galaxy.newton: one Newton (IRLS) pass of binary logistic regression (the
-- streaming solver of logistic_regression): at a point carried in the
-- state, the weighted log-loss, gradient and Hessian of the training rows,
-- and the log-loss and confusion counts of the held-out rows.
-- ---------------------------------------------------------------------------
CREATE TYPE galaxy.newton;

CREATE FUNCTION galaxy_internal.newton_in(cstring) RETURNS galaxy.newton
    AS 'MODULE_PATHNAME', 'galaxy_newton_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy_internal.newton_out(galaxy.newton) RETURNS cstring
    AS 'MODULE_PATHNAME', 'galaxy_newton_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy_internal.newton_recv(internal) RETURNS galaxy.newton
    AS 'MODULE_PATHNAME', 'galaxy_newton_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION galaxy_internal.newton_send(galaxy.newton) RETURNS bytea
    AS 'MODULE_PATHNAME', 'galaxy_newton_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE galaxy.newton (
    INPUT = galaxy_internal.newton_in,
    OUTPUT = galaxy_internal.newton_out,
    RECEIVE = galaxy_internal.newton_recv,
    SEND = galaxy_internal.newton_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE galaxy.newton IS 'One Newton pass of binary logistic regression at a point (weighted log-loss, gradient and Hessian of the training rows; log-loss and confusion counts of the held-out rows): the state of galaxy_internal.logistic_pass';
COMMENT ON FUNCTION galaxy_internal.newton_in(cstring) IS 'Text input for galaxy.newton ("GNS1:" + hexadecimal); validates the whole value';
COMMENT ON FUNCTION galaxy_internal.newton_out(galaxy.newton) IS 'Text output for galaxy.newton ("GNS1:" + hexadecimal)';
COMMENT ON FUNCTION galaxy_internal.newton_recv(internal) IS 'Binary input for galaxy.newton; validates the whole value';
COMMENT ON FUNCTION galaxy_internal.newton_send(galaxy.newton) IS 'Binary output for galaxy.newton';

CREATE FUNCTION galaxy_internal.logistic_pass_accum(galaxy.newton, float8, int8, float8, float8[], VARIADIC "any")
    RETURNS galaxy.newton
    AS 'MODULE_PATHNAME', 'galaxy_logistic_pass_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION galaxy_internal.logistic_pass_array_accum(galaxy.newton, float8, float8[], int8, float8, float8[])
    RETURNS galaxy.newton
    AS 'MODULE_PATHNAME', 'galaxy_logistic_pass_array_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION galaxy_internal.newton_combine(galaxy.newton, galaxy.newton) RETURNS galaxy.newton
    AS 'MODULE_PATHNAME', 'galaxy_newton_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.logistic_pass_accum(galaxy.newton, float8, int8, float8, float8[], "any") IS 'Transition function of galaxy_internal.logistic_pass';
COMMENT ON FUNCTION galaxy_internal.logistic_pass_array_accum(galaxy.newton, float8, float8[], int8, float8, float8[]) IS 'Transition function of galaxy_internal.logistic_pass_array';
COMMENT ON FUNCTION galaxy_internal.newton_combine(galaxy.newton, galaxy.newton) IS 'Combine function of the logistic pass aggregates (sums; the points must be equal)';

CREATE AGGREGATE galaxy_internal.logistic_pass(y float8, seed int8, test_size float8, point float8[], VARIADIC x "any") (
    SFUNC = galaxy_internal.logistic_pass_accum,
    STYPE = galaxy.newton,
    COMBINEFUNC = galaxy_internal.newton_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE galaxy_internal.logistic_pass(float8, int8, float8, float8[], VARIADIC "any") IS 'One Newton pass of binary logistic regression (y 0 or 1) at point {w0, w1, intercept, coef[p], center[p], scale[p], fill[p]}, rows split as galaxy_internal.split_moments splits them: the streaming solver''s pass on a local relation';

CREATE AGGREGATE galaxy_internal.logistic_pass_array(y float8, x float8[], seed int8, test_size float8, point float8[]) (
    SFUNC = galaxy_internal.logistic_pass_array_accum,
    STYPE = galaxy.newton,
    COMBINEFUNC = galaxy_internal.newton_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE galaxy_internal.logistic_pass_array(float8, float8[], int8, float8, float8[]) IS 'galaxy_internal.logistic_pass with the features as an array (the form pushed down to Citus)';

-- ---------------------------------------------------------------------------
-- The later passes of the streaming solver (src/scale/passes_sql.c): their
-- state is a float8[] (header {tag, k, ...} and two parts: training and
-- held-out rows), summed by one combine function.  naive_bayes's scoring
-- pass and k-means's Lloyd pass; the key of k-means's sample.
-- ---------------------------------------------------------------------------
CREATE FUNCTION galaxy_internal.pass_combine(float8[], float8[]) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_pass_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.pass_combine(float8[], float8[]) IS 'Combine function of galaxy_internal.nb_score and kmeans_pass (sums; validates both states)';

CREATE FUNCTION galaxy_internal.nb_score_accum(float8[], float8, int8, float8, float8[], VARIADIC "any")
    RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_nb_score_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.nb_score_accum(float8[], float8, int8, float8, float8[], "any") IS 'Transition function of galaxy_internal.nb_score';
CREATE FUNCTION galaxy_internal.nb_score_array_accum(float8[], float8, float8[], int8, float8, float8[])
    RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_nb_score_array_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.nb_score_array_accum(float8[], float8, float8[], int8, float8, float8[]) IS 'Transition function of galaxy_internal.nb_score_array';

CREATE AGGREGATE galaxy_internal.nb_score(y float8, seed int8, test_size float8, model float8[], VARIADIC x "any") (
    SFUNC = galaxy_internal.nb_score_accum,
    STYPE = float8[],
    COMBINEFUNC = galaxy_internal.pass_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE galaxy_internal.nb_score(float8, int8, float8, float8[], VARIADIC "any") IS 'The scoring pass of streaming naive Bayes: rows (y a class index) split as galaxy_internal.split_moments splits them, predicted with the model {k, p, distribution, var_smoothing, alpha, binarize, fit_prior, held_out_only, center[p], scale[p], fill[p], class weights[k], sums[k p], squares[k p]}; per part the rows, log-loss and confusion counts (held_out_only 1: training rows counted, not scored)';

CREATE AGGREGATE galaxy_internal.nb_score_array(y float8, x float8[], seed int8, test_size float8, model float8[]) (
    SFUNC = galaxy_internal.nb_score_array_accum,
    STYPE = float8[],
    COMBINEFUNC = galaxy_internal.pass_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE galaxy_internal.nb_score_array(float8, float8[], int8, float8, float8[]) IS 'galaxy_internal.nb_score with the features as an array (the form pushed down to Citus)';

CREATE FUNCTION galaxy_internal.kmeans_pass_accum(float8[], int8, float8, float8[], VARIADIC "any")
    RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_kmeans_pass_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.kmeans_pass_accum(float8[], int8, float8, float8[], "any") IS 'Transition function of galaxy_internal.kmeans_pass';
CREATE FUNCTION galaxy_internal.kmeans_pass_array_accum(float8[], float8[], int8, float8, float8[])
    RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_kmeans_pass_array_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.kmeans_pass_array_accum(float8[], float8[], int8, float8, float8[]) IS 'Transition function of galaxy_internal.kmeans_pass_array';

CREATE AGGREGATE galaxy_internal.kmeans_pass(seed int8, test_size float8, centres float8[], VARIADIC x "any") (
    SFUNC = galaxy_internal.kmeans_pass_accum,
    STYPE = float8[],
    COMBINEFUNC = galaxy_internal.pass_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE galaxy_internal.kmeans_pass(int8, float8, float8[], VARIADIC "any") IS 'One Lloyd pass of streaming k-means at the centres {k, p, centres[k p], center[p], scale[p], fill[p]}, rows split as galaxy_internal.split_moments splits them (target 0): per part and cluster the rows, sums and squared norms, the inertia and the farthest row';

CREATE AGGREGATE galaxy_internal.kmeans_pass_array(x float8[], seed int8, test_size float8, centres float8[]) (
    SFUNC = galaxy_internal.kmeans_pass_array_accum,
    STYPE = float8[],
    COMBINEFUNC = galaxy_internal.pass_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE galaxy_internal.kmeans_pass_array(float8[], int8, float8, float8[]) IS 'galaxy_internal.kmeans_pass with the features as an array (the form pushed down to Citus)';

CREATE FUNCTION galaxy_internal.stream_sample_key(seed int8, test_size float8, part int4, VARIADIC x "any")
    RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_stream_sample_key' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.stream_sample_key(int8, float8, int4, "any") IS 'A row''s sampling key in [0, 1) (a hash of its values and the seed) when the split puts it in part 0 (training) or 1 (held out), else NULL: streaming k-means''s samples';
CREATE FUNCTION galaxy_internal.stream_sample_key_array(x float8[], seed int8, test_size float8, part int4)
    RETURNS float8
    AS 'MODULE_PATHNAME', 'galaxy_stream_sample_key_array' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.stream_sample_key_array(float8[], int8, float8, int4) IS 'galaxy_internal.stream_sample_key with the features as an array';

-- ---------------------------------------------------------------------------
-- Multinomial logistic regression's Newton pass (three classes or more) and
-- a logistic model's class probabilities of one part's rows (the scores of
-- the streamed roc_auc): src/scale/passes_sql.c.
-- ---------------------------------------------------------------------------
CREATE FUNCTION galaxy_internal.softmax_pass_accum(float8[], float8, int8, float8, float8[], VARIADIC "any")
    RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_softmax_pass_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.softmax_pass_accum(float8[], float8, int8, float8, float8[], "any") IS 'Transition function of galaxy_internal.softmax_pass';
CREATE FUNCTION galaxy_internal.softmax_pass_array_accum(float8[], float8, float8[], int8, float8, float8[])
    RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_softmax_pass_array_accum' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.softmax_pass_array_accum(float8[], float8, float8[], int8, float8, float8[]) IS 'Transition function of galaxy_internal.softmax_pass_array';
CREATE FUNCTION galaxy_internal.softmax_pass_final(float8[]) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_softmax_pass_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.softmax_pass_final(float8[]) IS 'Final function of galaxy_internal.softmax_pass: the state with its buffered training rows summed';

CREATE AGGREGATE galaxy_internal.softmax_pass(y float8, seed int8, test_size float8, point float8[], VARIADIC x "any") (
    SFUNC = galaxy_internal.softmax_pass_accum,
    STYPE = float8[],
    FINALFUNC = galaxy_internal.softmax_pass_final,
    COMBINEFUNC = galaxy_internal.pass_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE galaxy_internal.softmax_pass(float8, int8, float8, float8[], VARIADIC "any") IS 'One Newton pass of multinomial logistic regression (y a class index, 3 classes or more, at most 1024 parameters) at point {k, p, class weights[k], theta[k (p+1)], center[p], scale[p], fill[p]}, rows split as galaxy_internal.split_moments splits them: per part the rows, weight, log-losses and confusion counts; for the training rows the gradient and Hessian';

CREATE AGGREGATE galaxy_internal.softmax_pass_array(y float8, x float8[], seed int8, test_size float8, point float8[]) (
    SFUNC = galaxy_internal.softmax_pass_array_accum,
    STYPE = float8[],
    FINALFUNC = galaxy_internal.softmax_pass_final,
    COMBINEFUNC = galaxy_internal.pass_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE galaxy_internal.softmax_pass_array(float8, float8[], int8, float8, float8[]) IS 'galaxy_internal.softmax_pass with the features as an array (the form pushed down to Citus)';

CREATE FUNCTION galaxy_internal.logistic_proba(y float8, seed int8, test_size float8, part int4, model float8[], VARIADIC x "any")
    RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_logistic_proba' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.logistic_proba(float8, int8, float8, int4, float8[], "any") IS 'The class probabilities of a logistic_regression model {k, p, theta[o (p+1)], center[p], scale[p], fill[p]} (o = 1 output for two classes, else k) for a row split into part 0 (training) or 1 (held out) as galaxy_internal.split_moments splits them; NULL for a row of the other part or a NULL target (the scores of the streamed roc_auc)';
CREATE FUNCTION galaxy_internal.logistic_proba_array(y float8, x float8[], seed int8, test_size float8, part int4, model float8[])
    RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_logistic_proba_array' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.logistic_proba_array(float8, float8[], int8, float8, int4, float8[]) IS 'galaxy_internal.logistic_proba with the features as an array';
CREATE FUNCTION galaxy_internal.nb_proba(y float8, seed int8, test_size float8, part int4, model float8[], VARIADIC x "any")
    RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_nb_proba' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.nb_proba(float8, int8, float8, int4, float8[], "any") IS 'The class probabilities of a naive_bayes model (the model of galaxy_internal.nb_score) for a row split into part 0 (training) or 1 (held out) as galaxy_internal.split_moments splits them; NULL for a row of the other part or a NULL target (the scores of the streamed roc_auc)';
CREATE FUNCTION galaxy_internal.nb_proba_array(y float8, x float8[], seed int8, test_size float8, part int4, model float8[])
    RETURNS float8[]
    AS 'MODULE_PATHNAME', 'galaxy_nb_proba_array' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION galaxy_internal.nb_proba_array(float8, float8[], int8, float8, int4, float8[]) IS 'galaxy_internal.nb_proba with the features as an array';
