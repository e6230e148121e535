# Security findings of the hostile review (issue 20) that need several
# sessions; the rest are in test/pgtap/security.sql.  Every check here
# failed on the code before their fix (6fb7bf4):
#   11  one statement, one deployment snapshot: a cursor's FETCHes, and two
#       call sites of one statement, keep predicting with the deployment they
#       started with while another session deploys; the next statement sees it
#    1  a role with only the train privilege trains (train() and submit())
#       without deploying, and is told so
#    2  the train privilege is checked again when the model is registered: a
#       project created by another role while this one trained is refused
#    9  no advisory lock a role can take from SQL stalls audited calls
#   15  two sessions deploying one project concurrently never hit a raw
#       deployments_check violation
# Sessions are kept in step with an advisory lock that a view's or a
# statement's gate function waits on, never with sleeps.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('deploy_snapshot');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
lc_messages = 'C'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION galaxy');

# Two models that disagree on the probe x = 10: 20 (up) and -30 (down).
# gate() waits while someone holds advisory lock 77.
$node->safe_psql('postgres', q{
	CREATE TABLE public.up AS SELECT g::float8 AS x, 2.0 * g AS y FROM generate_series(1, 50) g;
	CREATE TABLE public.down AS SELECT g::float8 AS x, -3.0 * g AS y FROM generate_series(1, 50) g;
	CREATE FUNCTION public.gate() RETURNS boolean LANGUAGE plpgsql VOLATILE AS
	  $$BEGIN PERFORM pg_advisory_xact_lock_shared(77); RETURN true; END$$;
	CREATE VIEW public.gated_up AS SELECT x, y FROM public.up WHERE public.gate();
	CREATE ROLE alice LOGIN IN ROLE galaxy_trainer;
	CREATE ROLE bob LOGIN IN ROLE galaxy_trainer;
	CREATE ROLE carol LOGIN IN ROLE galaxy_trainer;
	GRANT SELECT ON public.up, public.down, public.gated_up TO alice, bob, carol;
});
my $m1 = $node->safe_psql('postgres',
	"SELECT id FROM galaxy.train('snap', 'up', 'y', algorithm => 'linear_regression', deploy => 'always')");
my $m2 = $node->safe_psql('postgres',
	"SELECT id FROM galaxy.train('snap', 'down', 'y', algorithm => 'linear_regression', deploy => 'never')");
is($node->safe_psql('postgres', "SELECT round(galaxy.predict($m1, ARRAY[10.0])) || ' ' || round(galaxy.predict($m2, ARRAY[10.0]))"),
	'20 -30', 'the two models predict 20 and -30 on the probe');

# The controller holds lock 77; wait until a session is blocked in gate().
my $ctl = $node->background_psql('postgres');
sub wait_at_gate
{
	my ($what) = @_;
	$node->poll_query_until('postgres', q{
		SELECT count(*) > 0 FROM pg_locks
		 WHERE locktype = 'advisory' AND objid = 77 AND NOT granted})
	  or die "$what never reached the gate";
}

# Run a statement in a background session without waiting for it; its output
# (and its error, in stderr) arrive with the session's next query.
sub start_async
{
	my ($s, $sql) = @_;
	$s->query_until(qr/started\n/, "\\echo started\n$sql\n");
}

sub finish_async
{
	my ($s) = @_;
	my $out = $s->query("SELECT 'done'");
	my $err = $s->{stderr};
	$s->{stderr} = '';
	$out =~ s/\n?done$//;
	return ($out, $err);
}

# ---------------------------------------------------------------------------
# 11. A cursor keeps the deployment it started with
# ---------------------------------------------------------------------------
my $a = $node->background_psql('postgres', on_error_stop => 0);
my $b = $node->background_psql('postgres');
$a->query_safe('BEGIN');
$a->query_safe("DECLARE c CURSOR FOR SELECT round(galaxy.predict('snap', ARRAY[10.0])) FROM generate_series(1, 20)");
my $first = $a->query_safe('FETCH 5 FROM c');
is(join(',', split /\n/, $first), '20,20,20,20,20', '11: the cursor\'s first rows come from model 1');
$b->query_safe("SELECT galaxy.deploy('snap', ${m2}::bigint)");
is($b->query_safe("SELECT galaxy.deployed_model('snap')"), $m2, '11: another session deployed model 2 and committed');
my $rest = $a->query_safe('FETCH ALL FROM c');
my @rest = split /\n/, $rest;
is(scalar(@rest), 15, '11: the cursor returns its other 15 rows');
is(join(',', grep { $_ ne '20' } @rest), '', '11: ... all from model 1, the deployment the cursor started with');
is($a->query_safe("SELECT round(galaxy.predict('snap', ARRAY[10.0]))"), '-30',
	'11: the next statement (same transaction) predicts with model 2');
$a->query_safe('COMMIT');

# ---------------------------------------------------------------------------
# 11. Two call sites of one statement use one deployment snapshot
# ---------------------------------------------------------------------------
$ctl->query_safe('SELECT pg_advisory_lock(77)');
start_async($a,
	"SELECT round(galaxy.predict('snap', ARRAY[10.0])) || '|' || public.gate() || '|' || round(galaxy.predict('snap', ARRAY[10.0])) AS two_sites;");
wait_at_gate('the two-call-site statement');
$b->query_safe('SELECT galaxy.rollback(\'snap\')');
is($b->query_safe("SELECT galaxy.deployed_model('snap')"), $m1,
	'11: while the statement waits between its call sites, another session rolls back to model 1');
$ctl->query_safe('SELECT pg_advisory_unlock(77)');
my ($two, $two_err) = finish_async($a);
is($two_err, '', '11: the statement ran without error');
is($two, '-30|true|-30', '11: both call sites of the statement predicted with model 2, the deployment it started with');
is($a->query_safe("SELECT round(galaxy.predict('snap', ARRAY[10.0]))"), '20',
	'11: the next statement predicts with model 1');

# The same with a scalar subquery as the second call site.
$ctl->query_safe('SELECT pg_advisory_lock(77)');
start_async($a,
	"SELECT round(galaxy.predict('snap', ARRAY[10.0])) || '|' || public.gate() || '|' || (SELECT round(galaxy.predict('snap', ARRAY[x])) FROM (VALUES (10.0)) v(x)) AS two_sites;");
wait_at_gate('the statement with a subquery');
$b->query_safe("SELECT galaxy.deploy('snap', ${m2}::bigint)");
$ctl->query_safe('SELECT pg_advisory_unlock(77)');
($two, $two_err) = finish_async($a);
is($two_err, '', '11: the statement with a subquery ran without error');
is($two, '20|true|20', '11: its subquery predicted with model 1 too, the deployment the statement started with');
is($a->query_safe("SELECT round(galaxy.predict('snap', ARRAY[10.0]))"), '-30',
	'11: the next statement predicts with model 2');

# ---------------------------------------------------------------------------
# 1. The train privilege does not deploy: train() and submit()
# ---------------------------------------------------------------------------
$node->safe_psql('postgres', "SELECT galaxy.deploy('snap', ${m1}::bigint); SELECT galaxy.grant_project('snap', 'carol', 'train')");
my ($rc, $out, $err) = $node->psql('postgres', q{
	SET SESSION AUTHORIZATION carol;
	SELECT status FROM galaxy.train('snap', 'down', 'y', algorithm => 'linear_regression', deploy => 'always');
});
is($rc, 0, '1: carol (train only) trains with deploy => always');
is($out, 'ready', '1: her model is registered, not deployed');
like($err, qr/NOTICE: .*not deployed: role "carol" lacks the deploy privilege/,
	'1: a NOTICE says she lacks the deploy privilege');
is($node->safe_psql('postgres', "SELECT galaxy.deployed_model('snap')"), $m1, '1: the primary stays');

my $job = $node->safe_psql('postgres', q{
	SET SESSION AUTHORIZATION carol;
	SELECT galaxy.submit('snap', 'down', 'y', algorithm => 'linear_regression', deploy => 'always');
});
like($job, qr/^\d+$/, '1: carol submits a job with deploy => always');
is($node->safe_psql('postgres', "SET SESSION AUTHORIZATION carol; SELECT state || '|' || coalesce(error_message, '') FROM galaxy.wait($job, '120 s')"),
	'succeeded|', '1: the job succeeds');
is($node->safe_psql('postgres', "SELECT m.status FROM galaxy.models m WHERE m.job_id = $job"), 'ready',
	'1: its model is registered, not deployed');
is($node->safe_psql('postgres', "SELECT galaxy.deployed_model('snap')"), $m1, '1: the primary stays');

# ---------------------------------------------------------------------------
# 2. The train privilege is checked when the model is registered
# ---------------------------------------------------------------------------
# bob starts training into a project that does not exist yet (allowed: he
# would create it), on a view that waits at the gate; alice creates the
# project meanwhile; then bob's training goes on and must be refused.
my $bob = $node->background_psql('postgres', on_error_stop => 0);
$bob->query_safe('SET SESSION AUTHORIZATION bob');
$ctl->query_safe('SELECT pg_advisory_lock(77)');
start_async($bob,
	"SELECT version FROM galaxy.train('contested', 'public.gated_up', 'y', algorithm => 'linear_regression', deploy => 'never');");
wait_at_gate("bob's training");
is($node->safe_psql('postgres', q{
	SET SESSION AUTHORIZATION alice;
	SELECT version FROM galaxy.train('contested', 'public.down', 'y', algorithm => 'linear_regression', deploy => 'never');
}), '1.0.0', '2: while bob trains, alice creates project "contested"');
$ctl->query_safe('SELECT pg_advisory_unlock(77)');
my ($bob_out, $bob_err) = finish_async($bob);
like($bob_err, qr/ERROR:\s+permission denied to train in galaxy project "contested"/,
	'2: bob\'s training is refused when it registers the model');
is($bob_out, '', '2: ... and returns no model');
is($node->safe_psql('postgres', q{
	SELECT string_agg(m.trained_by || ' ' || m.version, ',' ORDER BY m.id) FROM galaxy.models m
	  JOIN galaxy.projects p ON p.id = m.project_id WHERE p.name = 'contested'}),
	'alice 1.0.0', '2: alice\'s project holds only her model');
$bob->quit;

# ---------------------------------------------------------------------------
# 9. Advisory locks taken from SQL do not stall audited calls
# ---------------------------------------------------------------------------
# the chain lock's old key, as one bigint and as two int4 (1734437985 =
# 0x67616c61 "gala", 2021195777 = 0x78790001 "xy" 0 1)
$ctl->query_safe(q{SELECT pg_advisory_lock(x'67616c6178790001'::bigint), pg_advisory_lock(1734437985, 2021195777),
                          pg_advisory_lock_shared(0), pg_advisory_lock(1)});
for my $call ("SELECT galaxy.grant_project('snap', 'bob', 'read')",
	"SELECT model_id FROM galaxy.deploy('snap', ${m2}::bigint)",
	"SELECT version FROM galaxy.train('snap', 'up', 'y', algorithm => 'linear_regression', deploy => 'never')")
{
	my ($crc, $cout, $cerr) = $node->psql('postgres', "SET statement_timeout = '10s'; $call");
	is($crc . ($cerr =~ /ERROR:\s*(.*)/ ? " $1" : ''), '0', "9: an audited call runs while a session holds advisory locks: $call");
}
$ctl->query_safe('SELECT pg_advisory_unlock_all()');
is($node->safe_psql('postgres', 'SELECT ok FROM galaxy.verify_audit()'), 't', '9: the audit chain holds');

# ---------------------------------------------------------------------------
# 15. Concurrent deploys of one project: no raw deployments_check violation
# ---------------------------------------------------------------------------
my @runs;
for my $order ([ $m1, $m2 ], [ $m2, $m1 ])
{
	my $script = '';
	$script .= "SELECT galaxy.deploy('snap', $order->[0]::bigint);\nSELECT galaxy.deploy('snap', $order->[1]::bigint);\n"
	  for 1 .. 50;
	my $file = $PostgreSQL::Test::Utils::tmp_check . "/deploy_$order->[0].sql";
	PostgreSQL::Test::Utils::append_to_file($file, $script);
	my ($o, $e) = ('', '');
	my $h = IPC::Run::start([ 'psql', '-X', '-q', '-At', '-d', $node->connstr('postgres'), '-f', $file ],
		'>', \$o, '2>', \$e);
	push @runs, [ $h, \$o, \$e ];
}
my $errors = '';
for my $r (@runs)
{
	IPC::Run::finish($r->[0]);
	$errors .= ${ $r->[2] };
}
unlike($errors, qr/deployments_check/, '15: no deployments_check violation in 200 concurrent deploys');
is(join("\n", grep { /ERROR/ } split /\n/, $errors), '', '15: no error at all');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM galaxy.deployments d JOIN galaxy.projects p ON p.id = d.project_id
	 WHERE p.name = 'snap' AND d.retired_at IS NULL}), '1', '15: one deployment of the project is active');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM galaxy.deployments d JOIN galaxy.projects p ON p.id = d.project_id
	 WHERE p.name = 'snap' AND d.retired_at < d.deployed_at}), '0', '15: no deployment retires before it was deployed');
is($node->safe_psql('postgres', 'SELECT ok FROM galaxy.verify_audit()'), 't', '15: the audit chain holds');

$a->quit;
$b->quit;
$ctl->quit;
$node->stop;
done_testing();
