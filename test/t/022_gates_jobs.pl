# Deployment gates on the paths pgTAP cannot take: submit()'s deploy policy
# in a background worker (the job's model is registered, measured in the
# worker's backend, and deployed only when it passes the gates), and the
# NOTICE that train()'s deploy policy gives, naming the gate, the measured
# value and the threshold.  Real data: breast_cancer.csv, on which
# logistic_regression scores 0.9646 (seed 42) and 0.9823 (seed 1).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('gates_jobs');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
max_worker_processes = 16
lc_messages = 'C'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION galaxy');

my $csv = "$ENV{GALAXY_SRC}/test/data/breast_cancer.csv";
my ($header) = split /\n/, slurp_file($csv);
$header =~ s/\s+$//;
my @cols = split /,/, $header;
my $ddl = join(', ', map { $_ eq 'diagnosis' ? "$_ text" : "$_ float8" } @cols);
$node->safe_psql('postgres', qq{
	CREATE TABLE public.cancer ($ddl);
	COPY public.cancer FROM '$csv' WITH (FORMAT csv, HEADER true);
	CREATE ROLE alice LOGIN IN ROLE galaxy_trainer;
	GRANT SELECT ON public.cancer TO alice;
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM cancer'), '569', 'breast_cancer.csv is loaded');

# alice's project and its gate
my $first = $node->safe_psql('postgres', q{
	SET ROLE alice;
	SELECT id FROM galaxy.train('jobs_p', 'public.cancer', 'diagnosis', 'logistic_regression',
	                            seed => 42, deploy => 'never');
	SELECT galaxy.set_gate('jobs_p', 'accuracy', '>=', 0.975);
});
($first) = split /\n/, $first;

# train(): the NOTICE names the gate, the measured value and the threshold
my ($stdout, $stderr) = ('', '');
$node->psql('postgres', q{
	SET ROLE alice;
	SELECT id FROM galaxy.train('jobs_p', 'public.cancer', 'diagnosis', 'logistic_regression',
	                            seed => 42, deploy => 'always');
}, stdout => \$stdout, stderr => \$stderr, on_error_die => 1);
like($stderr,
	qr/accuracy = 0\.9646 on 113 held-out rows, fit [0-9.]+ s, not deployed: it fails the deployment gate accuracy >= 0\.975 \(measured 0\.964602, misses by 0\.0103982\)/,
	'train(): a NOTICE names the gate, the measured value and the threshold');
is($node->safe_psql('postgres', "SELECT status FROM galaxy.models WHERE id = $stdout"), 'ready',
	'train(): the model is registered, not deployed');

# submit(): a job that trains a 0.96 model
sub run_job
{
	my ($seed, $label) = @_;
	my $job = $node->safe_psql('postgres', qq{
		SET ROLE alice;
		SELECT galaxy.submit('jobs_p', 'public.cancer', 'diagnosis', 'logistic_regression',
		                     seed => $seed, deploy => 'always');
	});
	is($node->safe_psql('postgres', "SET ROLE alice; SELECT state FROM galaxy.wait($job, '120s')"),
		'succeeded', "submit(): the $label job succeeds");
	return $node->safe_psql('postgres', "SELECT model_id FROM galaxy.jobs WHERE id = $job");
}

my $m96 = run_job(42, '0.96');
is($node->safe_psql('postgres', "SELECT status FROM galaxy.models WHERE id = $m96"), 'ready',
	'submit(): the 0.96 model is registered but not deployed');
is($node->safe_psql('postgres',
		"SELECT status || ' ' || round(value::numeric, 4) || ' ' || round(margin::numeric, 4) FROM galaxy.gate_results WHERE model = $m96"),
	'failed 0.9646 -0.0104', 'submit(): its gate result is recorded as data');
is($node->safe_psql('postgres', "SELECT coalesce(galaxy.deployed_model('jobs_p'), 0)"), '0',
	'submit(): nothing serves');
ok($node->safe_psql('postgres',
		"SELECT (metrics->>'predict_p50_ms')::float8 > 0 AND (metrics->>'predict_latency_rows')::int = 200 FROM galaxy.models WHERE id = $m96") eq 't',
	'submit(): the worker measured the latency in its own backend');

my $m98 = run_job(1, '0.98');
is($node->safe_psql('postgres', "SELECT galaxy.deployed_model('jobs_p')"), $m98,
	'submit(): the 0.98 model passes the gate and is deployed by the job');

# a latency gate no model can pass: the job's model stays registered
$node->safe_psql('postgres', q{
	SET ROLE alice;
	SELECT galaxy.set_gate('jobs_p', 'predict_p99_ms', '<=', 0.001);
});
my $m99 = run_job(5, '0.99 (too slow for 0.001 ms)');
is($node->safe_psql('postgres', "SELECT galaxy.deployed_model('jobs_p')"), $m98,
	'submit(): a model failing the 0.001 ms latency gate is not deployed');
is($node->safe_psql('postgres',
		"SELECT string_agg(metric || ':' || status, ',' ORDER BY metric) FROM galaxy.gate_results WHERE model = $m99"),
	'accuracy:passed,predict_p99_ms:failed', 'submit(): it passed accuracy and failed latency');

$node->stop;
unlike(slurp_file($node->logfile), qr/terminated by signal|PANIC|TRAP:/, 'no backend crashed');

done_testing();
