# Loading galaxy with and without shared_preload_libraries.
#
# CREATE / DROP / CREATE EXTENSION must work both ways; without preloading,
# features that need it (background jobs, shared memory) must refuse with a
# clear ERROR and a HINT naming shared_preload_libraries, while in-session
# features (the type, training) keep working.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('preload');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
max_worker_processes = 16
lc_messages = 'C'
});
$node->start;

# Does a function exist in schema galaxy (by name)?
sub has_function
{
	my ($db, $name) = @_;
	return $node->safe_psql($db,
		"SELECT count(*) > 0 FROM pg_proc WHERE proname = '$name' AND pronamespace = 'galaxy'::regnamespace"
	) eq 't';
}

# A small table to train on, in a database.
sub make_table
{
	my ($db) = @_;
	$node->safe_psql($db, q{
		CREATE TABLE points AS
		SELECT i AS id, (i % 7)::float8 AS x1, (i % 11)::float8 AS x2,
		       (3 * (i % 7) - 2 * (i % 11) + 0.5)::float8 AS y
		  FROM generate_series(1, 200) i;
	});
}

# ---------------------------------------------------------------------------
# Preloaded
# ---------------------------------------------------------------------------
is( $node->safe_psql('postgres', q{
		CREATE EXTENSION galaxy;
		DROP EXTENSION galaxy;
		CREATE EXTENSION galaxy;
		SELECT e.extversion = a.default_version FROM pg_extension e
		  JOIN pg_available_extensions a ON a.name = e.extname WHERE e.extname = 'galaxy';
	}),
	't',
	'preloaded: CREATE, DROP, CREATE EXTENSION works');

is($node->safe_psql('postgres', 'SHOW galaxy.max_workers'),
	'2', 'preloaded: galaxy.max_workers is defined at start-up');

my ($ret, $out, $err) =
  $node->psql('postgres', 'SET galaxy.no_such_setting = 1');
isnt($ret, 0, 'the galaxy. GUC prefix is reserved');
like($err, qr/invalid configuration parameter name "galaxy\.no_such_setting"/,
	'an unknown galaxy.* setting names itself in the error');

$node->safe_psql('postgres', 'DROP EXTENSION galaxy');
$node->safe_psql('postgres', 'CREATE DATABASE preloaded');
$node->safe_psql('preloaded', 'CREATE EXTENSION galaxy');
make_table('preloaded');

SKIP:
{
	skip 'galaxy.submit does not exist yet', 2
	  unless has_function('preloaded', 'submit');
	my $job = $node->safe_psql('preloaded',
		q{SELECT galaxy.submit('preload_job', relation => 'points', target => 'y',
		                       algorithm => 'linear_regression', features => ARRAY['x1', 'x2'])});
	like($job, qr/^\d+$/, 'preloaded: galaxy.submit queues a job');
	is( $node->safe_psql('preloaded',
			"SELECT state || coalesce(': ' || error_message, '') FROM galaxy.wait($job, interval '120 seconds')"),
		'succeeded',
		'preloaded: a background worker runs the job to completion');
}

# ---------------------------------------------------------------------------
# Not preloaded: the library is loaded on first use
# ---------------------------------------------------------------------------
$node->stop;
$node->adjust_conf('postgresql.conf', 'shared_preload_libraries', "''");
$node->start;

is( $node->safe_psql('postgres', q{
		CREATE EXTENSION galaxy;
		DROP EXTENSION galaxy;
		CREATE EXTENSION galaxy;
		SELECT e.extversion = a.default_version FROM pg_extension e
		  JOIN pg_available_extensions a ON a.name = e.extname WHERE e.extname = 'galaxy';
	}),
	't',
	'not preloaded: CREATE, DROP, CREATE EXTENSION works');

# The type works in a session that loads the library on demand.
($ret, $out, $err) =
  $node->psql('postgres', q{SELECT 'galaxy:AAAA'::galaxy.model});
like($err, qr/corrupted galaxy\.model/,
	'not preloaded: the type input loads the library and validates');
is($node->safe_psql('postgres', q{LOAD 'galaxy'; SHOW galaxy.blas_threads}),
	'1', 'not preloaded: GUCs are defined once the library is loaded');

SKIP:
{
	skip 'galaxy.submit does not exist yet', 3
	  unless has_function('preloaded', 'submit');
	($ret, $out, $err) = $node->psql('preloaded',
		q{SELECT galaxy.submit('preload_job', relation => 'points', target => 'y', algorithm => 'linear_regression',
		                      features => ARRAY['x1', 'x2'])}
	);
	isnt($ret, 0, 'not preloaded: galaxy.submit refuses');
	like($err, qr/ERROR:.*shared_preload_libraries/,
		'not preloaded: the error says what is missing');
	like($err, qr/HINT:.*shared_preload_libraries.*restart/s,
		'not preloaded: the HINT says how to fix it');
}

SKIP:
{
	skip 'galaxy.train does not exist yet', 2
	  unless has_function('preloaded', 'train');
	is( $node->safe_psql('preloaded', q{
			SELECT version FROM galaxy.train('nopreload', relation => 'points', target => 'y',
			                                 algorithm => 'linear_regression',
			                                 features => ARRAY['x1', 'x2'])
		}),
		'1.0.0',
		'not preloaded: galaxy.train still trains in the session');
	is( $node->safe_psql('preloaded', q{
			SELECT round(galaxy.predict('nopreload', ARRAY[3, 5]::float8[])::numeric, 6)
		}),
		'-0.500000',
		'not preloaded: the trained model predicts');
}

# Back to preloaded: the data written without preloading is intact.
$node->stop;
$node->adjust_conf('postgresql.conf', 'shared_preload_libraries', "'galaxy'");
$node->start;
is( $node->safe_psql('preloaded', q{
		SELECT count(*) FILTER (WHERE galaxy.describe(model) IS NOT NULL) || '/' || count(*)
		  FROM galaxy.models WHERE model IS NOT NULL
	}),
	'2/2',
	'models trained with and without preloading read back after preloading');

$node->stop;
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|PANIC/, 'no backend crashed');

done_testing();
