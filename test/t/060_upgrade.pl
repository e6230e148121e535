# ALTER EXTENSION galaxy UPDATE from the first release (0.1.0, frozen in
# upgrade/galaxy--0.1.0.sql) to this one, the way pg_cron and
# pg_stat_statements test their upgrade chains.
#
# Installs 0.1.0, fills it as a user would (a dataset, models of several
# algorithms — linear, logistic, trees, a forest, boosting, a neural network,
# k-means, naive Bayes on text — a deployment, audit rows, predictions saved
# in a table), updates, and checks that
#   (a) every object of the extension is what a fresh CREATE EXTENSION galaxy
#       makes (a catalog listing of both, compared line by line: a failure
#       prints the diff, "-" fresh install, "+" upgraded database);
#   (b) every model predicts exactly as before, in every form (by model and
#       by project, whole row, array, JSON, probabilities, labels), and its
#       bytes are unchanged;
#   (c) the audit chain still verifies, and keeps growing.
# One galaxy.so serves both versions: training and predicting at 0.1.0 with
# the current library proves the 0.1.0 script's C functions still resolve.
use strict;
use warnings;

use File::Temp qw(tempdir);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $from = '0.1.0';

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
lc_messages = 'C'
});
$node->start;

my $default = $node->safe_psql('postgres',
	"SELECT default_version FROM pg_available_extensions WHERE name = 'galaxy'");
isnt($default, $from, "galaxy's default version ($default) is newer than $from");
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_available_extension_versions WHERE name = 'galaxy' AND version = '$from'"),
	'1', "the frozen $from install script is installed");
isnt($node->safe_psql('postgres',
		"SELECT path FROM pg_extension_update_paths('galaxy') WHERE source = '$from' AND target = '$default'"),
	'', "there is an update path from $from to $default");

# ---------------------------------------------------------------------------
# The old version, with data
# ---------------------------------------------------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE up');
$node->safe_psql('up', "CREATE EXTENSION galaxy VERSION '$from'");
is($node->safe_psql('up', "SELECT extversion FROM pg_extension WHERE extname = 'galaxy'"), $from,
	"CREATE EXTENSION galaxy VERSION '$from'");

my $data = "$ENV{GALAXY_SRC}/test/data";
$node->safe_psql('up', qq{
	CREATE TABLE iris (sepal_length float8, sepal_width float8, petal_length float8, petal_width float8,
	                   species text);
	COPY iris FROM '$data/iris.csv' WITH (FORMAT csv, HEADER true);
	ALTER TABLE iris ADD COLUMN id serial;
	CREATE TABLE diabetes (age float8, sex float8, bmi float8, bp float8, s1 float8, s2 float8,
	                       s3 float8, s4 float8, s5 float8, s6 float8, progression float8);
	COPY diabetes FROM '$data/diabetes.csv' WITH (FORMAT csv, HEADER true);
	ALTER TABLE diabetes ADD COLUMN id serial;
	CREATE TABLE tickets (id int, body text, channel text, priority int, category text);
	COPY tickets FROM '$data/tickets.csv' WITH (FORMAT csv, HEADER true);
});

my $iris = q{features => ARRAY['sepal_length', 'sepal_width', 'petal_length', 'petal_width']};
my $diab = q{features => ARRAY['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6']};
$node->safe_psql('up', qq{
	SET client_min_messages = warning;
	SELECT galaxy.create_dataset('diabetes', 'diabetes', target => 'progression', $diab);
	SELECT id FROM galaxy.train('diabetes_lin', dataset => 'diabetes', algorithm => 'linear_regression');
	SELECT id FROM galaxy.train('diabetes_gb', 'diabetes', 'progression', 'gradient_boosting',
	                            '{"n_estimators": 20, "max_depth": 3}', $diab);
	SELECT id FROM galaxy.train('iris_lr', 'iris', 'species', 'logistic_regression', $iris);
	SELECT id FROM galaxy.train('iris_lr', 'iris', 'species', 'logistic_regression',
	                            '{"C": 0.5}', deploy => 'never', $iris);
	SELECT id FROM galaxy.train('iris_tree', 'iris', 'species', 'decision_tree', '{"max_depth": 4}', $iris);
	SELECT id FROM galaxy.train('iris_forest', 'iris', 'species', 'random_forest',
	                            '{"n_estimators": 10, "max_depth": 5}', $iris);
	SELECT id FROM galaxy.train('iris_nn', 'iris', 'species', 'neural_network',
	                            '{"hidden_layers": [8], "epochs": 40, "seed": 7}', $iris);
	SELECT id FROM galaxy.train('iris_km', 'iris', algorithm => 'kmeans', task => 'clustering',
	                            hyperparams => '{"n_clusters": 3}', $iris);
	SELECT id FROM galaxy.train('tickets_nb', 'tickets', 'category', 'naive_bayes',
	                            '{"distribution": "multinomial"}', features => ARRAY['body'],
	                            preprocess => '{"columns": {"body": {"text": "tfidf"}}}');
	-- the second iris_lr model serves: an explicit deployment
	SELECT id FROM galaxy.deploy('iris_lr', (SELECT max(m.id) FROM galaxy.models m
	                                          JOIN galaxy.projects p ON p.id = m.project_id
	                                         WHERE p.name = 'iris_lr'));
});
my $n_models = $node->safe_psql('up', 'SELECT count(*) FROM galaxy.models');
is($n_models, '9', 'nine models trained at the old version');
is($node->safe_psql('up', q{SELECT string_agg(DISTINCT algorithm, ',' ORDER BY algorithm) FROM galaxy.models}),
	'decision_tree,gradient_boosting,kmeans,linear_regression,logistic_regression,naive_bayes,neural_network,random_forest',
	'of eight algorithms');
my $audit_before = $node->safe_psql('up', 'SELECT count(*) FROM galaxy.audit_log');
cmp_ok($audit_before, '>=', 11, "the old version audited them ($audit_before rows)");
is($node->safe_psql('up', 'SELECT ok FROM galaxy.verify_audit()'), 't', 'the audit chain verifies before the update');

# Every prediction, in every form; one row per model, row of data and form.
my $predictions = q{
	WITH m AS (SELECT m.id, m.task, p.name AS project, m.status = 'deployed' AS serving
	             FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id)
	SELECT m.id AS model, i.id AS row, f.form, f.value
	  FROM m JOIN iris i ON m.project LIKE 'iris%',
	       LATERAL (VALUES
	           ('row', galaxy.predict(m.id, i)::text),
	           ('array', galaxy.predict(m.id, ARRAY[i.sepal_length, i.sepal_width, i.petal_length, i.petal_width])::text),
	           ('json', galaxy.predict(m.id, to_jsonb(i))::text),
	           ('label', galaxy.predict_label(m.id, i)),
	           ('proba', CASE WHEN m.task = 'classification' THEN galaxy.predict_proba(m.id, i)::text END),
	           ('project', CASE WHEN m.serving THEN galaxy.predict_label(m.project, i) END),
	           ('project_array', CASE WHEN m.serving THEN galaxy.predict(m.project,
	                ARRAY[i.sepal_length, i.sepal_width, i.petal_length, i.petal_width])::text END)) f(form, value)
	UNION ALL
	SELECT m.id, d.id, f.form, f.value
	  FROM m JOIN diabetes d ON m.project LIKE 'diabetes%',
	       LATERAL (VALUES ('row', galaxy.predict(m.id, d)::text),
	                       ('project', CASE WHEN m.serving THEN galaxy.predict(m.project, d)::text END)) f(form, value)
	UNION ALL
	SELECT m.id, t.id, f.form, f.value
	  FROM m JOIN tickets t ON m.project LIKE 'tickets%',
	       LATERAL (VALUES ('row', galaxy.predict_label(m.id, t)),
	                       ('text', galaxy.predict_label(m.id, t.body)),
	                       ('proba', galaxy.predict_proba(m.id, t)::text)) f(form, value)
};
$node->safe_psql('up', "CREATE TABLE before_predictions AS $predictions");
$node->safe_psql('up', q{CREATE TABLE before_bytes AS
	SELECT id, md5(galaxy.model_send(model)) AS md5 FROM galaxy.models});
my $n_predictions = $node->safe_psql('up', 'SELECT count(*) FROM before_predictions WHERE value IS NOT NULL');
cmp_ok($n_predictions, '>', 5000, "$n_predictions predictions saved before the update");

# whole-row predict is rewritten by the planner in either layout
like($node->safe_psql('up', 'EXPLAIN (VERBOSE, COSTS OFF) SELECT galaxy.predict(1, d) FROM diabetes d'),
	qr/galaxy\.predict_columns\(/, "at $from the planner rewrites whole-row predict into galaxy.predict_columns");

# ---------------------------------------------------------------------------
# The update
# ---------------------------------------------------------------------------
$node->safe_psql('up', 'ALTER EXTENSION galaxy UPDATE');
is($node->safe_psql('up', "SELECT extversion FROM pg_extension WHERE extname = 'galaxy'"), $default,
	"ALTER EXTENSION galaxy UPDATE reaches $default");

# (b) the same predictions and bytes
$node->safe_psql('up', "CREATE TABLE after_predictions AS $predictions");
is($node->safe_psql('up', q{
	SELECT count(*) FROM before_predictions b FULL JOIN after_predictions a USING (model, row, form)
	 WHERE a.value IS DISTINCT FROM b.value}),
	'0', 'every model predicts exactly as before, in every form');
is($node->safe_psql('up', 'SELECT count(*) FROM after_predictions WHERE value IS NOT NULL'), $n_predictions,
	'as many predictions as before');
is($node->safe_psql('up', q{
	SELECT count(*) FROM before_bytes b FULL JOIN galaxy.models m USING (id)
	 WHERE b.md5 IS DISTINCT FROM md5(galaxy.model_send(m.model))}),
	'0', 'every model value is byte for byte the same');
like($node->safe_psql('up', 'EXPLAIN (VERBOSE, COSTS OFF) SELECT galaxy.predict(1, d) FROM diabetes d'),
	qr/galaxy_internal\.predict_columns\(/, 'after the update the rewrite targets galaxy_internal.predict_columns');

# (c) the audit chain
is($node->safe_psql('up', 'SELECT ok FROM galaxy.verify_audit()'), 't', 'the audit chain verifies after the update');
$node->safe_psql('up', q{
	SET client_min_messages = warning;
	SELECT id FROM galaxy.train('iris_lr', 'iris', 'species', 'logistic_regression', '{"C": 2}',
	                            features => ARRAY['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
	                            deploy => 'always');
	SELECT id FROM galaxy.rollback('iris_lr');
});
is($node->safe_psql('up', 'SELECT count(*) > ' . $audit_before . ' AND bool_and(ok) FROM galaxy.verify_audit(), galaxy.audit_log'),
	't', 'new audit rows after the update extend the same verified chain');

# ---------------------------------------------------------------------------
# (a) the upgraded schema is a fresh install's
# ---------------------------------------------------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION galaxy');

# One line per fact about galaxy's objects, without OIDs: what the extension
# owns, then every function, type, relation, column (by position), index,
# constraint, sequence, view, trigger, policy, event trigger, pg_dump
# registration and initial privilege in schemas galaxy and galaxy_internal,
# with owners, ACLs and comments.
my $listing = q{
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname IN ('galaxy', 'galaxy_internal')),
ext AS (SELECT oid, extconfig, extcondition FROM pg_extension WHERE extname = 'galaxy'),
lines(line) AS (
    SELECT 'member ' || pg_describe_object(d.classid, d.objid, d.objsubid)
      FROM pg_depend d, ext
     WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
UNION ALL
    SELECT format('schema %s owner=%s acl=%s comment=%s', n.nspname, pg_get_userbyid(n.nspowner), n.nspacl,
                  obj_description(n.oid, 'pg_namespace'))
      FROM pg_namespace n WHERE n.oid IN (SELECT oid FROM ns)
UNION ALL
    SELECT format('function %s -> %s kind=%s lang=%s volatile=%s parallel=%s strict=%s secdef=%s leakproof=%s cost=%s rows=%s support=%s config=%s %s bin=%s acl=%s comment=%s',
                  p.oid::regprocedure, pg_get_function_result(p.oid), p.prokind, l.lanname, p.provolatile,
                  p.proparallel, p.proisstrict, p.prosecdef, p.proleakproof, p.procost, p.prorows,
                  p.prosupport::regproc, p.proconfig,
                  CASE WHEN l.lanname = 'c' THEN 'symbol=' || p.prosrc
                       ELSE 'body_md5=' || md5(coalesce(p.prosrc, '') || coalesce(pg_get_function_sqlbody(p.oid), '')) END,
                  p.probin, p.proacl, obj_description(p.oid, 'pg_proc'))
           || format(' args=(%s)', pg_get_function_arguments(p.oid))
      FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
     WHERE p.pronamespace IN (SELECT oid FROM ns)
UNION ALL
    SELECT format('aggregate %s sfunc=%s stype=%s combine=%s final=%s serial=%s deserial=%s init=%s',
                  a.aggfnoid::regprocedure, a.aggtransfn, format_type(a.aggtranstype, NULL), a.aggcombinefn,
                  a.aggfinalfn, a.aggserialfn, a.aggdeserialfn, a.agginitval)
      FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid WHERE p.pronamespace IN (SELECT oid FROM ns)
UNION ALL
    SELECT format('type %s type=%s len=%s byval=%s storage=%s align=%s category=%s input=%s output=%s receive=%s send=%s acl=%s comment=%s',
                  t.oid::regtype, t.typtype, t.typlen, t.typbyval, t.typstorage, t.typalign, t.typcategory,
                  t.typinput::regprocedure, t.typoutput::regprocedure, t.typreceive::regprocedure,
                  t.typsend::regprocedure, t.typacl, obj_description(t.oid, 'pg_type'))
      FROM pg_type t
     WHERE t.typnamespace IN (SELECT oid FROM ns)
       AND NOT (t.typrelid <> 0 AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) <> 'c')
       AND NOT (t.typcategory = 'A' AND EXISTS (SELECT 1 FROM pg_type e, pg_class c
                                                 WHERE e.oid = t.typelem AND c.oid = e.typrelid AND c.relkind <> 'c'))
UNION ALL
    SELECT format('cast %s -> %s function=%s context=%s method=%s', format_type(c.castsource, NULL),
                  format_type(c.casttarget, NULL), c.castfunc::regprocedure, c.castcontext, c.castmethod)
      FROM pg_cast c JOIN pg_type s ON s.oid = c.castsource JOIN pg_type t ON t.oid = c.casttarget
     WHERE s.typnamespace IN (SELECT oid FROM ns) OR t.typnamespace IN (SELECT oid FROM ns)
UNION ALL
    SELECT format('operator %s function=%s', o.oid::regoperator, o.oprcode::regprocedure)
      FROM pg_operator o WHERE o.oprnamespace IN (SELECT oid FROM ns)
UNION ALL
    SELECT format('relation %s kind=%s persistence=%s rls=%s force_rls=%s options=%s owner=%s acl=%s comment=%s',
                  c.oid::regclass, c.relkind, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity,
                  c.reloptions, pg_get_userbyid(c.relowner), c.relacl, obj_description(c.oid, 'pg_class'))
      FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM ns) AND c.relkind <> 'i'
UNION ALL
    SELECT format('column %s.%s position=%s type=%s not_null=%s default=%s identity=%s generated=%s collation=%s acl=%s comment=%s',
                  c.oid::regclass, a.attname,
                  row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum),
                  format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid),
                  a.attidentity, a.attgenerated, a.attcollation::regcollation, a.attacl,
                  col_description(c.oid, a.attnum))
      FROM pg_class c
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
     WHERE c.relnamespace IN (SELECT oid FROM ns) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
UNION ALL
    SELECT format('index %s: %s', c.oid::regclass, pg_get_indexdef(c.oid))
      FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM ns) AND c.relkind = 'i'
UNION ALL
    SELECT format('constraint %s on %s: %s', k.conname, k.conrelid::regclass, pg_get_constraintdef(k.oid))
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE c.relnamespace IN (SELECT oid FROM ns)
UNION ALL
    SELECT format('sequence %s type=%s start=%s increment=%s min=%s max=%s cache=%s cycle=%s',
                  s.seqrelid::regclass, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
                  s.seqmin, s.seqmax, s.seqcache, s.seqcycle)
      FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace IN (SELECT oid FROM ns)
UNION ALL
    SELECT format('view %s: %s', c.oid::regclass, regexp_replace(pg_get_viewdef(c.oid), '\s+', ' ', 'g'))
      FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM ns) AND c.relkind IN ('v', 'm')
UNION ALL
    SELECT format('trigger %s enabled=%s: %s', t.tgname, t.tgenabled, pg_get_triggerdef(t.oid))
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace IN (SELECT oid FROM ns) AND NOT t.tgisinternal
UNION ALL
    SELECT format('policy %s on %s: command=%s permissive=%s roles=%s using=%s check=%s', p.polname,
                  p.polrelid::regclass, p.polcmd, p.polpermissive,
                  (SELECT array_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END ORDER BY 1)
                     FROM unnest(p.polroles) r),
                  pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
      FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace IN (SELECT oid FROM ns)
UNION ALL
    SELECT format('event trigger %s on %s tags=%s function=%s enabled=%s', e.evtname, e.evtevent,
                  e.evttags, e.evtfoid::regprocedure, e.evtenabled)
      FROM pg_event_trigger e
UNION ALL
    SELECT format('pg_dump config %s condition=%s', u.rel::regclass, u.cond)
      FROM ext, unnest(ext.extconfig, ext.extcondition) AS u(rel, cond)
UNION ALL
    SELECT format('initial privileges %s: %s', pg_describe_object(i.classoid, i.objoid, i.objsubid), i.initprivs)
      FROM pg_init_privs i WHERE i.privtype = 'e'
)
SELECT line FROM lines ORDER BY line COLLATE "C"
};

my $dir = tempdir(CLEANUP => 1);
my %listed;
for my $db ('fresh', 'up')
{
	$listed{$db} = $node->safe_psql($db, $listing);
	open(my $fh, '>', "$dir/$db.txt") or die "$dir/$db.txt: $!";
	print $fh $listed{$db}, "\n";
	close $fh;
}
my @fresh_lines = split /\n/, $listed{fresh};
cmp_ok(scalar(@fresh_lines), '>', 500, 'the listing of a fresh install is complete');
my $diff = `diff -u --label fresh_install --label upgraded_from_$from $dir/fresh.txt $dir/up.txt`;
is($diff, '', "after ALTER EXTENSION galaxy UPDATE the schema is a fresh install's")
  or diag("add to upgrade/$from--$default.sql what turns the '-' lines into the '+' lines"
	  . " (see its header):\n$diff");

# what users call is all that \df galaxy.* shows
is($node->safe_psql('up', q{
	SELECT string_agg(p.oid::regprocedure::text, ', ') FROM pg_proc p
	 WHERE p.pronamespace = 'galaxy'::regnamespace
	   AND (p.prorettype IN ('trigger'::regtype, 'event_trigger'::regtype, 'internal'::regtype)
	        OR EXISTS (SELECT 1 FROM pg_type t WHERE p.oid IN (t.typinput, t.typoutput, t.typreceive))
	        OR p.proname ~ '_(columns|values|slots|list|visible)$')}),
	'', 'no trigger, support, type input or rewrite-target function is left in schema galaxy');

# ---------------------------------------------------------------------------
# DROP EXTENSION removes galaxy_internal, in both databases
# ---------------------------------------------------------------------------
my ($ret, $out, $err) = $node->psql('up', 'DROP EXTENSION galaxy');
ok($ret != 0 && $err =~ /allow_drop_with_data/,
	'the drop guard still refuses to drop galaxy with its models after the update')
  or diag("psql returned $ret: $err");
$node->safe_psql('up', 'SET galaxy.allow_drop_with_data = on; DROP EXTENSION galaxy');
$node->safe_psql('fresh', 'DROP EXTENSION galaxy');
for my $db ('up', 'fresh')
{
	is($node->safe_psql($db, q{SELECT count(*) FROM pg_namespace WHERE nspname = 'galaxy_internal'}), '0',
		"DROP EXTENSION galaxy removes schema galaxy_internal ($db)");
}

$node->stop;
done_testing();
