-- test/pgtap/governance.sql — roles and privileges, row-level security,
-- versions, model immutability, deployments and strategies, canary routing,
-- approvals (four eyes), export/import, search_path hijacking.
-- Runs in a fresh database with pgtap and galaxy (scripts/check), as a superuser.
BEGIN;
SELECT plan(136);

-- ---------------------------------------------------------------------------
-- Fixtures: data, people
-- ---------------------------------------------------------------------------
CREATE TABLE public.gov_lin AS
SELECT g AS id, (g % 7)::float8 AS x1, (g % 11)::float8 AS x2, (g % 5)::float8 AS x3,
       (3 * (g % 7) - 2 * (g % 11) + (g % 5) + 0.1 * sin(g))::float8 AS y
  FROM generate_series(1, 300) g;

CREATE ROLE gov_alice LOGIN IN ROLE galaxy_trainer;     -- trains and deploys her project
CREATE ROLE gov_bob LOGIN IN ROLE galaxy_trainer;       -- another trainer
CREATE ROLE gov_rita LOGIN IN ROLE galaxy_reader;       -- an application: predicts
CREATE ROLE gov_aaron LOGIN IN ROLE galaxy_approver, galaxy_trainer;  -- approvers
CREATE ROLE gov_ann LOGIN IN ROLE galaxy_approver;
CREATE ROLE gov_root LOGIN IN ROLE galaxy_admin;        -- a galaxy admin (not a superuser)
CREATE ROLE gov_nobody LOGIN;                           -- PUBLIC only
GRANT SELECT ON gov_lin TO gov_alice, gov_bob;

-- ---------------------------------------------------------------------------
-- Roles
-- ---------------------------------------------------------------------------
SELECT has_role(r, r || ' exists') FROM unnest(ARRAY['galaxy_reader', 'galaxy_trainer',
                                                     'galaxy_approver', 'galaxy_admin']) r;
SELECT ok(pg_has_role('galaxy_admin', r, 'MEMBER'), 'galaxy_admin is a member of ' || r)
  FROM unnest(ARRAY['galaxy_reader', 'galaxy_trainer', 'galaxy_approver']) r;
SELECT ok(pg_has_role('galaxy_trainer', 'galaxy_reader', 'MEMBER'), 'a trainer can do what a reader can');
SELECT ok(NOT rolcanlogin, rolname || ' cannot log in') FROM pg_roles
 WHERE rolname IN ('galaxy_reader', 'galaxy_trainer', 'galaxy_approver', 'galaxy_admin') ORDER BY rolname;

-- ---------------------------------------------------------------------------
-- Function privileges: PUBLIC keeps type I/O and describe only
-- ---------------------------------------------------------------------------
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace IN ('galaxy'::regnamespace, 'galaxy_internal'::regnamespace)
       AND has_function_privilege('gov_nobody', p.oid, 'EXECUTE')
       AND p.proname NOT IN ('model_in', 'model_out', 'model_recv', 'model_send', 'describe',
                             'moments_in', 'moments_out', 'moments_recv', 'moments_send',
                             'newton_in', 'newton_out', 'newton_recv', 'newton_send',
                             'project_visible', 'owner_visible', 'has_project_privilege')
$$, 'PUBLIC can execute only type I/O, describe and the visibility helpers');
SELECT ok(has_function_privilege('gov_rita', 'galaxy.predict(text, float8[], text)', 'EXECUTE'), 'reader: predict');
SELECT ok(NOT has_function_privilege('gov_rita', 'galaxy.train(text, regclass, text, text, jsonb, float8, text, jsonb, integer, text, integer, text[], jsonb, text, text, integer, text, text, bigint)', 'EXECUTE'),
          'reader: no train');
SELECT ok(NOT has_function_privilege('gov_rita', 'galaxy.deploy(text, bigint, float8, text)', 'EXECUTE'), 'reader: no deploy');
SELECT ok(has_function_privilege('gov_alice', 'galaxy.deploy(text, bigint, float8, text)', 'EXECUTE'), 'trainer: deploy');
SELECT ok(NOT has_function_privilege('gov_alice', 'galaxy.approve(bigint, text)', 'EXECUTE'), 'trainer: no approve');
SELECT ok(has_function_privilege('gov_aaron', 'galaxy.approve(bigint, text)', 'EXECUTE'), 'approver: approve');
SELECT ok(has_function_privilege('gov_aaron', 'galaxy.verify_audit()', 'EXECUTE'), 'approver: verify_audit');
SELECT ok(NOT has_function_privilege('gov_root', 'galaxy.purge_audit(timestamptz)', 'EXECUTE'),
          'purge_audit is for superusers only');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace IN ('galaxy'::regnamespace, 'galaxy_internal'::regnamespace) AND p.proname <> 'purge_audit'
       AND NOT has_function_privilege('gov_root', p.oid, 'EXECUTE')
$$, 'galaxy_admin can execute every other function');

-- ---------------------------------------------------------------------------
-- Every SECURITY DEFINER function pins search_path
-- ---------------------------------------------------------------------------
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace IN ('galaxy'::regnamespace, 'galaxy_internal'::regnamespace) AND p.prosecdef
       AND NOT coalesce('search_path=pg_catalog, galaxy, pg_temp' = ANY (p.proconfig), false)
$$, 'every SECURITY DEFINER function pins search_path = pg_catalog, galaxy, pg_temp');

-- ---------------------------------------------------------------------------
-- Versions (assigned at registration) and immutability
-- ---------------------------------------------------------------------------
SET LOCAL client_min_messages = warning;
SET LOCAL SESSION AUTHORIZATION gov_alice;
SELECT is((SELECT version FROM galaxy.train('alice_p', 'gov_lin', 'y', 'linear_regression',
                                            features => ARRAY['x1', 'x2', 'x3'])), '1.0.0', 'first model: 1.0.0');
SELECT is((SELECT version FROM galaxy.train('alice_p', 'gov_lin', 'y', 'linear_regression',
                                            features => ARRAY['x1', 'x2', 'x3'],
                                            hyperparams => '{"alpha": 50}', deploy => 'never')),
          '1.1.0', 'retrain with the same schema: minor bump');
SELECT is((SELECT version FROM galaxy.train('alice_p', 'gov_lin', 'y', 'linear_regression',
                                            features => ARRAY['x1', 'x2'], deploy => 'never')),
          '2.0.0', 'a changed feature schema: major bump');
SELECT is((SELECT version FROM galaxy.train('alice_p', 'gov_lin', 'y', 'linear_regression',
                                            features => ARRAY['x1', 'x2'], hyperparams => '{"alpha": 5}',
                                            deploy => 'never')),
          '2.1.0', 'retrain on the new schema: minor bump of the new major');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION gov_bob;
SELECT is((SELECT version FROM galaxy.train('bob_p', 'gov_lin', 'y', 'linear_regression')), '1.0.0',
          'versions are per project');
RESET SESSION AUTHORIZATION;
RESET client_min_messages;

CREATE TEMP TABLE m AS
SELECT m.version, m.id FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id WHERE p.name = 'alice_p';
GRANT SELECT ON m TO PUBLIC;

CREATE TEMP TABLE bob_model AS
SELECT m.id FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id WHERE p.name = 'bob_p';
GRANT SELECT ON bob_model TO PUBLIC;

SELECT is((SELECT owner::text FROM galaxy.projects WHERE name = 'alice_p'), 'gov_alice',
          'the trainer owns the project she created');
SELECT throws_ok($$UPDATE galaxy.models SET metrics = '{"r2": 1}' WHERE id = (SELECT id FROM m WHERE version = '1.1.0')$$,
                 '55000', NULL, 'a ready model''s metrics cannot change (even for the owner of the table)');
SELECT throws_ok($$UPDATE galaxy.models SET hyperparams = '{}' WHERE id = (SELECT id FROM m WHERE version = '1.1.0')$$,
                 '55000', NULL, 'a ready model''s hyperparameters cannot change');
SELECT throws_ok($$UPDATE galaxy.models SET model = (SELECT model FROM galaxy.models WHERE id = (SELECT id FROM m WHERE version = '2.0.0'))
                   WHERE id = (SELECT id FROM m WHERE version = '1.1.0')$$,
                 '55000', NULL, 'a ready model''s value cannot change');
SELECT throws_ok($$UPDATE galaxy.models SET version = '9.9.9', version_major = 9, version_minor = 9, version_patch = 9
                   WHERE id = (SELECT id FROM m WHERE version = '1.1.0')$$,
                 '55000', NULL, 'a ready model''s version cannot change');
SELECT throws_ok($$UPDATE galaxy.models SET status = 'training' WHERE id = (SELECT id FROM m WHERE version = '1.1.0')$$,
                 '55000', NULL, 'a ready model cannot go back to training');
SELECT lives_ok($$UPDATE galaxy.models SET status = 'archived' WHERE id = (SELECT id FROM m WHERE version = '2.1.0')$$,
                'ready → archived is allowed');
SELECT throws_ok($$UPDATE galaxy.models SET status = 'ready' WHERE id = (SELECT id FROM m WHERE version = '2.1.0')$$,
                 '55000', NULL, 'archived → ready is not');

-- ---------------------------------------------------------------------------
-- Row-level security: each sees what they own or were granted
-- ---------------------------------------------------------------------------
SET LOCAL SESSION AUTHORIZATION gov_alice;
SELECT results_eq($$SELECT name FROM galaxy.projects ORDER BY name$$, ARRAY['alice_p'],
                  'alice sees her project only');
SELECT is((SELECT count(*)::int FROM galaxy.models), 4, 'alice sees her models only');
SELECT is((SELECT count(*)::int FROM galaxy.deployed_models), 1, 'the BI view applies the same visibility');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION gov_rita;
SELECT is((SELECT count(*)::int FROM galaxy.projects), 0, 'a reader sees no private project');
SELECT is((SELECT count(*)::int FROM galaxy.models), 0, 'nor its models');
SELECT throws_ok($$SELECT galaxy.deployed_model('alice_p')$$, '42501', NULL,
                 'a reader cannot ask about a project she was not granted');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION gov_aaron;
SELECT is((SELECT count(*)::int FROM galaxy.projects), 2, 'an approver sees every project (to review requests)');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION gov_root;
SELECT is((SELECT count(*)::int FROM galaxy.models), 5, 'an admin sees everything');
RESET SESSION AUTHORIZATION;

SET LOCAL SESSION AUTHORIZATION gov_alice;
SELECT lives_ok($$SELECT galaxy.grant_project('alice_p', 'gov_rita', 'read')$$, 'the owner grants read');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION gov_rita;
SELECT results_eq($$SELECT name FROM galaxy.projects$$, ARRAY['alice_p'], 'granted read: the reader sees the project');
SELECT ok(galaxy.predict('alice_p', ARRAY[1, 2, 3]::float8[]) IS NOT NULL, 'the reader can predict');
SELECT is(galaxy.deployed_model('alice_p'), (SELECT id FROM m WHERE version = '1.0.0'),
          'the reader can ask which model serves');
SELECT throws_ok($$SELECT galaxy.deploy('alice_p', (SELECT id FROM m WHERE version = '1.1.0'))$$, '42501', NULL,
                 'the reader cannot deploy');
SELECT throws_ok($$SELECT galaxy.train('alice_p', 'gov_lin', 'y')$$, '42501', NULL, 'the reader cannot train');
SELECT throws_ok($$SELECT galaxy.grant_project('alice_p', 'gov_rita', 'all')$$, '42501', NULL,
                 'the reader cannot grant herself more');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION gov_bob;
SELECT throws_ok($$SELECT galaxy.deploy('alice_p', (SELECT id FROM m WHERE version = '1.1.0'))$$, '42501', NULL,
                 'another trainer cannot deploy in alice''s project');
SELECT throws_ok($$SELECT galaxy.grant_project('alice_p', 'gov_bob', 'all')$$, '42501', NULL,
                 'another trainer cannot grant himself alice''s project');
SELECT throws_like($$SELECT galaxy.export_model((SELECT id FROM m WHERE version = '1.0.0'))$$,
                   '%permission denied to export%',
                   'another trainer cannot export alice''s model');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION gov_nobody;
SELECT throws_ok($$SELECT * FROM galaxy.projects$$, '42501', NULL, 'PUBLIC cannot read the catalog');
RESET SESSION AUTHORIZATION;

-- ---------------------------------------------------------------------------
-- Deployments: specific, strategies, rollback, views
-- ---------------------------------------------------------------------------
SET LOCAL SESSION AUTHORIZATION gov_alice;
SELECT is((SELECT model_id FROM galaxy.deploy('alice_p', (SELECT id FROM m WHERE version = '1.1.0'), reason => 'try 1.1'))::int,
          (SELECT id FROM m WHERE version = '1.1.0')::int, 'deploy a specific model');
SELECT is(galaxy.deployed_model('alice_p'), (SELECT id FROM m WHERE version = '1.1.0'), 'it serves');
SELECT is((SELECT status FROM galaxy.models WHERE id = (SELECT id FROM m WHERE version = '1.0.0')), 'ready',
          'the replaced model is ready again');
SELECT is((SELECT model_id FROM galaxy.rollback('alice_p')), (SELECT id FROM m WHERE version = '1.0.0'),
          'rollback returns to the previous primary');
SELECT is((SELECT model_id FROM galaxy.rollback('alice_p')), (SELECT id FROM m WHERE version = '1.1.0'),
          'rolling back again toggles to the model before that');
SELECT is((SELECT model_id FROM galaxy.deploy('alice_p', 'latest')), (SELECT id FROM m WHERE version = '2.0.0'),
          'latest: the newest ready model (archived ones excluded)');
SELECT is((SELECT model_id FROM galaxy.deploy('alice_p', 'best')),
          (SELECT m.id FROM galaxy.models m WHERE m.id IN (SELECT id FROM m) AND m.status <> 'archived'
            ORDER BY (m.metrics->>'r2')::float8 DESC LIMIT 1),
          'best: the highest r2');
SELECT throws_ok($$SELECT galaxy.deploy('alice_p', 'fastest')$$, '22023', NULL, 'unknown strategy');
SELECT throws_ok($$SELECT galaxy.deploy('alice_p', 'specific')$$, '22023', NULL, 'specific needs a model');
SELECT throws_ok($$SELECT galaxy.deploy('alice_p', (SELECT id FROM m WHERE version = '2.1.0'))$$, '55000', NULL,
                 'an archived model cannot be deployed');
SELECT throws_ok($$SELECT galaxy.deploy('alice_p', (SELECT id FROM m WHERE version = '1.0.0'), traffic => 1.5)$$,
                 '22023', NULL, 'traffic above 1 is refused');
SELECT throws_ok($$SELECT galaxy.deploy('alice_p', (SELECT id FROM bob_model))$$,
                 '42704', NULL, 'a model of another project is refused');
SELECT is((SELECT strategy FROM galaxy.deployments WHERE retired_at IS NULL), 'best',
          'the deployment records its strategy');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT count(*)::int FROM galaxy.audit_log WHERE action = 'deploy'
            AND current_user_name = 'gov_alice'), 6,
          'every deploy and rollback (and the first training''s automatic deploy) is audited as the acting role');

-- canary: 10 % of keys go to the canary, a key always to the same model
SET LOCAL SESSION AUTHORIZATION gov_alice;
SELECT galaxy.deploy('alice_p', (SELECT id FROM m WHERE version = '1.0.0'));
SELECT lives_ok($$SELECT galaxy.deploy('alice_p', (SELECT id FROM m WHERE version = '2.0.0'), traffic => 0.1)$$,
                'deploy a canary with 10 % of the traffic');
SELECT results_eq($$SELECT route, traffic_share::numeric(3,2) FROM galaxy.inference_routes ORDER BY route$$,
                  $$VALUES ('canary', 0.10), ('primary', 0.90)$$, 'inference_routes shows the split');
SELECT is((SELECT count(*)::int FROM galaxy.deployed_models WHERE project = 'alice_p'), 2,
          'deployed_models lists primary and canary');
CREATE TEMP TABLE canary_calls AS
SELECT g, galaxy.predict('alice_p', r, key => 'customer-' || g) AS p
  FROM generate_series(1, 10000) g, (SELECT t FROM gov_lin t WHERE id = 17) r(r);
GRANT SELECT ON canary_calls TO PUBLIC;
CREATE TEMP TABLE canary_pred AS
SELECT galaxy.predict((SELECT id FROM m WHERE version = '2.0.0'), t) AS canary,
       galaxy.predict((SELECT id FROM m WHERE version = '1.0.0'), t) AS primary_
  FROM gov_lin t WHERE id = 17;
GRANT SELECT ON canary_pred TO PUBLIC;
SELECT ok((SELECT canary <> primary_ FROM canary_pred), 'the two models predict differently on the probe row');
SELECT is((SELECT count(*)::int FROM canary_calls c, canary_pred p WHERE c.p NOT IN (p.canary, p.primary_)), 0,
          'every call was served by the primary or the canary');
SELECT cmp_ok((SELECT abs(count(*) FILTER (WHERE c.p = p.canary) / 10000.0 - 0.10)
                 FROM canary_calls c, canary_pred p), '<=', 0.015,
              'the canary gets 10 % ± 1.5 % of 10 000 keyed calls');
SELECT is((SELECT count(DISTINCT galaxy.predict('alice_p', t, key => 'customer-' || k))::int
             FROM gov_lin t, generate_series(1, 20) k, generate_series(1, 5) rep
            WHERE t.id = 17 AND k = 7), 1, 'a key always hits the same model');
SELECT is((SELECT count(*)::int FROM (SELECT k, count(DISTINCT p) FROM (
              SELECT k, galaxy.predict('alice_p', t, key => 'user-' || k) AS p
                FROM gov_lin t, generate_series(1, 200) k, generate_series(1, 3) rep WHERE t.id = 17) s
            GROUP BY k HAVING count(DISTINCT p) > 1) x), 0, 'no key of 200 switches model between calls');
RESET SESSION AUTHORIZATION;

-- which model served at time T (temporal deployments)
INSERT INTO galaxy.projects (name, owner, task) VALUES ('timeline', current_user, 'regression');
INSERT INTO galaxy.deployments (project_id, model_id, deployed_at, retired_at)
SELECT p.id, m.id, '2026-01-01', '2026-02-01' FROM galaxy.projects p, m WHERE p.name = 'timeline' AND m.version = '1.0.0';
INSERT INTO galaxy.deployments (project_id, model_id, deployed_at, retired_at)
SELECT p.id, m.id, '2026-02-01', NULL FROM galaxy.projects p, m WHERE p.name = 'timeline' AND m.version = '1.1.0';
SELECT is(galaxy.deployed_model('timeline', '2025-12-31'), NULL, 'nothing served before the first deployment');
SELECT is(galaxy.deployed_model('timeline', '2026-01-15'), (SELECT id FROM m WHERE version = '1.0.0'),
          'the first model served in January');
SELECT is(galaxy.deployed_model('timeline', '2026-02-01'), (SELECT id FROM m WHERE version = '1.1.0'),
          'the second model serves from the instant of the switch');
SELECT is(galaxy.deployed_model('timeline', now()), (SELECT id FROM m WHERE version = '1.1.0'),
          'and still serves now');

-- ---------------------------------------------------------------------------
-- Approvals (four eyes)
-- ---------------------------------------------------------------------------
SET LOCAL galaxy.require_approval = on;
SET LOCAL SESSION AUTHORIZATION gov_alice;
SELECT throws_ok($$SELECT galaxy.deploy('alice_p', (SELECT id FROM m WHERE version = '1.1.0'))$$, '55000',
                 'deploying galaxy model ' || (SELECT id FROM m WHERE version = '1.1.0') || ' needs an approved deployment request',
                 'with approval required, deploy without an approved request fails');
SELECT throws_like($$SELECT galaxy.deploy('alice_p', 'best')$$, '%needs an approved deployment request%',
                   'deploy by strategy fails too');
SELECT lives_ok($$SELECT galaxy.rollback('alice_p')$$, 'a rollback to a model that served before needs no approval');
SELECT throws_ok($$SET galaxy.require_approval = off$$, '42501', NULL, 'a trainer cannot turn approval off');
SELECT throws_ok($$SELECT galaxy.set_require_approval('alice_p', false)$$, '42501', NULL,
                 'nor for her own project');
CREATE TEMP TABLE req AS SELECT galaxy.request_deployment((SELECT id FROM m WHERE version = '1.1.0'), 'better r2') AS id;
GRANT SELECT ON req TO PUBLIC;
SELECT throws_ok($$SELECT galaxy.approve((SELECT id FROM req))$$, '42501', NULL,
                 'a trainer (not an approver) cannot approve');
RESET SESSION AUTHORIZATION;
-- an approver with deploy rights asks; he must not approve himself
SELECT galaxy.grant_project('alice_p', 'gov_aaron', 'deploy');
SET LOCAL SESSION AUTHORIZATION gov_aaron;
CREATE TEMP TABLE req2 AS SELECT galaxy.request_deployment((SELECT id FROM m WHERE version = '1.0.0')) AS id;
GRANT SELECT ON req2 TO PUBLIC;
SELECT throws_like($$SELECT galaxy.approve((SELECT id FROM req2))$$, '%cannot approve its own deployment request%',
                   'an approver cannot approve his own request');
SELECT throws_ok($$SELECT galaxy.approve((SELECT id FROM req2))$$, '42501', NULL, '... with 42501');
SELECT is((SELECT state FROM galaxy.approve((SELECT id FROM req), 'looks good')), 'approved',
          'another approver approves alice''s request');
SELECT throws_ok($$SELECT galaxy.approve((SELECT id FROM req))$$, '55000', NULL, 'a request is decided once');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION gov_ann;
SELECT is((SELECT state FROM galaxy.reject((SELECT id FROM req2), 'not now')), 'rejected', 'a request can be rejected');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION gov_alice;
SELECT is((SELECT model_id FROM galaxy.deploy('alice_p', (SELECT id FROM m WHERE version = '1.1.0'))),
          (SELECT id FROM m WHERE version = '1.1.0'), 'with an approved request the deploy succeeds');
SELECT is((SELECT state FROM galaxy.approval_requests WHERE id = (SELECT id FROM req)), 'used', 'the approval is used up');
SELECT is((SELECT deployment_id FROM galaxy.approvals WHERE id = (SELECT id FROM req)),
          (SELECT id FROM galaxy.deployments WHERE retired_at IS NULL AND traffic = 1
              AND project_id = (SELECT id FROM galaxy.projects WHERE name = 'alice_p')),
          'and linked to the deployment it allowed');
SELECT throws_like($$SELECT galaxy.deploy('alice_p', (SELECT id FROM m WHERE version = '1.0.0'))$$,
                   '%needs an approved deployment request%', 'a rejected request allows nothing');
RESET SESSION AUTHORIZATION;
-- expiry
SET LOCAL SESSION AUTHORIZATION gov_alice;
CREATE TEMP TABLE req3 AS SELECT galaxy.request_deployment((SELECT id FROM m WHERE version = '2.0.0')) AS id;
GRANT SELECT ON req3 TO PUBLIC;
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION gov_ann;
SELECT galaxy.approve((SELECT id FROM req3));
RESET SESSION AUTHORIZATION;
UPDATE galaxy.approvals SET expires_at = now() - interval '1 second' WHERE id = (SELECT id FROM req3);
SET LOCAL SESSION AUTHORIZATION gov_alice;
SELECT is((SELECT state FROM galaxy.approval_requests WHERE id = (SELECT id FROM req3)), 'expired',
          'an approval past galaxy.approval_ttl shows as expired');
SELECT throws_like($$SELECT galaxy.deploy('alice_p', (SELECT id FROM m WHERE version = '2.0.0'))$$,
                   '%needs an approved deployment request%', 'an expired approval allows nothing');
RESET SESSION AUTHORIZATION;
SELECT is(current_setting('galaxy.approval_ttl'), '7d', 'galaxy.approval_ttl defaults to 7 days');
-- the gate closes every other path, e.g. the automatic deploy after training
CREATE TEMP TABLE auto_deploy (deployed boolean);
GRANT INSERT, SELECT ON auto_deploy TO PUBLIC;
SET LOCAL SESSION AUTHORIZATION gov_alice;
DO $d$
DECLARE
    deployed boolean := false;
BEGIN
    BEGIN
        PERFORM galaxy.train('alice_p', 'public.gov_lin', 'y', 'linear_regression',
                             features => ARRAY['x1', 'x2', 'x3'], deploy => 'always');
        deployed := EXISTS (SELECT 1 FROM galaxy.deployments
                             WHERE retired_at IS NULL AND model_id = (SELECT max(id) FROM galaxy.models));
        RAISE EXCEPTION 'undo the training';
    EXCEPTION WHEN OTHERS THEN
        NULL;
    END;
    INSERT INTO auto_deploy VALUES (deployed);
END
$d$;
SELECT is((SELECT deployed FROM auto_deploy), false,
          'training with deploy => ''always'' does not deploy without an approved request');
RESET SESSION AUTHORIZATION;
-- per-project setting
SET LOCAL galaxy.require_approval = off;
SELECT galaxy.set_require_approval('alice_p', true);
SET LOCAL SESSION AUTHORIZATION gov_alice;
SELECT throws_like($$SELECT galaxy.deploy('alice_p', (SELECT id FROM m WHERE version = '1.0.0'))$$,
                   '%needs an approved deployment request%', 'a project can require approval on its own');
RESET SESSION AUTHORIZATION;
SELECT galaxy.set_require_approval('alice_p', NULL);
SELECT is((SELECT count(*)::int FROM galaxy.audit_log
            WHERE action IN ('request_deployment', 'approve', 'reject', 'set_require_approval')), 8,
          'requests, decisions and settings are audited');

-- ---------------------------------------------------------------------------
-- Export / import
-- ---------------------------------------------------------------------------
SET LOCAL SESSION AUTHORIZATION gov_alice;
CREATE TEMP TABLE exp AS SELECT galaxy.export_model((SELECT id FROM m WHERE version = '1.1.0')) AS data;
GRANT SELECT ON exp TO PUBLIC;
SELECT is(substr((SELECT data FROM exp), 1, 8), convert_to('GLXEXPRT', 'UTF8'), 'an export starts with its magic');
CREATE TEMP TABLE imp AS SELECT * FROM galaxy.import_model('alice_copy', (SELECT data FROM exp));
GRANT SELECT ON imp TO PUBLIC;
SELECT is((SELECT version FROM imp), '1.0.0', 'the import is the first version of a new project');
SELECT is((SELECT imported_from->'source'->>'version' FROM imp), '1.1.0', 'it remembers where it came from');
SELECT is((SELECT count(*)::int FROM gov_lin t
            WHERE galaxy.predict((SELECT id FROM imp), t) = galaxy.predict((SELECT id FROM m WHERE version = '1.1.0'), t)),
          300, 'export → import gives identical predictions on every row');
SELECT is((SELECT version FROM galaxy.import_model('alice_p', (SELECT data FROM exp))), '3.0.0',
          'imported into its own project, whose latest model has another schema: a major bump');
SELECT throws_ok($$SELECT galaxy.import_model('alice_copy', set_byte((SELECT data FROM exp), 200,
                     get_byte((SELECT data FROM exp), 200) # 1))$$,
                 'XX001', NULL, 'a flipped bit is caught by the checksum');
SELECT throws_ok($$SELECT galaxy.import_model('alice_copy', substr((SELECT data FROM exp), 1, 100))$$,
                 '22P03', NULL, 'a truncated export is refused');
SELECT throws_ok($$SELECT galaxy.import_model('alice_copy', 'not an export'::bytea)$$,
                 '22P03', NULL, 'random bytes are refused');
-- a consistent forgery (checksum recomputed, written as an unsigned version 1
-- export: nobody but galaxy holds the key that signs version 2)
CREATE FUNCTION pg_temp.le32(n int) RETURNS bytea LANGUAGE sql AS $f$
    SELECT set_byte(set_byte(set_byte(set_byte('\x00000000'::bytea, 0, n & 255), 1, (n >> 8) & 255),
                    2, (n >> 16) & 255), 3, (n >> 24) & 255) $f$;
CREATE FUNCTION pg_temp.forge(data bytea, key text, val jsonb) RETURNS bytea LANGUAGE sql AS $f$
    WITH parts AS (
        SELECT get_byte(data, 12) + 256 * get_byte(data, 13) + 65536 * get_byte(data, 14) AS mlen),
    pieces AS (
        SELECT '\x474c58455850525401000000'::bytea AS head0,
               convert_to(jsonb_set(convert_from(substr(data, 17, mlen), 'UTF8')::jsonb, ARRAY[key], val)::text,
                          'UTF8') AS meta,
               substr(data, 17 + mlen, length(data) - 64 - 16 - mlen) AS rest
          FROM parts),
    body AS (SELECT substr(head0, 1, 12) || pg_temp.le32(length(meta)) || meta || rest AS b FROM pieces)
    SELECT b || sha256(b) FROM body $f$;
SELECT throws_ok($$SELECT galaxy.import_model('alice_copy', pg_temp.forge((SELECT data FROM exp), 'note', '"re-signed"'))$$,
                 '42501', NULL, 'an export this cluster did not sign is refused to a trainer');
RESET SESSION AUTHORIZATION;
SELECT lives_ok($$SELECT galaxy.import_model('alice_copy', pg_temp.forge((SELECT data FROM exp), 'note', '"re-signed"'))$$,
                'a galaxy_admin imports it as a foreign model (the forging helper is right)');
SELECT is((SELECT (imported_from->>'authenticated')::boolean FROM galaxy.models ORDER BY id DESC LIMIT 1), false,
          'the foreign import is marked unauthenticated');
SELECT is((SELECT metrics FROM galaxy.models ORDER BY id DESC LIMIT 1), '{}'::jsonb,
          'its claimed metrics are kept apart, so they never choose a deployment');
-- audit rows are bounded: 100 kB of claimed provenance is kept as its size and SHA-256
SELECT lives_ok($$SELECT galaxy.import_model('padded_copy', pg_temp.forge((SELECT data FROM exp), 'source',
                    jsonb_build_object('pad', repeat('x', 100000))))$$,
                'an import whose claimed source is 100 kB');
SELECT ok((SELECT (details->>'details_truncated')::boolean AND octet_length(details::text) < 8192
             FROM galaxy.audit_log WHERE action = 'import' ORDER BY id DESC LIMIT 1),
          'its audit row holds the details'' size and SHA-256, not the 100 kB');
SELECT ok(NOT has_column_privilege('galaxy_reader', 'galaxy.models', 'model', 'SELECT')
          AND has_column_privilege('galaxy_reader', 'galaxy.models', 'metrics', 'SELECT'),
          'readers (and so approvers) may read every column of galaxy.models but the model bytes');
SELECT throws_like($$SELECT galaxy.import_model('alice_copy', pg_temp.forge((SELECT data FROM exp), 'algorithm', '"kmeans"'))$$,
                   '%metadata says algorithm "kmeans"%', 'metadata that lies about the algorithm is refused');
SELECT throws_like($$SELECT galaxy.import_model('alice_copy', pg_temp.forge((SELECT data FROM exp), 'features', '["x1", "x9", "x3"]'))$$,
                   '%metadata input 2 is x9%', 'metadata that lies about the inputs is refused');
SELECT throws_ok($$SELECT galaxy.import_model('alice_copy', pg_temp.forge((SELECT data FROM exp), 'metrics', '[1]'))$$,
                 '22P03', NULL, 'malformed metadata is refused with 22P03');
SELECT is((SELECT count(*)::int FROM galaxy.audit_log WHERE action IN ('export', 'import')), 5,
          'exports and imports are audited');

-- ---------------------------------------------------------------------------
-- search_path hijack: look-alike functions and operators earlier on the
-- caller's path change nothing (and are never run as the catalog owner)
-- ---------------------------------------------------------------------------
CREATE SCHEMA gov_evil AUTHORIZATION gov_bob;
SET LOCAL SESSION AUTHORIZATION gov_bob;
CREATE FUNCTION gov_evil.now() RETURNS timestamptz LANGUAGE plpgsql AS
    $f$BEGIN RAISE EXCEPTION 'hijacked now() as %', current_user; END$f$;
CREATE FUNCTION gov_evil.eq8(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS
    $f$BEGIN RAISE EXCEPTION 'hijacked = as %', current_user; END$f$;
CREATE OPERATOR gov_evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = gov_evil.eq8);
CREATE FUNCTION gov_evil.eqt(text, text) RETURNS boolean LANGUAGE plpgsql AS
    $f$BEGIN RAISE EXCEPTION 'hijacked text = as %', current_user; END$f$;
CREATE OPERATOR gov_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = gov_evil.eqt);
CREATE FUNCTION gov_evil.project_visible(bigint) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE FUNCTION gov_evil.audit_canonical(galaxy.audit_log) RETURNS bytea LANGUAGE sql AS $f$SELECT '\x'::bytea$f$;
RESET SESSION AUTHORIZATION;
-- run SQL with the hijacked search_path; returns its first value, or the error
CREATE FUNCTION pg_temp.hijacked(sql text) RETURNS text LANGUAGE plpgsql
    SET search_path = gov_evil, pg_catalog, galaxy, public AS $f$
DECLARE
    r text;
BEGIN
    EXECUTE sql INTO r;
    RETURN coalesce(r, 'ok');
EXCEPTION WHEN others THEN
    RETURN 'ERROR: ' || SQLERRM;
END
$f$;
SET LOCAL SESSION AUTHORIZATION gov_bob;
SELECT is(pg_temp.hijacked('SELECT 1::bigint = 1::bigint'), 'ERROR: hijacked = as gov_bob',
          'the trap works on unqualified SQL');
SELECT unalike(pg_temp.hijacked($$SELECT galaxy.train('bob_p', 'public.gov_lin', 'y', 'linear_regression', deploy => 'never')$$),
              'ERROR%', 'train with a hijacked search_path');
SELECT unalike(pg_temp.hijacked($$SELECT galaxy.deploy('bob_p', 'latest')$$), 'ERROR%',
              'deploy by strategy with a hijacked search_path');
SELECT unalike(pg_temp.hijacked($$SELECT galaxy.rollback('bob_p')$$), 'ERROR%',
              'rollback with a hijacked search_path');
SELECT unalike(pg_temp.hijacked($$SELECT galaxy.request_deployment((SELECT max(id) FROM galaxy.models))$$), 'ERROR%',
              'request_deployment with a hijacked search_path');
SELECT unalike(pg_temp.hijacked($$SELECT galaxy.grant_project('bob_p', 'gov_rita', 'read')$$), 'ERROR%',
              'grant_project with a hijacked search_path');
SELECT unalike(pg_temp.hijacked($$SELECT galaxy.deployed_model('bob_p')$$), 'ERROR%',
              'deployed_model with a hijacked search_path');
SELECT is(pg_temp.hijacked($$SELECT count(*) FROM galaxy.projects$$), '1',
          'row-level security still shows bob only his project');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION gov_aaron;
SELECT is(pg_temp.hijacked($$SELECT ok FROM galaxy.verify_audit()$$), 'true',
          'the audit chain written under a hijacked search_path verifies');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT count(*)::int FROM galaxy.audit_log WHERE current_user_name = 'gov_bob'
            AND action IN ('train', 'deploy', 'request_deployment', 'grant_project')), 7,
          'and records what bob really did');

-- deleting a project cuts provenance links (ON DELETE SET NULL) past the immutability trigger
SELECT is((SELECT count(*)::int FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id
            WHERE p.name = 'alice_copy' AND m.parent_id IS NOT NULL), 1, 'an imported model has a parent');
SELECT lives_ok($$DELETE FROM galaxy.projects WHERE name = 'alice_copy'$$,
                'a project with model lineage can be deleted');

-- predict and train check project access themselves (C paths bypass RLS);
-- rita got read on bob_p in the search_path test above: take it back first
SELECT lives_ok($$SELECT galaxy.revoke_project('bob_p', 'gov_rita')$$, 'the read grant on bob_p is revoked');
SET LOCAL SESSION AUTHORIZATION gov_rita;
SELECT throws_ok($$SELECT galaxy.predict('bob_p', ARRAY[1, 2, 3]::float8[])$$, '42501', NULL,
                 'a reader cannot predict with a project she was not granted');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION gov_bob;
SELECT throws_ok($$SELECT galaxy.train('alice_p', 'gov_lin', 'y', 'linear_regression', deploy => 'never')$$,
                 '42501', NULL, 'another trainer cannot train into alice''s project');
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
