# The streaming solver's pass with parallel workers (src/scale/stream.c,
# pass_query): when the session lets a Gather start as many workers as the
# machine has CPUs, the leader does not scan as well
# (parallel_leader_participation off for the pass alone); with fewer workers
# than CPUs it scans as usual.  Read from the pass's plan (auto_explain,
# nested statements, ANALYZE): the partial aggregate runs once per launched
# worker, plus once in the leader when it participates.
#
# Also: the session's own setting is back after the training, and the
# models agree (serial, leader scanning, leader waiting).  Skipped where
# contrib's auto_explain is not installed.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $cpus = `getconf _NPROCESSORS_ONLN`;
chomp $cpus;
$cpus = 1 unless $cpus =~ /^\d+$/ && $cpus > 0;

my $node = PostgreSQL::Test::Cluster->new('stream_leader');
# auto_explain is contrib's: the server built with assertions (scripts/build-cassert-pg) has none
my $pkglib = $node->config_data('--pkglibdir');
plan skip_all => "auto_explain is not installed in $pkglib" unless -e "$pkglib/auto_explain.so";

$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
max_worker_processes = 16
max_parallel_workers = 8
lc_messages = 'C'
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION galaxy;
	CREATE TABLE public.lead AS
	SELECT (i % 101)::float8 AS x1, (i % 103)::float8 AS x2, (i % 107)::float8 AS x3,
	       ((i % 101) - 2 * (i % 103) + 0.5 * (i % 107) + 0.01 * (i % 97))::float8 AS y
	  FROM generate_series(1, 200000) i;
	VACUUM ANALYZE public.lead;
});

# One streamed training with max_parallel_workers_per_gather = $workers:
# "<workers launched> <partial aggregates run> <r2>", and the session's
# parallel_leader_participation afterwards.
sub stream_pass
{
	my ($workers, $project) = @_;
	my $offset = -s $node->logfile;
	my $out = $node->safe_psql('postgres', qq{
		LOAD 'auto_explain';
		SET auto_explain.log_min_duration = 0;
		SET auto_explain.log_nested_statements = on;
		SET auto_explain.log_analyze = on;
		SET auto_explain.log_timing = off;
		SET max_parallel_workers_per_gather = $workers;
		SET parallel_setup_cost = 0;
		SET min_parallel_table_scan_size = 0;
		SET client_min_messages = warning;
		SELECT metrics->>'r2' FROM galaxy.train('$project', 'public.lead', 'y', algorithm => 'linear_regression',
		                                       seed => 7, hyperparams => '{"solver": "streaming"}');
		SHOW parallel_leader_participation;});
	my ($r2, $after) = split /\n/, $out;
	my $log = substr(slurp_file($node->logfile), $offset);
	# the plan logged for the pass's query
	my ($plan) = $log =~ /(Query Text: SELECT galaxy_internal\.split_moments_values.*?)(?:\n\S|\z)/s;
	die "no plan of the pass in the log" unless defined $plan;
	my ($launched) = $plan =~ /Workers Launched: (\d+)/;
	my ($loops) = $plan =~ /Partial Aggregate.*?loops=(\d+)/;
	return (($launched // 0), ($loops // 0), $r2, $after);
}

my ($l0, undef, $r2_serial) = stream_pass(0, 'lead_serial');
is($l0, 0, 'max_parallel_workers_per_gather = 0: no worker');

# as many workers as CPUs: the leader waits (the cap, max_parallel_workers, may launch fewer)
my $many = $cpus;
my ($l1, $p1, $r2_wait, $after1) = stream_pass($many, 'lead_wait');
cmp_ok($l1, '>=', 1, "max_parallel_workers_per_gather = $many on $cpus CPUs: $l1 workers launched");
is($p1, $l1, 'the partial aggregate ran in the workers only (the leader did not scan)');
is($after1, 'on', "the session's parallel_leader_participation is on again afterwards");

SKIP:
{
	skip 'one CPU: every parallel pass has as many workers as CPUs', 3 if $cpus < 2;
	my ($l2, $p2, $r2_lead, $after2) = stream_pass(1, 'lead_scan');
	is($l2, 1, "max_parallel_workers_per_gather = 1 on $cpus CPUs: one worker launched");
	is($p2, 2, 'the partial aggregate ran in the worker and in the leader');
	ok(abs($r2_lead - $r2_serial) < 1e-9, "the same r2 with the leader scanning ($r2_lead) as serial ($r2_serial)");
}
ok(abs($r2_wait - $r2_serial) < 1e-9, "the same r2 with the leader waiting ($r2_wait) as serial ($r2_serial)");

$node->stop;
done_testing();
