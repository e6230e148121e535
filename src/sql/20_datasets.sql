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
