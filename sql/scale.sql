--
-- galaxy at real sizes: every public function on 100,000 rows, on 26 text
-- classes, on 500 feature columns, on a 10,000-element array feature and on
-- 1 MB text values; galaxy.evaluate checked against the same metrics
-- computed independently in plain SQL from predict_label / predict_proba /
-- predict on the same rows (binary and 26 classes, regression, >= 50k rows).
--
-- Data come from setseed() + random(); nothing prints ids, timings or more
-- decimals than the numerics of BLAS/libm keep stable (metrics to 3
-- decimals; agreement with the SQL reference is checked to 1e-6).
--
\set VERBOSITY terse
\pset null '(null)'
-- train's summary NOTICE carries timings
SET client_min_messages = warning;
-- the SQL reference metrics sort 1.35M (row, class) pairs for ROC AUC
SET work_mem = '256MB';

-- Run a statement; 'ok' or "SQLSTATE: message", where any run of 20 or more
-- equal characters (a 1 MB value echoed back) is shown as "x…".
CREATE FUNCTION try(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '([a-z])\1{19,}', '\1…', 'g');
END
$$;

-- The model a project serves, and a project's model by version.
CREATE FUNCTION served(project text) RETURNS bigint
LANGUAGE sql AS $$ SELECT galaxy.deployed_model(project) $$;
CREATE FUNCTION model_of(project text, version text) RETURNS bigint
LANGUAGE sql AS $$
    SELECT m.id FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id
     WHERE p.name = model_of.project AND m.version = model_of.version
$$;

-- Every prediction entry point of a project's deployed model on every row of
-- rel, checked against each other; evaluate by project and by id; describe;
-- feature importance; an export/import round trip; and, given another model
-- of the project, deploy it and roll back.  One row per check.
CREATE FUNCTION exercise(project text, rel regclass, other bigint DEFAULT NULL)
RETURNS TABLE (item text, outcome text)
LANGUAGE plpgsql AS $$
DECLARE
    mid bigint := galaxy.deployed_model(project);
    d jsonb;
    n bigint;
    v bigint;
    w bigint;
    arr text;
    imported bigint;
    dep bigint;
BEGIN
    SELECT galaxy.describe(model) INTO d FROM galaxy.models WHERE id = mid;
    EXECUTE format('SELECT count(*) FROM %s', rel) INTO n;

    item := 'describe';
    outcome := format('%s %s: %s inputs, %s features, %s classes, %s labels',
                      d->>'algorithm', d->>'task', d->>'n_inputs', d->>'n_features',
                      d->>'n_classes', jsonb_array_length(d->'labels'));
    RETURN NEXT;

    -- whole row: by project = by model id, never NULL
    EXECUTE format('SELECT count(*) FROM %s r WHERE galaxy.predict(%L, r) = galaxy.predict(%s::bigint, r)',
                   rel, project, mid) INTO v;
    item := 'row: predict(project) = predict(model)';
    outcome := v || ' of ' || n;
    RETURN NEXT;

    -- array form, when every input is a number, a boolean or an array:
    -- ARRAY[...] of columns (rewritten to predict_values) and a materialised
    -- float8[] (the array path) against the whole row
    SELECT string_agg(CASE i->>'kind'
                          WHEN 'array' THEN format('r.%I::float8[]', i->>'name')
                          WHEN 'boolean' THEN format('ARRAY[r.%I::int::float8]', i->>'name')
                          ELSE format('ARRAY[r.%I::float8]', i->>'name') END, ' || ' ORDER BY o)
      INTO arr
      FROM jsonb_array_elements(d->'preprocess'->'inputs') WITH ORDINALITY AS e(i, o)
     HAVING bool_and(i->>'kind' IN ('numeric', 'boolean', 'array'));
    IF arr IS NOT NULL THEN
        IF NOT d->'preprocess'->'inputs' @> '[{"kind": "array"}]' THEN
            SELECT 'ARRAY[' || string_agg(format('r.%I::float8', i->>'name'), ', ' ORDER BY o) || ']'
              INTO arr
              FROM jsonb_array_elements(d->'preprocess'->'inputs') WITH ORDINALITY AS e(i, o);
            EXECUTE format('SELECT count(*) FROM %s r WHERE galaxy.predict(%L, %s) = galaxy.predict(%L, r)',
                           rel, project, arr, project) INTO v;
            item := 'ARRAY[columns]: predict = row predict';
            outcome := v || ' of ' || n;
            RETURN NEXT;
        END IF;
        EXECUTE format('SELECT count(*) FROM (SELECT %s AS a, r FROM %s r OFFSET 0) s
                         WHERE galaxy.predict(%L, s.a) = galaxy.predict(%L, s.r)
                           AND galaxy.predict(%s::bigint, s.a) = galaxy.predict(%L, s.r)',
                       arr, rel, project, project, mid, project) INTO v;
        item := 'float8[]: predict(project) = predict(model) = row predict';
        outcome := v || ' of ' || n;
        RETURN NEXT;
    END IF;

    IF d->>'task' = 'classification' THEN
        -- the label is the most probable class; probabilities sum to 1
        EXECUTE format($q$
            SELECT count(*) FILTER (WHERE label = (%L::jsonb)->>(
                                        (SELECT o - 1 FROM unnest(proba) WITH ORDINALITY u(p, o)
                                          ORDER BY p DESC, o LIMIT 1)::int)),
                   count(*) FILTER (WHERE array_length(proba, 1) = %s
                                      AND abs((SELECT sum(p) FROM unnest(proba) p) - 1) < 1e-9
                                      AND proba = by_id_proba AND label = by_id_label)
              FROM (SELECT galaxy.predict_label(%L, r) AS label, galaxy.predict_proba(%L, r) AS proba,
                           galaxy.predict_label(%s::bigint, r) AS by_id_label,
                           galaxy.predict_proba(%s::bigint, r) AS by_id_proba
                      FROM %s r) s $q$,
            d->'labels', d->>'n_classes', project, project, mid, mid, rel) INTO v, w;
        item := 'predict_label = label of max predict_proba';
        outcome := v || ' of ' || n;
        RETURN NEXT;
        item := 'predict_proba: k values summing to 1, by project = by id';
        outcome := w || ' of ' || n;
        RETURN NEXT;
    ELSE
        EXECUTE format('SELECT count(*) FROM %s r
                         WHERE galaxy.predict_label(%L, r) = galaxy.predict(%L, r)::text
                           AND galaxy.predict_label(%s::bigint, r) = galaxy.predict(%L, r)::text',
                       rel, project, project, mid, project) INTO v;
        item := 'predict_label = predict::text, by project and by id';
        outcome := v || ' of ' || n;
        RETURN NEXT;
        item := 'predict_proba on a regression model';
        outcome := try(format('SELECT galaxy.predict_proba(%L, r) FROM %s r LIMIT 1', project, rel));
        RETURN NEXT;
    END IF;

    item := 'evaluate(project) = evaluate(model)';
    outcome := (galaxy.evaluate(project, rel) = galaxy.evaluate(mid, rel))::text
               || ', rows ' || (galaxy.evaluate(mid, rel)->>'rows');
    RETURN NEXT;

    SELECT count(*), count(*) FILTER (WHERE importance >= 0 AND importance <> 'NaN')
      INTO v, w FROM galaxy.feature_importance(mid);
    item := 'feature_importance';
    outcome := v || ' features, ' || w || ' finite and >= 0';
    RETURN NEXT;

    -- export/import: same bytes, same answers on every row
    SELECT (galaxy.import_model(project || '_copy', galaxy.export_model(mid))).id INTO imported;
    EXECUTE format('SELECT count(*) FROM %s r WHERE galaxy.predict(%s::bigint, r) = galaxy.predict(%s::bigint, r)',
                   rel, imported, mid) INTO v;
    item := 'export/import';
    outcome := format('same model bytes %s, same predictions %s of %s',
                      (SELECT galaxy.model_send(a.model) = galaxy.model_send(b.model)
                         FROM galaxy.models a, galaxy.models b WHERE a.id = mid AND b.id = imported),
                      v, n);
    RETURN NEXT;

    IF other IS NOT NULL THEN
        PERFORM galaxy.deploy(project, other, reason => 'scale test');
        EXECUTE format('SELECT count(*) FROM %s r WHERE galaxy.predict(%L, r) = galaxy.predict(%s::bigint, r)',
                       rel, project, other) INTO v;
        dep := galaxy.deployed_model(project);
        PERFORM galaxy.rollback(project);
        EXECUTE format('SELECT count(*) FROM %s r WHERE galaxy.predict(%L, r) = galaxy.predict(%s::bigint, r)',
                       rel, project, mid) INTO w;
        item := 'deploy other model, then rollback';
        outcome := format('deployed %s: %s of %s rows; rolled back %s: %s of %s rows',
                          dep = other, v, n, galaxy.deployed_model(project) = mid, w, n);
        RETURN NEXT;
    END IF;
END
$$;

CREATE TEMP TABLE scored (t int, p int, proba float8[]);

-- Score rel's rows with a classification model into temp table scored:
-- true class index t (NULL for a label the model never saw), predicted
-- class index p (from predict_label), probabilities (from predict_proba).
CREATE FUNCTION score_classes(model bigint, rel regclass, target text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    TRUNCATE scored;
    EXECUTE format($q$
        INSERT INTO scored
        SELECT array_position(l.labels, r.%1$I::text) - 1 AS t,
               array_position(l.labels, galaxy.predict_label(%2$s::bigint, r)) - 1 AS p,
               galaxy.predict_proba(%2$s::bigint, r) AS proba
          FROM %3$s r,
               (SELECT array_agg(x ORDER BY o) AS labels
                  FROM galaxy.models m,
                       jsonb_array_elements_text(galaxy.describe(m.model)->'labels') WITH ORDINALITY AS e(x, o)
                 WHERE m.id = %2$s) l
         WHERE r.%1$I IS NOT NULL $q$, target, model, rel);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- scikit-learn's classification metrics over scored (rows with a known label):
-- macro averages over the classes present in the true or predicted labels,
-- 0 for a zero division, weighted by support; log loss with probabilities
-- clipped to [1e-15, 1 - 1e-15] and renormalised; ROC AUC from average ranks,
-- of class 1 for two classes, else one-vs-rest macro over classes that have
-- positives and negatives (unless with_auc is false: it is the slow part).
CREATE FUNCTION sql_classification_metrics(with_auc boolean DEFAULT true) RETURNS jsonb
LANGUAGE sql AS $$
WITH s AS (SELECT * FROM scored WHERE t IS NOT NULL),
sup AS (SELECT t AS c, count(*)::float8 AS support, count(*) FILTER (WHERE p = t)::float8 AS tp FROM s GROUP BY t),
pre AS (SELECT p AS c, count(*)::float8 AS predicted FROM s GROUP BY p),
cls AS (SELECT c, coalesce(support, 0) AS support, coalesce(predicted, 0) AS predicted, coalesce(tp, 0) AS tp
          FROM sup FULL JOIN pre USING (c)),
pr AS (SELECT c, support,
              CASE WHEN predicted > 0 THEN tp / predicted ELSE 0 END AS prec,
              CASE WHEN support > 0 THEN tp / support ELSE 0 END AS rec
         FROM cls),
prf AS (SELECT *, CASE WHEN prec + rec > 0 THEN 2 * prec * rec / (prec + rec) ELSE 0 END AS f1 FROM pr),
-- average rank of a score among its ties: (first rank + last rank) / 2
ranked AS (SELECT c, pos, (rank() OVER w + cume_dist() OVER w * (SELECT count(*) FROM s)) / 2 AS r
             FROM (SELECT u.c::int - 1 AS c, u.score, s.t = u.c - 1 AS pos
                     FROM s, unnest(s.proba) WITH ORDINALITY AS u(score, c)) x
           WINDOW w AS (PARTITION BY c ORDER BY score)),
auc AS (SELECT c, (sum_pos - npos * (npos + 1) / 2) / (npos * nneg) AS auc
          FROM (SELECT c, sum(r) FILTER (WHERE pos) AS sum_pos, count(*) FILTER (WHERE pos)::float8 AS npos,
                       count(*) FILTER (WHERE NOT pos)::float8 AS nneg
                  FROM ranked GROUP BY c) y
         WHERE npos > 0 AND nneg > 0),
k AS (SELECT max(array_length(proba, 1)) AS k FROM s),
cells AS MATERIALIZED (SELECT t, p, count(*) AS cnt FROM s GROUP BY t, p)
SELECT jsonb_build_object(
    'accuracy', (SELECT avg((t = p)::int)::float8 FROM s),
    'balanced_accuracy', (SELECT avg(rec) FROM prf WHERE support > 0),
    'precision_macro', (SELECT avg(prec) FROM prf),
    'recall_macro', (SELECT avg(rec) FROM prf),
    'f1_macro', (SELECT avg(f1) FROM prf),
    'precision_weighted', (SELECT sum(prec * support) / sum(support) FROM prf),
    'recall_weighted', (SELECT sum(rec * support) / sum(support) FROM prf),
    'f1_weighted', (SELECT sum(f1 * support) / sum(support) FROM prf),
    'log_loss', (SELECT avg(-ln(least(greatest(proba[t + 1], 1e-15), 1 - 1e-15)
                               / (SELECT sum(least(greatest(q, 1e-15), 1 - 1e-15)) FROM unnest(proba) q)))
                   FROM s),
    'roc_auc', CASE WHEN with_auc THEN to_jsonb((SELECT CASE WHEN k.k = 2 THEN (SELECT auc FROM auc WHERE c = 1)
                                                             ELSE (SELECT avg(auc)::float8 FROM auc) END FROM k))
                    ELSE '"unchecked"'::jsonb END,
    'rows', (SELECT count(*) FROM s),
    'rows_with_unknown_label', (SELECT nullif(count(*), 0) FROM scored WHERE t IS NULL),
    'confusion_matrix', (SELECT jsonb_agg(r ORDER BY t)
                           FROM (SELECT a.t, jsonb_agg(coalesce(cnt, 0) ORDER BY b.p) AS r
                                   FROM generate_series(0, (SELECT k - 1 FROM k)) a(t)
                                   CROSS JOIN generate_series(0, (SELECT k - 1 FROM k)) b(p)
                                   LEFT JOIN cells m
                                          ON m.t = a.t AND m.p = b.p
                                  GROUP BY a.t) rows))
$$;

-- scikit-learn's regression metrics of a model's predictions on rel.
CREATE FUNCTION sql_regression_metrics(model bigint, rel regclass, target text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    res jsonb;
BEGIN
    EXECUTE format($q$
        SELECT jsonb_build_object(
            'mae', avg(abs(y - p)), 'mse', avg((y - p) ^ 2), 'rmse', sqrt(avg((y - p) ^ 2)),
            'r2', 1 - sum((y - p) ^ 2) / sum((y - my) ^ 2),
            'explained_variance', 1 - var_pop(y - p) / var_pop(y),
            'median_absolute_error', percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(y - p)),
            'rows', count(*))
          FROM (SELECT y, p, avg(y) OVER () AS my
                  FROM (SELECT r.%1$I::float8 AS y, galaxy.predict(%2$s::bigint, r) AS p
                          FROM %3$s r WHERE r.%1$I IS NOT NULL) a) b $q$, target, model, rel) INTO res;
    RETURN res;
END
$$;

-- galaxy.evaluate's numbers next to the reference: each metric (3 decimals)
-- and whether they agree to 1e-6 (counts and the confusion matrix exactly).
CREATE FUNCTION compare_metrics(galaxy jsonb, reference jsonb)
RETURNS TABLE (metric text, value numeric, agrees boolean)
LANGUAGE sql AS $$
    SELECT key,
           CASE WHEN key LIKE 'rows%' THEN (galaxy->>key)::numeric
                WHEN jsonb_typeof(galaxy->key) = 'number' THEN round((galaxy->>key)::numeric, 3) END,
           CASE WHEN reference->key = '"unchecked"' THEN NULL
                WHEN jsonb_typeof(reference->key) = 'number' AND jsonb_typeof(galaxy->key) = 'number'
                     AND key NOT LIKE 'rows%'
                THEN abs((galaxy->>key)::float8 - (reference->>key)::float8) < 1e-6
                ELSE galaxy->key = reference->key END
      FROM (SELECT jsonb_object_keys(jsonb_strip_nulls(reference)) UNION SELECT jsonb_object_keys(galaxy)) k(key)
     WHERE key NOT IN ('model_id')
     ORDER BY key
$$;

------------------------------------------------------------------------------
-- 1. 100,000 rows, binary: numbers, a category, a boolean, NULL features,
--    100 rows with a NULL target
------------------------------------------------------------------------------
SELECT setseed(0.42);
CREATE TABLE bin100k AS
SELECT i AS id, x1, x2, x3, x4,
       (ARRAY['red', 'green', 'blue', 'cyan'])[1 + i % 4] AS color,
       i % 3 = 0 AS flag,
       CASE WHEN i % 97 = 0 THEN NULL ELSE x3 + x4 END AS x5,
       CASE WHEN i % 1000 = 0 THEN NULL
            ELSE (1.5 * x1 - 2 * x2 + 0.5 * x3 + CASE WHEN i % 4 = 0 THEN 0.8 ELSE 0 END
                  + (random() - 0.5) * 1.5 > 0)::int END AS y
  FROM (SELECT i, random() * 2 - 1 AS x1, random() * 2 - 1 AS x2, random() * 2 - 1 AS x3, random() AS x4
          FROM generate_series(1, 100000) i) s;
SELECT count(*) AS rows, count(y) AS labelled, sum(y) AS positives FROM bin100k;

SELECT column_name, data_type, kind, count, nulls, n_distinct, round(mean::numeric, 3) AS mean,
       array_length(histogram_edges, 1) AS edges, (SELECT sum(c) FROM unnest(histogram_counts) c) AS in_histogram
  FROM galaxy.profile('bin100k') ORDER BY column_name;
SELECT name, row_count, target, features, profile->'columns'->'x5'->>'nulls' AS x5_nulls
  FROM galaxy.create_dataset('bin100k_v1', 'bin100k', 'y', ARRAY['x1', 'x2', 'x3', 'x4', 'color', 'flag', 'x5'],
                             description => 'scale test, 100k rows');

-- each algorithm once at 100k rows (linear regression, random forest and
-- boosting on the regression table below)
SELECT version, algorithm, task, training_rows, test_rows, round((metrics->>'accuracy')::numeric, 2) AS accuracy,
       status
  FROM galaxy.train('bin', dataset => 'bin100k_v1', algorithm => 'logistic_regression');
SELECT version, algorithm, training_rows, test_rows, round((metrics->>'accuracy')::numeric, 2) AS accuracy, status
  FROM galaxy.train('bin', dataset => 'bin100k_v1', algorithm => 'decision_tree',
                    hyperparams => '{"max_depth": 8}', deploy => 'never');
SELECT * FROM exercise('bin', 'bin100k', model_of('bin', '1.1.0'));

-- a 10,000-element array for a 7-input model: a clean error naming the length
SELECT try('SELECT galaxy.predict(''bin'', array_fill(0.5::float8, ARRAY[10000]))');
SELECT try('SELECT galaxy.predict_proba(''bin'', array_fill(0.5::float8, ARRAY[10000]))');
-- a dataset with models cannot be dropped; an unused one can
SELECT try('SELECT galaxy.drop_dataset(''bin100k_v1'')');
SELECT name FROM galaxy.create_dataset('bin100k_scratch', 'bin100k', 'y');
SELECT galaxy.drop_dataset('bin100k_scratch');
SELECT count(*) AS datasets FROM galaxy.datasets;

------------------------------------------------------------------------------
-- 2. galaxy.evaluate against plain SQL, binary, 100,000 rows (99,900 labelled)
------------------------------------------------------------------------------
SELECT score_classes(served('bin'), 'bin100k', 'y') AS scored_rows;
SELECT * FROM compare_metrics(galaxy.evaluate('bin', 'bin100k'), sql_classification_metrics());
-- and the decision tree, by model id
SELECT score_classes(model_of('bin', '1.1.0'), 'bin100k', 'y') AS scored_rows;
SELECT * FROM compare_metrics(galaxy.evaluate(model_of('bin', '1.1.0'), 'bin100k'), sql_classification_metrics());

------------------------------------------------------------------------------
-- 3. 100,000 rows, regression: linear regression, random forest, boosting
------------------------------------------------------------------------------
SELECT setseed(0.17);
CREATE TABLE reg100k AS
SELECT i AS id, x1, x2, x3, grp,
       2 * x1 - 3 * x2 + 0.5 * x3 * x3 + CASE grp WHEN 'a' THEN 1 WHEN 'b' THEN -1 ELSE 0 END
         + (random() - 0.5) AS y
  FROM (SELECT i, random() * 4 - 2 AS x1, random() * 4 - 2 AS x2, random() * 4 - 2 AS x3,
               (ARRAY['a', 'b', 'c', 'd', 'e'])[1 + i % 5] AS grp
          FROM generate_series(1, 100000) i) s;
SELECT version, algorithm, task, training_rows, round((metrics->>'r2')::numeric, 2) AS r2
  FROM galaxy.train('reg', 'reg100k', 'y', algorithm => 'linear_regression', features => ARRAY['x1', 'x2', 'x3', 'grp']);
SELECT version, algorithm, training_rows, round((metrics->>'r2')::numeric, 2) AS r2
  FROM galaxy.train('reg', 'reg100k', 'y', algorithm => 'gradient_boosting', features => ARRAY['x1', 'x2', 'x3', 'grp'],
                    hyperparams => '{"n_estimators": 60, "max_depth": 4}', deploy => 'never');
SELECT version, algorithm, training_rows, round((metrics->>'r2')::numeric, 2) AS r2
  FROM galaxy.train('reg', 'reg100k', 'y', algorithm => 'random_forest', features => ARRAY['x1', 'x2', 'x3', 'grp'],
                    hyperparams => '{"n_estimators": 8, "max_depth": 10}', deploy => 'never');
SELECT * FROM exercise('reg', 'reg100k', model_of('reg', '1.1.0'));

-- galaxy.evaluate against plain SQL, regression, 100,000 rows: linear and boosting
SELECT * FROM compare_metrics(galaxy.evaluate('reg', 'reg100k'), sql_regression_metrics(served('reg'), 'reg100k', 'y'));
SELECT * FROM compare_metrics(galaxy.evaluate(model_of('reg', '1.1.0'), 'reg100k'),
                              sql_regression_metrics(model_of('reg', '1.1.0'), 'reg100k', 'y'));
SELECT count(*) AS features, round(sum(importance)::numeric, 3) AS total
  FROM galaxy.feature_importance(model_of('reg', '1.2.0'));
-- numbers only, so the float8[] and ARRAY[...] forms apply at 100k rows
SELECT version, algorithm, round((metrics->>'r2')::numeric, 2) AS r2
  FROM galaxy.train('reg_num', 'reg100k', 'y', algorithm => 'linear_regression', features => ARRAY['x1', 'x2', 'x3']);
SELECT * FROM exercise('reg_num', 'reg100k');

------------------------------------------------------------------------------
-- 4. 26 classes 'a'..'z' (text labels), 52,000 rows; 'a'..'e' are three
--    times as frequent as the rest, so macro and weighted averages differ
------------------------------------------------------------------------------
SELECT setseed(0.26);
CREATE TABLE letters AS
SELECT i AS id,
       3 * cos(2 * pi() * c / 26) + (random() - 0.5) * 1.2 AS x1,
       3 * sin(2 * pi() * c / 26) + (random() - 0.5) * 1.2 AS x2,
       c % 5 + (random() - 0.5) * 2 AS x3,
       random() AS noise,
       chr(97 + c) AS letter
  FROM (SELECT i, CASE WHEN i % 3 = 0 THEN i % 5 ELSE i % 26 END AS c FROM generate_series(1, 52000) i) s;
SELECT letter, count(*) FROM letters WHERE letter IN ('a', 'e', 'f', 'z') GROUP BY letter ORDER BY letter;
SELECT column_name, kind, count, n_distinct, jsonb_array_length(top_values) AS top
  FROM galaxy.profile('letters') ORDER BY column_name;
SELECT name, row_count, jsonb_array_length(profile->'columns'->'letter'->'top_values') AS top_letters
  FROM galaxy.create_dataset('letters_v1', 'letters', 'letter', ARRAY['x1', 'x2', 'x3', 'noise']);
SELECT version, algorithm, test_rows, round((metrics->>'accuracy')::numeric, 2) AS accuracy,
       jsonb_array_length(metrics->'confusion_matrix') AS classes
  FROM galaxy.train('letters', dataset => 'letters_v1', algorithm => 'logistic_regression');
SELECT version, algorithm, round((metrics->>'accuracy')::numeric, 2) AS accuracy
  FROM galaxy.train('letters', dataset => 'letters_v1', algorithm => 'gradient_boosting',
                    hyperparams => '{"n_estimators": 10, "max_depth": 3}', deploy => 'never');
SELECT version, algorithm, round((metrics->>'accuracy')::numeric, 2) AS accuracy
  FROM galaxy.train('letters', dataset => 'letters_v1', algorithm => 'random_forest',
                    hyperparams => '{"n_estimators": 10, "max_depth": 10}', deploy => 'never');
SELECT version, algorithm, round((metrics->>'accuracy')::numeric, 2) AS accuracy
  FROM galaxy.train('letters', dataset => 'letters_v1', algorithm => 'decision_tree',
                    hyperparams => '{"max_depth": 12}', deploy => 'never');
SELECT galaxy.describe(model)->'labels' AS labels FROM galaxy.models WHERE id = served('letters');
SELECT * FROM exercise('letters', 'letters', model_of('letters', '1.1.0'));
SELECT galaxy.predict_label('letters', ARRAY[3.0, 0.0, 0.0, 0.5]) AS near_a,
       array_length(galaxy.predict_proba('letters', ARRAY[3.0, 0.0, 0.0, 0.5]), 1) AS n_proba;
SELECT try('SELECT galaxy.drop_dataset(''letters_v1'')');
SELECT name, row_count FROM galaxy.create_dataset('letters_scratch', 'letters', 'letter');
SELECT galaxy.drop_dataset('letters_scratch');

-- galaxy.evaluate against plain SQL, 26 classes, 52,000 rows: logistic and
-- boosting; a view adds 260 rows with a label the models never saw
CREATE VIEW letters_plus AS
SELECT id, x1, x2, x3, noise, letter FROM letters
UNION ALL
SELECT 100000 + i, 0, 0, 0, 0.5, '?' FROM generate_series(1, 260) i;
SELECT score_classes(served('letters'), 'letters_plus', 'letter') AS scored_rows;
-- (ROC AUC is checked on the boosted model's tied scores below)
SELECT * FROM compare_metrics(galaxy.evaluate('letters', 'letters_plus'), sql_classification_metrics(with_auc => false));
SELECT score_classes(model_of('letters', '1.1.0'), 'letters', 'letter') AS scored_rows;
SELECT * FROM compare_metrics(galaxy.evaluate(model_of('letters', '1.1.0'), 'letters'), sql_classification_metrics());
-- rows without 'w'..'z': those classes are still predicted now and then, so
-- the macro averages run over the classes in the true or the predicted
-- labels (scikit-learn's default), not over all 26 nor only the true ones
CREATE VIEW letters_some AS SELECT * FROM letters WHERE letter < 'w' AND id % 4 = 0;
SELECT score_classes(served('letters'), 'letters_some', 'letter') AS scored_rows;
SELECT count(DISTINCT t) AS true_classes, count(DISTINCT p) AS predicted_classes FROM scored;
SELECT * FROM compare_metrics(galaxy.evaluate('letters', 'letters_some'), sql_classification_metrics());

------------------------------------------------------------------------------
-- 5. evaluate matches a numeric label by value, as training does (1 = 1.0),
--    50,000 rows
------------------------------------------------------------------------------
CREATE TABLE numlab AS
SELECT i AS id, (i % 7)::float8 AS x,
       CASE WHEN i % 7 > 3 THEN CASE WHEN i % 2 = 0 THEN 1.0 ELSE 1 END ELSE 0 END::numeric AS y
  FROM generate_series(1, 50000) i;
SELECT version, task, galaxy.describe(model)->'labels' AS labels
  FROM galaxy.train('numlab', 'numlab', 'y', algorithm => 'logistic_regression', task => 'classification');
SELECT e->>'rows' AS rows, e->>'rows_with_unknown_label' AS unknown, round((e->>'accuracy')::numeric, 3) AS accuracy
  FROM galaxy.evaluate('numlab', 'numlab') e;
SELECT count(*) FILTER (WHERE galaxy.predict('numlab', n) = y) AS right_by_value FROM numlab n;

------------------------------------------------------------------------------
-- 6. 500 feature columns (3,000 rows), built with format()
------------------------------------------------------------------------------
SELECT setseed(0.5);
DO $$
BEGIN
    EXECUTE format('CREATE TABLE wide AS SELECT i AS id, %s FROM generate_series(1, 3000) i',
                   (SELECT string_agg(format('random() * 2 - 1 AS f%s', lpad(j::text, 3, '0')), ', ' ORDER BY j)
                      FROM generate_series(1, 500) j));
END
$$;
ALTER TABLE wide ADD COLUMN y float8, ADD COLUMN cls int;
UPDATE wide SET y = 3 * f001 - 2 * f250 + f500 + 0.5 * f100 + (id % 10 - 4.5) / 10,
                cls = (f001 + f002 - f499 > 0)::int;
CREATE TABLE wide_features AS
SELECT array_agg(format('f%s', lpad(j::text, 3, '0')) ORDER BY j) AS f FROM generate_series(1, 500) j;
SELECT count(*) AS columns, count(*) FILTER (WHERE kind = 'numeric' AND count = 3000) AS numeric_full,
       round(avg(mean)::numeric, 2) AS mean_of_means
  FROM galaxy.profile('wide');
SELECT name, row_count, array_length(features, 1) AS features
  FROM galaxy.create_dataset('wide_v1', 'wide', 'y', (SELECT f FROM wide_features));
SELECT version, algorithm, round((metrics->>'r2')::numeric, 2) AS r2, array_length(features, 1) AS features
  FROM galaxy.train('wide', dataset => 'wide_v1', algorithm => 'linear_regression');
SELECT version, algorithm, round((metrics->>'r2')::numeric, 1) AS r2
  FROM galaxy.train('wide', dataset => 'wide_v1', algorithm => 'gradient_boosting',
                    hyperparams => '{"n_estimators": 20, "max_depth": 3}', deploy => 'never');
SELECT * FROM exercise('wide', 'wide', model_of('wide', '1.1.0'));
SELECT * FROM compare_metrics(galaxy.evaluate('wide', 'wide'), sql_regression_metrics(served('wide'), 'wide', 'y'));
SELECT version, algorithm, round((metrics->>'accuracy')::numeric, 1) AS accuracy
  FROM galaxy.train('wide_cls', 'wide', 'cls', algorithm => 'logistic_regression', features => (SELECT f FROM wide_features));
SELECT version, algorithm, round((metrics->>'accuracy')::numeric, 1) AS accuracy
  FROM galaxy.train('wide_cls', 'wide', 'cls', algorithm => 'random_forest', features => (SELECT f FROM wide_features),
                    hyperparams => '{"n_estimators": 10}', deploy => 'never');
SELECT * FROM exercise('wide_cls', 'wide', model_of('wide_cls', '1.1.0'));
-- the wrong number of values
SELECT try('SELECT galaxy.predict(''wide'', array_fill(0.5::float8, ARRAY[499]))');
SELECT try('SELECT galaxy.predict(''wide'', array_fill(0.5::float8, ARRAY[10000]))');
SELECT try('SELECT galaxy.drop_dataset(''wide_v1'')');
SELECT name, array_length(features, 1) AS features FROM galaxy.create_dataset('wide_scratch', 'wide', 'cls');
SELECT galaxy.drop_dataset('wide_scratch');

------------------------------------------------------------------------------
-- 7. a 10,000-element array feature (300 rows)
------------------------------------------------------------------------------
SELECT setseed(0.1);
CREATE TABLE arr AS
SELECT i AS id, v, (v[1] + v[5000] - v[10000] > 0)::int AS y
  FROM (SELECT i, ARRAY(SELECT random() * 2 - 1 FROM generate_series(1, 10000) WHERE i > 0) AS v
          FROM generate_series(1, 300) i) s;
SELECT column_name, data_type, kind, count, round(mean::numeric, 2) AS mean, round(min::numeric, 2) AS min,
       round(max::numeric, 2) AS max
  FROM galaxy.profile('arr') ORDER BY column_name;
SELECT name, row_count, profile->'columns'->'v'->>'width' AS width
  FROM galaxy.create_dataset('arr_v1', 'arr', 'y', ARRAY['v']);
SELECT version, algorithm, training_rows, jsonb_array_length(metrics->'confusion_matrix') AS classes
  FROM galaxy.train('arr', dataset => 'arr_v1', algorithm => 'logistic_regression', test_size => 0);
SELECT version, algorithm, round((metrics->>'accuracy')::numeric, 1) AS accuracy
  FROM galaxy.train('arr', dataset => 'arr_v1', algorithm => 'decision_tree', test_size => 0, deploy => 'never');
SELECT * FROM exercise('arr', 'arr', model_of('arr', '1.1.0'));
SELECT score_classes(served('arr'), 'arr', 'y') AS scored_rows;
SELECT * FROM compare_metrics(galaxy.evaluate('arr', 'arr'), sql_classification_metrics());
-- a 10,000-element float8[] argument: a prediction; 9,999 or 10,001: a clean error
SELECT galaxy.predict('arr', array_fill(0.0::float8, ARRAY[10000])) IN (0, 1) AS predicts,
       galaxy.predict_label('arr', (SELECT v FROM arr WHERE id = 1))
         = galaxy.predict_label('arr', (SELECT a FROM arr a WHERE id = 1)) AS label_agrees,
       array_length(galaxy.predict_proba(served('arr'), array_fill(0.0::float8, ARRAY[10000])), 1) AS n_proba;
SELECT try('SELECT galaxy.predict(''arr'', array_fill(0.0::float8, ARRAY[9999]))');
SELECT try('SELECT galaxy.predict_label(''arr'', array_fill(0.0::float8, ARRAY[10001]))');
SELECT try('SELECT galaxy.predict(''arr'', (SELECT v[1:9999] FROM arr WHERE id = 1))');
-- arrays of differing length in a relation
CREATE TABLE arr_ragged AS SELECT id, CASE WHEN id = 7 THEN v[1:9999] ELSE v END AS v, y FROM arr;
SELECT try('SELECT galaxy.create_dataset(''arr_ragged'', ''arr_ragged'', ''y'')');
SELECT try('SELECT galaxy.train(''arr_ragged'', ''arr_ragged'', ''y'')');
SELECT try('SELECT galaxy.evaluate(''arr'', ''arr_ragged'')');
SELECT try('SELECT galaxy.drop_dataset(''arr_v1'')');
SELECT name, profile->'columns'->'v'->>'width' AS width FROM galaxy.create_dataset('arr_scratch', 'arr', 'y');
SELECT galaxy.drop_dataset('arr_scratch');
SELECT count(*) AS datasets_left FROM galaxy.datasets;
SELECT galaxy.describe(model)->'preprocess'->'inputs'->0->>'width' AS width,
       galaxy.describe(model)->>'n_features' AS n_features
  FROM galaxy.models WHERE id = served('arr');

------------------------------------------------------------------------------
-- 8. 1 MB text: a category, a class label, a description, names
------------------------------------------------------------------------------
-- two 1 MB values that LZ4 cannot shrink much (hex digits of md5 chains)
CREATE TABLE mb_values AS
SELECT (SELECT string_agg(md5(g::text), '' ORDER BY g) FROM generate_series(1, 32768) g) AS cat_value,
       (SELECT string_agg(md5('label' || g), '' ORDER BY g) FROM generate_series(1, 32768) g) AS label_value;
SELECT length(cat_value) AS cat_len, length(label_value) AS label_len FROM mb_values;
CREATE TABLE mb AS
SELECT i AS id,
       CASE WHEN i % 50 = 0 THEN 10 ELSE i % 7 END::float8 AS x,
       CASE WHEN i % 100 = 0 THEN v.cat_value WHEN i % 2 = 0 THEN 'even' ELSE 'odd' END AS cat,
       CASE WHEN i % 50 = 0 THEN v.label_value WHEN i % 7 < 3 THEN 'small' ELSE 'other' END AS label
  FROM generate_series(1, 1000) i, mb_values v;
SELECT column_name, kind, count, n_distinct,
       (SELECT max(length(t->>'value')) FROM jsonb_array_elements(top_values) t) AS longest_top_value
  FROM galaxy.profile('mb') ORDER BY column_name;
SELECT name, row_count, length(description) AS description_length
  FROM galaxy.create_dataset('mb_v1', 'mb', 'label', ARRAY['x', 'cat'], description => (SELECT repeat('d', 1048576)));
SELECT version, algorithm, round((metrics->>'accuracy')::numeric, 2) AS accuracy
  FROM galaxy.train('mb', dataset => 'mb_v1', algorithm => 'logistic_regression');
SELECT version, algorithm, round((metrics->>'accuracy')::numeric, 2) AS accuracy
  FROM galaxy.train('mb', dataset => 'mb_v1', algorithm => 'decision_tree', deploy => 'never');
SELECT (SELECT array_agg(length(l) ORDER BY length(l)) FROM jsonb_array_elements_text(d->'labels') l) AS label_lengths,
       (d->>'stored_bytes')::int > 2000000 AS over_2mb, d->>'compression' AS compression
  FROM (SELECT galaxy.describe(model) AS d FROM galaxy.models WHERE id = served('mb')) s;
SELECT * FROM exercise('mb', 'mb', model_of('mb', '1.1.0'));
SELECT length(galaxy.predict_label('mb', m)) AS label_length, count(*),
       count(*) FILTER (WHERE galaxy.predict_label('mb', m) = label) AS right
  FROM mb m GROUP BY 1 ORDER BY 1;
SELECT score_classes(served('mb'), 'mb', 'label') AS scored_rows;
SELECT * FROM compare_metrics(galaxy.evaluate('mb', 'mb'), sql_classification_metrics());
-- a 1 MB label predicted from a float8[]
SELECT version FROM galaxy.train('mb_x', 'mb', 'label', algorithm => 'decision_tree', features => ARRAY['x']);
SELECT md5(galaxy.predict_label('mb_x', ARRAY[10.0])) = md5(label_value) AS one_mb_label,
       galaxy.predict_label('mb_x', ARRAY[1.0]) AS small
  FROM mb_values;
-- a 1 MB category never seen in training: an all-zero one-hot row, not an error
SELECT galaxy.predict_label('mb', r) AS unseen_category
  FROM (SELECT 1.0::float8 AS x, repeat('u', 1048576) AS cat) r;
-- 1 MB names: clean errors
-- (the 1 MB values are built inside each statement, not pasted into it)
SELECT try('SELECT galaxy.train(repeat(''p'', 1048576), ''mb'', ''label'')');
SELECT try('SELECT galaxy.submit(repeat(''p'', 1048576), ''mb'', ''label'')');
SELECT try('SELECT galaxy.import_model(repeat(''p'', 1048576), galaxy.export_model(served(''mb'')))');
SELECT try('SELECT galaxy.predict(repeat(''p'', 1048576), ARRAY[1.0])');
SELECT try('SELECT galaxy.predict_label(repeat(''p'', 1048576), m) FROM mb m');
SELECT try('SELECT galaxy.evaluate(repeat(''p'', 1048576), ''mb'')');
SELECT try('SELECT galaxy.deploy(repeat(''p'', 1048576), ''best'')');
SELECT try('SELECT galaxy.rollback(repeat(''p'', 1048576))');
SELECT try('SELECT galaxy.train(''p'', ''mb'', repeat(''t'', 1048576))');
SELECT try('SELECT galaxy.train(''p'', ''mb'', ''label'', algorithm => repeat(''a'', 1048576))');
SELECT try('SELECT galaxy.train(''p'', dataset => repeat(''n'', 1048576))');
SELECT try('SELECT galaxy.drop_dataset(repeat(''n'', 1048576))');
SELECT try('SELECT galaxy.create_dataset(repeat(''n'', 1048576), ''bin100k'', ''y'')');
SELECT name FROM galaxy.create_dataset('mb_scratch', 'mb', 'label', description => (SELECT repeat('e', 1048576)));
SELECT galaxy.drop_dataset('mb_scratch');

------------------------------------------------------------------------------
-- 9. background jobs at every size: the worker's model is the same bytes as
--    the session's (same arguments, same seed)
------------------------------------------------------------------------------
CREATE TABLE jobs_run (label text, job bigint);
INSERT INTO jobs_run VALUES
    ('100k rows', galaxy.submit('job_bin', 'bin100k', 'y', algorithm => 'logistic_regression', deploy => 'never')),
    ('26 classes', galaxy.submit('job_letters', 'letters', 'letter', algorithm => 'gradient_boosting',
                                 hyperparams => '{"n_estimators": 5, "max_depth": 3}', deploy => 'never')),
    ('500 features', galaxy.submit('job_wide', 'wide', 'y', algorithm => 'linear_regression', deploy => 'never',
                                   features => (SELECT f FROM wide_features))),
    ('10,000-element array', galaxy.submit('job_arr', 'arr', 'y', algorithm => 'decision_tree', deploy => 'never')),
    ('1 MB text', galaxy.submit('job_mb', dataset => 'mb_v1', algorithm => 'random_forest',
                                hyperparams => '{"n_estimators": 5}', deploy => 'never'));
CREATE TABLE jobs_sync AS
SELECT '100k rows' AS label, id FROM galaxy.train('sync_bin', 'bin100k', 'y', algorithm => 'logistic_regression', deploy => 'never')
UNION ALL
SELECT '26 classes', id FROM galaxy.train('sync_letters', 'letters', 'letter', algorithm => 'gradient_boosting',
                                          hyperparams => '{"n_estimators": 5, "max_depth": 3}', deploy => 'never')
UNION ALL
SELECT '500 features', id FROM galaxy.train('sync_wide', 'wide', 'y', algorithm => 'linear_regression', deploy => 'never',
                                            features => (SELECT f FROM wide_features))
UNION ALL
SELECT '10,000-element array', id FROM galaxy.train('sync_arr', 'arr', 'y', algorithm => 'decision_tree', deploy => 'never')
UNION ALL
SELECT '1 MB text', id FROM galaxy.train('sync_mb', dataset => 'mb_v1', algorithm => 'random_forest',
                                         hyperparams => '{"n_estimators": 5}', deploy => 'never');
CREATE TABLE jobs_done AS
SELECT r.label, r.job, w.state, w.error_message, w.model_id
  FROM jobs_run r CROSS JOIN LATERAL galaxy.wait(r.job, timeout => '5 min') w;
-- (the models are read in the next statement: this one's snapshot predates them)
SELECT d.label, d.state, d.error_message,
       galaxy.model_send(jm.model) = galaxy.model_send(sm.model) AS same_model,
       jm.training_rows = sm.training_rows AS same_rows, jm.status
  FROM jobs_done d
  LEFT JOIN galaxy.models jm ON jm.id = d.model_id
  JOIN jobs_sync s ON s.label = d.label
  JOIN galaxy.models sm ON sm.id = s.id
 ORDER BY d.job;

------------------------------------------------------------------------------
-- 10. the audit chain holds after all of it
------------------------------------------------------------------------------
-- an export whose statement failed (the 1 MB project name above) is audited
-- again by the export audit keeper once that transaction has ended: wait for it
DO $$
BEGIN
  FOR i IN 1..600 LOOP
    EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'galaxy export audit keeper');
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
SELECT ok, first_broken_id FROM galaxy.verify_audit();
SELECT action, count(*) FROM galaxy.audit_log
 WHERE action IN ('create_dataset', 'drop_dataset', 'train', 'import', 'export', 'submit', 'job_succeeded')
 GROUP BY action ORDER BY action;
