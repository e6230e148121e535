-- lasso / elastic_net / linear_svm / naive_bayes contracts: catalog rows,
-- every bad hyperparameter or input is an ERROR with a SQLSTATE, wrong tasks
-- are refused, fits are deterministic.
BEGIN;
SELECT plan(46);
SET LOCAL client_min_messages = warning;

CREATE TABLE sl_reg (a float8, b float8, y float8);
INSERT INTO sl_reg SELECT g, (g * 7) % 11, 3 + 2 * g - (g * 7) % 11 FROM generate_series(1, 40) g;
CREATE TABLE sl_cls (a float8, b float8, label text);
INSERT INTO sl_cls SELECT g, (g * 7) % 11, CASE WHEN g % 3 = 0 THEN 'x' WHEN g % 3 = 1 THEN 'y' ELSE 'z' END
FROM generate_series(1, 60) g;
CREATE TABLE sl_neg (a float8, b float8, label text);
INSERT INTO sl_neg SELECT g - 10, g % 4, CASE WHEN g % 2 = 0 THEN 'p' ELSE 'q' END FROM generate_series(1, 20) g;

-- catalog: the algorithms, their tasks and hyperparameters
SELECT is((SELECT tasks FROM galaxy.algorithms WHERE name = 'lasso'), ARRAY['regression'], 'lasso: regression');
SELECT is((SELECT tasks FROM galaxy.algorithms WHERE name = 'elastic_net'), ARRAY['regression'], 'elastic_net: regression');
SELECT is((SELECT tasks FROM galaxy.algorithms WHERE name = 'linear_svm'), ARRAY['classification'], 'linear_svm: classification');
SELECT is((SELECT tasks FROM galaxy.algorithms WHERE name = 'naive_bayes'), ARRAY['classification'], 'naive_bayes: classification');
SELECT is((SELECT default_scaling FROM galaxy.algorithms WHERE name = 'naive_bayes'), false,
          'naive_bayes does not standard-scale by default');
SELECT is((SELECT array_agg(name ORDER BY name) FROM galaxy.algorithm_hyperparameters WHERE algorithm = 'lasso'),
          ARRAY['alpha', 'fit_intercept', 'max_iter', 'tol'], 'lasso hyperparameters');
SELECT is((SELECT array_agg(name ORDER BY name) FROM galaxy.algorithm_hyperparameters WHERE algorithm = 'elastic_net'),
          ARRAY['alpha', 'fit_intercept', 'l1_ratio', 'max_iter', 'tol'], 'elastic_net hyperparameters');
SELECT is((SELECT array_agg(name ORDER BY name) FROM galaxy.algorithm_hyperparameters WHERE algorithm = 'linear_svm'),
          ARRAY['C', 'fit_intercept', 'loss', 'max_iter', 'tol'], 'linear_svm hyperparameters');
SELECT is((SELECT array_agg(name ORDER BY name) FROM galaxy.algorithm_hyperparameters WHERE algorithm = 'naive_bayes'),
          ARRAY['alpha', 'binarize', 'distribution', 'fit_prior', 'solver', 'var_smoothing'], 'naive_bayes hyperparameters');
SELECT is((SELECT choices FROM galaxy.algorithm_hyperparameters WHERE algorithm = 'naive_bayes' AND name = 'distribution'),
          'gaussian,multinomial,bernoulli', 'naive_bayes distributions');
SELECT is((SELECT choices FROM galaxy.algorithm_hyperparameters WHERE algorithm = 'linear_svm' AND name = 'loss'),
          'squared_hinge,hinge', 'linear_svm losses');
SELECT is((SELECT default_value FROM galaxy.algorithm_hyperparameters WHERE algorithm = 'elastic_net' AND name = 'l1_ratio'),
          '0.5', 'l1_ratio defaults to 0.5');

-- bad hyperparameters: 22023
SELECT throws_ok($$SELECT galaxy.train('sl_p', 'sl_reg', 'y', algorithm => 'lasso', hyperparams => '{"alpha": -1}')$$,
                 '22023', 'hyperparameter "alpha" = -1 is out of range for lasso', 'lasso: alpha < 0');
SELECT throws_ok($$SELECT galaxy.train('sl_p', 'sl_reg', 'y', algorithm => 'elastic_net', hyperparams => '{"alpha": -0.5}')$$,
                 '22023', NULL, 'elastic_net: alpha < 0');
SELECT throws_ok($$SELECT galaxy.train('sl_p', 'sl_reg', 'y', algorithm => 'elastic_net', hyperparams => '{"l1_ratio": 1.5}')$$,
                 '22023', 'hyperparameter "l1_ratio" = 1.5 is out of range for elastic_net', 'l1_ratio > 1');
SELECT throws_ok($$SELECT galaxy.train('sl_p', 'sl_reg', 'y', algorithm => 'elastic_net', hyperparams => '{"l1_ratio": -0.1}')$$,
                 '22023', NULL, 'l1_ratio < 0');
SELECT throws_ok($$SELECT galaxy.train('sl_p', 'sl_reg', 'y', algorithm => 'lasso', hyperparams => '{"l1_ratio": 0.5}')$$,
                 '22023', 'unknown hyperparameter "l1_ratio" for algorithm lasso', 'lasso has no l1_ratio');
SELECT throws_ok($$SELECT galaxy.train('sl_p', 'sl_reg', 'y', algorithm => 'lasso', hyperparams => '{"tol": 0}')$$,
                 '22023', NULL, 'tol = 0');
SELECT throws_ok($$SELECT galaxy.train('sl_p', 'sl_reg', 'y', algorithm => 'lasso', hyperparams => '{"max_iter": 0}')$$,
                 '22023', NULL, 'max_iter = 0');
SELECT throws_ok($$SELECT galaxy.train('sl_p', 'sl_cls', 'label', algorithm => 'linear_svm', hyperparams => '{"C": 0}')$$,
                 '22023', 'hyperparameter "C" = 0 is out of range for linear_svm', 'C = 0');
SELECT throws_ok($$SELECT galaxy.train('sl_p', 'sl_cls', 'label', algorithm => 'linear_svm', hyperparams => '{"loss": "log"}')$$,
                 '22023', 'hyperparameter "loss" of linear_svm has no choice "log"', 'unknown loss');
SELECT throws_ok($$SELECT galaxy.train('sl_p', 'sl_cls', 'label', algorithm => 'naive_bayes', hyperparams => '{"distribution": "poisson"}')$$,
                 '22023', NULL, 'unknown distribution');
SELECT throws_ok($$SELECT galaxy.train('sl_p', 'sl_cls', 'label', algorithm => 'naive_bayes', hyperparams => '{"alpha": -1}')$$,
                 '22023', NULL, 'naive_bayes: alpha < 0');
SELECT throws_ok($$SELECT galaxy.train('sl_p', 'sl_cls', 'label', algorithm => 'naive_bayes', hyperparams => '{"var_smoothing": 2}')$$,
                 '22023', NULL, 'var_smoothing > 1');

-- multinomial naive Bayes refuses negative features, in training and in prediction
SELECT throws_like($$SELECT galaxy.train('sl_p', 'sl_neg', 'label', algorithm => 'naive_bayes', hyperparams => '{"distribution": "multinomial"}')$$,
                   '%multinomial%non-negative%', 'multinomial with negative features: the message says why');
SELECT throws_ok($$SELECT galaxy.train('sl_p', 'sl_neg', 'label', algorithm => 'naive_bayes', hyperparams => '{"distribution": "multinomial"}')$$,
                 '22023', NULL, 'multinomial with negative features: 22023');
SELECT lives_ok($$SELECT galaxy.train('sl_mn', 'sl_cls', 'label', algorithm => 'naive_bayes', hyperparams => '{"distribution": "multinomial"}', test_size => 0)$$,
                'multinomial on non-negative features');
SELECT throws_ok($$SELECT galaxy.predict_label('sl_mn', ARRAY[-1.0, 2.0])$$, '22023', NULL,
                 'multinomial prediction of a negative feature');
SELECT lives_ok($$SELECT galaxy.train('sl_gn', 'sl_neg', 'label', algorithm => 'naive_bayes', test_size => 0)$$,
                'gaussian accepts negative features');

-- wrong task
SELECT throws_ok($$SELECT galaxy.train('sl_p', 'sl_cls', 'label', algorithm => 'lasso')$$, '22023', NULL,
                 'lasso on a classification target');
SELECT throws_ok($$SELECT galaxy.train('sl_p', 'sl_cls', 'label', algorithm => 'elastic_net')$$, '22023', NULL,
                 'elastic_net on a classification target');
SELECT throws_ok($$SELECT galaxy.train('sl_p', 'sl_reg', 'y', algorithm => 'linear_svm', task => 'regression')$$, '22023', NULL,
                 'linear_svm for regression');
SELECT throws_ok($$SELECT galaxy.train('sl_p', 'sl_reg', 'y', algorithm => 'naive_bayes', task => 'regression')$$, '22023', NULL,
                 'naive_bayes for regression');

-- boundaries are accepted
SELECT lives_ok($$SELECT galaxy.train('sl_b', 'sl_reg', 'y', algorithm => 'elastic_net', hyperparams => '{"alpha": 0, "l1_ratio": 0, "max_iter": 1, "tol": 1}', deploy => 'never')$$,
                'elastic_net boundary values');
SELECT lives_ok($$SELECT galaxy.train('sl_c', 'sl_cls', 'label', algorithm => 'linear_svm', hyperparams => '{"C": 1e10, "max_iter": 1, "tol": 1, "loss": "hinge", "fit_intercept": false}', deploy => 'never')$$,
                'linear_svm boundary values');

-- determinism: the same bytes twice
SELECT is((SELECT model::text FROM galaxy.train('sl_d1', 'sl_reg', 'y', algorithm => 'elastic_net', deploy => 'never')),
          (SELECT model::text FROM galaxy.train('sl_d1', 'sl_reg', 'y', algorithm => 'elastic_net', deploy => 'never')),
          'elastic_net is deterministic');
SELECT is((SELECT model::text FROM galaxy.train('sl_d2', 'sl_cls', 'label', algorithm => 'linear_svm', deploy => 'never')),
          (SELECT model::text FROM galaxy.train('sl_d2', 'sl_cls', 'label', algorithm => 'linear_svm', deploy => 'never')),
          'linear_svm is deterministic');
SELECT is((SELECT model::text FROM galaxy.train('sl_d3', 'sl_cls', 'label', algorithm => 'naive_bayes', deploy => 'never')),
          (SELECT model::text FROM galaxy.train('sl_d3', 'sl_cls', 'label', algorithm => 'naive_bayes', deploy => 'never')),
          'naive_bayes is deterministic');

-- text features (sparse rows) for linear_regression, lasso and elastic_net
CREATE TABLE sl_txt (body text, y float8);
INSERT INTO sl_txt SELECT CASE WHEN g % 3 = 0 THEN 'refund my invoice' WHEN g % 3 = 1 THEN 'the app crashes'
                               ELSE 'parcel shipped late' END || ' ' || g, (g % 3) * 2 + g % 2
FROM generate_series(1, 45) g;
INSERT INTO sl_txt VALUES (NULL, 1), ('', 2);
SELECT lives_ok($$SELECT galaxy.train('sl_t1', 'sl_txt', 'y', algorithm => 'lasso', task => 'regression', features => '{body}',
                                      hyperparams => '{"alpha": 0.01}', preprocess => '{"columns": {"body": {"text": "tfidf"}}}')$$,
                'lasso trains on an unbounded vocabulary (sparse, not made dense)');
SELECT lives_ok($$SELECT galaxy.train('sl_t2', 'sl_txt', 'y', algorithm => 'elastic_net', task => 'regression', features => '{body}',
                                      preprocess => '{"columns": {"body": {"text": "hashing", "n_features": 100000}}}')$$,
                'elastic_net trains on 100,000 hashed features');
SELECT lives_ok($$SELECT galaxy.train('sl_t3', 'sl_txt', 'y', algorithm => 'linear_regression', task => 'regression', features => '{body}',
                                      preprocess => '{"columns": {"body": {"text": "tfidf"}}}')$$,
                'linear_regression trains on text (more terms than rows)');
SELECT ok(galaxy.predict('sl_t1', 'the app crashes') < galaxy.predict('sl_t1', 'parcel shipped late'),
          'lasso on text: a crash ticket scores below a shipping one');
SELECT ok(galaxy.predict('sl_t3', 'refund my invoice') IS NOT NULL AND galaxy.predict('sl_t2', '') IS NOT NULL,
          'linear_regression and elastic_net predict from a document, an empty one too');
SELECT is(galaxy.predict('sl_t1', NULL::text), NULL, 'a NULL document predicts NULL');
SELECT throws_ok($$SELECT galaxy.train('sl_t4', 'sl_txt', 'y', algorithm => 'lasso', task => 'regression', features => '{body}',
                                       preprocess => '{"columns": {"body": {"text": "tfidf", "impute": "error"}}}')$$,
                 '22004', NULL, 'a NULL text with "impute": "error" is refused');
SELECT throws_ok($$SELECT galaxy.train('sl_t5', 'sl_txt', 'y', algorithm => 'elastic_net', task => 'regression', features => '{body}',
                                       hyperparams => '{"alpha": -1}', preprocess => '{"columns": {"body": {"text": "tfidf"}}}')$$,
                 '22023', NULL, 'elastic_net on text: a bad alpha is refused');

SELECT * FROM finish();
ROLLBACK;
