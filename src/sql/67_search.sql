-- ---------------------------------------------------------------------------
-- Hyperparameter search (src/api/search.c, run by the training pipeline in
-- src/api/train.c): one row per search and one per trial, written as each
-- trial finishes.
-- ---------------------------------------------------------------------------

CREATE TABLE galaxy.searches (
    id               bigserial PRIMARY KEY,
    project_id       bigint NOT NULL REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    algorithm        text NOT NULL,
    strategy         text NOT NULL CHECK (strategy IN ('grid', 'random', 'bayesian', 'halving', 'auto')),
    space            jsonb NOT NULL,
    budget           integer NOT NULL CHECK (budget >= 1),
    metric           text NOT NULL,
    higher_is_better boolean NOT NULL,
    folds            integer CHECK (folds IS NULL OR folds >= 2),
    seed             integer NOT NULL,
    state            text NOT NULL DEFAULT 'running'
                     CHECK (state IN ('running', 'succeeded', 'failed')),
    trials_done      integer NOT NULL DEFAULT 0 CHECK (trials_done >= 0),
    trials_failed    integer NOT NULL DEFAULT 0 CHECK (trials_failed >= 0),
    best_trial       integer,
    best_score       float8,
    best_hyperparams jsonb,
    model_id         bigint,          -- no foreign key: models.search_id points here
    job_id           bigint REFERENCES galaxy.jobs (id) ON DELETE SET NULL,
    started_by       name NOT NULL DEFAULT current_user,
    started_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at      timestamptz,
    objective        text NOT NULL DEFAULT 'accuracy' CHECK (objective IN ('accuracy', 'accuracy_per_ms')),
    max_parameters   bigint CHECK (max_parameters > 0),
    trials_skipped   integer NOT NULL DEFAULT 0 CHECK (trials_skipped >= 0),
    CHECK (trials_failed <= trials_done AND trials_done <= budget),
    CHECK (finished_at IS NULL OR finished_at >= started_at)
);
CREATE INDEX searches_project_idx ON galaxy.searches (project_id, started_at DESC);
COMMENT ON TABLE galaxy.searches IS 'Hyperparameter searches: space, budget, state and best trial of each';

CREATE TABLE galaxy.trials (
    search_id      bigint NOT NULL REFERENCES galaxy.searches (id) ON DELETE CASCADE,
    trial          integer NOT NULL CHECK (trial >= 1),
    rung           integer CHECK (rung >= 0),
    project_id     bigint NOT NULL REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    hyperparams    jsonb NOT NULL,
    state          text NOT NULL CHECK (state IN ('succeeded', 'failed', 'skipped')),
    score          float8,
    score_std      float8,
    fold_scores    float8[],
    metrics        jsonb,
    fit_seconds    float8 CHECK (fit_seconds >= 0),
    error_message  text,
    error_sqlstate text,
    finished_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    algorithm      text,
    architecture   jsonb,
    parameters     bigint CHECK (parameters >= 0),
    predict_ms_per_row float8 CHECK (predict_ms_per_row >= 0),
    objective      float8,
    PRIMARY KEY (search_id, trial),
    CHECK (state = 'succeeded' OR error_message IS NOT NULL)
);
COMMENT ON TABLE galaxy.trials IS 'One row per trial of a hyperparameter search: its values, per-fold and mean scores, time and state';

ALTER TABLE galaxy.models ADD COLUMN search_id bigint REFERENCES galaxy.searches (id) ON DELETE SET NULL;

SELECT pg_catalog.pg_extension_config_dump('galaxy.searches', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.searches_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.trials', '');
REVOKE ALL ON galaxy.searches, galaxy.trials FROM PUBLIC;
