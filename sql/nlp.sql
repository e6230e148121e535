-- Text classification with sequence models (task 'nlp'): a text column read
-- as token ids ("text": "sequence": the vocabulary of the training split,
-- out-of-vocabulary id, padding and truncation to max_length), lstm (and
-- gru) and transformer on it, predict on raw text, determinism, describe,
-- background jobs, and bad input (NULL, empty and 10 MB texts; a sequence
-- beside other features; an algorithm that does not embed tokens).
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

-- ---------------------------------------------------------------------------
-- transformer and lstm learn the tickets from their words alone
SELECT algorithm, (metrics->>'accuracy')::float8 >= 0.9 AS learned, test_rows
FROM galaxy.train('tickets-tf', 'tickets', 'category', task => 'nlp', features => ARRAY['body'],
                  algorithm => 'transformer',
                  hyperparams => '{"epochs": 30, "d_model": 32, "heads": 2, "layers": 1, "ff_units": 64,
                                   "batch_size": 16, "learning_rate": 0.003}');
SELECT algorithm, (metrics->>'accuracy')::float8 >= 0.9 AS learned
FROM galaxy.train('tickets-lstm', 'tickets', 'category', task => 'nlp', features => ARRAY['body'],
                  algorithm => 'lstm',
                  hyperparams => '{"epochs": 30, "lstm_units": [32], "embedding_dim": 32,
                                   "batch_size": 16, "learning_rate": 0.005}');
SELECT algorithm, (metrics->>'accuracy')::float8 >= 0.9 AS learned
FROM galaxy.train('tickets-gru', 'tickets', 'category', task => 'nlp', features => ARRAY['body'],
                  algorithm => 'lstm', preprocess => '{"columns": {"body": {"max_length": 24}}}',
                  hyperparams => '{"epochs": 30, "cell": "gru", "lstm_units": [32], "embedding_dim": 32,
                                   "batch_size": 16, "learning_rate": 0.005}');

-- what task 'nlp' recorded: the column read as a sequence
SELECT p.name, m.task, m.preprocess
FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id
WHERE p.name LIKE 'tickets-%' ORDER BY m.id;

-- the vocabulary, length and token layout in describe()
SELECT i->>'text' AS text, i->>'max_length' AS max_length, (i->>'vocabulary_size')::int > 100 AS vocabulary,
       i->>'max_features' AS max_features, i->'most_frequent_terms'->>0 AS top_term
FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id,
     jsonb_array_elements(galaxy.describe(m.id)->'preprocess'->'inputs') i
WHERE p.name = 'tickets-gru';
SELECT p.name, l->>'type' AS first_layer, (l->>'vocabulary')::int > 100 AS embeds_vocabulary
FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id,
     LATERAL (SELECT galaxy.describe(m.id)->'architecture'->'layers'->0) AS a(l)
WHERE p.name IN ('tickets-lstm', 'tickets-tf') ORDER BY m.id;

-- raw text in, a category out (the same tokenizer and vocabulary as training)
SELECT galaxy.predict_label('tickets-lstm', 'Please refund the duplicate payment on my invoice.') AS lstm,
       galaxy.predict_label('tickets-tf', 'Please refund the duplicate payment on my invoice.') AS transformer;
-- predictions on the table agree with the held-out accuracy
SELECT avg((galaxy.predict_label('tickets-tf', body) = category)::int) >= 0.9 AS transformer_agrees,
       avg((galaxy.predict_label('tickets-lstm', body) = category)::int) >= 0.9 AS lstm_agrees
FROM tickets;
-- words never seen in training, a NULL text, an empty one, 10 MB of text: an answer, never a crash
SELECT galaxy.predict_label('tickets-tf', 'zzqx wibble florp') IS NOT NULL AS unseen,
       galaxy.predict_label('tickets-tf', NULL::text) IS NULL AS null_text,
       galaxy.predict_label('tickets-tf', '') IS NOT NULL AS empty_text,
       galaxy.predict_label('tickets-tf', repeat('refund my invoice ', 600000)) IS NOT NULL AS ten_mb;

-- determinism: the same seed gives the same predictions
SELECT algorithm
FROM galaxy.train('tickets-tf-again', 'tickets', 'category', task => 'nlp', features => ARRAY['body'],
                  algorithm => 'transformer',
                  hyperparams => '{"epochs": 30, "d_model": 32, "heads": 2, "layers": 1, "ff_units": 64,
                                   "batch_size": 16, "learning_rate": 0.003}');
SELECT count(*) FILTER (WHERE galaxy.predict_proba('tickets-tf', body) <> galaxy.predict_proba('tickets-tf-again', body)) AS differing
FROM tickets;

-- cross-validation fits a vocabulary per fold
SELECT (metrics->>'cv_folds')::int AS folds, (metrics->>'cv_accuracy_mean')::float8 > 0.5 AS cv_learned
FROM galaxy.train('tickets-cv', 'tickets', 'category', task => 'nlp', features => ARRAY['body'],
                  algorithm => 'lstm', folds => 3, deploy => 'never',
                  preprocess => '{"columns": {"body": {"max_length": 24}}}',
                  hyperparams => '{"epochs": 30, "cell": "gru", "lstm_units": [32], "embedding_dim": 32,
                                   "batch_size": 16, "learning_rate": 0.005}');

-- a bag-of-words algorithm under task 'nlp' gets TF-IDF; every text column by default
SELECT m.algorithm, m.preprocess
FROM galaxy.train('tickets-nlp-auto', 'tickets', 'category', task => 'nlp') m;

-- a background job takes task 'nlp' like train()
SELECT galaxy.submit('tickets-job', 'tickets', 'category', task => 'nlp', features => ARRAY['body'],
                     algorithm => 'transformer', preprocess => '{"columns": {"body": {"max_length": 16}}}',
                     hyperparams => '{"epochs": 2, "d_model": 16, "heads": 2, "layers": 1}') AS job \gset
SELECT state, error_message FROM galaxy.wait(:job, '2 minutes');
SELECT m.preprocess FROM galaxy.models m JOIN galaxy.jobs j ON j.model_id = m.id WHERE j.id = :job;

-- NULL and empty texts in training rows: no words (all padding)
UPDATE tickets SET body = NULL WHERE id % 20 = 0;
UPDATE tickets SET body = '' WHERE id % 20 = 10;
SELECT (metrics->>'accuracy')::float8 > 0.5 AS learned
FROM galaxy.train('tickets-holes', 'tickets', 'category', task => 'nlp', features => ARRAY['body'],
                  algorithm => 'lstm', preprocess => '{"columns": {"body": {"max_length": 24}}}',
                  hyperparams => '{"epochs": 30, "cell": "gru", "lstm_units": [32], "embedding_dim": 32,
                                   "batch_size": 16, "learning_rate": 0.005}');
-- a NULL text is an error when the column says so
SELECT try($$SELECT galaxy.train('x', 'tickets', 'category', features => ARRAY['body'], algorithm => 'lstm',
                                 preprocess => '{"columns": {"body": {"text": "sequence", "impute": "error"}}}')$$);
-- a 10 MB training text: its first max_length words
UPDATE tickets SET body = repeat('my invoice was charged twice ', 350000) WHERE id = 1;
SELECT (metrics->>'accuracy')::float8 > 0.5 AS learned
FROM galaxy.train('tickets-big', 'tickets', 'category', task => 'nlp', features => ARRAY['body'],
                  algorithm => 'lstm', preprocess => '{"columns": {"body": {"max_length": 24}}}',
                  hyperparams => '{"epochs": 30, "cell": "gru", "lstm_units": [32], "embedding_dim": 32,
                                   "batch_size": 16, "learning_rate": 0.005}');

-- ---------------------------------------------------------------------------
-- bad input: each a clear error
-- no text column for task 'nlp'
SELECT try($$SELECT galaxy.train('x', 'tickets', 'category', task => 'nlp', features => ARRAY['priority'], algorithm => 'lstm')$$);
-- a sequence must be the only feature
SELECT try($$SELECT galaxy.train('x', 'tickets', 'category', task => 'nlp', features => ARRAY['body', 'channel'], algorithm => 'lstm')$$);
SELECT try($$SELECT galaxy.train('x', 'tickets', 'category', features => ARRAY['body', 'priority'], algorithm => 'transformer',
                                 preprocess => '{"columns": {"body": {"text": "sequence"}}}')$$);
-- an algorithm that does not embed tokens
SELECT try($$SELECT galaxy.train('x', 'tickets', 'category', features => ARRAY['body'], algorithm => 'neural_network',
                                 preprocess => '{"columns": {"body": {"text": "sequence"}}}')$$);
SELECT try($$SELECT galaxy.submit('x', 'tickets', 'category', features => ARRAY['body'], algorithm => 'random_forest',
                                  preprocess => '{"columns": {"body": {"text": "sequence"}}}')$$);
-- vocab_size below the vocabulary's token ids
SELECT try($$SELECT galaxy.train('x', 'tickets', 'category', task => 'nlp', features => ARRAY['body'], algorithm => 'lstm',
                                 hyperparams => '{"vocab_size": 10}')$$);
-- options that do not fit a sequence
SELECT try($$SELECT galaxy.train('x', 'tickets', 'category', features => ARRAY['body'], algorithm => 'lstm',
                                 preprocess => '{"columns": {"body": {"text": "sequence", "max_length": 0}}}')$$);
SELECT try($$SELECT galaxy.train('x', 'tickets', 'category', features => ARRAY['body'], algorithm => 'lstm',
                                 preprocess => '{"columns": {"body": {"text": "sequence", "max_length": 5000}}}')$$);
SELECT try($$SELECT galaxy.train('x', 'tickets', 'category', features => ARRAY['body'], algorithm => 'lstm',
                                 preprocess => '{"columns": {"body": {"text": "tfidf", "max_length": 10}}}')$$);
SELECT try($$SELECT galaxy.train('x', 'tickets', 'category', features => ARRAY['body'], algorithm => 'lstm',
                                 preprocess => '{"columns": {"body": {"text": "sequence", "norm": "l2"}}}')$$);
SELECT try($$SELECT galaxy.train('x', 'tickets', 'category', features => ARRAY['body'], algorithm => 'lstm',
                                 preprocess => '{"max_length": 10}')$$);
SELECT try($$SELECT galaxy.train('x', 'tickets', 'category', features => ARRAY['body'], algorithm => 'lstm',
                                 preprocess => '{"columns": {"body": {"text": "sequence", "min_df": 500}}}')$$);
-- an input_shape that disagrees with max_length
SELECT try($$SELECT galaxy.train('x', 'tickets', 'category', task => 'nlp', features => ARRAY['body'], algorithm => 'lstm',
                                 hyperparams => '{"input_shape": [10]}')$$);
-- task 'nlp' is classification
SELECT try($$SELECT galaxy.train('x', 'tickets', 'category', task => 'nlp', features => ARRAY['body'], algorithm => 'kmeans')$$);
SELECT count(*) AS stray_projects FROM galaxy.projects WHERE name = 'x';
