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
    search_trials integer DEFAULT NULL,
    search_metric text    DEFAULT NULL,
    search_objective text DEFAULT NULL,
    max_parameters bigint DEFAULT NULL,
    priority     integer  DEFAULT 0,
    retries      integer  DEFAULT 0,
    timeout      interval DEFAULT NULL
) RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_submit' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION galaxy.submit(text, regclass, text, text, jsonb, float8, text, jsonb, integer, text, integer, text[], jsonb, text, text, integer, text, text, bigint, integer, integer, interval) IS
    'Queue a background training job with galaxy.train()''s arguments (validated now); a worker runs it as the calling role after COMMIT; returns the job id; audited';

CREATE FUNCTION galaxy.cancel(job bigint) RETURNS galaxy.jobs
    AS 'MODULE_PATHNAME', 'galaxy_cancel' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION galaxy.cancel(bigint) IS
    'Cancel a job: a queued one at once, a running one within a second (its worker stops, no model is registered); returns the job row; audited';

CREATE FUNCTION galaxy.wait(job bigint, timeout interval DEFAULT NULL) RETURNS galaxy.jobs
    AS 'MODULE_PATHNAME', 'galaxy_wait' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION galaxy.wait(bigint, interval) IS
    'Block until a job has finished (succeeded, failed or cancelled) and return its row; after timeout, return the row as it is (state queued or running)';

CREATE FUNCTION galaxy_internal.progress_slots(
    OUT pid integer, OUT job_id bigint, OUT role oid, OUT project text, OUT algorithm text,
    OUT phase text, OUT iteration integer, OUT total integer, OUT rows bigint,
    OUT loss float8, OUT val_loss float8, OUT metric float8, OUT learning_rate float8,
    OUT started_at timestamptz, OUT updated_at timestamptz, OUT eta_seconds float8,
    OUT rows_per_second float8)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'galaxy_progress_slots' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION galaxy_internal.progress_slots() IS
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
      FROM galaxy_internal.progress_slots() s
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
