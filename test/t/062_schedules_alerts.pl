# Schedules, alerts and inference logging, for real (issue #15).
#
# A drift check scheduled every second runs in the monitor worker the
# launcher starts; shifting the served data raises an alert that a session
# LISTENing on galaxy_alerts receives; a schedule that fails is recorded
# (last_error, last_sqlstate, an alert) while the others keep running.
# Predictions of a logged project reach galaxy.inference_log, and
# galaxy.flush_inference_log() acknowledges them; a restart loses neither
# the schedules nor the acknowledged predictions, and the schedules run
# again after it.  A scheduled evaluation whose metric falls below an
# alert rule's threshold raises an alert heard through LISTEN, and the
# rule submits a retraining job.  No timing is asserted: waits are polls with a generous
# limit.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $node = PostgreSQL::Test::Cluster->new('schedules');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
max_worker_processes = 16
lc_messages = 'C'
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION galaxy;
	SELECT setseed(0.25);
	CREATE TABLE public.train_pts AS
	SELECT i AS id, random() * 10 AS x1, random() * 10 AS x2,
	       (ARRAY['a', 'b', 'c'])[1 + i % 3] AS c
	  FROM generate_series(1, 2000) i;
	ALTER TABLE public.train_pts ADD COLUMN y float8;
	UPDATE public.train_pts SET y = 2 * x1 - x2 + (c = 'a')::int;
	CREATE TABLE public.serving AS SELECT * FROM public.train_pts;
	CREATE TABLE public.doomed AS SELECT * FROM public.train_pts;
	SET client_min_messages = warning;
	SELECT galaxy.train('watched', 'public.train_pts', 'y', 'linear_regression',
	                    features => ARRAY['x1', 'x2', 'c']);
});

# Wait (polling, at most $limit s) until a query returns 't'.
sub wait_for
{
	my ($sql, $what, $limit) = @_;
	$limit //= 60;
	my $t0 = time;
	while (time - $t0 < $limit)
	{
		return 1 if $node->safe_psql('postgres', $sql) eq 't';
		sleep 0.1;
	}
	diag("gave up waiting for $what");
	return 0;
}

# ---------------------------------------------------------------------------
# A schedule every second; shift the data; the alert arrives through LISTEN
# ---------------------------------------------------------------------------
$node->safe_psql('postgres',
	q{SELECT galaxy.schedule_drift('watch', 'watched', 'every 1 second', 'public.serving')});
ok(wait_for(q{SELECT runs >= 2 AND last_status = 'ok' FROM galaxy.schedule_status WHERE name = 'watch'},
	'two clean runs'), 'the schedule runs every second, and the unshifted data raise nothing');
is($node->safe_psql('postgres', 'SELECT count(*) FROM galaxy.alerts'), '0', 'no alert yet');

my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN galaxy_alerts');
# x1 shifted by about 1.5 standard deviations; x2 left alone
$node->safe_psql('postgres', 'UPDATE public.serving SET x1 = x1 + 4.5');
my $t0 = time;
my $heard = '';
while (time - $t0 < 60 && $heard !~ /"kind": "drift"/)
{
	sleep 0.2;
	$heard .= $listener->query_safe('SELECT 1');
}
my $secs = time - $t0;
like($heard, qr/Asynchronous notification "galaxy_alerts" with payload "\{.*"schedule": "watch"/,
	'LISTEN galaxy_alerts receives the alert of the schedule');
note(sprintf('the alert arrived %.1f s after the data shifted', $secs));
my ($payload) = $heard =~ /with payload "(\{.*?\})" received/;
like($payload // '', qr/"feature": "x1"/, 'the payload names the shifted feature');
unlike($payload // '', qr/"feature": "x2"/, 'and not the unshifted one');
like($payload // '', qr/"severity": "critical"/, 'a feature in drift is critical');
is($node->safe_psql('postgres',
		q{SELECT kind || ' ' || severity || ' ' || (details -> 'features' -> 0 ->> 'feature') FROM galaxy.alerts}),
	'drift critical x1', 'the alert is in galaxy.alerts');
# the check keeps breaching: no second alert
my $runs = $node->safe_psql('postgres', q{SELECT runs FROM galaxy.schedules WHERE name = 'watch'});
ok(wait_for(qq{SELECT runs >= $runs + 2 AND last_status = 'alert' FROM galaxy.schedules WHERE name = 'watch'}, 'more runs'),
	'the schedule keeps running, and finding the drift');
is($node->safe_psql('postgres', 'SELECT count(*) FROM galaxy.alerts'), '1',
	'a check that keeps breaching raises one alert, not one per run');
is($node->safe_psql('postgres', 'SELECT galaxy.acknowledge_alert(id, resolve => true) FROM galaxy.alerts'), 't',
	'the alert is acknowledged and resolved');
is($node->safe_psql('postgres', 'SELECT state FROM galaxy.alert_list'), 'resolved', 'alert_list shows it');

# ---------------------------------------------------------------------------
# A failing schedule is reported; the scheduler keeps running the others
# ---------------------------------------------------------------------------
$node->safe_psql('postgres', q{
	SELECT galaxy.schedule_drift('fragile', 'watched', 'every 1 second', 'public.doomed');
	ALTER TABLE public.doomed DROP COLUMN x2;
});
ok(wait_for(q{SELECT last_status = 'failed' FROM galaxy.schedule_status WHERE name = 'fragile'}, 'the failure'),
	'the broken schedule fails');
like($node->safe_psql('postgres', q{SELECT last_sqlstate || ' ' || last_error FROM galaxy.schedule_status WHERE name = 'fragile'}),
	qr/^42703 relation "doomed" has no column "x2"/,
	'its error and SQLSTATE are recorded');
$runs = $node->safe_psql('postgres', q{SELECT runs FROM galaxy.schedules WHERE name = 'watch'});
ok(wait_for(qq{SELECT runs >= $runs + 2 FROM galaxy.schedules WHERE name = 'watch'}, 'runs after the failure'),
	'the other schedule still runs');
is($node->safe_psql('postgres', q{SELECT count(*) FROM galaxy.alerts WHERE kind = 'schedule_failed'}), '1',
	'a schedule that starts failing raises one alert');
$node->safe_psql('postgres', q{SELECT galaxy.unschedule('fragile')});

# ---------------------------------------------------------------------------
# Inference logging, acknowledged rows and schedules survive a restart
# ---------------------------------------------------------------------------
$node->safe_psql('postgres', q{SELECT galaxy.set_logging('watched', 1.0)});
$node->safe_psql('postgres', q{SELECT count(galaxy.predict('watched', s)) FROM public.serving s WHERE id <= 700});
is($node->safe_psql('postgres', 'SELECT galaxy.flush_inference_log(60)'), 't',
	'flush_inference_log acknowledges the logged predictions');
is($node->safe_psql('postgres', q{SELECT count(*) FROM galaxy.inference_log}), '700', 'every prediction is logged');
is($node->safe_psql('postgres', q{SELECT waiting || ' ' || dropped FROM galaxy.inference_log_status}), '0 0',
	'nothing waits and nothing was dropped');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM galaxy.inference_log l
	 WHERE EXISTS (SELECT 1 FROM public.serving s
	                WHERE s.id <= 700 AND l.features[1] = s.x1 AND l.features[2] = s.x2
	                  AND abs(l.prediction - galaxy.predict(l.model_id, s)) < 1e-9)}),
	'700', 'the log holds each row\'s inputs and prediction');
is($node->safe_psql('postgres', q{
	SELECT galaxy.inference_log_rows('watched');
	SELECT count(*) || ' ' || count(*) FILTER (WHERE c IN ('a', 'b', 'c') AND x1 IS NOT NULL) FROM pg_temp.galaxy_log_1}),
	"galaxy_log_1\n700 700", 'inference_log_rows names the logged features, categories decoded');
is($node->safe_psql('postgres', q{
	SELECT string_agg(feature || ':' || status, ',' ORDER BY feature) FROM galaxy.drift_live('watched', '1 hour')
	 WHERE feature IN ('x1', 'x2', 'c')}),
	'c:ok,x1:drift,x2:ok', 'drift on the live traffic finds the shifted feature');

# predictions logged, then the server stops right after the acknowledgement
$node->safe_psql('postgres', q{SELECT count(galaxy.predict('watched', s)) FROM public.serving s WHERE id <= 300});
is($node->safe_psql('postgres', 'SELECT galaxy.flush_inference_log(60)'), 't', 'the second batch is acknowledged');
$node->restart;
is($node->safe_psql('postgres', q{SELECT count(*) FROM galaxy.inference_log}), '1000',
	'a restart loses no acknowledged prediction');
is($node->safe_psql('postgres', q{SELECT string_agg(name, ',') FROM galaxy.schedules}), 'watch',
	'nor a schedule');
$runs = $node->safe_psql('postgres', q{SELECT runs FROM galaxy.schedules WHERE name = 'watch'});
ok(wait_for(qq{SELECT runs >= $runs + 2 FROM galaxy.schedules WHERE name = 'watch'}, 'runs after the restart'),
	'the schedule runs again after the restart');
$node->safe_psql('postgres', q{SELECT count(galaxy.predict('watched', s)) FROM public.serving s WHERE id <= 10});
is($node->safe_psql('postgres', 'SELECT galaxy.flush_inference_log(60)'), 't', 'logging resumes after the restart');
is($node->safe_psql('postgres', q{SELECT count(*) FROM galaxy.inference_log}), '1010', 'with the same setting');

# ---------------------------------------------------------------------------
# An evaluation every second; its metric falls below a rule's threshold: the
# alert arrives through LISTEN, and the rule submits a retraining job
# ---------------------------------------------------------------------------
$node->safe_psql('postgres', q{
	SELECT galaxy.unschedule('watch');
	CREATE TABLE public.labelled AS SELECT * FROM public.train_pts;
	SELECT galaxy.schedule('quality', 'watched', 'every 1 second', 'evaluate', 'public.labelled');
	SELECT galaxy.set_alert_rule('watched', 'metric_below', 0.9,
	                             '{"metric": "r2", "retrain": true, "severity": "critical"}');
});
ok(wait_for(q{SELECT count(*) > 0 FROM galaxy.evaluation_list WHERE schedule = 'quality' AND metric = 'r2'},
		'an evaluation'),
	'the scheduled evaluation appends its metrics to galaxy.evaluations');
is($node->safe_psql('postgres', q{
	SELECT (SELECT count(*) FROM galaxy.alerts WHERE rule_id IS NOT NULL) || ' ' ||
	       (SELECT round(value::numeric, 6) = round(galaxy.evaluate('watched', 'public.labelled', 'r2')::numeric, 6)
	          FROM galaxy.evaluation_list WHERE schedule = 'quality' AND metric = 'r2' ORDER BY id DESC LIMIT 1)}),
	'0 true', 'the stored value is galaxy.evaluate\'s, and a model that meets the threshold raises nothing');

my $listener2 = $node->background_psql('postgres');
$listener2->query_safe('LISTEN galaxy_alerts');
# the labels move away from what the model predicts: r2 falls below 0.9
$node->safe_psql('postgres', 'UPDATE public.labelled SET y = y + 8');
$t0 = time;
$heard = '';
while (time - $t0 < 60 && $heard !~ /"kind": "metric_below"/)
{
	sleep 0.2;
	$heard .= $listener2->query_safe('SELECT 1');
}
like($heard, qr/Asynchronous notification "galaxy_alerts" with payload "\{.*"kind": "metric_below"/,
	'LISTEN galaxy_alerts receives the metric alert');
note(sprintf('the metric alert arrived %.1f s after the labels changed', time - $t0));
($payload) = $heard =~ /with payload "(\{[^\n]*"metric_below"[^\n]*\})" received/;
like($payload // '', qr/"metric": "r2"/, 'the payload names the metric');
like($payload // '', qr/"severity": "critical"/, 'with the rule\'s severity');
my ($job) = ($payload // '') =~ /"retrain_job": (\d+)/;
ok(defined $job, 'the rule submitted a retraining job');
$job //= 0;
is($node->safe_psql('postgres', qq{
	SELECT (j.owner = current_user) || ' ' || (j.request ->> 'algorithm') || ' ' || (j.request ->> 'target')
	  FROM galaxy.jobs j WHERE j.id = $job}),
	'true linear_regression y', 'through the job queue, like the current model, as the rule\'s owner');
is($node->safe_psql('postgres', qq{SELECT state FROM galaxy.wait($job, '120 s')}), 'succeeded',
	'the retraining job succeeds');
is($node->safe_psql('postgres', qq{SELECT count(*) FROM galaxy.models WHERE job_id = $job}), '1',
	'and registers a model (deployed or not by the project\'s policy)');
$runs = $node->safe_psql('postgres', q{SELECT runs FROM galaxy.schedules WHERE name = 'quality'});
ok(wait_for(qq{SELECT runs > $runs FROM galaxy.schedules WHERE name = 'quality'}, 'another evaluation'),
	'the evaluation keeps running');
is($node->safe_psql('postgres', q{
	SELECT (SELECT count(*) FROM galaxy.alerts WHERE kind = 'metric_below'),
	       (SELECT fired || ' ' || open_alert FROM galaxy.alert_rule_list),
	       (SELECT (galaxy.health() -> 'alerts' ->> 'open')::int = count(*) FROM galaxy.alerts WHERE resolved_at IS NULL),
	       galaxy.health() ->> 'status',
	       strpos(galaxy.prometheus(), E'\ngalaxy_alerts_open{project="watched",kind="metric_below",severity="critical"} 1\n') > 0}),
	'1|1 true|t|warning|t',
	'no second alert while the rule\'s is open; alert_rule_list, health() and prometheus() show it');
$node->safe_psql('postgres', q{
	SELECT galaxy.unschedule('quality');
	SELECT galaxy.drop_alert_rule(id) FROM galaxy.alert_rules;
});
$listener2->quit;
$listener->quit;
$node->stop;
done_testing();
