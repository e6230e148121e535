# galaxy on a Citus cluster: a coordinator and two workers.
#
# Training reads a distributed table through SQL (its rows are in the
# workers' shards, the coordinator's heap is an empty shell); predict on a
# model value from galaxy.serving_model() runs on the workers, which have no
# registry; both give what the same calls give on a local copy of the table.
# Skipped when Citus is not installed in the PostgreSQL under test (it is not
# in Debian: docs/citus.md says how to build it).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# Citus installed where the server under test loads its libraries from?
my $pg_config = $ENV{PG_CONFIG} || 'pg_config';
my $pkglibdir = `$pg_config --pkglibdir`;
my $sharedir = `$pg_config --sharedir`;
chomp($pkglibdir, $sharedir);
plan skip_all => "Citus is not installed in this PostgreSQL ($pkglibdir/citus.so)"
  unless -f "$pkglibdir/citus.so" && -f "$sharedir/extension/citus.control";

# Three nodes on loopback: Citus connects between them over TCP.
my @nodes;
for my $name (qw(coordinator worker1 worker2))
{
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'citus,galaxy'
listen_addresses = '127.0.0.1'
max_prepared_transactions = 20
citus.local_hostname = '127.0.0.1'
lc_messages = 'C'
});
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION citus; CREATE EXTENSION galaxy;');
	push @nodes, $node;
}
my ($coord, @workers) = @nodes;
$coord->safe_psql('postgres', "SELECT citus_set_coordinator_host('127.0.0.1', " . $coord->port . ")");
for my $w (@workers)
{
	$coord->safe_psql('postgres', "SELECT citus_add_node('127.0.0.1', " . $w->port . ")");
}
is($coord->safe_psql('postgres', 'SELECT count(*) FROM citus_get_active_worker_nodes()'),
	'2', 'two active workers');

# d: distributed over 8 shards; l: the same rows in a local table.  The
# target is an exact linear function, so the fit does not depend on which
# rows the holdout split (which follows the scan order) keeps.
$coord->safe_psql('postgres', q{
	CREATE TABLE d (id int PRIMARY KEY, x1 float8, x2 float8, x3 float8, y float8, c text);
	SELECT create_distributed_table('d', 'id', shard_count => 8);
	INSERT INTO d
	SELECT i, (i % 17)::float8, (i % 13) / 2.0, sin(i), 0, NULL FROM generate_series(1, 3000) i;
	UPDATE d SET y = 1.5 + 2 * x1 - 3 * x2 + 0.5 * x3,
	             c = CASE WHEN 2 * x1 - 3 * x2 + x3 > 0 THEN 'up' ELSE 'down' END;
	CREATE TABLE l AS SELECT * FROM d;
});
is($coord->safe_psql('postgres', q{
	SELECT count(*) FROM d}), '3000', 'the distributed table has its rows (on the workers)');
is($coord->safe_psql('postgres', q{
	SELECT pg_relation_size('d')}), '0', 'the coordinator\'s shell table is empty');

# training on the distributed table, with the rows in memory (the loader
# reads the shards through a cursor)
$coord->safe_psql('postgres', q{
	SET client_min_messages = warning;
	SELECT galaxy.train('dp', relation => 'd', target => 'y', algorithm => 'linear_regression',
	                    features => ARRAY['x1', 'x2', 'x3'], hyperparams => '{"solver": "in_memory"}');
	SELECT galaxy.train('lp', relation => 'l', target => 'y', algorithm => 'linear_regression',
	                    features => ARRAY['x1', 'x2', 'x3'], hyperparams => '{"solver": "in_memory"}');
	SELECT galaxy.train('dc', relation => 'd', target => 'c', algorithm => 'logistic_regression',
	                    features => ARRAY['x1', 'x2', 'x3'], hyperparams => '{"solver": "in_memory"}');
	SELECT galaxy.train('lc', relation => 'l', target => 'c', algorithm => 'logistic_regression',
	                    features => ARRAY['x1', 'x2', 'x3'], hyperparams => '{"solver": "in_memory"}');
});
is($coord->safe_psql('postgres', q{
	SELECT string_agg(p.name || ':' || m.training_rows, ',' ORDER BY p.name)
	  FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id}),
	'dc:2400,dp:2400,lc:2400,lp:2400', 'training read every row of the distributed table');

# the exact linear target: the same fit from the shards as from the local table
is($coord->safe_psql('postgres', q{
	SELECT round(galaxy.predict('dp', ARRAY[1, 2, 3])::numeric, 6)}),
	$coord->safe_psql('postgres', q{
	SELECT round(galaxy.predict('lp', ARRAY[1, 2, 3])::numeric, 6)}),
	'linear regression: the same model from the distributed and the local table');

# the streaming solver: its aggregate is pushed down to the shards (partial
# states on the workers, combined on the coordinator), and its split is by
# row values, so the distributed and the local table give the same model
$coord->safe_psql('postgres', q{
	SET client_min_messages = warning;
	SELECT galaxy.train('ds', relation => 'd', target => 'y', algorithm => 'linear_regression',
	                    features => ARRAY['x1', 'x2', 'x3'], hyperparams => '{"solver": "streaming"}');
	SELECT galaxy.train('ls', relation => 'l', target => 'y', algorithm => 'linear_regression',
	                    features => ARRAY['x1', 'x2', 'x3'], hyperparams => '{"solver": "streaming"}');
});
is($coord->safe_psql('postgres', q{
	SELECT string_agg(m.training_rows || ':' || round(galaxy.predict(m.id, ARRAY[1, 2, 3])::numeric, 6), ','
	                  ORDER BY p.name)
	  FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id WHERE p.name IN ('ds', 'ls')}) =~
	  /^([^,]+),\1$/ ? 'same' : 'different', 'same',
	'streaming on the distributed table: the same rows and model as on the local table');
# the pass's sample of the rows (taken on the shards) gives the distributed
# model a training profile: the local table's, and drift needs no baseline
is($coord->safe_psql('postgres', q{
	SELECT count(DISTINCT m.training_profile) || ':' || count(m.training_profile)
	  FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id WHERE p.name IN ('ds', 'ls')}),
	'1:2', 'streaming on the distributed table: the same training profile as on the local table');
# a larger distributed table: the sample's level comes from the shards' sizes,
# so the shards ship a few thousand rows in all, not every row up to the cap
$coord->safe_psql('postgres', q{
	SET client_min_messages = warning;
	CREATE TABLE dbig (id bigint, x1 float8, x2 float8, y float8);
	SELECT create_distributed_table('dbig', 'id');
	INSERT INTO dbig SELECT i, i % 101, (i % 37) / 3.0, i % 7 FROM generate_series(1, 100000) i;
	SELECT galaxy.train('dbig', relation => 'dbig', target => 'y', algorithm => 'linear_regression',
	                    features => ARRAY['x1', 'x2'], hyperparams => '{"solver": "streaming"}');
});
is($coord->safe_psql('postgres', q{
	SELECT (m.training_profile->>'rows')::int BETWEEN 2000 AND 12000
	  FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id WHERE p.name = 'dbig'}),
	't', 'a 100,000-row distributed table: a profile sample of thousands of rows, not tens of thousands');
is($coord->safe_psql('postgres', q{
	SELECT string_agg(DISTINCT status, ',') FROM galaxy.drift('ds', 'd')}),
	'ok', 'drift of the distributed table against its streamed model\'s own profile');
# streaming logistic regression: Newton passes pushed down, and the held-out
# roc_auc (a query over the scored held-out rows) from the shards
$coord->safe_psql('postgres', q{
	SET client_min_messages = warning;
	SELECT galaxy.train('dls', relation => 'd', target => 'c', algorithm => 'logistic_regression',
	                    features => ARRAY['x1', 'x2', 'x3'], hyperparams => '{"solver": "streaming"}');
	SELECT galaxy.train('lls', relation => 'l', target => 'c', algorithm => 'logistic_regression',
	                    features => ARRAY['x1', 'x2', 'x3'], hyperparams => '{"solver": "streaming"}');
});
is($coord->safe_psql('postgres', q{
	SELECT string_agg(m.training_rows || ':' || round((m.metrics->>'roc_auc')::numeric, 6) || ':'
	                  || (m.metrics->>'distributed' IS NOT NULL), ',' ORDER BY p.name)
	  FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id WHERE p.name IN ('dls', 'lls')}) =~
	  /^(\d+:[0-9.]+):true,\1:false$/ ? 'same' : 'different', 'same',
	'streaming logistic regression on the distributed table: the same rows and roc_auc as on the local table');

my $agg = $coord->safe_psql('postgres', q{EXPLAIN (VERBOSE, COSTS OFF)
	SELECT galaxy.regression_moments(y, ARRAY[x1, x2, x3]) FROM d});
like($agg, qr/coord_combine_agg/, 'EXPLAIN: the moments are combined on the coordinator');
like($agg, qr/worker_partial_agg\('galaxy\.regression_moments/, 'EXPLAIN: partial moments on the workers');
# the training pass itself, with the sample of the training profile
my $pass = $coord->safe_psql('postgres', q{EXPLAIN (VERBOSE, COSTS OFF)
	SELECT galaxy_internal.split_moments(y, ARRAY[x1, x2, x3], 42, 0.2, 0) FROM d});
like($pass, qr/worker_partial_agg\('galaxy_internal\.split_moments/, 'EXPLAIN: the sampled training pass is partial on the workers');
note($pass);

# predict with the project's model value on the workers, against the same
# model by project on the coordinator's local table
my $pushed = q{
	WITH m AS MATERIALIZED (SELECT galaxy.serving_model('%s') AS model)
	SELECT %s FROM d, m};
my $local = q{SELECT %s FROM l};
is($coord->safe_psql('postgres', sprintf($pushed, 'dp',
			'round(avg(galaxy.predict(m.model, ARRAY[x1, x2, x3]))::numeric, 6)')),
	$coord->safe_psql('postgres', sprintf($local,
			"round(avg(galaxy.predict('dp', ARRAY[x1, x2, x3]))::numeric, 6)")),
	'predict on the workers: the same mean as on the local table');
is($coord->safe_psql('postgres', sprintf($pushed, 'dp',
			'round(max(abs(galaxy.predict(m.model, ARRAY[x1, x2, x3]) - y))::numeric, 6)')),
	'0.000000', 'predict on the workers: every row exact');
is($coord->safe_psql('postgres', sprintf($pushed, 'dp',
			'round(avg(galaxy.predict(m.model, d))::numeric, 6)')),
	$coord->safe_psql('postgres', sprintf($local,
			"round(avg(galaxy.predict('dp', l))::numeric, 6)")),
	'whole-row predict on the workers: the same mean as on the local table');
is($coord->safe_psql('postgres', sprintf($pushed, 'dc',
			"count(*) FILTER (WHERE galaxy.predict_label(m.model, ARRAY[x1, x2, x3]) = c)")),
	$coord->safe_psql('postgres', sprintf($local,
			"count(*) FILTER (WHERE galaxy.predict_label('dc', ARRAY[x1, x2, x3]) = c)")),
	'predict_label on the workers: as many right labels as on the local table');
is($coord->safe_psql('postgres', sprintf($pushed, 'dc',
			'round(sum((galaxy.predict_proba(m.model, ARRAY[x1, x2, x3]))[1])::numeric, 4)')),
	$coord->safe_psql('postgres', sprintf($local,
			"round(sum((galaxy.predict_proba('dc', ARRAY[x1, x2, x3]))[1])::numeric, 4)")),
	'predict_proba on the workers: the same probabilities as on the local table');

# the plan: one task per shard, predict inside the workers' queries
my $plan = $coord->safe_psql('postgres', 'EXPLAIN (VERBOSE, COSTS OFF) ' . sprintf($pushed, 'dp',
		'avg(galaxy.predict(m.model, ARRAY[x1, x2, x3]))'));
like($plan, qr/Task Count: 8/, 'EXPLAIN: one task per shard');
like($plan, qr/galaxy\.predict\(/, 'EXPLAIN: predict is in the workers\' query');
like($plan, qr/read_intermediate_result/, 'EXPLAIN: the model reaches the workers as an intermediate result');
note($plan);

# predict by project name is pushed down too, but the workers have no
# registry: a clear error, not a wrong answer
my ($ret, $out, $err) = $coord->psql('postgres',
	q{SELECT avg(galaxy.predict('dp', ARRAY[x1, x2, x3])) FROM d});
isnt($ret, 0, 'predict by project on a distributed table fails on the workers');
like($err, qr/project "dp" does not exist/, '... saying the project is unknown there');
like($err, qr/HINT:  Ship the model with the query: .*galaxy\.serving_model/, '... and how to ship the model');

# governance stays on the coordinator: no predict privilege, no model value
$coord->safe_psql('postgres', q{
	CREATE ROLE outsider LOGIN IN ROLE galaxy_reader;
	GRANT SELECT ON d TO outsider;
});
($ret, $out, $err) = $coord->psql('postgres',
	q{SET ROLE outsider; SELECT galaxy.serving_model('dp')});
isnt($ret, 0, 'serving_model needs the predict privilege on the project');
like($err, qr/permission denied to predict in galaxy project "dp"/, '... and says so');
$coord->safe_psql('postgres', q{SELECT galaxy.grant_project('dp', 'outsider', 'read')});
is($coord->safe_psql('postgres', q{SET ROLE outsider;
	WITH m AS MATERIALIZED (SELECT galaxy.serving_model('dp') AS model)
	SELECT count(galaxy.predict(m.model, ARRAY[x1, x2, x3])) FROM d, m}),
	'3000', 'with a grant on the project, the role predicts on the workers');

for my $node (reverse @nodes)
{
	$node->stop;
}
done_testing();
