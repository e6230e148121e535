-- Hyperparameter search: the catalog, the errors of a bad search (each with
-- its SQLSTATE), deterministic proposals under a seed, a failing trial that
-- is recorded while the search goes on, and the model that points to its
-- search.
BEGIN;
SELECT plan(52);

CREATE TABLE s_iris (sepal_length float8, sepal_width float8, petal_length float8, petal_width float8, species text);
INSERT INTO s_iris
SELECT 4.5 + (g % 13) * 0.2 + c * 1.0, 2.5 + (g % 7) * 0.15, 1.0 + c * 2.0 + (g % 5) * 0.3, 0.1 + c * 0.8 + (g % 4) * 0.1,
       (ARRAY['setosa', 'versicolor', 'virginica'])[c + 1]
  FROM generate_series(1, 40) g, generate_series(0, 2) c;

-- catalog
SELECT has_table('galaxy', 'searches', 'galaxy.searches');
SELECT has_table('galaxy', 'trials', 'galaxy.trials');
SELECT has_column('galaxy', 'models', 'search_id', 'galaxy.models.search_id');
SELECT col_type_is('galaxy', 'trials', 'score', 'double precision', 'trials.score is a plain float8');
SELECT col_type_is('galaxy', 'trials', 'fold_scores', 'double precision[]', 'trials.fold_scores is float8[]');
SELECT ok(NOT has_table_privilege('public', 'galaxy.trials', 'SELECT'), 'PUBLIC cannot read galaxy.trials');

-- bad searches
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'decision_tree', search => 'grid', search_space => '{}')$$,
                 '22023', 'search_space must not be empty', 'empty space');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'decision_tree', search => 'grid', search_space => '[1, 2]')$$,
                 '22023', 'search_space must be a JSON object of hyperparameters', 'space not an object');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'decision_tree', search => 'grid', search_space => '{"max_depth": 3}')$$,
                 '22023', 'search_space: hyperparameter "max_depth" must be a list of values or a range object', 'a scalar instead of a list');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'decision_tree', search => 'grid', search_space => '{"max_depth": []}')$$,
                 '22023', 'search_space: hyperparameter "max_depth" has an empty list', 'empty list');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'decision_tree', search => 'grid', search_space => '{"depth": [1, 2]}')$$,
                 '22023', 'search_space: unknown hyperparameter "depth" of algorithm decision_tree', 'unknown hyperparameter');
SELECT throws_like($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'decision_tree', search => 'grid', search_space => '{"max_depth": [2, -1]}')$$,
                 '%max_depth%', 'a listed value out of range names the hyperparameter');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'decision_tree', search => 'grid', search_space => '{"max_depth": [2, -1]}')$$,
                 '22023', NULL, 'a listed value out of range is 22023');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'gradient_boosting', search => 'random', search_space => '{"learning_rate": {"uniform": [0.1, 2]}}')$$,
                 '22023', NULL, 'a range end out of range');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'gradient_boosting', search => 'random', search_space => '{"learning_rate": {"uniform": [0.3, 0.1]}}')$$,
                 '22023', 'search_space: hyperparameter "learning_rate" has the empty range [0.3, 0.1]', 'an empty range');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'gradient_boosting', search => 'random', search_space => '{"learning_rate": {"log_uniform": [0, 0.5]}}')$$,
                 '22023', NULL, 'log_uniform from 0');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'gradient_boosting', search => 'random', search_space => '{"max_depth": {"uniform": [1, 6]}}')$$,
                 '22023', 'search_space: hyperparameter "max_depth" is an integer: "uniform" would propose fractions', 'uniform on an integer');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'gradient_boosting', search => 'random', search_space => '{"max_depth": {"normal": [1, 6]}}')$$,
                 '22023', 'search_space: hyperparameter "max_depth" has an unknown range kind "normal"', 'unknown range kind');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'gradient_boosting', search => 'grid', search_space => '{"max_depth": {"int": [1, 6]}}')$$,
                 '22023', 'search_space: hyperparameter "max_depth" has a range, but a grid search needs a list of values', 'a range in a grid');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'decision_tree', search => 'random', search_space => '{"max_depth": [1, 2]}', search_trials => 0)$$,
                 '22023', 'search_trials must be between 1 and 10000, got 0', 'a budget of 0');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'decision_tree', search => 'random', search_space => '{"max_depth": [1, 2]}', search_trials => 1000000)$$,
                 '22023', 'search_trials must be between 1 and 10000, got 1000000', 'a budget of 1,000,000');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'decision_tree', search => 'grid', search_space => '{"max_depth": [1, 2, 3]}', search_trials => 2)$$,
                 '22023', 'the search grid has 3 points, but search_trials is 2', 'a grid larger than its budget');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'gradient_boosting', search => 'grid',
                   search_space => jsonb_build_object('max_depth', (SELECT jsonb_agg(g) FROM generate_series(1, 16) g),
                                                      'n_estimators', (SELECT jsonb_agg(g) FROM generate_series(1, 1000) g)))$$,
                 '54000', 'the search grid has 16000 points, more than the 10000 trials a search may run', 'a grid too large');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'decision_tree', search => 'exhaustive', search_space => '{"max_depth": [1]}')$$,
                 '22023', 'unknown search strategy "exhaustive"', 'unknown strategy');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'decision_tree', search => 'grid')$$,
                 '22004', 'search => ''grid'' needs a search_space', 'a search without a space');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'decision_tree', search_space => '{"max_depth": [1]}')$$,
                 '22023', NULL, 'a space without a search');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', search => 'grid', search_space => '{"max_depth": [1]}')$$,
                 '22023', 'a hyperparameter search needs an explicit algorithm', 'search with algorithm auto');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'decision_tree', search => 'grid', search_space => '{"max_depth": [1]}', search_metric => 'rmse')$$,
                 '22023', 'search_metric "rmse" is not a metric of this task', 'a metric the task does not score');
SELECT is((SELECT count(*) FROM galaxy.searches), 0::bigint, 'no search row is left by a failed call');

-- determinism: the same seed proposes the same trials, another seed others
SET LOCAL client_min_messages = warning;
CREATE TEMP TABLE run_models AS
SELECT s.seed, s.strategy, m.search_id
  FROM (VALUES (1, 'random'), (1, 'random'), (2, 'random'), (1, 'bayesian'), (1, 'bayesian'), (2, 'bayesian')) s(seed, strategy),
       LATERAL galaxy.train('sp_' || s.strategy || s.seed, 's_iris', 'species', algorithm => 'gradient_boosting',
                            hyperparams => '{"n_estimators": 5}', search => s.strategy, seed => s.seed, search_trials => 8,
                            search_space => '{"learning_rate": {"log_uniform": [0.01, 0.5]}, "max_depth": {"int": [1, 4]},
                                              "subsample": {"choice": [0.5, 1.0]}}') m;
CREATE TEMP TABLE runs AS
SELECT r.seed, r.strategy, r.search_id,
       (SELECT jsonb_agg(t.hyperparams ORDER BY t.trial) FROM galaxy.trials t WHERE t.search_id = r.search_id) AS proposals,
       (SELECT jsonb_agg(round(t.score::numeric, 6) ORDER BY t.trial) FROM galaxy.trials t WHERE t.search_id = r.search_id) AS scores
  FROM run_models r;
RESET client_min_messages;
SELECT is((SELECT count(DISTINCT proposals) FROM runs WHERE strategy = 'random' AND seed = 1), 1::bigint, 'random: the same seed proposes the same trials');
SELECT is((SELECT count(DISTINCT scores) FROM runs WHERE strategy = 'random' AND seed = 1), 1::bigint, 'random: and scores them the same');
SELECT isnt((SELECT min(proposals::text) FROM runs WHERE strategy = 'random' AND seed = 1),
            (SELECT min(proposals::text) FROM runs WHERE strategy = 'random' AND seed = 2), 'random: another seed proposes other trials');
SELECT is((SELECT count(DISTINCT proposals) FROM runs WHERE strategy = 'bayesian' AND seed = 1), 1::bigint, 'bayesian: the same seed proposes the same trials');
SELECT isnt((SELECT min(proposals::text) FROM runs WHERE strategy = 'bayesian' AND seed = 1),
            (SELECT min(proposals::text) FROM runs WHERE strategy = 'bayesian' AND seed = 2), 'bayesian: another seed proposes other trials');
SELECT ok((SELECT bool_and((p ->> 'max_depth')::int BETWEEN 1 AND 4 AND (p ->> 'learning_rate')::float8 BETWEEN 0.01 AND 0.5
                           AND (p ->> 'subsample')::float8 IN (0.5, 1.0))
             FROM runs, jsonb_array_elements(proposals) p), 'every proposal lies in the space');

-- a grid: every point once, in order; a failing trial is recorded and the search goes on
SET LOCAL client_min_messages = warning;
SELECT id AS grid_model FROM galaxy.train('sp_grid', 's_iris', algorithm => 'kmeans', task => 'clustering',
                                          features => ARRAY['petal_length', 'petal_width'], folds => 3,
                                          search => 'grid', search_space => '{"n_clusters": [2, 3, 500]}') \gset
RESET client_min_messages;
SELECT results_eq($$SELECT t.trial, t.hyperparams, t.state FROM galaxy.trials t JOIN galaxy.searches s ON s.id = t.search_id
                     WHERE s.model_id = $$ || :grid_model || $$ ORDER BY t.trial$$,
                  $$VALUES (1, '{"n_clusters": 2}'::jsonb, 'succeeded'), (2, '{"n_clusters": 3}', 'succeeded'),
                           (3, '{"n_clusters": 500}', 'failed')$$, 'the grid''s points in order; the impossible one failed');
SELECT is((SELECT error_sqlstate FROM galaxy.trials t JOIN galaxy.searches s ON s.id = t.search_id
            WHERE s.model_id = :grid_model AND t.state = 'failed'), '22023', 'the failed trial keeps its SQLSTATE');
SELECT is((SELECT array_length(fold_scores, 1) FROM galaxy.trials t JOIN galaxy.searches s ON s.id = t.search_id
            WHERE s.model_id = :grid_model AND t.trial = 1), 3, 'a trial has a score per fold');
SELECT is((SELECT (trials_done, trials_failed, state, metric) FROM galaxy.searches WHERE model_id = :grid_model),
          (3, 1, 'succeeded'::text, 'silhouette'::text), 'the search counts its trials and failures');
SELECT is((SELECT m.search_id FROM galaxy.models m WHERE m.id = :grid_model),
          (SELECT id FROM galaxy.searches WHERE model_id = :grid_model), 'the model points to its search');
SELECT is((SELECT m.hyperparams_given FROM galaxy.models m WHERE m.id = :grid_model),
          (SELECT best_hyperparams FROM galaxy.searches WHERE model_id = :grid_model), 'the model is the best configuration');
SELECT is((SELECT best_score FROM galaxy.searches WHERE model_id = :grid_model),
          (SELECT max(score) FROM galaxy.trials t JOIN galaxy.searches s ON s.id = t.search_id WHERE s.model_id = :grid_model),
          'the best trial has the best score');

-- every trial failing is an error
SELECT throws_ok($$SELECT galaxy.train('sp_fail', 's_iris', algorithm => 'kmeans', task => 'clustering', search => 'grid',
                                      search_space => '{"n_clusters": [500, 600]}')$$,
                 '22000', 'every trial of the grid search failed or scored no silhouette', 'a search whose every trial fails');

-- the options form takes the same keys
SET LOCAL client_min_messages = warning;
SELECT ok(galaxy.train('sp_opts', '{"relation": "s_iris", "target": "species", "algorithm": "decision_tree",
                                    "search": "random", "search_space": {"max_depth": {"int": [1, 5]}},
                                    "search_trials": 3, "search_metric": "f1_macro"}'::jsonb) > 0, 'the options form searches');
RESET client_min_messages;
SELECT is((SELECT (budget, metric, trials_done) FROM galaxy.searches s JOIN galaxy.projects p ON p.id = s.project_id WHERE p.name = 'sp_opts'),
          (3, 'f1_macro'::text, 3), 'with its budget and metric');

-- successive halving
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'decision_tree', search => 'halving', search_space => '{"max_depth": [1, 2]}')$$,
                 '0A000', NULL, 'halving needs an iterative algorithm');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'gradient_boosting', search => 'halving', search_space => '{"n_estimators": [10, 20]}')$$,
                 '22023', 'search_space: hyperparameter "n_estimators" is what search => ''halving'' gives each rung: it cannot be searched too',
                 'halving does not search its own iteration count');
SET LOCAL client_min_messages = warning;
SELECT id AS halving_model FROM galaxy.train('sp_halving', 's_iris', 'species', algorithm => 'gradient_boosting', folds => 3,
                                             hyperparams => '{"n_estimators": 27}', search => 'halving',
                                             search_space => '{"learning_rate": [0.05, 0.1, 0.3], "max_depth": [1, 2, 3], "subsample": [0.5, 1.0]}') \gset
RESET client_min_messages;
SELECT results_eq($$SELECT t.rung, count(*), min((t.hyperparams->>'n_estimators')::int), max((t.hyperparams->>'n_estimators')::int)
                     FROM galaxy.trials t JOIN galaxy.searches s ON s.id = t.search_id WHERE s.model_id = $$ || :halving_model || $$
                    GROUP BY t.rung ORDER BY t.rung$$,
                  $$VALUES (0, 18::bigint, 3, 3), (1, 6::bigint, 9, 9), (2, 2::bigint, 27, 27)$$,
                  'rungs of 18, 6 and 2 configurations with 3, 9 and 27 rounds');
SELECT is((SELECT (metrics->>'search_resource_fitted')::int || ' of ' || (metrics->>'search_resource_full')::int
             FROM galaxy.models WHERE id = :halving_model), '486 of 1458', 'the model counts the rounds fitted: (18 x 3 + 6 x 9 + 2 x 27) x 3 folds, against 18 x 27 x 3');
SELECT is((SELECT (hyperparams->>'n_estimators')::int FROM galaxy.models WHERE id = :halving_model), 27, 'the best configuration is refitted with every round');
SELECT ok((SELECT best_trial > 24 FROM galaxy.searches WHERE model_id = :halving_model), 'the best trial is one of the last rung');
SELECT is((SELECT array_agg(t.hyperparams - 'n_estimators' ORDER BY t.trial) FILTER (WHERE t.rung = 1)
             FROM galaxy.trials t JOIN galaxy.searches s ON s.id = t.search_id WHERE s.model_id = :halving_model),
          (SELECT array_agg(h ORDER BY sc DESC, tr) FROM (
              SELECT t.hyperparams - 'n_estimators' AS h, t.score AS sc, t.trial AS tr
                FROM galaxy.trials t JOIN galaxy.searches s ON s.id = t.search_id
               WHERE s.model_id = :halving_model AND t.rung = 0 ORDER BY t.score DESC, t.trial LIMIT 6) best),
          'rung 1 holds the six best configurations of rung 0, best first');

SELECT * FROM finish();
ROLLBACK;
