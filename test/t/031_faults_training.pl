# Training under concurrency and faults.
#
# 1. Two sessions train the same project at once, new and existing, in
#    sessions and in background jobs: both succeed with distinct, consecutive
#    versions, or one gets a serialization failure (40001); the project is
#    created once; one primary deployment; the audit chain verifies.
# 2. kill -9 of a training worker in the middle of gradient boosting's fit,
#    while four clients predict and a session trains another project: the job
#    is re-queued and then succeeds with the next version; everything else
#    committed (models, deployments, projects, audit rows) is unchanged; the
#    interrupted session's model never appears.
# 3. Immediate shutdown while two jobs run and one is queued, right after a
#    committed rollback and with an uncommitted training open: after restart
#    the job without retries is failed with a clear message, the one with
#    retries and the queued one succeed, the committed rollback is there, the
#    uncommitted model is not, nothing else changed.
# (012 covers kill -9 during loading, several jobs at once and fast shutdown.)
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GalaxyTAP;
use Time::HiRes qw(time);

my $t_file = time();
# files of this test only (every TAP test of a run shares tmp_check)
my $work_dir = PostgreSQL::Test::Utils::tempdir();
my $node = PostgreSQL::Test::Cluster->new('faults');
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
	SELECT (i % 7)::float8 AS x1, (i % 11)::float8 AS x2, (3 * (i % 7) - 2 * (i % 11) + 0.5)::float8 AS y
	  FROM generate_series(1, 1000) i;
	-- loads for 30 s: a session still loading when the crash comes, however busy the machine
	CREATE VIEW public.slowest_pts AS SELECT x1, x2, y FROM public.pts WHERE pg_sleep(0.03) IS NOT NULL;
	-- gradient boosting with 400 trees fits in a few seconds on these
	CREATE TABLE public.big AS
	SELECT (i % 97)::float8 AS x1, (i % 89)::float8 AS x2, ((i * 7919) % 1000)::float8 AS x3, (i % 13)::float8 AS x4,
	       (3 * (i % 97) - 2 * (i % 89) + 0.01 * ((i * 7919) % 1000) + (i % 13) * (i % 13))::float8 AS y
	  FROM generate_series(1, 200000) i;
	-- the same rows, read only when no session holds advisory lock 4242
	CREATE VIEW public.gated_pts AS
	SELECT x1, x2, y FROM public.pts WHERE (SELECT pg_advisory_xact_lock_shared(4242)) IS NOT NULL;

	-- train and return the version, or the error's SQLSTATE and message
	CREATE FUNCTION public.try_train(project text) RETURNS text LANGUAGE plpgsql AS $$
	BEGIN
		SET LOCAL client_min_messages = warning;
		RETURN (SELECT version FROM galaxy.train(project, 'public.pts', 'y', algorithm => 'linear_regression'));
	EXCEPTION WHEN OTHERS THEN
		RETURN 'ERROR ' || SQLSTATE || ': ' || SQLERRM;
	END $$;

	-- what the registry holds for every project but the excluded ones
	CREATE FUNCTION public.registry_state(exclude text[]) RETURNS text LANGUAGE sql AS $$
	SELECT concat_ws(' | ',
		(SELECT string_agg(concat_ws('/', p.id, p.name, p.owner, p.task), ';' ORDER BY p.id)
		   FROM galaxy.projects p WHERE p.name <> ALL (exclude)),
		(SELECT string_agg(concat_ws('/', m.id, p.name, m.version, m.status, md5(m.model::text), m.metrics::text), ';' ORDER BY m.id)
		   FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id WHERE p.name <> ALL (exclude)),
		(SELECT string_agg(concat_ws('/', d.id, p.name, d.model_id, d.traffic, d.deployed_at, d.retired_at), ';' ORDER BY d.id)
		   FROM galaxy.deployments d JOIN galaxy.projects p ON p.id = d.project_id WHERE p.name <> ALL (exclude)))
	$$;

	-- the audit chain up to a row: count and digest of ids and hashes
	CREATE FUNCTION public.audit_upto(last bigint) RETURNS text LANGUAGE sql AS $$
	SELECT count(*) || ' rows, ' || md5(string_agg(id || '/' || encode(hash, 'hex'), ';' ORDER BY id))
	  FROM galaxy.audit_log WHERE id <= last
	$$;
});

# SQL helpers.
sub q1 { return $node->safe_psql('postgres', $_[0]); }

sub train
{
	my ($project, $relation, $extra) = @_;
	$extra = defined $extra ? ", $extra" : '';
	return q1(qq{
		SET client_min_messages = warning;
		SELECT id FROM galaxy.train('$project', '$relation', 'y', algorithm => 'linear_regression'$extra)
	});
}

sub versions
{
	my ($project) = @_;
	return q1(qq{
		SELECT string_agg(m.version, ',' ORDER BY m.version_major, m.version_minor, m.version_patch)
		  FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id WHERE p.name = '$project'
	});
}

sub active_deployments
{
	my ($project) = @_;
	return q1(qq{
		SELECT count(*) FROM galaxy.deployments d JOIN galaxy.projects p ON p.id = d.project_id
		 WHERE p.name = '$project' AND d.retired_at IS NULL
	});
}

sub audit_trail
{
	my ($job) = @_;
	return q1(qq{
		SELECT string_agg(action, ',' ORDER BY id) FROM galaxy.audit_log
		 WHERE object_type = 'job' AND object_id = '$job'
	});
}

# A psql running SQL in the background, as application $app.
sub start_psql
{
	my ($app, $sql, $out, $err) = @_;
	return IPC::Run::start(
		[ 'psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres') . " application_name=$app",
		  '-c', 'SET client_min_messages = warning', '-c', $sql ],
		'>', $out, '2>', $err);
}

# ===========================================================================
# 1. Two sessions training one project at the same time
# ===========================================================================

# 1a. A new project.  Session 1 trains in an open transaction (its project row
# and model are uncommitted); session 2 starts the same training and must wait
# for it; session 1 commits.
my $s1 = $node->background_psql('postgres');
$s1->query_safe('BEGIN');
is($s1->query_safe('SELECT try_train(\'both_new\')'), '1.0.0', 'session 1 trains a new project in an open transaction');
my ($out2, $err2) = ('', '');
my $h2 = start_psql('trainer2',
	"SELECT version FROM galaxy.train('both_new', 'public.pts', 'y', algorithm => 'linear_regression')",
	\$out2, \$err2);
ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'trainer2' AND wait_event_type = 'Lock'"),
	'session 2, training the same new project, waits for session 1');
$s1->query_safe('COMMIT');
IPC::Run::finish($h2);
is("$out2|$err2", "1.1.0\n|", 'once session 1 commits, session 2 registers the next version without error');
is(versions('both_new'), '1.0.0,1.1.0', 'the new project has versions 1.0.0 and 1.1.0');
is(q1("SELECT count(*) FROM galaxy.projects WHERE name = 'both_new'"), '1', 'one project row');
is( q1(q{SELECT count(*) FROM galaxy.audit_log WHERE action = 'create_project'
		  AND object_id = (SELECT id::text FROM galaxy.projects WHERE name = 'both_new')}),
	'1', 'its creation is audited once');
is(active_deployments('both_new'), '1', 'one active deployment');

# 1b. An existing project, two sessions in autocommit, both seen loading at the
# same time (from a view that waits for a lock this session holds) before
# either registers.
train('both_old', 'public.pts');
my $gate0 = $node->background_psql('postgres');
$gate0->query_safe('SELECT pg_advisory_lock(4242)');
my ($oa, $ea, $ob, $eb) = ('', '', '', '');
my $ha = start_psql('trainer_a',
	"SELECT version FROM galaxy.train('both_old', 'public.gated_pts', 'y', algorithm => 'linear_regression')", \$oa, \$ea);
my $hb = start_psql('trainer_b',
	"SELECT version FROM galaxy.train('both_old', 'public.gated_pts', 'y', algorithm => 'linear_regression')", \$ob, \$eb);
ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM galaxy.training_progress WHERE project = 'both_old' AND state = 'training'"),
	'two sessions are training the existing project at once');
$gate0->query_safe('SELECT pg_advisory_unlock(4242)');
$gate0->quit;
IPC::Run::finish($ha);
IPC::Run::finish($hb);
is("$ea$eb", '', 'neither session got an error');
is(join(',', sort(split(/\n/, "$oa$ob"))), '1.1.0,1.2.0', 'they registered 1.1.0 and 1.2.0');
is(versions('both_old'), '1.0.0,1.1.0,1.2.0', 'the project has three consecutive versions');
is(active_deployments('both_old'), '1', 'one active deployment');

# 1c. Two background jobs of one new project, running in two workers at once.
# They read a view that waits for a lock this session holds, so neither can
# finish before the other has started, however busy the machine.
my $gate1 = $node->background_psql('postgres');
$gate1->query_safe('SELECT pg_advisory_lock(4242)');
my $j1 = q1("SELECT galaxy.submit('jobs_new', 'public.gated_pts', 'y', algorithm => 'linear_regression')");
my $j2 = q1("SELECT galaxy.submit('jobs_new', 'public.gated_pts', 'y', algorithm => 'linear_regression')");
ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM galaxy.training_progress WHERE job_id IN ($j1, $j2) AND state = 'running' AND pid IS NOT NULL"),
	'two jobs of the same new project run at once');
$gate1->query_safe('SELECT pg_advisory_unlock(4242)');
$gate1->quit;
q1("SELECT galaxy.wait($j1, '60s'), galaxy.wait($j2, '60s')");
is( q1("SELECT string_agg(state || '/' || model_version, ',' ORDER BY model_version)
		  FROM galaxy.jobs_overview WHERE job_id IN ($j1, $j2)"),
	'succeeded/1.0.0,succeeded/1.1.0', 'both jobs succeed, with versions 1.0.0 and 1.1.0');
is(q1("SELECT count(*) FROM galaxy.projects WHERE name = 'jobs_new'"), '1', 'one project row');
is(active_deployments('jobs_new'), '1', 'one active deployment');

# 1d. REPEATABLE READ: a session whose snapshot predates another session's
# committed training of the same project.  Its training must either register a
# distinct version or fail with a serialization failure (40001), never with
# a raw internal error.
$s1->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$s1->query_safe('SELECT count(*) FROM galaxy.models');	# takes the snapshot
train('both_old', 'public.pts');
train('rr_new', 'public.pts');
like($s1->query_safe("SELECT try_train('both_old')"), qr/^(1\.4\.0|ERROR 40001: .*)$/,
	'REPEATABLE READ, existing project: the stale snapshot gets the next version or a serialization failure (40001)');
like($s1->query_safe("SELECT try_train('rr_new')"), qr/^(1\.1\.0|ERROR 40001: .*)$/,
	'REPEATABLE READ, new project: the same');
$s1->query_safe('ROLLBACK');
$s1->quit;
is(versions('both_old'), '1.0.0,1.1.0,1.2.0,1.3.0', 'the existing project has four consecutive versions');
is(q1('SELECT ok FROM galaxy.verify_audit()'), 't', 'the audit chain verifies after the concurrent trainings');

# ===========================================================================
# 2. kill -9 of a training worker in the middle of its fit, under load
# ===========================================================================
train('keep_a', 'public.pts');
my $keep_a2 = train('keep_a', 'public.pts', "deploy => 'always', hyperparams => '{\"fit_intercept\": false}'");
q1("SELECT galaxy.rollback('keep_a')");
q1("SELECT galaxy.deploy('keep_a', ${keep_a2}::bigint)");
train('keep_b', 'public.pts');
q1(q{SET client_min_messages = warning;
	 SELECT version FROM galaxy.train('gb', 'public.big', 'y', algorithm => 'gradient_boosting',
	                                  hyperparams => '{"n_estimators": 5}')});
my $probe = "round(galaxy.predict('keep_a', ARRAY[4.0, 9.0])::numeric, 6)";
my $keep_a_answer = q1("SELECT $probe");
my $excluded = "ARRAY['gb', 'imm', 'imm_retry', 'imm_queued']";
my $state_before = q1("SELECT registry_state($excluded)");
my $audit_last = q1('SELECT max(id) FROM galaxy.audit_log');
my $audit_before = q1("SELECT audit_upto($audit_last)");

# Load: four clients predicting from keep_a, and a session training keep_b.
my $script = '';
# unaligned, tuples only: one value per line, whatever psql does around the crash
$script .= "SELECT $probe;\n" for 1 .. 20000;
my $script_file = $work_dir . '/predict_keep_a.sql';
PostgreSQL::Test::Utils::append_to_file($script_file, $script);
my $base = $work_dir . '/crash_client';
my @clients;
for my $c (0 .. 3)
{
	push @clients, IPC::Run::start(
		[ 'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres') . " application_name=client$c",
		  '-f', $script_file ],
		'>', "$base$c.out", '2>', "$base$c.err");
}
my $g = q1(q{SELECT galaxy.submit('gb', 'public.big', 'y', algorithm => 'gradient_boosting',
                                  hyperparams => '{"n_estimators": 400, "learning_rate": 0.05}', retries => 1)});
ok( $node->poll_query_until('postgres', qq{
		SELECT (SELECT count(*) FROM galaxy.training_progress WHERE job_id = $g AND phase = 'fit' AND iteration >= 3) = 1
		   AND (SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'client%' AND query LIKE '%predict%') = 4
	}),
	'the job is fitting gradient boosting while four clients predict');
my $hk = start_psql('trainer_keep_b',
	"SELECT version FROM galaxy.train('keep_b', 'public.slowest_pts', 'y', algorithm => 'linear_regression')",
	"$base.keep_b.out", "$base.keep_b.err");
ok( $node->poll_query_until('postgres', qq{
		SELECT (SELECT count(*) FROM galaxy.training_progress WHERE project = 'keep_b' AND state = 'training' AND phase = 'load') = 1
		   AND (SELECT count(*) FROM galaxy.training_progress WHERE job_id = $g AND phase = 'fit' AND iteration < total) = 1
	}),
	'and a session is loading data to train another project');
my $pid = q1("SELECT pid FROM galaxy.training_progress WHERE job_id = $g");
is( q1("SELECT backend_type || '|' || query FROM pg_stat_activity WHERE pid = $pid"),
	"galaxy training worker|galaxy: training job $g (project gb)", 'its pid is the training worker of the job');
my $iteration = q1("SELECT iteration || '/' || total FROM galaxy.training_progress WHERE job_id = $g");
ok(kill('KILL', $pid), "kill -9 of the training worker (pid $pid) at iteration $iteration");

# Recovery: wait until the server accepts connections again, then for the job.
my $t_kill = time();
ok(poll_through_crash($node, 'postgres', 'SELECT NOT pg_is_in_recovery()'), 'the server recovered');
q1("SELECT galaxy.wait($g, '90s')");
is(q1("SELECT state || '|' || attempts || '|' || model_version FROM galaxy.jobs_overview WHERE job_id = $g"),
	'succeeded|2|1.1.0', 'the job was re-queued and succeeded on its second attempt with the next version (1.1.0)');
my $t_recovered = time() - $t_kill;
like(slurp_file($node->logfile), qr/terminated by signal 9: Killed.*all server processes terminated; reinitializing/s,
	'the postmaster saw the worker die and reinitialised');
is(audit_trail($g), 'submit,job_running,job_requeued,job_running,job_succeeded', 'the job\'s audit trail');
cmp_ok(q1("SELECT count(*) FROM galaxy.job_progress WHERE job_id = $g AND attempt = 2 AND phase = 'fit'"), '>', 0,
	'the second attempt kept its progress history');
is(versions('gb'), '1.0.0,1.1.0', 'no version was used up by the killed attempt');

# The load died with the crash, cleanly.
my ($client_preds, $client_bad, $client_other_err) = (0, 0, 0);
for my $c (0 .. 3)
{
	IPC::Run::finish($clients[$c]);
	my @p = split /\n/, slurp_file("$base$c.out");
	$client_preds += @p;
	# a line cut short by the crash (psql killed mid-\echo) is empty, not a wrong answer
	my @bad = grep { /\S/ && $_ ne $keep_a_answer } @p;
	diag("client $c printed: " . join(', ', map { "'$_'" } @bad[0 .. ($#bad < 4 ? $#bad : 4)])) if @bad;
	$client_bad += @bad;
	my $err = slurp_file("$base$c.err");
	$client_other_err++
	  unless $err =~ /terminating connection because of crash|server closed the connection unexpectedly|connection to server .* lost/
	  && $err !~ /ERROR:/;
}
IPC::Run::finish($hk);
cmp_ok($client_preds, '>', 4, "the clients predicted before the crash ($client_preds predictions)");
is($client_bad, 0, 'every prediction was keep_a\'s deployed model');
is($client_other_err, 0, 'the clients lost their connections to the crash, with no other error');
is(slurp_file("$base.keep_b.out"), '', 'the interrupted session registered nothing');
like(slurp_file("$base.keep_b.err"), qr/terminating connection because of crash|server closed the connection/,
	'it lost its connection to the crash');

is(q1("SELECT registry_state($excluded)"), $state_before,
	'other projects, their models and deployments are unchanged');
is(q1("SELECT audit_upto($audit_last)"), $audit_before, 'the audit rows written before the crash are unchanged');
is( q1(qq{SELECT count(*) FROM galaxy.audit_log WHERE id > $audit_last
	       AND NOT (object_type = 'job' AND object_id = '$g')
	       AND NOT (object_type = 'model' AND object_id = (SELECT model_id::text FROM galaxy.jobs WHERE id = $g))}),
	'0', 'every audit row since concerns the re-run job and its model');
is(q1("SELECT $probe"), $keep_a_answer, 'keep_a predicts as before');
is(q1('SELECT ok FROM galaxy.verify_audit()'), 't', 'the audit chain verifies after the crash');

# ===========================================================================
# 3. Immediate shutdown while jobs run
# ===========================================================================
# Committed before the shutdown: a rollback of keep_a.
my $rolled_to = q1("SELECT model_id FROM galaxy.rollback('keep_a')");
my $keep_a_after_rollback = q1("SELECT round(galaxy.predict($rolled_to, ARRAY[4.0, 9.0])::numeric, 6)");
isnt($keep_a_after_rollback, $keep_a_answer, 'the rollback changes keep_a\'s answer');
$state_before = q1("SELECT registry_state($excluded)");
$audit_last = q1('SELECT max(id) FROM galaxy.audit_log');
$audit_before = q1("SELECT audit_upto($audit_last)");

# The second job reads a view that waits for a lock this session holds: it
# cannot finish before the shutdown, whatever the machine's speed.
my $gate = $node->background_psql('postgres', on_error_stop => 0);
$gate->query_safe('SELECT pg_advisory_lock(4242)');
my $imm = q1(q{SELECT galaxy.submit('imm', 'public.big', 'y', algorithm => 'gradient_boosting',
                                    hyperparams => '{"n_estimators": 400, "learning_rate": 0.05}')});
my $imm_retry = q1("SELECT galaxy.submit('imm_retry', 'public.gated_pts', 'y', algorithm => 'linear_regression', retries => 1)");
my $imm_queued = q1("SELECT galaxy.submit('imm_queued', 'public.pts', 'y', algorithm => 'linear_regression')");
ok( $node->poll_query_until('postgres', qq{
		SELECT (SELECT count(*) FROM galaxy.training_progress WHERE job_id = $imm AND phase = 'fit' AND iteration >= 3) = 1
		   AND (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'galaxy training worker'
		         AND query LIKE 'galaxy: training job $imm_retry %' AND wait_event = 'advisory') = 1
	}),
	'two jobs are running (one fitting gradient boosting, one waiting to read its data), one is queued');

# Open at the shutdown: a training of keep_b.  Until its transaction ends it
# holds the audit chain's lock, so no job can record its end meanwhile.
my $open = $node->background_psql('postgres', on_error_stop => 0);
$open->query_safe('BEGIN');
like($open->query_safe("SELECT try_train('keep_b')"), qr/^1\.\d+\.0$/, 'a session trains keep_b in an open transaction');
is( q1("SELECT string_agg(state, ',' ORDER BY id) FROM galaxy.jobs WHERE id IN ($imm, $imm_retry, $imm_queued)"),
	'running,running,queued', 'at the shutdown two jobs run and one is queued');

my $counts = 'SELECT (SELECT count(*) FROM galaxy.models) || \'/\' || (SELECT count(*) FROM galaxy.deployments) || \'/\' || '
  . '(SELECT count(*) FROM galaxy.projects) || \'/\' || (SELECT count(*) FROM galaxy.jobs)';
my $counts_before = q1($counts);
$node->stop('immediate');
eval { $open->quit; };
eval { $gate->quit; };
$node->start;

ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM galaxy.jobs WHERE id IN ($imm, $imm_retry, $imm_queued) AND state IN ('queued', 'running')"),
	'the jobs settled after the restart');
is(q1("SELECT state || '|' || attempts || '|' || coalesce(model_id::text, '') FROM galaxy.jobs WHERE id = $imm"),
	'failed|1|', 'the job without retries is failed, without a model');
like(q1("SELECT error_message FROM galaxy.jobs WHERE id = $imm"),
	qr/^training worker terminated unexpectedly \(server crash, restart or pg_terminate_backend\)/, 'with a clear message');
is(q1("SELECT state || '|' || attempts FROM galaxy.jobs WHERE id = $imm_retry"), 'succeeded|2',
	'the job with retries => 1 was re-queued and succeeded');
is(audit_trail($imm_retry), 'submit,job_running,job_requeued,job_running,job_succeeded', 'its audit trail');
is(q1("SELECT state || '|' || attempts FROM galaxy.jobs WHERE id = $imm_queued"), 'succeeded|1',
	'the queued job ran after the restart');
is(audit_trail($imm), 'submit,job_running,job_failed', 'the failed job\'s audit trail');
is(versions('imm'), '', 'the failed job registered no model');

is(q1("SELECT registry_state($excluded)"), $state_before,
	'every other project, model and deployment committed before the shutdown is there, unchanged');
is(q1("SELECT audit_upto($audit_last)"), $audit_before, 'the audit rows written before the shutdown are unchanged');
my ($models_b, $deps_b, $projects_b, $jobs_b) = split m{/}, $counts_before;
is(q1($counts), join('/', $models_b + 2, $deps_b + 2, $projects_b + 2, $jobs_b),
	'after it: the two re-run jobs\' models, deployments and projects are all that was added');
is(q1("SELECT galaxy.deployed_model('keep_a')"), $rolled_to, 'the rollback committed just before the shutdown holds');
is(q1("SELECT $probe"), $keep_a_after_rollback, 'and keep_a predicts with it');
is(q1('SELECT ok FROM galaxy.verify_audit()'), 't', 'the audit chain verifies after the immediate shutdown');

$node->stop;
diag(sprintf('crash recovery and re-run took %.1f s; the file %.1f s', $t_recovered, time() - $t_file));
done_testing();
