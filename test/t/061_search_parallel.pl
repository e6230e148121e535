# Hyperparameter search in a background job: the trials of a grid search run
# in several trial workers at once (the job's worker and up to
# galaxy.max_workers - 1 others), every trial is recorded and the model is
# the one a search in a session picks; cancel() stops every worker of the
# search (its time is noted, not asserted); a trial worker that is
# terminated fails only the trial it was scoring; an architecture search's
# parameter counts and skipped trials come through the board.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('search_parallel');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
max_worker_processes = 16
galaxy.max_workers = 3
galaxy.threads = 1
lc_messages = 'C'
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION galaxy;
	CREATE TABLE public.pts AS
	SELECT i AS id, (i % 17)::float8 AS x1, ((i * 7) % 23)::float8 AS x2, ((i * 13) % 29)::float8 AS x3,
	       CASE WHEN (i % 17) + ((i * 7) % 23) * 0.5 > 14 THEN 'hi' ELSE 'lo' END AS label
	  FROM generate_series(1, 4000) i;
	CREATE ROLE carol LOGIN;
	GRANT galaxy_trainer TO carol;
	GRANT SELECT ON public.pts TO carol;
});

my $space = q{'{"max_depth": [2, 3, 4], "learning_rate": [0.1, 0.3]}'};
my $args = qq{'par', 'pts', 'label', algorithm => 'gradient_boosting', features => ARRAY['x1', 'x2', 'x3'],
	folds => 3, search => 'grid', search_space => $space};

# the number of trial workers running now
sub trial_workers
{
	return $node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'galaxy trial worker'});
}

# 1. a grid of 6 trials in 3 workers at once, recorded like a session's search
my $job = $node->safe_psql('postgres', qq{SET ROLE carol;
	SELECT galaxy.submit($args, hyperparams => '{"n_estimators": 300}')});
my $most = 0;
my $deadline = time + 180;
while (time < $deadline)
{
	my $n = trial_workers();
	$most = $n if $n > $most;
	last if $node->safe_psql('postgres', qq{SELECT state FROM galaxy.jobs WHERE id = $job}) !~ /queued|running/;
	usleep(20_000);
}
is($node->safe_psql('postgres', qq{SELECT state FROM galaxy.wait($job, '120 s')}), 'succeeded', 'the parallel search succeeded');
# sampling pg_stat_activity may miss a short search on a busy machine: the job's worker logs who scored
my ($by_workers) = slurp_file($node->logfile) =~ /galaxy search: 6 trials, (\d+) of them scored by trial workers/;
cmp_ok($by_workers // 0, '>=', 1, "trial workers scored trials beside the job's worker (at most $most seen at once)");
cmp_ok($most, '<=', 2, 'no more than galaxy.max_workers - 1 trial workers');
is($node->safe_psql('postgres', qq{SELECT string_agg(t.state, ',' ORDER BY t.trial) FROM galaxy.trials t
	JOIN galaxy.searches s ON s.id = t.search_id WHERE s.job_id = $job}),
	'succeeded,succeeded,succeeded,succeeded,succeeded,succeeded', 'every trial is recorded, in order');
is($node->safe_psql('postgres', qq{SELECT m.search_id = s.id AND s.model_id = m.id FROM galaxy.jobs j
	JOIN galaxy.models m ON m.id = j.model_id JOIN galaxy.searches s ON s.job_id = j.id WHERE j.id = $job}),
	't', 'the job registered the model of its search');

# the same search in a session scores the same trials and picks the same model
my $session = $node->safe_psql('postgres', qq{SET ROLE carol; SET client_min_messages = warning;
	SELECT search_id FROM galaxy.train($args, hyperparams => '{"n_estimators": 300}', deploy => 'never')});
is($node->safe_psql('postgres', qq{SELECT count(*) FROM galaxy.trials a JOIN galaxy.searches sa ON sa.id = a.search_id
	JOIN galaxy.trials b ON b.search_id = $session AND b.trial = a.trial AND b.hyperparams = a.hyperparams
	                    AND round(b.score::numeric, 10) = round(a.score::numeric, 10)
	WHERE sa.job_id = $job}), '6', 'parallel trials score exactly as the session\'s');
is($node->safe_psql('postgres', qq{SELECT (SELECT best_hyperparams FROM galaxy.searches WHERE job_id = $job)
	= (SELECT best_hyperparams FROM galaxy.searches WHERE id = $session)}), 't', 'and the same configuration wins');

# 2. cancel stops every worker of the search within a second
$job = $node->safe_psql('postgres', qq{SET ROLE carol;
	SELECT galaxy.submit($args, hyperparams => '{"n_estimators": 5000}')});
$node->poll_query_until('postgres',
	q{SELECT count(*) >= 1 FROM pg_stat_activity WHERE backend_type = 'galaxy trial worker'})
  or die 'no trial worker started';
my $t0 = time;
$node->safe_psql('postgres', qq{SELECT galaxy.cancel($job)});
$node->poll_query_until('postgres', q{SELECT count(*) = 0 FROM pg_stat_activity
	WHERE backend_type IN ('galaxy trial worker', 'galaxy training worker')})
  or die 'workers still running after cancel';
my $stopped = time - $t0;
# A quiet machine stops them well within a second (the number is in the
# check's name); the bound only has to fail when cancel does not interrupt a
# fit of 5000 rounds, so a loaded machine does not fail it.
cmp_ok($stopped, '<', 10.0, sprintf('cancel stopped the job and its trial workers in %.2f s', $stopped));
is($node->safe_psql('postgres', qq{SELECT state FROM galaxy.jobs WHERE id = $job}), 'cancelled', 'the job is cancelled');
is($node->safe_psql('postgres', qq{SELECT count(*) FROM galaxy.searches WHERE job_id = $job}), '0',
	'a cancelled search leaves no rows');

# 3. a terminated trial worker fails only the trial it was scoring
$job = $node->safe_psql('postgres', qq{SET ROLE carol;
	SELECT galaxy.submit($args, hyperparams => '{"n_estimators": 1500}')});
# a trial worker in phase 'trial' holds a claimed trial (it claims the next as soon as one ends)
$node->poll_query_until('postgres',
	q{SELECT count(*) >= 1 FROM galaxy.training_progress p JOIN pg_stat_activity a ON a.pid = p.pid
	   WHERE a.backend_type = 'galaxy trial worker' AND p.phase = 'trial'})
  or die 'no trial worker is scoring';
is($node->safe_psql('postgres', q{SELECT count(pg_terminate_backend(pid)) FROM (SELECT p.pid FROM galaxy.training_progress p
	JOIN pg_stat_activity a ON a.pid = p.pid WHERE a.backend_type = 'galaxy trial worker' AND p.phase = 'trial'
	ORDER BY p.pid LIMIT 1) one}), '1', 'one trial worker terminated in the middle of a trial');
is($node->safe_psql('postgres', qq{SELECT state FROM galaxy.wait($job, '300 s')}), 'succeeded',
	'the search goes on without the terminated worker');
my ($ok, $failed, $msg) = split /\|/, $node->safe_psql('postgres', qq{SELECT count(*) FILTER (WHERE t.state = 'succeeded'),
	count(*) FILTER (WHERE t.state = 'failed'), coalesce(max(t.error_message), '') FROM galaxy.trials t
	JOIN galaxy.searches s ON s.id = t.search_id WHERE s.job_id = $job});
is($ok + $failed, 6, 'every trial is recorded');
is($failed, 1, 'the terminated worker\'s trial failed, and only it');
like($msg, qr/^trial worker \d+ ended before the trial finished/, 'and says why');

# 4. a parallel architecture search: the board carries each trial's parameter count and skips
my $nas = qq{'par_nas', 'pts', 'label', algorithm => 'neural_network', features => ARRAY['x1', 'x2', 'x3'],
	hyperparams => '{"epochs": 2}', search => 'grid', search_space => '{"n_layers": [1, 2], "units": [4, 32]}',
	max_parameters => 200};
$job = $node->safe_psql('postgres', qq{SET ROLE carol; SELECT galaxy.submit($nas)});
is($node->safe_psql('postgres', qq{SELECT state FROM galaxy.wait($job, '300 s')}), 'succeeded', 'a parallel architecture search succeeded');
$session = $node->safe_psql('postgres', qq{SET ROLE carol; SET client_min_messages = warning;
	SELECT search_id FROM galaxy.train($nas, deploy => 'never')});
is($node->safe_psql('postgres', qq{SELECT string_agg(t.state || ':' || t.parameters, ',' ORDER BY t.trial) FROM galaxy.trials t
	JOIN galaxy.searches s ON s.id = t.search_id WHERE s.job_id = $job}),
	$node->safe_psql('postgres', qq{SELECT string_agg(t.state || ':' || t.parameters, ',' ORDER BY t.trial) FROM galaxy.trials t
	WHERE t.search_id = $session}), 'its trials\' states and parameter counts are the session\'s');
is($node->safe_psql('postgres', qq{SELECT trials_skipped FROM galaxy.searches WHERE job_id = $job}), '3',
	'the architectures over max_parameters are skipped');

$node->stop;
ok(slurp_file($node->logfile) !~ /terminated by signal/, 'no process crashed');
done_testing();
