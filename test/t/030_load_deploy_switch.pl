# Deployments under load: 16 client sessions predict without pause while a
# switcher session makes 100 deploy/rollback switches between three models of
# one project.  A fourth model of the project is trained but never deployed:
# the control.  Each model's answer on the probe row identifies it.
#
# Checked: no client ever gets an error; every prediction is the answer of a
# model that was deployed at the moment of that prediction (from its deploy's
# start until the next switch's commit), never the control's; each client sees
# a new deployment from its next statement on; rollback returns the previous
# primary every time; the temporal record, the audit chain and the control's
# absence from galaxy.deployments hold afterwards; the whole run is bounded in
# time.  Then: two rollbacks at the same time act in turn, and an open,
# uncommitted deploy does not hold up predictions.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $n_clients = 16;
my $n_switches = 100;
# files of this test only (every TAP test of a run shares tmp_check)
my $work_dir = PostgreSQL::Test::Utils::tempdir();

my $node = PostgreSQL::Test::Cluster->new('load_switch');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
max_connections = 40
lc_messages = 'C'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION galaxy');

# Four data sets y = k * x: on x = 10 the models answer 20, 30, 50 and 70.
my @slopes = (2, 3, 5, 7);
$node->safe_psql('postgres', join('', map {
	"CREATE TABLE public.s$_ AS SELECT g::float8 AS x, ($_ * g)::float8 AS y FROM generate_series(1, 60) g;\n"
} @slopes) . q{
	CREATE TABLE public.stop_flag (done boolean NOT NULL);
	INSERT INTO public.stop_flag VALUES (false);
});
my @models;
for my $k (@slopes)
{
	my $deploy = $k == 2 ? 'always' : 'never';
	push @models, $node->safe_psql('postgres', qq{
		SET client_min_messages = warning;
		SELECT id FROM galaxy.train('sw', 's$k', 'y', algorithm => 'linear_regression', deploy => '$deploy')
	});
}
my ($m1, $m2, $m3, $control) = @models;
my %answer;		# model id => its answer on the probe row
for my $m (@models)
{
	$answer{$m} = $node->safe_psql('postgres', "SELECT round(galaxy.predict($m, ARRAY[10.0]))");
}
is(join(',', map { $answer{$_} } @models), '20,30,50,70', 'the four models answer 20, 30, 50, 70 on the probe');
is($node->safe_psql('postgres', "SELECT galaxy.deployed_model('sw')"), $m1, 'model 1 is deployed to begin with');

# The clients: a psql script that predicts until the stop flag is raised; each
# prediction is its own statement and prints "t0|answer|t1" (t0: the
# statement's start, before its snapshot; t1: a time after the prediction).
my $script = '';
for my $i (1 .. 20000)
{
	$script .= "SELECT statement_timestamp() AS t0, round(galaxy.predict('sw', ARRAY[10.0])) AS p, "
	  . "clock_timestamp() AS t1, (SELECT done FROM stop_flag) AS done \\gset\n"
	  . "\\echo :t0|:p|:t1\n"
	  . "\\if :done\n\\echo STOPPED\n\\q\n\\endif\n";
}
$script .= "\\echo RAN_OUT\n";
my $script_file = $work_dir . '/predict_loop.sql';
PostgreSQL::Test::Utils::append_to_file($script_file, $script);

# Their output goes to files: a pipe nobody reads while the switcher works
# would fill up and stall them.
my $t_start = time();
my (@harness, @out, @err);
my $out_base = $work_dir . '/client';
for my $c (0 .. $n_clients - 1)
{
	$harness[$c] = IPC::Run::start(
		[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
		  '-d', $node->connstr('postgres') . " application_name=client$c", '-f', $script_file ],
		'>', "$out_base$c.out", '2>', "$out_base$c.err");
}
# every client has predicted at least once
$node->poll_query_until('postgres', qq{
	SELECT count(*) = $n_clients FROM pg_stat_activity
	 WHERE application_name LIKE 'client%' AND query LIKE '%galaxy.predict(''sw''%'
}) or die 'the clients did not start predicting';

# The switcher: in a cycle m1 -> m2 -> m3 -> m1, two deploys of the next model
# then a rollback.  Each switch is its own committed transaction; record the
# model it deployed, when it started (deployed_at) and a time after its commit,
# then wait until every client has run a whole prediction after that commit.
my $sw = $node->background_psql('postgres');
my @switches;
my @history = ($m1);	# primaries in order, to predict what rollback picks
my %next = ($m1 => $m2, $m2 => $m3, $m3 => $m1);
my $rollback_ok = 0;
my $waits = 0;

# Return once every client has run a whole statement that began after the
# switcher's last commit; return the start of the first query here (a time
# after that commit) and how many queries it took.  pg_stat_activity's
# query_start is the start of a client's current or last statement: once every
# client's is after time t, and then every client's is after the latest of
# those, each client has begun a statement after t and finished it.
sub clients_caught_up
{
	my ($t, $committed);
	my $queries = 0;
	my $deadline = time() + 30;
	for my $phase (1, 2)
	{
		while (1)
		{
			$queries++;
			my $since = defined $t ? "'$t'::timestamptz" : 'statement_timestamp()';
			my ($from, $count, $latest) = split /\|/, $sw->query_safe(qq{
				SELECT $since || '|' || count(*) FILTER (WHERE query_start > $since) || '|' || max(query_start)
				  FROM pg_stat_activity WHERE application_name LIKE 'client%'
			});
			$committed //= $from;
			$t //= $from;
			if ($count == $n_clients)
			{
				$t = $latest;
				last;
			}
			die "clients did not catch up with $t" if time() > $deadline;
		}
	}
	return ($committed, $queries);
}

for my $i (0 .. $n_switches - 1)
{
	my $current = $history[-1];
	my ($call, $expect);
	if ($i % 3 == 2)
	{
		$call = "galaxy.rollback('sw')";
		($expect) = grep { $_ != $current } reverse @history;
	}
	else
	{
		$expect = $next{$current};
		$call = "galaxy.deploy('sw', ${expect}::bigint)";
	}
	my $row = $sw->query_safe("SELECT model_id || '|' || deployed_at FROM $call");
	my ($committed, $queries) = clients_caught_up();
	my ($model, $started) = split /\|/, $row;
	$rollback_ok++ if $model == $expect;
	push @history, $model;
	push @switches, [ $model, $started, $committed ];
	$waits += $queries;
}
my $t_switched = time();
$sw->query_safe('UPDATE stop_flag SET done = true');
$sw->quit;

my $clean = 0;
my $stopped = 0;
for my $c (0 .. $n_clients - 1)
{
	my $exited_ok = IPC::Run::finish($harness[$c]);
	$out[$c] = slurp_file("$out_base$c.out");
	$err[$c] = slurp_file("$out_base$c.err");
	$clean++ if $exited_ok && $err[$c] eq '';
	$stopped++ if $out[$c] =~ /^STOPPED$/m;
}
my $elapsed = time() - $t_start;
is($rollback_ok, $n_switches, "each of the $n_switches switches deployed the model expected (rollback: the previous primary)");
is($clean, $n_clients, "all $n_clients clients exited cleanly with nothing on stderr");
is(join('', grep { $_ ne '' } @err), '', 'no client got an error');
is($stopped, $n_clients, 'every client predicted until the stop flag (none ran out of script)');
# how long it took is information, not a check: a loaded machine may take minutes
note(sprintf('the run took %.1f s (%.1f s of switching)', $elapsed, $t_switched - $t_start));

# Load the observations and the switches into tables and check every prediction.
my $obs_file = $work_dir . '/obs.csv';
my $n_obs = 0;
for my $c (0 .. $n_clients - 1)
{
	my @lines = grep { /^\d{4}-/ } split /\n/, $out[$c];
	$n_obs += @lines;
	PostgreSQL::Test::Utils::append_to_file($obs_file, join('', map { "$c|$_\n" } @lines));
}
my $sw_file = $work_dir . '/switches.csv';
my $n = 0;
PostgreSQL::Test::Utils::append_to_file($sw_file,
	join('', "0|$m1|-infinity|-infinity\n", map { $n++; "$n|$_->[0]|$_->[1]|$_->[2]\n" } @switches));
$node->safe_psql('postgres', qq{
	CREATE TABLE obs (client int, t0 timestamptz, p numeric, t1 timestamptz);
	COPY obs FROM '$obs_file' (FORMAT csv, DELIMITER '|');
	CREATE TABLE sw (n int, model bigint, started timestamptz, committed timestamptz);
	COPY sw FROM '$sw_file' (FORMAT csv, DELIMITER '|');
	CREATE TABLE answers (model bigint, p numeric);
	INSERT INTO answers VALUES ($m1, $answer{$m1}), ($m2, $answer{$m2}), ($m3, $answer{$m3}), ($control, $answer{$control});
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM obs'), $n_obs, "loaded $n_obs predictions");
my $during = $node->safe_psql('postgres', q{
	SELECT count(*) FROM obs WHERE t0 BETWEEN (SELECT min(started) FROM sw WHERE n > 0) AND (SELECT max(committed) FROM sw)
});
my $min_per_client = $node->safe_psql('postgres', q{
	SELECT min(c) FROM (SELECT count(*) AS c FROM obs
	  WHERE t0 BETWEEN (SELECT min(started) FROM sw WHERE n > 0) AND (SELECT max(committed) FROM sw)
	  GROUP BY client) s
});
diag("$n_obs predictions, $during during the switches, at least $min_per_client per client during them; "
	  . sprintf('%.1f s; %d queries to wait for the clients', $elapsed, $waits));
cmp_ok($min_per_client, '>=', 20, 'every client predicted throughout the switching');

is($node->safe_psql('postgres', "SELECT count(*) FROM obs WHERE p = $answer{$control}"),
	'0', 'no prediction came from the never-deployed control model');
is($node->safe_psql('postgres', "SELECT count(*) FROM obs WHERE p IS NULL OR p NOT IN ($answer{$m1}, $answer{$m2}, $answer{$m3})"),
	'0', 'every prediction is the answer of one of the three deployed models');

# Model j may serve from its deploy's start until the next switch's commit.
my $spans = q{
	WITH spans AS (
		SELECT s.n, s.model, s.started, s.committed,
		       coalesce(lead(s.started) OVER (ORDER BY s.n), 'infinity') AS next_started,
		       coalesce(lead(s.committed) OVER (ORDER BY s.n), 'infinity') AS until
		  FROM sw s)
};
is($node->safe_psql('postgres', qq{$spans
	SELECT count(*) FROM obs o JOIN answers a ON a.p = o.p
	 WHERE NOT EXISTS (SELECT 1 FROM spans s WHERE s.model = a.model AND s.started <= o.t1 AND s.until >= o.t0)
}), '0', 'every prediction came from a model deployed at that moment');

# The switcher waited, after each commit, until every client had run a whole
# prediction that began after it: so for every switch and every client there
# are predictions that began after the commit and ended before the next
# switch began.  Those can only have one answer, the switch's model.
my $decisive = $node->safe_psql('postgres', qq{$spans
	SELECT count(DISTINCT (s.n, o.client)) || '|' || count(*) || '|' || count(*) FILTER (WHERE a.model <> s.model)
	  FROM obs o JOIN spans s ON o.t0 > s.committed AND o.t1 < s.next_started
	  JOIN answers a ON a.p = o.p
	 WHERE s.n > 0
});
my ($n_pairs, $n_decisive, $n_wrong) = split /\|/, $decisive;
is($n_pairs, $n_switches * $n_clients,
	"every client predicted between each commit and the next switch ($n_decisive such predictions)");
is($n_wrong, '0', 'and every one of them got the model just deployed: a commit is seen by every next statement');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM (SELECT client FROM obs
	  WHERE t0 BETWEEN (SELECT min(started) FROM sw WHERE n > 0) AND (SELECT max(committed) FROM sw)
	  GROUP BY client HAVING count(DISTINCT p) = 3) s
}), $n_clients, 'every client saw all three deployed models while the switcher ran');

# The registry afterwards.
my $proj = "(SELECT id FROM galaxy.projects WHERE name = 'sw')";
is($node->safe_psql('postgres', "SELECT count(*) FROM galaxy.deployments WHERE project_id = $proj"),
	$n_switches + 1, 'galaxy.deployments keeps every deployment');
is($node->safe_psql('postgres', "SELECT count(*) FROM galaxy.deployments WHERE project_id = $proj AND retired_at IS NULL"),
	'1', 'exactly one deployment is active');
is($node->safe_psql('postgres', "SELECT count(*) FROM galaxy.deployments WHERE model_id = $control"),
	'0', 'the control model was never deployed');
is($node->safe_psql('postgres', "SELECT galaxy.deployed_model('sw')"), $history[-1], 'the last switch is the one serving');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM sw WHERE n > 0
	   AND galaxy.deployed_model('sw', committed) IS DISTINCT FROM model
	   AND committed < coalesce((SELECT min(s2.started) FROM sw s2 WHERE s2.n > sw.n), 'infinity')
}), '0', 'deployed_model(project, T) names the model of each switch after its commit');
is($node->safe_psql('postgres', "SELECT count(*) FROM galaxy.audit_log WHERE action = 'deploy'"),
	$n_switches + 1, 'every deploy and rollback is audited');
is($node->safe_psql('postgres', 'SELECT ok FROM galaxy.verify_audit()'), 't', 'the audit chain verifies');

# Two rollbacks at the same time: session 1 rolls back in an open transaction;
# session 2's rollback must wait for it and then roll back from what session 1
# left serving, as if they had run one after the other (never re-deploy the
# model already serving, nor claim to roll back from a model that no longer
# serves).
my $r1 = $node->safe_psql('postgres', q{SET client_min_messages = warning;
	SELECT id FROM galaxy.train('rb', 's2', 'y', algorithm => 'linear_regression', deploy => 'always')});
my $r2 = $node->safe_psql('postgres', q{SET client_min_messages = warning;
	SELECT id FROM galaxy.train('rb', 's3', 'y', algorithm => 'linear_regression', deploy => 'always')});
my $s1 = $node->background_psql('postgres');
$s1->query_safe('BEGIN');
is($s1->query_safe("SELECT model_id FROM galaxy.rollback('rb')"), $r1, 'session 1 rolls back from model 2 to model 1 (open)');
my ($rb_out, $rb_err) = ('', '');
my $rb = IPC::Run::start(
	[ 'psql', '-X', '-q', '-At', '-d', $node->connstr('postgres') . ' application_name=rollback2',
	  '-c', "SELECT model_id FROM galaxy.rollback('rb')" ],
	'>', \$rb_out, '2>', \$rb_err);
ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'rollback2' AND wait_event_type = 'Lock'"),
	'session 2\'s rollback waits for session 1');
$s1->query_safe('COMMIT');
$s1->quit;
IPC::Run::finish($rb);
is("$rb_out|$rb_err", "$r2\n|", 'then rolls back from model 1 to model 2, as if the two had run in turn');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM (
		SELECT strategy, reason, 'rollback from model ' || lag(model_id) OVER (PARTITION BY project_id ORDER BY id) AS expected
		  FROM galaxy.deployments) d
	 WHERE strategy = 'rollback' AND reason IS DISTINCT FROM expected
}), '0', 'every rollback recorded (here and above) names the model that was serving before it');
is($node->safe_psql('postgres', 'SELECT ok FROM galaxy.verify_audit()'), 't', 'the audit chain verifies');

# A deploy that is not committed yet is invisible to predictions, and must not
# hold them up: clients keep predicting with the serving model while another
# session's deploy transaction stays open.  (A statement timeout bounds the
# wait, so a blocked prediction fails instead of hanging the test.)
my $serving = $history[-1];
my $other = $next{$serving};
my $open = $node->background_psql('postgres');
$open->query_safe('BEGIN');
$open->query_safe("SELECT galaxy.deploy('sw', ${other}::bigint)");
my ($p_ret, $p_out, $p_err) = $node->psql('postgres',
	"SET statement_timeout = '5s'; SELECT round(galaxy.predict('sw', ARRAY[10.0]))");
is("$p_ret|$p_out|$p_err", "0|$answer{$serving}|",
	'while a deploy transaction is open, predict answers at once with the model still serving');
$open->query_safe('ROLLBACK');
$open->quit;
is($node->safe_psql('postgres', "SELECT round(galaxy.predict('sw', ARRAY[10.0]))"), $answer{$serving},
	'and after that deploy rolls back, too');

$node->stop;
unlike(slurp_file($node->logfile), qr/terminated by signal|PANIC/, 'no backend crashed');
done_testing();
