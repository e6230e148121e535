# pg_dump / pg_restore keep galaxy's catalog and its models byte for byte.
#
# Trains a few models (one large enough to be LZ4-compressed), dumps the
# database in custom and plain formats, restores each into a fresh database,
# and compares: every catalog table row for row, every model value byte for
# byte (md5 of galaxy.model_send), every prediction; then checks that the
# restored registry keeps working (sequences continue, a retrain bumps the
# version).  Binary COPY of model values (send/recv) is checked too.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
max_worker_processes = 16
lc_messages = 'C'
});
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', 'CREATE EXTENSION galaxy');

if ($node->safe_psql('src',
		"SELECT count(*) FROM pg_proc WHERE proname = 'train' AND pronamespace = 'galaxy'::regnamespace") eq '0')
{
	$node->stop;
	plan skip_all => 'galaxy.train does not exist yet';
}

# Training data: numeric features, a categorical one with many levels (so the
# one-hot preprocessor makes the model big enough for LZ4), a text label.
$node->safe_psql('src', q{
	CREATE TABLE houses AS
	SELECT i AS id,
	       (i % 13)::float8 AS rooms,
	       ((i * 7) % 101)::float8 / 10 AS age,
	       'street_' || (i % 400) AS street,
	       (50 + 10 * (i % 13) - 2 * ((i * 7) % 101)::float8 / 10 + (i % 400) / 100.0)::float8 AS price,
	       CASE WHEN i % 13 > 6 THEN 'large' ELSE 'small' END AS size
	  FROM generate_series(1, 1200) i;
});

my @algorithms = ('linear_regression');
if ($node->safe_psql('src', "SELECT to_regclass('galaxy.algorithms') IS NOT NULL") eq 't')
{
	@algorithms = split /\n/, $node->safe_psql('src', 'SELECT name FROM galaxy.algorithms ORDER BY name');
}
my %have = map { $_ => 1 } @algorithms;

# regression models: small (two features) and large (one-hot street)
$node->safe_psql('src', q{
	SELECT galaxy.train('price_small', relation => 'houses', target => 'price',
	                    algorithm => 'linear_regression',
	                    features => ARRAY['rooms', 'age']);
	SELECT galaxy.train('price_small', relation => 'houses', target => 'price',
	                    algorithm => 'linear_regression', hyperparams => '{"alpha": 0.5}',
	                    features => ARRAY['rooms', 'age']);
	SELECT galaxy.train('price_street', relation => 'houses', target => 'price',
	                    algorithm => 'linear_regression',
	                    features => ARRAY['rooms', 'age', 'street'],
	                    preprocess => '{"max_categories": 1000}');
});
# sparse linear regression models, when those algorithms exist
for my $algo ('lasso', 'elastic_net')
{
	next unless $have{$algo};
	$node->safe_psql('src', qq{
		SELECT galaxy.train('price_$algo', relation => 'houses', target => 'price',
		                    algorithm => '$algo', hyperparams => '{"alpha": 0.1}',
		                    features => ARRAY['rooms', 'age']);
	});
}
# classification models, when those algorithms exist
for my $algo ('logistic_regression', 'decision_tree', 'gradient_boosting', 'linear_svm', 'naive_bayes')
{
	next unless $have{$algo};
	$node->safe_psql('src', qq{
		SELECT galaxy.train('size_$algo', relation => 'houses', target => 'size',
		                    algorithm => '$algo', features => ARRAY['rooms', 'age']);
	});
}

# compressed copies (galaxy.compress, issue #17): int8 and pruned logistic
# regression (model format 2: int8 weights with their scales, a bitmap of the
# kept weights), a gradient boosting model pruned to its leading rounds and its
# distilled student (both format 1); a row of galaxy.compressions each
if ($have{logistic_regression} && $have{gradient_boosting})
{
	$node->safe_psql('src', q{
		SET client_min_messages = warning;
		CREATE TEMP TABLE parents AS
		SELECT p.name, max(m.id) AS id FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id
		 WHERE p.name IN ('size_logistic_regression', 'size_gradient_boosting') GROUP BY p.name;
		SELECT galaxy.compress(id, 'int8', '{"max_metric_drop": 1}')
		  FROM parents WHERE name = 'size_logistic_regression';
		SELECT galaxy.compress(id, 'prune', '{"sparsity": 0.5, "max_metric_drop": 1}')
		  FROM parents WHERE name = 'size_logistic_regression';
		SELECT galaxy.compress(id, 'prune', '{"sparsity": 0.5, "max_metric_drop": 1}')
		  FROM parents WHERE name = 'size_gradient_boosting';
		SELECT galaxy.compress(id, 'distill', '{"max_metric_drop": 1}')
		  FROM parents WHERE name = 'size_gradient_boosting';
	});
	is( $node->safe_psql('src', q{
			SELECT string_agg(c.method || ':' || (galaxy.describe(c.model_id)->>'format_version'), ','
			                  ORDER BY c.model_id)
			  FROM galaxy.compressions c JOIN galaxy.models m ON m.id = c.model_id
			 WHERE cardinality(m.features) = 2
		}),
		'int8:2,prune:2,prune:1,distill:1',
		'int8, pruned and distilled copies of the two-feature models');
}

# a k-means model (clustering, no target): its centres and predicted clusters
if ($have{kmeans})
{
	$node->safe_psql('src', q{
		SELECT galaxy.train('rooms_kmeans', relation => 'houses', target => NULL, algorithm => 'kmeans',
		                    task => 'clustering', hyperparams => '{"n_clusters": 4}',
		                    features => ARRAY['rooms', 'age']);
	});
}

# a model with text features: its vocabulary and text search configuration
# must survive, and it must predict the same on raw text after the restore
if ($have{logistic_regression})
{
	$node->safe_psql('src', q{
		CREATE TABLE notes AS
		SELECT i AS id,
		       CASE i % 2 WHEN 0 THEN 'please refund my invoice ' ELSE 'the app crashes on start ' END || i AS body,
		       CASE i % 2 WHEN 0 THEN 'billing' ELSE 'bug' END AS kind
		  FROM generate_series(1, 200) i;
		SELECT galaxy.train('notes_text', relation => 'notes', target => 'kind',
		                    algorithm => 'logistic_regression', features => ARRAY['body'],
		                    preprocess => '{"columns": {"body": {"text": "tfidf"}}}');
	});
	# its int8 copy (galaxy.compress: model format 2, a row of
	# galaxy.compressions) predicts on raw text through the sparse int8 path
	is( $node->safe_psql('src', q{
			SELECT version, parent_id IS NOT NULL, galaxy.describe(model)->>'format_version'
			  FROM galaxy.compress((SELECT max(m.id) FROM galaxy.models m JOIN galaxy.projects p
			                         ON p.id = m.project_id WHERE p.name = 'notes_text'), 'int8')
		}),
		'1.0.1|t|2',
		'an int8 copy of the text model is its next patch version, in format 2');
}
# and a sequence model on the same texts (task nlp: token ids, the vocabulary in the model)
if ($have{lstm} && $have{logistic_regression})
{
	$node->safe_psql('src', q{
		SELECT galaxy.train('notes_lstm', relation => 'notes', target => 'kind', task => 'nlp',
		                    algorithm => 'lstm', features => ARRAY['body'],
		                    preprocess => '{"columns": {"body": {"max_length": 8}}}',
		                    hyperparams => '{"lstm_units": [8], "embedding_dim": 8, "epochs": 3}');
	});
}

# a forest whose payload spans several 1 MB LZ4 blocks (each may refer back
# into the one before it): its bytes and predictions must survive the dump too
if ($have{random_forest})
{
	$node->safe_psql('src', q{
		SELECT galaxy.train('price_forest', relation => 'houses', target => 'price',
		                    algorithm => 'random_forest', hyperparams => '{"n_estimators": 100}',
		                    features => ARRAY['rooms', 'age']);
	});
	is( $node->safe_psql('src', q{
			SELECT (d->>'payload_bytes')::bigint > 2 * 1048576, d->>'compression',
			       (d->>'stored_bytes')::bigint < (d->>'payload_bytes')::bigint
			  FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id,
			       galaxy.describe(m.model) d
			 WHERE p.name = 'price_forest'
		}),
		't|lz4|t',
		'the forest is larger than two LZ4 blocks and stored compressed');
}

# a model trained by a background job: jobs and models reference each other
my $job = $node->safe_psql('src', q{
	SELECT galaxy.submit('price_job', relation => 'houses', target => 'price',
	                     algorithm => 'linear_regression', features => ARRAY['rooms', 'age'])});
is($node->safe_psql('src', "SELECT state FROM galaxy.wait($job, '60s')"), 'succeeded',
	'a job-trained model is part of the dump');

my $n_models = $node->safe_psql('src', 'SELECT count(*) FROM galaxy.models');
cmp_ok($n_models, '>=', 3, "trained $n_models models");
is( $node->safe_psql('src', q{
		SELECT galaxy.describe(m.model)->>'compression'
		  FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id
		 WHERE p.name = 'price_street'
	}),
	'lz4',
	'the model with the one-hot street feature is LZ4-compressed');

# Deployment gates: a project's own gate (no model can pass r2 > 1), a
# default for every project, and a latency measured on demand for a model
# registered without one (a copy of a model, its latency stripped, in a
# project of its own).
$node->safe_psql('src', q{
	SET client_min_messages = warning;
	SELECT galaxy.set_gate('price_small', 'r2', '>', 1);
	SELECT galaxy.set_gate('*', 'predict_p99_ms', '<=', 100);
	INSERT INTO galaxy.projects (name, task, owner) VALUES ('price_old', 'regression', current_user);
	INSERT INTO galaxy.models (project_id, version, version_major, version_minor, version_patch, status,
	                           algorithm, task, model, hyperparams, metrics, features, feature_types,
	                           target, relation, schema_fingerprint, size_bytes)
	SELECT (SELECT id FROM galaxy.projects WHERE name = 'price_old'), '1.0.0', 1, 0, 0, 'ready',
	       m.algorithm, m.task, m.model, m.hyperparams,
	       m.metrics - 'predict_p50_ms' - 'predict_p99_ms' - 'predict_latency_rows',
	       m.features, m.feature_types, m.target, m.relation, m.schema_fingerprint, m.size_bytes
	  FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id
	 WHERE p.name = 'price_small' ORDER BY m.id LIMIT 1;
	SELECT count(*) FROM galaxy.check_gates((SELECT max(id) FROM galaxy.models));
});
is($node->safe_psql('src', 'SELECT count(*) FROM galaxy.deployment_gates'), '2', 'two gates set');
is($node->safe_psql('src', "SELECT source FROM galaxy.model_latency"), 'relation',
	'one latency measured on demand, on the training relation');
$n_models = $node->safe_psql('src', 'SELECT count(*) FROM galaxy.models');

# What must survive: catalog tables row for row, model bytes, predictions.
my %queries = (
	model_bytes => q{
		SELECT string_agg(id || ':' || md5(galaxy.model_send(model)), ',' ORDER BY id)
		  FROM galaxy.models},
	model_text => q{
		SELECT md5(string_agg(model::text, ',' ORDER BY id)) FROM galaxy.models},
	models => q{
		SELECT md5(string_agg(m::text, '|' ORDER BY id)) FROM galaxy.models m},
	projects => q{
		SELECT md5(string_agg(p::text, '|' ORDER BY id)) FROM galaxy.projects p},
	deployments => q{
		SELECT md5(coalesce(string_agg(d::text, '|' ORDER BY id), '')) FROM galaxy.deployments d},
	audit_log => q{
		SELECT md5(coalesce(string_agg(a::text, '|' ORDER BY id), '')) FROM galaxy.audit_log a},
	gates => q{
		SELECT md5(coalesce(string_agg(g::text, '|' ORDER BY id), '')) FROM galaxy.deployment_gates g},
	gate_results => q{
		SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY model, metric), '')) FROM galaxy.gate_results r},
	compressions => q{
		SELECT md5(coalesce(string_agg(c::text, '|' ORDER BY model_id), '')) FROM galaxy.compressions c},
	model_latency => q{
		SELECT md5(coalesce(string_agg(l::text, '|' ORDER BY model_id), '')) FROM galaxy.model_latency l},
	jobs => q{
		SELECT md5(coalesce(string_agg(id || ':' || state || ':' || coalesce(model_id::text, '-'), '|' ORDER BY id), ''))
		  FROM galaxy.jobs},
	predictions => q{
		SELECT string_agg(m.id || ':' || round(galaxy.predict(m.id, ARRAY[h.rooms, h.age])::numeric, 9),
		                  ',' ORDER BY m.id, h.id)
		  FROM galaxy.models m, houses h
		 WHERE h.id <= 5 AND cardinality(m.features) = 2},
	text_predictions => q{
		SELECT coalesce(string_agg(m.id || ':' || galaxy.predict_label(m.id, t) || ':'
		                           || round((galaxy.predict_proba(m.id, t))[1]::numeric, 9), ',' ORDER BY m.id, t), '')
		  FROM galaxy.models m, unnest(ARRAY['refund please', 'it crashes again', '']) t
		 WHERE m.features = ARRAY['body']},
);

my %before;
$before{$_} = $node->safe_psql('src', $queries{$_}) for sort keys %queries;
like($before{model_bytes}, qr/^\d+:[0-9a-f]{32}(,\d+:[0-9a-f]{32})+$/,
	'model fingerprints computed');
SKIP:
{
	skip 'logistic_regression does not exist', 1 unless $have{logistic_regression};
	like($before{text_predictions}, qr/^\d+:(billing|bug):[01]\.\d+(,\d+:(billing|bug):[01]\.\d+){5}(,\d+:(billing|bug):[01]\.\d+){0,3}$/,
		'the text models and the int8 copy predict on raw text');
}

# Custom format through pg_restore, and plain SQL through psql.
my $dump_c = $node->basedir . '/src.dump';
my $dump_p = $node->basedir . '/src.sql';
# ... without a word on stderr: galaxy's catalog has no foreign-key cycle
# (models.parent_id, a self-reference, once made every dump warn "there are
# circular foreign-key constraints on this table: models").
$node->command_checks_all([ 'pg_dump', '-Fc', '-f', $dump_c, '-d', $node->connstr('src') ],
	0, [qr/^$/], [qr/^$/], 'pg_dump -Fc of a database with galaxy models, without warnings');
$node->command_ok([ 'pg_dump', '-Fp', '-f', $dump_p, '-d', $node->connstr('src') ],
	'pg_dump (plain) of a database with galaxy models');

$node->safe_psql('postgres', 'CREATE DATABASE dst_custom');
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '-d', $node->connstr('dst_custom'), $dump_c ],
	'pg_restore into a fresh database');
$node->safe_psql('postgres', 'CREATE DATABASE dst_plain');
$node->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('dst_plain'), '-f', $dump_p ],
	'plain dump replays into a fresh database');

for my $db ('dst_custom', 'dst_plain')
{
	for my $what (sort keys %queries)
	{
		is($node->safe_psql($db, $queries{$what}), $before{$what}, "$db: $what identical after restore");
	}
	SKIP:
	{
		skip 'galaxy.verify_audit does not exist', 1
		  unless $node->safe_psql($db, "SELECT to_regprocedure('galaxy.verify_audit()') IS NOT NULL") eq 't';
		is($node->safe_psql($db, 'SELECT ok FROM galaxy.verify_audit()'), 't', "$db: the audit chain verifies");
	}
	# the restored gates still decide
	my ($ret, $out, $err) = $node->psql($db, q{
		SELECT galaxy.deploy('price_small', (SELECT min(m.id) FROM galaxy.models m
		                                      JOIN galaxy.projects p ON p.id = m.project_id
		                                     WHERE p.name = 'price_small'))});
	like($err, qr/fails the deployment gate "r2 > 1" of project "price_small"/,
		"$db: the restored gate still refuses a deployment");
	# the restored registry keeps going: new ids, next version
	my $row = $node->safe_psql($db, q{
		SELECT m.version || ' ' || (m.id > (SELECT max(id) FROM galaxy.models WHERE id <> m.id))
		  FROM galaxy.train('price_small', relation => 'houses', target => 'price',
		                    algorithm => 'linear_regression', features => ARRAY['rooms', 'age']) m
	});
	is($row, '1.2.0 true', "$db: retraining continues the version and id sequences");
}

# Binary COPY: model_send / model_recv carry the exact bytes.
my $bin = $node->basedir . '/models.bin';
$node->safe_psql('src', qq{
	COPY (SELECT id, model FROM galaxy.models ORDER BY id) TO '$bin' WITH (FORMAT binary);
	CREATE TABLE copied (id bigint, model galaxy.model);
	COPY copied FROM '$bin' WITH (FORMAT binary);
});
is( $node->safe_psql('src', q{
		SELECT count(*) FROM galaxy.models m JOIN copied c USING (id)
		 WHERE galaxy.model_send(c.model) = galaxy.model_send(m.model)
	}),
	$n_models,
	'binary COPY round-trips every model byte for byte');

# A value damaged in a dump is refused on restore, not loaded.
my $sql = slurp_file($dump_p);
my $damaged = $sql;
my $flipped = ($damaged =~ s/(\tgalaxy:[A-Za-z0-9+\/]{60})([A-Za-z0-9])/$1 . ($2 eq 'A' ? 'B' : 'A')/e);
ok($flipped, 'damaged one model value in the plain dump');
$node->safe_psql('postgres', 'CREATE DATABASE dst_damaged');
# from a file, not stdin: psql stops at the first error, and a writer still
# feeding its stdin would die of a broken pipe
my $damaged_file = $node->basedir . '/damaged.sql';
PostgreSQL::Test::Utils::append_to_file($damaged_file, $damaged);
my ($ret, $out, $err) = $node->psql('dst_damaged', '', on_error_stop => 1,
	extra_params => [ '-f', $damaged_file ]);
isnt($ret, 0, 'restoring a damaged model value fails');
like($err, qr/corrupted galaxy\.model/, 'and says the model value is corrupted');

$node->stop;
unlike(slurp_file($node->logfile), qr/terminated by signal|PANIC/, 'no backend crashed');

done_testing();
