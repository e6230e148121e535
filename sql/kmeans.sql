--
-- kmeans: clusters recovered on well-separated blobs, determinism, k = 1, a
-- constant column, mini-batch on 100,000 rows, centroids in the input
-- columns' units, and the errors of bad k.
--
\pset null '(null)'

-- "SQLSTATE: message" of a statement, or "ok".
CREATE FUNCTION try_sql(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- Adjusted Rand index of two labelings of the same rows (a table of pairs).
CREATE FUNCTION ari(pairs regclass) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
    r float8;
BEGIN
    EXECUTE format($q$
        WITH n AS (SELECT count(*)::float8 AS n FROM %1$s),
             cells AS (SELECT count(*)::float8 AS c FROM %1$s GROUP BY truth, pred),
             rows_ AS (SELECT count(*)::float8 AS c FROM %1$s GROUP BY truth),
             cols AS (SELECT count(*)::float8 AS c FROM %1$s GROUP BY pred),
             s AS (SELECT (SELECT sum(c * (c - 1) / 2) FROM cells) AS sij,
                          (SELECT sum(c * (c - 1) / 2) FROM rows_) AS sa,
                          (SELECT sum(c * (c - 1) / 2) FROM cols) AS sb,
                          (SELECT n * (n - 1) / 2 FROM n) AS n2)
        SELECT (sij - sa * sb / n2) / (0.5 * (sa + sb) - sa * sb / n2) FROM s $q$, pairs)
    INTO r;
    RETURN r;
END
$$;

-- Four blobs in three dimensions, 300 rows each, noise from a fixed formula.
CREATE TABLE blobs AS
SELECT i, i % 4 AS truth,
       (ARRAY[0, 20, 0, 0])[i % 4 + 1] + ((i * 7919) % 1000) / 500.0 - 1 AS x,
       (ARRAY[0, 0, 20, 0])[i % 4 + 1] + ((i * 104729) % 1000) / 500.0 - 1 AS y,
       (ARRAY[0, 0, 0, 20])[i % 4 + 1] + ((i * 1299709) % 1000) / 500.0 - 1 AS z
  FROM generate_series(1, 1200) AS i;

SET client_min_messages = warning;
SELECT algorithm, task, target, training_rows, features
  FROM galaxy.train('blobs', 'blobs', target => NULL, algorithm => 'kmeans', task => 'clustering',
                    features => '{x,y,z}', hyperparams => '{"n_clusters": 4}', test_size => 0);
RESET client_min_messages;

-- every row's cluster, compared with the blob it came from
CREATE TABLE blob_pairs AS
SELECT truth, galaxy.predict('blobs', ARRAY[x, y, z])::int AS pred FROM blobs;
SELECT round(ari('blob_pairs')::numeric, 4) >= 0.99 AS ari_at_least_099,
       count(DISTINCT pred) AS clusters,
       count(DISTINCT (truth, pred)) AS truth_cluster_pairs,
       bool_and(pred BETWEEN 0 AND 3) AS ids_in_range
  FROM blob_pairs;

-- the model's metrics
SELECT round((metrics ->> 'silhouette')::numeric, 2) AS silhouette,
       (metrics ->> 'davies_bouldin')::float8 < 0.2 AS davies_bouldin_small,
       round((metrics ->> 'inertia')::numeric, 0) = round((metrics ->> 'train_inertia')::numeric, 0) AS inertia_is_training,
       metrics -> 'cluster_sizes' AS cluster_sizes,
       metrics ->> 'n_clusters' AS n_clusters,
       (metrics ->> 'n_iter')::int BETWEEN 1 AND 300 AS n_iter_ok
  FROM galaxy.models WHERE algorithm = 'kmeans' ORDER BY id DESC LIMIT 1;

-- describe: the centroids in the input columns' units (rounded, in order)
SELECT c.ord, (SELECT array_agg(round(v::numeric, 0) ORDER BY j)
                 FROM jsonb_array_elements_text(c.centroid) WITH ORDINALITY AS e(v, j)) AS centroid
  FROM galaxy.models m,
       jsonb_array_elements(galaxy.describe(m.model) -> 'clusters' -> 'centroids') WITH ORDINALITY AS c(centroid, ord)
 WHERE m.id = (SELECT max(id) FROM galaxy.models)
 ORDER BY centroid::text;
SELECT d -> 'clusters' -> 'features' AS features, d -> 'clusters' -> 'sizes' AS sizes,
       d -> 'clusters' ->> 'n_clusters' AS n_clusters,
       jsonb_array_length(d -> 'clusters' -> 'initial_centroids') AS initial_centroids,
       d -> 'hyperparams' AS hyperparams
  FROM (SELECT galaxy.describe(model) AS d FROM galaxy.models WHERE id = (SELECT max(id) FROM galaxy.models)) s;

-- determinism: the same seed gives the same bytes, another seed may not
SET client_min_messages = warning;
SELECT (SELECT md5(galaxy.model_send(model)) FROM galaxy.train('det', 'blobs', algorithm => 'kmeans', task => 'clustering',
                   features => '{x,y,z}', hyperparams => '{"n_clusters": 4, "n_init": 3}', seed => 7))
     = (SELECT md5(galaxy.model_send(model)) FROM galaxy.train('det', 'blobs', algorithm => 'kmeans', task => 'clustering',
                   features => '{x,y,z}', hyperparams => '{"n_clusters": 4, "n_init": 3}', seed => 7)) AS same_bytes;

-- k = 1: one cluster, its centre the mean, no silhouette
SELECT metrics -> 'cluster_sizes' AS cluster_sizes, metrics ->> 'silhouette' AS silhouette,
       metrics ->> 'davies_bouldin' AS davies_bouldin
  FROM galaxy.train('one', 'blobs', algorithm => 'kmeans', task => 'clustering',
                    features => '{x,y,z}', hyperparams => '{"n_clusters": 1}', test_size => 0);
RESET client_min_messages;
SELECT (SELECT array_agg(round(v::numeric, 3)) FROM jsonb_array_elements_text(galaxy.describe(model) -> 'clusters' -> 'centroids' -> 0) v)
     = (SELECT ARRAY[round(avg(x), 3), round(avg(y), 3), round(avg(z), 3)] FROM blobs) AS centre_is_mean
  FROM galaxy.models WHERE id = (SELECT max(id) FROM galaxy.models);
SELECT DISTINCT galaxy.predict('one', ARRAY[x, y, z]) AS cluster FROM blobs;

-- a constant column: scaled to 0, shown again as its value
CREATE TABLE with_constant AS SELECT x, y, 5.5::float8 AS c FROM blobs;
SET client_min_messages = warning;
SELECT metrics -> 'cluster_sizes' AS cluster_sizes
  FROM galaxy.train('constant', 'with_constant', algorithm => 'kmeans', task => 'clustering',
                    hyperparams => '{"n_clusters": 3}', test_size => 0);
RESET client_min_messages;
SELECT DISTINCT round((c ->> 2)::numeric, 3) AS constant_column_in_centroids
  FROM galaxy.models m, jsonb_array_elements(galaxy.describe(m.model) -> 'clusters' -> 'centroids') c
 WHERE m.id = (SELECT max(id) FROM galaxy.models);

-- minmax scaling is undone too
SET client_min_messages = warning;
SELECT count(*) FROM galaxy.train('minmax', 'blobs', algorithm => 'kmeans', task => 'clustering',
                    features => '{x,y,z}', hyperparams => '{"n_clusters": 4}',
                    preprocess => '{"scale": "minmax"}', test_size => 0);
RESET client_min_messages;
SELECT array_agg(r ORDER BY r) AS rounded_centroids
  FROM (SELECT (SELECT array_agg(round(v::numeric, 0)) FROM jsonb_array_elements_text(c) v)::text AS r
          FROM galaxy.models m, jsonb_array_elements(galaxy.describe(m.model) -> 'clusters' -> 'centroids') c
         WHERE m.id = (SELECT max(id) FROM galaxy.models)) s;

-- mini-batch k-means on 100,000 rows
CREATE TABLE big_blobs AS
SELECT i % 3 AS truth,
       (ARRAY[0, 30, 60])[i % 3 + 1] + ((i::int8 * 7919) % 1000) / 250.0 - 2 AS a,
       (ARRAY[0, 30, 0])[i % 3 + 1] + ((i::int8 * 104729) % 1000) / 250.0 - 2 AS b
  FROM generate_series(1, 100000) AS i;
SET client_min_messages = warning;
SELECT training_rows, metrics -> 'n_clusters' AS n_clusters,
       (metrics ->> 'n_iter')::int >= 1 AS ran_batches,
       hyperparams ->> 'batch_size' AS batch_size
  FROM galaxy.train('minibatch', 'big_blobs', algorithm => 'kmeans', task => 'clustering',
                    features => '{a,b}', hyperparams => '{"n_clusters": 3, "batch_size": 4096}', test_size => 0);
RESET client_min_messages;
CREATE TABLE big_pairs AS
SELECT truth, galaxy.predict('minibatch', ARRAY[a, b])::int AS pred FROM big_blobs;
SELECT round(ari('big_pairs')::numeric, 4) >= 0.99 AS ari_at_least_099, count(DISTINCT pred) AS clusters
  FROM big_pairs;

-- full Lloyd on the same rows: the same bytes whatever galaxy.threads is, and
-- the same silhouette (its sample's pairs are split over the threads)
SET client_min_messages = warning;
SET galaxy.threads = 1;
CREATE TABLE one_thread AS SELECT md5(galaxy.model_send(model)) AS h, metrics ->> 'silhouette' AS s
  FROM galaxy.train('threads', 'big_blobs', algorithm => 'kmeans', task => 'clustering',
                    features => '{a,b}', hyperparams => '{"n_clusters": 5, "n_init": 2}');
SET galaxy.threads = 3;
SELECT (SELECT h FROM one_thread) = md5(galaxy.model_send(model)) AS same_bytes_three_threads,
       (SELECT s FROM one_thread) = metrics ->> 'silhouette' AS same_silhouette
  FROM galaxy.train('threads', 'big_blobs', algorithm => 'kmeans', task => 'clustering',
                    features => '{a,b}', hyperparams => '{"n_clusters": 5, "n_init": 2}');
RESET galaxy.threads;
RESET client_min_messages;

-- bad k: larger than the rows, than the distinct rows, zero
CREATE TABLE three_values AS SELECT (i % 3)::float8 AS v FROM generate_series(1, 30) AS i;
SELECT try_sql($$SELECT galaxy.train('bad', 'three_values', algorithm => 'kmeans', task => 'clustering',
                                     hyperparams => '{"n_clusters": 4}', test_size => 0)$$);
SELECT try_sql($$SELECT galaxy.train('bad', 'three_values', algorithm => 'kmeans', task => 'clustering',
                                     hyperparams => '{"n_clusters": 50}', test_size => 0)$$);
SELECT try_sql($$SELECT galaxy.train('bad', 'three_values', algorithm => 'kmeans', task => 'clustering',
                                     hyperparams => '{"n_clusters": 0}')$$);
SET client_min_messages = warning;
SELECT try_sql($$SELECT galaxy.train('bad', 'three_values', algorithm => 'kmeans', task => 'clustering',
                                     hyperparams => '{"n_clusters": 3}', test_size => 0)$$) AS three_distinct_ok;
RESET client_min_messages;
SELECT try_sql($$SELECT galaxy.predict_proba('blobs', ARRAY[1, 2, 3]::float8[])$$);
SELECT try_sql($$SELECT galaxy.train('bad', 'blobs', algorithm => 'kmeans', target => 'x')$$);
SELECT try_sql($$SELECT galaxy.train('bad', 'blobs', algorithm => 'kmeans', task => 'clustering',
                                     hyperparams => '{"n_clusters": 2, "k": 2}')$$);
-- algorithm 'auto' (the default) is kmeans for clustering
SET client_min_messages = warning;
SELECT algorithm, hyperparams ->> 'n_clusters' AS n_clusters
  FROM galaxy.train('auto', 'blobs', task => 'clustering', features => '{x,y,z}');
RESET client_min_messages;
-- a row with a NULL is imputed like in every model
SELECT galaxy.predict('blobs', ARRAY[NULL, 20, 0]::float8[]) IS NOT NULL AS null_imputed;
