-- linear_regression / logistic_regression error contract: every bad
-- hyperparameter is an ERROR with SQLSTATE 22023 and a message (and detail or
-- hint) that names the parameter, its allowed range or its valid choices.
BEGIN;
SELECT plan(40);
SET LOCAL client_min_messages = warning;

CREATE TABLE lin_reg (a float8, b float8, y float8);
INSERT INTO lin_reg SELECT g, (g * 7) % 11, 3 + 2 * g - (g * 7) % 11 FROM generate_series(1, 40) g;
CREATE TABLE lin_cls (a float8, b float8, label text);
INSERT INTO lin_cls SELECT g, (g * 7) % 11, CASE WHEN g % 3 = 0 THEN 'x' WHEN g % 3 = 1 THEN 'y' ELSE 'z' END
FROM generate_series(1, 60) g;

-- "SQLSTATE | message | detail | hint" of a statement's error
CREATE FUNCTION pg_temp.error_of(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    st text;
    msg text;
    det text;
    hnt text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
                            hnt = PG_EXCEPTION_HINT;
    RETURN st || ' | ' || msg || ' | ' || coalesce(det, '') || ' | ' || coalesce(hnt, '');
END $$;

-- linear_regression
SELECT throws_ok($$SELECT galaxy.train('lin_p', 'lin_reg', 'y', algorithm => 'linear_regression', hyperparams => '{"lambda": 1}')$$,
                 '22023', 'unknown hyperparameter "lambda" for algorithm linear_regression', 'unknown hyperparameter');
SELECT is(pg_temp.error_of($$SELECT galaxy.train('lin_p', 'lin_reg', 'y', algorithm => 'linear_regression', hyperparams => '{"lambda": 1}')$$),
          '22023 | unknown hyperparameter "lambda" for algorithm linear_regression |  | Valid hyperparameters: alpha, fit_intercept, solver.',
          'the hint lists the valid hyperparameters');
SELECT throws_ok($$SELECT galaxy.train('lin_p', 'lin_reg', 'y', algorithm => 'linear_regression', hyperparams => '{"alpha": -1}')$$,
                 '22023', 'hyperparameter "alpha" = -1 is out of range for linear_regression', 'negative alpha');
SELECT is(pg_temp.error_of($$SELECT galaxy.train('lin_p', 'lin_reg', 'y', algorithm => 'linear_regression', hyperparams => '{"alpha": -1}')$$),
          '22023 | hyperparameter "alpha" = -1 is out of range for linear_regression | Allowed range: [0, 10000000000]. | ',
          'the detail gives the range of alpha');
SELECT throws_ok($$SELECT galaxy.train('lin_p', 'lin_reg', 'y', algorithm => 'linear_regression', hyperparams => '{"alpha": 1e11}')$$,
                 '22023', NULL, 'alpha above its maximum');
SELECT throws_like($$SELECT galaxy.train('lin_p', 'lin_reg', 'y', algorithm => 'linear_regression', hyperparams => '{"alpha": "big"}')$$,
                   '%"alpha"%must be a number%', 'alpha as a JSON string');
SELECT throws_ok($$SELECT galaxy.train('lin_p', 'lin_reg', 'y', algorithm => 'linear_regression', hyperparams => '{"alpha": null}')$$,
                 '22023', NULL, 'alpha as JSON null');
SELECT throws_ok($$SELECT galaxy.train('lin_p', 'lin_reg', 'y', algorithm => 'linear_regression', hyperparams => '{"alpha": [1]}')$$,
                 '22023', NULL, 'alpha as a JSON array');
SELECT throws_like($$SELECT galaxy.train('lin_p', 'lin_reg', 'y', algorithm => 'linear_regression', hyperparams => '{"fit_intercept": 1}')$$,
                   '%"fit_intercept"%true or false%', 'fit_intercept as a number');
SELECT throws_ok($$SELECT galaxy.train('lin_p', 'lin_reg', 'y', algorithm => 'linear_regression', hyperparams => '{"fit_intercept": "yes"}')$$,
                 '22023', NULL, 'fit_intercept as a string');
SELECT throws_ok($$SELECT galaxy.train('lin_p', 'lin_reg', 'y', algorithm => 'linear_regression', hyperparams => '"alpha"')$$,
                 '22023', NULL, 'hyperparams as a JSON string');
SELECT throws_ok($$SELECT galaxy.train('lin_p', 'lin_cls', 'label', algorithm => 'linear_regression')$$,
                 '22023', NULL, 'linear_regression on a classification target');
SELECT lives_ok($$SELECT galaxy.train('lin_p', 'lin_reg', 'y', algorithm => 'linear_regression', hyperparams => '{"alpha": 0}', deploy => 'never')$$,
                'alpha = 0 (its minimum) is accepted');
SELECT lives_ok($$SELECT galaxy.train('lin_p', 'lin_reg', 'y', algorithm => 'linear_regression', hyperparams => '{"alpha": 1e10, "fit_intercept": false}', deploy => 'never')$$,
                'alpha = 1e10 (its maximum) and fit_intercept false are accepted');

-- logistic_regression
SELECT is(pg_temp.error_of($$SELECT galaxy.train('lin_q', 'lin_cls', 'label', algorithm => 'logistic_regression', hyperparams => '{"penalty": "l1"}')$$),
          '22023 | unknown hyperparameter "penalty" for algorithm logistic_regression |  | Valid hyperparameters: C, max_iter, tol, class_weight, fit_intercept, solver.',
          'unknown hyperparameter lists the valid ones');
SELECT throws_ok($$SELECT galaxy.train('lin_q', 'lin_cls', 'label', algorithm => 'logistic_regression', hyperparams => '{"c": 1}')$$,
                 '22023', 'unknown hyperparameter "c" for algorithm logistic_regression', 'names are case sensitive');
SELECT is(pg_temp.error_of($$SELECT galaxy.train('lin_q', 'lin_cls', 'label', algorithm => 'logistic_regression', hyperparams => '{"C": 0}')$$),
          '22023 | hyperparameter "C" = 0 is out of range for logistic_regression | Allowed range: (0, 10000000000]. | ',
          'C = 0 is rejected with an open lower bound');
SELECT throws_ok($$SELECT galaxy.train('lin_q', 'lin_cls', 'label', algorithm => 'logistic_regression', hyperparams => '{"C": -2}')$$,
                 '22023', 'hyperparameter "C" = -2 is out of range for logistic_regression', 'negative C');
SELECT throws_ok($$SELECT galaxy.train('lin_q', 'lin_cls', 'label', algorithm => 'logistic_regression', hyperparams => '{"C": true}')$$,
                 '22023', NULL, 'C as a boolean');
SELECT throws_ok($$SELECT galaxy.train('lin_q', 'lin_cls', 'label', algorithm => 'logistic_regression', hyperparams => '{"C": "1"}')$$,
                 '22023', NULL, 'C as a string');
SELECT is(pg_temp.error_of($$SELECT galaxy.train('lin_q', 'lin_cls', 'label', algorithm => 'logistic_regression', hyperparams => '{"max_iter": 0}')$$),
          '22023 | hyperparameter "max_iter" = 0 is out of range for logistic_regression | Allowed range: [1, 100000]. | ',
          'max_iter = 0 with the range');
SELECT throws_ok($$SELECT galaxy.train('lin_q', 'lin_cls', 'label', algorithm => 'logistic_regression', hyperparams => '{"max_iter": 100001}')$$,
                 '22023', NULL, 'max_iter above its maximum');
SELECT throws_ok($$SELECT galaxy.train('lin_q', 'lin_cls', 'label', algorithm => 'logistic_regression', hyperparams => '{"max_iter": 2.5}')$$,
                 '22023', 'hyperparameter "max_iter" of logistic_regression must be an integer, got 2.5', 'fractional max_iter');
SELECT throws_ok($$SELECT galaxy.train('lin_q', 'lin_cls', 'label', algorithm => 'logistic_regression', hyperparams => '{"tol": 0}')$$,
                 '22023', NULL, 'tol = 0');
SELECT throws_ok($$SELECT galaxy.train('lin_q', 'lin_cls', 'label', algorithm => 'logistic_regression', hyperparams => '{"tol": 2}')$$,
                 '22023', NULL, 'tol above 1');
SELECT is(pg_temp.error_of($$SELECT galaxy.train('lin_q', 'lin_cls', 'label', algorithm => 'logistic_regression', hyperparams => '{"class_weight": "foo"}')$$),
          '22023 | hyperparameter "class_weight" of logistic_regression has no choice "foo" |  | Valid choices: none,balanced.',
          'unknown class_weight lists the choices');
SELECT throws_ok($$SELECT galaxy.train('lin_q', 'lin_cls', 'label', algorithm => 'logistic_regression', hyperparams => '{"class_weight": 1}')$$,
                 '22023', NULL, 'class_weight as a number');
SELECT throws_ok($$SELECT galaxy.train('lin_q', 'lin_cls', 'label', algorithm => 'logistic_regression', hyperparams => '{"class_weight": {"x": 2}}')$$,
                 '22023', NULL, 'class_weight as an object');
SELECT throws_ok($$SELECT galaxy.train('lin_q', 'lin_cls', 'label', algorithm => 'logistic_regression', hyperparams => '{"fit_intercept": "false"}')$$,
                 '22023', NULL, 'fit_intercept as a string');
SELECT throws_ok($$SELECT galaxy.train('lin_q', 'lin_reg', 'y', algorithm => 'logistic_regression')$$,
                 '22023', NULL, 'logistic_regression on a regression target');
SELECT throws_ok($$SELECT galaxy.train('lin_q', 'lin_cls', 'label', algorithm => 'logistic_regression', hyperparams => '{bad json')$$,
                 '22P02', NULL, 'malformed jsonb');
SELECT lives_ok($$SELECT galaxy.train('lin_q', 'lin_cls', 'label', algorithm => 'logistic_regression',
                                      hyperparams => '{"C": 1e10, "max_iter": 1, "tol": 1, "class_weight": "balanced", "fit_intercept": false}', deploy => 'never')$$,
                'boundary values of every hyperparameter are accepted');

-- the effective hyperparameters are stored with the model, given ones separately
SELECT is((SELECT hyperparams FROM galaxy.train('lin_q', 'lin_cls', 'label', algorithm => 'logistic_regression',
                                                 hyperparams => '{"C": 0.5}', deploy => 'never')),
          '{"C": 0.5, "tol": 0.0001, "max_iter": 100, "class_weight": "none", "fit_intercept": true, "solver": "auto"}'::jsonb,
          'effective hyperparameters: given C plus the defaults');
SELECT is((SELECT hyperparams_given FROM galaxy.models WHERE project_id = (SELECT id FROM galaxy.projects WHERE name = 'lin_q')
           ORDER BY id DESC LIMIT 1),
          '{"C": 0.5}'::jsonb, 'given hyperparameters kept apart');

-- trained models predict what they should: three classes, probabilities sum to one
SELECT lives_ok($$SELECT galaxy.train('lin_r', 'lin_cls', 'label', algorithm => 'logistic_regression', test_size => 0)$$,
                'multinomial training');
SELECT is(array_length(galaxy.predict_proba('lin_r', ARRAY[3.0, 5.0]), 1), 3, 'one probability per class');
SELECT ok(abs((SELECT sum(p) FROM unnest(galaxy.predict_proba('lin_r', ARRAY[3.0, 5.0])) p) - 1) < 1e-12,
          'probabilities sum to one');
SELECT ok(galaxy.predict_label('lin_r', ARRAY[3.0, 5.0]) IN ('x', 'y', 'z'), 'the label is one of the classes');
SELECT lives_ok($$SELECT galaxy.train('lin_s', 'lin_reg', 'y', algorithm => 'linear_regression', test_size => 0)$$,
                'linear training');
SELECT is(round(galaxy.predict('lin_s', ARRAY[10.0, 4.0])::numeric, 6), 19.000000, 'exact linear fit predicts 3 + 2a - b');

SELECT * FROM finish();
ROLLBACK;
