# A deployment committed in one session is used by every other session's next
# statement, without reconnecting; a deployment that is rolled back changes
# nothing; the per-backend model cache survives unrelated statements.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('cache');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
lc_messages = 'C'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION galaxy');

# Two data sets with opposite slopes, so the two models disagree on x = 10.
$node->safe_psql('postgres', q{
	CREATE TABLE up AS SELECT g::float8 AS x, 2.0 * g AS y FROM generate_series(1, 50) g;
	CREATE TABLE down AS SELECT g::float8 AS x, -3.0 * g AS y FROM generate_series(1, 50) g;
});
my $m_up = $node->safe_psql('postgres',
	"SELECT id FROM galaxy.train('slope', 'up', 'y', algorithm => 'linear_regression', deploy => 'always')");
my $m_down = $node->safe_psql('postgres',
	"SELECT id FROM galaxy.train('slope', 'down', 'y', algorithm => 'linear_regression', deploy => 'never')");

my $reader = $node->background_psql('postgres');
my $q = "SELECT round(galaxy.predict('slope', ARRAY[10.0]))";

is($reader->query_safe($q), '20', 'reader predicts with the first deployment');
is($reader->query_safe($q), '20', 'a second call is served from the cache');

# A deploy that rolls back changes nothing.
$node->safe_psql('postgres', qq{
	BEGIN;
	SELECT galaxy.deploy('slope', $m_down);
	ROLLBACK;
});
is($reader->query_safe($q), '20', 'a rolled-back deployment is not seen');

# A committed deploy in another session is seen by the reader's next statement.
$node->safe_psql('postgres', "SELECT galaxy.deploy('slope', $m_down)");
is($reader->query_safe($q), '-30', 'the reader sees the new deployment without reconnecting');

# And back again: the cache keeps both models; routing follows the catalog.
$node->safe_psql('postgres', "SELECT galaxy.deploy('slope', $m_up)");
is($reader->query_safe($q), '20', 'switching back is seen as well');

# Inside the reader's own transaction, a statement sees the deployment that was
# current when that statement started (predict by project is STABLE).
$reader->query_safe('BEGIN');
is($reader->query_safe($q), '20', 'in a transaction: current deployment');
$node->safe_psql('postgres', "SELECT galaxy.deploy('slope', $m_down)");
is($reader->query_safe($q), '-30', 'in a transaction: next statement sees the new deployment');
$reader->query_safe('COMMIT');

# Predict by model id is unaffected by deployments.
is($reader->query_safe("SELECT round(galaxy.predict($m_up, ARRAY[10.0]))"), '20', 'predict by model id ignores deployments');

$reader->quit;
$node->stop;
done_testing();
