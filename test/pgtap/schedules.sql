-- test/pgtap/schedules.sql — schedules, alerts and inference logging (issue
-- #15): bad input gives a clear ERROR with its SQLSTATE (unknown project,
-- relation without the features, bad cron text, thresholds out of range,
-- NULLs), who may schedule, log and acknowledge, and what readers see.
-- The runs themselves (the monitor worker, NOTIFY, a restart) are
-- test/t/062_schedules_alerts.pl's.
-- Runs in a fresh database with pgtap and galaxy (scripts/check), as a superuser.
BEGIN;
SELECT plan(39);

CREATE ROLE sch_alice LOGIN IN ROLE galaxy_trainer;   -- owns the project
CREATE ROLE sch_rita LOGIN IN ROLE galaxy_reader;     -- granted read on it
CREATE ROLE sch_olga LOGIN IN ROLE galaxy_trainer;    -- holds nothing on it
CREATE TABLE public.sch_points AS
SELECT i AS id, (i % 7)::float8 AS x1, (i % 11)::float8 AS x2,
       (ARRAY['a', 'b'])[1 + i % 2] AS c, (3 * (i % 7) - 2 * (i % 11))::float8 AS y
  FROM generate_series(1, 300) i;
CREATE TABLE public.sch_nofeatures AS SELECT id, x1 FROM public.sch_points;
CREATE TABLE public.sch_empty AS SELECT * FROM public.sch_points WHERE false;
GRANT SELECT ON public.sch_points, public.sch_nofeatures, public.sch_empty TO sch_alice, sch_rita, sch_olga;

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
SELECT throws_ok($$SELECT galaxy.set_logging('sch', 1.5)$$, '22023', NULL, 'a sample rate above 1');
SELECT lives_ok($$SELECT galaxy.set_logging('sch', 0.5, '1 day')$$, 'the owner logs half of the predictions');
RESET ROLE;

SET LOCAL ROLE sch_rita;
SELECT is((SELECT count(*)::int FROM galaxy.schedule_status), 1, 'a reader of the project sees its schedule');
SELECT throws_ok($$SELECT galaxy.unschedule('sch_hourly')$$, '42501', NULL, 'but may not remove it');
RESET ROLE;

SET LOCAL ROLE sch_olga;
SELECT is((SELECT count(*)::int FROM galaxy.schedule_status), 0, 'no privilege on the project: no schedules');
SELECT throws_ok($$SELECT galaxy.set_logging('sch', 1)$$, '42501', NULL, 'and no logging settings');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
