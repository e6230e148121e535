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
