# Live training progress and cancellation.
#
# A second session watches galaxy.training_progress move (iteration, loss,
# percent, progress bar, ETA) while a job trains, from shared memory, while
# the training transaction is still open.  galaxy.cancel() stops a running
# job at once (state cancelled, worker gone, no model);
# pg_cancel_backend() stops a synchronous galaxy.train() at once (the time is
# in the checks' names; the bound is loose so a loaded machine passes).
# Job history in galaxy.job_progress is bounded.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('jobs_progress');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
max_worker_processes = 16
galaxy.max_workers = 2
lc_messages = 'C'
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION galaxy;
	CREATE TABLE public.pts AS
	SELECT i AS id, (i % 7)::float8 AS x1, (i % 11)::float8 AS x2,
	       (3 * (i % 7) - 2 * (i % 11) + 0.5)::float8 AS y
	  FROM generate_series(1, 1000) i;
	-- about 30 s to read: a cancel that works ends it long before, however
	-- busy the machine
	CREATE VIEW public.slow_pts AS
	SELECT x1, x2, y FROM public.pts WHERE pg_sleep(0.03) IS NOT NULL;
	CREATE TABLE public.wave AS
	SELECT i AS id, x1, x2, x3, sin(3 * x1) + x2 * x3 + 0.1 * sin(17 * i) AS y
	  FROM (SELECT i, (i % 101) / 100.0 AS x1, (i % 37) / 37.0 AS x2, (i % 13) / 13.0 AS x3
	          FROM generate_series(1, 20000) i) s;
});

# Poll until the SQL returns true; die after 30 s.
sub wait_for
{
	my ($sql, $what) = @_;
	$node->poll_query_until('postgres', $sql) or die "timed out waiting for $what";
}

# ---------------------------------------------------------------------------
# galaxy.cancel() of a running job
# ---------------------------------------------------------------------------
my $job = $node->safe_psql('postgres',
	q{SELECT galaxy.submit('cancel_running', 'public.slow_pts', 'y', algorithm => 'linear_regression')});
wait_for(qq{SELECT count(*) = 1 FROM galaxy.training_progress WHERE job_id = $job AND pid IS NOT NULL},
	'the job to run');
my $pid = $node->safe_psql('postgres', "SELECT pid FROM galaxy.training_progress WHERE job_id = $job");
is($node->safe_psql('postgres', "SELECT state || '|' || phase FROM galaxy.training_progress WHERE job_id = $job"),
	'running|load', 'the running job shows in galaxy.training_progress');

my $t0 = time();
my $state = $node->safe_psql('postgres', "SELECT state FROM galaxy.cancel($job)");
my $took = time() - $t0;
is($state, 'cancelled', 'galaxy.cancel returns the job cancelled');
# a quiet machine takes well under a second (the number is in the check's
# name); the bound only has to tell a cancel from reading the view to its end
cmp_ok($took, '<', 10.0, sprintf('within seconds, not after the 30 s read (%.3f s)', $took));
is( $node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid"),
	'0', 'the worker is gone');
is( $node->safe_psql('postgres', "SELECT error_sqlstate || '|' || (model_id IS NULL) FROM galaxy.jobs WHERE id = $job"),
	'57014|true', 'no model, SQLSTATE 57014');
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id WHERE p.name = 'cancel_running'
	}),
	'0', 'no model row was registered');
is( $node->safe_psql('postgres', qq{
		SELECT string_agg(action, ',' ORDER BY id) FROM galaxy.audit_log WHERE object_type = 'job' AND object_id = '$job'
	}),
	'submit,job_running,job_cancelled,cancel', 'the cancellation is audited by the worker and the caller');
is( $node->safe_psql('postgres', "SELECT state || '|' || phase FROM galaxy.training_progress WHERE job_id = $job"),
	'cancelled|cancelled', 'afterwards galaxy.training_progress shows the job cancelled');

# pg_cancel_backend on a worker is a cancellation too
$job = $node->safe_psql('postgres',
	q{SELECT galaxy.submit('cancel_backend', 'public.slow_pts', 'y', algorithm => 'linear_regression')});
wait_for(qq{SELECT count(*) = 1 FROM galaxy.training_progress WHERE job_id = $job AND pid IS NOT NULL},
	'the job to run');
$node->safe_psql('postgres', "SELECT pg_cancel_backend(pid) FROM galaxy.training_progress WHERE job_id = $job");
is($node->safe_psql('postgres', "SELECT state || '|' || error_message FROM galaxy.wait($job, '60s')"),
	'cancelled|cancelled (pg_cancel_backend)', 'pg_cancel_backend on a worker cancels the job');

# ---------------------------------------------------------------------------
# pg_cancel_backend() of a synchronous galaxy.train()
# ---------------------------------------------------------------------------
my $trainer = $node->background_psql('postgres', on_error_stop => 0);
my $trainer_pid = $trainer->query_safe('SELECT pg_backend_pid()');
$trainer->query_until(qr/started/, q{
	\echo started
	SELECT galaxy.train('sync_cancel', 'public.slow_pts', 'y', algorithm => 'linear_regression');
});
wait_for(qq{SELECT count(*) = 1 FROM galaxy.training_progress WHERE pid = $trainer_pid AND state = 'training'},
	'the synchronous training to show');
$t0 = time();
$node->safe_psql('postgres', "SELECT pg_cancel_backend($trainer_pid)");
wait_for(qq{SELECT count(*) = 1 FROM pg_stat_activity WHERE pid = $trainer_pid AND state = 'idle'},
	'the training session to go idle');
$took = time() - $t0;
cmp_ok($took, '<', 10.0, sprintf('pg_cancel_backend stops a synchronous train within seconds, not after the 30 s read (%.3f s)', $took));
$trainer->query('SELECT 1');
like($trainer->{stderr}, qr/canceling statement due to user request/, 'the session got the cancel error');
$trainer->quit;
is($node->safe_psql('postgres', "SELECT count(*) FROM galaxy_internal.progress_slots() WHERE pid = $trainer_pid"),
	'0', 'the cancelled session released its progress slot');

# ---------------------------------------------------------------------------
# Progress moving, seen from a second session (needs an iterative algorithm)
# ---------------------------------------------------------------------------
my $have_gb = $node->safe_psql('postgres',
	q{SELECT count(*) FROM galaxy.algorithms WHERE name = 'gradient_boosting'});
SKIP:
{
	skip 'gradient_boosting is not available', 11 unless $have_gb;

	$job = $node->safe_psql('postgres', q{
		SELECT galaxy.submit('watched', 'public.wave', 'y', algorithm => 'gradient_boosting',
		                     hyperparams => '{"n_estimators": 10000, "learning_rate": 0.01, "max_depth": 4}',
		                     features => ARRAY['x1', 'x2', 'x3'])
	});
	wait_for(qq{SELECT count(*) = 1 FROM galaxy.training_progress WHERE job_id = $job AND phase = 'fit' AND iteration >= 3},
		'the job to fit');
	my $q = qq{SELECT iteration || '|' || loss || '|' || total || '|' || percent || '|' || progress_bar
	                  || '|' || (eta IS NOT NULL) || '|' || (elapsed > interval '0') || '|' || rows
	             FROM galaxy.training_progress WHERE job_id = $job};
	my ($it1, $loss1, $total, $pct1, $bar1, $has_eta, $has_elapsed, $rows) =
	  split /\|/, $node->safe_psql('postgres', $q);
	wait_for(qq{SELECT iteration > $it1 FROM galaxy.training_progress WHERE job_id = $job},
		'the iteration to advance');
	my ($it2, $loss2, undef, $pct2, $bar2) = split /\|/, $node->safe_psql('postgres', $q);
	note "iteration $it1 → $it2, loss $loss1 → $loss2, $bar1 → $bar2";
	is($total, '10000', 'total iterations are known');
	cmp_ok($it2, '>', $it1, 'the iteration advances');
	cmp_ok($loss2, '<', $loss1, 'the loss goes down');
	like($bar2, qr/^\[[#.]{20}\] \d+%$/, 'progress_bar is a 20-character bar with percent');
	cmp_ok($pct2, '>=', $pct1, 'percent advances');
	is($has_eta, 'true', 'an ETA is shown');
	is($has_elapsed, 'true', 'elapsed time is shown');
	cmp_ok($rows, '>', 10000, 'training rows are shown');
	is( $node->safe_psql('postgres', qq{
			SELECT count(*) FROM galaxy.job_progress WHERE job_id = $job
		}),
		'0', 'history is written when the job ends, not row by row');

	is($node->safe_psql('postgres', "SELECT state FROM galaxy.cancel($job)"),
		'cancelled', 'the long job is cancelled');
	my ($nhist, $maxit) = split /\|/, $node->safe_psql('postgres', qq{
		SELECT count(*) || '|' || max(iteration) FROM galaxy.job_progress WHERE job_id = $job
	});
	ok($nhist > 0 && $nhist <= 1001 && $maxit >= $it2,
		"the cancelled job's history was kept ($nhist rows up to iteration $maxit)");
}

SKIP:
{
	skip 'gradient_boosting is not available', 3 unless $have_gb;

	# 2500 quick rounds: the history is thinned to at most about 1000 rows
	$job = $node->safe_psql('postgres', q{
		SELECT galaxy.submit('thinned', 'public.pts', 'y', algorithm => 'gradient_boosting',
		                     hyperparams => '{"n_estimators": 2500, "max_depth": 1, "learning_rate": 0.001}',
		                     features => ARRAY['x1', 'x2'])
	});
	is($node->safe_psql('postgres', "SELECT state FROM galaxy.wait($job, '60s')"), 'succeeded',
		'a 2500-round job succeeds');
	my ($n, $first, $last) = split /\|/, $node->safe_psql('postgres', qq{
		SELECT count(*) || '|' || min(iteration) || '|' || max(iteration) FROM galaxy.job_progress
		 WHERE job_id = $job AND phase = 'fit'
	});
	ok($n >= 500 && $n <= 1001, "history bounded: $n rows for 2500 iterations");
	is("$first|$last", '1|2500', 'the first and the last iteration are kept');
}

$node->stop;
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|PANIC/, 'no process crashed');

done_testing();
