-- galaxy's word tokenizer (the configuration galaxy.words, parser
-- galaxy_internal.words): scikit-learn's default tokens (runs of two or more
-- letters, digits or underscores, lower-cased), what it does with empty,
-- NULL, 1 MB and non-ASCII texts, that it agrees with to_tsvector, and
-- training and predicting with it (vocabulary limit, describe).
BEGIN;
SELECT plan(23);
SET LOCAL client_min_messages = warning;

-- the words
SELECT is(galaxy.tokenize('Hello, World! It''s a test_case of 42 x y_z e-mail a1', 'galaxy.words'),
          ARRAY['hello', 'world', 'it', 'test_case', 'of', '42', 'y_z', 'mail', 'a1'],
          'words of two or more letters, digits or underscores, lower-cased, one-character words dropped');
SELECT is(galaxy.tokenize('Refunds were refunded; the end.', 'galaxy.words'),
          ARRAY['refunds', 'were', 'refunded', 'the', 'end'], 'no stemming, no stop words');
SELECT is(galaxy.tokenize('', 'galaxy.words'), '{}'::text[], 'an empty text has no words');
SELECT is(galaxy.tokenize(NULL, 'galaxy.words'), NULL, 'a NULL text gives NULL');
SELECT is(galaxy.tokenize('a b c . , ; -- !? 1 2 3', 'galaxy.words'), '{}'::text[],
          'single characters and punctuation are no words');
SELECT is(galaxy.tokenize('naïve Straße café—東京 «quoted» 😀emoji😀 ½ ①② x²', 'galaxy.words'),
          ARRAY['naïve', 'straße', 'café', '東京', 'quoted', 'emoji', '①②', 'x²'],
          'non-ASCII letters and digits are word characters; dashes, guillemets, emoji and symbols separate words');
SELECT is(galaxy.tokenize('ÀÉÎ ÕÜ', 'galaxy.words'), ARRAY[lower('ÀÉÎ'), lower('ÕÜ')],
          'non-ASCII words are lower-cased as lower() does (the ''simple'' dictionary: the database''s collation)');

-- long texts
SELECT is(cardinality(galaxy.tokenize(repeat('word ', 200000), 'galaxy.words')), 200000,
          'a 1 MB text: every word, across the tokenizer''s slices');
SELECT is(cardinality(galaxy.tokenize(repeat('x', 1048576), 'galaxy.words')), 0,
          'a 1 MB word is skipped (to_tsvector''s limit of 2047 bytes)');
SELECT is(galaxy.tokenize(repeat('ab', 1023) || ' ok ' || repeat('é', 1024), 'galaxy.words'),
          ARRAY[repeat('ab', 1023), 'ok'], 'a word of 2046 bytes is kept, one of 2048 bytes is not');

-- the configuration is an ordinary one
SELECT is((SELECT array_agg(DISTINCT alias) FROM ts_debug('galaxy.words', 'Hi there, x!')), ARRAY['word'],
          'ts_debug: one token type, word');
SELECT is(to_tsvector('galaxy.words', 'The cat, the CAT.'), '''cat'':2,4 ''the'':1,3'::tsvector,
          'to_tsvector with galaxy.words');

CREATE TABLE tw_docs (id serial PRIMARY KEY, body text, label text);
INSERT INTO tw_docs (body, label)
SELECT CASE g % 3 WHEN 0 THEN 'Refund my invoice, the charge is wrong #' || g
                  WHEN 1 THEN 'The app crashes when I open it, error ' || g
                  ELSE 'Where is my parcel? The delivery is late: ' || g END,
       CASE g % 3 WHEN 0 THEN 'billing' WHEN 1 THEN 'bug' ELSE 'shipping' END
FROM generate_series(1, 90) g;
INSERT INTO tw_docs (body, label) VALUES ('', 'billing'), (NULL, 'bug'), ('a . b', 'shipping');

SELECT is((SELECT count(*) FROM tw_docs WHERE body IS NOT NULL AND
                  ARRAY(SELECT DISTINCT x FROM unnest(galaxy.tokenize(body, 'galaxy.words')) x ORDER BY 1)
                  <> tsvector_to_array(to_tsvector('galaxy.words', body))), 0::bigint,
          'the words are those to_tsvector(''galaxy.words'', ...) indexes');

-- training with it: naive Bayes and logistic regression, a vocabulary limit
SELECT lives_ok($$SELECT galaxy.train('tw_nb', 'tw_docs', 'label', algorithm => 'naive_bayes', features => '{body}',
                                      hyperparams => '{"distribution": "multinomial"}', test_size => 0,
                                      preprocess => '{"columns": {"body": {"text": "tfidf", "config": "galaxy.words"}}}')$$,
                'naive Bayes on galaxy.words TF-IDF (empty and NULL texts have no words)');
SELECT is((SELECT galaxy.describe(model) -> 'preprocess' -> 'inputs' -> 0 ->> 'config' FROM galaxy.models
            WHERE project_id = (SELECT id FROM galaxy.projects WHERE name = 'tw_nb')),
          'galaxy.words', 'describe names the configuration');
SELECT is(galaxy.predict_label('tw_nb', 'THE APP CRASHES!!'), 'bug', 'predict_label on a raw text (upper case)');
SELECT is(galaxy.predict_label('tw_nb', 'where is my parcel'), 'shipping', 'predict_label: another class');
SELECT is((SELECT count(*) FROM tw_docs WHERE id <= 90 AND galaxy.predict_label('tw_nb', body) <> label), 0::bigint,
          'every training row predicted right, one statement (the vocabulary''s index built on the way)');
SELECT is(galaxy.predict_label('tw_nb', NULL::text), NULL, 'a NULL text predicts NULL');
SELECT lives_ok($$SELECT galaxy.train('tw_lr', 'tw_docs', 'label', algorithm => 'logistic_regression', features => '{body}',
                                      test_size => 0,
                                      preprocess => '{"columns": {"body": {"text": "tfidf", "config": "galaxy.words", "max_features": 5}}}')$$,
                'logistic regression on galaxy.words with a vocabulary limit');
SELECT is((SELECT (galaxy.describe(model) -> 'preprocess' -> 'inputs' -> 0 ->> 'vocabulary_size')::int FROM galaxy.models
            WHERE project_id = (SELECT id FROM galaxy.projects WHERE name = 'tw_lr')),
          5, 'max_features = 5: a vocabulary of 5 words');
SELECT lives_ok($$SELECT galaxy.train('tw_h', 'tw_docs', 'label', algorithm => 'naive_bayes', features => '{body}',
                                      hyperparams => '{"distribution": "multinomial"}', test_size => 0,
                                      preprocess => '{"columns": {"body": {"text": "hashing", "config": "galaxy.words", "n_features": 64}}}')$$,
                'hashing with galaxy.words');
SELECT throws_ok($$SELECT galaxy.tokenize('x', 'galaxy.nowords')$$, '42704', NULL, 'a configuration that does not exist');

SELECT * FROM finish();
ROLLBACK;
