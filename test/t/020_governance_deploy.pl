# Deployments under load: session B predicts in a loop while session A deploys
# and rolls back 100 times.  B never errors, and every prediction comes from a
# model that was deployed at that moment (allowing for the instant between a
# deploy transaction's start, which galaxy.deployments records, and its
# commit, after which other sessions see it).  Also: which model served at
# time T, answered from the temporal deployments afterwards.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('gov_deploy');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
lc_messages = 'C'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION galaxy');

# Two models that disagree on the probe row: opposite slopes.
$node->safe_psql('postgres', q{
	CREATE TABLE public.up AS SELECT g::float8 AS x, 2.0 * g AS y FROM generate_series(1, 50) g;
	CREATE TABLE public.down AS SELECT g::float8 AS x, -3.0 * g AS y FROM generate_series(1, 50) g;
	CREATE TABLE public.stop_flag (done boolean NOT NULL);
	INSERT INTO stop_flag VALUES (false);
});
my $m1 = $node->safe_psql('postgres',
	"SELECT id FROM galaxy.train('flip', 'up', 'y', algorithm => 'linear_regression', deploy => 'always')");
my $m2 = $node->safe_psql('postgres',
	"SELECT id FROM galaxy.train('flip', 'down', 'y', algorithm => 'linear_regression', deploy => 'never')");
my %model_of = (
	$node->safe_psql('postgres', "SELECT round(galaxy.predict($m1, ARRAY[10.0]))") => $m1,
	$node->safe_psql('postgres', "SELECT round(galaxy.predict($m2, ARRAY[10.0]))") => $m2);
is(scalar(keys %model_of), 2, 'the two models predict differently on the probe');

# Session B: a psql script that predicts until A raises the stop flag.  Each
# prediction is its own statement; it prints "t0|prediction|t1", where t0 is
# the statement's start (its snapshot, and so the deployments it sees, are
# taken after that) and t1 a time after the prediction.
my $script = '';
for my $i (1 .. 20000)
{
	$script .= "SELECT statement_timestamp() AS t0, round(galaxy.predict('flip', ARRAY[10.0])) AS p, "
	  . "clock_timestamp() AS t1, (SELECT done FROM stop_flag) AS done \\gset\n"
	  . "\\echo :t0|:p|:t1\n"
	  . "\\if :done\n\\q\n\\endif\n";
}
my $work_dir = PostgreSQL::Test::Utils::tempdir;
my $script_file = "$work_dir/predict_loop.sql";
PostgreSQL::Test::Utils::append_to_file($script_file, $script);

# B writes to files: a pipe nobody reads while A switches would fill up
# (64 kB) and stall B.
my ($b_out_file, $b_err_file) = ("$work_dir/b.out", "$work_dir/b.err");
my $b = IPC::Run::start(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-f', $script_file ],
	'>', $b_out_file, '2>', $b_err_file);

# Session A: 100 × (deploy m2, roll back to m1), each a committed transaction;
# record when it started (deployed_at) and a time after its commit.
my $a = $node->background_psql('postgres');
my @switches;	# [model, started, committed_by]
# wait until B is predicting
$node->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%galaxy.predict(''flip''%' AND pid <> pg_backend_pid()")
  or die 'session B did not start';
for my $i (1 .. 100)
{
	for my $call ("galaxy.deploy('flip', ${m2}::bigint)", "galaxy.rollback('flip')")
	{
		my $row = $a->query_safe("SELECT model_id || '|' || deployed_at FROM $call");
		my ($model, $started) = split /\|/, $row;
		my $committed = $a->query_safe('SELECT clock_timestamp()');
		push @switches, [ $model, $started, $committed ];
	}
}
$a->query_safe('UPDATE stop_flag SET done = true');
$a->quit;

IPC::Run::finish($b);
my $b_rc = $?;
my $b_out = PostgreSQL::Test::Utils::slurp_file($b_out_file);
my $b_err = PostgreSQL::Test::Utils::slurp_file($b_err_file);
is($b_rc, 0, 'session B exited cleanly');
unlike($b_err, qr/ERROR/, 'session B never got an error');

# Load both logs and check every prediction against the switch windows.
my @obs = grep { /^\d{4}-/ } split /\n/, $b_out;
cmp_ok(scalar(@obs), '>', 200, 'session B made a few hundred predictions (' . scalar(@obs) . ')');
$node->safe_psql('postgres', 'CREATE TABLE public.obs (t0 timestamptz, p numeric, t1 timestamptz)');
$node->safe_psql('postgres', 'CREATE TABLE public.sw (n int, model bigint, started timestamptz, committed timestamptz)');
my $values = join(',', map { my ($t0, $p, $t1) = split /\|/; "('$t0', $p, '$t1')" } @obs);
$node->safe_psql('postgres', "INSERT INTO obs VALUES $values");
my $n = 0;
$values = join(',', "(0, $m1, '-infinity', '-infinity')",
	map { $n++; "($n, $_->[0], '$_->[1]', '$_->[2]')" } @switches);
$node->safe_psql('postgres', "INSERT INTO sw VALUES $values");

my %model_sql = reverse %model_of;
is($node->safe_psql('postgres', "SELECT count(*) FROM obs WHERE p NOT IN ($model_sql{$m1}, $model_sql{$m2})"),
	'0', 'every prediction came from one of the two models');

# Model j may serve from its deploy's start until the next switch's commit.
my $violations = $node->safe_psql('postgres', qq{
	WITH spans AS (
		SELECT s.model, s.started,
		       coalesce(lead(s.committed) OVER (ORDER BY s.n), 'infinity') AS until
		  FROM sw s)
	SELECT count(*) FROM obs o
	 WHERE NOT EXISTS (
		SELECT 1 FROM spans s
		 WHERE s.model = CASE WHEN o.p = $model_sql{$m1} THEN $m1 ELSE $m2 END
		   AND s.started <= o.t1 AND s.until >= o.t0)
});
is($violations, '0', 'every prediction came from a model deployed at that moment');

my $overlap = $node->safe_psql('postgres',
	"SELECT count(*) FROM obs WHERE t0 BETWEEN (SELECT min(started) FROM sw WHERE n > 0) AND (SELECT max(committed) FROM sw)");
cmp_ok($overlap, '>=', 100, "B predicted throughout A's 200 switches ($overlap calls during them)");
my $seen = $node->safe_psql('postgres',
	"SELECT count(DISTINCT p) FROM obs WHERE t0 BETWEEN (SELECT min(started) FROM sw WHERE n > 0) AND (SELECT max(committed) FROM sw)");
is($seen, '2', 'B saw both models while A switched');

# The temporal record answers "which model served at time T".
is($node->safe_psql('postgres', "SELECT count(*) FROM galaxy.deployments WHERE project_id = (SELECT id FROM galaxy.projects WHERE name = 'flip')"),
	'201', 'galaxy.deployments keeps all 201 deployments');
my $mismatch = $node->safe_psql('postgres', q{
	SELECT count(*) FROM sw WHERE n > 0
	   AND galaxy.deployed_model('flip', started + interval '1 microsecond') IS DISTINCT FROM model
	   AND started + interval '1 microsecond' < coalesce((SELECT min(s2.started) FROM sw s2 WHERE s2.n > sw.n), 'infinity')
});
is($mismatch, '0', 'deployed_model(project, T) names the model of each switch just after it');
is($node->safe_psql('postgres', "SELECT galaxy.deployed_model('flip', (SELECT min(started) FROM sw WHERE n > 0) - interval '1 microsecond')"),
	$m1, 'and the first model before the switching began');
is($node->safe_psql('postgres', "SELECT galaxy.deployed_model('flip')"), $m1, 'the last rollback left model 1 serving');

# The audit chain holds after 200 concurrent deploy transactions.
is($node->safe_psql('postgres', 'SELECT ok FROM galaxy.verify_audit()'), 't', 'the audit chain holds');
is($node->safe_psql('postgres', "SELECT count(*) FROM galaxy.audit_log WHERE action = 'deploy'"), '201',
	'every deploy and rollback is audited');

$node->stop;
done_testing();
