-- test/pgtap/model_card.sql — galaxy.model_card(): the page's contract
-- (a self-contained HTML5 document with the sections of each task),
-- HTML-escaping of everything users name, errors with their SQLSTATEs,
-- privileges and project visibility.  Rendering in a browser is
-- test/t/050_model_card.pl.
-- Runs in a fresh database with pgtap and galaxy (scripts/check), as a
-- superuser, with galaxy preloaded.
BEGIN;
SELECT plan(78);

SET LOCAL client_min_messages = warning;

-- ---------------------------------------------------------------------------
-- Fixtures: hostile names and labels, three tasks, a reader, a stranger
-- ---------------------------------------------------------------------------
-- a binary problem whose label, feature, target and dataset names are markup
CREATE TABLE public.card_bin AS
SELECT g AS id, (g % 13)::float8 AS "<script>alert(1)</script>", (g % 7)::float8 AS x2,
       CASE WHEN (g % 13) + 0.6 * (g % 7) + 2 * sin(g) > 8 THEN '<script>alert("x")</script>'
            ELSE 'safe & sound' END AS "<b>label</b>"
  FROM generate_series(1, 400) g;
CREATE TABLE public.card_bin_new AS SELECT * FROM public.card_bin WHERE id % 3 = 0;
-- a regression and a three-class problem
CREATE TABLE public.card_reg AS
SELECT g AS id, (g % 7)::float8 AS x1, (g % 11)::float8 AS x2,
       (3 * (g % 7) - 2 * (g % 11) + 0.5 * sin(g))::float8 AS y
  FROM generate_series(1, 300) g;
CREATE TABLE public.card_multi AS
SELECT g AS id, (g % 9)::float8 AS a, (g % 5)::float8 AS b,
       CASE WHEN g % 9 < 3 THEN 'low' WHEN g % 9 < 6 THEN 'mid' ELSE 'high' END AS band
  FROM generate_series(1, 300) g;

CREATE ROLE card_reader NOLOGIN IN ROLE galaxy_reader;      -- read on the projects, no table
CREATE ROLE card_stranger NOLOGIN IN ROLE galaxy_reader;    -- nothing on the projects
CREATE ROLE card_nobody NOLOGIN;                            -- not even galaxy_reader

CREATE TEMP TABLE ds AS
SELECT id FROM galaxy.create_dataset('<script>ds</script>', 'public.card_bin', target => '<b>label</b>',
                                     features => ARRAY['<script>alert(1)</script>', 'x2']);
CREATE TEMP TABLE m AS
SELECT 'bin' AS k, id FROM galaxy.train('card_bin', dataset => '<script>ds</script>',
                                         algorithm => 'logistic_regression')
UNION ALL
SELECT 'reg', id FROM galaxy.train('card_reg', 'public.card_reg', 'y', 'gradient_boosting',
                                   hyperparams => '{"n_estimators": 20}', features => ARRAY['x1', 'x2'])
UNION ALL
SELECT 'nn', id FROM galaxy.train('card_multi', 'public.card_multi', 'band', 'neural_network',
                                  hyperparams => '{"hidden_layers": [8], "epochs": 30}', features => ARRAY['a', 'b'])
UNION ALL
SELECT 'km', id FROM galaxy.train('card_km', 'public.card_reg', algorithm => 'kmeans', task => 'clustering',
                                  features => ARRAY['x1', 'x2'], hyperparams => '{"n_clusters": 3}')
UNION ALL
SELECT 'undeployed', id FROM galaxy.train('card_reg', 'public.card_reg', 'y', 'linear_regression',
                                          features => ARRAY['x1', 'x2'], deploy => 'never');
CREATE TEMP TABLE deployed AS
SELECT id FROM galaxy.deploy('card_bin', (SELECT id FROM m WHERE k = 'bin'), reason => '<img src=x onerror=alert(1)>' || E'\n\tC:\\temp\r');
CREATE TEMP TABLE granted AS
SELECT galaxy.grant_project(p, 'card_reader', 'read')::text FROM unnest(ARRAY['card_bin', 'card_reg']) p;
GRANT SELECT ON m TO PUBLIC;

CREATE TEMP TABLE card AS
SELECT k, galaxy.model_card(id) AS html FROM m
UNION ALL
SELECT k || '+relation', galaxy.model_card(id, CASE k WHEN 'bin' THEN 'public.card_bin_new'
                                                     WHEN 'reg' THEN 'public.card_reg'
                                                     WHEN 'nn' THEN 'public.card_multi'
                                                     ELSE 'public.card_reg' END::regclass)
  FROM m WHERE k IN ('bin', 'reg', 'nn', 'km');
GRANT SELECT ON card TO PUBLIC;

-- ---------------------------------------------------------------------------
-- The functions
-- ---------------------------------------------------------------------------
SELECT has_function('galaxy', 'model_card', ARRAY['bigint', 'regclass'], 'galaxy.model_card(model, relation)');
SELECT has_function('galaxy', 'model_card', ARRAY['text', 'regclass'], 'galaxy.model_card(project, relation)');
SELECT function_returns('galaxy', 'model_card', ARRAY['bigint', 'regclass'], 'text', '... returns text');
SELECT ok(has_function_privilege('galaxy_reader', 'galaxy.model_card(bigint, regclass)', 'EXECUTE')
          AND has_function_privilege('galaxy_reader', 'galaxy.model_card(text, regclass)', 'EXECUTE'),
          'galaxy_reader may call both');
SELECT ok(NOT has_function_privilege('card_nobody', 'galaxy.model_card(bigint, regclass)', 'EXECUTE')
          AND NOT has_function_privilege('card_nobody', 'galaxy.model_card(text, regclass)', 'EXECUTE'),
          'PUBLIC may call neither');

-- ---------------------------------------------------------------------------
-- One self-contained HTML5 document
-- ---------------------------------------------------------------------------
SELECT is((SELECT count(*)::int FROM card WHERE html LIKE '<!DOCTYPE html><html lang="en">%' AND html LIKE '%</html>'), 9,
          'every card is an HTML5 document from <!DOCTYPE html> to </html>');
SELECT is((SELECT count(*)::int FROM card WHERE html ~ '[\\\n\r\t]'), 0,
          'no card holds a backslash, tab or line break: COPY ... TO STDOUT writes it unchanged');
SELECT is((SELECT count(*)::int FROM card
            WHERE html ~* '<(script|link|img|image|iframe|object|embed|use|form|base|meta http-equiv="refresh")[\s>]'
               OR html ~* '<[a-z][^>]*\s(src|xlink:href|srcset|action|on[a-z]+)='
               OR html ~* '<[a-z][^>]*\shref="(?!#)' OR html ~* 'url\(|@import'), 0,
          'no card has a script, an image, an event handler, a link out of the page or an external reference');
SELECT is((SELECT count(*)::int FROM card WHERE html LIKE '%http-equiv="Content-Security-Policy" content="default-src ''none''; style-src ''unsafe-inline''"%'), 9,
          'every card tells the browser to load nothing and run nothing');
SELECT is((SELECT count(*)::int FROM card WHERE html ~ '<style>[^<]+</style>'), 9, 'the CSS is inline');
SELECT is((SELECT count(*)::int FROM card
            WHERE html LIKE '%id="lineage"%' AND html LIKE '%id="metrics"%' AND html LIKE '%id="evaluation"%'
              AND html LIKE '%id="training-curve"%' AND html LIKE '%id="feature-importance"%'
              AND html LIKE '%id="data-profile"%' AND html LIKE '%id="hyperparameters"%'), 9,
          'every card has the lineage, metrics, evaluation, training curve, importance, profile and hyperparameter sections');

-- balanced tags, as a parser would count them
SELECT is((SELECT count(*)::int FROM card
            WHERE (SELECT count(*) FROM regexp_matches(html, '<svg[ >]', 'g')) = (SELECT count(*) FROM regexp_matches(html, '</svg>', 'g'))
              AND (SELECT count(*) FROM regexp_matches(html, '<section[ >]', 'g')) = (SELECT count(*) FROM regexp_matches(html, '</section>', 'g'))
              AND (SELECT count(*) FROM regexp_matches(html, '<table[ >]', 'g')) = (SELECT count(*) FROM regexp_matches(html, '</table>', 'g'))
              AND (SELECT count(*) FROM regexp_matches(html, '<figure[ >]', 'g')) = (SELECT count(*) FROM regexp_matches(html, '</figure>', 'g'))
              AND (SELECT count(*) FROM regexp_matches(html, '<div[ >]', 'g')) = (SELECT count(*) FROM regexp_matches(html, '</div>', 'g'))), 9,
          'svg, section, table, figure and div elements are closed');

-- ---------------------------------------------------------------------------
-- What each task shows
-- ---------------------------------------------------------------------------
-- classification, without a relation: the stored confusion matrix and a hint
SELECT ok((SELECT html FROM card WHERE k = 'bin') ~ 'id="confusion-matrix"><figcaption[^>]*>Confusion matrix</figcaption><svg ',
          'classification: the confusion matrix is an SVG heat map');
SELECT ok((SELECT html FROM card WHERE k = 'bin') LIKE '%pass a relation with the model''s inputs and its target column%',
          'classification without a relation: it says to pass a relation for ROC, PR and calibration');
SELECT ok((SELECT html FROM card WHERE k = 'bin') NOT LIKE '%id="roc-curve"%', '... and draws no ROC curve');
SELECT is((SELECT (regexp_matches(html, 'id="confusion-matrix">.*?<text[^>]*font-weight="600"[^>]*>(\d+)</text>'))[1]::int
             FROM card WHERE k = 'bin'),
          (SELECT (metrics->'confusion_matrix'->0->>0)::int FROM galaxy.models WHERE id = (SELECT id FROM m WHERE k = 'bin')),
          'the first cell holds the stored confusion matrix''s first count');
-- with a relation: curves with their areas
SELECT ok((SELECT html FROM card WHERE k = 'bin+relation') ~ 'id="roc-curve">.*<svg .*AUC [01]\.\d{3}',
          'classification with a relation: a ROC curve with its AUC in the legend');
SELECT ok((SELECT html FROM card WHERE k = 'bin+relation') ~ 'id="pr-curve">.*<svg .*AP [01]\.\d{3}.*chance',
          '... a precision-recall curve with its average precision and the chance line');
SELECT ok((SELECT html FROM card WHERE k = 'bin+relation') ~ 'id="calibration">.*<svg .*ECE [01]\.\d{3}.*Brier score',
          '... a reliability diagram with its ECE and Brier score');
SELECT is((SELECT substring(html FROM 'AUC ([01]\.\d{3})') FROM card WHERE k = 'bin+relation'),
          (SELECT to_char(round((galaxy.evaluate(id, 'public.card_bin_new')->>'roc_auc')::numeric, 3), 'FM0.000')
             FROM m WHERE k = 'bin'),
          '... whose AUC is galaxy.evaluate''s roc_auc on the same rows');
SELECT ok((SELECT html FROM card WHERE k = 'bin+relation') LIKE '%Scored now on <code>public.card_bin_new</code>: 133 rows%',
          '... naming the relation and its rows');
SELECT is((SELECT (regexp_matches(html, 'id="confusion-matrix">.*?<text[^>]*font-weight="600"[^>]*>(\d+)</text>'))[1]::int
             FROM card WHERE k = 'bin+relation'),
          (SELECT (galaxy.evaluate(id, 'public.card_bin_new')->'confusion_matrix'->0->>0)::int FROM m WHERE k = 'bin'),
          '... and its confusion matrix is that of the relation');
SELECT ok((SELECT html FROM card WHERE k = 'bin+relation') ~ '<th class="num">public.card_bin_new</th>',
          '... beside the held-out metrics, a column of metrics on the relation');
-- multiclass: one curve per class, the top-label calibration
SELECT is((SELECT count(*)::int FROM card, regexp_matches(html, '(low|mid|high)  AUC', 'g') WHERE k = 'nn+relation'), 3,
          'multiclass: a ROC curve per class');
SELECT ok((SELECT html FROM card WHERE k = 'nn+relation') LIKE '%confidence of the predicted class%',
          '... and calibration of the predicted class');
-- regression
SELECT ok((SELECT html FROM card WHERE k = 'reg') LIKE '%to draw predicted against actual values and the residuals%',
          'regression without a relation: it says to pass a relation');
SELECT ok((SELECT html FROM card WHERE k = 'reg+relation') ~ 'id="predicted-vs-actual">.*<svg .*R2 [-0-9.]+',
          'regression with a relation: predicted against actual, with R2 in the legend');
SELECT ok((SELECT html FROM card WHERE k = 'reg+relation') ~ 'id="residuals">.*<svg .*<rect ',
          '... and a histogram of the residuals');
SELECT ok((SELECT html FROM card WHERE k = 'reg+relation') NOT LIKE '%id="roc-curve"%', '... and no ROC curve');
-- clustering
SELECT ok((SELECT html FROM card WHERE k = 'km') ~ 'id="cluster-sizes">.*<svg .*cluster 0',
          'clustering: rows per cluster as bars');
SELECT ok((SELECT html FROM card WHERE k = 'km+relation') LIKE '%the relation was not used%',
          '... and a relation is not scored, with a note');
-- the training curve
SELECT ok((SELECT html FROM card WHERE k = 'nn') ~ 'id="training-curve">.*per epoch \(30 epochs, stored in the model\).*<svg .*training loss.*validation loss',
          'neural network: the training curve from the model, loss and validation loss');
SELECT ok((SELECT html FROM card WHERE k = 'bin') ~ 'id="training-curve">.*No training curve',
          'a model trained in the session without a stored curve says so');
-- feature importance
SELECT ok((SELECT html FROM card WHERE k = 'reg') ~ 'id="feature-importance">.*the gain of the splits on each.*<svg .*x1.*<rect ',
          'feature importance as bars, a tree ensemble''s as the gain of its splits');
SELECT ok((SELECT html FROM card WHERE k = 'bin') ~ 'id="feature-importance">.*the absolute coefficient of each, on the scaled features',
          '... a linear model''s as its absolute coefficients');
SELECT ok((SELECT html FROM card WHERE k = 'nn') ~ 'id="feature-importance">.*does not report feature importance',
          'an algorithm without importances says so');
-- data profile
SELECT ok((SELECT html FROM card WHERE k = 'bin') ~ 'id="data-profile">.*from the profile of dataset <b>&lt;script&gt;ds&lt;/script&gt;</b>.*<svg class="spark"',
          'a model trained on a dataset: the dataset''s profile, with small histograms');
SELECT is((SELECT count(*)::int FROM card, regexp_matches(html, '<svg class="spark"', 'g') WHERE k = 'bin'), 3,
          'every column of the dataset profile, the target too, has its small histogram');
SELECT ok((SELECT html FROM card WHERE k = 'undeployed') ~ 'id="data-profile">.*statistics the preprocessor fitted.*<b>x1</b>.*mean [0-9.]+ &plusmn; [0-9.]+<br><span class="muted small">scaling: standard',
          'a model trained on a relation: the preprocessor''s statistics');
-- hyperparameters and the neural architecture
SELECT ok((SELECT html FROM card WHERE k = 'reg') ~ 'id="hyperparameters">.*n_estimators</td><td><code>20</code></td><td><span class="pill passed">set</span>',
          'hyperparameters: the ones given are marked');
SELECT ok((SELECT html FROM card WHERE k = 'nn') ~ '<h3>Architecture</h3>',
          'a neural network shows its architecture');

-- ---------------------------------------------------------------------------
-- The header and lineage
-- ---------------------------------------------------------------------------
SELECT ok((SELECT html FROM card WHERE k = 'bin') ~ '<h1>card_bin<span class="ver">v1\.0\.0</span></h1>',
          'the header names the project and the version');
SELECT ok((SELECT html FROM card WHERE k = 'bin') LIKE '%<span class="badge live">deployed &middot; primary since %',
          'a deployed model says it serves');
SELECT ok((SELECT html FROM card WHERE k = 'undeployed') LIKE '%<span class="badge">not deployed &middot; ready</span>%',
          'a model that never served says so');
SELECT ok((SELECT html FROM card WHERE k = 'undeployed') ~ 'parent model</dt><dd>#\d+ v1\.0\.0</dd>',
          'lineage: the parent model');
SELECT ok((SELECT html FROM card WHERE k = 'reg') ~ 'next versions</dt><dd>#\d+ v1\.1\.0</dd>',
          'lineage: the next versions');
SELECT ok((SELECT html FROM card WHERE k = 'reg') LIKE '%<dt>schema fingerprint</dt><dd><code>'
           || (SELECT schema_fingerprint FROM galaxy.models WHERE id = (SELECT id FROM m WHERE k = 'reg')) || '</code>%',
          'lineage: the schema fingerprint');
SELECT is((SELECT count(*)::int FROM card, regexp_matches(html, '<td>if_better</td>|<td>specific</td>', 'g') WHERE k = 'bin'), 2,
          'deployments: both of the model''s deployments, with their strategies');
SELECT ok((SELECT html FROM card WHERE k = 'bin') ~ 'class="main"><td>accuracy &#9733;</td><td class="num">0\.\d+</td>',
          'metrics: the key metric comes first and is highlighted');

-- the gate results, when galaxy has them
SELECT is((SELECT html FROM card WHERE k = 'bin') LIKE '%id="gates"%', to_regclass('galaxy.gate_results') IS NOT NULL,
          'the gates section is there exactly when galaxy.gate_results exists');
DO $gates$
BEGIN
    IF to_regclass('galaxy.gate_results') IS NULL THEN
        -- a stand-in with the columns the card reads
        CREATE VIEW galaxy.gate_results AS
        SELECT id AS model, 'accuracy'::text AS metric, '>='::text AS op, 0.5::float8 AS threshold,
               (metrics->>'accuracy')::float8 AS value, 'passed'::text AS status,
               (metrics->>'accuracy')::float8 - 0.5 AS margin, 'project'::text AS scope
          FROM galaxy.models;
    ELSE
        EXECUTE $$SELECT galaxy.set_gate('card_bin', 'accuracy', '>=', 0.5)$$;
    END IF;
END
$gates$;
SELECT ok(galaxy.model_card((SELECT id FROM m WHERE k = 'bin')) ~ 'id="gates">Deployment gates</h3><table>.*<code>accuracy &gt;= 0\.5</code>.*<span class="pill passed">passed</span>',
          'the gates section lists each gate with its result');

-- ---------------------------------------------------------------------------
-- Escaping: what users name never becomes markup
-- ---------------------------------------------------------------------------
SELECT throws_ok($$SELECT galaxy.train('<script>alert(1)</script>', 'public.card_reg', 'y')$$, '22023', NULL,
                 'a project name cannot hold markup (galaxy refuses it before any card)');
SELECT ok((SELECT html FROM card WHERE k = 'bin+relation') LIKE '%&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;%',
          'a label with a script element is escaped');
SELECT ok((SELECT html FROM card WHERE k = 'bin') LIKE '%&lt;script&gt;alert(1)&lt;/script&gt;%',
          'a column named with a script element is escaped');
SELECT ok((SELECT html FROM card WHERE k = 'bin') LIKE '%<b>&lt;b&gt;label&lt;/b&gt;</b>%',
          'the target column''s markup is escaped');
SELECT ok((SELECT html FROM card WHERE k = 'bin') LIKE '%&lt;img src=x onerror=alert(1)&gt;&#10;&#9;C:&#92;temp&#13;%',
          'a deployment reason is escaped, its line breaks, tab and backslash as references');
SELECT ok((SELECT html FROM card WHERE k = 'bin') LIKE '%safe &amp; sound%', 'an ampersand is escaped');
SELECT is((SELECT count(*)::int FROM card
            WHERE html LIKE '%<script%' OR html LIKE '%<img src=x%' OR html LIKE '%<b>label</b>%'
               OR html LIKE '%alert("x")%' OR html LIKE '%safe & sound%' OR html LIKE '%<script>ds%'), 0,
          'no user string is left unescaped in any card');

-- ---------------------------------------------------------------------------
-- By project: the deployed model's card
-- ---------------------------------------------------------------------------
SELECT is(regexp_replace(galaxy.model_card('card_bin'), 'generated [^&]*', ''),
          regexp_replace(galaxy.model_card((SELECT id FROM m WHERE k = 'bin')), 'generated [^&]*', ''),
          'model_card(project) is the card of the deployed model');
SELECT ok(galaxy.model_card('card_bin', 'public.card_bin_new') LIKE '%id="roc-curve"%',
          'model_card(project, relation) scores the relation');

-- ---------------------------------------------------------------------------
-- Errors
-- ---------------------------------------------------------------------------
SELECT throws_ok($$SELECT galaxy.model_card(NULL::bigint)$$, '22004', 'model must not be NULL', 'NULL model');
SELECT throws_ok($$SELECT galaxy.model_card(NULL::text)$$, '22004', 'project must not be NULL', 'NULL project');
SELECT throws_ok($$SELECT galaxy.model_card(-1)$$, '42704', 'model -1 does not exist', 'unknown model');
SELECT throws_ok($$SELECT galaxy.model_card('no_such_project')$$, '42704', 'project "no_such_project" does not exist',
                 'unknown project');
CREATE TEMP TABLE undeployed_project AS
SELECT id FROM galaxy.train('card_idle', 'public.card_reg', 'y', 'linear_regression',
                            features => ARRAY['x1', 'x2'], deploy => 'never');
SELECT throws_ok($$SELECT galaxy.model_card('card_idle')$$, '55000', 'project "card_idle" has no deployed model',
                 'a project without a deployed model');
SELECT throws_ok($$SELECT galaxy.model_card((SELECT id FROM m WHERE k = 'bin'), 'public.card_reg')$$, '42703', NULL,
                 'a relation without the model''s columns');
SELECT throws_ok($$SELECT galaxy.model_card((SELECT id FROM m WHERE k = 'reg'), 'pg_catalog.pg_class_oid_index')$$,
                 '42809', NULL, 'a relation that is not a table or view');

-- ---------------------------------------------------------------------------
-- Privileges and visibility
-- ---------------------------------------------------------------------------
SET LOCAL ROLE card_reader;
SELECT lives_ok($$SELECT galaxy.model_card((SELECT id FROM m WHERE k = 'bin'))$$,
                'a reader with read on the project gets the card');
SELECT ok(galaxy.model_card((SELECT id FROM m WHERE k = 'bin')) LIKE '%the dataset''s own profile is for its owner%',
          '... with the preprocessor''s statistics instead of a dataset profile it may not see');
SELECT throws_ok($$SELECT galaxy.model_card((SELECT id FROM m WHERE k = 'bin'), 'public.card_bin_new')$$, '42501', NULL,
                 '... and scores only relations it may read');
SELECT lives_ok($$SELECT galaxy.model_card('card_reg')$$, '... also by project');
SELECT throws_ok($$SELECT galaxy.model_card((SELECT id FROM m WHERE k = 'nn'))$$, '42501',
                 'permission denied to read galaxy model ' || (SELECT id FROM m WHERE k = 'nn'),
                 'a project the reader holds nothing on: permission denied');
RESET ROLE;

SET LOCAL ROLE card_stranger;
SELECT throws_ok($$SELECT galaxy.model_card((SELECT id FROM m WHERE k = 'bin'))$$, '42501', NULL,
                 'a stranger to the project gets 42501 by model ...');
SELECT throws_ok($$SELECT galaxy.model_card('card_bin')$$, '42501', NULL, '... and by project');
SELECT throws_ok($$SELECT galaxy.evaluate((SELECT id FROM m WHERE k = 'bin'), 'public.card_bin_new')$$, '42501', NULL,
                 '... as galaxy.evaluate does');
RESET ROLE;

SET LOCAL ROLE card_nobody;
SELECT throws_ok($$SELECT galaxy.model_card(1)$$, '42501', NULL, 'a role without galaxy_reader cannot call it');
RESET ROLE;

-- the owner of the dataset sees its profile
SELECT ok((SELECT html FROM card WHERE k = 'bin') NOT LIKE '%the dataset''s own profile is for its owner%',
          'the dataset''s owner sees the dataset''s profile');
SELECT is(galaxy.model_card((SELECT id FROM m WHERE k = 'bin')) IS NOT NULL, true,
          'a superuser gets every card');

SELECT * FROM finish();
ROLLBACK;
