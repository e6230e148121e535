# The ORM calling convention, used for real: a tiny SQLAlchemy 1.4 application
# (test/orm/sqlalchemy_app.py) and a tiny Django 3.2 one (test/orm/django_app/)
# each define their tables, fill them, train, predict every row inside an ORM
# query, read metrics, run a background job, deploy and roll back, with no SQL
# strings, connected as a login role that holds galaxy_trainer only.  They use
# Debian's python3-sqlalchemy, python3-django and python3-psycopg2 (which
# scripts/check installs), each in its own database, and exit non-zero when a
# check fails.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time);

my $src = $ENV{GALAXY_SRC} or die "GALAXY_SRC is not set";
my $python = $ENV{GALAXY_PYTHON} // '/usr/bin/python3';

my $node = PostgreSQL::Test::Cluster->new('orm');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
max_worker_processes = 16
lc_messages = 'C'
});
$node->start;

# galaxy's roles exist once the extension has been created somewhere
$node->safe_psql('postgres', q{
	CREATE EXTENSION galaxy;
	CREATE ROLE orm_app LOGIN IN ROLE galaxy_trainer;
});

# Run one application in a fresh database it owns; its checks go to the test log.
sub run_app
{
	my ($name, $db, @cmd) = @_;
	$node->safe_psql('postgres', qq{CREATE DATABASE $db OWNER orm_app});
	$node->safe_psql($db, 'CREATE EXTENSION galaxy');
	local $ENV{PGHOST} = $node->host;
	local $ENV{PGPORT} = $node->port;
	local $ENV{PGUSER} = 'orm_app';
	local $ENV{PGDATABASE} = $db;
	local $ENV{PYTHONDONTWRITEBYTECODE} = '1';
	my ($out, $err);
	my $start = time;
	my $ok = eval { IPC::Run::run([ $python, @cmd ], '<', \undef, '>', \$out, '2>', \$err,
		IPC::Run::timeout(120)) };
	diag("$name: $@") if $@;
	my $secs = time - $start;
	note($out) if defined $out && $out ne '';
	diag($err) if !$ok && defined $err && $err ne '';
	diag($out) if !$ok && defined $out;
	ok($ok, sprintf('%s passes (%.1f s)', $name, $secs));
	unlike($out // '', qr/^FAILED/m, "$name: no failed check");
	cmp_ok($secs, '<', 30, "$name runs in under 30 s");
	return $out // '';
}

my $sa = run_app('SQLAlchemy application', 'orm_sqlalchemy', "$src/test/orm/sqlalchemy_app.py");
like($sa, qr/^ok\s+SQLAlchemy 1\.4/m, 'SQLAlchemy 1.4 ran');
my $dj = run_app('Django application', 'orm_django', "$src/test/orm/django_app/app.py");
like($dj, qr/^ok\s+Django 3\.2/m, 'Django 3.2 ran');

# the applications' models were trained by the application role, through the ORM forms
is($node->safe_psql('orm_sqlalchemy',
		q{SELECT count(*) FILTER (WHERE trained_by = 'orm_app') || '/' || count(*) FROM galaxy.models}),
	'6/6', 'SQLAlchemy: six models, all trained as orm_app');
is($node->safe_psql('orm_django',
		q{SELECT count(*) FILTER (WHERE trained_by = 'orm_app') || '/' || count(*) FROM galaxy.models}),
	'4/4', 'Django: four models, all trained as orm_app');

$node->stop;
done_testing();
