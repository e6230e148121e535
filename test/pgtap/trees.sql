-- decision_tree / random_forest / gradient_boosting contracts: every bad
-- hyperparameter is an ERROR with SQLSTATE 22023 naming the parameter and its
-- range; absurd sizes against galaxy.max_training_memory are 54000; the
-- models predict, explain themselves and survive a text round trip.
BEGIN;
SELECT plan(34);
SET LOCAL client_min_messages = warning;

CREATE TABLE tr_cls (a float8, b float8, c float8, label text);
INSERT INTO tr_cls SELECT g, (g * 7) % 11, sin(g), CASE WHEN (g * 7) % 11 > 5 THEN 'x' WHEN g % 3 = 0 THEN 'y' ELSE 'z' END
FROM generate_series(1, 120) g;
CREATE TABLE tr_reg (a float8, b float8, y float8);
INSERT INTO tr_reg SELECT g, (g * 7) % 11, 3 + 2 * g - (g * 7) % 11 FROM generate_series(1, 80) g;

-- "SQLSTATE | message | detail" of a statement's error
CREATE FUNCTION pg_temp.error_of(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    st text;
    msg text;
    det text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ' | ' || msg || ' | ' || coalesce(det, '');
END $$;

-- the algorithms are registered with both tasks and no default scaling
SELECT set_eq($$SELECT name FROM galaxy.algorithms WHERE name IN ('decision_tree', 'random_forest', 'gradient_boosting')$$,
              ARRAY['decision_tree', 'random_forest', 'gradient_boosting'], 'the three tree algorithms are listed');
SELECT ok(bool_and(NOT default_scaling AND tasks @> ARRAY['regression', 'classification']),
          'trees do both tasks and do not scale by default')
FROM galaxy.algorithms WHERE name IN ('decision_tree', 'random_forest', 'gradient_boosting');
SELECT is((SELECT count(*)::int FROM galaxy.algorithm_hyperparameters WHERE algorithm = 'gradient_boosting'), 12,
          'gradient_boosting lists its 12 hyperparameters');

-- gradient_boosting ranges (in the detail)
SELECT is(pg_temp.error_of($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'gradient_boosting', hyperparams => '{"max_depth": 0}')$$),
          '22023 | hyperparameter "max_depth" = 0 is out of range for gradient_boosting | Allowed range: [1, 16].',
          'max_depth 0 is refused with its range');
SELECT is(pg_temp.error_of($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'gradient_boosting', hyperparams => '{"learning_rate": 0}')$$),
          '22023 | hyperparameter "learning_rate" = 0 is out of range for gradient_boosting | Allowed range: (0, 1].',
          'learning_rate 0 is refused: the range is open at 0');
SELECT is(pg_temp.error_of($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'gradient_boosting', hyperparams => '{"learning_rate": -0.1}')$$),
          '22023 | hyperparameter "learning_rate" = -0.1 is out of range for gradient_boosting | Allowed range: (0, 1].',
          'negative learning_rate is refused');
SELECT is(pg_temp.error_of($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'gradient_boosting', hyperparams => '{"subsample": 1.5}')$$),
          '22023 | hyperparameter "subsample" = 1.5 is out of range for gradient_boosting | Allowed range: (0, 1].',
          'subsample above 1 is refused');
SELECT is(pg_temp.error_of($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'gradient_boosting', hyperparams => '{"colsample_bytree": 0}')$$),
          '22023 | hyperparameter "colsample_bytree" = 0 is out of range for gradient_boosting | Allowed range: (0, 1].',
          'colsample_bytree 0 is refused');
SELECT is(pg_temp.error_of($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'gradient_boosting', hyperparams => '{"n_estimators": 1000000000}')$$),
          '22023 | hyperparameter "n_estimators" = 1e+09 is out of range for gradient_boosting | Allowed range: [1, 10000].',
          'n_estimators 10^9 is refused with its range');
SELECT is(pg_temp.error_of($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'gradient_boosting', hyperparams => '{"max_bins": 300}')$$),
          '22023 | hyperparameter "max_bins" = 300 is out of range for gradient_boosting | Allowed range: [2, 256].',
          'max_bins above 256 is refused');
SELECT is(pg_temp.error_of($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'gradient_boosting', hyperparams => '{"reg_lambda": -1}')$$),
          '22023 | hyperparameter "reg_lambda" = -1 is out of range for gradient_boosting | Allowed range: [0, 1000000000000].',
          'negative reg_lambda is refused');
SELECT is(pg_temp.error_of($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'gradient_boosting', hyperparams => '{"base_score": 1.5}')$$),
          '22023 | hyperparameter "base_score" = 1.5 is out of range for classification | Allowed range: (0, 1), a probability.',
          'base_score must be a probability for classification');
SELECT is(pg_temp.error_of($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'gradient_boosting', test_size => 0, hyperparams => '{"early_stopping_rounds": 5}')$$),
          '22023 | early_stopping_rounds needs a validation split | ',
          'early stopping without a validation split is refused');

-- decision_tree / random_forest ranges and choices
SELECT is(pg_temp.error_of($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'decision_tree', hyperparams => '{"min_samples_leaf": 0}')$$),
          '22023 | hyperparameter "min_samples_leaf" = 0 is out of range for decision_tree | Allowed range: [1, 1000000000].',
          'min_samples_leaf 0 is refused');
SELECT is(pg_temp.error_of($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'decision_tree', hyperparams => '{"min_samples_split": 1}')$$),
          '22023 | hyperparameter "min_samples_split" = 1 is out of range for decision_tree | Allowed range: [2, 1000000000].',
          'min_samples_split 1 is refused');
SELECT is(pg_temp.error_of($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'decision_tree', hyperparams => '{"max_leaf_nodes": 1}')$$),
          '22023 | hyperparameter "max_leaf_nodes" = 1 is out of range for decision_tree | Allowed: 0 (unlimited) or [2, 1e+09].',
          'max_leaf_nodes 1 is refused');
SELECT is(pg_temp.error_of($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'decision_tree', hyperparams => '{"max_depth": -1}')$$),
          '22023 | hyperparameter "max_depth" = -1 is out of range for decision_tree | Allowed range: [0, 1000].',
          'negative max_depth is refused');
SELECT throws_ok($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'decision_tree', hyperparams => '{"criterion": "squared_error"}')$$,
                 '22023', 'criterion "squared_error" applies to regression only', 'a regression criterion for classification');
SELECT throws_ok($$SELECT galaxy.train('tr_p', 'tr_reg', 'y', algorithm => 'random_forest', hyperparams => '{"criterion": "entropy"}')$$,
                 '22023', 'criterion "entropy" applies to classification only', 'a classification criterion for regression');
SELECT throws_ok($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'random_forest', hyperparams => '{"max_features": "half"}')$$,
                 '22023', 'hyperparameter "max_features" of random_forest has no choice "half"', 'an unknown max_features choice');
SELECT throws_ok($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'random_forest', hyperparams => '{"max_features": "sqrt", "max_features_fraction": 0.5}')$$,
                 '22023', 'give either max_features or max_features_fraction, not both', 'two ways to say max_features');
SELECT throws_ok($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'random_forest', hyperparams => '{"bootstrap": false, "oob_score": true}')$$,
                 '22023', 'oob_score needs bootstrap', 'out-of-bag score without bootstrap');
SELECT is(pg_temp.error_of($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'random_forest', hyperparams => '{"n_estimators": 0}')$$),
          '22023 | hyperparameter "n_estimators" = 0 is out of range for random_forest | Allowed range: [1, 10000].',
          'n_estimators 0 is refused');

-- absurd sizes against galaxy.max_training_memory: 54000 naming the need
SET LOCAL galaxy.max_training_memory = '1MB';
SELECT throws_like($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'gradient_boosting', hyperparams => '{"n_estimators": 10000, "max_depth": 16}')$$,
                   'gradient_boosting with n_estimators = 10000, max_depth = 16 on % rows needs % MB, more than galaxy.max_training_memory (1 MB)',
                   'a huge boosting model is refused before fitting');
SELECT is(left(pg_temp.error_of($$SELECT galaxy.train('tr_p', 'tr_cls', 'label', algorithm => 'random_forest', hyperparams => '{"n_estimators": 10000}')$$), 5),
          '54000', 'a huge forest is refused with SQLSTATE 54000');
RESET galaxy.max_training_memory;

-- they train, predict and explain themselves
SELECT lives_ok($$SELECT galaxy.train('tr_dt', 'tr_cls', 'label', algorithm => 'decision_tree', deploy => 'always')$$, 'decision_tree trains');
SELECT lives_ok($$SELECT galaxy.train('tr_rf', 'tr_reg', 'y', algorithm => 'random_forest', hyperparams => '{"n_estimators": 20}', deploy => 'always')$$,
                'random_forest regression trains');
SELECT lives_ok($$SELECT galaxy.train('tr_gb', 'tr_cls', 'label', algorithm => 'gradient_boosting', hyperparams => '{"n_estimators": 20, "reg_alpha": 0.5, "gamma": 0.1, "min_child_weight": 2}', deploy => 'always')$$,
                'gradient_boosting with regularisation trains');
SELECT ok(galaxy.predict_label('tr_gb', ARRAY[12, 10, 0.5]) IN ('x', 'y', 'z'), 'a boosting model predicts a known label');
SELECT is(array_length(galaxy.predict_proba('tr_dt', ARRAY[12, 10, 0.5]), 1), 3, 'a decision tree gives one probability per class');
SELECT cmp_ok(abs(galaxy.predict('tr_rf', ARRAY[40, 5]) - (3 + 80 - 5)), '<', 15::float8, 'a forest regresses near the truth');
SELECT is((SELECT round(sum(importance)::numeric, 6) FROM galaxy.feature_importance(
              (SELECT id FROM galaxy.models WHERE algorithm = 'gradient_boosting' ORDER BY id DESC LIMIT 1))),
          1.000000, 'gain importances are normalised');
SELECT is((SELECT feature FROM galaxy.feature_importance(
              (SELECT id FROM galaxy.models WHERE algorithm = 'random_forest' ORDER BY id DESC LIMIT 1))
           ORDER BY importance DESC LIMIT 1),
          'a', 'the forest finds the feature that carries the target');
SELECT is((SELECT count(*)::int FROM galaxy.models WHERE algorithm IN ('decision_tree', 'random_forest', 'gradient_boosting')
           AND model::text::galaxy.model::text <> model::text), 0, 'every tree model survives a text round trip');

SELECT * FROM finish();
ROLLBACK;
