-- ---------------------------------------------------------------------------
-- Monitoring that reads the schedules, evaluations and alerts of
-- 76_schedules_logging.sql: alert-rule checks (src/monitor/schedule.c runs
-- them), galaxy.health(), galaxy.prometheus() and flat views for BI tools.
-- ---------------------------------------------------------------------------

-- Whether a schedule is overdue by more than "intervals" of its own period
-- (the time between its next two runs).
CREATE FUNCTION galaxy_internal.schedule_overdue(enabled boolean, schedule text, next_run timestamptz,
                                                 intervals float8)
    RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, galaxy, pg_temp
AS $fn$
BEGIN
    IF NOT enabled OR next_run IS NULL OR next_run >= now() THEN
        RETURN false;
    END IF;
    RETURN next_run + (galaxy.next_run(schedule, next_run) - next_run) * coalesce(intervals, 1) < now();
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN false;
END
$fn$;
COMMENT ON FUNCTION galaxy_internal.schedule_overdue(boolean, text, timestamptz, float8) IS
'Whether an enabled schedule''s next run is overdue by more than "intervals" of its period (the time between its next two runs)';

-- The enabled alert rules that are breached now and have no open alert.
CREATE FUNCTION galaxy_internal.alert_rule_breaches(
    OUT rule_id bigint, OUT project_id bigint, OUT project text, OUT kind text, OUT severity text,
    OUT message text, OUT details jsonb, OUT retrain boolean, OUT relation text, OUT owner_oid oid)
    RETURNS SETOF record
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, galaxy, pg_temp
AS $fn$
DECLARE
    r record;
    since timestamptz;
    v record;
    n bigint;
    stats_ok boolean := true;
BEGIN
    FOR r IN SELECT ar.*, p.name AS pname FROM galaxy.alert_rules ar JOIN galaxy.projects p ON p.id = ar.project_id
              WHERE ar.enabled
                AND NOT EXISTS (SELECT 1 FROM galaxy.alerts a WHERE a.rule_id = ar.id AND a.resolved_at IS NULL)
              ORDER BY ar.id
    LOOP
        -- events count once: those after the rule was created or last fired
        since := greatest(r.created_at, r.fired_at);
        rule_id := r.id; project_id := r.project_id; project := r.pname; kind := r.kind;
        severity := r.severity; retrain := r.retrain; relation := r.relation; owner_oid := r.owner_oid;
        message := NULL;
        IF r.kind = 'metric_below' THEN
            SELECT e.value, e.schedule, e.model_id, e.version, e.rows, e.evaluated_at INTO v
              FROM galaxy.evaluations e
             WHERE e.project_id = r.project_id AND e.metric = r.metric AND e.evaluated_at > since
             ORDER BY e.id DESC LIMIT 1;
            IF FOUND AND v.value < r.threshold THEN
                message := format('%s of project "%s" is %s, below %s (schedule "%s", model %s version %s)',
                                  r.metric, r.pname, trim_scale(round(v.value::numeric, 6)), r.threshold, v.schedule,
                                  v.model_id, v.version);
                details := jsonb_build_object('metric', r.metric, 'value', v.value, 'threshold', r.threshold,
                                              'schedule', v.schedule, 'model_id', v.model_id,
                                              'version', v.version, 'rows', v.rows);
            END IF;
        ELSIF r.kind = 'latency_above' THEN
            IF stats_ok THEN
                BEGIN
                    SELECT s.model_id, s.version, s.p99_ms, s.calls INTO v
                      FROM galaxy.inference_stats s
                     WHERE s.project = r.pname AND s.timed_calls > 0
                     ORDER BY s.p99_ms DESC LIMIT 1;
                    IF FOUND AND v.p99_ms > r.threshold THEN
                        message := format('p99 predict latency of project "%s" is %s ms, above %s ms (model %s version %s)',
                                          r.pname, trim_scale(round(v.p99_ms::numeric, 3)), r.threshold, v.model_id, v.version);
                        details := jsonb_build_object('p99_ms', v.p99_ms, 'threshold_ms', r.threshold,
                                                      'model_id', v.model_id, 'version', v.version, 'calls', v.calls);
                    END IF;
                EXCEPTION WHEN object_not_in_prerequisite_state THEN
                    stats_ok := false;
                END;
            END IF;
        ELSIF r.kind = 'drift' THEN
            SELECT h.feature, h.psi, h.status, h.relation, h.model_id INTO v
              FROM galaxy.drift_history h
             WHERE h.project_id = r.project_id AND h.computed_at > since
               AND h.psi > coalesce(r.threshold, (SELECT t.psi_drift FROM galaxy.drift_thresholds t
                                                   WHERE t.project_id = r.project_id), 0.25)
             ORDER BY h.psi DESC LIMIT 1;
            IF FOUND THEN
                message := format('drift in project "%s": feature %s has PSI %s, above %s (relation %s)',
                                  r.pname, v.feature, trim_scale(round(v.psi::numeric, 4)),
                                  coalesce(r.threshold, (SELECT t.psi_drift FROM galaxy.drift_thresholds t
                                                          WHERE t.project_id = r.project_id), 0.25), v.relation);
                details := jsonb_build_object('feature', v.feature, 'psi', v.psi, 'status', v.status,
                                              'relation', v.relation, 'model_id', v.model_id);
            END IF;
        ELSIF r.kind = 'job_failed' THEN
            SELECT count(*) AS n, max(j.id) AS job, (array_agg(j.error_message ORDER BY j.id DESC))[1] AS error INTO v
              FROM galaxy.jobs j
             WHERE j.project_id = r.project_id AND j.state = 'failed' AND j.finished_at > since;
            IF v.n > 0 THEN
                message := format('%s job(s) of project "%s" failed, the last %s: %s',
                                  v.n, r.pname, v.job, coalesce(v.error, 'no message'));
                details := jsonb_build_object('jobs_failed', v.n, 'job_id', v.job, 'error', v.error);
            END IF;
        ELSIF r.kind = 'schedule_missed' THEN
            SELECT s.name, s.next_run INTO v
              FROM galaxy.schedules s
             WHERE s.project_id = r.project_id
               AND galaxy_internal.schedule_overdue(s.enabled, s.schedule, s.next_run, r.threshold)
             ORDER BY s.next_run LIMIT 1;
            IF FOUND THEN
                message := format('schedule "%s" of project "%s" is overdue: due at %s', v.name, r.pname, v.next_run);
                details := jsonb_build_object('schedule', v.name, 'next_run', v.next_run);
            END IF;
        END IF;
        IF message IS NOT NULL THEN
            details := details || jsonb_build_object('rule_id', r.id);
            RETURN NEXT;
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION galaxy_internal.alert_rule_breaches() IS
'The enabled alert rules breached now that have no open alert, with the alert''s message and details (run by galaxy''s monitor worker)';

CREATE FUNCTION galaxy.prometheus() RETURNS text
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, galaxy, galaxy_internal, pg_temp
    AS $prometheus$
DECLARE
    out text := '';
    lines text;
    lines2 text;
    lines3 text;
    stats_ok boolean := true;
BEGIN
    -- one family: HELP, TYPE, then its samples (none is allowed)
    out := out || E'# HELP galaxy_info galaxy extension version\n# TYPE galaxy_info gauge\n'
               || format(E'galaxy_info{version="%s"} 1\n',
                         (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'galaxy'));

    SELECT string_agg(format(E'galaxy_jobs{state="%s"} %s\n', s.state, coalesce(j.n, 0)), '' ORDER BY s.state)
      INTO lines
      FROM unnest(ARRAY['cancelled', 'failed', 'queued', 'running', 'succeeded']) s(state)
      LEFT JOIN (SELECT state, count(*) AS n FROM galaxy.jobs GROUP BY state) j USING (state);
    out := out || E'# HELP galaxy_jobs Background training jobs by state (visible to the caller)\n# TYPE galaxy_jobs gauge\n'
               || coalesce(lines, '');

    SELECT string_agg(format(E'galaxy_job_failures_last_hour{project="%s"} %s\n', prometheus_label(project), n), '' ORDER BY project)
      INTO lines
      FROM (SELECT project, count(*) AS n FROM galaxy.jobs
             WHERE state = 'failed' AND finished_at > now() - interval '1 hour' GROUP BY project) f;
    out := out || E'# HELP galaxy_job_failures_last_hour Jobs that failed in the last hour, per project\n# TYPE galaxy_job_failures_last_hour gauge\n'
               || coalesce(lines, '');

    SELECT string_agg(l, '' ORDER BY k) INTO lines
      FROM (SELECT p.name || '/' || m.status AS k,
                   format(E'galaxy_models{project="%s",status="%s"} %s\n', prometheus_label(p.name), m.status, count(*)) AS l
              FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id
             GROUP BY p.name, m.status) g;
    out := out || E'# HELP galaxy_models Registered models per project and status\n# TYPE galaxy_models gauge\n'
               || coalesce(lines, '');

    SELECT string_agg(format(E'galaxy_deployment_traffic_ratio{project="%s",model_id="%s",version="%s",primary="%s"} %s\n',
                             prometheus_label(project), model, version, is_primary, prometheus_value(traffic)), ''
                      ORDER BY project, model)
      INTO lines FROM galaxy.deployed_models;
    out := out || E'# HELP galaxy_deployment_traffic_ratio Share of a project''s traffic each serving model takes (1 for the primary)\n# TYPE galaxy_deployment_traffic_ratio gauge\n'
               || coalesce(lines, '');

    SELECT string_agg(format(E'galaxy_deployment_last_change_timestamp_seconds{project="%s"} %s\n',
                             prometheus_label(project), prometheus_value(extract(epoch FROM at)::float8)), '' ORDER BY project)
      INTO lines
      FROM (SELECT p.name AS project, max(greatest(d.deployed_at, d.retired_at)) AS at
              FROM galaxy.deployments d JOIN galaxy.projects p ON p.id = d.project_id GROUP BY p.name) c;
    out := out || E'# HELP galaxy_deployment_last_change_timestamp_seconds When a project''s deployments last changed (Unix time)\n# TYPE galaxy_deployment_last_change_timestamp_seconds gauge\n'
               || coalesce(lines, '');

    -- inference statistics (shared memory: absent when galaxy is not preloaded)
    BEGIN
        CREATE TEMP TABLE IF NOT EXISTS galaxy_prometheus_stats (LIKE galaxy.inference_stats) ON COMMIT DROP;
        TRUNCATE galaxy_prometheus_stats;
        INSERT INTO galaxy_prometheus_stats SELECT * FROM galaxy.inference_stats;
    EXCEPTION WHEN object_not_in_prerequisite_state THEN
        stats_ok := false;
    END;
    IF stats_ok THEN
        SELECT string_agg(format(E'galaxy_inference_calls_total{project="%s",model_id="%s",version="%s"} %s\n',
                                 prometheus_label(project), model_id, version, calls), '' ORDER BY project, model_id)
          INTO lines FROM galaxy_prometheus_stats;
        out := out || E'# HELP galaxy_inference_calls_total Predict calls since the statistics were reset\n# TYPE galaxy_inference_calls_total counter\n'
                   || coalesce(lines, '');
        SELECT string_agg(format(E'galaxy_inference_errors_total{project="%s",model_id="%s",version="%s"} %s\n',
                                 prometheus_label(project), model_id, version, errors), '' ORDER BY project, model_id)
          INTO lines FROM galaxy_prometheus_stats;
        out := out || E'# HELP galaxy_inference_errors_total Predict calls that raised an error\n# TYPE galaxy_inference_errors_total counter\n'
                   || coalesce(lines, '');
        -- histogram: every fourth bucket edge (2^k nanoseconds, 1 microsecond to 69 s);
        -- latency_buckets[4k] counts the calls under 2^k ns
        SELECT string_agg(l, '' ORDER BY project, model_id, ord) INTO lines
          FROM (SELECT s.project, s.model_id, b.ord,
                       CASE WHEN b.le IS NULL
                            THEN format(E'galaxy_inference_duration_seconds_bucket{project="%1$s",model_id="%2$s",version="%3$s",le="+Inf"} %4$s\n'
                                        'galaxy_inference_duration_seconds_sum{project="%1$s",model_id="%2$s",version="%3$s"} %5$s\n'
                                        'galaxy_inference_duration_seconds_count{project="%1$s",model_id="%2$s",version="%3$s"} %4$s\n',
                                        prometheus_label(s.project), s.model_id, s.version, s.timed_calls,
                                        prometheus_value(s.total_ms / 1000.0))
                            ELSE format(E'galaxy_inference_duration_seconds_bucket{project="%s",model_id="%s",version="%s",le="%s"} %s\n',
                                        prometheus_label(s.project), s.model_id, s.version, b.le, e.latency_buckets[b.idx])
                       END AS l
                  FROM galaxy_prometheus_stats s
                  JOIN galaxy_internal.inference_stats_entries() e ON e.model_id = s.model_id
                  CROSS JOIN LATERAL (
                      SELECT k AS ord, 4 * k AS idx, prometheus_value(power(2, k)::float8 / 1e9) AS le
                        FROM generate_series(10, 36) k
                      UNION ALL SELECT 37, NULL, NULL) b) h;
        out := out || E'# HELP galaxy_inference_duration_seconds Latency of a predict call inside the server (the first call of each transaction and 1 in 16 after it)\n# TYPE galaxy_inference_duration_seconds histogram\n'
                   || coalesce(lines, '');
        SELECT string_agg(format(E'galaxy_inference_p99_seconds{project="%s",model_id="%s",version="%s"} %s\n',
                                 prometheus_label(project), model_id, version, prometheus_value(p99_ms / 1000.0)), ''
                          ORDER BY project, model_id)
          INTO lines FROM galaxy_prometheus_stats;
        out := out || E'# HELP galaxy_inference_p99_seconds 99th percentile of the predict latency since the reset (within 9 %)\n# TYPE galaxy_inference_p99_seconds gauge\n'
                   || coalesce(lines, '');
    END IF;

    -- drift: the latest galaxy.drift() result per project and feature
    SELECT string_agg(l, '' ORDER BY k) INTO lines
      FROM (SELECT DISTINCT ON (h.project_id, h.feature) p.name || '/' || h.feature AS k,
                   format(E'galaxy_drift_psi{project="%1$s",feature="%2$s",kind="%3$s"} %4$s\n'
                          'galaxy_drift_status{project="%1$s",feature="%2$s",kind="%3$s"} %5$s\n',
                          prometheus_label(p.name), prometheus_label(h.feature), h.kind, prometheus_value(h.psi),
                          CASE h.status WHEN 'ok' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END) AS l
              FROM galaxy.drift_history h JOIN galaxy.projects p ON p.id = h.project_id
             ORDER BY h.project_id, h.feature, h.id DESC) d;
    -- the two families interleave per feature above: split them
    out := out || E'# HELP galaxy_drift_psi Population stability index of a feature at the last galaxy.drift() call\n# TYPE galaxy_drift_psi gauge\n'
               || coalesce((SELECT string_agg(x, E'\n') || E'\n' FROM regexp_split_to_table(rtrim(lines, E'\n'), E'\n') x
                             WHERE x LIKE 'galaxy_drift_psi{%'), '')
               || E'# HELP galaxy_drift_status Drift status of a feature at the last galaxy.drift() call: 0 ok, 1 warning, 2 drift\n# TYPE galaxy_drift_status gauge\n'
               || coalesce((SELECT string_agg(x, E'\n') || E'\n' FROM regexp_split_to_table(rtrim(lines, E'\n'), E'\n') x
                             WHERE x LIKE 'galaxy_drift_status{%'), '');
    SELECT string_agg(l, '' ORDER BY l) INTO lines
      FROM (SELECT format(E'galaxy_drift_last_computed_timestamp_seconds{project="%s"} %s\n',
                          prometheus_label(p.name), prometheus_value(extract(epoch FROM max(h.computed_at))::float8)) AS l
              FROM galaxy.drift_history h JOIN galaxy.projects p ON p.id = h.project_id GROUP BY p.name) g;
    out := out || E'# HELP galaxy_drift_last_computed_timestamp_seconds When galaxy.drift() last ran for a project (Unix time)\n# TYPE galaxy_drift_last_computed_timestamp_seconds gauge\n'
               || coalesce(lines, '');

    -- alerts, schedules and scheduled evaluations
    SELECT string_agg(format(E'galaxy_alerts_open{project="%s",kind="%s",severity="%s"} %s\n',
                             prometheus_label(project), kind, severity, n), '' ORDER BY project, kind, severity)
      INTO lines
      FROM (SELECT p.name AS project, a.kind, a.severity, count(*) AS n
              FROM galaxy.alerts a JOIN galaxy.projects p ON p.id = a.project_id
             WHERE a.resolved_at IS NULL
             GROUP BY p.name, a.kind, a.severity) o;
    out := out || E'# HELP galaxy_alerts_open Alerts not yet resolved, per project, kind and severity\n# TYPE galaxy_alerts_open gauge\n'
               || coalesce(lines, '');
    SELECT string_agg(format(E'galaxy_schedule_runs_total{schedule="%1$s",project="%2$s",action="%3$s"} %4$s\n',
                             prometheus_label(s.name), prometheus_label(p.name), s.kind, s.runs), '' ORDER BY s.name),
           string_agg(format(E'galaxy_schedule_failures_total{schedule="%1$s",project="%2$s",action="%3$s"} %4$s\n',
                             prometheus_label(s.name), prometheus_label(p.name), s.kind, s.failures), '' ORDER BY s.name),
           string_agg(format(E'galaxy_schedule_last_run_timestamp_seconds{schedule="%1$s",project="%2$s",action="%3$s"} %4$s\n',
                             prometheus_label(s.name), prometheus_label(p.name), s.kind,
                             prometheus_value(extract(epoch FROM s.last_run)::float8)), '' ORDER BY s.name)
                FILTER (WHERE s.last_run IS NOT NULL)
      INTO lines, lines2, lines3
      FROM galaxy.schedules s JOIN galaxy.projects p ON p.id = s.project_id;
    out := out || E'# HELP galaxy_schedule_runs_total Runs of a schedule since it was created\n# TYPE galaxy_schedule_runs_total counter\n'
               || coalesce(lines, '')
               || E'# HELP galaxy_schedule_failures_total Runs of a schedule that failed\n# TYPE galaxy_schedule_failures_total counter\n'
               || coalesce(lines2, '')
               || E'# HELP galaxy_schedule_last_run_timestamp_seconds When a schedule last ran (Unix time)\n# TYPE galaxy_schedule_last_run_timestamp_seconds gauge\n'
               || coalesce(lines3, '');
    SELECT string_agg(format(E'galaxy_evaluation_metric{project="%s",schedule="%s",metric="%s",model_id="%s",version="%s"} %s\n',
                             prometheus_label(project), prometheus_label(schedule), prometheus_label(metric),
                             model_id, prometheus_label(version), prometheus_value(value)), ''
                      ORDER BY project, schedule, metric)
      INTO lines
      FROM (SELECT DISTINCT ON (e.project_id, e.schedule, e.metric) p.name AS project, e.schedule, e.metric,
                   e.model_id, e.version, e.value
              FROM galaxy.evaluations e JOIN galaxy.projects p ON p.id = e.project_id
             ORDER BY e.project_id, e.schedule, e.metric, e.id DESC) l;
    out := out || E'# HELP galaxy_evaluation_metric The latest value of a metric of a scheduled evaluation\n# TYPE galaxy_evaluation_metric gauge\n'
               || coalesce(lines, '');
    RETURN out;
END
$prometheus$;
COMMENT ON FUNCTION galaxy.prometheus() IS
'galaxy''s metrics in the Prometheus text exposition format (0.0.4): jobs by state and recent failures, models by status, deployments and their traffic, inference calls, errors and latency histograms, the last drift per feature, open alerts, schedule runs and failures, the latest metrics of the scheduled evaluations; as the caller (row-level security applies)';


CREATE VIEW galaxy.health_status AS
SELECT r.preloaded, r.launcher_pid, r.launcher_alive, r.workers_busy, r.workers_max,
       greatest(r.workers_max - r.workers_busy, 0) AS workers_free,
       (SELECT count(*) FROM galaxy.jobs WHERE state = 'queued') AS queue_depth,
       (SELECT count(*) FROM galaxy.jobs WHERE state = 'running') AS jobs_running,
       (SELECT count(*) FROM galaxy.jobs
         WHERE state = 'failed' AND finished_at > now() - interval '1 hour') AS jobs_failed_last_hour,
       (SELECT min(submitted_at) FROM galaxy.jobs WHERE state = 'queued') AS oldest_queued_at,
       r.inference_stats_models, r.inference_stats_max, r.inference_stats_bytes,
       (SELECT count(*) FROM galaxy.deployed_models WHERE is_primary) AS projects_serving,
       (SELECT max(computed_at) FROM galaxy.drift_history) AS drift_last_computed_at,
       (SELECT count(*) FROM (SELECT DISTINCT ON (project_id, feature) status FROM galaxy.drift_history
                               ORDER BY project_id, feature, id DESC) d WHERE d.status = 'drift') AS features_drifting,
       now() AS checked_at,
       (SELECT count(*) FROM galaxy.alerts WHERE resolved_at IS NULL) AS alerts_open,
       (SELECT count(*) FROM galaxy.alerts WHERE resolved_at IS NULL AND severity = 'critical') AS alerts_critical_open,
       (SELECT count(*) FROM galaxy.schedules s WHERE galaxy_internal.schedule_overdue(s.enabled, s.schedule, s.next_run, 1))
           AS schedules_overdue,
       (SELECT count(*) FROM galaxy.schedules WHERE last_status = 'failed') AS schedules_failing,
       (SELECT max(last_run) FROM galaxy.schedules) AS scheduler_last_run
  FROM galaxy_internal.health_runtime() r;
COMMENT ON VIEW galaxy.health_status IS
'galaxy''s health as one flat row for BI tools: launcher alive, workers busy and free, queue depth, jobs failed in the last hour, inference statistics'' shared memory, serving projects, features drifting at their last check, open alerts, overdue and failing schedules, the scheduler''s last run (jobs, projects, alerts and schedules as the caller may see them)';

CREATE FUNCTION galaxy.health() RETURNS jsonb
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, galaxy, pg_temp
    RETURN (SELECT jsonb_build_object(
                'status', CASE WHEN NOT h.preloaded THEN 'degraded'
                               WHEN NOT h.launcher_alive THEN 'degraded'
                               WHEN h.jobs_failed_last_hour > 0 OR h.features_drifting > 0
                                    OR h.alerts_open > 0 OR h.schedules_overdue > 0 THEN 'warning'
                               ELSE 'ok' END,
                'preloaded', h.preloaded,
                'launcher', jsonb_build_object('alive', h.launcher_alive, 'pid', h.launcher_pid),
                'workers', jsonb_build_object('busy', h.workers_busy, 'free', h.workers_free, 'max', h.workers_max),
                'jobs', jsonb_build_object('queued', h.queue_depth, 'running', h.jobs_running,
                                           'failed_last_hour', h.jobs_failed_last_hour,
                                           'oldest_queued_at', h.oldest_queued_at),
                'inference_stats', jsonb_build_object('models', h.inference_stats_models,
                                                      'max', h.inference_stats_max,
                                                      'shared_memory_bytes', h.inference_stats_bytes,
                                                      'tracking', current_setting('galaxy.track_inference')::boolean),
                'projects_serving', h.projects_serving,
                'drift', jsonb_build_object('last_computed_at', h.drift_last_computed_at,
                                            'features_drifting', h.features_drifting),
                'alerts', jsonb_build_object('open', h.alerts_open, 'critical_open', h.alerts_critical_open),
                'schedules', jsonb_build_object('overdue', h.schedules_overdue, 'failing', h.schedules_failing,
                                                'last_run', h.scheduler_last_run),
                'checked_at', h.checked_at)
              FROM galaxy.health_status h);
COMMENT ON FUNCTION galaxy.health() IS
'galaxy''s health as jsonb: status (ok; warning: failed jobs in the last hour, drifting features, open alerts or overdue schedules; degraded: not preloaded or no launcher), launcher, workers, job queue, inference statistics'' shared memory, serving projects, drift, alerts, schedules and the scheduler''s last run';


CREATE VIEW galaxy.evaluation_list AS
SELECT e.id, e.evaluated_at, p.name AS project, e.schedule, e.model_id, e.version, e.relation,
       e.metric, e.value, e.rows
  FROM galaxy.evaluations e
  JOIN galaxy.projects p ON p.id = e.project_id;
COMMENT ON VIEW galaxy.evaluation_list IS
'The scheduled evaluations for BI tools, flat: when, project, schedule, model and version, relation, metric, value and rows';

CREATE VIEW galaxy.drift_list AS
SELECT h.id, h.computed_at, p.name AS project, h.model_id, m.version, h.relation, h.baseline,
       h.feature, h.kind, h.rows, h.psi, h.ks_statistic, h.ks_p_value, h.js_distance, h.linf_distance,
       h.status
  FROM galaxy.drift_history h
  JOIN galaxy.projects p ON p.id = h.project_id
  JOIN galaxy.models m ON m.id = h.model_id;
COMMENT ON VIEW galaxy.drift_list IS
'Drift history for BI tools, flat: when, project, model and version, relation and baseline, feature, PSI, KS, Jensen-Shannon and L-infinity distances, status';

CREATE VIEW galaxy.alert_rule_list AS
SELECT r.id, p.name AS project, r.kind, nullif(r.metric, '') AS metric, r.threshold, r.severity,
       r.retrain, r.relation, r.enabled, r.owner, r.created_at, r.fired_at, r.fired,
       EXISTS (SELECT 1 FROM galaxy.alerts a WHERE a.rule_id = r.id AND a.resolved_at IS NULL) AS open_alert
  FROM galaxy.alert_rules r
  JOIN galaxy.projects p ON p.id = r.project_id;
COMMENT ON VIEW galaxy.alert_rule_list IS
'Alert rules for BI tools, flat: project, kind, metric, threshold, severity, whether a firing submits a retraining job, how often it fired and whether an alert of it is open';

