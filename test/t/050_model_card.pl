# galaxy.model_card() in a real browser: Debian's chromium, headless.
#
# (a) The card of a logistic regression trained on a dataset of
#     breast_cancer.csv, scored on rows it never saw, is rendered to a
#     1200 x 2000 PNG; the PNG must not be blank: many distinct colours, no
#     colour covering nearly everything, and the header's blue gradient
#     where the page puts it (so the inline CSS was applied, not blocked).
#     The checker itself rejects a uniform image.
# (b) The card of a gradient-boosting model trained by a background job on
#     data whose label, column names and deployment reason are markup, is
#     parsed by chromium (--dump-dom): the document has its charts (the
#     training curve from galaxy.job_progress among them), no script,
#     image or link element, and the hostile strings are text.
# (c) psql's \o and COPY ... TO STDOUT write the same bytes.
use strict;
use warnings;

use Compress::Zlib;
use File::Path qw(make_path);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $chromium = (grep { -x } map { "$_/chromium" } split /:/, $ENV{PATH})[0];
BAIL_OUT('chromium is not installed (scripts/check installs Debian\'s chromium)') unless $chromium;

my $node = PostgreSQL::Test::Cluster->new('model_card');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'galaxy'
max_worker_processes = 16
galaxy.max_workers = 2
lc_messages = 'C'
});
$node->start;

my $data = "$ENV{GALAXY_SRC}/test/data/breast_cancer.csv";
$node->safe_psql('postgres', qq{
	SET client_min_messages = warning;
	CREATE EXTENSION galaxy;
	CREATE TABLE breast_cancer (
	    mean_radius float8, mean_texture float8, mean_perimeter float8, mean_area float8,
	    mean_smoothness float8, mean_compactness float8, mean_concavity float8,
	    mean_concave_points float8, mean_symmetry float8, mean_fractal_dimension float8,
	    radius_error float8, texture_error float8, perimeter_error float8, area_error float8,
	    smoothness_error float8, compactness_error float8, concavity_error float8,
	    concave_points_error float8, symmetry_error float8, fractal_dimension_error float8,
	    worst_radius float8, worst_texture float8, worst_perimeter float8, worst_area float8,
	    worst_smoothness float8, worst_compactness float8, worst_concavity float8,
	    worst_concave_points float8, worst_symmetry float8, worst_fractal_dimension float8,
	    diagnosis text NOT NULL);
	COPY breast_cancer FROM '$data' WITH (FORMAT csv, HEADER true);
	ALTER TABLE breast_cancer ADD COLUMN id serial PRIMARY KEY;
	CREATE VIEW biopsies AS SELECT * FROM breast_cancer WHERE id % 5 <> 0;
	CREATE VIEW new_biopsies AS SELECT * FROM breast_cancer WHERE id % 5 = 0;
	SELECT name FROM galaxy.create_dataset('biopsies', 'biopsies', target => 'diagnosis',
	    features => ARRAY(SELECT attname::text FROM pg_attribute
	                       WHERE attrelid = 'breast_cancer'::regclass AND attnum > 0
	                         AND NOT attisdropped AND attname NOT IN ('id', 'diagnosis')
	                       ORDER BY attnum));
	SELECT id FROM galaxy.train('diagnosis', dataset => 'biopsies', algorithm => 'logistic_regression');

	CREATE TABLE hostile AS
	SELECT g AS id, (g % 13)::float8 AS "<script>alert(1)</script>", (g % 7)::float8 AS x2,
	       CASE WHEN (g % 13) + 0.6 * (g % 7) + 2 * sin(g) > 8 THEN '<script>alert("label")</script>'
	            ELSE 'fine & dandy' END AS "<i>target</i>"
	  FROM generate_series(1, 600) g;
});
my $model = $node->safe_psql('postgres', 'SELECT id FROM galaxy.models WHERE algorithm = \'logistic_regression\'');

my $job = $node->safe_psql('postgres', q{
	SELECT galaxy.submit('hostile', relation => 'hostile', target => '<i>target</i>',
	                     features => ARRAY['<script>alert(1)</script>', 'x2'],
	                     algorithm => 'gradient_boosting', hyperparams => '{"n_estimators": 30}')});
is($node->safe_psql('postgres', "SELECT state FROM galaxy.wait($job, interval '3 minutes')"), 'succeeded',
	'the background job trained the hostile model');
my $hostile = $node->safe_psql('postgres', "SELECT model_id FROM galaxy.jobs WHERE id = $job");
$node->safe_psql('postgres', qq{
	SELECT 1 FROM galaxy.deploy('hostile', $hostile, reason => '<img src=x onerror=alert(2)>')});

my $dir = PostgreSQL::Test::Utils::tempdir;
make_path("$dir/home");

# Start chromium headless (its own profile per run); chromium_finish()
# waits for it and returns its stdout.  The two runs below overlap: most
# of a run's time is chromium starting up.
my $runs = 0;

sub chromium_start
{
	my (@args) = @_;
	my $run = { out => '', err => '' };
	my $profile = "$dir/profile" . $runs++;
	local $ENV{HOME} = "$dir/home";
	local $ENV{XDG_CONFIG_HOME} = "$dir/home";
	local $ENV{XDG_CACHE_HOME} = "$dir/home";
	$run->{h} = IPC::Run::start(
		[
			$chromium, '--headless', '--disable-gpu', '--no-sandbox', '--hide-scrollbars',
			'--no-first-run', '--no-default-browser-check', '--disable-extensions',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			'--disable-default-apps', '--disable-breakpad', '--mute-audio',
			'--password-store=basic', "--user-data-dir=$profile", @args
		],
		'<', \undef, '>', \$run->{out}, '2>', \$run->{err}, IPC::Run::timeout(180));
	return $run;
}

sub chromium_finish
{
	my ($run) = @_;
	my $ok = eval { $run->{h}->finish };
	diag("chromium failed: " . ($@ || $run->{err})) unless $ok;
	return $run->{out};
}

# Write a card to a file as psql -At would.
sub write_card
{
	my ($file, $sql) = @_;
	my $html = $node->safe_psql('postgres', $sql);
	open my $fh, '>:raw', $file or die "$file: $!";
	print $fh $html;
	close $fh;
	return $html;
}

# ---------------------------------------------------------------------------
# A small PNG reader (8-bit RGB or RGBA, no interlace: what chromium writes)
# and the blank-page check.
# ---------------------------------------------------------------------------
sub png_pixels
{
	my ($file) = @_;
	open my $fh, '<:raw', $file or die "$file: $!";
	local $/;
	my $d = <$fh>;
	close $fh;
	die "$file is not a PNG" unless substr($d, 0, 8) eq "\x89PNG\r\n\x1a\n";
	my ($pos, $w, $h, $depth, $ct, $interlace, $idat) = (8, 0, 0, 0, 0, 0, '');
	while ($pos < length $d)
	{
		my ($len, $type) = unpack('N a4', substr($d, $pos, 8));
		my $body = substr($d, $pos + 8, $len);
		$pos += 12 + $len;
		($w, $h, $depth, $ct, undef, undef, $interlace) = unpack('N N C C C C C', $body) if $type eq 'IHDR';
		$idat .= $body if $type eq 'IDAT';
	}
	die "unsupported PNG (depth $depth, colour type $ct, interlace $interlace)"
	  unless $depth == 8 && ($ct == 2 || $ct == 6) && !$interlace;
	my $bpp = $ct == 6 ? 4 : 3;
	my $stride = $w * $bpp;
	my $raw = uncompress($idat) // die "$file: bad image data";
	my (@prev, @rows) = ((0) x $stride);
	for my $y (0 .. $h - 1)
	{
		my $off = $y * ($stride + 1);
		my $f = ord substr($raw, $off, 1);
		my @c = unpack('C*', substr($raw, $off + 1, $stride));
		if ($f == 1) { $c[$_] = ($c[$_] + $c[ $_ - $bpp ]) & 255 for $bpp .. $stride - 1 }
		elsif ($f == 2) { $c[$_] = ($c[$_] + $prev[$_]) & 255 for 0 .. $stride - 1 }
		elsif ($f == 3)
		{
			$c[$_] = ($c[$_] + (($_ >= $bpp ? $c[ $_ - $bpp ] : 0) + $prev[$_] >> 1)) & 255 for 0 .. $stride - 1;
		}
		elsif ($f == 4)
		{
			for my $i (0 .. $stride - 1)
			{
				my $a = $i >= $bpp ? $c[ $i - $bpp ] : 0;
				my $b = $prev[$i];
				my $cc = $i >= $bpp ? $prev[ $i - $bpp ] : 0;
				my $p = $a + $b - $cc;
				my ($pa, $pb, $pc) = (abs($p - $a), abs($p - $b), abs($p - $cc));
				$c[$i] = ($c[$i] + ($pa <= $pb && $pa <= $pc ? $a : $pb <= $pc ? $b : $cc)) & 255;
			}
		}
		@prev = @c;
		push @rows, pack('C*', @c);
	}
	return ($w, $h, $bpp, \@rows);
}

# What a page's pixels look like: distinct colours and the most common
# colour's share (every 2nd pixel of every 4th row), and the strongly blue
# pixels (the header's gradient) in rows y0 .. y1.
sub png_summary
{
	my ($w, $h, $bpp, $rows, $y0, $y1) = @_;
	my (%count, $n, $blue);
	for (my $y = 0; $y < $h; $y += 4)
	{
		for (my $x = 0; $x < $w; $x += 2)
		{
			my ($r, $g, $b) = unpack('C3', substr($rows->[$y], $x * $bpp, 3));
			$count{"$r,$g,$b"}++;
			$n++;
			$blue++ if $y >= $y0 && $y <= $y1 && $b > $r + 60 && $b > 150;
		}
	}
	my ($top) = sort { $b <=> $a } values %count;
	return (scalar(keys %count), $top / $n, $blue // 0);
}

# ---------------------------------------------------------------------------
# (a) rendered to a PNG that is not blank
# ---------------------------------------------------------------------------
my $html = write_card("$dir/card.html", "SELECT galaxy.model_card($model, 'new_biopsies')");
like($html, qr/^<!DOCTYPE html>.*id="roc-curve".*<\/html>$/s, 'the card of the breast-cancer model');
write_card("$dir/hostile.html", "SELECT galaxy.model_card($hostile, 'hostile')");
my $shot = chromium_start('--window-size=1200,2000', "--screenshot=$dir/card.png", "file://$dir/card.html");
my $parse = chromium_start('--dump-dom', "file://$dir/hostile.html");
chromium_finish($shot);
my $dom = chromium_finish($parse);
ok(-s "$dir/card.png", 'chromium rendered it to a PNG');
my ($w, $h, $bpp, $rows) = png_pixels("$dir/card.png");
is("${w}x$h", '1200x2000', 'the PNG is 1200 x 2000');
my ($colours, $top, $blue) = png_summary($w, $h, $bpp, $rows, 20, 260);
cmp_ok($colours, '>=', 200, "the page has many colours ($colours)");
cmp_ok($top, '<=', 0.85, sprintf('no colour covers nearly all of it (the most common: %.0f%%)', 100 * $top));
cmp_ok($blue, '>=', 5000, "the header's blue gradient is drawn ($blue sampled pixels): the inline CSS applies");

# the check fails on a blank page
{
	my $row = "\0" . ("\xff\xff\xff" x 1200);
	my $ihdr = pack('N N C C C C C', 1200, 2000, 8, 2, 0, 0, 0);
	my $chunk = sub { my ($t, $b) = @_; pack('N', length $b) . $t . $b . pack('N', crc32($t . $b)) };
	open my $fh, '>:raw', "$dir/blank.png" or die;
	print $fh "\x89PNG\r\n\x1a\n", $chunk->('IHDR', $ihdr), $chunk->('IDAT', compress($row x 2000)),
	  $chunk->('IEND', '');
	close $fh;
	my ($c2, $t2, $b2) = png_summary(png_pixels("$dir/blank.png"), 20, 260);
	ok($c2 < 200 && $t2 > 0.85 && $b2 < 5000, "a blank page fails the same checks ($c2 colour)");
}

# ---------------------------------------------------------------------------
# (b) hostile names, parsed by the browser (chromium ran above)
# ---------------------------------------------------------------------------
like($dom, qr/<title>hostile v1\.0\.0 · galaxy model card<\/title>/, 'chromium parsed the hostile card');
my $svgs = () = $dom =~ /<svg[\s>]/g;
cmp_ok($svgs, '>=', 6, "it has its charts ($svgs svg elements)");
like($dom, qr/id="training-curve".*per iteration \(30 iterations, recorded by the background job\).*<svg /s,
	'the training curve of a background job, from galaxy.job_progress');
unlike($dom, qr/<(script|img|iframe|object|embed|link)[\s>]/i, 'no script, image, frame or link element');
unlike($dom, qr/<[^>]*\son[a-z]+=/i, 'no event handler attribute');
like($dom, qr/&lt;script&gt;alert\("label"\)&lt;\/script&gt;/, 'the hostile label is text');
like($dom, qr/&lt;script&gt;alert\(1\)&lt;\/script&gt;/, 'the hostile column name is text');
like($dom, qr/&lt;img src=x onerror=alert\(2\)&gt;/, 'the hostile deployment reason is text');

# ---------------------------------------------------------------------------
# (c) \o and COPY write the same page
# ---------------------------------------------------------------------------
my $copy = $node->safe_psql('postgres', "COPY (SELECT galaxy.model_card($hostile)) TO STDOUT");
my $direct = $node->safe_psql('postgres', "SELECT galaxy.model_card($hostile)");
$copy =~ s/generated [^&]*//;
$direct =~ s/generated [^&]*//;
is($copy, $direct, 'COPY ... TO STDOUT writes the page unchanged');

$node->stop;
done_testing();
