-- test/pgtap/audit.sql — the audit log: hash chain, append-only guards,
-- tamper detection, retention with anchors, the canonical encoding.
-- Runs in a fresh database with pgtap and galaxy (scripts/check), as a superuser.
BEGIN;
SELECT plan(49);

-- ---------------------------------------------------------------------------
-- Structure
-- ---------------------------------------------------------------------------
SELECT has_table('galaxy', 'audit_purges', 'galaxy.audit_purges exists');
SELECT has_trigger('galaxy', 'audit_log', 'audit_log_chain', 'audit rows are chained by a trigger');
SELECT has_trigger('galaxy', 'audit_log', 'audit_log_append_only', 'audit rows are guarded against UPDATE/DELETE');
SELECT has_trigger('galaxy', 'audit_log', 'audit_log_no_truncate', 'the audit log is guarded against TRUNCATE');
SELECT is((SELECT column_default FROM information_schema.columns
            WHERE table_schema = 'galaxy' AND table_name = 'audit_log' AND column_name = 'id'),
          NULL, 'audit ids have no default: the chain trigger assigns them under the chain lock');
SELECT ok(format('galaxy.%I', t)::regclass::oid = ANY (
              (SELECT extconfig FROM pg_extension WHERE extname = 'galaxy')::oid[]),
          'galaxy.' || t || ' is dumped by pg_dump')
  FROM unnest(ARRAY['audit_purges', 'approvals', 'project_grants']) t;
SELECT volatility_is('galaxy', 'verify_audit', '{}'::name[], 'stable', 'verify_audit is STABLE');

-- ---------------------------------------------------------------------------
-- Writing: galaxy's functions audit; direct inserts are chained too
-- ---------------------------------------------------------------------------
SELECT is((SELECT count(*)::int FROM galaxy.audit_log), 0, 'a new database starts with an empty audit log');
INSERT INTO galaxy.projects (name, owner) VALUES ('audited', current_user);
SELECT galaxy.grant_project('audited', 'public', 'read');
SELECT galaxy.revoke_project('audited', 'public');
INSERT INTO galaxy.audit_log (action, object_type, object_id, details)
VALUES ('note', 'test', '1', '{"b": [1, 2], "a": "x"}'),
       ('note', 'test', '2', NULL);
SET LOCAL application_name = 'audit tap';
INSERT INTO galaxy.audit_log (action, object_type, id, at, session_user_name)
VALUES ('spoof', 'test', 999999, '2000-01-01', 'nobody');

SELECT results_eq($$SELECT action FROM galaxy.audit_log ORDER BY id$$,
                  ARRAY['grant_project', 'revoke_project', 'note', 'note', 'spoof'],
                  'API calls and direct inserts are logged in order');
SELECT results_eq($$SELECT id FROM galaxy.audit_log ORDER BY id$$,
                  $$SELECT generate_series(1, 5)::bigint$$,
                  'ids are assigned by the chain trigger (a given id is overridden)');
SELECT is((SELECT session_user_name::text FROM galaxy.audit_log WHERE action = 'spoof'), session_user::text,
          'session_user_name is taken from the session, not from the INSERT');
SELECT ok((SELECT at > '2020-01-01' FROM galaxy.audit_log WHERE action = 'spoof'),
          'at is the time of writing, not the value given');
SELECT is((SELECT application_name FROM galaxy.audit_log WHERE action = 'spoof'), 'audit tap',
          'application_name is recorded');
SELECT is((SELECT count(DISTINCT txid)::int FROM galaxy.audit_log), 1,
          'all rows of this transaction carry its txid');
SELECT is((SELECT txid FROM galaxy.audit_log LIMIT 1), pg_current_xact_id(), 'txid is pg_current_xact_id()');
SELECT is((SELECT details FROM galaxy.audit_log WHERE object_id = '2'), '{}'::jsonb,
          'NULL details become {}');
SELECT is((SELECT details->>'grantee' FROM galaxy.audit_log WHERE action = 'grant_project'), 'public',
          'grant_project records what it granted');

-- ---------------------------------------------------------------------------
-- The chain
-- ---------------------------------------------------------------------------
SELECT is((SELECT prev_hash FROM galaxy.audit_log ORDER BY id LIMIT 1), '\x'::bytea || decode(repeat('00', 32), 'hex'),
          'the first row chains to 32 zero bytes');
SELECT is_empty($$
    SELECT id FROM galaxy.audit_log a
     WHERE hash IS DISTINCT FROM sha256(prev_hash || galaxy.audit_canonical(a))
$$, 'every hash = sha256(prev_hash || galaxy.audit_canonical(row))');
SELECT is_empty($$
    SELECT id FROM (SELECT id, prev_hash, lag(hash) OVER (ORDER BY id) AS before FROM galaxy.audit_log) s
     WHERE before IS NOT NULL AND prev_hash IS DISTINCT FROM before
$$, 'every prev_hash is the hash of the row before it');
SELECT is((SELECT substr(galaxy.audit_canonical(a), 1, 15) FROM galaxy.audit_log a LIMIT 1),
          convert_to('galaxy-audit-v1', 'UTF8'), 'the canonical encoding starts with its version tag');
SELECT is((SELECT substr(galaxy.audit_canonical(a), 16, 9) FROM galaxy.audit_log a WHERE id = 3),
          '\x010000000000000003'::bytea, 'the id is encoded as a present-flag and 8 big-endian bytes');
SELECT row_eq($$SELECT ok, checked, first_broken_id FROM galaxy.verify_audit()$$,
              ROW(true, 5::bigint, NULL::bigint), 'verify_audit: the chain holds');
SELECT is((SELECT id FROM galaxy.audit_head()), 5::bigint, 'audit_head names the newest row');
SELECT is((SELECT hash FROM galaxy.audit_head()), (SELECT hash FROM galaxy.audit_log WHERE id = 5),
          'audit_head returns its hash');

-- ---------------------------------------------------------------------------
-- Append-only, for everybody
-- ---------------------------------------------------------------------------
SELECT throws_ok($$UPDATE galaxy.audit_log SET action = 'nothing' WHERE id = 2$$, '42501',
                 'galaxy.audit_log is append-only: UPDATE is not allowed',
                 'a superuser cannot UPDATE audit rows');
SELECT throws_ok($$DELETE FROM galaxy.audit_log WHERE id = 2$$, '42501',
                 'galaxy.audit_log is append-only: DELETE is not allowed',
                 'a superuser cannot DELETE audit rows');
SELECT throws_ok($$TRUNCATE galaxy.audit_log$$, '42501',
                 'galaxy.audit_log is append-only: TRUNCATE is not allowed',
                 'a superuser cannot TRUNCATE the audit log');
SELECT throws_ok($$TRUNCATE galaxy.audit_purges$$, '42501', NULL,
                 'the purge anchors cannot be truncated');
CREATE ROLE audit_tap_admin NOLOGIN IN ROLE galaxy_admin;
SET LOCAL ROLE audit_tap_admin;
SELECT ok((SELECT count(*) FROM galaxy.audit_log) = 5, 'galaxy_admin can read the audit log');
SELECT throws_ok($$UPDATE galaxy.audit_log SET action = 'x'$$, '42501', NULL,
                 'galaxy_admin cannot UPDATE audit rows');
SELECT throws_ok($$DELETE FROM galaxy.audit_log$$, '42501', NULL, 'galaxy_admin cannot DELETE audit rows');
SELECT throws_ok($$SELECT galaxy.purge_audit(now())$$, '42501', NULL,
                 'galaxy_admin (not a superuser) cannot purge');
RESET ROLE;
CREATE ROLE audit_tap_reader NOLOGIN IN ROLE galaxy_reader;
SET LOCAL ROLE audit_tap_reader;
SELECT throws_ok($$SELECT * FROM galaxy.audit_log$$, '42501', NULL, 'galaxy_reader cannot read the audit log');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- Tampering by a superuser who disables the triggers is caught
-- ---------------------------------------------------------------------------
SAVEPOINT tamper;
ALTER TABLE galaxy.audit_log DISABLE TRIGGER audit_log_append_only;
UPDATE galaxy.audit_log SET details = '{"b": [1, 2], "a": "y"}' WHERE id = 3;
ALTER TABLE galaxy.audit_log ENABLE TRIGGER audit_log_append_only;
SELECT row_eq($$SELECT ok, first_broken_id FROM galaxy.verify_audit()$$, ROW(false, 3::bigint),
              'a modified row is caught and named');
SELECT matches((SELECT detail FROM galaxy.verify_audit()), '^row 3 was modified',
               'the detail says the row was modified');
ROLLBACK TO SAVEPOINT tamper;

SAVEPOINT remove;
ALTER TABLE galaxy.audit_log DISABLE TRIGGER audit_log_append_only;
DELETE FROM galaxy.audit_log WHERE id = 2;
ALTER TABLE galaxy.audit_log ENABLE TRIGGER audit_log_append_only;
SELECT row_eq($$SELECT ok, first_broken_id FROM galaxy.verify_audit()$$, ROW(false, 3::bigint),
              'a removed row breaks the link of the row after it');
SELECT matches((SELECT detail FROM galaxy.verify_audit()), 'removed or rewritten',
               'the detail says rows were removed or rewritten');
ROLLBACK TO SAVEPOINT remove;

SAVEPOINT forge;
-- a forged row (restore path: it comes with a hash) that does not link
INSERT INTO galaxy.audit_log (id, action, object_type, prev_hash, hash)
VALUES (100, 'forged', 'test', sha256('x'), sha256('y'));
SELECT row_eq($$SELECT ok, first_broken_id FROM galaxy.verify_audit()$$, ROW(false, 100::bigint),
              'a forged row is caught');
ROLLBACK TO SAVEPOINT forge;

SELECT ok((SELECT ok FROM galaxy.verify_audit()), 'after rolling the tampering back the chain holds again');

-- ---------------------------------------------------------------------------
-- Retention: purge keeps the chain verifiable and is itself audited
-- ---------------------------------------------------------------------------
SELECT is(galaxy.purge_audit(now() + interval '1 hour'), 5::bigint, 'purge_audit removes the old rows');
SELECT results_eq($$SELECT action FROM galaxy.audit_log ORDER BY id$$, ARRAY['purge_audit'],
                  'the purge is audited');
SELECT is((SELECT anchor_id FROM galaxy.audit_purges), 5::bigint, 'the anchor is the last purged row');
SELECT is((SELECT prev_hash FROM galaxy.audit_log), (SELECT anchor_hash FROM galaxy.audit_purges),
          'the oldest remaining row chains to the anchor');
SELECT ok((SELECT ok FROM galaxy.verify_audit()), 'the chain verifies from the anchor');
SELECT throws_ok($$UPDATE galaxy.audit_purges SET anchor_hash = sha256('x')$$, '42501', NULL,
                 'a purge anchor cannot be changed');
INSERT INTO galaxy.audit_log (action, object_type) VALUES ('after', 'test');
SELECT ok((SELECT ok FROM galaxy.verify_audit()), 'new rows after a purge chain on');

SELECT * FROM finish();
ROLLBACK;
