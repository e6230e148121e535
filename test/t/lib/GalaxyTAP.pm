# Helpers shared by galaxy's Perl TAP files (test/t/*.pl).
#
# A file loads it with
#   use FindBin;
#   use lib "$FindBin::RealBin/lib";
#   use GalaxyTAP;
package GalaxyTAP;

use strict;
use warnings;

use Exporter 'import';
use Test::More;
use PostgreSQL::Test::Utils;
use Time::HiRes qw(usleep);

our @EXPORT = qw(poll_through_crash);

# poll_query_until() for the moments after a crash or an immediate shutdown.
#
# PostgreSQL::Test::Utils ignores SIGPIPE, and poll_query_until() hands the
# query to psql on its standard input.  While the postmaster reinitialises,
# psql can fail to connect and exit before it reads that input; IPC::Run's
# write then fails with EPIPE and it dies ("Broken pipe"), which ends the whole
# test file with exit status 32 instead of polling again.  This retries that
# one failure until PostgreSQL::Test::Utils' usual timeout; any other error,
# and a poll that times out, behave as in poll_query_until().
sub poll_through_crash
{
	my ($node, $dbname, $query, $expected) = @_;
	my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;

	while (1)
	{
		my $result = eval { $node->poll_query_until($dbname, $query, $expected) };
		return $result if defined $result;
		die $@ unless $@ =~ /Broken pipe/ && time() < $deadline;
		note 'psql exited before reading its query (the server was restarting); polling again';
		usleep(100_000);
	}
}

1;
