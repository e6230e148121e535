# galaxy.prometheus() and the shipped exporter configuration, for real.
#
# promtool (Debian's prometheus package) must accept galaxy.prometheus()'s
# text; prometheus-sql-exporter, started on loopback with
# docs/prometheus-sql-exporter.yml pointed at this cluster, must serve
# galaxy's series on /metrics.  Each part is skipped, saying why, only when
# its program is not installed (scripts/check installs both).
use strict;
use warnings;

use HTTP::Tiny;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('prometheus');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
listen_addresses = '127.0.0.1'
lc_messages = 'C'
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION galaxy;
	CREATE TABLE points AS
	SELECT i AS id, (i % 7)::float8 AS x1, (i % 11)::float8 AS x2,
	       (ARRAY['a', 'b'])[1 + i % 2] AS c,
	       (3 * (i % 7) - 2 * (i % 11) + 0.5)::float8 AS y
	  FROM generate_series(1, 300) i;
	SET client_min_messages = warning;
	SELECT galaxy.train('metrics.demo', 'points', 'y', 'linear_regression');
});
# training measures its model's latency with predict calls: count from here
$node->safe_psql('postgres', 'SELECT galaxy.reset_inference_stats()');
$node->safe_psql('postgres', q{
	SELECT count(galaxy.predict('metrics.demo', p)) FROM points p;
	SELECT count(*) FROM galaxy.drift('metrics.demo', 'points', predictions => false);
	CREATE ROLE galaxy_monitor LOGIN IN ROLE galaxy_admin;
	-- a schedule, its evaluation and an alert, as the monitor worker would write them
	SELECT galaxy.schedule('nightly "eval"', 'metrics.demo', '@daily', 'evaluate', 'points');
	UPDATE galaxy.schedules SET runs = 3, failures = 1, last_run = now();
	INSERT INTO galaxy.evaluations (schedule_id, schedule, project_id, model_id, version, relation, metric, value, rows)
	SELECT s.id, s.name, s.project_id, 1, '1.0.0', 'public.points', 'r2', 0.75, 300 FROM galaxy.schedules s;
	SELECT galaxy.set_alert_rule('metrics.demo', 'job_failed');
	INSERT INTO galaxy.alerts (project_id, kind, severity, message, rule_id)
	SELECT project_id, 'job_failed', 'warning', 'job 7 failed', id FROM galaxy.alert_rules;
});

my $text = $node->safe_psql('postgres', 'SELECT galaxy.prometheus()');
like($text, qr/^# HELP galaxy_info /m, 'prometheus(): HELP lines');
like($text, qr/^# TYPE galaxy_inference_calls_total counter$/m, 'prometheus(): counters end in _total');
like($text, qr/^galaxy_inference_calls_total\{project="metrics\.demo",model_id="1",version="1\.0\.0"\} 300$/m,
	'prometheus(): calls of the model');
# one transaction of 300 calls: the first and 1 in 16 after it are timed
like($text, qr/^galaxy_inference_duration_seconds_count\{[^}]*\} 19$/m, 'prometheus(): histogram count');
like($text, qr/^galaxy_inference_duration_seconds_bucket\{[^}]*le="\+Inf"\} 19$/m, 'prometheus(): +Inf bucket');
like($text, qr/^galaxy_drift_psi\{project="metrics\.demo",feature="x1",kind="numeric"\} /m, 'prometheus(): drift');
like($text, qr/^galaxy_deployment_traffic_ratio\{[^}]*\} 1$/m, 'prometheus(): deployment');
like($text, qr/^galaxy_schedule_runs_total\{schedule="nightly \\"eval\\"",project="metrics\.demo",action="evaluate"\} 3$/m,
	'prometheus(): schedule runs, the label escaped');
like($text, qr/^galaxy_schedule_failures_total\{[^}]*\} 1$/m, 'prometheus(): schedule failures');
like($text, qr/^galaxy_evaluation_metric\{[^}]*metric="r2"[^}]*\} 0\.75$/m, 'prometheus(): the latest evaluation');
like($text, qr/^galaxy_alerts_open\{project="metrics\.demo",kind="job_failed",severity="warning"\} 1$/m,
	'prometheus(): open alerts');

SKIP:
{
	skip 'promtool is not installed (Debian package prometheus): the exposition format is not checked', 1
	  unless system('command -v promtool >/dev/null 2>&1') == 0;
	my ($out, $err);
	my $ok = IPC::Run::run([ 'promtool', 'check', 'metrics' ], '<', \"$text\n", '>', \$out, '2>', \$err);
	ok($ok, 'promtool check metrics accepts galaxy.prometheus()') or diag("promtool: $out$err");
}

SKIP:
{
	skip 'prometheus-sql-exporter is not installed: the shipped configuration is not run', 3
	  unless system('command -v prometheus-sql-exporter >/dev/null 2>&1') == 0;

	# the shipped configuration, pointed at this cluster
	my $conf = slurp_file("$ENV{GALAXY_SRC}/docs/prometheus-sql-exporter.yml");
	my $dsn = 'postgres://galaxy_monitor@127.0.0.1:' . $node->port . '/postgres?sslmode=disable';
	ok($conf =~ s{'postgres://[^']*'}{'$dsn'}, 'the configuration names one connection');
	$conf =~ s/interval: '15s'/interval: '1s'/;
	my $file = PostgreSQL::Test::Utils::tempdir() . '/sql-exporter.yml';
	open(my $fh, '>', $file) or die "could not write $file: $!";
	print $fh $conf;
	close($fh);

	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my ($out, $err) = ('', '');
	my $exporter = IPC::Run::start(
		[ 'prometheus-sql-exporter', '-config.file', $file, '-web.listen-address', "127.0.0.1:$port" ],
		'>', \$out, '2>', \$err);
	my $http = HTTP::Tiny->new(timeout => 5);
	my $body = '';
	foreach my $try (1 .. 120)
	{
		my $res = $http->get("http://127.0.0.1:$port/metrics");
		$body = $res->{content} // '' if $res->{success};
		last if $body =~ /sql_galaxy_inference\{/ && $body =~ /sql_galaxy_drift\{/
		  && $body =~ /sql_galaxy_alerts\{/ && $body =~ /sql_galaxy_schedules\{/
		  && $body =~ /sql_galaxy_evaluation\{/;
		select(undef, undef, undef, 0.5);    # the exporter's first run; it has no readiness to poll
	}
	$exporter->kill_kill;
	like($body, qr/^sql_galaxy_inference\{(?=[^}]*col="calls")(?=[^}]*project="metrics\.demo")[^}]*\} 300$/m,
		'the exporter serves galaxy_inference calls') or diag("exporter: $err\n" . substr($body, 0, 2000));
	like($body, qr/^sql_galaxy_drift\{(?=[^}]*col="psi")(?=[^}]*feature="x1")[^}]*\} /m,
		'the exporter serves galaxy_drift');
	like($body, qr/^sql_galaxy_alerts\{(?=[^}]*kind="job_failed")(?=[^}]*state="open")[^}]*\} 1$/m,
		'the exporter serves galaxy_alerts');
	like($body, qr/^sql_galaxy_schedules\{(?=[^}]*col="failures")(?=[^}]*kind="evaluate")[^}]*\} 1$/m,
		'the exporter serves galaxy_schedules');
	like($body, qr/^sql_galaxy_evaluation\{(?=[^}]*metric="r2")[^}]*\} 0\.75$/m,
		'the exporter serves galaxy_evaluation');
}

$node->stop;
done_testing();
