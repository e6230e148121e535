-- test/pgtap/schedules.sql — schedules, alerts and inference logging (issue
-- #15): bad input gives a clear ERROR with its SQLSTATE (unknown project,
-- relation without the features, bad cron text, thresholds out of range,
-- NULLs, unknown actions and rule kinds), who may schedule, log, set alert
-- rules and acknowledge, and what readers see.
-- The runs themselves (the monitor worker, NOTIFY, a restart) are
-- test/t/062_schedules_alerts.pl's.
-- Runs in a fresh database with pgtap and galaxy (scripts/check), as a superuser.
BEGIN;
SELECT plan(78);

CREATE ROLE sch_alice LOGIN IN ROLE galaxy_trainer;   -- owns the project
CREATE ROLE sch_rita LOGIN IN ROLE galaxy_reader;     -- granted read on it
CREATE ROLE sch_olga LOGIN IN ROLE galaxy_trainer;    -- holds nothing on it
CREATE TABLE public.sch_points AS
SELECT i AS id, (i % 7)::float8 AS x1, (i % 11)::float8 AS x2,
       (ARRAY['a', 'b'])[1 + i % 2] AS c, (3 * (i % 7) - 2 * (i % 11))::float8 AS y
  FROM generate_series(1, 300) i;
CREATE TABLE public.sch_nofeatures AS SELECT id, x1 FROM public.sch_points;
CREATE TABLE public.sch_empty AS SELECT * FROM public.sch_points WHERE false;
CREATE TABLE public.sch_notarget AS SELECT id, x1, x2, c FROM public.sch_points;
GRANT SELECT ON public.sch_points, public.sch_nofeatures, public.sch_empty, public.sch_notarget
   TO sch_alice, sch_rita, sch_olga;

-- cron text
SELECT is(galaxy.next_run('*/15 * * * *', '2026-01-01 10:07:00+00'), '2026-01-01 10:15:00+00'::timestamptz, 'step');
SELECT is(galaxy.next_run('0 9-17/4 * * mon-fri', '2026-01-03 12:00:00+00'), '2026-01-05 09:00:00+00'::timestamptz,
          'ranges with steps and day names (Saturday to Monday)');
SELECT is(galaxy.next_run('30 2 1,15 * *', '2026-01-02 00:00:00+00'), '2026-01-15 02:30:00+00'::timestamptz, 'lists');
SELECT is(galaxy.next_run('0 0 * * 7', '2026-01-01 00:00:00+00'), '2026-01-04 00:00:00+00'::timestamptz, '7 is Sunday');
SELECT is(galaxy.next_run('0 0 13 * 5', '2026-01-01 00:00:00+00'), '2026-01-02 00:00:00+00'::timestamptz,
          'day of month and day of week both restricted: either matches');
SELECT is(galaxy.next_run('@monthly', '2026-01-31 12:00:00+00'), '2026-02-01 00:00:00+00'::timestamptz, '@monthly');
SELECT is(galaxy.next_run('0 0 29 feb *', '2026-03-01 00:00:00+00'), '2028-02-29 00:00:00+00'::timestamptz, 'leap day');
SELECT is(galaxy.next_run('every 30 seconds', '2026-01-01 00:00:00+00'), '2026-01-01 00:00:30+00'::timestamptz, 'interval');
SELECT is(galaxy.next_run('every second', '2026-01-01 00:00:00+00'), '2026-01-01 00:00:01+00'::timestamptz, 'every second');
SELECT throws_ok($$SELECT galaxy.next_run('* * * *')$$, '22023', NULL, 'four fields');
SELECT throws_ok($$SELECT galaxy.next_run('60 * * * *')$$, '22023', NULL, 'minute out of range');
SELECT throws_ok($$SELECT galaxy.next_run('5-1 * * * *')$$, '22023', NULL, 'backwards range');
SELECT throws_ok($$SELECT galaxy.next_run('*/0 * * * *')$$, '22023', NULL, 'step 0');
SELECT throws_ok($$SELECT galaxy.next_run('1,,2 * * * *')$$, '22023', NULL, 'empty list element');
SELECT throws_ok($$SELECT galaxy.next_run('* * * foo *')$$, '22023', NULL, 'unknown month name');
SELECT throws_ok($$SELECT galaxy.next_run('0 0 31 2 *')$$, '22023', NULL, 'a schedule that never fires');
SELECT throws_ok($$SELECT galaxy.next_run('every 0 seconds')$$, '22023', NULL, 'interval 0');
SELECT throws_ok($$SELECT galaxy.next_run('every 5 fortnights')$$, '22023', NULL, 'unknown unit');
SELECT throws_ok($$SELECT galaxy.next_run('')$$, '22023', NULL, 'empty text');
SELECT throws_ok($$SELECT galaxy.next_run('@sometimes')$$, '22023', NULL, 'unknown macro');

SET LOCAL ROLE sch_alice;
SET LOCAL client_min_messages = warning;
SELECT galaxy.train('sch', 'public.sch_points', 'y', 'linear_regression', features => ARRAY['x1', 'x2', 'c']);
SELECT galaxy.grant_project('sch', 'sch_rita', 'read');
RESET client_min_messages;
SELECT ok(galaxy.schedule_drift('sch_hourly', 'sch', '@hourly', 'public.sch_points') > 0, 'the owner schedules a drift check');
SELECT is((SELECT owner::text FROM galaxy.schedules WHERE name = 'sch_hourly'), 'sch_alice', 'it runs as its owner');
SELECT ok((SELECT next_run FROM galaxy.schedule_status WHERE name = 'sch_hourly') > now(), 'and has a next run');
SELECT throws_ok($$SELECT galaxy.schedule_drift('sch_hourly', 'sch', '@hourly', 'public.sch_points')$$, '42710', NULL,
                 'the name is taken');
SELECT throws_ok($$SELECT galaxy.schedule_drift('sch_x', 'nope', '@hourly', 'public.sch_points')$$, '42704', NULL,
                 'unknown project');
SELECT throws_ok($$SELECT galaxy.schedule_drift('sch_x', 'sch', '@hourly', 'public.sch_nofeatures')$$, '42703', NULL,
                 'relation without the features');
SELECT throws_ok($$SELECT * FROM galaxy.drift('sch', 'public.sch_empty')$$, '22000', NULL,
                 'drift of an empty relation');
SELECT throws_ok($$SELECT galaxy.schedule_drift('sch_x', 'sch', '61 * * * *', 'public.sch_points')$$, '22023', NULL,
                 'bad cron text');
SELECT throws_ok($$SELECT galaxy.schedule_drift('sch_x', 'sch', '@daily', 'public.sch_points', psi_warning => 0.5, psi_drift => 0.2)$$,
                 '22023', NULL, 'thresholds out of order');
SELECT throws_ok($$SELECT galaxy.schedule_drift('sch_x', 'sch', '@daily', 'public.sch_points', psi_warning => -1)$$,
                 '22023', NULL, 'a negative threshold');
SELECT throws_ok($$SELECT galaxy.schedule_drift('sch_x', 'sch', '@daily', 'public.sch_points', alert_on => 'sometimes')$$,
                 '22023', NULL, 'alert_on neither drift nor warning');
SELECT throws_ok($$SELECT galaxy.schedule_drift(NULL, 'sch', '@daily', 'public.sch_points')$$, '22004', NULL, 'NULL name');
SELECT throws_ok($$SELECT galaxy.schedule_drift('sch_x', 'sch', '@daily', log_window => '-1 hour')$$, '22023', NULL,
                 'a negative log window');
-- galaxy.schedule(): evaluate, drift and retrain
SELECT ok(galaxy.schedule('sch_eval', 'sch', '@daily', 'evaluate', 'public.sch_points') > 0,
          'an evaluation on a schedule');
SELECT ok(galaxy.schedule('sch_retrain', 'sch', '@weekly', 'retrain', 'public.sch_points') > 0,
          'a retraining on a schedule');
SELECT ok(galaxy.schedule('sch_drift', 'sch', '@daily', 'drift', 'public.sch_points',
                          '{"psi_warning": 0.2, "psi_drift": 0.5, "alert_on": "warning"}') > 0,
          'a drift check through galaxy.schedule, with options');
SELECT is((SELECT kind || ' ' || psi_drift || ' ' || alert_on FROM galaxy.schedules WHERE name = 'sch_drift'),
          'drift 0.5 warning', 'the drift options are stored as schedule_drift stores them');
SELECT throws_ok($$SELECT galaxy.schedule('sch_x', 'nope', '@daily', 'evaluate', 'public.sch_points')$$, '42704', NULL,
                 'schedule: unknown project');
SELECT throws_ok($$SELECT galaxy.schedule('sch_x', 'sch', '@daily', 'evaluate', 'public.sch_nofeatures')$$, '42703', NULL,
                 'schedule: relation without the features');
SELECT throws_ok($$SELECT galaxy.schedule('sch_x', 'sch', '@daily', 'evaluate', 'public.sch_notarget')$$, '42703', NULL,
                 'schedule: an evaluation on a relation without the target');
SELECT throws_ok($$SELECT galaxy.schedule('sch_x', 'sch', '@daily', 'retrain', 'public.sch_empty')$$, '22000', NULL,
                 'schedule: empty relation');
SELECT throws_ok($$SELECT galaxy.schedule('sch_x', 'sch', '0 0 * *', 'evaluate', 'public.sch_points')$$, '22023', NULL,
                 'schedule: bad cron text');
SELECT throws_ok($$SELECT galaxy.schedule('sch_x', 'sch', '@daily', 'explode', 'public.sch_points')$$, '22023',
                 'unknown schedule action "explode"', 'schedule: unknown action');
SELECT throws_ok($$SELECT galaxy.schedule('sch_x', 'sch', '@daily', 'evaluate')$$, '22004', NULL,
                 'schedule: an evaluation needs a relation');
SELECT throws_ok($$SELECT galaxy.schedule('sch_x', 'sch', '@daily', 'evaluate', 'public.sch_points', '{"psi_drift": 1}')$$,
                 '22023', NULL, 'schedule: an option the action does not take');
SELECT throws_ok($$SELECT galaxy.schedule('sch_x', 'sch', '@daily', 'drift', 'public.sch_points', '{"psi_drift": -1}')$$,
                 '22023', NULL, 'schedule: a threshold out of range');
SELECT throws_ok($$SELECT galaxy.schedule('sch_x', 'sch', '@daily', 'drift', 'public.sch_points', '{"psi_drift": "high"}')$$,
                 '22023', NULL, 'schedule: a threshold that is not a number');
SELECT throws_ok($$SELECT galaxy.schedule('sch_x', 'sch', '@daily', 'drift', 'public.sch_points', '[1]')$$,
                 '22023', NULL, 'schedule: options not an object');

-- alert rules
SELECT ok(galaxy.set_alert_rule('sch', 'metric_below', 0.9, '{"metric": "r2", "retrain": true}') > 0,
          'a metric rule that retrains');
SELECT is(galaxy.set_alert_rule('sch', 'metric_below', 0.8, '{"metric": "r2", "severity": "critical"}'),
          (SELECT id FROM galaxy.alert_rules WHERE metric = 'r2'), 'setting it again replaces it');
SELECT lives_ok($$SELECT galaxy.set_alert_rule('sch', 'latency_above', 100);
                  SELECT galaxy.set_alert_rule('sch', 'drift', 0.3);
                  SELECT galaxy.set_alert_rule('sch', 'job_failed', NULL, '{"retrain": true, "relation": "public.sch_points"}');
                  SELECT galaxy.set_alert_rule('sch', 'schedule_missed', 2)$$, 'the other kinds');
SELECT is((SELECT string_agg(kind || ':' || coalesce(threshold::text, '-') || ':' || severity || ':' || retrain, ',' ORDER BY id)
             FROM galaxy.alert_rule_list),
          'metric_below:0.8:critical:false,latency_above:100:warning:false,drift:0.3:warning:false,job_failed:-:warning:true,schedule_missed:2:warning:false',
          'alert_rule_list shows the rules');
SELECT throws_ok($$SELECT galaxy.set_alert_rule('nope', 'drift')$$, '42704', NULL, 'rule: unknown project');
SELECT throws_ok($$SELECT galaxy.set_alert_rule('sch', 'boom')$$, '22023', 'unknown alert rule kind "boom"',
                 'rule: unknown kind');
SELECT throws_ok($$SELECT galaxy.set_alert_rule('sch', 'metric_below', 1.5, '{"metric": "accuracy"}')$$, '22023', NULL,
                 'rule: an accuracy threshold above 1');
SELECT throws_ok($$SELECT galaxy.set_alert_rule('sch', 'metric_below', 0.5)$$, '22023', NULL, 'rule: no metric');
SELECT throws_ok($$SELECT galaxy.set_alert_rule('sch', 'metric_below', 'NaN', '{"metric": "rmse"}')$$, '22023', NULL,
                 'rule: a NaN threshold');
SELECT throws_ok($$SELECT galaxy.set_alert_rule('sch', 'latency_above', -3)$$, '22023', NULL, 'rule: a negative latency');
SELECT throws_ok($$SELECT galaxy.set_alert_rule('sch', 'drift', 0)$$, '22023', NULL, 'rule: a PSI of 0');
SELECT throws_ok($$SELECT galaxy.set_alert_rule('sch', 'job_failed', 1)$$, '22023', NULL, 'rule: a threshold it does not take');
SELECT throws_ok($$SELECT galaxy.set_alert_rule('sch', 'job_failed', NULL, '{"severity": "panic"}')$$, '22023', NULL,
                 'rule: unknown severity');
SELECT throws_ok($$SELECT galaxy.set_alert_rule('sch', 'job_failed', NULL, '{"colour": "red"}')$$, '22023', NULL,
                 'rule: unknown option');
SELECT throws_ok($$SELECT galaxy.set_alert_rule('sch', 'job_failed', NULL, '{"retrain": true, "relation": "public.sch_nofeatures"}')$$,
                 '42703', NULL, 'rule: a retraining relation without the features');
SELECT throws_ok($$SELECT galaxy.set_alert_rule('sch', 'job_failed', NULL, '{"retrain": true, "relation": "public.sch_empty"}')$$,
                 '22000', NULL, 'rule: an empty retraining relation');
SELECT throws_ok($$SELECT galaxy.set_logging('sch', 1.5)$$, '22023', NULL, 'a sample rate above 1');
SELECT lives_ok($$SELECT galaxy.set_logging('sch', 0.5, '1 day')$$, 'the owner logs half of the predictions');
RESET ROLE;

SET LOCAL ROLE sch_rita;
SELECT is((SELECT count(*)::int FROM galaxy.schedule_status), 4, 'a reader of the project sees its schedules');
SELECT throws_ok($$SELECT galaxy.unschedule('sch_hourly')$$, '42501', NULL, 'but may not remove one');
SELECT is((SELECT count(*)::int FROM galaxy.alert_rule_list), 5, 'a reader sees the alert rules');
SELECT throws_ok($$SELECT galaxy.drop_alert_rule(min(id)) FROM galaxy.alert_rules$$, '42501', NULL,
                 'but may not remove one');
SELECT throws_ok($$SELECT galaxy.schedule('sch_r', 'sch', '@daily', 'evaluate', 'public.sch_points')$$, '42501', NULL,
                 'nor schedule');
SELECT throws_ok($$SELECT galaxy.set_alert_rule('sch', 'job_failed')$$, '42501', NULL, 'nor set a rule');
RESET ROLE;

SET LOCAL ROLE sch_olga;
SELECT is((SELECT count(*)::int FROM galaxy.schedule_status), 0, 'no privilege on the project: no schedules');
SELECT is((SELECT count(*)::int FROM galaxy.alert_rules), 0, 'no alert rules');
SELECT throws_ok($$SELECT galaxy.set_logging('sch', 1)$$, '42501', NULL, 'and no logging settings');
RESET ROLE;

SET LOCAL ROLE sch_alice;
SELECT ok(galaxy.drop_alert_rule((SELECT id FROM galaxy.alert_rules WHERE kind = 'drift')), 'the owner removes a rule');
SELECT ok(NOT galaxy.drop_alert_rule(-1), 'a rule that is not there: false');
RESET ROLE;
SELECT is((SELECT string_agg(action, ',' ORDER BY id) FROM galaxy.audit_log
            WHERE action IN ('schedule', 'set_alert_rule', 'drop_alert_rule')),
          'schedule,schedule,schedule,set_alert_rule,set_alert_rule,set_alert_rule,set_alert_rule,set_alert_rule,set_alert_rule,drop_alert_rule',
          'schedules and rules are audited');

SELECT * FROM finish();
ROLLBACK;
