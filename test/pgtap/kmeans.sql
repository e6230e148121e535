-- kmeans contracts: its rows in galaxy.algorithms and
-- galaxy.algorithm_hyperparameters; bad k, bad hyperparameters, the wrong
-- task, predict_proba on a clustering model and damaged model values are
-- each an ERROR with a fitting SQLSTATE, never a crash.
BEGIN;
SELECT plan(33);

CREATE TEMP TABLE km_start AS SELECT pg_postmaster_start_time() AS started, pg_backend_pid() AS pid;
SET LOCAL client_min_messages = warning;

CREATE TABLE km_pts AS
SELECT (g % 2) * 10 + (g % 7) / 7.0 AS x, (g % 2) * 10 + (g % 5) / 5.0 AS y FROM generate_series(1, 60) g;
CREATE TABLE km_three AS SELECT (g % 3)::float8 AS v FROM generate_series(1, 30) g;
CREATE TABLE km_text AS SELECT (g % 2) * 10.0 AS x, CASE g % 2 WHEN 0 THEN 'a' ELSE 'b' END AS c
  FROM generate_series(1, 40) g;

-- train km_pts with the given hyperparameters (as SQL text for throws_ok)
CREATE FUNCTION pg_temp.km(hp text, rel text DEFAULT 'km_pts') RETURNS text LANGUAGE sql AS $$
    SELECT format('SELECT galaxy.train(%L, %L, algorithm => %L, task => %L, hyperparams => %L, test_size => 0, deploy => %L)',
                  'km_bad', rel, 'kmeans', 'clustering', hp, 'never')
$$;

-- ---------------------------------------------------------------------------
-- catalog
-- ---------------------------------------------------------------------------
SELECT is((SELECT tasks FROM galaxy.algorithms WHERE name = 'kmeans'), '{clustering}'::text[],
          'kmeans is listed for clustering only');
SELECT set_eq($$SELECT name FROM galaxy.algorithm_hyperparameters WHERE algorithm = 'kmeans'$$,
              ARRAY['n_clusters', 'n_init', 'max_iter', 'tol', 'batch_size', 'solver'],
              'kmeans hyperparameters');

-- ---------------------------------------------------------------------------
-- bad hyperparameters and k
-- ---------------------------------------------------------------------------
SELECT throws_ok(pg_temp.km('{"n_clusters": 0}'), '22023', NULL, 'n_clusters = 0');
SELECT throws_ok(pg_temp.km('{"n_clusters": -3}'), '22023', NULL, 'n_clusters < 0');
SELECT throws_ok(pg_temp.km('{"n_clusters": 2.5}'), '22023', NULL, 'n_clusters not an integer');
SELECT throws_ok(pg_temp.km('{"n_clusters": 10001}'), '22023', NULL, 'n_clusters above its bound');
SELECT throws_ok(pg_temp.km('{"n_clusters": 61}'), '22023',
                 'kmeans: n_clusters = 61 is larger than the number of training rows (60)',
                 'n_clusters above the rows');
SELECT throws_ok(pg_temp.km('{"n_clusters": 4}', 'km_three'), '22023',
                 'kmeans: n_clusters = 4 is larger than the number of distinct training rows (3)',
                 'n_clusters above the distinct rows names both numbers');
SELECT lives_ok(pg_temp.km('{"n_clusters": 3}', 'km_three'), 'n_clusters = the distinct rows');
SELECT lives_ok(pg_temp.km('{"n_clusters": 1}'), 'n_clusters = 1');
SELECT throws_ok(pg_temp.km('{"n_init": 0}'), '22023', NULL, 'n_init = 0');
SELECT throws_ok(pg_temp.km('{"max_iter": 0}'), '22023', NULL, 'max_iter = 0');
SELECT throws_ok(pg_temp.km('{"tol": -1}'), '22023', NULL, 'tol < 0');
SELECT throws_ok(pg_temp.km('{"tol": "NaN"}'), '22023', NULL, 'tol NaN');
SELECT throws_ok(pg_temp.km('{"batch_size": -1}'), '22023', NULL, 'batch_size < 0');
SELECT throws_ok(pg_temp.km('{"k": 2}'), '22023', 'unknown hyperparameter "k" for algorithm kmeans',
                 'unknown hyperparameter');
SELECT throws_ok($$SELECT galaxy.train('km_bad', 'km_pts', 'x', algorithm => 'kmeans', task => 'regression')$$,
                 '22023', 'algorithm kmeans does not support regression', 'kmeans for regression');
SELECT throws_ok($$SELECT galaxy.train('km_bad', 'km_pts', algorithm => 'linear_regression', task => 'clustering')$$,
                 '22023', NULL, 'a regression algorithm for clustering');
SELECT lives_ok(pg_temp.km('{"n_clusters": 2}', 'km_text'), 'a one-hot text column');

-- ---------------------------------------------------------------------------
-- predict and predict_proba
-- ---------------------------------------------------------------------------
SELECT lives_ok($$SELECT galaxy.train('km_pred', 'km_pts', algorithm => 'kmeans', task => 'clustering',
                                      hyperparams => '{"n_clusters": 2}', test_size => 0)$$, 'train km_pred');
SELECT is((SELECT count(DISTINCT galaxy.predict('km_pred', ARRAY[x, y]))::int FROM km_pts), 2,
          'predict gives the two clusters');
SELECT throws_ok($$SELECT galaxy.predict_proba('km_pred', ARRAY[1, 2]::float8[])$$, '42809',
                 'predict_proba needs a classification model; this one is clustering (kmeans)',
                 'predict_proba is refused on a clustering model');
SELECT throws_ok($$SELECT galaxy.predict('km_pred', ARRAY[1, 2, 3]::float8[])$$, '2202E', NULL,
                 'predict: float8[] of 3 values for 2 features');
SELECT is(galaxy.predict_label('km_pred', ARRAY[10.5, 10.5]::float8[]),
          galaxy.predict('km_pred', ARRAY[10.5, 10.5]::float8[])::int::text, 'predict_label is the cluster index');

-- ---------------------------------------------------------------------------
-- damaged model values: XX001, never a crash
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE km_bytes AS
SELECT galaxy.model_send(model) AS b FROM galaxy.train('km_m', 'km_pts', algorithm => 'kmeans', task => 'clustering',
       hyperparams => '{"n_clusters": 2}', test_size => 0, deploy => 'never');
CREATE FUNCTION pg_temp.as_text(b bytea) RETURNS text LANGUAGE sql AS $$
    SELECT 'galaxy:' || translate(encode(b, 'base64'), E'\n', '')
$$;
-- CRC-32C (Castagnoli, reflected 0x82F63B78), as the model header's checksum
CREATE FUNCTION pg_temp.crc32c(b bytea) RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    tbl bigint[];
    c bigint;
    crc bigint := 4294967295;
BEGIN
    FOR i IN 0..255 LOOP
        c := i;
        FOR k IN 1..8 LOOP
            c := CASE WHEN (c & 1) = 1 THEN (c >> 1) # 2197175160 ELSE c >> 1 END;
        END LOOP;
        tbl[i] := c;
    END LOOP;
    FOR i IN 0..length(b) - 1 LOOP
        crc := tbl[(crc # get_byte(b, i)) & 255] # (crc >> 8);
    END LOOP;
    RETURN crc # 4294967295;
END $$;
CREATE FUNCTION pg_temp.le32(v bigint) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT set_byte(set_byte(set_byte(set_byte('\x00000000'::bytea, 0, (v & 255)::int), 1, ((v >> 8) & 255)::int),
                             2, ((v >> 16) & 255)::int), 3, ((v >> 24) & 255)::int)
$$;
-- an uncompressed value whose payload was edited, payload size and checksum made to fit again
CREATE FUNCTION pg_temp.resealed(b bytea) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.as_text(overlay(overlay(b placing pg_temp.le32(length(b) - 32) from 25 for 4)
                                   placing pg_temp.le32(pg_temp.crc32c(substr(b, 33))) from 29 for 4))
$$;
-- b with 'with_' written at offset 'at' from the KMN1 tag, resealed
CREATE FUNCTION pg_temp.edited(b bytea, at int, with_ bytea) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.resealed(overlay(b placing with_ from position('\x4b4d4e31'::bytea in b) + at for length(with_)))
$$;
CREATE FUNCTION pg_temp.parse_state(t text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM galaxy.describe(t::galaxy.model);
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;

SELECT is((SELECT pg_temp.parse_state(pg_temp.resealed(b)) FROM km_bytes), 'ok',
          'resealing an unedited value changes nothing');
-- KMN1 layout: tag, u32 k (+4), u32 features (+8), f64 inertia (+12), i32 iterations (+20), centres (+24)
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 4, pg_temp.le32(0))::galaxy.model) FROM km_bytes$$,
                   '%kmeans model with no cluster%', 'k = 0');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 4, pg_temp.le32(3))::galaxy.model) FROM km_bytes$$,
                   'corrupted galaxy.model%', 'k = 3 with the bytes of 2');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 4, pg_temp.le32(4000000000))::galaxy.model) FROM km_bytes$$,
                   'corrupted galaxy.model%', 'k = 4e9');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 8, pg_temp.le32(3))::galaxy.model) FROM km_bytes$$,
                   '%kmeans centres of 3 features, header says 2%', 'feature count unlike the header');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 24, '\x000000000000f87f'::bytea)::galaxy.model) FROM km_bytes$$,
                   '%kmeans centre%', 'a NaN centre');
SELECT throws_like($$SELECT galaxy.describe(pg_temp.edited(b, 12, '\x000000000000f0bf'::bytea)::galaxy.model) FROM km_bytes$$,
                   '%kmeans inertia -1%', 'a negative inertia');
-- every single-byte edit of the payload (three ways), deletion and insertion,
-- behind a valid checksum: only 'ok' or XX001
SELECT is((SELECT string_agg(DISTINCT r, ',' ORDER BY r)
             FROM (SELECT pg_temp.parse_state(pg_temp.resealed(
                            CASE m WHEN 0 THEN set_byte(b, p, get_byte(b, p) # 255)
                                   WHEN 1 THEN set_byte(b, p, get_byte(b, p) # 1)
                                   WHEN 2 THEN set_byte(b, p, 0)
                                   WHEN 3 THEN overlay(b placing '' from p + 1 for 1)
                                   ELSE overlay(b placing '\x7f'::bytea from p + 1 for 0) END)) AS r
                     FROM km_bytes, generate_series(32, length(b) - 1) p, generate_series(0, 4) m) s),
          'XX001,ok', 'every edited value is read or refused as corrupted (XX001), nothing else');

SELECT is((SELECT pg_postmaster_start_time() = started AND pg_backend_pid() = pid FROM km_start), true,
          'the server did not restart and this session survived');

SELECT * FROM finish();
ROLLBACK;
