-- Text features: a text column made a bag of words by the preprocess options
-- (tfidf, counts, binary, hashing), the tokenizer (galaxy.tokenize), the
-- sparse algorithms (logistic_regression, naive_bayes, linear_svm), predict
-- on raw text and on rows, evaluate, describe, NULL and empty texts,
-- cross-validation, a dense-only algorithm on few text features, and 20,000
-- texts at once.
\set VERBOSITY terse
\getenv abs_srcdir PG_ABS_SRCDIR
\set tickets_csv :abs_srcdir '/test/data/tickets.csv'

-- the NOTICE summary of each train() carries timings
SET client_min_messages = warning;

-- an error as its SQLSTATE and message
CREATE FUNCTION try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- 200 support tickets in four categories
CREATE TABLE tickets (id int PRIMARY KEY, body text, channel text, priority int, category text);
COPY tickets FROM :'tickets_csv' WITH (FORMAT csv, HEADER true);
SELECT category, count(*) FROM tickets GROUP BY 1 ORDER BY 1;

-- ---------------------------------------------------------------------------
-- the tokenizer: PostgreSQL's text search, the lexemes to_tsvector indexes
SELECT galaxy.tokenize('The quick brown foxes jumped over the lazy dogs');
SELECT galaxy.tokenize('The quick brown foxes jumped over the lazy dogs', 'simple');
SELECT galaxy.tokenize(''), galaxy.tokenize('the and of'), galaxy.tokenize(NULL);
SELECT count(*) FILTER (WHERE ARRAY(SELECT DISTINCT x FROM unnest(galaxy.tokenize(body)) x ORDER BY 1)
                              = tsvector_to_array(to_tsvector('english', body))) AS same_as_to_tsvector,
       count(*) AS texts
FROM tickets;

-- ---------------------------------------------------------------------------
-- TF-IDF + logistic regression on the text alone (80/20 split)
SELECT version, round((metrics->>'accuracy')::numeric, 4) AS accuracy, (metrics->>'accuracy')::float8 >= 0.9 AS good
FROM galaxy.train('tickets', 'tickets', 'category', algorithm => 'logistic_regression', features => '{body}',
                  preprocess => '{"columns": {"body": {"text": "tfidf"}}}');
SELECT (d->'preprocess'->'inputs'->0) - 'most_frequent_terms' AS body,
       d->'preprocess'->'inputs'->0->'most_frequent_terms'->0 AS most_frequent,
       d->'labels' AS labels, d->'top_terms'->'body'->1 AS billing_terms
FROM galaxy.models m, galaxy.describe(m.model) d WHERE m.id = 1;

-- predict on raw text, by project and by model id
SELECT t AS text, galaxy.predict_label('tickets', t) AS label
FROM unnest(ARRAY['my invoice is wrong', 'the app crashes after the update',
                  'where is my parcel?', 'please reset my password']) t;
SELECT (SELECT array_agg(round(p::numeric, 4)) FROM unnest(galaxy.predict_proba('tickets', 'I was charged twice')) p) AS proba,
       galaxy.predict_label(1::bigint, 'I was charged twice') AS by_model_id,
       galaxy.predict('tickets', 'I was charged twice') AS class_index;
-- whole rows, and galaxy.evaluate on all of them
SELECT count(*) FILTER (WHERE galaxy.predict_label('tickets', t) = t.category) AS right, count(*)
FROM tickets t;
SELECT round((e->>'accuracy')::numeric, 4) AS accuracy, e->>'rows' AS rows
FROM galaxy.evaluate('tickets', 'tickets') e;
-- an empty text and a text of stop words have no words: the intercepts decide;
-- a NULL text predicts NULL, a NULL column of a row has no words
SELECT galaxy.predict_label('tickets', '') = galaxy.predict_label('tickets', 'the and of') AS same,
       galaxy.predict_label('tickets', NULL::text) IS NULL AS null_is_null,
       galaxy.predict_label('tickets', t) = galaxy.predict_label('tickets', '') AS null_column_is_empty
FROM (SELECT NULL::text AS body) t;

-- ---------------------------------------------------------------------------
-- naive Bayes (multinomial on TF-IDF, Bernoulli on words present) and linear SVM
SELECT round((metrics->>'accuracy')::numeric, 4) AS multinomial
FROM galaxy.train('tickets_nb', 'tickets', 'category', algorithm => 'naive_bayes', features => '{body}',
                  hyperparams => '{"distribution": "multinomial"}',
                  preprocess => '{"columns": {"body": {"text": "tfidf"}}}');
SELECT (SELECT array_agg(round(p::numeric, 4)) FROM unnest(galaxy.predict_proba('tickets_nb', 'my parcel arrived damaged')) p);
SELECT round((metrics->>'accuracy')::numeric, 4) AS bernoulli
FROM galaxy.train('tickets_nbb', 'tickets', 'category', algorithm => 'naive_bayes', features => '{body}',
                  hyperparams => '{"distribution": "bernoulli"}',
                  preprocess => '{"columns": {"body": {"text": "binary", "config": "simple"}}}');
SELECT round((metrics->>'accuracy')::numeric, 4) AS svm
FROM galaxy.train('tickets_svm', 'tickets', 'category', algorithm => 'linear_svm', features => '{body}',
                  preprocess => '{"columns": {"body": {"text": "tfidf", "sublinear_tf": true}}}');
SELECT galaxy.predict_label('tickets_svm', 'the login page shows an error 500');

-- ---------------------------------------------------------------------------
-- counts with a vocabulary limit: max_features keeps the most frequent terms
SELECT d->'preprocess'->'inputs'->0->>'vocabulary_size' AS vocabulary,
       d->'preprocess'->'inputs'->0->'most_frequent_terms' AS terms
FROM galaxy.train('tickets_counts', 'tickets', 'category', algorithm => 'logistic_regression', features => '{body}',
                  preprocess => '{"columns": {"body": {"text": "counts", "max_features": 8}}}') m,
     galaxy.describe(m.model) d;
-- min_df / max_df: terms of at least 5 and at most half of the training texts
SELECT (d->'preprocess'->'inputs'->0->>'vocabulary_size')::int < 150 AS pruned,
       d->'preprocess'->'inputs'->0->>'min_df' AS min_df, d->'preprocess'->'inputs'->0->>'max_df' AS max_df
FROM galaxy.train('tickets_df', 'tickets', 'category', algorithm => 'logistic_regression', features => '{body}',
                  preprocess => '{"columns": {"body": {"text": "tfidf", "min_df": 5, "max_df": 0.5}}}') m,
     galaxy.describe(m.model) d;
-- the hashing trick: no vocabulary, a fixed width
SELECT m.n_features, round((m.metrics->>'accuracy')::numeric, 4) AS accuracy, d->'preprocess'->'inputs'->0->>'text' AS text
FROM (SELECT (galaxy.describe(model)->>'n_features')::int AS n_features, metrics, model
      FROM galaxy.train('tickets_hash', 'tickets', 'category', algorithm => 'logistic_regression', features => '{body}',
                        preprocess => '{"columns": {"body": {"text": "hashing", "n_features": 1024}}}')) m,
     galaxy.describe(m.model) d;
SELECT galaxy.predict_label('tickets_hash', 'the courier lost my box');

-- ---------------------------------------------------------------------------
-- text beside a categorical and a numeric column (appended as sparse columns)
SELECT round((metrics->>'accuracy')::numeric, 4) AS accuracy, features
FROM galaxy.train('tickets_mixed', 'tickets', 'category', algorithm => 'logistic_regression',
                  preprocess => '{"columns": {"body": {"text": "tfidf"}}}');
SELECT galaxy.predict_label('tickets_mixed', t) FROM tickets t WHERE id <= 3 ORDER BY id;
SELECT try($$SELECT galaxy.predict_label('tickets_mixed', 'my invoice')$$);
SELECT try($$SELECT galaxy.predict('tickets', ARRAY[1.0])$$);
SELECT feature, round(importance::numeric, 4) FROM galaxy.feature_importance(
    (SELECT max(id) FROM galaxy.models WHERE algorithm = 'logistic_regression'))
WHERE feature NOT LIKE 'body:%' ORDER BY feature;

-- cross-validation rebuilds the vocabulary on each fold's training rows
SELECT (metrics->>'cv_folds')::int AS folds, (metrics->>'cv_accuracy_mean')::float8 >= 0.9 AS good
FROM galaxy.train('tickets_cv', 'tickets', 'category', algorithm => 'naive_bayes', features => '{body}', folds => 3,
                  hyperparams => '{"distribution": "multinomial"}',
                  preprocess => '{"columns": {"body": {"text": "tfidf"}}}');

-- a dense-only algorithm takes text bounded to at most 4,096 features (made dense), else ERROR
SELECT round((metrics->>'accuracy')::numeric, 4) AS tree
FROM galaxy.train('tickets_tree', 'tickets', 'category', algorithm => 'decision_tree', features => '{body}',
                  preprocess => '{"columns": {"body": {"text": "binary", "max_features": 64}}}');
SELECT galaxy.predict_label('tickets_tree', 'my package arrived damaged');
SELECT try($$SELECT galaxy.train('tickets_tree2', 'tickets', 'category', algorithm => 'random_forest',
                                 features => '{body}', preprocess => '{"columns": {"body": {"text": "tfidf"}}}')$$);

-- a text column is categorical unless the options make it text
SELECT d->'preprocess'->'inputs'->0->>'kind' AS kind, d->'preprocess'->'inputs'->0->>'encoding' AS encoding
FROM galaxy.train('tickets_cat', 'tickets', 'category', algorithm => 'logistic_regression', features => '{body}') m,
     galaxy.describe(m.model) d;

-- ---------------------------------------------------------------------------
-- 20,000 texts: four classes, each text six words from its class's vocabulary
-- (which overlaps the next class's) and six shared ones
CREATE TABLE many_texts AS
WITH words AS (
    SELECT c, array_agg('w' || c || '_' || k ORDER BY k) || array_agg('w' || ((c + 1) % 4) || '_' || k ORDER BY k) AS own
    FROM generate_series(0, 3) c, generate_series(1, 40) k GROUP BY c
)
SELECT i, 'class_' || (i % 4) AS label,
       (SELECT string_agg(CASE WHEN k <= 6 THEN w.own[1 + abs(hashtext(i || ':' || k)) % 60]
                               ELSE 'shared' || abs(hashtext(k || ':' || i)) % 200 END, ' ')
        FROM generate_series(1, 12) k) AS body
FROM generate_series(1, 20000) i JOIN words w ON w.c = i % 4;
SELECT training_rows, test_rows, (metrics->>'accuracy')::float8 >= 0.9 AS good
FROM galaxy.train('many', 'many_texts', 'label', algorithm => 'logistic_regression', features => '{body}',
                  preprocess => '{"columns": {"body": {"text": "tfidf", "config": "simple"}}}');
SELECT (galaxy.evaluate('many', 'many_texts')->>'accuracy')::float8 >= 0.9 AS good;
