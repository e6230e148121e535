# The audit chain under concurrency and across sessions: writers in READ
# COMMITTED and REPEATABLE READ, single- and multi-row, committing and rolling
# back, never fork the chain; the four-eyes rule holds between real logins;
# a superuser's tampering in one session is caught by verify_audit in another;
# purge keeps the chain verifiable.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('gov_audit');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
lc_messages = 'C'
max_connections = 40
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION galaxy;
	INSERT INTO galaxy.projects (name, owner) VALUES ('bench', current_user);
});

# 6 clients × 150 transactions of four kinds, concurrently.
$node->pgbench(
	'--no-vacuum --client=6 --jobs=3 --transactions=150',
	0,
	[qr{processed: 900/900}],
	[qr{^$}],
	'concurrent audited transactions',
	{
		'001_rc' => q{
			INSERT INTO galaxy.audit_log (action, object_type, object_id) VALUES ('rc', 'bench', :client_id);
		},
		'002_rr' => q{
			BEGIN ISOLATION LEVEL REPEATABLE READ;
			SELECT count(*) FROM galaxy.audit_log;
			SELECT pg_sleep(0.001);
			INSERT INTO galaxy.audit_log (action, object_type, object_id) VALUES ('rr', 'bench', :client_id);
			COMMIT;
		},
		'003_multi' => q{
			BEGIN;
			INSERT INTO galaxy.audit_log (action, object_type, object_id)
			SELECT 'multi', 'bench', g::text FROM generate_series(1, 3) g;
			SELECT galaxy.grant_project('bench', 'public', 'read');
			COMMIT;
		},
		'004_aborted' => q{
			BEGIN;
			INSERT INTO galaxy.audit_log (action, object_type) VALUES ('aborted', 'bench');
			ROLLBACK;
		}
	});

my $counts = $node->safe_psql('postgres',
	"SELECT action, count(*) FROM galaxy.audit_log GROUP BY action ORDER BY action");
my %n = map { split /\|/ } split /\n/, $counts;
ok(!exists $n{aborted}, 'rolled-back audit rows leave nothing');
my $aborted = $node->safe_psql('postgres',
	'SELECT last_value - (SELECT count(*) FROM galaxy.audit_log) FROM galaxy.audit_log_id_seq');
cmp_ok($n{$_} // 0, '>', 0, "transactions of kind $_ were logged") for qw(rc rr multi);
cmp_ok($aborted, '>', 0, 'some transactions rolled their audit rows back (their ids are gaps)');
is($n{rc} + $n{rr} + $n{grant_project} + $aborted, 900,
	'every one of the 900 transactions is accounted for: committed ones by their rows, aborted ones by id gaps');
is(($n{multi} // 0), 3 * ($n{grant_project} // 0), 'multi-row inserts and the API call of one transaction are all there');
is($node->safe_psql('postgres', 'SELECT ok FROM galaxy.verify_audit()'), 't',
	'the chain holds after concurrent writers (no fork)');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM (SELECT prev_hash, count(*) FROM galaxy.audit_log GROUP BY prev_hash HAVING count(*) > 1) s}),
	'0', 'no two rows chain to the same predecessor');
is($node->safe_psql('postgres', q{
	SELECT bool_and(a.at <= b.at) FROM galaxy.audit_log a JOIN galaxy.audit_log b
	    ON b.id = (SELECT min(id) FROM galaxy.audit_log c WHERE c.id > a.id)}),
	't', 'id order is time order');

# Four eyes between real logins: the requester cannot approve, another approver can.
$node->safe_psql('postgres', q{
	CREATE ROLE carl LOGIN IN ROLE galaxy_trainer, galaxy_approver;
	CREATE ROLE dora LOGIN IN ROLE galaxy_approver;
	CREATE TABLE public.lin AS SELECT g::float8 AS x, 2.0 * g + 1 AS y FROM generate_series(1, 40) g;
	GRANT SELECT ON lin TO carl;
});
my $model = $node->safe_psql('postgres',
	"SELECT id FROM galaxy.train('carl_p', 'lin', 'y', algorithm => 'linear_regression', deploy => 'never')",
	extra_params => [ '-U', 'carl' ]);
my $request = $node->safe_psql('postgres', "SELECT galaxy.request_deployment($model, 'first deploy')",
	extra_params => [ '-U', 'carl' ]);
my ($ret, $stdout, $stderr) = $node->psql('postgres', "SELECT galaxy.approve($request)",
	extra_params => [ '-U', 'carl' ]);
isnt($ret, 0, 'the requester cannot approve his own request');
like($stderr, qr/cannot approve its own deployment request/, '... and is told why');
is($node->safe_psql('postgres', "SELECT (galaxy.approve($request, 'ok')).state", extra_params => [ '-U', 'dora' ]),
	'approved', 'another approver can');
$node->safe_psql('postgres', 'ALTER SYSTEM SET galaxy.require_approval = on');
$node->reload;
is($node->safe_psql('postgres', "SELECT (galaxy.deploy('carl_p', ${model}::bigint)).model_id", extra_params => [ '-U', 'carl' ]),
	$model, 'the approved model deploys with galaxy.require_approval on');
($ret, $stdout, $stderr) = $node->psql('postgres', "SELECT galaxy.deploy('carl_p', ${model}::bigint)",
	extra_params => [ '-U', 'carl' ]);
like($stderr, qr/needs an approved deployment request.*HINT:.*request_deployment/s,
	'the approval was used up; the error names request_deployment');
is($node->safe_psql('postgres', q{
	SELECT string_agg(action || ':' || session_user_name, ',' ORDER BY id) FROM galaxy.audit_log
	 WHERE action IN ('request_deployment', 'approve', 'deploy') AND object_type <> 'bench'}),
	'request_deployment:carl,approve:dora,deploy:carl', 'who asked, who approved and who deployed is in the log');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET galaxy.require_approval');
$node->reload;

# Access decisions are cached per backend; grants and role memberships
# changed in another session take effect at the reader's next statement.
$node->safe_psql('postgres', q{
	CREATE ROLE rita LOGIN IN ROLE galaxy_reader;
	CREATE ROLE carl_team NOLOGIN;
});
my $rita = $node->background_psql('postgres', extra_params => [ '-U', 'rita' ]);
my $probe = "SELECT galaxy.has_project_privilege('carl_p', 'read')";
is($rita->query_safe($probe), 'f', 'rita cannot read carl_p');
$node->safe_psql('postgres', "SELECT galaxy.grant_project('carl_p', 'rita', 'read')", extra_params => [ '-U', 'carl' ]);
is($rita->query_safe($probe), 't', 'a grant in another session is seen at the next statement');
is($rita->query_safe("SELECT galaxy.deployed_model('carl_p')"), $model, 'and lets her ask which model serves');
$rita->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$rita->query_safe('SELECT 1');
$node->safe_psql('postgres', "SELECT galaxy.revoke_project('carl_p', 'rita')", extra_params => [ '-U', 'carl' ]);
is($rita->query_safe($probe), 't', 'inside a REPEATABLE READ transaction the snapshot still shows the grant');
$rita->query_safe('COMMIT');
is($rita->query_safe($probe), 'f', 'after it, the revoke is seen: no stale decision was kept');
$node->safe_psql('postgres', "SELECT galaxy.grant_project('carl_p', 'carl_team', 'deploy')", extra_params => [ '-U', 'carl' ]);
is($rita->query_safe("SELECT galaxy.has_project_privilege('carl_p', 'deploy')"), 'f', 'rita is not in carl_team');
$node->safe_psql('postgres', 'GRANT carl_team TO rita');
is($rita->query_safe("SELECT galaxy.has_project_privilege('carl_p', 'deploy')"), 't',
	'joining a role that holds a grant takes effect at once');
$node->safe_psql('postgres', 'REVOKE carl_team FROM rita');
is($rita->query_safe("SELECT galaxy.has_project_privilege('carl_p', 'deploy')"), 'f', 'and leaving it too');
$rita->quit;

# Tampering in one session, caught in another.
my $victim = $node->safe_psql('postgres', "SELECT id FROM galaxy.audit_log WHERE action = 'approve'");
$node->safe_psql('postgres', qq{
	ALTER TABLE galaxy.audit_log DISABLE TRIGGER audit_log_append_only;
	UPDATE galaxy.audit_log SET session_user_name = 'carl' WHERE id = $victim;
	ALTER TABLE galaxy.audit_log ENABLE TRIGGER audit_log_append_only;
});
is($node->safe_psql('postgres', 'SELECT ok, first_broken_id FROM galaxy.verify_audit()', extra_params => [ '-U', 'dora' ]),
	"f|$victim", 'an approver running verify_audit finds the tampered row');
$node->safe_psql('postgres', qq{
	ALTER TABLE galaxy.audit_log DISABLE TRIGGER audit_log_append_only;
	UPDATE galaxy.audit_log SET session_user_name = 'dora' WHERE id = $victim;
	ALTER TABLE galaxy.audit_log ENABLE TRIGGER audit_log_append_only;
});
is($node->safe_psql('postgres', 'SELECT ok FROM galaxy.verify_audit()'), 't', 'undoing the change restores the chain');

# pg_dump / pg_restore keep the chain, approvals, grants and deployments, also
# for a project that requires approval (restored rows are not re-chained or gated).
$node->safe_psql('postgres', "SELECT galaxy.set_require_approval('carl_p', true)");
my $dump = $PostgreSQL::Test::Utils::tmp_check . '/governance.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ],
	'pg_restore into a new database');
my $summary = q{SELECT (SELECT count(*) FROM galaxy.audit_log) || '/' || (SELECT encode(hash, 'hex') FROM galaxy.audit_head())
	|| '/' || (SELECT count(*) FROM galaxy.approvals) || '/' || (SELECT count(*) FROM galaxy.deployments)
	|| '/' || (SELECT count(*) FROM galaxy.project_grants)};
is($node->safe_psql('restored', $summary), $node->safe_psql('postgres', $summary),
	'the restored audit log, approvals, deployments and grants are identical');
is($node->safe_psql('restored', 'SELECT ok FROM galaxy.verify_audit()'), 't', 'the restored chain verifies');
$node->safe_psql('restored', "SELECT galaxy.grant_project('bench', 'public', 'all')");
is($node->safe_psql('restored', 'SELECT ok FROM galaxy.verify_audit()'), 't', 'and new rows chain on after a restore');
$node->safe_psql('postgres', "SELECT galaxy.set_require_approval('carl_p', NULL)");

# Retention: only a superuser, and the chain stays verifiable.
($ret, $stdout, $stderr) = $node->psql('postgres', 'SELECT galaxy.purge_audit(now())', extra_params => [ '-U', 'dora' ]);
like($stderr, qr/permission denied/, 'an approver cannot purge');
my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM galaxy.audit_log');
is($node->safe_psql('postgres', 'SELECT galaxy.purge_audit(now())'), $before, 'a superuser purges everything older');
is($node->safe_psql('postgres', 'SELECT ok FROM galaxy.verify_audit()'), 't', 'the chain verifies from the anchor');
$node->safe_psql('postgres', "SELECT galaxy.grant_project('bench', 'public', 'train')");
is($node->safe_psql('postgres', 'SELECT ok, checked FROM galaxy.verify_audit()'), 't|2',
	'the purge and later rows chain on');

$node->stop;
done_testing();
