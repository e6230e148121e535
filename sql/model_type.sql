--
-- galaxy.model: text input/output, validation of hostile values, round trip,
-- describe().  Every rejected value must be an ERROR with a fitting SQLSTATE
-- (22P02 syntax, XX001 corrupted, 0A000 unsupported version), never a crash.
--
\pset null '(null)'

-- Cast text to galaxy.model; report the outcome as "SQLSTATE: message (detail)".
CREATE FUNCTION try_model(value text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    m galaxy.model;
    detail text;
BEGIN
    m := value::galaxy.model;
    RETURN 'accepted';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' (' || nullif(detail, '') || ')', '');
END
$$;

-- The text form of some bytes ("galaxy:" + base64 without line breaks).
CREATE FUNCTION model_text(bytes bytea) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT 'galaxy:' || translate(encode(bytes, 'base64'), E'\n', '')
$$;

-- A 32-byte header: magic "GLXM", version, algorithm, task, flags, reserved,
-- n_features, n_inputs, n_classes, raw_size, checksum (all little-endian).
CREATE FUNCTION model_header(magic text DEFAULT '474c584d', version text DEFAULT '0100',
                             algorithm text DEFAULT '0100', task text DEFAULT '01',
                             flags text DEFAULT '00', reserved text DEFAULT '0000',
                             n_features text DEFAULT '01000000', n_inputs text DEFAULT '01000000',
                             n_classes text DEFAULT '00000000', raw_size text DEFAULT '10000000',
                             checksum text DEFAULT '00000000') RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT decode(magic || version || algorithm || task || flags || reserved || n_features
                  || n_inputs || n_classes || raw_size || checksum, 'hex')
$$;

-- Not the text form at all.
SELECT try_model('foo');
SELECT try_model('');
SELECT try_model('GALAXY:AAAA');
-- Not base64.
SELECT try_model('galaxy:!!!');
SELECT try_model('galaxy:QUJD RA==');
-- No bytes, random bytes, a truncated header.
SELECT try_model('galaxy:');
SELECT try_model(model_text(sha256('random bytes') || sha256('more random bytes')));
SELECT try_model(model_text(substr(model_header(), 1, 14)));
SELECT try_model(model_text(substr(model_header(), 1, 31)));
-- Wrong magic.
SELECT try_model(model_text(model_header(magic => '58585858') || sha256('payload')));
-- Unsupported format versions.
SELECT try_model(model_text(model_header(version => '0300') || sha256('payload')));
SELECT try_model(model_text(model_header(version => '0000') || sha256('payload')));
-- Unknown algorithm, task, flags; reserved bytes set.
SELECT try_model(model_text(model_header(algorithm => 'ffff') || sha256('payload')));
SELECT try_model(model_text(model_header(task => '07') || sha256('payload')));
SELECT try_model(model_text(model_header(flags => '80') || sha256('payload')));
SELECT try_model(model_text(model_header(reserved => '0100') || sha256('payload')));
-- Huge and zero counts.
SELECT try_model(model_text(model_header(n_features => 'ffffffff') || sha256('payload')));
SELECT try_model(model_text(model_header(n_features => '00000000') || sha256('payload')));
SELECT try_model(model_text(model_header(n_inputs => 'ffffffff') || sha256('payload')));
SELECT try_model(model_text(model_header(n_classes => 'ffffffff') || sha256('payload')));
SELECT try_model(model_text(model_header(task => '02', n_classes => '01000000') || sha256('payload')));
-- Payload sizes that do not match, or are absurd.
SELECT try_model(model_text(model_header(raw_size => 'ffffffff') || sha256('payload')));
SELECT try_model(model_text(model_header(raw_size => '00000000') || sha256('payload')));
SELECT try_model(model_text(model_header(raw_size => '21000000') || sha256('payload')));
-- An LZ4 flag over bytes that are not LZ4 blocks: a block length past the
-- end; a block of junk; a good one-byte block (token 0x10, literal 'A') then a
-- block header cut short; blocks that end before raw_size; an impossible ratio.
SELECT try_model(model_text(model_header(flags => '01', raw_size => '00010000') || sha256('payload')));
SELECT try_model(model_text(model_header(flags => '01', raw_size => '00010000') || '\x20000000'::bytea || sha256('payload')));
SELECT try_model(model_text(model_header(flags => '01', raw_size => '00010000') || '\x020000001041'::bytea || '\x0100'::bytea));
SELECT try_model(model_text(model_header(flags => '01', raw_size => '00010000') || '\x020000001041'::bytea));
SELECT try_model(model_text(model_header(flags => '01', raw_size => '00000020') || sha256('payload')));
-- A well-formed header over a payload whose checksum does not match.
SELECT try_model(model_text(model_header(raw_size => '20000000') || sha256('payload')));

-- NULL in, NULL out (the functions are STRICT).
SELECT galaxy.describe(NULL::galaxy.model) IS NULL AS describe_null,
       galaxy.model_send(NULL) IS NULL AS send_null,
       NULL::text::galaxy.model IS NULL AS cast_null;

-- ---------------------------------------------------------------------------
-- Real models (deterministic: fixed data, default seed)
-- ---------------------------------------------------------------------------
SET client_min_messages = warning;
CREATE TABLE lin AS
SELECT i AS id, (i % 7)::float8 AS x1, (i % 11)::float8 AS x2,
       (3 * (i % 7) - 2 * (i % 11) + 0.5)::float8 AS y,
       'street_' || (i % 300) AS street
  FROM generate_series(1, 900) i;
SELECT version, algorithm, task FROM galaxy.train('small', relation => 'lin', target => 'y',
    algorithm => 'linear_regression', features => ARRAY['x1', 'x2']);
-- one-hot over 300 streets: a payload above 4 kB, stored LZ4-compressed
SELECT version, algorithm, task FROM galaxy.train('big', relation => 'lin', target => 'y',
    algorithm => 'linear_regression', features => ARRAY['x1', 'x2', 'street'],
    preprocess => '{"max_categories": 1000}');
RESET client_min_messages;
CREATE TABLE m AS
SELECT p.name AS project, galaxy.model_send(md.model) AS bytes, md.model
  FROM galaxy.models md JOIN galaxy.projects p ON p.id = md.project_id;

-- The text form is "galaxy:" + base64, and round-trips exactly.
SELECT project, left(model::text, 7) AS prefix,
       model::text::galaxy.model::text = model::text AS text_round_trip,
       galaxy.model_send(model::text::galaxy.model) = bytes AS bytes_round_trip,
       model_text(bytes) = model::text AS text_is_base64_of_send
  FROM m ORDER BY project;

-- describe(): the summary's keys and the values that do not depend on floating point.
SELECT jsonb_object_keys(galaxy.describe(model)) AS key FROM m WHERE project = 'small' ORDER BY key;
SELECT project, d->>'algorithm' AS algorithm, d->>'task' AS task, d->>'format_version' AS format,
       d->>'n_inputs' AS n_inputs, d->>'n_features' AS n_features, d->>'compression' AS compression,
       (d->>'stored_bytes')::int = length(bytes) + 4 AS stored_bytes_ok,
       d->'hyperparams' AS hyperparams
  FROM (SELECT project, bytes, galaxy.describe(model) AS d FROM m) s ORDER BY project;

-- Flip one bit in every byte: each damaged value is refused (the format
-- version bytes give 0A000, everything else XX001).  Only inside an LZ4 stream
-- can a flip be harmless (e.g. a match offset moved to identical bytes): then
-- the value must decode to exactly the same model (its checksum covers the
-- uncompressed payload).
WITH flips AS (
    SELECT project, model, d.compression, set_byte(bytes, i, get_byte(bytes, i) # 1) AS flipped
      FROM m, generate_series(0, length(bytes) - 1) i,
           LATERAL (SELECT galaxy.describe(model)->>'compression' AS compression) d),
outcomes AS (
    SELECT *, split_part(try_model(model_text(flipped)), ':', 1) AS outcome FROM flips)
SELECT project, compression,
       count(*) FILTER (WHERE outcome = '0A000') AS unsupported_version,
       count(*) FILTER (WHERE outcome NOT IN ('0A000', 'XX001', 'accepted')) AS other_outcomes,
       CASE WHEN compression = 'none' THEN count(*) FILTER (WHERE outcome = 'accepted') END AS accepted,
       bool_and(outcome <> 'accepted'
                OR galaxy.describe(model_text(flipped)::galaxy.model) = galaxy.describe(model)) AS accepted_only_if_same
  FROM outcomes GROUP BY project, compression ORDER BY project;
-- Every truncation, and a trailing byte, are refused as corrupted.
SELECT project, bool_and(try_model(model_text(substr(bytes, 1, n))) LIKE 'XX001: corrupted galaxy.model:%')
       AS every_truncation_refused
  FROM m, generate_series(0, length(bytes) - 1) n
 GROUP BY project ORDER BY project;
SELECT project, try_model(model_text(bytes || '\x00'::bytea)) LIKE 'XX001: corrupted galaxy.model:%' AS trailing_refused
  FROM m ORDER BY project;
