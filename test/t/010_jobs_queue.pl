# Background training jobs: the queue, the launcher and the training workers.
#
# galaxy.max_workers bounds concurrency cluster-wide; jobs run highest
# priority first; a rolled-back submit never runs; a job runs as the role
# that submitted it (so a privilege revoked after submit fails it, recorded
# on the job); cancel/wait; NOTIFY galaxy_jobs; galaxy.job_timeout; jobs in
# two databases; galaxy.submit refuses clearly without preloading.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('jobs_queue');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
max_worker_processes = 16
galaxy.max_workers = 2
lc_messages = 'C'
});
$node->start;

my $super = $node->safe_psql('postgres', 'SELECT current_user');

$node->safe_psql('postgres', q{
	CREATE EXTENSION galaxy;
	CREATE TABLE public.pts AS
	SELECT i AS id, (i % 7)::float8 AS x1, (i % 11)::float8 AS x2,
	       (3 * (i % 7) - 2 * (i % 11) + 0.5)::float8 AS y
	  FROM generate_series(1, 1000) i;
	-- about 0.5 s to read: long enough for jobs to overlap
	CREATE VIEW public.slow_pts AS
	SELECT x1, x2, y FROM public.pts WHERE pg_sleep(0.0005) IS NOT NULL;
	-- about 3 s
	CREATE VIEW public.slower_pts AS
	SELECT x1, x2, y FROM public.pts WHERE pg_sleep(0.003) IS NOT NULL;
	CREATE ROLE bob LOGIN;
	GRANT galaxy_trainer TO bob;
});

# Change a setting and wait until the server has re-read it: a new session
# sees it once the postmaster has reloaded and signalled the launcher, which
# reloads before it next looks at the queue.
sub set_conf
{
	my ($name, $value) = @_;
	$node->safe_psql('postgres', qq{ALTER SYSTEM SET $name = '$value'; SELECT pg_reload_conf()});
	$node->poll_query_until('postgres', qq{SELECT current_setting('$name') = '$value'})
	  or die "timed out waiting for $name = $value";
}

# Set galaxy.max_workers and wait until the launcher has it.
sub set_max_workers
{
	my ($n) = @_;
	set_conf('galaxy.max_workers', $n);
}

# Submit a job (SQL arguments after the project) and return its id.
sub submit
{
	my ($db, $args) = @_;
	return $node->safe_psql($db, "SELECT galaxy.submit($args)");
}

# Wait for a job's end and return "state|model_id|error_sqlstate".
sub wait_job
{
	my ($db, $id) = @_;
	return $node->safe_psql($db,
		"SELECT state || '|' || coalesce(model_id::text, '') || '|' || coalesce(error_sqlstate, '') FROM galaxy.wait($id, '60s')"
	);
}

# ---------------------------------------------------------------------------
# 10 jobs with max_workers = 2: all succeed, never more than 2 at once
# ---------------------------------------------------------------------------
my $sampler = $node->background_psql('postgres');
my @ids;
for my $i (1 .. 10)
{
	push @ids, submit('postgres',
		"'ten_$i', 'public.slow_pts', 'y', algorithm => 'linear_regression'");
}
my $idlist = join(',', @ids);

# sample the number of training workers every 10 ms until all ten are done
my $max_seen = $sampler->query_safe(qq{
	CREATE TEMP TABLE samples (n integer, r integer);
	DO \$\$
	DECLARE
		deadline timestamptz := clock_timestamp() + interval '60 s';
	BEGIN
		LOOP
			PERFORM pg_stat_clear_snapshot();
			INSERT INTO samples
			SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'galaxy training worker'),
			       (SELECT count(*) FROM galaxy_internal.progress_slots() WHERE job_id IS NOT NULL);
			EXIT WHEN NOT EXISTS (SELECT 1 FROM galaxy.jobs WHERE id IN ($idlist)
			                         AND state IN ('queued', 'running'))
			       OR clock_timestamp() > deadline;
			PERFORM pg_sleep(0.01);
		END LOOP;
	END
	\$\$;
	SELECT max(n) || '|' || max(r) || '|' || count(*) FROM samples;
});
$sampler->quit;
my ($max_workers_seen, $max_slots_seen, $nsamples) = split /\|/, $max_seen;
note "samples: $nsamples, most workers at once: $max_workers_seen, most live progress slots: $max_slots_seen";
cmp_ok($nsamples, '>', 20, 'sampled the workers many times');
cmp_ok($max_workers_seen, '<=', 2, 'never more than galaxy.max_workers = 2 training workers (pg_stat_activity)');
cmp_ok($max_slots_seen, '<=', 2, 'never more than 2 live training runs (progress slots)');
is($max_workers_seen, 2, 'two jobs did run side by side');

is( $node->safe_psql('postgres',
		"SELECT count(*) FILTER (WHERE state = 'succeeded' AND model_id IS NOT NULL AND attempts = 1) FROM galaxy.jobs WHERE id IN ($idlist)"),
	'10', 'all 10 jobs succeeded with a model');

# the recorded run intervals never overlap more than twice
is( $node->safe_psql('postgres', qq{
		SELECT max((SELECT count(*) FROM galaxy.jobs o
		             WHERE o.id IN ($idlist)
		               AND o.started_at <= j.started_at AND o.finished_at > j.started_at))
		  FROM galaxy.jobs j WHERE j.id IN ($idlist)
	}),
	'2', 'at most 2 jobs were running at any start of a job (recorded intervals)');

is( $node->safe_psql('postgres', qq{
		SELECT count(*) FROM galaxy.job_progress p JOIN galaxy.jobs j ON j.id = p.job_id
		 WHERE j.id IN ($idlist) AND p.attempt = 1 AND p.phase = 'fit'
	}),
	'10', 'each job persisted its progress history');

is( $node->safe_psql('postgres', qq{
		SELECT string_agg(action, ',' ORDER BY a.id) FROM galaxy.audit_log a
		 WHERE object_type = 'job' AND object_id = '$ids[0]'
	}),
	'submit,job_running,job_succeeded', 'a job\'s state changes are audited');

is( $node->safe_psql('postgres', qq{
		SELECT count(*) FROM galaxy.jobs_overview
		 WHERE job_id IN ($idlist) AND state = 'succeeded' AND run_time > interval '0'
		   AND model_version IS NOT NULL AND owner = '$super'
	}),
	'10', 'galaxy.jobs_overview shows state, run time, model and owner');

# ---------------------------------------------------------------------------
# Priority: highest first, then oldest
# ---------------------------------------------------------------------------
set_max_workers(0);
my $p_low = submit('postgres', "'prio', 'public.pts', 'y', algorithm => 'linear_regression', priority => 0");
my $p_high = submit('postgres', "'prio', 'public.pts', 'y', algorithm => 'linear_regression', priority => 5");
my $p_mid = submit('postgres', "'prio', 'public.pts', 'y', algorithm => 'linear_regression', priority => 1");
my $p_mid2 = submit('postgres', "'prio', 'public.pts', 'y', algorithm => 'linear_regression', priority => 1");
# give the launcher 1.5 s to (wrongly) start one: wait on the last of them
$node->safe_psql('postgres', "SELECT galaxy.wait($p_mid2, '1500ms')");
is($node->safe_psql('postgres', "SELECT count(*) FROM galaxy.jobs WHERE project = 'prio' AND state = 'queued'"),
	'4', 'with galaxy.max_workers = 0 jobs stay queued');
is($node->safe_psql('postgres', "SELECT state FROM galaxy.wait($p_low, '200ms')"),
	'queued', 'galaxy.wait with a timeout returns the row as it is');
set_max_workers(1);
wait_job('postgres', $_) for ($p_low, $p_high, $p_mid, $p_mid2);
is( $node->safe_psql('postgres',
		"SELECT string_agg(id::text, ',' ORDER BY started_at) FROM galaxy.jobs WHERE project = 'prio'"),
	"$p_high,$p_mid,$p_mid2,$p_low", 'jobs started highest priority first, then oldest');
set_max_workers(2);

# ---------------------------------------------------------------------------
# A submit in a rolled-back transaction never runs
# ---------------------------------------------------------------------------
my $rb = $node->safe_psql('postgres', q{
	BEGIN;
	SELECT galaxy.submit('rolled_back', 'public.pts', 'y', algorithm => 'linear_regression');
	ROLLBACK;
});
my $after = submit('postgres', "'after_rollback', 'public.pts', 'y', algorithm => 'linear_regression'");
like(wait_job('postgres', $after), qr/^succeeded\|\d+\|$/, 'the job submitted after the rollback ran');
is( $node->safe_psql('postgres', qq{
		SELECT (SELECT count(*) FROM galaxy.jobs WHERE id = $rb OR project = 'rolled_back')
		     + (SELECT count(*) FROM galaxy.audit_log WHERE object_type = 'job' AND object_id = '$rb')
		     + (SELECT count(*) FROM galaxy.projects WHERE name = 'rolled_back')
	}),
	'0', 'the rolled-back job left no row, ran never, audited nothing');

my ($ret, $out, $err) = $node->psql('postgres', q{
	BEGIN;
	SELECT galaxy.submit('same_xact', 'public.pts', 'y', algorithm => 'linear_regression') AS j \gset
	SELECT galaxy.wait(:j);
	ROLLBACK;
});
like($err, qr/submitted in this transaction and cannot start before it commits/,
	'galaxy.wait on a job of the same transaction refuses instead of hanging');

# A transaction that made an audited change holds the audit chain's lock:
# galaxy.wait() in it must not wait forever for a worker that needs it.
set_max_workers(0);
my $blocked = submit('postgres', "'blocked', 'public.pts', 'y', algorithm => 'linear_regression'");
my $holder = $node->background_psql('postgres', on_error_stop => 0);
$holder->query_safe(q{BEGIN; SELECT galaxy.submit('holder', 'public.pts', 'y', algorithm => 'linear_regression')});
set_max_workers(2);
$holder->query("SELECT galaxy.wait($blocked, '20s')");
like($holder->{stderr}, qr/galaxy job $blocked waits for a lock held by this transaction/,
	'galaxy.wait refuses to wait for a worker blocked by the waiting transaction');
$holder->query('ROLLBACK');
$holder->quit;
like(wait_job('postgres', $blocked), qr/^succeeded/, 'the blocked job ran once the transaction ended');

# ---------------------------------------------------------------------------
# The worker runs as the submitting role
# ---------------------------------------------------------------------------
($ret, $out, $err) = $node->psql('postgres',
	q{SELECT galaxy.submit('bob_job', 'public.pts', 'y', algorithm => 'linear_regression')},
	extra_params => [ '-U', 'bob' ]);
like($err, qr/ERROR:  permission denied for table pts/,
	'a role that cannot read the table cannot submit (checked up front)');

set_max_workers(0);
$node->safe_psql('postgres', 'GRANT SELECT ON public.pts TO bob');
my $bob_job = $node->safe_psql('postgres',
	q{SELECT galaxy.submit('bob_job', 'public.pts', 'y', algorithm => 'linear_regression')},
	extra_params => [ '-U', 'bob' ]);
$node->safe_psql('postgres', 'REVOKE SELECT ON public.pts FROM bob');
set_max_workers(2);
is(wait_job('postgres', $bob_job), 'failed||42501',
	'privilege revoked before the run: the job fails with SQLSTATE 42501');
like( $node->safe_psql('postgres', "SELECT owner || ': ' || error_message FROM galaxy.jobs WHERE id = $bob_job"),
	qr/^bob: permission denied for table pts/, 'the job records the permission error of its owner');
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id WHERE p.name = 'bob_job'"),
	'0', 'no model was registered');
is( $node->safe_psql('postgres', qq{
		SELECT string_agg(action || ':' || current_user_name, ',' ORDER BY id) FROM galaxy.audit_log
		 WHERE object_type = 'job' AND object_id = '$bob_job'
	}),
	'submit:bob,job_running:bob,job_failed:bob', 'the failure is audited as bob');

# ---------------------------------------------------------------------------
# Cancel
# ---------------------------------------------------------------------------
set_max_workers(0);
my $q = submit('postgres', "'cancel_me', 'public.pts', 'y', algorithm => 'linear_regression'");
($ret, $out, $err) = $node->psql('postgres', "SELECT galaxy.cancel($q)", extra_params => [ '-U', 'bob' ]);
like($err, qr/permission denied to cancel galaxy job $q|permission denied for galaxy job $q/,
	'another role cannot cancel the job');
is($node->safe_psql('postgres', "SELECT state || '|' || error_message FROM galaxy.cancel($q)"),
	"cancelled|cancelled by role $super with galaxy.cancel()", 'a queued job is cancelled at once');
set_max_workers(2);
# a job queued after it has run, so the launcher has been past the cancelled one
like(wait_job('postgres', submit('postgres', "'after_cancel', 'public.pts', 'y', algorithm => 'linear_regression'")),
	qr/^succeeded/, 'a job queued after the cancelled one ran');
is( $node->safe_psql('postgres', qq{
		SELECT string_agg(action, ',' ORDER BY id) FROM galaxy.audit_log
		 WHERE object_type = 'job' AND object_id = '$q'
	}),
	'submit,cancel', 'the cancelled job never ran');
($ret, $out, $err) = $node->psql('postgres', 'SELECT galaxy.cancel(987654)');
like($err, qr/galaxy job 987654 does not exist/, 'cancelling an unknown job is an error');

# ---------------------------------------------------------------------------
# NOTIFY galaxy_jobs '<id>:<state>'
# ---------------------------------------------------------------------------
my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN galaxy_jobs');
my $n = submit('postgres', "'notify', 'public.pts', 'y', algorithm => 'linear_regression'");
wait_job('postgres', $n);
my $heard = $listener->query_safe('SELECT 1');
$listener->quit;
my @payloads = ($heard =~ /with payload "(\d+:\w+)"/g);
is(join(',', grep { /^$n:/ } @payloads), "$n:queued,$n:running,$n:succeeded",
	'NOTIFY galaxy_jobs announces queued, running, succeeded');

# ---------------------------------------------------------------------------
# Time limits: galaxy.job_timeout and the job's own timeout
# ---------------------------------------------------------------------------
set_conf('galaxy.job_timeout', '700ms');
my $t1 = submit('postgres', "'timeouts', 'public.slower_pts', 'y', algorithm => 'linear_regression'");
my $t2 = submit('postgres',
	"'timeouts', 'public.slow_pts', 'y', algorithm => 'linear_regression', timeout => '30s'");
is(wait_job('postgres', $t1), 'failed||57014', 'galaxy.job_timeout stops a long job');
like($node->safe_psql('postgres', "SELECT error_message FROM galaxy.jobs WHERE id = $t1"),
	qr/exceeded its time limit of 700 ms/, 'the job says which limit it exceeded');
like(wait_job('postgres', $t2), qr/^succeeded/, 'a job\'s own timeout overrides galaxy.job_timeout');
$node->safe_psql('postgres', q{ALTER SYSTEM RESET galaxy.job_timeout; SELECT pg_reload_conf()});

($ret, $out, $err) = $node->psql('postgres',
	q{SELECT galaxy.submit('bad', 'public.pts', 'y', algorithm => 'linear_regresion')});
like($err, qr/ERROR:/, 'a misspelt algorithm fails at submit time');
($ret, $out, $err) = $node->psql('postgres',
	q{SELECT galaxy.submit('bad', 'public.pts', 'y', retries => -1)});
like($err, qr/retries must be between 0 and 100/, 'negative retries are refused');

# ---------------------------------------------------------------------------
# Jobs in two databases run
# ---------------------------------------------------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', q{
	CREATE EXTENSION galaxy;
	CREATE TABLE public.pts AS
	SELECT i AS id, (i % 5)::float8 AS x1, (2 * (i % 5) + 1)::float8 AS y FROM generate_series(1, 300) i;
});
my $o1 = submit('other', "'elsewhere', 'public.pts', 'y', algorithm => 'linear_regression', features => ARRAY['x1']");
my $o2 = submit('postgres', "'here', 'public.pts', 'y', algorithm => 'linear_regression'");
like(wait_job('other', $o1), qr/^succeeded\|\d+\|$/, 'a job in a second database ran');
like(wait_job('postgres', $o2), qr/^succeeded\|\d+\|$/, 'and a job in the first database too');
is($node->safe_psql('other', "SELECT round(galaxy.predict('elsewhere', ARRAY[2]::float8[])::numeric, 3)"),
	'5.000', 'the model trained in the second database predicts there');

# ---------------------------------------------------------------------------
# Without shared_preload_libraries, submit says what is missing
# ---------------------------------------------------------------------------
$node->stop;
$node->adjust_conf('postgresql.conf', 'shared_preload_libraries', "''");
$node->start;
($ret, $out, $err) = $node->psql('postgres',
	q{SELECT galaxy.submit('nopreload', 'public.pts', 'y', algorithm => 'linear_regression')});
like($err, qr/ERROR:  galaxy\.submit requires galaxy to be loaded through shared_preload_libraries/,
	'without preloading, galaxy.submit errors');
like($err, qr/HINT:  Add 'galaxy' to shared_preload_libraries/, 'with a HINT naming the setting');
is($node->safe_psql('postgres', 'SELECT count(*) FROM galaxy.training_progress WHERE pid IS NOT NULL'),
	'0', 'without preloading the progress view works (no live slots)');

$node->stop;
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|PANIC|server process .* exited with exit code [^0]/,
	'no process crashed');

done_testing();
