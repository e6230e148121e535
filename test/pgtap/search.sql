-- Hyperparameter search: the catalog, the errors of a bad search (each with
-- its SQLSTATE), deterministic proposals under a seed, a failing trial that
-- is recorded while the search goes on, the model that points to its
-- search, neural architecture search (n_layers / units, parameter counts,
-- max_parameters, search_objective) and search => 'auto'.
BEGIN;
SELECT plan(87);

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
                 '22023', 'a grid search needs an explicit algorithm', 'a grid search with algorithm auto');
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

-- neural architecture search: bad input
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'neural_network', search => 'random', search_space => '{"n_layer": [1, 2]}')$$,
                 '22023', 'search_space: unknown hyperparameter "n_layer" of algorithm neural_network', 'an unknown architecture key');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'neural_network', search => 'random', search_space => '{"n_layers": [1, 2]}')$$,
                 '22023', 'search_space: "n_layers" and "units" go together', 'n_layers without units');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'neural_network', search => 'random', search_space => '{"n_layers": [1], "units": {"choice": []}}')$$,
                 '22023', 'search_space: hyperparameter "units" has an empty choice', 'an empty choice of widths');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'neural_network', search => 'random', search_space => '{"n_layers": [1, 40], "units": [8]}')$$,
                 '22023', 'search_space: hyperparameter "n_layers" has 40: its values are integers from 0 to 16', 'too many layers');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'neural_network', search => 'random', search_space => '{"n_layers": [1], "units": {"log_uniform": [8, 64]}}')$$,
                 '22023', NULL, 'a range kind an architecture key does not take');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'neural_network', search => 'random', search_space => '{"n_layers": [1], "units": [8], "hidden_layers": [[8]]}')$$,
                 '22023', 'search_space: give either "hidden_layers" or "n_layers" and "units", not both', 'both ways of giving the architecture');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'neural_network', search => 'random', search_space => '{"hidden_layers": {"choice": [[8], [0]]}}')$$,
                 '22023', NULL, 'a listed architecture the network does not accept');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'neural_network', search => 'random', search_space => '{"hidden_layers": [[8]]}', max_parameters => 0)$$,
                 '22023', 'max_parameters must be positive, got 0', 'max_parameters 0');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'neural_network', search => 'random', search_space => '{"hidden_layers": [[8]]}', max_parameters => -5)$$,
                 '22023', 'max_parameters must be positive, got -5', 'max_parameters below 0');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'decision_tree', search => 'grid', search_space => '{"max_depth": [1]}', max_parameters => 100)$$,
                 '0A000', 'max_parameters needs an algorithm that counts its parameters; decision_tree does not', 'max_parameters for an algorithm without a count');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'neural_network', search => 'random', search_space => '{"hidden_layers": [[8]]}', search_objective => 'speed')$$,
                 '22023', 'unknown search_objective "speed"', 'an unknown objective');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'neural_network', max_parameters => 100)$$,
                 '22023', NULL, 'max_parameters without a search');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'sepal_length', algorithm => 'neural_network', search => 'random', search_trials => 2,
                                       search_space => '{"hidden_layers": [[4]]}', hyperparams => '{"epochs": 1}', search_metric => 'rmse',
                                       search_objective => 'accuracy_per_ms')$$,
                 '22023', 'search_objective accuracy_per_ms needs a metric where higher is better, not rmse', 'accuracy_per_ms on a lower-is-better metric');

-- neural architecture search: a grid over every architecture, in order, with parameter counts
SET LOCAL client_min_messages = warning;
SELECT id AS nas_grid FROM galaxy.train('sp_nas_grid', 's_iris', 'species', algorithm => 'mlp', hyperparams => '{"epochs": 2}',
                                        search => 'grid', search_space => '{"n_layers": [0, 1, 2], "units": [4, 8]}') \gset
RESET client_min_messages;
SELECT results_eq($$SELECT t.trial, t.hyperparams -> 'hidden_layers', t.parameters, t.algorithm, t.architecture ->> 'activation'
                      FROM galaxy.trials t JOIN galaxy.searches s ON s.id = t.search_id WHERE s.model_id = $$ || :nas_grid || $$ ORDER BY t.trial$$,
                  $$VALUES (1, '[]'::jsonb, 15::bigint, 'neural_network', 'relu'), (2, '[4]', 35, 'neural_network', 'relu'),
                           (3, '[8]', 67, 'neural_network', 'relu'), (4, '[4, 4]', 55, 'neural_network', 'relu'),
                           (5, '[4, 8]', 87, 'neural_network', 'relu'), (6, '[8, 4]', 91, 'neural_network', 'relu'),
                           (7, '[8, 8]', 139, 'neural_network', 'relu')$$,
                  'a grid over n_layers and units tries every architecture once, each with its parameter count');
SELECT ok((SELECT bool_and(t.predict_ms_per_row >= 0 AND t.objective = t.score) FROM galaxy.trials t JOIN galaxy.searches s ON s.id = t.search_id
            WHERE s.model_id = :nas_grid), 'every trial has a predict latency, and its objective is its score');

-- max_parameters: larger architectures are skipped, not fitted; the model is the best of the rest
SET LOCAL client_min_messages = warning;
SELECT id AS nas_max FROM galaxy.train('sp_nas_max', 's_iris', 'species', algorithm => 'neural_network', hyperparams => '{"epochs": 2}',
                                       search => 'grid', search_space => '{"n_layers": [1, 2], "units": [4, 8]}', max_parameters => 60) \gset
RESET client_min_messages;
SELECT results_eq($$SELECT t.state, count(*) FROM galaxy.trials t JOIN galaxy.searches s ON s.id = t.search_id
                     WHERE s.model_id = $$ || :nas_max || $$ GROUP BY t.state ORDER BY t.state$$,
                  $$VALUES ('skipped', 4::bigint), ('succeeded', 2::bigint)$$, 'architectures over max_parameters are skipped');
SELECT ok((SELECT bool_and(t.score IS NULL AND t.error_message LIKE 'skipped: the model would have % parameters, more than max_parameters 60'
                           AND t.parameters > 60 AND t.error_sqlstate = '54000')
             FROM galaxy.trials t JOIN galaxy.searches s ON s.id = t.search_id WHERE s.model_id = :nas_max AND t.state = 'skipped'),
          'a skipped trial says why, with its parameter count, and has no score');
SELECT is((SELECT (trials_done, trials_failed, trials_skipped, max_parameters) FROM galaxy.searches WHERE model_id = :nas_max),
          (6, 0, 4, 60::bigint), 'the search counts skipped trials apart from failed ones');
SELECT ok((SELECT m.hyperparams -> 'hidden_layers' IN ('[4]', '[4, 4]') FROM galaxy.models m WHERE m.id = :nas_max),
          'the refitted model is one of the architectures within max_parameters');
SELECT throws_ok($$SELECT galaxy.train('sp_nas_none', 's_iris', 'species', algorithm => 'neural_network', hyperparams => '{"epochs": 1}',
                                      search => 'grid', search_space => '{"n_layers": [2], "units": [64]}', max_parameters => 10)$$,
                 '22000', 'every trial of the grid search failed, was skipped or scored no accuracy', 'every architecture over max_parameters');

-- NAS proposals are deterministic under a seed (random and bayesian)
SET LOCAL client_min_messages = warning;
CREATE TEMP TABLE nas_models AS
SELECT s.seed, s.strategy, m.search_id
  FROM (VALUES (3, 'random'), (3, 'random'), (4, 'random'), (3, 'bayesian'), (3, 'bayesian')) s(seed, strategy),
       LATERAL galaxy.train('sp_nas_' || s.strategy || s.seed, 's_iris', 'species', algorithm => 'neural_network',
                            hyperparams => '{"epochs": 1}', search => s.strategy, seed => s.seed, search_trials => 6,
                            search_space => '{"n_layers": {"int": [1, 3]}, "units": {"int": [2, 16]}, "activation": ["relu", "tanh"],
                                              "dropout": {"uniform": [0, 0.3]}, "batch_norm": [true, false]}') m;
CREATE TEMP TABLE nas_runs AS
SELECT r.seed, r.strategy,
       (SELECT jsonb_agg(t.hyperparams ORDER BY t.trial) FROM galaxy.trials t WHERE t.search_id = r.search_id) AS proposals
  FROM nas_models r;
RESET client_min_messages;
SELECT is((SELECT count(DISTINCT proposals) FROM nas_runs WHERE strategy = 'random' AND seed = 3), 1::bigint, 'NAS random: the same seed proposes the same architectures');
SELECT isnt((SELECT min(proposals::text) FROM nas_runs WHERE strategy = 'random' AND seed = 3),
            (SELECT min(proposals::text) FROM nas_runs WHERE strategy = 'random' AND seed = 4), 'NAS random: another seed proposes others');
SELECT is((SELECT count(DISTINCT proposals) FROM nas_runs WHERE strategy = 'bayesian'), 1::bigint, 'NAS bayesian: the same seed proposes the same architectures');
SELECT ok((SELECT bool_and(jsonb_array_length(p -> 'hidden_layers') BETWEEN 1 AND 3 AND NOT p ? 'n_layers' AND NOT p ? 'units_1'
                           AND (SELECT bool_and(w::int BETWEEN 2 AND 16) FROM jsonb_array_elements_text(p -> 'hidden_layers') w))
             FROM nas_runs, jsonb_array_elements(proposals) p), 'every proposed architecture lies in the space, as hidden_layers');

-- accuracy_per_ms: the objective is the score per millisecond of predict latency
SET LOCAL client_min_messages = warning;
SELECT id AS nas_ms FROM galaxy.train('sp_nas_ms', 's_iris', 'species', algorithm => 'neural_network', hyperparams => '{"epochs": 1}',
                                      search => 'grid', search_space => '{"hidden_layers": [[4], [32, 32]]}', search_objective => 'accuracy_per_ms') \gset
RESET client_min_messages;
SELECT ok((SELECT bool_and(abs(t.objective - t.score / t.predict_ms_per_row) <= 1e-9 * abs(t.objective))
             FROM galaxy.trials t JOIN galaxy.searches s ON s.id = t.search_id WHERE s.model_id = :nas_ms),
          'with accuracy_per_ms a trial''s objective is its score per ms of predict latency per row');
SELECT is((SELECT objective FROM galaxy.searches WHERE model_id = :nas_ms), 'accuracy_per_ms', 'the search records its objective');
SELECT is((SELECT s.best_trial FROM galaxy.searches s WHERE s.model_id = :nas_ms),
          (SELECT t.trial FROM galaxy.trials t JOIN galaxy.searches s ON s.id = t.search_id WHERE s.model_id = :nas_ms
            ORDER BY t.objective DESC, t.trial LIMIT 1), 'the best trial is the one with the best objective');

-- algorithm => 'auto' with search => 'auto'
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', algorithm => 'decision_tree', search => 'auto')$$,
                 '22023', 'search => ''auto'' tries every suitable algorithm: it needs algorithm => ''auto'', not decision_tree', 'auto search with an algorithm');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', search => 'auto', search_space => '{"max_depth": [1]}')$$,
                 '22023', 'search => ''auto'' takes no search_space: each algorithm draws from its own small space', 'auto search with a space');
SELECT throws_ok($$SELECT galaxy.train('sp', 's_iris', 'species', search => 'auto', search_trials => 51)$$,
                 '22023', 'search => ''auto'' runs at most 50 trials per algorithm, got search_trials 51', 'auto search with too many trials');
SET LOCAL client_min_messages = warning;
SELECT id AS auto_model FROM galaxy.train('sp_auto', 's_iris', 'species', search => 'auto', search_trials => 1, folds => 2) \gset
RESET client_min_messages;
SELECT results_eq($$SELECT t.trial, t.algorithm, t.hyperparams FROM galaxy.trials t JOIN galaxy.searches s ON s.id = t.search_id
                     WHERE s.model_id = $$ || :auto_model || $$ ORDER BY t.trial$$,
                  $$VALUES (1, 'logistic_regression', '{}'::jsonb), (2, 'naive_bayes', '{}'), (3, 'linear_svm', '{}'), (4, 'decision_tree', '{}'),
                           (5, 'random_forest', '{}'), (6, 'gradient_boosting', '{}'), (7, 'neural_network', '{}')$$,
                  'auto tries every classification algorithm, each a trial that names it');
SELECT is((SELECT (s.algorithm, s.strategy, s.budget, s.space ? 'kmeans') FROM galaxy.searches s WHERE s.model_id = :auto_model),
          ('auto'::text, 'auto'::text, 7, false), 'the search is auto, with the candidates'' spaces');
SELECT is((SELECT m.algorithm FROM galaxy.models m WHERE m.id = :auto_model),
          (SELECT t.algorithm FROM galaxy.trials t JOIN galaxy.searches s ON s.id = t.search_id
            WHERE s.model_id = :auto_model AND t.trial = s.best_trial), 'the model is the best trial''s algorithm, refitted');
SET LOCAL client_min_messages = warning;
SELECT id AS auto_reg FROM galaxy.train('sp_auto_reg', 's_iris', 'sepal_length', search => 'auto') \gset
RESET client_min_messages;
SELECT is((SELECT array_agg(DISTINCT t.algorithm ORDER BY t.algorithm) FROM galaxy.trials t JOIN galaxy.searches s ON s.id = t.search_id
            WHERE s.model_id = :auto_reg),
          ARRAY['decision_tree', 'gradient_boosting', 'lasso', 'linear_regression', 'neural_network', 'random_forest'],
          'auto tries the regression algorithms for a numeric target');
SELECT is((SELECT count(*) FROM galaxy.trials t JOIN galaxy.searches s ON s.id = t.search_id
            WHERE s.model_id = :auto_reg AND t.hyperparams <> '{}'), 6::bigint, 'by default each gets its defaults and one draw from its space');

SELECT * FROM finish();
ROLLBACK;
