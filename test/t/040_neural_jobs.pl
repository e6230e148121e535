# neural_network in background jobs and across a dump.
#
# (a) galaxy.cancel() of a neural job in the middle of its fit (phase fit,
#     epoch >= 1 in galaxy.training_progress): the job ends cancelled with
#     57014 and no model, and the worker exits (the time it takes is
#     reported, not asserted).
# (b) pg_cancel_backend() of a synchronous galaxy.train() of a network in
#     the middle of an epoch: "canceling statement due to user request", the
#     session stays usable and its progress slot is released.
# (c) a finished job's history in galaxy.job_progress: one row per epoch
#     trained (early stopping: fewer than asked), each with its loss,
#     validation loss, metric and learning rate, the same as the model's
#     training curve.
# (d) neural models (numeric and real[] features) survive pg_dump -Fc /
#     pg_restore byte for byte and predict the same; binary COPY round-trips
#     them, and a damaged one is refused by the binary input (XX001).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('neural_jobs');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
max_worker_processes = 16
galaxy.max_workers = 2
lc_messages = 'C'
});
$node->start;

# 200000 rows x 20 features in [-1, 1] from modular arithmetic, a non-linear
# label; a [256, 256] network takes a second or more per epoch on them.
my $features = join(",\n\t\t\t",
	map { my $p = (1009, 1013, 1019, 1021, 1031, 1033, 1039, 1049, 1051, 1061,
			1063, 1069, 1087, 1091, 1093, 1097, 1103, 1109, 1117, 1123)[ $_ - 1 ];
		sprintf('((i::bigint * %d) %% %d)::float8 / %.1f - 1 AS x%d', 7919 + 8 * $_, $p, $p / 2, $_) } 1 .. 20);
$node->safe_psql('postgres', qq{
	CREATE EXTENSION galaxy;
	CREATE TABLE public.big AS
	SELECT s.*, CASE WHEN sin(3 * x1) + x2 * x3 - x4 > 0 THEN 'pos' ELSE 'neg' END AS label
	  FROM (SELECT i AS id,
			$features
	          FROM generate_series(1, 200000) i) s;
	ALTER TABLE public.big ADD PRIMARY KEY (id);
	-- two concentric rings: easy, early stopping ends the fit quickly
	CREATE TABLE public.rings AS
	SELECT r * cos(t) AS x, r * sin(t) AS y, CASE WHEN r < 0.5 THEN 'inner' ELSE 'outer' END AS ring
	  FROM (SELECT CASE WHEN g % 2 = 0 THEN 0.2 + 0.25 * ((g * 7919) % 1009) / 1009.0
	                    ELSE 0.75 + 0.25 * ((g * 7919) % 1009) / 1009.0 END AS r,
	               2 * pi() * ((g * 104729) % 1013) / 1013.0 AS t
	          FROM generate_series(1, 800) g) s;
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM public.big'), '200000', 'the large table has 200000 rows');

my $big_hp = '{"hidden_layers": [256, 256], "epochs": 50, "batch_size": 256}';

# Poll until the SQL returns 't'; die after $limit seconds.  Returns the seconds waited.
sub wait_until
{
	my ($sql, $what, $limit) = @_;
	my $t0 = time();
	while (1)
	{
		return time() - $t0 if $node->safe_psql('postgres', $sql) eq 't';
		die "timed out after $limit s waiting for $what" if time() - $t0 > $limit;
		usleep(50_000);
	}
}

# ---------------------------------------------------------------------------
# (a) galaxy.cancel() of a running neural job in its fit
# ---------------------------------------------------------------------------
my $job = $node->safe_psql('postgres', qq{
	SELECT galaxy.submit('nn_cancel', 'public.big', 'label', algorithm => 'neural_network',
	                     hyperparams => '$big_hp')});
# loading and the first epoch take a few seconds: allow for a slow machine
my $waited = wait_until(qq{SELECT count(*) = 1 FROM galaxy.training_progress
	                        WHERE job_id = $job AND phase = 'fit' AND iteration >= 1 AND pid IS NOT NULL},
	'the job to finish its first epoch', 300);
note sprintf('the job reached epoch 1 after %.1f s', $waited);
my ($pid, $iteration, $total, $algorithm, $loss) = split /\|/, $node->safe_psql('postgres', qq{
	SELECT pid || '|' || iteration || '|' || total || '|' || algorithm || '|' || (loss > 0)
	  FROM galaxy.training_progress WHERE job_id = $job});
is("$total|$algorithm|$loss", '50|neural_network|true',
	'galaxy.training_progress shows the network: 50 epochs planned, a positive loss');
cmp_ok($iteration, '<', 50, "cancelled mid-fit, at epoch $iteration of 50");

my $t0 = time();
is($node->safe_psql('postgres', "SELECT state FROM galaxy.cancel($job)"), 'cancelled',
	'galaxy.cancel returns the job cancelled');
my $gone = wait_until(qq{SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid},
	'the worker to exit', 30);
note sprintf('the worker exited %.3f s after galaxy.cancel() was called (%.3f s for cancel itself)',
	time() - $t0, $gone);
pass('the worker exited');
is( $node->safe_psql('postgres', qq{
		SELECT state || '|' || error_sqlstate || '|' || (model_id IS NULL) FROM galaxy.jobs WHERE id = $job}),
	'cancelled|57014|true', 'the job is cancelled with 57014 and has no model');
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id WHERE p.name = 'nn_cancel'}),
	'0', 'no model was registered');
my ($nhist, $maxit) = split /\|/, $node->safe_psql('postgres', qq{
	SELECT count(*) || '|' || coalesce(max(iteration), 0) FROM galaxy.job_progress WHERE job_id = $job AND phase = 'fit'});
ok($nhist >= 1 && $maxit >= $iteration, "the cancelled job's epochs are in its history ($nhist rows up to epoch $maxit)");

# ---------------------------------------------------------------------------
# (b) pg_cancel_backend() of a synchronous galaxy.train() of a network
# ---------------------------------------------------------------------------
my $trainer = $node->background_psql('postgres', on_error_stop => 0);
my $trainer_pid = $trainer->query_safe('SELECT pg_backend_pid()');
$trainer->query_until(qr/started/, qq{
	\\echo started
	SELECT galaxy.train('nn_sync', 'public.big', 'label', algorithm => 'neural_network', hyperparams => '$big_hp');
});
$waited = wait_until(qq{SELECT count(*) = 1 FROM galaxy.training_progress
	                     WHERE pid = $trainer_pid AND state = 'training' AND phase = 'fit' AND iteration >= 1},
	'the synchronous training to reach its first epoch', 300);
note sprintf('the session reached epoch 1 after %.1f s', $waited);
$t0 = time();
$node->safe_psql('postgres', "SELECT pg_cancel_backend($trainer_pid)");
$waited = wait_until(qq{SELECT count(*) = 1 FROM pg_stat_activity WHERE pid = $trainer_pid AND state = 'idle'},
	'the training session to go idle', 30);
note sprintf('pg_cancel_backend stopped the training in %.3f s', $waited);
$trainer->query('SELECT 1');
like($trainer->{stderr}, qr/canceling statement due to user request/, 'the session got the cancel error');
# (query, not query_safe: the cancel error stays in the session's stderr buffer)
is($trainer->query('SELECT 41 + 1'), '42', 'the session is usable afterwards');
$trainer->quit;
is($node->safe_psql('postgres', "SELECT count(*) FROM galaxy_internal.progress_slots() WHERE pid = $trainer_pid"),
	'0', 'the cancelled session released its progress slot');
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id WHERE p.name = 'nn_sync'}),
	'0', 'the cancelled training registered no model');

# ---------------------------------------------------------------------------
# (c) a finished job's per-epoch history
# ---------------------------------------------------------------------------
$job = $node->safe_psql('postgres', q{
	SELECT galaxy.submit('nn_history', 'public.rings', 'ring', algorithm => 'neural_network',
	                     hyperparams => '{"hidden_layers": [16], "epochs": 500, "early_stopping_rounds": 3,
	                                      "learning_rate": 0.05, "batch_size": 32}', seed => 1)});
is($node->safe_psql('postgres', "SELECT state FROM galaxy.wait($job, '120s')"), 'succeeded', 'the history job succeeds');
my ($epochs, $best) = split /\|/, $node->safe_psql('postgres', qq{
	SELECT (m.metrics->>'epochs_trained') || '|' || (m.metrics->>'best_epoch')
	  FROM galaxy.jobs j JOIN galaxy.models m ON m.id = j.model_id WHERE j.id = $job});
cmp_ok($epochs, '<', 500, "early stopping ended the fit after $epochs epochs (best $best)");
is( $node->safe_psql('postgres', qq{
		SELECT count(*) || '|' || min(iteration) || '|' || max(iteration) || '|' || count(DISTINCT iteration)
		       || '|' || bool_and(total = 500) || '|' || bool_and(attempt = 1)
		  FROM galaxy.job_progress WHERE job_id = $job AND phase = 'fit'}),
	"$epochs|1|$epochs|$epochs|true|true",
	'one history row per epoch trained, epochs 1 to the last, of 500 planned');
is( $node->safe_psql('postgres', qq{
		SELECT count(*) FROM galaxy.job_progress WHERE job_id = $job AND phase <> 'fit'}),
	'0', 'no other rows');
is( $node->safe_psql('postgres', qq{
		SELECT bool_and(loss > 0 AND val_loss > 0 AND metric BETWEEN 0 AND 1 AND learning_rate = 0.05
		                AND rows_processed = 576)
		  FROM galaxy.job_progress WHERE job_id = $job}),
	't', 'each row has a loss, a validation loss, the validation accuracy, the learning rate and the 576 training rows');
# the history is the model's training curve (jsonb keeps 15 significant digits)
is( $node->safe_psql('postgres', qq{
		SELECT count(*) FILTER (WHERE abs(h.loss - c.loss::float8) <= 1e-12 * h.loss
		                          AND abs(h.val_loss - v.val_loss::float8) <= 1e-12 * h.val_loss)
		  FROM galaxy.jobs j
		  JOIN galaxy.models m ON m.id = j.model_id
		 CROSS JOIN LATERAL galaxy.describe(m.model) d
		 CROSS JOIN LATERAL jsonb_array_elements_text(d->'training_curve'->'loss') WITH ORDINALITY c(loss, i)
		  JOIN LATERAL jsonb_array_elements_text(d->'training_curve'->'val_loss') WITH ORDINALITY v(val_loss, i) ON v.i = c.i
		  JOIN galaxy.job_progress h ON h.job_id = j.id AND h.iteration = c.i
		 WHERE j.id = $job}),
	$epochs, 'every history row has the loss and validation loss of the training curve');
is( $node->safe_psql('postgres', qq{
		SELECT val_loss = (SELECT min(val_loss) FROM galaxy.job_progress WHERE job_id = $job)
		  FROM galaxy.job_progress WHERE job_id = $job AND iteration = $best}),
	't', 'the best epoch has the lowest validation loss of the history');
is($epochs - $best, 3, 'the fit stopped 3 epochs after the best one');

# ---------------------------------------------------------------------------
# (d) pg_dump / pg_restore, binary COPY
# ---------------------------------------------------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE nn_src');
$node->safe_psql('nn_src', q{
	CREATE EXTENSION galaxy;
	SET client_min_messages = warning;
	CREATE TABLE public.rings AS
	SELECT g AS id, r * cos(t) AS x, r * sin(t) AS y, CASE WHEN r < 0.5 THEN 'inner' ELSE 'outer' END AS ring
	  FROM (SELECT g, CASE WHEN g % 2 = 0 THEN 0.2 + 0.25 * ((g * 7919) % 1009) / 1009.0
	                       ELSE 0.75 + 0.25 * ((g * 7919) % 1009) / 1009.0 END AS r,
	               2 * pi() * ((g * 104729) % 1013) / 1013.0 AS t
	          FROM generate_series(1, 800) g) s;
	ALTER TABLE public.rings ADD PRIMARY KEY (id);
	CREATE TABLE public.waves AS
	SELECT g AS id, ARRAY[(g % 17) / 17.0, (g % 23) / 23.0, (g % 29) / 29.0, (g % 31) / 31.0]::real[] AS v,
	       sin(6 * (g % 17) / 17.0) + ((g % 23) / 23.0) * ((g % 29) / 29.0) AS y
	  FROM generate_series(1, 600) g;
	ALTER TABLE public.waves ADD PRIMARY KEY (id);
	SELECT galaxy.train('nn_rings', 'public.rings', 'ring', algorithm => 'neural_network',
	                    hyperparams => '{"hidden_layers": [16, 8], "batch_norm": true, "dropout": 0.1, "epochs": 20}');
	SELECT galaxy.train('nn_waves', 'public.waves', 'y', algorithm => 'mlp',
	                    hyperparams => '{"hidden_layers": [32], "activation": "tanh", "optimizer": "adamw", "epochs": 20}');
	-- a curve of 2000 epochs without validation losses: LZ4-compressed
	SELECT galaxy.train('nn_long', 'public.waves', 'y', algorithm => 'neural_network',
	                    hyperparams => '{"hidden_layers": [8], "epochs": 2000, "validation_fraction": 0}');
});
is( $node->safe_psql('nn_src', q{
		SELECT string_agg(p.name || ':' || m.algorithm || ':' || (galaxy.describe(m.model)->>'compression'), ',' ORDER BY p.name)
		  FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id}),
	'nn_long:neural_network:lz4,nn_rings:neural_network:none,nn_waves:neural_network:none',
	'three neural models, one of them LZ4-compressed');

my %queries = (
	bytes => q{SELECT string_agg(m.id || ':' || md5(galaxy.model_send(m.model)), ',' ORDER BY m.id) FROM galaxy.models m},
	describe => q{SELECT md5(string_agg(galaxy.describe(m.model)::text, ',' ORDER BY m.id)) FROM galaxy.models m},
	rings => q{SELECT md5(string_agg(galaxy.predict_label('nn_rings', r) || ':' || array_to_string(galaxy.predict_proba('nn_rings', r), ';'),
	                                 ',' ORDER BY r.id)) FROM public.rings r},
	waves => q{SELECT md5(string_agg(galaxy.predict('nn_waves', w)::text || ':' || galaxy.predict('nn_long', w)::text
	                                 || ':' || galaxy.predict('nn_waves', w.v::float8[])::text, ',' ORDER BY w.id))
	             FROM public.waves w},
	by_id => q{SELECT md5(string_agg(galaxy.predict(m.id, ARRAY[0.3, -0.2])::text, ',' ORDER BY m.id))
	             FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id WHERE p.name = 'nn_rings'},
);
my %before;
$before{$_} = $node->safe_psql('nn_src', $queries{$_}) for sort keys %queries;
like($before{bytes}, qr/^\d+:[0-9a-f]{32},\d+:[0-9a-f]{32},\d+:[0-9a-f]{32}$/, 'fingerprints of the three models');

my $dump = $node->basedir . '/nn_src.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('nn_src') ], 'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE nn_dst');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('nn_dst'), $dump ],
	'pg_restore into a new database');
for my $what (sort keys %queries)
{
	is($node->safe_psql('nn_dst', $queries{$what}), $before{$what}, "after restore: $what identical");
}

# binary COPY carries the exact bytes through model_send / model_recv
my $bin = $node->basedir . '/nn_models.bin';
$node->safe_psql('nn_src', qq{
	COPY (SELECT id, model FROM galaxy.models ORDER BY id) TO '$bin' WITH (FORMAT binary);
	CREATE TABLE public.copied (id bigint, model galaxy.model);
	COPY public.copied FROM '$bin' WITH (FORMAT binary);
});
is( $node->safe_psql('nn_src', q{
		SELECT count(*) FROM galaxy.models m JOIN public.copied c USING (id)
		 WHERE galaxy.model_send(c.model) = galaxy.model_send(m.model)}),
	'3', 'binary COPY round-trips every neural model byte for byte');

# one byte of a network's weights damaged in the binary file: model_recv refuses it
my $data = slurp_file($bin);
my $at = index($data, 'NNET');
ok($at > 0, 'found the network section in the binary file');
substr($data, $at + 60, 1) = chr(ord(substr($data, $at + 60, 1)) ^ 0xFF);
my $damaged = $node->basedir . '/nn_damaged.bin';
open(my $fh, '>:raw', $damaged) or die "cannot write $damaged: $!";
print $fh $data;
close($fh);
my ($ret, $out, $err) = $node->psql('nn_src', qq{\\set VERBOSITY verbose
COPY public.copied FROM '$damaged' WITH (FORMAT binary);});
isnt($ret, 0, 'binary COPY of a damaged neural model fails');
like($err, qr/XX001: corrupted galaxy\.model/, 'with XX001: the model value is corrupted');
is($node->safe_psql('nn_src', 'SELECT count(*) FROM public.copied'), '3', 'and adds no row');

$node->stop;
unlike(slurp_file($node->logfile), qr/terminated by signal|PANIC|TRAP:/, 'no process crashed');

done_testing();
