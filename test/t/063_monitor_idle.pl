# The launcher leaves an idle server idle.
#
# A monitor worker visits a database where galaxy is installed once when
# the launcher first sees it, and again only when something asks for it
# (a schedule or a logging setting changed, predictions wait in the ring,
# a schedule is due).  Until 0.2.0's fix a visit asked for by a change
# never counted as done: the launcher started a monitor worker for that
# database again and again, about one process a few tens of milliseconds,
# and kept a core busy on a server with nothing to do.  Here the
# postmaster logs every background worker it starts (DEBUG1), and the
# test counts the monitor workers started while nothing happens.  A
# database where the worker fails (galaxy's alert check is missing) backs
# off and does not keep the healthy one from its visits.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $node = PostgreSQL::Test::Cluster->new('monitor_idle');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
max_worker_processes = 16
lc_messages = 'C'
log_min_messages = debug1
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION galaxy;
	CREATE DATABASE broken;
});
$node->safe_psql('broken', q{
	CREATE EXTENSION galaxy;
	ALTER EXTENSION galaxy DROP FUNCTION galaxy_internal.alert_rule_breaches();
	DROP FUNCTION galaxy_internal.alert_rule_breaches();
});
my $oid = $node->safe_psql('postgres', q{SELECT oid FROM pg_database WHERE datname = 'postgres'});
my $broken_oid = $node->safe_psql('postgres', q{SELECT oid FROM pg_database WHERE datname = 'broken'});

# Monitor workers the postmaster started for a database since log offset $from.
sub starts
{
	my ($dboid, $from) = @_;
	my $log = slurp_file($node->logfile, $from);
	my @n = $log =~ /starting background worker process "galaxy monitor for database $dboid"/g;
	return scalar @n;
}

# Wait (polling, at most 60 s) until a monitor worker started for $dboid after $from.
sub wait_start
{
	my ($dboid, $from) = @_;
	my $t0 = time;
	while (time - $t0 < 60)
	{
		return 1 if starts($dboid, $from) > 0;
		sleep 0.1;
	}
	return 0;
}

# A change asks for a visit (a logging setting), as the user's transaction commits.
sub ask_visit
{
	my ($db) = @_;
	$node->safe_psql($db, q{
		SET client_min_messages = warning;
		CREATE TABLE IF NOT EXISTS pts AS
		SELECT i::float8 AS x, 2.0 * i AS y FROM generate_series(1, 50) i;
		SELECT count(*) FROM galaxy.train('idle.demo', 'pts', 'y', 'linear_regression');
		SELECT galaxy.set_logging('idle.demo', 0.5);
	});
}

# first sight, and a visit asked for, in the healthy database
my $from = -s $node->logfile;
ask_visit('postgres');
ok(wait_start($oid, $from), 'a change in a database starts a monitor worker there');

# then nothing happens for six seconds: at most one more visit (a second change
# noted while the first visit ran), not a worker after every worker
sleep 1;
$from = -s $node->logfile;
sleep 6;
my $idle = starts($oid, $from);
cmp_ok($idle, '<=', 1, "an idle database gets no stream of monitor workers ($idle in 6 s)");

# a database where the worker fails: it backs off, and the healthy one still gets its visits
$from = -s $node->logfile;
ask_visit('broken');
ok(wait_start($broken_oid, $from), 'a change in the damaged database starts a monitor worker there');
my $t0 = time;
my $failed = 0;
while (time - $t0 < 60 && !$failed)
{
	$failed = slurp_file($node->logfile, $from) =~ /galaxy_internal\.alert_rule_breaches\(\) does not exist/;
	sleep 0.1;
}
ok($failed, 'the worker there fails, saying why in the log');
$from = -s $node->logfile;
ask_visit('postgres');
ok(wait_start($oid, $from), 'the healthy database is still visited after a change');

# a failing database is retried after 5 s, then 10 s, ...: not more than twice in 9 s
$from = -s $node->logfile;
sleep 9;
my $retries = starts($broken_oid, $from);
cmp_ok($retries, '<=', 2, "the damaged database is retried with a growing back-off ($retries in 9 s)");
my $healthy = starts($oid, $from);
cmp_ok($healthy, '<=', 1, "and the idle healthy database is left alone meanwhile ($healthy)");

$node->stop;
done_testing();
