-- ---------------------------------------------------------------------------
-- Inference logging (src/monitor/inference_log.c), schedules and alerts
-- (src/monitor/schedule.c, src/monitor/cron.c).  The monitor worker that the
-- launcher starts per database writes the log and runs the schedules.
-- ---------------------------------------------------------------------------

-- Which projects log their predictions, how many of them and for how long.
CREATE TABLE galaxy.inference_logging (
    project_id  bigint PRIMARY KEY REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    sample_rate float8 NOT NULL CHECK (sample_rate > 0 AND sample_rate <= 1),
    retention   interval NOT NULL CHECK (retention > interval '0'),
    set_by      name NOT NULL DEFAULT current_user,
    set_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE galaxy.inference_logging IS 'Projects whose predictions are logged to galaxy.inference_log (galaxy.set_logging): the share logged and how long rows are kept';
SELECT pg_catalog.pg_extension_config_dump('galaxy.inference_logging', '');

-- Logged predictions: written in batches by the monitor worker.
CREATE TABLE galaxy.inference_log (
    logged_at   timestamptz NOT NULL,
    project_id  bigint NOT NULL,
    model_id    bigint NOT NULL,
    prediction  float8,
    features    float8[]
);
CREATE INDEX inference_log_project_idx ON galaxy.inference_log (project_id, logged_at);
COMMENT ON TABLE galaxy.inference_log IS 'Predictions of the logged projects (galaxy.set_logging): time, model, the raw input values as the model read them (NaN for NULL; a categorical input as -(k + 2), k its category''s index) and the prediction; galaxy.inference_log_rows shows them by feature name';
SELECT pg_catalog.pg_extension_config_dump('galaxy.inference_log', '');

CREATE FUNCTION galaxy.set_logging(project text, sample_rate float8 DEFAULT 1.0,
                                   retention interval DEFAULT '7 days')
    RETURNS void
    AS 'MODULE_PATHNAME', 'galaxy_set_logging' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.set_logging(text, float8, interval) IS
'Log that share (0 to 1; 0 or NULL: off) of a project''s galaxy.predict() calls to galaxy.inference_log, kept for retention; needs the deploy privilege; audited';

CREATE FUNCTION galaxy.flush_inference_log(timeout float8 DEFAULT 10) RETURNS boolean
    AS 'MODULE_PATHNAME', 'galaxy_flush_inference_log' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.flush_inference_log(float8) IS
'Wait (up to timeout seconds) until every prediction logged before the call is committed to galaxy.inference_log; true when it is';

CREATE FUNCTION galaxy_internal.inference_log_state(
    OUT buffer_slots bigint, OUT waiting bigint, OUT logged bigint, OUT dropped bigint)
    RETURNS record
    AS 'MODULE_PATHNAME', 'galaxy_inference_log_state' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy_internal.inference_log_state() IS
'The inference-log ring in shared memory, for the whole server: its slots, predictions waiting to be written, logged since the start and dropped (the ring was full)';

CREATE VIEW galaxy.inference_log_status AS
SELECT s.buffer_slots, s.waiting, s.logged, s.dropped,
       (SELECT count(*) FROM galaxy.inference_logging) AS projects_logged
  FROM galaxy_internal.inference_log_state() s;
COMMENT ON VIEW galaxy.inference_log_status IS
'Inference logging now: ring slots, predictions waiting to be written, logged and dropped since the server started (whole server), and the number of logged projects';

-- The SELECT list that turns a logged row's features into the named
-- columns of the project's model (the deployed primary, else the newest).
CREATE FUNCTION galaxy_internal.inference_log_columns(project_id bigint) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, galaxy, pg_temp
AS $fn$
DECLARE
    mid bigint;
    inputs jsonb;
    inp jsonb;
    cols text := '';
    i int := 0;
BEGIN
    SELECT coalesce((SELECT d.model_id FROM galaxy.deployments d
                      WHERE d.project_id = $1 AND d.retired_at IS NULL AND d.traffic >= 1.0
                      ORDER BY d.id DESC LIMIT 1),
                    (SELECT max(m.id) FROM galaxy.models m WHERE m.project_id = $1 AND m.status <> 'training'))
      INTO mid;
    IF mid IS NULL THEN
        RAISE EXCEPTION 'the project has no model' USING ERRCODE = '55000';
    END IF;
    inputs := galaxy.describe(mid) -> 'preprocess' -> 'inputs';
    IF inputs IS NULL OR jsonb_typeof(inputs) <> 'array' THEN
        RAISE EXCEPTION 'model % does not describe its inputs', mid USING ERRCODE = '55000';
    END IF;
    FOR inp IN SELECT e FROM jsonb_array_elements(inputs) e LOOP
        i := i + 1;
        IF coalesce((inp ->> 'width')::int, 1) <> 1 OR inp ->> 'kind' NOT IN ('numeric', 'boolean', 'categorical') THEN
            RAISE EXCEPTION 'feature "%" of model % is a % input: only numeric, boolean and categorical inputs can be read back from the inference log',
                inp ->> 'name', mid, inp ->> 'kind' USING ERRCODE = '0A000';
        END IF;
        IF inp ->> 'kind' = 'categorical' AND inp -> 'categories' IS NULL THEN
            RAISE EXCEPTION 'feature "%" of model % is a hashed categorical input: its categories cannot be read back from the inference log',
                inp ->> 'name', mid USING ERRCODE = '0A000';
        ELSIF inp ->> 'kind' = 'categorical' THEN
            cols := cols || format(', (%L::jsonb ->> (-(l.features[%s])::int - 2)) AS %I',
                                   coalesce(inp -> 'categories', '[]'), i, inp ->> 'name');
        ELSIF inp ->> 'kind' = 'boolean' THEN
            cols := cols || format(', (NULLIF(l.features[%s], ''NaN'') <> 0) AS %I', i, inp ->> 'name');
        ELSE
            cols := cols || format(', NULLIF(l.features[%s], ''NaN'') AS %I', i, inp ->> 'name');
        END IF;
    END LOOP;
    RETURN format('l.logged_at, l.model_id, l.prediction%s', cols);
END
$fn$;
COMMENT ON FUNCTION galaxy_internal.inference_log_columns(bigint) IS
'The SELECT list (over galaxy.inference_log l) that names a logged row''s features as the project''s model does; ERROR for a model with array or text inputs';

-- The logged predictions of a project in a window, one column per feature.
CREATE FUNCTION galaxy.inference_log_rows(project text, since interval DEFAULT '1 hour')
    RETURNS regclass
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, galaxy, pg_temp
AS $fn$
DECLARE
    pid bigint;
    v text;
BEGIN
    SELECT p.id INTO pid FROM galaxy.projects p WHERE p.name = $1;
    IF pid IS NULL OR NOT galaxy_internal.project_visible(pid) THEN
        RAISE EXCEPTION 'project "%" does not exist', $1 USING ERRCODE = '42704';
    END IF;
    IF since IS NULL OR since <= interval '0' THEN
        RAISE EXCEPTION 'since must be a positive interval' USING ERRCODE = '22023';
    END IF;
    v := 'galaxy_log_' || pid;
    EXECUTE format('CREATE OR REPLACE TEMP VIEW %I AS SELECT %s FROM galaxy.inference_log l'
                   ' WHERE l.project_id = %s AND l.logged_at >= now() - %L::interval',
                   v, galaxy_internal.inference_log_columns(pid), pid, since);
    RETURN format('pg_temp.%I', v)::regclass;
END
$fn$;
COMMENT ON FUNCTION galaxy.inference_log_rows(text, interval) IS
'A temporary view of a project''s logged predictions of the last "since": time, model, prediction and one column per feature, named and typed as the model''s inputs (for galaxy.drift, galaxy.evaluate or a join with ground truth)';

-- Drift of the served traffic against the training profile.
CREATE FUNCTION galaxy.drift_live(project text, since interval DEFAULT '1 hour',
                                  psi_warning float8 DEFAULT NULL, psi_drift float8 DEFAULT NULL,
                                  OUT model_id bigint, OUT feature text, OUT kind text,
                                  OUT rows bigint, OUT baseline_rows bigint,
                                  OUT null_fraction float8, OUT baseline_null_fraction float8,
                                  OUT psi float8, OUT ks_statistic float8, OUT ks_p_value float8,
                                  OUT js_distance float8, OUT linf_distance float8, OUT status text)
    RETURNS SETOF record
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, galaxy, pg_temp
AS $fn$
BEGIN
    RETURN QUERY SELECT * FROM galaxy.drift($1, galaxy.inference_log_rows($1, $2), NULL, $3, $4, true);
END
$fn$;
COMMENT ON FUNCTION galaxy.drift_live(text, interval, float8, float8) IS
'galaxy.drift() of the project''s logged predictions of the last "since" (galaxy.inference_log) against its training profile: drift on live traffic';

-- ---------------------------------------------------------------------------
-- Schedules and alerts
-- ---------------------------------------------------------------------------
CREATE TABLE galaxy.schedules (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    project_id    bigint NOT NULL REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    kind          text NOT NULL DEFAULT 'drift' CHECK (kind IN ('drift', 'evaluate', 'retrain')),
    schedule      text NOT NULL,
    relation      text,
    log_window    interval,
    psi_warning   float8,
    psi_drift     float8,
    alert_on      text NOT NULL DEFAULT 'drift' CHECK (alert_on IN ('warning', 'drift')),
    enabled       boolean NOT NULL DEFAULT true,
    owner         name NOT NULL,
    owner_oid     oid NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    next_run      timestamptz,
    last_run      timestamptz,
    last_status   text CHECK (last_status IN ('ok', 'alert', 'failed')),
    last_error    text,
    last_sqlstate text,
    runs          bigint NOT NULL DEFAULT 0,
    failures      bigint NOT NULL DEFAULT 0,
    alerts        bigint NOT NULL DEFAULT 0,
    options       jsonb NOT NULL DEFAULT '{}',
    last_job_id   bigint,
    CHECK (relation IS NOT NULL OR log_window IS NOT NULL),
    CHECK (kind = 'drift' OR relation IS NOT NULL)
);
CREATE INDEX schedules_next_run_idx ON galaxy.schedules (next_run) WHERE enabled;
COMMENT ON TABLE galaxy.schedules IS 'Scheduled drift checks, evaluations and retraining (galaxy.schedule, galaxy.schedule_drift), run by galaxy''s monitor worker as their owner: the schedule text, what runs, and how the last run went';
SELECT pg_catalog.pg_extension_config_dump('galaxy.schedules', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.schedules_id_seq', '');

-- Alert rules per project (galaxy.set_alert_rule), checked by the monitor worker.
CREATE TABLE galaxy.alert_rules (
    id          bigserial PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('metric_below', 'latency_above', 'drift', 'job_failed', 'schedule_missed')),
    metric      text NOT NULL DEFAULT '',
    threshold   float8 CHECK (threshold > '-Infinity' AND threshold < 'Infinity'),
    severity    text NOT NULL DEFAULT 'warning' CHECK (severity IN ('warning', 'critical')),
    retrain     boolean NOT NULL DEFAULT false,
    relation    text,
    enabled     boolean NOT NULL DEFAULT true,
    owner       name NOT NULL,
    owner_oid   oid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    fired_at    timestamptz,
    fired       bigint NOT NULL DEFAULT 0,
    UNIQUE (project_id, kind, metric)
);
COMMENT ON TABLE galaxy.alert_rules IS 'Alert rules per project (galaxy.set_alert_rule): a metric of the scheduled evaluations below a threshold, p99 predict latency above N ms, drift above a PSI, a failed job, an overdue schedule; checked by galaxy''s monitor worker, each breach an alert';
SELECT pg_catalog.pg_extension_config_dump('galaxy.alert_rules', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.alert_rules_id_seq', '');

CREATE TABLE galaxy.alerts (
    id              bigserial PRIMARY KEY,
    raised_at       timestamptz NOT NULL DEFAULT now(),
    project_id      bigint NOT NULL REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    schedule_id     bigint REFERENCES galaxy.schedules (id) ON DELETE SET NULL,
    kind            text NOT NULL CHECK (kind IN ('drift', 'schedule_failed', 'metric_below', 'latency_above',
                                                  'job_failed', 'schedule_missed')),
    severity        text NOT NULL CHECK (severity IN ('warning', 'critical')),
    message         text NOT NULL,
    details         jsonb NOT NULL DEFAULT '{}',
    acknowledged_at timestamptz,
    acknowledged_by name,
    resolved_at     timestamptz,
    resolved_by     name,
    rule_id         bigint REFERENCES galaxy.alert_rules (id) ON DELETE SET NULL
);
CREATE INDEX alerts_project_idx ON galaxy.alerts (project_id, raised_at DESC);
-- a rule has at most one open (unresolved) alert
CREATE UNIQUE INDEX alerts_open_rule_idx ON galaxy.alerts (rule_id) WHERE resolved_at IS NULL;
COMMENT ON TABLE galaxy.alerts IS 'Alerts raised by scheduled checks (drift over the thresholds, a schedule that started failing) and by alert rules (galaxy.alert_rules); each is also sent as NOTIFY galaxy_alerts with a JSON payload';
SELECT pg_catalog.pg_extension_config_dump('galaxy.alerts', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.alerts_id_seq', '');

-- Results of the scheduled evaluations: a time series, one row per metric.
CREATE TABLE galaxy.evaluations (
    id            bigserial PRIMARY KEY,
    schedule_id   bigint REFERENCES galaxy.schedules (id) ON DELETE SET NULL,
    schedule      text NOT NULL,
    project_id    bigint NOT NULL REFERENCES galaxy.projects (id) ON DELETE CASCADE,
    model_id      bigint NOT NULL,
    version       text NOT NULL,
    relation      text NOT NULL,
    metric        text NOT NULL,
    value         float8,
    rows          bigint NOT NULL CHECK (rows >= 0),
    evaluated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX evaluations_project_idx ON galaxy.evaluations (project_id, metric, evaluated_at DESC);
COMMENT ON TABLE galaxy.evaluations IS 'Every scheduled evaluation (galaxy.schedule(..., action => ''evaluate'')): the deployed model''s metrics on the relation, one row per metric, a time series';
SELECT pg_catalog.pg_extension_config_dump('galaxy.evaluations', '');
SELECT pg_catalog.pg_extension_config_dump('galaxy.evaluations_id_seq', '');

CREATE FUNCTION galaxy.next_run(schedule text, after timestamptz DEFAULT NULL) RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'galaxy_next_run' LANGUAGE C STABLE;
COMMENT ON FUNCTION galaxy.next_run(text, timestamptz) IS
'When schedule text fires next after "after" (default: now): five cron fields in UTC (numbers, names, *, ranges, steps, lists), a macro (@hourly, @daily, @weekly, @monthly, @yearly) or "every N seconds|minutes|hours|days"; ERROR 22023 for bad text';

CREATE FUNCTION galaxy.schedule_drift(name text, project text, schedule text,
                                      relation regclass DEFAULT NULL,
                                      log_window interval DEFAULT '1 hour',
                                      psi_warning float8 DEFAULT NULL, psi_drift float8 DEFAULT NULL,
                                      alert_on text DEFAULT 'drift')
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_schedule_drift' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.schedule_drift(text, text, text, regclass, interval, float8, float8, text) IS
'Check a project''s drift on a schedule, as the caller: of relation, else of its logged predictions of the last log_window; a feature whose status reaches alert_on (''drift'' or ''warning'') raises an alert (galaxy.alerts, NOTIFY galaxy_alerts); needs the deploy privilege; audited';

CREATE FUNCTION galaxy.schedule(name text, project text, schedule text, action text,
                                relation regclass DEFAULT NULL, options jsonb DEFAULT '{}')
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_schedule' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.schedule(text, text, text, text, regclass, jsonb) IS
'Run an action on a project on a schedule, as the caller: evaluate (the deployed model on relation, into galaxy.evaluations), drift (options log_window, psi_warning, psi_drift, alert_on) or retrain (a training job like the current model''s on relation, deployed by the project''s policy); needs the deploy privilege; audited';

CREATE FUNCTION galaxy.set_alert_rule(project text, kind text, threshold float8 DEFAULT NULL,
                                      options jsonb DEFAULT '{}')
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'galaxy_set_alert_rule' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.set_alert_rule(text, text, float8, jsonb) IS
'Create or replace a project''s alert rule: metric_below (options metric), latency_above (p99 ms), drift (PSI), job_failed, schedule_missed (intervals overdue, default 1); options severity, retrain (submit a retraining job when it fires), relation; needs the deploy privilege; audited';

CREATE FUNCTION galaxy.drop_alert_rule(id bigint) RETURNS boolean
    AS 'MODULE_PATHNAME', 'galaxy_drop_alert_rule' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.drop_alert_rule(bigint) IS
'Remove an alert rule (deploy privilege on its project); false if there is none; audited';

-- A retraining job like the project's current model, as the calling role.
CREATE FUNCTION galaxy_internal.submit_retrain(project_id bigint, relation text DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, galaxy, pg_temp
AS $fn$
DECLARE
    m record;
    rel text;
BEGIN
    SELECT p.name AS project, mo.id, mo.algorithm, mo.hyperparams_given, mo.target, mo.features,
           mo.task, mo.seed, mo.relation
      INTO m
      FROM galaxy.projects p
      JOIN galaxy.models mo ON mo.project_id = p.id
     WHERE p.id = $1 AND mo.status <> 'training'
     ORDER BY (mo.id = coalesce((SELECT d.model_id FROM galaxy.deployments d
                                  WHERE d.project_id = p.id AND d.retired_at IS NULL AND d.traffic >= 1.0
                                  ORDER BY d.id DESC LIMIT 1), 0)) DESC, mo.id DESC
     LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'project % has no model to retrain', $1 USING ERRCODE = '55000';
    END IF;
    rel := coalesce($2, m.relation);
    IF rel IS NULL THEN
        RAISE EXCEPTION 'model % of project "%" was not trained on a relation: give one to retrain on', m.id, m.project
            USING ERRCODE = '22023';
    END IF;
    RETURN galaxy.submit(project => m.project, relation => rel::regclass, target => m.target,
                         algorithm => m.algorithm, hyperparams => m.hyperparams_given,
                         features => m.features, task => m.task, seed => coalesce(m.seed, 42));
END
$fn$;
COMMENT ON FUNCTION galaxy_internal.submit_retrain(bigint, text) IS
'Submit (galaxy.submit) a training job for a project with its current model''s algorithm, given hyperparameters, target and features, on relation (default: the model''s); the new model is deployed by galaxy.submit''s deploy policy (if_better) and the project''s approvals and gates';

CREATE FUNCTION galaxy.unschedule(name text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'galaxy_unschedule' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.unschedule(text) IS
'Remove a schedule (deploy privilege on its project); false if there is none by that name; audited';

CREATE FUNCTION galaxy.acknowledge_alert(id bigint, resolve boolean DEFAULT false) RETURNS boolean
    AS 'MODULE_PATHNAME', 'galaxy_acknowledge_alert' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION galaxy.acknowledge_alert(bigint, boolean) IS
'Mark an alert acknowledged (and resolved with resolve => true); deploy privilege on its project; false if it already was; audited';

CREATE VIEW galaxy.schedule_status AS
SELECT s.id, s.name, p.name AS project, s.kind, s.schedule,
       coalesce(s.relation, 'inference log, last ' || s.log_window::text) AS checks,
       s.enabled, s.owner, s.next_run, s.last_run, s.last_status, s.last_error, s.last_sqlstate,
       s.runs, s.failures, s.alerts,
       (s.enabled AND s.next_run < now() - interval '1 minute') AS overdue,
       s.last_job_id
  FROM galaxy.schedules s
  JOIN galaxy.projects p ON p.id = s.project_id;
COMMENT ON VIEW galaxy.schedule_status IS
'Every schedule the caller may see with its next and last run, last status and error, counts of runs, failures and alerts, and whether it is overdue (due more than a minute ago)';

CREATE VIEW galaxy.alert_list AS
SELECT a.id, a.raised_at, p.name AS project, s.name AS schedule, a.kind, a.severity, a.message,
       a.acknowledged_at, a.acknowledged_by, a.resolved_at, a.resolved_by,
       CASE WHEN a.resolved_at IS NOT NULL THEN 'resolved'
            WHEN a.acknowledged_at IS NOT NULL THEN 'acknowledged' ELSE 'open' END AS state,
       a.rule_id
  FROM galaxy.alerts a
  JOIN galaxy.projects p ON p.id = a.project_id
  LEFT JOIN galaxy.schedules s ON s.id = a.schedule_id;
COMMENT ON VIEW galaxy.alert_list IS
'Alerts for BI tools, flat: when, project, schedule, kind, severity, message and state (open, acknowledged, resolved)';
