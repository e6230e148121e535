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
SELECT try_model(model_text(model_header(version => '0200') || sha256('payload')));
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
-- An LZ4 flag over bytes that are not LZ4, and an impossible ratio.
SELECT try_model(model_text(model_header(flags => '01', raw_size => '00010000') || sha256('payload')));
SELECT try_model(model_text(model_header(flags => '01', raw_size => '00000020') || sha256('payload')));
-- A well-formed header over a payload whose checksum does not match.
SELECT try_model(model_text(model_header(raw_size => '20000000') || sha256('payload')));

-- NULL in, NULL out (the functions are STRICT).
SELECT galaxy.describe(NULL) IS NULL AS describe_null,
       galaxy.model_send(NULL) IS NULL AS send_null,
       NULL::text::galaxy.model IS NULL AS cast_null;
