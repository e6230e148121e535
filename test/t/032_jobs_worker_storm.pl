# Security finding #10, "worker restart storm".
#
# A trainer who sets ALTER ROLE CURRENT_USER SET default_transaction_read_only
# = on and submits a job made its worker fail at its first step; the launcher
# restarted it 20-25 times a second, forever, with the job 'queued' and 0
# attempts.  Now:
#  (a) a failed start counts as an attempt; after the retries the job is
#      'failed' with the error's message and SQLSTATE, audited; the job is
#      backed off between starts (1 s, doubling), so the server log shows
#      one worker start per attempt and none once the job failed;
#  (b) fairness: with galaxy.max_workers = 2 and one owner's three jobs
#      queued first, another owner's job gets a worker before the first
#      owner's third job (at most max(1, max_workers - 1) running jobs per
#      owner while another owner waits).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use Time::Local qw(timelocal);

my $node = PostgreSQL::Test::Cluster->new('jobs_storm');
$node->init;
# galaxy.max_workers = 0 pauses the queue: part (b) fills it first
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
max_worker_processes = 16
galaxy.max_workers = 0
lc_messages = 'C'
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION galaxy;
	CREATE TABLE public.pts AS
	SELECT i AS id, (i % 7)::float8 AS x1, (i % 11)::float8 AS x2,
	       (3 * (i % 7) - 2 * (i % 11) + 0.5)::float8 AS y
	  FROM generate_series(1, 1000) i;
	-- about 1 s to read
	CREATE VIEW public.slow_pts AS
	SELECT x1, x2, y FROM public.pts WHERE pg_sleep(0.001) IS NOT NULL;
	GRANT SELECT ON public.pts, public.slow_pts TO PUBLIC;
	CREATE ROLE alice LOGIN;
	CREATE ROLE bob LOGIN;
	CREATE ROLE ro_trainer LOGIN;
		GRANT galaxy_trainer TO alice, bob, ro_trainer;
});

# Submit a job as a role and return its id.
sub submit_as
{
	my ($role, $args) = @_;
	return $node->safe_psql('postgres', "SELECT galaxy.submit($args)",
		extra_params => [ '-U', $role ]);
}

# ---------------------------------------------------------------------------
# (b) fairness: alice's three jobs queued before bob's one, max_workers 0 → 2
# ---------------------------------------------------------------------------
my @alice = map {
	submit_as('alice',
		"'fair_alice_$_', 'public.slow_pts', 'y', algorithm => 'linear_regression'")
} 1 .. 3;
my $bob = submit_as('bob',
	"'fair_bob', 'public.slow_pts', 'y', algorithm => 'linear_regression'");
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM galaxy.jobs WHERE state = 'queued'"),
	'4', 'max_workers = 0: all four jobs wait');

$node->safe_psql('postgres', q{
	ALTER SYSTEM SET galaxy.max_workers = 2;
	SELECT pg_reload_conf();
});
ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 4 FROM galaxy.jobs WHERE state = 'succeeded'"),
	'the four jobs succeed');
my $order = $node->safe_psql('postgres',
	"SELECT string_agg(owner || ':' || id, ' ' ORDER BY started_at, id) FROM galaxy.jobs");
note "start order: $order";
ok( $node->safe_psql('postgres', qq{
		SELECT b.started_at < a.started_at
		  FROM galaxy.jobs b, galaxy.jobs a WHERE b.id = $bob AND a.id = $alice[2]}) eq 't',
	"bob's job gets a worker before alice's third job ($order)");
ok( $node->safe_psql('postgres', qq{
		SELECT b.started_at < a.finished_at
		  FROM galaxy.jobs b, galaxy.jobs a WHERE b.id = $bob AND a.id = $alice[0]}) eq 't',
	"bob's job starts while alice's first job runs: alice never holds both workers while bob waits");

# ---------------------------------------------------------------------------
# (a) a role whose settings make the worker fail at its first step
# ---------------------------------------------------------------------------
my $log_offset = -s $node->logfile;
my $t0 = time;
my $job = $node->safe_psql('postgres', q{
	ALTER ROLE CURRENT_USER SET default_transaction_read_only = on;
	SELECT galaxy.submit('storm', 'public.pts', 'y',
	                     algorithm => 'linear_regression', retries => 1);
}, extra_params => [ '-U', 'ro_trainer' ]);

my $row = $node->safe_psql('postgres', qq{
	SELECT state || '|' || attempts || '|' || coalesce(error_sqlstate, '') || '|' ||
	       coalesce(error_message, '')
	  FROM galaxy.wait($job, '30 s')});
my $took = time - $t0;
like($row, qr/^failed\|2\|25006\|.*read-only/,
	"the job fails after 1 + 1 attempts with the read-only error ($row)");
cmp_ok($took, '<', 25, sprintf('... within a bounded time (%.1f s)', $took));
like( $node->safe_psql('postgres', "SELECT error_context FROM galaxy.jobs WHERE id = $job"),
	qr/before it could mark the job running \(attempt 2 of 2\)/,
	'error_context says the worker failed at its start');
is( $node->safe_psql('postgres', qq{
		SELECT string_agg(action || ':' || (details->>'attempt') || ':' || (details->>'sqlstate'),
		                  ',' ORDER BY id)
		  FROM galaxy.audit_log
		 WHERE object_type = 'job' AND object_id = '$job' AND action LIKE 'job_%'}),
	'job_requeued:1:25006,job_failed:2:25006',
	'both failed attempts are audited');

# Worker starts for the job, from the server log: each start ends with the
# worker's error (logged as ERROR by the background worker's exit handler).  The old launcher restarted it 20-25 times a second.
sub start_times
{
	my $log = slurp_file($node->logfile, $log_offset);
	my @t;
	while ($log =~ /^(\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+)\.(\d+) \S+ \[\d+\] \S* ?(?:ERROR|FATAL):  cannot execute \w+ in a read-only transaction/mg)
	{
		push @t, timelocal($6, $5, $4, $3, $2 - 1, $1) + "0.$7";
	}
	return @t;
}
my @starts = start_times();
cmp_ok(scalar(@starts), '>=', 2, 'the server log shows the failed starts');
cmp_ok(scalar(@starts), '<=', 5,
	'... a bounded number: ' . scalar(@starts) . ' in ' . sprintf('%.1f', $took) . ' s');
cmp_ok($starts[1] - $starts[0], '>=', 0.9,
	sprintf('the second start waited for the back-off (%.2f s after the first)',
		$starts[1] - $starts[0]))
  if @starts >= 2;

# Another job runs normally afterwards, and the broken job is never started again.
my $ok_job = submit_as('alice',
	"'after_storm', 'public.pts', 'y', algorithm => 'linear_regression'");
is( $node->safe_psql('postgres', "SELECT state FROM galaxy.wait($ok_job, '60 s')"),
	'succeeded', 'the queue keeps working');
is(scalar(start_times()), scalar(@starts),
	'no worker was started for the failed job since');
is($node->safe_psql('postgres', "SELECT state || '|' || attempts FROM galaxy.jobs WHERE id = $job"),
	'failed|2', 'the failed job stays failed');

$node->stop;
done_testing();
