# Background jobs survive crashes and restarts.
#
# kill -9 of a training worker makes the postmaster reinitialise shared
# memory and restart the launcher; jobs left 'running' are then failed with
# a clear message, or re-queued while retries remain (and then succeed);
# queued jobs still run; everything is audited; no progress slot survives.
# A clean restart finds queued jobs again, and a fast shutdown records the
# interrupted job.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GalaxyTAP;

my $node = PostgreSQL::Test::Cluster->new('jobs_crash');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
max_worker_processes = 16
galaxy.max_workers = 2
restart_after_crash = on
lc_messages = 'C'
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION galaxy;
	CREATE TABLE public.pts AS
	SELECT i AS id, (i % 7)::float8 AS x1, (i % 11)::float8 AS x2,
	       (3 * (i % 7) - 2 * (i % 11) + 0.5)::float8 AS y
	  FROM generate_series(1, 1000) i;
	-- about 4 s to read
	CREATE VIEW public.slow_pts AS
	SELECT x1, x2, y FROM public.pts WHERE pg_sleep(0.004) IS NOT NULL;
});

# Submit a job and return its id.
sub submit
{
	my ($args) = @_;
	return $node->safe_psql('postgres', "SELECT galaxy.submit($args)");
}

# Audit actions of a job, in order.
sub audit_trail
{
	my ($id) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT string_agg(action, ',' ORDER BY id) FROM galaxy.audit_log
		 WHERE object_type = 'job' AND object_id = '$id'
	});
}

# ---------------------------------------------------------------------------
# kill -9 of a training worker
# ---------------------------------------------------------------------------
my $a = submit("'crash_a', 'public.slow_pts', 'y', algorithm => 'linear_regression'");
my $b = submit("'crash_b', 'public.slow_pts', 'y', algorithm => 'linear_regression', retries => 1");
my $c = submit("'crash_c', 'public.pts', 'y', algorithm => 'linear_regression'");
my $d = submit("'crash_d', 'public.pts', 'y', algorithm => 'linear_regression'");

$node->poll_query_until('postgres', qq{
	SELECT count(*) = 2 FROM galaxy.training_progress WHERE job_id IN ($a, $b) AND pid IS NOT NULL
}) or die 'jobs did not start';
my $pid = $node->safe_psql('postgres', "SELECT worker_pid FROM galaxy.jobs WHERE id = $a");
ok(kill('KILL', $pid), "kill -9 of the training worker of job $a (pid $pid)");

# the postmaster restarts everything; wait until the queue has settled
poll_through_crash($node, 'postgres', qq{
	SELECT count(*) = 0 FROM galaxy.jobs WHERE id IN ($a, $b, $c, $d) AND state IN ('queued', 'running')
}) or die 'jobs did not settle after the crash';

my $log = slurp_file($node->logfile);
like($log, qr/terminated by signal 9/, 'the postmaster saw the worker die');
like($log, qr/all server processes terminated; reinitializing/, 'and reinitialised shared memory');

is( $node->safe_psql('postgres', "SELECT state || '|' || attempts || '|' || coalesce(model_id::text, '') FROM galaxy.jobs WHERE id = $a"),
	'failed|1|', 'the killed job (no retries) is failed, without a model');
like($node->safe_psql('postgres', "SELECT error_message FROM galaxy.jobs WHERE id = $a"),
	qr/training worker terminated unexpectedly \(server crash/, 'with a clear message');
is( $node->safe_psql('postgres', "SELECT state || '|' || attempts || '|' || (model_id IS NOT NULL) FROM galaxy.jobs WHERE id = $b"),
	'succeeded|2|true', 'the job with retries => 1 was re-queued and then succeeded');
is( $node->safe_psql('postgres', "SELECT count(*) FROM galaxy.jobs WHERE id IN ($c, $d) AND state = 'succeeded'"),
	'2', 'the other queued jobs still ran');
is(audit_trail($a), 'submit,job_running,job_failed', 'audit: the crashed job was failed');
is(audit_trail($b), 'submit,job_running,job_requeued,job_running,job_succeeded',
	'audit: the retried job was re-queued and ran again');
is( $node->safe_psql('postgres', qq{
		SELECT count(*) FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id WHERE p.name = 'crash_a'
	}),
	'0', 'no model row for the crashed job');
is($node->safe_psql('postgres', 'SELECT count(*) FROM galaxy_internal.progress_slots()'),
	'0', 'no progress slot survived');
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'galaxy launcher'
	}),
	'1', 'the launcher is back');

# ---------------------------------------------------------------------------
# A clean restart: queued jobs are found and run
# ---------------------------------------------------------------------------
$node->safe_psql('postgres', 'ALTER SYSTEM SET galaxy.max_workers = 0; SELECT pg_reload_conf()');
$node->poll_query_until('postgres', q{SELECT current_setting('galaxy.max_workers') = '0'})
  or die 'timed out waiting for galaxy.max_workers = 0';
my $e = submit("'restart_e', 'public.pts', 'y', algorithm => 'linear_regression'");
$node->stop('fast');
$node->adjust_conf('postgresql.auto.conf', 'galaxy.max_workers', "'2'");
$node->start;
like($node->safe_psql('postgres', "SELECT state || '|' || attempts FROM galaxy.wait($e, '30s')"),
	qr/^succeeded\|1$/, 'a job queued before a restart runs after it');

# ---------------------------------------------------------------------------
# Fast shutdown during a run: the worker records it
# ---------------------------------------------------------------------------
my $f = submit("'shutdown_f', 'public.slow_pts', 'y', algorithm => 'linear_regression'");
$node->poll_query_until('postgres', qq{
	SELECT count(*) = 1 FROM galaxy.training_progress WHERE job_id = $f AND pid IS NOT NULL
}) or die 'job did not start';
$node->stop('fast');
$node->start;
is( $node->safe_psql('postgres', "SELECT state || '|' || error_sqlstate FROM galaxy.jobs WHERE id = $f"),
	'failed|57P01', 'a job interrupted by a fast shutdown is failed (57P01)');
like($node->safe_psql('postgres', "SELECT error_message FROM galaxy.jobs WHERE id = $f"),
	# the worker records the shutdown itself, unless the postmaster's shutdown
	# wins the race; then recovery at the next start records it
	qr/training worker (was terminated \(server shutdown|terminated unexpectedly)/, 'with a message saying why');

$node->stop;
done_testing();
