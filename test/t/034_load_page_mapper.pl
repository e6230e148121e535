# The loader's page mapper (src/util/shared_pages.c): with galaxy.threads > 1
# a second thread reads the shared-buffer pages of a large table while the
# backend scans it.
#
# 1. The model is the same with and without it (galaxy.threads 2 and 1), in
#    memory and streamed (the serial pass starts it too).
# 2. A training cancelled (statement_timeout) or terminated
#    (pg_terminate_backend) at many moments of its load ends with an ERROR or
#    its session, never a crash: the postmaster never restarts, and the
#    server log has no process killed by a signal.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('page_mapper');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
shared_buffers = 256MB
galaxy.threads = 2
lc_messages = 'C'
});
$node->start;

# 400,000 rows of 20 features: about 10,000 blocks, over the mapper's
# thresholds (2,048 blocks, 1/16 of the pool)
$node->safe_psql('postgres', q{
	CREATE EXTENSION galaxy;
	CREATE TABLE public.wide AS
	SELECT x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15, x16, x17, x18, x19, x20,
	       x1 - 2 * x2 + 0.5 * x7 + 0.1 * x20 + 0.01 * (i % 97) AS y
	  FROM (SELECT i, (i % 101)::float8 AS x1, (i % 103)::float8 AS x2, (i % 107)::float8 AS x3,
	               (i % 109)::float8 AS x4, (i % 113)::float8 AS x5, (i % 127)::float8 AS x6,
	               (i % 131)::float8 AS x7, (i % 137)::float8 AS x8, (i % 139)::float8 AS x9,
	               (i % 149)::float8 AS x10, (i % 151)::float8 AS x11, (i % 157)::float8 AS x12,
	               (i % 163)::float8 AS x13, (i % 167)::float8 AS x14, (i % 173)::float8 AS x15,
	               (i % 179)::float8 AS x16, (i % 181)::float8 AS x17, (i % 191)::float8 AS x18,
	               (i % 193)::float8 AS x19, (i % 197)::float8 AS x20
	          FROM generate_series(1, 400000) i) s;
	VACUUM ANALYZE public.wide;
});
my $blocks = $node->safe_psql('postgres', q{SELECT pg_relation_size('public.wide') / 8192});
cmp_ok($blocks, '>=', 2048 * 4, "the table has $blocks blocks, over the mapper's thresholds");
my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

# ---------------------------------------------------------------------------
# 1. The same model with and without the mapper
# ---------------------------------------------------------------------------
sub train_summary
{
	my ($threads, $project) = @_;
	return $node->safe_psql('postgres', qq{
		SET galaxy.threads = $threads;
		SET client_min_messages = warning;
		SELECT (metrics->>'training_rows') || ' ' || (metrics->>'r2') || ' ' || md5(model::text)
		  FROM galaxy.train('$project', 'public.wide', 'y', algorithm => 'linear_regression', seed => 7)});
}
my $with = train_summary(2, 'mapper_on');
my $without = train_summary(1, 'mapper_off');
like($with, qr/^320000 /, 'a training that reads the table with the mapper (320,000 training rows)');
is($with, $without, 'the same rows, r2 and model bytes with galaxy.threads 2 (mapper) and 1 (none)');

# the streaming solver's serial pass starts the mapper too
sub stream_summary
{
	my ($threads, $project) = @_;
	return $node->safe_psql('postgres', qq{
		SET galaxy.threads = $threads;
		SET max_parallel_workers_per_gather = 0;
		SET client_min_messages = warning;
		SELECT (metrics->>'solver') || ' ' || (metrics->>'training_rows') || ' ' || (metrics->>'r2') || ' ' || md5(model::text)
		  FROM galaxy.train('$project', 'public.wide', 'y', algorithm => 'linear_regression', seed => 7,
		                    hyperparams => '{"solver": "streaming"}')});
}
my $s_with = stream_summary(2, 'stream_mapper_on');
like($s_with, qr/^streaming /, 'a streamed training with the mapper');
is($s_with, stream_summary(1, 'stream_mapper_off'), 'the same streamed model with and without it');

# ---------------------------------------------------------------------------
# 2. Cancelled and terminated during the load
# ---------------------------------------------------------------------------
my $train = q{SELECT id FROM galaxy.train('mapper_stop', 'public.wide', 'y', algorithm => 'linear_regression')};
my $stream = q{SET max_parallel_workers_per_gather = 0;
	SELECT id FROM galaxy.train('mapper_stop', 'public.wide', 'y', algorithm => 'linear_regression',
	                            hyperparams => '{"solver": "streaming"}')};
my ($cancelled, $done, $n) = (0, 0, 0);
foreach my $ms (5, 5, 15, 15, 30, 30, 50, 50, 80, 80, 120, 120, 170, 170, 230, 230, 300, 300, 400, 400)
{
	# the in-memory load and the streamed pass, in turn
	my ($ret, $out, $err) = $node->psql('postgres', "SET statement_timeout = '${ms}ms'; " . ($n++ % 2 ? $stream : $train));
	if ($ret == 0)
	{
		$done++;
	}
	elsif ($err =~ /canceling statement due to statement timeout/)
	{
		$cancelled++;
	}
	else
	{
		fail("statement_timeout $ms ms: unexpected result $ret: $err");
	}
}
cmp_ok($cancelled, '>=', 2, "statement_timeout cancelled $cancelled of 20 trainings (the others, $done, finished)");

my $terminated = 0;
foreach my $ms (10, 40, 80, 120, 160, 220, 300, 400)
{
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-q', '-At', '-d', $node->connstr('postgres') . ' application_name=mapper_victim',
		  '-c', 'SET client_min_messages = warning', '-c', $train ],
		'>', \$out, '2>', \$err);
	$node->poll_query_until('postgres',
		q{SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'mapper_victim' AND state = 'active'})
	  or die 'the training did not start';
	usleep($ms * 1000);
	$terminated += $node->safe_psql('postgres',
		q{SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
		    FROM (SELECT pid FROM pg_stat_activity WHERE application_name = 'mapper_victim' OFFSET 0) v});
	IPC::Run::finish($h);
}
cmp_ok($terminated, '>=', 1, "pg_terminate_backend ended $terminated of 8 trainings while they ran");

is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $started,
	'the postmaster never restarted');
unlike(slurp_file($node->logfile), qr/terminated by signal|was terminated by exception/,
	'no server process was killed by a signal');
is($node->safe_psql('postgres', q{SELECT count(*) FROM public.wide}), '400000', 'the server answers');

$node->stop;
done_testing();
