-- test/pgtap/gates.sql — deployment quality gates (issue #22): set/drop and
-- their errors, privileges, the results view, enforcement on every path a
-- model starts serving by (train's deploy policy, deploy by model and by
-- strategy, canary, rollback, approve, import), latency measured by galaxy,
-- the admin's audited override, pg_dump registration.  submit()'s deploy
-- policy runs in a background worker, which cannot see this file's
-- uncommitted rows: test/t/022_gates_jobs.pl covers it (and the NOTICE).
-- Real data: breast_cancer.csv; logistic_regression scores 0.9646 on its
-- held-out rows with seed 42 and 0.9823 with seed 1.
-- Runs in a fresh database with pgtap and galaxy (scripts/check), as a superuser.
BEGIN;
SELECT plan(95);

-- ---------------------------------------------------------------------------
-- Fixtures: data, people
-- ---------------------------------------------------------------------------
CREATE TABLE public.gates_cancer (
    mean_radius float8, mean_texture float8, mean_perimeter float8, mean_area float8,
    mean_smoothness float8, mean_compactness float8, mean_concavity float8, mean_concave_points float8,
    mean_symmetry float8, mean_fractal_dimension float8, radius_error float8, texture_error float8,
    perimeter_error float8, area_error float8, smoothness_error float8, compactness_error float8,
    concavity_error float8, concave_points_error float8, symmetry_error float8, fractal_dimension_error float8,
    worst_radius float8, worst_texture float8, worst_perimeter float8, worst_area float8,
    worst_smoothness float8, worst_compactness float8, worst_concavity float8, worst_concave_points float8,
    worst_symmetry float8, worst_fractal_dimension float8, diagnosis text);
-- scripts/check runs pg_prove from the directory that holds the copy of test/
\copy public.gates_cancer FROM 'src/test/data/breast_cancer.csv' WITH (FORMAT csv, HEADER true)

CREATE ROLE gates_alice LOGIN IN ROLE galaxy_trainer;   -- owns the projects
CREATE ROLE gates_bob LOGIN IN ROLE galaxy_trainer;     -- may train in alice's project, not deploy
CREATE ROLE gates_rita LOGIN IN ROLE galaxy_reader;     -- reads alice's project
CREATE ROLE gates_vera LOGIN IN ROLE galaxy_approver;   -- reviews requests
CREATE ROLE gates_root LOGIN IN ROLE galaxy_admin;      -- a galaxy admin, not a superuser
GRANT SELECT ON public.gates_cancer TO gates_alice, gates_bob;

SELECT is((SELECT count(*)::int FROM public.gates_cancer), 569, 'breast_cancer.csv is loaded');

-- ---------------------------------------------------------------------------
-- Catalog
-- ---------------------------------------------------------------------------
SELECT has_table('galaxy', 'deployment_gates', 'gates live in galaxy.deployment_gates');
SELECT has_table('galaxy', 'model_latency', 'on-demand latency measurements live in galaxy.model_latency');
SELECT has_view('galaxy', 'gates', 'galaxy.gates lists the gates');
SELECT has_view('galaxy', 'gate_results', 'galaxy.gate_results lists the results');
SELECT ok(format('galaxy.%I', t)::regclass::oid = ANY (
              (SELECT extconfig FROM pg_extension WHERE extname = 'galaxy')::oid[]),
          'galaxy.' || t || ' is dumped by pg_dump')
  FROM unnest(ARRAY['deployment_gates', 'deployment_gates_id_seq', 'model_latency']) t;
SELECT has_function('galaxy', 'set_gate', ARRAY['text', 'text', 'text', 'double precision'],
                    'galaxy.set_gate(project, metric, op, threshold)');
SELECT has_function('galaxy', 'deploy_override', ARRAY['text', 'bigint', 'text', 'double precision'],
                    'galaxy.deploy_override(project, model, reason, traffic)');
SELECT ok(NOT has_function_privilege('galaxy_trainer', 'galaxy.deploy_override(text, bigint, text, float8)', 'EXECUTE'),
          'only galaxy_admin may execute deploy_override');
SELECT ok(has_function_privilege('galaxy_trainer', 'galaxy.set_gate(text, text, text, float8)', 'EXECUTE'),
          'trainers may execute set_gate (the project''s deploy privilege is checked inside)');

-- ---------------------------------------------------------------------------
-- Models: 0.96 and 0.98, trained before any gate; the 0.96 one serves
-- ---------------------------------------------------------------------------
SET LOCAL client_min_messages = warning;
SET LOCAL SESSION AUTHORIZATION gates_alice;
SELECT id AS m96 FROM galaxy.train('gates_p', 'public.gates_cancer', 'diagnosis', 'logistic_regression',
                                   seed => 42, deploy => 'never') \gset
SELECT id AS m98 FROM galaxy.train('gates_p', 'public.gates_cancer', 'diagnosis', 'logistic_regression',
                                   seed => 1, deploy => 'never') \gset
-- deployment_gates scans of a deploy with no gate anywhere: one lookup by the
-- deploy and one by the trigger's recheck; reading galaxy.gate_results would
-- scan it again
SELECT seq_scan + coalesce(idx_scan, 0) AS dg_before FROM pg_stat_xact_user_tables
 WHERE relid = 'galaxy.deployment_gates'::regclass \gset
SELECT galaxy.deploy('gates_p', :m96);
SELECT seq_scan + coalesce(idx_scan, 0) - :dg_before AS dg_scans FROM pg_stat_xact_user_tables
 WHERE relid = 'galaxy.deployment_gates'::regclass \gset
SELECT galaxy.grant_project('gates_p', 'gates_bob', 'train');
SELECT galaxy.grant_project('gates_p', 'gates_rita', 'read');
RESET SESSION AUTHORIZATION;
RESET client_min_messages;

SELECT is(:dg_scans::int, 2,
          'a deploy with no gate reads deployment_gates twice (its lookups), never through galaxy.gate_results');
SELECT is((SELECT round((metrics->>'accuracy')::numeric, 4) FROM galaxy.models WHERE id = :m96), 0.9646,
          'the first model scores 0.9646');
SELECT is((SELECT round((metrics->>'accuracy')::numeric, 4) FROM galaxy.models WHERE id = :m98), 0.9823,
          'the second scores 0.9823');
SELECT ok((SELECT (metrics->>'predict_p50_ms')::float8 > 0 AND (metrics->>'predict_p99_ms')::float8 >= (metrics->>'predict_p50_ms')::float8
                  AND (metrics->>'predict_latency_rows')::int = 200
             FROM galaxy.models WHERE id = :m96),
          'registration measured p50 <= p99 single-row predict latency over 200 training rows, into the metrics');
SELECT is((SELECT count(*)::int FROM pg_backend_memory_contexts WHERE name = 'galaxy cached model'), 0,
          'the models loaded to be timed do not stay in this backend''s predict cache');
SELECT ok((SELECT count(*) FROM public.gates_cancer t WHERE galaxy.predict(:m96::bigint, t) IS NOT NULL) = 569
          AND (SELECT count(*)::int FROM pg_backend_memory_contexts WHERE name = 'galaxy cached model') = 1,
          'a model predict uses is cached as before');

-- ---------------------------------------------------------------------------
-- set_gate / drop_gate: errors and privileges
-- ---------------------------------------------------------------------------
SET LOCAL SESSION AUTHORIZATION gates_alice;
SELECT lives_ok($$SELECT galaxy.set_gate('gates_p', 'accuracy', '>=', 0.975)$$,
                'the owner (deploy privilege) sets accuracy >= 0.975');
SELECT throws_ok($$SELECT galaxy.set_gate('gates_p', 'accuracy', '=>', 0.9)$$, '22023',
                 'unknown gate comparison "=>"', 'unknown comparison');
SELECT throws_ok($$SELECT galaxy.set_gate('gates_p', 'accuracy', '>=', 'NaN')$$, '22023',
                 'the threshold of a gate must be a finite number, got NaN', 'NaN threshold');
SELECT throws_ok($$SELECT galaxy.set_gate('gates_p', 'accuracy', '>=', '-Infinity')$$, '22023',
                 'the threshold of a gate must be a finite number, got -Infinity', 'infinite threshold');
SELECT throws_ok($$SELECT galaxy.set_gate('gates_p', '', '>=', 0.9)$$, '22023',
                 'the metric of a gate must not be empty', 'empty metric');
SELECT throws_ok($$SELECT galaxy.set_gate('gates_p', 'Accuracy; DROP', '>=', 0.9)$$, '22023',
                 'invalid gate metric "Accuracy; DROP"', 'a metric name that no metrics key has');
SELECT throws_ok($$SELECT galaxy.set_gate('no_such_project', 'accuracy', '>=', 0.9)$$, '42704',
                 NULL, 'unknown project');
SELECT throws_ok($$SELECT galaxy.set_gate('gates_p', NULL, '>=', 0.9)$$, '22004',
                 'metric must not be NULL', 'NULL metric');
SELECT throws_ok($$SELECT galaxy.set_gate('gates_p', 'accuracy', '>=', NULL)$$, '22004',
                 'threshold must not be NULL', 'NULL threshold');
SELECT throws_ok($$SELECT galaxy.set_gate('*', 'accuracy', '>=', 0.9)$$, '42501',
                 'only a galaxy_admin may set a default gate (project "*")', 'a trainer cannot set a default gate');
SELECT throws_ok($$SELECT galaxy.drop_gate('', 'accuracy')$$, '42704', NULL, 'drop_gate: unknown project');
SELECT is(galaxy.drop_gate('gates_p', 'roc_auc'), false, 'dropping a gate that does not exist returns false');
RESET SESSION AUTHORIZATION;

SET LOCAL SESSION AUTHORIZATION gates_bob;
SELECT throws_ok($$SELECT galaxy.set_gate('gates_p', 'accuracy', '>=', 0.5)$$, '42501', NULL,
                 'a role with train but not deploy on the project cannot set its gates');
SELECT throws_ok($$SELECT galaxy.drop_gate('gates_p', 'accuracy')$$, '42501', NULL,
                 'nor drop them');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION gates_rita;
SELECT throws_ok($$SELECT galaxy.set_gate('gates_p', 'accuracy', '>=', 0.5)$$, '42501', NULL,
                 'a reader cannot set gates');
SELECT results_eq($$SELECT project, metric, op, threshold, scope FROM galaxy.gates$$,
                  $$VALUES ('gates_p', 'accuracy', '>=', 0.975::float8, 'project')$$,
                  'a reader of the project sees its gate in galaxy.gates');
RESET SESSION AUTHORIZATION;

SELECT is((SELECT details->>'metric' || ' ' || (details->>'op') || ' ' || (details->>'threshold')
             FROM galaxy.audit_log WHERE action = 'set_gate' AND current_user_name = 'gates_alice'),
          'accuracy >= 0.975', 'set_gate is audited as the acting role, with the gate');

-- ---------------------------------------------------------------------------
-- Gate results are data
-- ---------------------------------------------------------------------------
SELECT results_eq(
    format($$SELECT status, passed, round(margin::numeric, 4) FROM galaxy.gate_results
              WHERE model IN (%s, %s) ORDER BY model$$, :m96, :m98),
    $$VALUES ('failed', false, -0.0104), ('passed', true, 0.0073)$$,
    'gate_results: the 0.96 model fails by 0.0104, the 0.98 one passes by 0.0073');
SELECT is((SELECT value_source FROM galaxy.gate_results WHERE model = :m96), 'metrics',
          'the value comes from the model''s metrics');
SELECT is((galaxy.describe(:m96::bigint) -> 'gates' -> 0 ->> 'status'), 'failed',
          'galaxy.describe(model id) shows the gate results');
SELECT is((galaxy.describe(:m98::bigint) -> 'gates' -> 0 ->> 'gate'), 'accuracy >= 0.975',
          '... naming the gate');
SELECT is((SELECT count(*)::int FROM galaxy.check_gates(:m96) WHERE NOT passed), 1,
          'check_gates(model) evaluates the model''s gates');
SET LOCAL SESSION AUTHORIZATION gates_rita;
SELECT is((SELECT count(*)::int FROM galaxy.gate_results WHERE project = 'gates_p'), 2,
          'a reader of the project sees its gate results (BI)');
RESET SESSION AUTHORIZATION;

-- ---------------------------------------------------------------------------
-- Every deploy path refuses the 0.96 model (23514) and accepts the 0.98 one
-- ---------------------------------------------------------------------------
SET LOCAL SESSION AUTHORIZATION gates_alice;
SELECT throws_ok(format('SELECT galaxy.deploy(%L, %s)', 'gates_p', :m96), '23514',
                 format('galaxy model %s fails the deployment gate "accuracy >= 0.975" of project "gates_p": accuracy = 0.964602', :m96),
                 'deploy(model): refused with the gate, the measured value and the threshold');
SELECT is((SELECT model_id FROM galaxy.deploy('gates_p', :m98))::int, :m98,
          'deploy(model): the 0.98 model is accepted');
SELECT throws_ok(format('SELECT galaxy.deploy(%L, %s, traffic => 0.1)', 'gates_p', :m96), '23514', NULL,
                 'a canary share of the 0.96 model is refused');
SELECT throws_ok($$SELECT galaxy.rollback('gates_p')$$, '23514', NULL,
                 'rollback to the older 0.96 model is refused');
SELECT throws_ok($$SELECT galaxy.deploy('gates_p', 'rollback')$$, '23514', NULL,
                 'so is the rollback strategy');
SELECT is(galaxy.deployed_model('gates_p'), :m98::bigint, 'the 0.98 model keeps serving');

-- train's deploy policy: registered, not deployed, whatever the policy
SET LOCAL client_min_messages = warning;
SELECT id AS m96b FROM galaxy.train('gates_p', 'public.gates_cancer', 'diagnosis', 'logistic_regression',
                                    seed => 2, deploy => 'always') \gset
RESET client_min_messages;
SELECT is((SELECT status FROM galaxy.models WHERE id = :m96b), 'ready',
          'train(deploy => always): a model below the gate is registered but not deployed');
SELECT is((SELECT status FROM galaxy.gate_results WHERE model = :m96b), 'failed', '... with its failed gate result');
SELECT is(galaxy.deployed_model('gates_p'), :m98::bigint, '... and the 0.98 model still serves');
SELECT throws_ok($$SELECT galaxy.deploy('gates_p', 'latest')$$, '23514', NULL,
                 'deploy(latest) picks the newest model, which fails the gate: refused');
SELECT is((SELECT model_id FROM galaxy.deploy('gates_p', 'best'))::int, :m98,
          'deploy(best) picks the 0.98 model: accepted');
SET LOCAL client_min_messages = warning;
SELECT id AS m99 FROM galaxy.train('gates_p', 'public.gates_cancer', 'diagnosis', 'logistic_regression',
                                   seed => 5, deploy => 'always') \gset
RESET client_min_messages;
SELECT is(galaxy.deployed_model('gates_p'), :m99::bigint,
          'train(deploy => always): a model above the gate (0.9912) is deployed');
SELECT is((SELECT model_id FROM galaxy.rollback('gates_p'))::int, :m98,
          'rollback to a model that passes the gate is accepted');

-- a gated metric the model does not have: the gate fails
SELECT galaxy.set_gate('gates_p', 'cv_accuracy_mean', '>=', 0.5);
SELECT throws_ok(format('SELECT galaxy.deploy(%L, %s)', 'gates_p', :m99), '23514',
                 format('galaxy model %s fails the deployment gate "cv_accuracy_mean >= 0.5" of project "gates_p": the model has no metric "cv_accuracy_mean"', :m99),
                 'a model without the gated metric fails the gate');
SELECT is((SELECT status || ' ' || passed FROM galaxy.gate_results WHERE model = :m99 AND metric = 'cv_accuracy_mean'),
          'missing false', 'gate_results: missing, not passed');
SELECT is(galaxy.drop_gate('gates_p', 'cv_accuracy_mean'), true, 'drop_gate returns true for a gate it dropped');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT count(*)::int FROM galaxy.audit_log WHERE action = 'drop_gate' AND current_user_name = 'gates_alice'), 1,
          'drop_gate is audited');

-- approve: a request for a model that fails a gate cannot be approved
SELECT galaxy.set_require_approval('gates_p', true);
SET LOCAL SESSION AUTHORIZATION gates_alice;
SELECT galaxy.request_deployment(:m96, 'the 0.96 one') AS r96 \gset
SELECT galaxy.request_deployment(:m99, 'the 0.99 one') AS r99 \gset
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION gates_vera;
SELECT throws_ok(format('SELECT galaxy.approve(%s)', :r96), '23514',
                 format('deployment request %s cannot be approved: galaxy model %s fails the deployment gate "accuracy >= 0.975" of project "gates_p": accuracy = 0.964602', :r96, :m96),
                 'approve: a request for the 0.96 model is refused');
SELECT is((SELECT state FROM galaxy.approve(:r99)), 'approved', 'approve: the request for the 0.99 model is approved');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION gates_alice;
SELECT is((SELECT model_id FROM galaxy.deploy('gates_p', :m99))::int, :m99,
          'with its approval, the 0.99 model is deployed');
RESET SESSION AUTHORIZATION;

-- import: the imported 0.96 model is registered with its results but cannot serve
SET LOCAL SESSION AUTHORIZATION gates_alice;
SET LOCAL client_min_messages = warning;
SELECT id AS i96 FROM galaxy.import_model('gates_p', galaxy.export_model(:m96)) \gset
SELECT id AS i98 FROM galaxy.import_model('gates_p', galaxy.export_model(:m98)) \gset
RESET client_min_messages;
SELECT is((SELECT status FROM galaxy.gate_results WHERE model = :i96), 'failed',
          'import_model: the imported 0.96 model fails the gate');
SELECT galaxy.request_deployment(:i96) AS ri96 \gset
SELECT galaxy.request_deployment(:i98) AS ri98 \gset
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION gates_vera;
SELECT throws_ok(format('SELECT galaxy.approve(%s)', :ri96), '23514', NULL,
                 'import_model: a request for the imported 0.96 model cannot be approved');
SELECT lives_ok(format('SELECT galaxy.approve(%s)', :ri98), 'the imported 0.98 model''s request is approved');
RESET SESSION AUTHORIZATION;
SELECT galaxy.set_require_approval('gates_p', NULL);
SET LOCAL SESSION AUTHORIZATION gates_alice;
SELECT throws_ok(format('SELECT galaxy.deploy(%L, %s)', 'gates_p', :i96), '23514', NULL,
                 'import_model: the imported 0.96 model cannot be deployed');
SELECT is((SELECT model_id FROM galaxy.deploy('gates_p', :i98))::int, :i98,
          'import_model: the imported 0.98 model can');
RESET SESSION AUTHORIZATION;

-- ---------------------------------------------------------------------------
-- Defaults for every project
-- ---------------------------------------------------------------------------
SET LOCAL SESSION AUTHORIZATION gates_root;
SELECT lives_ok($$SELECT galaxy.set_gate('*', 'accuracy', '>=', 0.99)$$, 'an admin sets a default gate');
RESET SESSION AUTHORIZATION;
SELECT results_eq($$SELECT project, scope, gate FROM galaxy.gates ORDER BY scope, project$$,
                  $$VALUES ('*', 'default', 'accuracy >= 0.99'), ('gates_p', 'project', 'accuracy >= 0.975')$$,
                  'galaxy.gates shows the default as project * with scope default');
SET LOCAL SESSION AUTHORIZATION gates_alice;
SELECT throws_ok(format('SELECT galaxy.deploy(%L, %s)', 'gates_p', :m98), '23514',
                 format('galaxy model %s fails the deployment gate "accuracy >= 0.99" of project "gates_p": accuracy = 0.982301', :m98),
                 'a default gate applies beside the project''s own (both must pass)');
SELECT is((SELECT model_id FROM galaxy.deploy('gates_p', :m99))::int, :m99, 'a model that passes both is deployed');
SELECT throws_ok($$SELECT galaxy.drop_gate('*', 'accuracy')$$, '42501', NULL, 'a trainer cannot drop a default gate');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION gates_root;
SELECT is(galaxy.drop_gate('*', 'accuracy'), true, 'an admin drops it');
RESET SESSION AUTHORIZATION;

-- ---------------------------------------------------------------------------
-- Latency: 0.001 ms refuses everything, 100 ms accepts a 100-tree GBDT
-- ---------------------------------------------------------------------------
SET LOCAL SESSION AUTHORIZATION gates_alice;
SET LOCAL client_min_messages = warning;
SELECT id AS lin FROM galaxy.train('gates_lat', 'public.gates_cancer', 'diagnosis', 'logistic_regression',
                                   deploy => 'never') \gset
SELECT galaxy.set_gate('gates_lat', 'predict_p99_ms', '<=', 0.001);
SELECT galaxy.set_gate('gates_lat', 'predict_p50_ms', '<=', 0.001);
SELECT id AS gbdt FROM galaxy.train('gates_lat', 'public.gates_cancer', 'diagnosis', 'gradient_boosting',
                                    hyperparams => '{"n_estimators": 100}', deploy => 'always') \gset
SELECT id AS forest FROM galaxy.train('gates_lat', 'public.gates_cancer', 'diagnosis', 'random_forest',
                                      deploy => 'always') \gset
RESET client_min_messages;
SELECT is(galaxy.deployed_model('gates_lat'), NULL, 'train(deploy => always) deploys nothing under a 0.001 ms gate');
SELECT is((SELECT count(*)::int FROM galaxy.gate_results WHERE project = 'gates_lat' AND status = 'failed'), 6,
          'every model fails both latency gates of 0.001 ms');
SELECT throws_like(format('SELECT galaxy.deploy(%L, %s)', 'gates_lat', :gbdt),
                   '%fails the deployment gate "predict_p50_ms <= 0.001" of project "gates_lat": predict_p50_ms = %',
                   'deploy names the latency gate and the measured value');
SELECT throws_ok(format('SELECT galaxy.deploy(%L, %s)', 'gates_lat', :lin), '23514', NULL,
                 'even the logistic regression is refused');
SELECT galaxy.set_gate('gates_lat', 'predict_p99_ms', '<=', 100);
SELECT galaxy.set_gate('gates_lat', 'predict_p50_ms', '<=', 100);
SELECT is((SELECT model_id FROM galaxy.deploy('gates_lat', :gbdt))::int, :gbdt,
          'predict_p99_ms <= 100 and p50 <= 100 accept the 100-tree gradient_boosting model');
SELECT is((SELECT n_estimators FROM (SELECT (hyperparams->>'n_estimators')::int AS n_estimators
                                       FROM galaxy.models WHERE id = :gbdt) s), 100, '... which has 100 trees');
SELECT ok((SELECT bool_and(value > 0.001 AND value < 100) FROM galaxy.gate_results WHERE project = 'gates_lat'),
          'measured single-row predict latencies lie between 0.001 ms and 100 ms');
RESET SESSION AUTHORIZATION;

-- a model registered without a latency (before gates existed) is measured on demand
INSERT INTO galaxy.models (project_id, version, version_major, version_minor, version_patch, status, algorithm,
                           task, model, hyperparams, metrics, features, feature_types, target, label_type,
                           relation, schema_fingerprint, size_bytes, trained_by)
SELECT project_id, '9.0.0', 9, 0, 0, 'ready', algorithm, task, model, hyperparams,
       metrics - 'predict_p50_ms' - 'predict_p99_ms' - 'predict_latency_rows', features, feature_types, target,
       label_type, relation, schema_fingerprint, size_bytes, 'gates_alice'
  FROM galaxy.models WHERE id = :gbdt
RETURNING id AS old_gbdt \gset
INSERT INTO galaxy.models (project_id, version, version_major, version_minor, version_patch, status, algorithm,
                           task, model, hyperparams, metrics, features, feature_types, target, label_type,
                           relation, schema_fingerprint, size_bytes, trained_by)
SELECT project_id, '9.1.0', 9, 1, 0, 'ready', algorithm, task, model, hyperparams,
       metrics - 'predict_p50_ms' - 'predict_p99_ms' - 'predict_latency_rows', features, feature_types, target,
       label_type, NULL, schema_fingerprint, size_bytes, 'gates_alice'
  FROM galaxy.models WHERE id = :gbdt
RETURNING id AS orphan \gset
SELECT is((SELECT string_agg(DISTINCT status, ',') FROM galaxy.gate_results WHERE model = :old_gbdt), 'not_measured',
          'a model without a latency shows its latency gates as not_measured');
SET LOCAL SESSION AUTHORIZATION gates_alice;
SELECT is((SELECT model_id FROM galaxy.deploy('gates_lat', :old_gbdt))::int, :old_gbdt,
          'deploy measures it on demand, and it passes 100 ms');
SELECT is((SELECT string_agg(DISTINCT status || ':' || value_source, ',') FROM galaxy.gate_results WHERE model = :old_gbdt),
          'passed:on_demand_relation', 'measured on its training relation, kept in galaxy.model_latency');
SELECT is((SELECT string_agg(DISTINCT value_source, ',') FROM galaxy.check_gates(:orphan)), 'on_demand_synthetic',
          'a model without a training relation is measured on synthetic rows by check_gates');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT sample_rows || ' ' || source || ' ' || measured_by FROM galaxy.model_latency WHERE model_id = :orphan),
          '200 synthetic gates_alice', 'the on-demand measurement records its rows, source and measurer');

-- ---------------------------------------------------------------------------
-- The override: galaxy_admin only, with a reason, audited
-- ---------------------------------------------------------------------------
SET LOCAL SESSION AUTHORIZATION gates_alice;
SELECT throws_ok(format('SELECT galaxy.deploy_override(%L, %s, %L)', 'gates_p', :m96, 'urgent'), '42501', NULL,
                 'the project owner, a trainer, cannot override (no EXECUTE)');
RESET SESSION AUTHORIZATION;
GRANT EXECUTE ON FUNCTION galaxy.deploy_override(text, bigint, text, float8) TO gates_alice;
SET LOCAL SESSION AUTHORIZATION gates_alice;
SELECT throws_ok(format('SELECT galaxy.deploy_override(%L, %s, %L)', 'gates_p', :m96, 'urgent'), '42501',
                 'permission denied to override the deployment gates of project "gates_p"',
                 'even with EXECUTE granted, the C function wants galaxy_admin');
RESET SESSION AUTHORIZATION;
REVOKE EXECUTE ON FUNCTION galaxy.deploy_override(text, bigint, text, float8) FROM gates_alice;
SET LOCAL SESSION AUTHORIZATION gates_root;
SELECT throws_ok(format('SELECT galaxy.deploy_override(%L, %s, NULL)', 'gates_p', :m96), '22004',
                 'a gate override needs a reason', 'an override without a reason is refused');
SELECT throws_ok(format('SELECT galaxy.deploy_override(%L, %s, %L)', 'gates_p', :m96, '   '), '22023',
                 'a gate override needs a reason, got an empty one', 'an empty reason is refused');
SELECT throws_ok(format('SELECT galaxy.deploy_override(%L, %s, %L)', 'gates_p', :m98, 'why not'), '55000', NULL,
                 'a model that passes every gate needs no override');
SELECT throws_ok(format('SELECT galaxy.deploy_override(%L, %s, %L)', 'gates_lat', :m96, 'wrong project'), '42704', NULL,
                 'the model must belong to the project');
SELECT is((SELECT strategy || ' ' || reason FROM galaxy.deploy_override('gates_p', :m96, 'the 0.99 model broke in production')),
          'override the 0.99 model broke in production', 'an admin deploys the 0.96 model with a reason');
RESET SESSION AUTHORIZATION;
SELECT is(galaxy.deployed_model('gates_p'), :m96::bigint, 'it serves');
SELECT is((SELECT current_user_name || ' | ' || (details->>'reason') || ' | ' || (details->'failed_gates'->0->>'gate')
                  || ' | ' || round((details->'failed_gates'->0->>'value')::numeric, 4)
             FROM galaxy.audit_log WHERE action = 'override_gates' AND object_id = :'m96'),
          'gates_root | the 0.99 model broke in production | accuracy >= 0.975 | 0.9646',
          'the override is audited with who, the reason and the failed gates');
SELECT is((SELECT count(*)::int FROM galaxy.audit_log WHERE action = 'deploy' AND object_id = :'m96'
              AND details->>'strategy' = 'override'), 1, 'and the deploy itself with strategy override');

-- the trigger on galaxy.deployments re-checks what galaxy's code records;
-- rows its owner writes directly (pg_restore) pass
SELECT lives_ok(format($$INSERT INTO galaxy.deployments (project_id, model_id, traffic, strategy, retired_at, deployed_at)
                         SELECT project_id, id, 1, 'restored', now(), now() FROM galaxy.models WHERE id = %s$$, :m96b),
                'a restore (the table owner inserting directly) is not re-gated');

SELECT * FROM finish();
ROLLBACK;
