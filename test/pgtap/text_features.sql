-- Text feature contracts: what empty, NULL and 1 MB texts do, the
-- vocabulary limit, the tokenizer against to_tsvector, and every bad option
-- or input as an ERROR with its SQLSTATE (bad configuration name, a tree on
-- text, a non-text column, options that do not fit the mode, ...).
BEGIN;
SELECT plan(44);
SET LOCAL client_min_messages = warning;

CREATE TABLE tf_docs (id serial PRIMARY KEY, body text, n float8, label text);
INSERT INTO tf_docs (body, n, label)
SELECT CASE g % 3 WHEN 0 THEN 'refund my invoice, the charge is wrong ' || g
                  WHEN 1 THEN 'the app crashes when I open it ' || g
                  ELSE 'where is my parcel, the delivery is late ' || g END,
       g, CASE g % 3 WHEN 0 THEN 'billing' WHEN 1 THEN 'bug' ELSE 'shipping' END
FROM generate_series(1, 60) g;
-- an empty text, a NULL text, a text of stop words only
INSERT INTO tf_docs (body, n, label) VALUES ('', 61, 'billing'), (NULL, 62, 'bug'), ('the and of it', 63, 'shipping');

-- the tokenizer
SELECT is(galaxy.tokenize('Refunds were refunded', 'english'), ARRAY['refund', 'refund'], 'english stems');
SELECT is(galaxy.tokenize('Refunds were refunded', 'simple'), ARRAY['refunds', 'were', 'refunded'], 'simple lower-cases every word');
SELECT is(galaxy.tokenize(''), '{}'::text[], 'an empty text has no lexemes');
SELECT is(galaxy.tokenize('the of and'), '{}'::text[], 'stop words have no lexemes');
SELECT is((SELECT count(*) FROM tf_docs WHERE body IS NOT NULL AND
                  ARRAY(SELECT DISTINCT x FROM unnest(galaxy.tokenize(body)) x ORDER BY 1)
                  <> tsvector_to_array(to_tsvector('english', body))), 0::bigint,
          'the lexemes are those to_tsvector indexes');
SELECT throws_ok($$SELECT galaxy.tokenize('x', 'klingon')$$, '42704', NULL, 'tokenize: unknown configuration');

-- training: a model, and empty / NULL texts are texts without words
SELECT lives_ok($$SELECT galaxy.train('tf', 'tf_docs', 'label', algorithm => 'logistic_regression', features => '{body}',
                                      test_size => 0, preprocess => '{"columns": {"body": {"text": "tfidf"}}}')$$,
                'empty and NULL texts train (no words)');
SELECT is(galaxy.predict_label('tf', 'the app crashes'), 'bug', 'predict_label on a raw text');
SELECT is(galaxy.predict_label('tf', ''), galaxy.predict_label('tf', 'the of'), 'an empty text predicts as a text of stop words');
SELECT is(galaxy.predict_label('tf', NULL::text), NULL, 'a NULL text predicts NULL');
SELECT is(galaxy.predict_label('tf', t), galaxy.predict_label('tf', ''), 'a NULL text column has no words')
FROM tf_docs t WHERE t.body IS NULL;
SELECT ok((SELECT sum(p) FROM unnest(galaxy.predict_proba('tf', 'zzz unknown words')) p) BETWEEN 0.999999 AND 1.000001,
          'unknown words: probabilities still sum to 1');
SELECT throws_ok($$SELECT galaxy.train('tf_null', 'tf_docs', 'label', features => '{body}',
                                       preprocess => '{"columns": {"body": {"text": "tfidf", "impute": "error"}}}')$$,
                 '22004', NULL, 'impute error: a NULL text is an ERROR');

-- a 1 MB text trains and predicts
INSERT INTO tf_docs (body, n, label) VALUES (repeat('refund invoice charge ', 50000), 64, 'billing');
SELECT ok((SELECT octet_length(body) FROM tf_docs WHERE n = 64) > 1000000, 'a text of more than 1 MB');
SELECT lives_ok($$SELECT galaxy.train('tf_big', 'tf_docs', 'label', algorithm => 'naive_bayes', features => '{body}',
                                      hyperparams => '{"distribution": "multinomial"}', test_size => 0,
                                      preprocess => '{"columns": {"body": {"text": "counts"}}}')$$,
                'a 1 MB text trains');
SELECT is(galaxy.predict_label('tf_big', repeat('the app crashes ', 70000)), 'bug', 'a 1 MB text predicts');

-- the vocabulary limit keeps the most frequent terms
SELECT is((SELECT (galaxy.describe(model)->'preprocess'->'inputs'->0->>'vocabulary_size')::int
           FROM galaxy.train('tf_lim', 'tf_docs', 'label', algorithm => 'logistic_regression', features => '{body}',
                             preprocess => '{"columns": {"body": {"text": "counts", "max_features": 3}}}')), 3,
          'max_features bounds the vocabulary');
SELECT is((SELECT galaxy.describe(model)->'preprocess'->'inputs'->0->'most_frequent_terms'
           FROM galaxy.models ORDER BY id DESC LIMIT 1), '["charg", "invoic", "refund"]'::jsonb,
          'the terms kept are the most frequent ones (the 1 MB text''s words)');
SELECT is((SELECT (galaxy.describe(model)->>'n_features')::int
           FROM galaxy.train('tf_hash', 'tf_docs', 'label', algorithm => 'logistic_regression', features => '{body}',
                             preprocess => '{"columns": {"body": {"text": "hashing", "n_features": 100}}}')), 100,
          'hashing has n_features features');

-- bad configuration and bad options: 42704, 22023
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', preprocess => '{"columns": {"body": {"text": "tfidf", "config": "klingon"}}}')$$,
                 '42704', 'text search configuration "klingon" does not exist', 'unknown text search configuration');
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', preprocess => '{"columns": {"body": {"text": "tfidf", "config": 3}}}')$$,
                 '22023', NULL, 'config is not a string');
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', preprocess => '{"columns": {"body": {"text": "bag"}}}')$$,
                 '22023', NULL, 'unknown text mode');
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', preprocess => '{"text": "tfidf"}')$$,
                 '22023', 'preprocess option "text" applies to one column', 'text is a column option');
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', preprocess => '{"columns": {"body": {"max_features": 10}}}')$$,
                 '22023', NULL, 'text options need "text"');
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', preprocess => '{"columns": {"body": {"text": "hashing", "min_df": 2}}}')$$,
                 '22023', NULL, 'hashing has no min_df');
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', preprocess => '{"columns": {"body": {"text": "tfidf", "n_features": 10}}}')$$,
                 '22023', NULL, 'a vocabulary has no n_features');
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', preprocess => '{"columns": {"body": {"text": "hashing", "n_features": 2000000}}}')$$,
                 '22023', NULL, 'n_features above 2^20');
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', preprocess => '{"columns": {"body": {"text": "counts", "sublinear_tf": true}}}')$$,
                 '22023', NULL, 'sublinear_tf is for tfidf');
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', preprocess => '{"columns": {"body": {"text": "tfidf", "min_df": 2.5}}}')$$,
                 '22023', NULL, 'min_df neither a fraction nor a count');
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', preprocess => '{"columns": {"body": {"text": "tfidf", "max_df": 0}}}')$$,
                 '22023', NULL, 'max_df of 0');
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', preprocess => '{"columns": {"body": {"text": "tfidf", "norm": "l3"}}}')$$,
                 '22023', NULL, 'unknown norm');
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', preprocess => '{"columns": {"body": {"text": "tfidf", "scale": "standard"}}}')$$,
                 '22023', NULL, 'text is not scaled');
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', preprocess => '{"columns": {"body": {"text": "tfidf", "impute": "most_frequent"}}}')$$,
                 '22023', NULL, 'text imputes only zero or error');
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', preprocess => '{"columns": {"body": {"text": "tfidf", "min_df": 60, "max_df": 0.5}}}')$$,
                 '22023', NULL, 'max_df below min_df');
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', features => '{body}', preprocess => '{"columns": {"body": {"text": "tfidf", "min_df": 40}}}')$$,
                 '22000', 'text column "body" has no term for its vocabulary', 'no term is frequent enough: empty vocabulary');

-- wrong columns: 42804, 22023
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', preprocess => '{"columns": {"n": {"text": "tfidf"}}}')$$,
                 '42804', NULL, 'a numeric column cannot be text');
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', features => '{n}', preprocess => '{"columns": {"body": {"text": "tfidf"}}}')$$,
                 '22023', 'preprocess names column "body", which is not a feature of this training run', 'text column not a feature');

-- algorithms: dense-only ones refuse unbounded text (0A000), Gaussian naive Bayes too
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', algorithm => 'decision_tree', preprocess => '{"columns": {"body": {"text": "tfidf"}}}')$$,
                 '0A000', 'algorithm decision_tree does not take sparse text features', 'a tree on text: clear ERROR');
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', algorithm => 'gradient_boosting', preprocess => '{"columns": {"body": {"text": "hashing", "n_features": 100000}}}')$$,
                 '0A000', NULL, 'gradient boosting on wide hashed text: ERROR');
SELECT throws_ok($$SELECT galaxy.train('tf_e', 'tf_docs', 'label', algorithm => 'naive_bayes', features => '{body}', preprocess => '{"columns": {"body": {"text": "tfidf"}}}')$$,
                 '0A000', NULL, 'gaussian naive Bayes on text');
SELECT lives_ok($$SELECT galaxy.train('tf_tree', 'tf_docs', 'label', algorithm => 'decision_tree', features => '{body}',
                                      preprocess => '{"columns": {"body": {"text": "binary", "max_features": 50}}}')$$,
                'a tree takes text bounded to few features');

-- predict: inputs that do not fit the model
SELECT lives_ok($$SELECT galaxy.train('tf_two', 'tf_docs', 'label', algorithm => 'logistic_regression', features => '{body,n}',
                                      preprocess => '{"columns": {"body": {"text": "tfidf"}}}')$$, 'text and a number');
SELECT throws_ok($$SELECT galaxy.predict_label('tf_two', 'my invoice')$$, '42804', NULL,
                 'a text argument needs a model whose only input is text');
SELECT throws_ok($$SELECT galaxy.predict('tf', ARRAY[1.0, 2.0])$$, '42804', NULL, 'a text model takes no float8[]');

SELECT * FROM finish();
ROLLBACK;
