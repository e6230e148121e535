#!/usr/bin/python3
"""galaxy's speed benchmark: every row of the project's benchmark brief, galaxy and its peer in the same run.

Runs against a server that already has galaxy installed and preloaded; connection parameters come
from PGHOST/PGPORT/PGUSER/PGDATABASE.  bench/run builds galaxy, starts a throwaway cluster and calls
this script; run it directly to measure an existing server:

    PGHOST=/tmp/sock PGPORT=5432 PGUSER=me bench/bench.py --quick

Results: bench/results/latest.json (+ a timestamped copy), docs/benchmarks.md (the section between
the bench:begin/end markers) and plots under docs/img/.  Nothing here is a pass/fail test: targets
that are missed are reported, not asserted.
"""

import argparse
import contextlib
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

# OpenMP threads (XGBoost, parts of scikit-learn) that spin while waiting lose badly when another process
# shares the cores; a passive wait costs little on an idle machine.  Must be set before they load.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import data  # noqa: E402
import neural  # noqa: E402
import report  # noqa: E402
from common import Galaxy, connect, execute, first_line, median, q1, ratio, timed  # noqa: E402

warnings.filterwarnings("ignore", category=FutureWarning)

SCHEMA = "galaxy_bench"
NCPU = os.cpu_count() or 1

MODES = {
    "full": dict(reps=3, clf_rows=1_000_000, rf_rows=200_000, reg_rows=10_000_000,
                 scaling=[10_000, 100_000, 1_000_000], rf_scaling=[10_000, 100_000, 200_000],
                 pgbench_seconds=10, clients=[1, 8, 32], id_rows=100_000, timeout_s=900),
    "quick": dict(reps=1, clf_rows=100_000, rf_rows=10_000, reg_rows=1_000_000,
                  scaling=[1_000, 10_000, 100_000], rf_scaling=[1_000, 3_000, 10_000],
                  pgbench_seconds=3, clients=[1, 8, 32], id_rows=10_000, timeout_s=180),
}
# the neural-network rows (issue #12): epochs per training, batch size, Fashion-MNIST training rows
MODES["full"].update(mlp_epochs=5, mlp_batch=256, fmnist_rows=60_000, fmnist_epochs=5)
MODES["quick"].update(mlp_epochs=2, mlp_batch=256, fmnist_rows=10_000, fmnist_epochs=2)
# the cnn row (issue #13): epochs and batch size on the same Fashion-MNIST tables, one run per side ("one run")
MODES["full"].update(cnn_epochs=4, cnn_batch=128, cnn_reps=1)
MODES["quick"].update(cnn_epochs=1, cnn_batch=128, cnn_reps=1)
# the sequence rows (issue #13's sequence task): R's sunspot.month, windows of forecast_window months → the next month,
# the last 20 % of the windows (in time) for test; epochs, batch size and repetitions per side
MODES["full"].update(forecast_series="sunspot.month", forecast_window=48, forecast_test_fraction=0.2,
                     forecast_epochs=30, forecast_batch=32, forecast_reps=3)
MODES["quick"].update(forecast_series="sunspot.month", forecast_window=48, forecast_test_fraction=0.2,
                      forecast_epochs=5, forecast_batch=32, forecast_reps=1)

# the text rows (issue #14): the largest categories of the fortunes package, 80/20 by a seeded shuffle shared by
# both sides; galaxy TF-IDF with the configuration galaxy.words (galaxy's own parser: scikit-learn's default tokens,
# lower-cased, no stemming, no stop words) against scikit-learn's TfidfVectorizer (its defaults), each followed by
# the same classifier.  The sequence rows of issue #13 keep PostgreSQL's 'english' configuration (TEXT_CONFIG).
MODES["full"].update(text_categories=8)
MODES["quick"].update(text_categories=5)
# repetitions of the text rows: each side takes well under a second for naive Bayes, so one busy moment on the
# machine moves a median of 3; 7 alternating repetitions (a minute in all with logistic regression)
MODES["full"].update(text_reps=7)
MODES["quick"].update(text_reps=1)
# repetitions of the streaming rows (issue #18): the same reasoning, half a second per measurement on 1M rows, and
# each repetition alternates the serial and the 2-worker runs, each beside its own plain scan
MODES["full"].update(stream_reps=7)
MODES["quick"].update(stream_reps=1)
TEXT_CONFIG = "english"
TEXT_TFIDF_CONFIG = "galaxy.words"
TEXT_ROWS = {
    "text_logreg": {"algorithm": "logistic_regression", "hyperparams": {"C": 1.0, "max_iter": 100, "tol": 1e-4},
                    "peer": "TfidfVectorizer + LogisticRegression"},
    "text_nb": {"algorithm": "naive_bayes", "hyperparams": {"distribution": "multinomial", "alpha": 1.0},
                "peer": "TfidfVectorizer + MultinomialNB"},
}
# the text rows of issue #13: lstm and transformer on the same fortunes split, task 'nlp' (each text read as the token
# ids of its first nlp_length words, vocabulary of the training split), against the same networks in PyTorch fed the
# same token ids (galaxy.tokenize's lexemes, the vocabulary rebuilt the way galaxy builds it: bench/neural.py);
# Adam, cross-entropy, no weight decay, no early stopping, no validation split
MODES["full"].update(nlp_length=64, nlp_vocab=20000, nlp_epochs=5, nlp_batch=64, nlp_reps=2)
MODES["quick"].update(nlp_length=32, nlp_vocab=20000, nlp_epochs=1, nlp_batch=64, nlp_reps=1)
NLP_ROWS = {
    "lstm_text": {"algorithm": "lstm", "embedding_dim": 64, "lstm_units": [64], "learning_rate": 0.002},
    "transformer_text": {"algorithm": "transformer", "d_model": 64, "heads": 4, "layers": 2, "ff_units": 128,
                         "activation": "relu", "learning_rate": 0.001},
}

# the grid-search row (issue #16): a 24-point grid of gradient boosting, 3-fold CV on the training rows (80 %)
MODES["full"].update(grid_rows=100_000)
MODES["quick"].update(grid_rows=10_000)
GRID_SPACE = {"max_depth": [4, 6], "learning_rate": [0.1, 0.3], "n_estimators": [50, 100], "reg_lambda": [0, 1, 5]}
GRID_FOLDS = 3

# The benchmark brief's figures, quoted for reference (2-core Debian 12 machine, not measured here).
QUOTED = {
    "scan_serial": 0.23, "scan_parallel": 0.12, "fetch": 10.3, "linreg": 1.38, "logreg": 1.29,
    "gbdt": 5.5, "rf": 58.8, "kmeans": 2.1, "predict_logreg": 0.02, "predict_gbdt": 0.72,
    "linreg_10m_madlib": 4.45,
}

# the compress row (issue #17): int8 copies of a Fashion-MNIST MLP (mlp_fmnist's architecture) and of a logistic
# regression on the same pixels, measured beside their parents on the 10,000 test images
COMPRESS_MODELS = {
    "mlp": {"algorithm": "neural_network"},
    "logreg": {"algorithm": "logistic_regression", "hyperparams": {"max_iter": 100}},
}
MODES["full"].update(compress_fmnist_rows=60_000, compress_epochs=5, compress_reps=3)
MODES["quick"].update(compress_fmnist_rows=10_000, compress_epochs=2, compress_reps=1)
# the tree compress rows (issue #17): galaxy.compress 'prune' of a 500-tree gradient boosting model to 40 % of its
# trees, and 'distill' of the 100-tree benchmark model (GALAXY_HP["gbdt"]) into its default student (8 trees of depth
# 8), into 10 such trees and into an MLP, on
# the first compress_tree_rows rows of the classification table, 80 % to train and 20 % held out (by a hash of x1)
COMPRESS_TREES = {
    "gbdt_prune": {"teacher": {"n_estimators": 500, "max_depth": 6, "learning_rate": 0.1}, "method": "prune",
                   "options": {"sparsity": 0.6, "max_metric_drop": 0.003}, "auc_drop": 0.003},
    "gbdt_distill": {"teacher": {"n_estimators": 100, "max_depth": 6, "learning_rate": 0.3}, "method": "distill",
                     "options": {"max_metric_drop": 0.01}, "auc_drop": 0.01, "speedup": 5.0},
    "gbdt_distill_10": {"teacher": {"n_estimators": 100, "max_depth": 6, "learning_rate": 0.3}, "method": "distill",
                        "options": {"max_metric_drop": 0.01,
                                    "hyperparams": {"n_estimators": 10, "max_depth": 8, "learning_rate": 1.0}},
                        "auc_drop": 0.01, "speedup": 5.0},
    "gbdt_distill_mlp": {"teacher": {"n_estimators": 100, "max_depth": 6, "learning_rate": 0.3}, "method": "distill",
                         "options": {"max_metric_drop": 0.01, "student": "neural_network",
                                     "hyperparams": {"hidden_layers": [64], "epochs": 30}},
                         "auc_drop": 0.01, "speedup": 5.0},
}
MODES["full"].update(compress_tree_rows=200_000)
MODES["quick"].update(compress_tree_rows=50_000)

FEATURES_SQL = ", ".join(data.CLF_FEATURES)


def backend_cpu_s(pid):
    """CPU time (s) the backend PID has run so far (/proc/PID/schedstat, ns), or None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def timed_cpu(pid, fn, *args):
    """(wall seconds, backend CPU seconds or None) of one call that runs a statement in the backend PID."""
    c0 = backend_cpu_s(pid)
    secs, _ = timed(fn, *args)
    c1 = backend_cpu_s(pid)
    return secs, (None if c0 is None or c1 is None else c1 - c0)
FEATURE_ARRAY = "ARRAY[" + FEATURES_SQL + "]"


def log(msg):
    """Progress line on stderr (the report goes to files)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- peers ---------------------------------------------------------------------------------------------

def fetch_table(conn, table, cols):
    """What a Python user pays to leave the database: psycopg2 fetchall + a NumPy float64 array."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(cols)} FROM {table}")
        rows = cur.fetchall()
    return np.array(rows, dtype=np.float64)


def split(X, y, classification):
    """The peer's holdout split: 80/20, stratified for classification, random_state 0."""
    from sklearn.model_selection import train_test_split
    return train_test_split(X, y, test_size=0.2, random_state=0, stratify=y if classification else None)


def peer_model(kind):
    """The scikit-learn / XGBoost estimator that is galaxy's peer for one benchmark row."""
    from sklearn.cluster import KMeans
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    if kind in ("linreg", "linreg_10m"):
        return LinearRegression()
    if kind == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=100, tol=1e-4))
    if kind == "gbdt":
        import xgboost
        return xgboost.XGBClassifier(n_estimators=100, max_depth=6, learning_rate=0.3, tree_method="hist",
                                     max_bin=256, n_jobs=NCPU, random_state=0)
    if kind == "rf":
        return RandomForestClassifier(n_estimators=100, n_jobs=NCPU, random_state=0)
    if kind == "kmeans":
        return KMeans(n_clusters=8, n_init=1, random_state=0)
    raise ValueError(kind)


def peer_quality(kind, model, X_test, y_test):
    """Held-out quality of a fitted peer, with the metric names galaxy uses."""
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
    if kind in ("linreg", "linreg_10m"):
        return {"r2": float(r2_score(y_test, model.predict(X_test)))}
    if kind == "kmeans":
        return {"inertia": float(model.inertia_ / len(X_test))}
    proba = model.predict_proba(X_test)[:, 1]
    return {"accuracy": float(accuracy_score(y_test, (proba >= 0.5).astype(int))),
            "roc_auc": float(roc_auc_score(y_test, proba))}


def peer_fit(kind, X, y, use_split=True):
    """Split (when asked), fit and score a peer; returns (fit seconds, total seconds, model, quality)."""
    t0 = time.perf_counter()
    classification = kind in ("logreg", "gbdt", "rf")
    if kind == "kmeans":
        Xtr, Xte, ytr, yte = X, X, None, None
    elif use_split:
        Xtr, Xte, ytr, yte = split(X, y, classification)
    else:
        Xtr, Xte, ytr, yte = X, X, y, y
    model = peer_model(kind)
    t1 = time.perf_counter()
    if kind == "kmeans":
        model.fit(Xtr)
    else:
        model.fit(Xtr, ytr.astype(int) if classification else ytr)
    fit_s = time.perf_counter() - t1
    quality = peer_quality(kind, model, Xte, yte)
    return fit_s, time.perf_counter() - t0, model, quality


def regression_quality(y, pred):
    """RMSE, R² and MAE of predictions PRED of Y (the names galaxy.evaluate uses)."""
    from sklearn.metrics import r2_score
    y, pred = np.asarray(y, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    return {"rmse": float(np.sqrt(np.mean((y - pred) ** 2))), "r2": float(r2_score(y, pred)),
            "mae": float(np.mean(np.abs(y - pred)))}


# --- galaxy --------------------------------------------------------------------------------------------

GALAXY_ALGO = {"linreg": "linear_regression", "linreg_10m": "linear_regression", "linreg_stream": "linear_regression",
               "logreg_stream": "logistic_regression", "logreg": "logistic_regression",
               "gbdt": "gradient_boosting", "rf": "random_forest", "kmeans": "kmeans",
               "mlp": "neural_network", "mlp_fmnist": "neural_network", "cnn_fmnist": "cnn",
               "text_logreg": "logistic_regression", "text_nb": "naive_bayes"}
# Neural rows: hidden layers, learning rate and weight decay (Adam, ReLU, no early stopping on every side).
NEURAL_ROWS = {
    "mlp": {"hidden": [64, 64], "learning_rate": 0.001, "weight_decay": 0.0001},
    "mlp_fmnist": {"hidden": [256, 128], "learning_rate": 0.001, "weight_decay": 0.0001},
    # galaxy's default cnn: conv 32 → pool → conv 64 → pool (3x3 same padding, ReLU, 2x2 max pool) → dense 128 → 10
    "cnn_fmnist": {"cnn": True, "input_shape": [1, 28, 28], "filters": [32, 64], "kernel": 3, "pool": 2,
                   "dense": [128], "learning_rate": 0.001, "weight_decay": 0.0001},
}
# Sequence rows (issue #13): next-value forecasting of a real series, galaxy's lstm and transformer against the same
# networks in PyTorch (bench/neural.py: build_torch_lstm, build_torch_transformer); Adam, MSE on the standardised
# target, no weight decay, no early stopping, no validation split.
FORECAST_ROWS = {
    "lstm_forecast": {"algorithm": "lstm", "lstm_units": [32], "learning_rate": 0.001},
    "transformer_forecast": {"algorithm": "transformer", "d_model": 32, "heads": 4, "layers": 2, "ff_units": 64,
                             "activation": "relu", "learning_rate": 0.001},
}
GALAXY_ALGO.update({k: v["algorithm"] for k, v in FORECAST_ROWS.items()})
GALAXY_ALGO.update({k: v["algorithm"] for k, v in NLP_ROWS.items()})
GALAXY_HP = {
    "linreg": {}, "linreg_10m": {},
    "logreg": {"C": 1.0, "max_iter": 100, "tol": 1e-4},
    "gbdt": {"n_estimators": 100, "max_depth": 6, "learning_rate": 0.3},
    "rf": {"n_estimators": 100},
    "kmeans": {"k": 8, "n_clusters": 8},
}


def hp_names(gx, algo):
    """Hyperparameter names galaxy advertises for ALGO (None when it does not say)."""
    rec = gx.algorithms.get(algo)
    if not rec:
        return None
    for key in ("hyperparams", "hyperparameters", "parameters", "params"):
        val = rec.get(key)
        if val is None:
            continue
        if isinstance(val, str):
            try:
                val = json.loads(val)
            except ValueError:
                continue
        if isinstance(val, dict):
            return set(val)
        if isinstance(val, list):
            return {v.get("name") if isinstance(v, dict) else str(v) for v in val}
    return None


def galaxy_hyperparams(gx, kind):
    """The row's hyperparameters, restricted to the names galaxy advertises."""
    want = dict(GALAXY_HP[kind])
    names = hp_names(gx, GALAXY_ALGO[kind])
    if names is not None:
        want = {k: v for k, v in want.items() if k in names}
    elif kind == "kmeans":
        want.pop("n_clusters")
    return want


def galaxy_train(gx, project, table, kind, test_size, timeout_s, hyperparams=None, target_col="y",
                 features=None, preprocess=None, sample_memory=True, settings=None):
    """One galaxy.train() from a fresh connection: (seconds, metrics dict, model id, memory dict).
    HYPERPARAMS (default: the row's, restricted to the names galaxy advertises) are passed as they are;
    FEATURES (column names) and PREPROCESS (a dict) when given.  SAMPLE_MEMORY false: no thread polls the
    backend's memory while it trains (its peak is then VmHWM's alone).  SETTINGS: {guc: value} set in the
    session first (e.g. max_parallel_workers_per_gather)."""
    c = connect()
    try:
        execute(c, f"SET statement_timeout = '{int(timeout_s)}s'")
        for k, v in (settings or {}).items():
            execute(c, f"SET {k} = {v}")
        pid = q1(c, "SELECT pg_backend_pid()")
        before = common.backend_memory(pid)
        hp = galaxy_hyperparams(gx, kind) if hyperparams is None else hyperparams
        args = {"p": project, "r": table, "a": GALAXY_ALGO[kind], "h": json.dumps(hp), "ts": test_size,
                "t": target_col}
        extra = ""
        if kind in ("linreg", "linreg_10m", "linreg_stream"):
            extra = ", task => 'regression'"  # y is an int 0/1 column in the classification table
        if kind in NEURAL_ROWS:
            extra = ", task => 'classification'"
        if kind in NLP_ROWS:
            extra = ", task => 'nlp'"
        if kind == "kmeans":
            # like the peer: every row, the features as they are (no scaling), so inertias compare
            target = "NULL"
            extra += ", features => %(f)s::text[], task => 'clustering', preprocess => '{\"scale\": \"none\"}'"
            args["f"] = data.CLF_FEATURES
            args["ts"] = 0
        else:
            target = "%(t)s"
        if features is not None:
            extra += ", features => %(f)s::text[]"
            args["f"] = features
        if preprocess is not None:
            extra += ", preprocess => %(pp)s::jsonb"
            args["pp"] = json.dumps(preprocess)
        sql = (f"SELECT m.id, m.metrics::text FROM galaxy.train(project => %(p)s, relation => %(r)s::regclass, "
               f"target => {target}, algorithm => %(a)s, hyperparams => %(h)s::jsonb, test_size => %(ts)s, "
               f"deploy => 'always', seed => 42{extra}) m")
        sampler = common.MemorySampler(pid) if sample_memory else None
        with c.cursor() as cur, (sampler or contextlib.nullcontext()):
            t0 = time.perf_counter()
            cur.execute(sql, args)
            model_id, metrics = cur.fetchone()
            secs = time.perf_counter() - t0
        after = common.backend_memory(pid)
        mem = None
        if before and after:
            # the larger of two lower bounds of the private peak: VmHWM less the final shared memory,
            # and the largest private RSS sampled while the statement ran
            hwm_private = after["VmHWM"] - after.get("RssShmem", 0)
            sampled = sampler.peak if sampler else 0
            mem = {"vmhwm": after["VmHWM"], "shmem": after.get("RssShmem", 0),
                   "hwm_private": hwm_private, "sampled_private": sampled,
                   "private_peak": max(hwm_private, sampled),
                   "baseline_private": before["VmHWM"] - before.get("RssShmem", 0)}
        return secs, json.loads(metrics) if metrics else {}, model_id, mem
    finally:
        c.close()


def pick_quality(metrics, kind):
    """The metrics of a galaxy model that the report compares with the peer."""
    keys = {"linreg": ["r2"], "linreg_10m": ["r2"], "logreg": ["accuracy", "roc_auc"],
            "gbdt": ["accuracy", "roc_auc"], "rf": ["accuracy", "roc_auc"], "kmeans": ["inertia"]}[kind]
    out = {}
    if kind == "kmeans":
        # inertia per training row, as the peer's inertia_ / n
        ti, n = metrics.get("train_inertia"), metrics.get("training_rows")
        if isinstance(ti, (int, float)) and isinstance(n, (int, float)) and n > 0:
            out["inertia"] = float(ti) / float(n)
        return out
    for k in keys:
        v = metrics.get(k)
        if isinstance(v, (int, float)):
            out[k] = float(v)
    return out


def kmeans_same_init(conn, model_id, X):
    """scikit-learn's KMeans from galaxy's initial centroids (describe, input units): its inertia per row."""
    import numpy as np
    from sklearn.cluster import KMeans
    init = q1(conn, "SELECT galaxy.describe(model) -> 'clusters' -> 'initial_centroids' FROM galaxy.models "
                    "WHERE id = %s", (model_id,))
    if isinstance(init, str):
        init = json.loads(init)
    init = np.array(init, dtype=np.float64)
    model = KMeans(n_clusters=init.shape[0], init=init, n_init=1).fit(X)
    return float(model.inertia_ / len(X)), int(model.n_iter_)


def pick_phases(metrics):
    """galaxy's own breakdown of a train() call (load, fit, score seconds), when it reports one."""
    return {k: float(metrics[k]) for k in ("load_seconds", "fit_seconds", "score_seconds")
            if isinstance(metrics.get(k), (int, float))}


# --- the benchmark ----------------------------------------------------------------------------------------

class Bench:
    """Holds the configuration, the connection and everything measured."""

    def __init__(self, args):
        self.args = args
        self.mode = "quick" if args.quick else "full"
        self.cfg = dict(MODES[self.mode])
        if args.reps:
            self.cfg["reps"] = args.reps
        self.conn = connect()
        self.gx = Galaxy(self.conn)
        self.results = {
            "meta": {"date": common.now_iso(), "mode": self.mode, "machine": common.machine_info(),
                     "versions": common.versions(self.conn), "config": self.cfg,
                     "settings": self.server_settings(),
                     "galaxy_algorithms": sorted(self.gx.algorithms)},
            "speed": [], "latency": [], "memory": [], "scaling": [], "notes": [],
        }
        self.results["meta"]["loadavg_start"] = os.getloadavg()[0]
        self.results["meta"]["omp_wait_policy"] = os.environ.get("OMP_WAIT_POLICY")
        self.rows_filter = set(args.rows.split(",")) if args.rows else None
        self.peer_models = {}
        self.galaxy_models = {}
        self.arrays = {}

    def server_settings(self):
        """Server settings that shape the numbers."""
        out = {}
        for name in ("shared_buffers", "work_mem", "max_parallel_workers_per_gather", "jit",
                     "galaxy.threads", "galaxy.blas_threads", "shared_preload_libraries"):
            try:
                out[name] = q1(self.conn, "SELECT current_setting(%s, true)", (name,))
            except Exception:  # noqa: BLE001
                out[name] = None
        return out

    def want(self, row_id):
        """True when --rows selects this row (all rows by default)."""
        return self.rows_filter is None or row_id in self.rows_filter

    def model_available(self, kind):
        """galaxy has a deployed model for project bench_KIND (trained now or by an earlier run)."""
        if kind in self.galaxy_models:
            return True
        if not self.gx.has_function("predict"):
            return False
        try:
            q1(self.conn, f"SELECT galaxy.predict('bench_{kind}', {FEATURE_ARRAY}) FROM {self.table('clf_ids')} "
                          "LIMIT 1")
            self.galaxy_models[kind] = None
            return True
        except Exception:  # noqa: BLE001 - no such project or model
            return False

    def ensure_peer(self, kind):
        """The fitted peer of KIND for predict timings (fitted untimed when its row did not run)."""
        if kind not in self.peer_models:
            X, y = self.arrays["clf"]
            self.peer_models[kind] = peer_fit(kind, X, y.astype(np.float64))[2]
        return self.peer_models[kind]

    def table(self, name):
        """Qualified name of a bench table."""
        return f"{SCHEMA}.{name}"

    # -- data --
    def fresh(self, table, tag):
        """True when TABLE already holds the data TAG describes (the data are deterministic)."""
        return q1(self.conn, "SELECT obj_description(to_regclass(%s), 'pg_class')", (table,)) == tag

    def mark(self, table, tag):
        """Record what TABLE holds, prepare it for reading (frozen, analysed, 2 parallel workers)."""
        execute(self.conn, f"ALTER TABLE {table} SET (parallel_workers = 2)")
        execute(self.conn, f"VACUUM (FREEZE, ANALYZE) {table}")
        execute(self.conn, f"COMMENT ON TABLE {table} IS %s", (tag,))

    def setup_data(self):
        """Create every table the benchmark reads (kept when an earlier run left exactly the same data)."""
        t0 = time.perf_counter()
        execute(self.conn, f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        log("generating the 1M x 20 classification data (make_classification, random_state=0)")
        X, y = data.make_clf(1_000_000)
        n = self.cfg["clf_rows"]
        self.arrays["clf"] = (X[:n], y[:n])
        sizes = sorted(set(self.cfg["scaling"] + self.cfg["rf_scaling"] + [self.cfg["rf_rows"]] +
                           ([self.cfg["grid_rows"]] if self.want("grid_search") else [])) - {n})
        ids = min(n, self.cfg["id_rows"])
        wanted = [(self.table("clf"), n, False)] + [(self.table(f"clf_{m}"), m, False) for m in sizes] + \
            [(self.table("clf_ids"), ids, True)]
        for table, m, with_id in wanted:
            tag = f"galaxy bench data v1: make_classification rows={m} id={with_id}"
            if self.fresh(table, tag):
                continue
            log(f"COPY {m:,} rows into {table}")
            data.load_clf_table(self.conn, table, X[:m], y[:m], with_id=with_id)
            self.mark(table, tag)
        r = self.cfg["reg_rows"]
        tag = f"galaxy bench data v1: hash32 regression rows={r}"
        if (self.want("linreg_10m") or self.want("linreg_10m_stream")) and not self.fresh(self.table("reg"), tag):
            log(f"generating the {r:,} x 10 regression table in SQL")
            data.create_reg_table(connect, self.table("reg"), r, sessions=max(1, min(NCPU, 4)))
            self.mark(self.table("reg"), tag)
        if self.want("mlp_fmnist") or self.want("cnn_fmnist") or self.want("compress"):
            self.setup_fmnist()
        if any(self.want(k) for k in FORECAST_ROWS):
            self.setup_forecast()
        if self.want_text():
            self.setup_text()
        self.results["meta"]["setup_seconds"] = time.perf_counter() - t0
        size = "SELECT pg_table_size(to_regclass(%s)) / 1048576.0::float8"
        self.results["meta"]["clf_heap_mb"] = q1(self.conn, size, (self.table("clf"),))
        self.results["meta"]["reg_heap_mb"] = q1(self.conn, size, (self.table("reg"),))
        if self.want("mlp_fmnist") or self.want("cnn_fmnist"):
            self.results["meta"]["fmnist_heap_mb"] = q1(self.conn, size, (self.table("fmnist"),))

    def setup_fmnist(self):
        """Fashion-MNIST from the Debian package as tables (pixels real[784], label int): fmnist holds the first
        fmnist_rows training images, fmnist_test the 10,000 test images."""
        Xtr, ytr, Xte, yte = data.fmnist()
        n = self.cfg["fmnist_rows"]
        self.arrays["fmnist"] = (Xtr[:n], ytr[:n], Xte, yte)
        for table, X, y, what in ((self.table("fmnist"), Xtr[:n], ytr[:n], "train"),
                                  (self.table("fmnist_test"), Xte, yte, "t10k")):
            tag = f"galaxy bench data v1: fashion-mnist {what} rows={len(y)}"
            if self.fresh(table, tag):
                continue
            log(f"COPY {len(y):,} Fashion-MNIST images ({what}) into {table}")
            data.load_array_table(self.conn, table, X, y)
            self.mark(table, tag)

    def want_text(self):
        """--rows selects the text rows: "text", or one of them by id."""
        return self.want("text") or any(self.want(k) for k in list(TEXT_ROWS) + list(NLP_ROWS))

    def setup_text(self):
        """The fortunes texts as tables text_train and text_test (id, category, body), split once for both sides."""
        k = self.cfg["text_categories"]
        rows = data.fortunes(k)
        train, test = data.text_split(rows)
        self.arrays["text"] = (train, test)
        for table, part, what in ((self.table("text_train"), train, "train"), (self.table("text_test"), test, "test")):
            tag = f"galaxy bench data v1: fortunes {k} categories {what} rows={len(part)} split seed 0"
            if self.fresh(table, tag):
                continue
            log(f"COPY {len(part):,} fortunes ({what}, {k} categories) into {table}")
            data.load_text_table(self.conn, table, part)
            self.mark(table, tag)
        self.results["meta"]["text_data"] = {
            "categories": sorted({c for c, _ in rows}), "train_rows": len(train), "test_rows": len(test),
            "train_bytes": sum(len(t.encode()) for _, t in train)}

    def run_text(self):
        """TF-IDF + logistic regression and + multinomial naive Bayes on the fortunes: galaxy end to end from the
        table (tokenise with galaxy.words, vocabulary and idf, fit, score, register) against
        scikit-learn's TfidfVectorizer.fit_transform + fit on the same training texts in memory; accuracy of both
        on the same held-out texts (galaxy.evaluate on text_test)."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.naive_bayes import MultinomialNB
        train, test = self.arrays["text"]
        x_train, y_train = [t for _, t in train], [c for c, _ in train]
        x_test, y_test = [t for _, t in test], np.array([c for c, _ in test])
        reps = self.cfg["text_reps"]
        preprocess = {"columns": {"body": {"text": "tfidf", "config": TEXT_TFIDF_CONFIG}}}
        for kind, spec in TEXT_ROWS.items():
            if not (self.want("text") or self.want(kind)):
                continue
            algo = spec["algorithm"]
            row = {"id": kind, "algorithm": algo, "text": True, "rows": len(train), "test_rows": len(test),
                   "categories": len({c for c, _ in train}), "features": "text",
                   "implemented": self.gx.can_train() and self.gx.has_algorithm(algo),
                   "hyperparams": spec["hyperparams"], "preprocess": preprocess, "peer": spec["peer"],
                   "galaxy_s": [], "peer_vectorize_s": [], "peer_fit_s": [], "peer_total_s": [],
                   "galaxy_quality": {}, "peer_quality": {}, "galaxy_phases": [], "error": None}
            for rep in range(reps):
                log(f"rep {rep + 1}/{reps}: {kind} on {len(train):,} fortunes")
                for side in (("galaxy", "peer") if rep % 2 == 0 else ("peer", "galaxy")):
                    if side == "galaxy":
                        if not row["implemented"] or row["error"]:
                            continue
                        try:
                            secs, metrics, model_id, _ = galaxy_train(
                                self.gx, f"bench_{kind}", self.table("text_train"), kind, 0, self.cfg["timeout_s"],
                                hyperparams=spec["hyperparams"], target_col="category", features=["body"],
                                preprocess=preprocess, sample_memory=False)
                            row["galaxy_s"].append(secs)
                            row["galaxy_phases"].append(pick_phases(metrics))
                            row["model_id"] = model_id
                        except Exception as e:  # noqa: BLE001 - the report says what failed
                            row["error"] = first_line(e)
                            log(f"galaxy {kind} failed: {row['error']}")
                    else:
                        t0 = time.perf_counter()
                        vec = TfidfVectorizer()
                        X = vec.fit_transform(x_train)
                        t1 = time.perf_counter()
                        model = (LogisticRegression(C=1.0, max_iter=100, tol=1e-4) if algo == "logistic_regression"
                                 else MultinomialNB(alpha=1.0))
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")  # lbfgs stops at max_iter, as galaxy's does
                            model.fit(X, y_train)
                        t2 = time.perf_counter()
                        row["peer_vectorize_s"].append(t1 - t0)
                        row["peer_fit_s"].append(t2 - t1)
                        row["peer_total_s"].append(t2 - t0)
                        row["peer_quality"] = {"accuracy": float((model.predict(vec.transform(x_test)) == y_test).mean())}
                        row["peer_vocabulary"] = len(vec.vocabulary_)
            if row.get("model_id"):
                try:
                    ev = q1(self.conn, "SELECT galaxy.evaluate(%s::bigint, %s::regclass)::text",
                            (row["model_id"], self.table("text_test")))
                    row["galaxy_quality"] = {"accuracy": float(json.loads(ev)["accuracy"])}
                    row["galaxy_vocabulary"] = q1(self.conn, "SELECT (galaxy.describe(model) -> 'preprocess' -> "
                                                             "'inputs' -> 0 ->> 'vocabulary_size')::int "
                                                             "FROM galaxy.models WHERE id = %s", (row["model_id"],))
                except Exception as e:  # noqa: BLE001 - the report says what failed
                    row["error"] = row["error"] or first_line(e)
                    log(f"galaxy.evaluate of {kind} failed: {first_line(e)}")
            row["galaxy_median_s"] = median(row["galaxy_s"])
            row["peer_vectorize_median_s"] = median(row["peer_vectorize_s"])
            row["peer_fit_median_s"] = median(row["peer_fit_s"])
            row["peer_total_median_s"] = median(row["peer_total_s"])
            row["ratio"] = ratio(row["galaxy_median_s"], row["peer_total_median_s"])
            row["galaxy_phases_median"] = {k: median([p.get(k) for p in row["galaxy_phases"]])
                                           for k in ("load_seconds", "fit_seconds", "score_seconds")
                                           if any(k in p for p in row["galaxy_phases"])}
            self.results["speed"].append(row)

    def table_for_rows(self, m):
        """The bench table holding the first m rows of the classification data."""
        return self.table("clf") if m == self.cfg["clf_rows"] else self.table(f"clf_{m}")

    # -- speed rows --
    def time_sql(self, sql, parallel):
        """Seconds for one statement on a fresh connection, with or without parallel workers."""
        c = connect()
        try:
            execute(c, f"SET max_parallel_workers_per_gather = {2 if parallel else 0}")
            execute(c, f"SET statement_timeout = '{int(self.cfg['timeout_s'])}s'")
            secs, val = timed(q1, c, sql)
            return secs, val
        finally:
            c.close()

    def run_scan_and_training(self):
        """Scan floor, fetch, and the training rows on the main table, alternating galaxy and peer."""
        reps, n = self.cfg["reps"], self.cfg["clf_rows"]
        clf = self.table("clf")
        scan_sql = f"SELECT sum({'+'.join(data.CLF_FEATURES)}) FROM {clf}"
        kinds = [k for k in ("linreg", "logreg", "gbdt", "kmeans") if self.want(k)]
        rows = {k: self.new_row(k, n) for k in kinds}
        scan = {"serial": [], "parallel": []}
        fetch = []
        for rep in range(reps):
            log(f"rep {rep + 1}/{reps}: plain scan, fetch, training rows on {n:,} rows")
            for par in ((False, True) if rep % 2 == 0 else (True, False)):
                scan["parallel" if par else "serial"].append(self.time_sql(scan_sql, par)[0])
            if not kinds:
                continue
            fsecs, arr = timed(fetch_table, self.conn, clf, data.CLF_FEATURES + ["y"])
            fetch.append(fsecs)
            X, y = arr[:, :-1], arr[:, -1]
            for kind in kinds:
                self.measure_training(rows[kind], kind, clf, X, y, fsecs, rep)
            del arr, X, y
        self.results["speed"].append({
            "id": "scan", "work": "plain scan `SELECT sum(x1+…+x20)`", "rows": n,
            "serial_s": scan["serial"], "parallel_s": scan["parallel"],
            "serial_median_s": median(scan["serial"]), "parallel_median_s": median(scan["parallel"])})
        if fetch:
            self.results["speed"].append({"id": "fetch", "work": "psycopg2 fetch + NumPy array", "rows": n,
                                          "seconds": fetch, "median_s": median(fetch)})
        self.scan = {k: median(v) for k, v in scan.items()}
        self.fetch_median = median(fetch)
        for kind in kinds:
            # galaxy's load phase against the serial plain scan of the same table (issue #18: gbdt ≤ 1.3 ×)
            loads = [p.get("load_seconds") for p in rows[kind].get("galaxy_phases") or []]
            rows[kind]["load_scan_ratio"] = ratio(median(loads), self.scan["serial"])
            self.finish_row(rows[kind])
        if self.want("linreg_stream"):
            self.run_linreg_stream(clf, scan)
        if self.want("logreg_stream"):
            self.run_linreg_stream(clf, scan, "logreg_stream")

    def run_linreg_stream(self, table, scan, row_id="linreg_stream", features=None, n=None):
        """Linear (or logistic) regression with the streaming solver (issue #18): serial and with 2
        parallel workers, in the same repetitions as more plain scans of the same table; ratios to the
        serial scan and the in-memory fit's time. linreg_stream runs on the 1M x 20 classification table
        (its target as a number), linreg_10m_stream on the 10M x 10 regression table, logreg_stream
        (Newton passes, then the roc_auc scoring query) on the 1M x 20 classification table."""
        reps = self.cfg["stream_reps"]
        n = n or self.cfg["clf_rows"]
        features = features or data.CLF_FEATURES
        logistic = row_id == "logreg_stream"
        base = "logreg" if logistic else "linreg"
        what = "logistic" if logistic else "linear"
        scan_sql = f"SELECT sum({'+'.join(features)}) FROM {table}"
        row = {"id": row_id, "algorithm": GALAXY_ALGO[base], "rows": n, "features": len(features),
               "implemented": self.gx.can_train() and self.gx.has_algorithm(GALAXY_ALGO[base]),
               "serial_s": [], "parallel_s": [], "scan_serial_s": list(scan["serial"]),
               "scan_parallel_s": list(scan["parallel"]), "error": None, "quality": {}}
        hp = dict(galaxy_hyperparams(self.gx, base), solver="streaming")
        for rep in range(reps):
            log(f"rep {rep + 1}/{reps}: streaming {what} regression on {n:,} x {len(features)}, "
                "serial and 2 workers, and the scans")
            for par in ((False, True) if rep % 2 == 0 else (True, False)):
                row["scan_parallel_s" if par else "scan_serial_s"].append(self.time_sql(scan_sql, par)[0])
                if not row["implemented"] or row["error"]:
                    continue
                try:
                    secs, metrics, _, _ = galaxy_train(
                        self.gx, "bench_" + row_id, table, "logreg_stream" if logistic else "linreg_stream", 0.2,
                        self.cfg["timeout_s"],
                        hyperparams=hp, sample_memory=False,
                        settings={"max_parallel_workers_per_gather": 2 if par else 0,
                                  "parallel_setup_cost": 0 if par else 1000,
                                  "min_parallel_table_scan_size": 0 if par else "'8MB'"})
                    row["parallel_s" if par else "serial_s"].append(secs)
                    row["quality"] = ({"accuracy": metrics.get("accuracy"), "roc_auc": metrics.get("roc_auc"),
                                       "newton_passes": metrics.get("newton_passes"), "solver": metrics.get("solver")}
                                      if logistic else {"r2": metrics.get("r2"), "solver": metrics.get("solver")})
                except Exception as e:  # noqa: BLE001 - the report says what failed
                    row["error"] = first_line(e)
                    log(f"galaxy streaming {what} regression failed: {row['error']}")
        row["serial_median_s"] = median(row["serial_s"])
        row["parallel_median_s"] = median(row["parallel_s"])
        row["scan_serial_median_s"] = median(row["scan_serial_s"])
        row["scan_parallel_median_s"] = median(row["scan_parallel_s"])
        row["ratio_serial"] = ratio(row["serial_median_s"], row["scan_serial_median_s"])
        row["ratio_parallel"] = ratio(row["parallel_median_s"], row["scan_serial_median_s"])
        inmem = next((r for r in self.results["speed"]
                      if r["id"] == {"linreg_stream": "linreg", "logreg_stream": "logreg"}.get(row_id, "linreg_10m")), None)
        if inmem:
            row["in_memory_median_s"] = inmem.get("galaxy_median_s")
        self.results["speed"].append(row)

    def new_row(self, kind, n, features=20):
        """An empty speed row for one training benchmark."""
        algo = GALAXY_ALGO[kind]
        implemented = self.gx.can_train() and self.gx.has_algorithm(algo)
        return {"id": kind, "algorithm": algo, "rows": n, "features": features,
                "implemented": implemented, "galaxy_s": [], "peer_fit_s": [], "peer_e2e_s": [],
                "galaxy_quality": {}, "peer_quality": {}, "galaxy_memory": [], "error": None,
                "hyperparams": galaxy_hyperparams(self.gx, kind) if implemented else GALAXY_HP[kind]}

    def measure_training(self, row, kind, table, X, y, fetch_s, rep, test_size=0.2, use_split=True):
        """One repetition of one training row: galaxy and peer in alternating order."""
        order = ("galaxy", "peer") if rep % 2 == 0 else ("peer", "galaxy")
        for side in order:
            if side == "galaxy":
                if not row["implemented"] or row["error"]:
                    continue
                try:
                    # timed without the memory sampler: its thread polls every millisecond and takes CPU from
                    # the backend's threads on a 2-core host; finish_row measures memory in a run of its own
                    secs, metrics, model_id, _ = galaxy_train(self.gx, f"bench_{kind}", table, kind, test_size,
                                                              self.cfg["timeout_s"], sample_memory=False)
                    row["galaxy_s"].append(secs)
                    row["memory_run"] = (kind, table, test_size)
                    same = row["galaxy_quality"].get("inertia_same_init")
                    row["galaxy_quality"] = pick_quality(metrics, kind)
                    if same is not None:
                        row["galaxy_quality"]["inertia_same_init"] = same
                    row["galaxy_metrics"] = {k: v for k, v in metrics.items() if k != "confusion_matrix"}
                    row.setdefault("galaxy_phases", []).append(pick_phases(metrics))
                    row["model_id"] = model_id
                    self.galaxy_models[kind] = model_id
                except Exception as e:  # noqa: BLE001 - the report says what failed
                    row["error"] = first_line(e)
                    log(f"galaxy {kind} failed: {row['error']}")
            else:
                if kind == "kmeans" and not row["implemented"]:
                    continue
                fit_s, tot_s, model, quality = peer_fit(kind, X, y, use_split=use_split)
                row["peer_fit_s"].append(fit_s)
                row["peer_e2e_s"].append(None if fetch_s is None else fetch_s + tot_s)
                row["peer_quality"].update(quality)
                self.peer_models[kind] = model
        if kind == "kmeans" and row.get("model_id") and "inertia_same_init" not in row["peer_quality"]:
            try:
                inertia, n_iter = kmeans_same_init(self.conn, row["model_id"], X)
                row["peer_quality"]["inertia_same_init"] = inertia
                row["peer_same_init_iterations"] = n_iter
                row["galaxy_quality"]["inertia_same_init"] = row["galaxy_quality"].get("inertia")
            except Exception as e:  # noqa: BLE001 - the report says what failed
                log(f"kmeans from galaxy's initial centroids failed: {first_line(e)}")

    def finish_row(self, row):
        """Medians and ratios of a training row, appended to the results."""
        row["galaxy_median_s"] = median(row["galaxy_s"])
        row["peer_fit_median_s"] = median(row["peer_fit_s"])
        row["peer_e2e_median_s"] = median(row["peer_e2e_s"])
        row["ratio_fit"] = ratio(row["galaxy_median_s"], row["peer_fit_median_s"])
        row["ratio_e2e"] = ratio(row["galaxy_median_s"], row["peer_e2e_median_s"])
        phases = row.get("galaxy_phases") or []
        row["galaxy_phases_median"] = {k: median([p.get(k) for p in phases])
                                       for k in ("load_seconds", "fit_seconds", "score_seconds")
                                       if any(k in p for p in phases)}
        self.results["speed"].append(row)
        memory_run = row.pop("memory_run", None)  # bookkeeping, not a result: never in the JSON
        if memory_run and not row["error"]:
            # one more training, untimed, with the memory sampler on (measure_training times its runs without it)
            kind, table, test_size = memory_run
            try:
                _, _, _, mem = galaxy_train(self.gx, f"bench_{kind}", table, kind, test_size, self.cfg["timeout_s"])
                if mem:
                    row["galaxy_memory"].append(mem)
            except Exception as e:  # noqa: BLE001 - the report says what failed
                log(f"galaxy {kind}: the memory run failed: {first_line(e)}")
        if row["galaxy_memory"]:
            mem = max(row["galaxy_memory"], key=lambda m: m["private_peak"])
            matrix = row["rows"] * row["features"] * 8
            self.results["memory"].append({
                "algorithm": row["algorithm"], "row": row["id"], "rows": row["rows"], "features": row["features"],
                "matrix_bytes": matrix, "vmhwm_bytes": mem["vmhwm"], "shmem_bytes": mem["shmem"],
                "private_peak_bytes": mem["private_peak"], "baseline_bytes": mem["baseline_private"],
                "hwm_private_bytes": mem.get("hwm_private"), "sampled_private_bytes": mem.get("sampled_private"),
                "ratio": ratio(mem["private_peak"] - mem["baseline_private"], matrix),
                # gradient boosting loads bin codes (issue #18): half the float64 matrix + 64 MB
                "target_bytes": (0.5 if row["id"] == "gbdt" else 1.5) * matrix + 64 * 1048576,
                "target_label": ("0.5" if row["id"] == "gbdt" else "1.5") + " × matrix + 64 MB"})

    def run_rf(self):
        """Random forest, 100 trees, on the 200k-row table (quick: smaller)."""
        n, reps = self.cfg["rf_rows"], self.cfg["reps"]
        t = self.table_for_rows(n)
        row = self.new_row("rf", n)
        for rep in range(reps):
            log(f"rep {rep + 1}/{reps}: random forest on {n:,} rows")
            fsecs, arr = timed(fetch_table, self.conn, t, data.CLF_FEATURES + ["y"])
            self.measure_training(row, "rf", t, arr[:, :-1], arr[:, -1], fsecs, rep)
        self.finish_row(row)

    def run_grid_search(self):
        """A 24-point grid of gradient boosting with 3-fold CV: galaxy.submit(search => 'grid') until galaxy.wait
        returns, against scikit-learn's GridSearchCV(XGBClassifier, n_jobs=2) fit on the same training rows."""
        import xgboost
        from sklearn.model_selection import GridSearchCV, StratifiedKFold
        n, reps = self.cfg["grid_rows"], self.cfg["reps"]
        t = self.table_for_rows(n)
        points = int(np.prod([len(v) for v in GRID_SPACE.values()]))
        row = {"id": "grid_search", "grid": True, "algorithm": "gradient_boosting", "rows": n, "features": 20,
               "points": points, "folds": GRID_FOLDS, "space": GRID_SPACE, "galaxy_s": [], "peer_fit_s": [],
               "implemented": self.gx.can_train() and self.gx.has_algorithm("gradient_boosting"), "error": None,
               "max_workers": q1(self.conn, "SELECT current_setting('galaxy.max_workers', true)")}
        space = json.dumps(GRID_SPACE)
        for rep in range(reps):
            log(f"rep {rep + 1}/{reps}: {points}-point grid search, {GRID_FOLDS} folds, on {n:,} rows")
            for side in (("galaxy", "peer") if rep % 2 == 0 else ("peer", "galaxy")):
                if side == "galaxy" and row["implemented"] and not row["error"]:
                    try:
                        c = connect()
                        c.autocommit = True
                        t0 = time.perf_counter()
                        job = q1(c, "SELECT galaxy.submit('bench_grid', %s::regclass, 'y', algorithm => 'gradient_boosting', "
                                    f"features => %s::text[], folds => {GRID_FOLDS}, search => 'grid', "
                                    "search_space => %s::jsonb, deploy => 'never', seed => 0)",
                                 (t, list(data.CLF_FEATURES), space))
                        state = q1(c, "SELECT state FROM galaxy.wait(%s, %s::interval)",
                                   (job, f"{int(self.cfg['timeout_s'])} s"))
                        secs = time.perf_counter() - t0
                        if state != "succeeded":
                            raise RuntimeError(f"job {job} {state}: " + str(q1(c, "SELECT error_message FROM galaxy.jobs "
                                                                              "WHERE id = %s", (job,))))
                        row["galaxy_s"].append(secs)
                        best = q1(c, "SELECT jsonb_build_object('params', s.best_hyperparams, 'cv', s.best_score, "
                                     "'failed', s.trials_failed, 'test', (m.metrics->>'accuracy')::float8) "
                                     "FROM galaxy.searches s JOIN galaxy.models m ON m.id = s.model_id WHERE s.job_id = %s",
                                  (job,))
                        row["galaxy_best"] = best["params"]
                        row["galaxy_quality"] = {"cv_accuracy": best["cv"], "accuracy": best["test"],
                                                 "trials_failed": best["failed"]}
                        c.close()
                    except Exception as e:  # noqa: BLE001 - the report says what failed
                        row["error"] = first_line(e)
                        log(f"galaxy grid search failed: {row['error']}")
                elif side == "peer":
                    arr = fetch_table(self.conn, t, data.CLF_FEATURES + ["y"])
                    X_train, X_test, y_train, y_test = split(arr[:, :-1], arr[:, -1], True)
                    est = xgboost.XGBClassifier(tree_method="hist", max_bin=256, n_jobs=1, random_state=0)
                    gs = GridSearchCV(est, GRID_SPACE, scoring="accuracy", n_jobs=2, refit=True,
                                      cv=StratifiedKFold(GRID_FOLDS, shuffle=True, random_state=0))
                    secs, _ = timed(gs.fit, X_train, y_train)
                    row["peer_fit_s"].append(secs)
                    row["peer_best"] = {k: (float(v) if isinstance(v, float) else int(v)) for k, v in gs.best_params_.items()}
                    row["peer_quality"] = {"cv_accuracy": float(gs.best_score_),
                                           "accuracy": float((gs.best_estimator_.predict(X_test) == y_test).mean())}
        row["galaxy_median_s"] = median(row["galaxy_s"])
        row["peer_fit_median_s"] = median(row["peer_fit_s"])
        row["ratio"] = ratio(row["galaxy_median_s"], row["peer_fit_median_s"])
        gb, pb = row.get("galaxy_best") or {}, row.get("peer_best") or {}
        row["same_best"] = bool(gb) and all(float(gb.get(k, "nan")) == float(v) for k, v in pb.items())
        self.results["speed"].append(row)

    def run_linreg_10m(self):
        """Linear regression on the large regression table: all rows (test_size 0) on both sides."""
        n, reps = self.cfg["reg_rows"], self.cfg["reps"]
        row = self.new_row("linreg_10m", n, features=10)
        row["note"] = "both sides fit on all rows (test_size 0); the peer fits an in-memory array (fetch not measured)"
        X, y = data.reg_numpy(n)
        for rep in range(reps):
            log(f"rep {rep + 1}/{reps}: linear regression on {n:,} x 10")
            self.measure_training(row, "linreg_10m", self.table("reg"), X, y, None, rep, test_size=0.0,
                                  use_split=False)
        del X, y
        self.finish_row(row)

    # -- neural networks (issue #12) --
    def run_neural(self, kind):
        """A neural-network row: galaxy's neural_network against PyTorch (CPU; the timed peer) and scikit-learn's
        MLP (timed once), same architecture, Adam, batch size and number of epochs, no early stopping.  The
        number compared is the time per epoch: galaxy's fit_seconds / epochs_trained against the mean epoch of
        PyTorch's training loop; held-out accuracy and galaxy's training memory are reported next to it.
        cnn_fmnist: galaxy's cnn against the same convolutional network in PyTorch (no scikit-learn peer)."""
        spec, reps = NEURAL_ROWS[kind], self.cfg["reps"]
        is_cnn = bool(spec.get("cnn"))
        if kind == "mlp":
            n, epochs = self.cfg["clf_rows"], self.cfg["mlp_epochs"]
            table, target, test_size, n_classes, features = self.table("clf"), "y", 0.2, 2, 20
            X, y = self.arrays["clf"]
            log(f"mlp: psycopg2 fetch of {n:,} rows (the torch side's end to end)")
            fetch_s, arr = timed(fetch_table, self.conn, table, data.CLF_FEATURES + ["y"])
            del arr  # the same values as X, y: the peer fits those
            Xtr, Xte, ytr, yte = split(X, y, True)
            galaxy_rows, train_rows, test_rows = n, len(ytr), len(yte)
        else:
            Xtr, ytr, Xte, yte = self.arrays["fmnist"]
            n, epochs = len(ytr), self.cfg["cnn_epochs" if is_cnn else "fmnist_epochs"]
            table, target, test_size, n_classes, features = self.table("fmnist"), "label", 0.0, 10, data.FMNIST_PIXELS
            Xtr, Xte = Xtr.astype(np.float32), Xte.astype(np.float32)
            fetch_s, galaxy_rows, train_rows, test_rows = None, n, n, len(yte)
        if is_cnn:
            batch, reps = self.cfg["cnn_batch"], self.cfg["cnn_reps"]
            cnn_args = (spec["input_shape"], spec["filters"], spec["kernel"], spec["pool"], spec["dense"])
            hp = neural.cnn_hyperparams(*cnn_args, epochs, batch, spec["learning_rate"], spec["weight_decay"])
            params = neural.cnn_parameters(*cnn_args, n_classes)
            arch = neural.cnn_architecture(*cnn_args, n_classes)
        else:
            batch = self.cfg["mlp_batch"]
            hp = neural.galaxy_hyperparams(spec["hidden"], epochs, batch, spec["learning_rate"], spec["weight_decay"])
            params = neural.n_parameters(features, spec["hidden"], n_classes)
            arch = [features] + spec["hidden"] + [n_classes]
        row = {"id": kind, "neural": True, "algorithm": GALAXY_ALGO[kind], "rows": n, "features": features,
               "train_rows": train_rows, "test_rows": test_rows, "galaxy_rows_loaded": galaxy_rows,
               "architecture": arch, "parameters": params, "epochs": epochs,
               "batch_size": batch, "hyperparams": hp, "test_size": test_size, "threads": NCPU,
               "implemented": self.gx.can_train() and self.gx.has_algorithm(GALAXY_ALGO[kind]), "error": None,
               "galaxy_s": [], "galaxy_fit_s": [], "galaxy_epochs_trained": [], "galaxy_epoch_s": [],
               "galaxy_curve_epoch_s": [], "galaxy_eval_s": [], "galaxy_quality": {}, "galaxy_memory": [],
               "torch_fit_s": [], "torch_epoch_s": [], "torch_e2e_s": [], "torch_quality": {},
               "sklearn_epoch_s": [], "sklearn_quality": {}, "fetch_s": fetch_s, "torch": neural.torch_version()}
        if not row["implemented"]:
            row["error_detail"] = f"galaxy.algorithms has no {GALAXY_ALGO[kind]}"
        if is_cnn:
            row["note"] = ("no scikit-learn peer (it has no convolutional network); one run per side, as issue #13 "
                           "asks; target ≤ 1.5 × PyTorch per epoch")
        for rep in range(reps):
            order = ("galaxy", "torch") if rep % 2 == 0 else ("torch", "galaxy")
            for side in order:
                log(f"rep {rep + 1}/{reps}: {kind} {side}, {epochs} epoch(s) on {train_rows:,} rows")
                if side == "galaxy":
                    self.neural_galaxy(row, kind, table, target, test_size, hp)
                else:
                    self.neural_torch(row, Xtr, ytr, Xte, yte, n_classes, spec, epochs, batch)
            if rep == 0 and not is_cnn:
                log(f"{kind}: scikit-learn MLPClassifier, {epochs} epoch(s) (once)")
                t0 = time.perf_counter()
                A, B = neural.scale(Xtr, Xte)
                m, fit_s, iters = neural.sklearn_fit(A, ytr, True, spec["hidden"], epochs, batch,
                                                     learning_rate=spec["learning_rate"],
                                                     weight_decay=spec["weight_decay"])
                row["sklearn_epoch_s"].append(fit_s / max(iters, 1))
                row["sklearn_quality"] = {"accuracy": float(np.mean(m.predict(B) == yte))}
                row["sklearn_e2e_s"] = time.perf_counter() - t0
                del A, B, m
        self.finish_neural(row)

    def neural_galaxy(self, row, kind, table, target, test_size, hp):
        """One galaxy.train() of a neural row (and, on Fashion-MNIST, galaxy.evaluate on the test table)."""
        if not row["implemented"] or row["error"]:
            return
        try:
            secs, metrics, model_id, mem = galaxy_train(self.gx, f"bench_{kind}", table, kind, test_size,
                                                        self.cfg["timeout_s"], hyperparams=hp, target_col=target)
            row["galaxy_s"].append(secs)
            row["galaxy_metrics"] = {k: v for k, v in metrics.items() if k != "confusion_matrix"}
            details = metrics.get("details") if isinstance(metrics.get("details"), dict) else {}
            fit_s = metrics.get("fit_seconds", details.get("fit_seconds"))
            epochs = metrics.get("epochs_trained", details.get("epochs_trained"))
            row["galaxy_fit_s"].append(fit_s)
            row["galaxy_epochs_trained"].append(epochs)
            if isinstance(fit_s, (int, float)) and isinstance(epochs, (int, float)) and epochs > 0:
                row["galaxy_epoch_s"].append(fit_s / epochs)
            else:
                row["galaxy_metric_problem"] = (f"models.metrics has fit_seconds = {fit_s!r}, epochs_trained = "
                                                f"{epochs!r}: no time per epoch")
                log(f"galaxy {kind}: {row['galaxy_metric_problem']}")
            if mem:
                row["galaxy_memory"].append(mem)
            row["model_id"] = model_id
            curve = self.galaxy_curve(model_id)
            if curve is not None:
                row["galaxy_curve"] = curve
                secs_list = [v for v in curve.get("seconds") or [] if isinstance(v, (int, float))]
                if secs_list:
                    row["galaxy_curve_epoch_s"].append(float(np.median(secs_list)))
            if kind == "mlp":
                row["galaxy_quality"] = pick_quality(metrics, "logreg")
            else:
                t0 = time.perf_counter()
                ev = q1(self.conn, "SELECT galaxy.evaluate(%s::bigint, %s::regclass)::text",
                        (model_id, self.table("fmnist_test")))
                row["galaxy_eval_s"].append(time.perf_counter() - t0)
                ev = json.loads(ev)
                row["galaxy_quality"] = {k: float(ev[k]) for k in ("accuracy",) if isinstance(ev.get(k), (int, float))}
                row["galaxy_train_quality"] = pick_quality(metrics, "logreg")
        except Exception as e:  # noqa: BLE001 - the report says what failed
            row["error"] = first_line(e)
            log(f"galaxy {kind} failed: {row['error']}")

    def galaxy_curve(self, model_id):
        """The training_curve of galaxy.describe(model) ({"loss": [...], "val_loss": [...], "seconds": [...]})."""
        try:
            d = q1(self.conn, "SELECT galaxy.describe(model)::text FROM galaxy.models WHERE id = %s", (model_id,))
        except Exception as e:  # noqa: BLE001
            log(f"galaxy.describe failed: {first_line(e)}")
            return None
        d = json.loads(d) if d else {}
        curve = d.get("training_curve")
        if curve is None:
            for v in d.values():
                if isinstance(v, dict) and "training_curve" in v:
                    curve = v["training_curve"]
        return curve if isinstance(curve, dict) else None

    def neural_torch(self, row, Xtr, ytr, Xte, yte, n_classes, spec, epochs, batch):
        """One PyTorch training of a neural row: scale, fit (timed per epoch), predict the test rows."""
        t0 = time.perf_counter()
        A, B = neural.scale(Xtr, Xte)
        build = None
        if spec.get("cnn"):
            # galaxy scales every pixel like any feature, then sees each row as [C, H, W]
            A, B = (np.ascontiguousarray(a.reshape([len(a)] + spec["input_shape"])) for a in (A, B))

            def build():
                return neural.build_torch_cnn(spec["input_shape"], spec["filters"], spec["kernel"], spec["pool"],
                                              spec["dense"], n_classes)
        model, secs = neural.torch_fit(A, ytr, spec.get("hidden"), n_classes, epochs, batch,
                                       learning_rate=spec["learning_rate"], weight_decay=spec["weight_decay"],
                                       seed=0, threads=NCPU, build=build)
        # a convolutional network's activations are ~100x its input: predict in chunks of 1,000 images
        proba = neural.torch_proba(model, B, chunk=1000 if spec.get("cnn") else 65536)
        e2e = time.perf_counter() - t0
        row["torch_fit_s"].append(sum(secs))
        row["torch_epoch_s"].append(sum(secs) / len(secs))
        row.setdefault("torch_epoch_seconds", []).append(secs)
        row["torch_e2e_s"].append(e2e + (row["fetch_s"] or 0.0))
        q = {"accuracy": float(np.mean(proba.argmax(1) == yte))}
        if n_classes == 2:
            from sklearn.metrics import roc_auc_score
            q["roc_auc"] = float(roc_auc_score(yte, proba[:, 1]))
        row["torch_quality"] = q

    def finish_neural(self, row):
        """Medians, ratios and the memory budget of a neural row."""
        for k in ("galaxy_s", "galaxy_fit_s", "galaxy_epoch_s", "galaxy_curve_epoch_s", "galaxy_eval_s",
                  "torch_fit_s", "torch_epoch_s", "torch_e2e_s", "sklearn_epoch_s"):
            row[k[:-2] + "_median_s"] = median([v for v in row[k] if isinstance(v, (int, float))])
        row["ratio_epoch"] = ratio(row["galaxy_epoch_median_s"], row["torch_epoch_median_s"])
        row["ratio_epoch_sklearn"] = ratio(row["galaxy_epoch_median_s"], row["sklearn_epoch_median_s"])
        g = row["galaxy_median_s"]
        if g is not None and row["galaxy_eval_median_s"] is not None:
            g += row["galaxy_eval_median_s"]
        row["galaxy_e2e_median_s"] = g
        row["ratio_e2e"] = ratio(g, row["torch_e2e_median_s"])
        ga, ta = row["galaxy_quality"].get("accuracy"), row["torch_quality"].get("accuracy")
        row["accuracy_diff"] = None if ga is None or ta is None else ga - ta
        self.results["speed"].append(row)
        if row["galaxy_memory"]:
            mem = max(row["galaxy_memory"], key=lambda m: m["private_peak"])
            matrix = row["galaxy_rows_loaded"] * row["features"] * 4
            budget = neural.memory_budget(row["galaxy_rows_loaded"], row["features"], row["parameters"])
            used = mem["private_peak"] - mem["baseline_private"]
            self.results["memory"].append({
                "neural": True, "algorithm": row["algorithm"], "row": row["id"], "rows": row["galaxy_rows_loaded"],
                "features": row["features"], "parameters": row["parameters"], "matrix_bytes": matrix,
                "matrix_dtype": "float32", "vmhwm_bytes": mem["vmhwm"], "shmem_bytes": mem["shmem"],
                "private_peak_bytes": mem["private_peak"], "baseline_bytes": mem["baseline_private"],
                "hwm_private_bytes": mem.get("hwm_private"), "sampled_private_bytes": mem.get("sampled_private"),
                "used_bytes": used, "target_bytes": budget, "ratio": ratio(used, matrix),
                "ratio_budget": ratio(used, budget)})

    # -- sequence forecasting (issue #13's sequence task) --
    def setup_forecast(self):
        """R's series (Rscript, Debian's r-base-core) as the table forecast_series (step, time, value), then the
        windows, split in time: forecast_train (the first windows) and forecast_test (the last
        forecast_test_fraction of them), both (history real[W], next_value float8).  On failure the rows say why."""
        name, w, frac = self.cfg["forecast_series"], self.cfg["forecast_window"], self.cfg["forecast_test_fraction"]
        try:
            t, v = data.r_series(name)
        except Exception as e:  # noqa: BLE001 - the rows report it
            self.forecast_error = f"series {name}: {first_line(e)}"
            log(self.forecast_error)
            return
        self.forecast_error = None
        series, train, test = (self.table(x) for x in ("forecast_series", "forecast_train", "forecast_test"))
        tag = f"galaxy bench data v1: R {name} n={len(v)} sum={float(np.sum(v)):.6f}"
        if not self.fresh(series, tag):
            log(f"COPY R's {name} ({len(v):,} values) into {series}")
            data.load_series_table(self.conn, series, t, v)
            self.mark(series, tag)
        wtag = f"{tag} window={w} test_fraction={frac}"
        if not (self.fresh(train, wtag) and self.fresh(test, wtag)):
            log(f"windows of {w} values → the next one, the last {frac:.0%} for test: {train}, {test}")
            for sql in data.window_tables_sql(series, train, test, w, frac):
                execute(self.conn, sql)
            self.mark(train, wtag)
            self.mark(test, wtag)
        n_train = q1(self.conn, f"SELECT count(*) FROM {train}")
        n_test = q1(self.conn, f"SELECT count(*) FROM {test}")
        self.forecast_info = {
            "series": name, "source": data.R_SERIES[name][1], "values": len(v),
            "first": float(t[0]), "last": float(t[-1]), "window": w, "test_fraction": frac,
            "train_rows": int(n_train), "test_rows": int(n_test),
            # the first test target is value number len(v) - n_test + 1 (1-based)
            "test_from": float(t[len(v) - int(n_test)])}
        self.results["meta"]["forecast_series"] = self.forecast_info

    def forecast_arrays(self):
        """The training and test windows as the peer fetches them (psycopg2 + NumPy): X float32 [n, W], y float64."""
        out = []
        for name in ("forecast_train", "forecast_test"):
            with self.conn.cursor() as cur:
                cur.execute(f"SELECT history, next_value FROM {self.table(name)}")
                rows = cur.fetchall()
            out.append(np.array([r[0] for r in rows], dtype=np.float32))
            out.append(np.array([r[1] for r in rows], dtype=np.float64))
        return out

    def run_forecast(self, kind):
        """A sequence row: galaxy's lstm or transformer against the same network in PyTorch (CPU, 2 threads), same
        Adam, learning rate, batch size and epochs, MSE on the standardised target, every window value
        standard-scaled per position on the training windows; galaxy trains on forecast_train (test_size 0) and is
        scored with galaxy.evaluate on forecast_test, PyTorch on the same rows fetched with psycopg2.  Compared: the
        time per epoch (galaxy's fit_seconds / epochs_trained against the mean epoch of PyTorch's loop; target
        ≤ 1.5 ×) and the test RMSE; repetitions alternate which side goes first."""
        spec, reps = FORECAST_ROWS[kind], self.cfg["forecast_reps"]
        epochs, batch, w = self.cfg["forecast_epochs"], self.cfg["forecast_batch"], self.cfg["forecast_window"]
        algo = spec["algorithm"]
        if algo == "lstm":
            hp = neural.lstm_forecast_hyperparams(w, 1, spec["lstm_units"], epochs, batch, spec["learning_rate"])
            params = neural.lstm_parameters(1, spec["lstm_units"])
            arch = f"[{w}, 1] → " + " → ".join(f"LSTM {h}" for h in spec["lstm_units"]) + " (last step) → 1"

            def build():
                return neural.build_torch_lstm(1, spec["lstm_units"])
        else:
            hp = neural.transformer_forecast_hyperparams(w, 1, spec["d_model"], spec["heads"], spec["layers"],
                                                         spec["ff_units"], epochs, batch, spec["learning_rate"],
                                                         activation=spec["activation"])
            params = neural.transformer_parameters(1, spec["d_model"], spec["layers"], spec["ff_units"])
            arch = (f"[{w}, 1] → dense {spec['d_model']} per step + sinusoidal PE → {spec['layers']} × pre-norm block "
                    f"({spec['heads']} heads, ff {spec['ff_units']}, {spec['activation']}) → layer norm → mean over steps → 1")

            def build():
                return neural.build_torch_transformer(w, 1, spec["d_model"], spec["heads"], spec["layers"],
                                                      spec["ff_units"], activation=spec["activation"])
        info = getattr(self, "forecast_info", None) or {}
        row = {"id": kind, "forecast": True, "algorithm": algo, "series": info, "window": w,
               "rows": info.get("train_rows") or 0, "train_rows": info.get("train_rows"), "test_rows": info.get("test_rows"), "features": w,
               "architecture": arch, "parameters": params, "epochs": epochs, "batch_size": batch,
               "learning_rate": spec["learning_rate"], "hyperparams": hp, "test_size": 0.0, "threads": NCPU,
               "implemented": self.gx.can_train() and self.gx.has_algorithm(algo),
               "error": getattr(self, "forecast_error", None), "torch": neural.torch_version(),
               "galaxy_s": [], "galaxy_fit_s": [], "galaxy_epochs_trained": [], "galaxy_epoch_s": [],
               "galaxy_eval_s": [], "galaxy_quality": {}, "galaxy_memory": [], "galaxy_quality_runs": [],
               "torch_fit_s": [], "torch_epoch_s": [], "torch_e2e_s": [], "torch_quality": {},
               "torch_quality_runs": [], "loadavg": []}
        if not row["implemented"]:
            row["error_detail"] = f"galaxy.algorithms has no {algo}"
        if row["error"] is None:
            try:
                import torch
                torch.set_num_threads(NCPU)
                torch.manual_seed(0)
                row["torch_parameters"] = neural.trainable_parameters(build())
            except Exception as e:  # noqa: BLE001
                row["error"] = f"PyTorch: {first_line(e)}"
        if row.get("torch_parameters") is not None and row["torch_parameters"] != params:
            row["error"] = (f"PyTorch's network has {row['torch_parameters']:,} trainable parameters, galaxy's "
                            f"{params:,}: not the same architecture")
            log(f"{kind}: {row['error']}")
        if row["error"] is None:
            fetch_s, (Xtr, ytr, Xte, yte) = timed(self.forecast_arrays)
            row["fetch_s"] = fetch_s
            # the naive forecast (the last value of each test window) as a floor for both RMSEs
            row["naive_quality"] = regression_quality(yte, Xte[:, -1].astype(np.float64))
            for rep in range(reps):
                order = ("galaxy", "torch") if rep % 2 == 0 else ("torch", "galaxy")
                for side in order:
                    if row["error"]:
                        break
                    log(f"rep {rep + 1}/{reps}: {kind} {side}, {epochs} epoch(s) × batch {batch} on "
                        f"{len(ytr):,} windows of {w}")
                    row["loadavg"].append(os.getloadavg()[0])
                    if side == "galaxy":
                        self.forecast_galaxy(row, kind, hp)
                    else:
                        self.forecast_torch(row, build, Xtr, ytr, Xte, yte, spec, epochs, batch, fetch_s)
        self.finish_forecast(row)

    def nlp_token_ids(self):
        """The fortunes split as PyTorch's inputs: the token ids galaxy's "sequence" mode gives (its lexemes from
        galaxy.tokenize, the vocabulary rebuilt on the training texts: bench/neural.py) and the class indexes."""
        out = []
        for name in ("text_train", "text_test"):
            with self.conn.cursor() as cur:
                cur.execute(f"SELECT category, galaxy.tokenize(body, %s) FROM {self.table(name)} ORDER BY id",
                            (TEXT_CONFIG,))
                out.append(cur.fetchall())
        (train, test), L, V = out, self.cfg["nlp_length"], self.cfg["nlp_vocab"]
        Xtr, Xte, n_tokens = neural.sequence_token_ids([t or [] for _, t in train], [t or [] for _, t in test], L, V)
        classes = sorted({c for c, _ in train})
        index = {c: i for i, c in enumerate(classes)}
        ytr = np.array([index[c] for c, _ in train], dtype=np.int64)
        yte = np.array([index.get(c, -1) for c, _ in test], dtype=np.int64)
        return Xtr, ytr, Xte, yte, n_tokens, len(classes)

    def run_nlp(self, kind):
        """A text row of issue #13: galaxy's lstm or transformer with task 'nlp' on the fortunes (end to end from
        text_train: tokenise, vocabulary, fit; accuracy by galaxy.evaluate on text_test) against the same network in
        PyTorch (CPU, 2 threads) on the same token ids, same Adam, learning rate, batch size and epochs.  Compared:
        the time per epoch (galaxy's fit_seconds / epochs against PyTorch's mean epoch; target ≤ 1.5 ×) and the
        test accuracy (target: within 0.01); scikit-learn's TF-IDF + LogisticRegression on the same split (the
        text_logreg row) is the reference."""
        spec, reps = NLP_ROWS[kind], self.cfg["nlp_reps"]
        epochs, batch, L = self.cfg["nlp_epochs"], self.cfg["nlp_batch"], self.cfg["nlp_length"]
        algo = spec["algorithm"]
        row = {"id": kind, "nlp": True, "algorithm": algo, "max_length": L, "epochs": epochs, "batch_size": batch,
               "learning_rate": spec["learning_rate"], "threads": NCPU, "torch": neural.torch_version(),
               "implemented": self.gx.can_train() and self.gx.has_algorithm(algo), "error": None,
               "galaxy_s": [], "galaxy_fit_s": [], "galaxy_epoch_s": [], "galaxy_quality_runs": [],
               "torch_fit_s": [], "torch_epoch_s": [], "torch_quality_runs": [], "loadavg": []}
        try:
            Xtr, ytr, Xte, yte, n_tokens, k = self.nlp_token_ids()
        except Exception as e:  # noqa: BLE001 - the report says what failed
            row["error"] = f"token ids: {first_line(e)}"
            log(f"{kind}: {row['error']}")
            self.finish_nlp(row)
            return
        row.update(rows=len(ytr), test_rows=len(yte), categories=k, vocabulary=n_tokens - 2)
        preprocess = {"columns": {"body": {"text": "sequence", "config": TEXT_CONFIG, "max_length": L,
                                           "max_features": self.cfg["nlp_vocab"]}}}
        common_hp = {"optimizer": "adam", "learning_rate": spec["learning_rate"], "batch_size": batch,
                     "epochs": epochs, "early_stopping_rounds": 0, "validation_fraction": 0, "weight_decay": 0,
                     "dense_units": []}
        if algo == "lstm":
            hp = dict(common_hp, lstm_units=spec["lstm_units"], embedding_dim=spec["embedding_dim"], cell="lstm")
            params = neural.lstm_token_parameters(n_tokens, spec["embedding_dim"], spec["lstm_units"], k)
            row["architecture"] = (f"[{L}] ids → embedding {spec['embedding_dim']} → "
                                   + " → ".join(f"LSTM {h}" for h in spec["lstm_units"]) + f" (last step) → {k}")

            def build():
                return neural.build_torch_lstm_tokens(n_tokens, spec["embedding_dim"], spec["lstm_units"], k)
        else:
            hp = dict(common_hp, d_model=spec["d_model"], heads=spec["heads"], layers=spec["layers"],
                      ff_units=spec["ff_units"], activation=spec["activation"], positional_encoding="sinusoidal",
                      dropout=0)
            params = neural.transformer_token_parameters(n_tokens, spec["d_model"], spec["layers"],
                                                         spec["ff_units"], k)
            row["architecture"] = (f"[{L}] ids → embedding {spec['d_model']} + sinusoidal PE → {spec['layers']} × "
                                   f"pre-norm block ({spec['heads']} heads, ff {spec['ff_units']}) → layer norm → "
                                   f"mean over steps → {k}")

            def build():
                return neural.build_torch_transformer_tokens(n_tokens, L, spec["d_model"], spec["heads"],
                                                             spec["layers"], spec["ff_units"], k,
                                                             activation=spec["activation"])
        row.update(parameters=params, hyperparams=hp, preprocess=preprocess)
        for rep in range(reps):
            for side in (("galaxy", "torch") if rep % 2 == 0 else ("torch", "galaxy")):
                if row["error"]:
                    break
                log(f"rep {rep + 1}/{reps}: {kind} {side}, {epochs} epoch(s) × batch {batch} on {len(ytr):,} texts")
                row["loadavg"].append(os.getloadavg()[0])
                if side == "galaxy":
                    if not row["implemented"]:
                        continue
                    try:
                        secs, metrics, model_id, _ = galaxy_train(
                            self.gx, f"bench_{kind}", self.table("text_train"), kind, 0, self.cfg["timeout_s"],
                            hyperparams=hp, target_col="category", features=["body"], preprocess=preprocess,
                            sample_memory=False)
                        details = metrics.get("details") if isinstance(metrics.get("details"), dict) else {}
                        fit_s = metrics.get("fit_seconds", details.get("fit_seconds"))
                        done = metrics.get("epochs_trained", details.get("epochs_trained")) or epochs
                        row["galaxy_s"].append(secs)
                        row["galaxy_fit_s"].append(fit_s)
                        if isinstance(fit_s, (int, float)):
                            row["galaxy_epoch_s"].append(fit_s / done)
                        d = json.loads(q1(self.conn, "SELECT galaxy.describe(model)::text FROM galaxy.models "
                                                     "WHERE id = %s", (model_id,)) or "{}")
                        row["galaxy_parameters"] = (d.get("architecture") or {}).get("parameters")
                        if row["galaxy_parameters"] != params:
                            row["error"] = (f"galaxy's model has {row['galaxy_parameters']} parameters, {params:,} "
                                            "expected (PyTorch's network has those): not the same architecture")
                            log(f"{kind}: {row['error']}")
                        ev = json.loads(q1(self.conn, "SELECT galaxy.evaluate(%s::bigint, %s::regclass)::text",
                                           (model_id, self.table("text_test"))))
                        row["galaxy_quality_runs"].append({"accuracy": float(ev["accuracy"])})
                    except Exception as e:  # noqa: BLE001 - the report says what failed
                        row["error"] = first_line(e)
                        log(f"galaxy {kind} failed: {row['error']}")
                else:
                    try:
                        import torch
                        torch.set_num_threads(NCPU)
                        torch.manual_seed(0)
                        row["torch_parameters"] = neural.trainable_parameters(build())
                        model, secs = neural.torch_fit(Xtr, ytr, None, k, epochs, batch,
                                                       learning_rate=spec["learning_rate"], weight_decay=0.0,
                                                       seed=0, threads=NCPU, build=build)
                        pred = neural.torch_predict(model, Xte, chunk=4096)
                        row["torch_fit_s"].append(sum(secs))
                        row["torch_epoch_s"].append(sum(secs) / len(secs))
                        row["torch_quality_runs"].append({"accuracy": float((pred == yte).mean())})
                    except Exception as e:  # noqa: BLE001
                        row["error"] = f"PyTorch: {first_line(e)}"
                        log(f"{kind}: {row['error']}")
        self.finish_nlp(row)

    def finish_nlp(self, row):
        """Medians and ratios of a text row of issue #13."""
        for k in ("galaxy_s", "galaxy_fit_s", "galaxy_epoch_s", "torch_fit_s", "torch_epoch_s"):
            row[k[:-2] + "_median_s"] = median([v for v in row.get(k, []) if isinstance(v, (int, float))])
        row["ratio_epoch"] = ratio(row["galaxy_epoch_median_s"], row["torch_epoch_median_s"])
        for side in ("galaxy", "torch"):
            runs = row.get(f"{side}_quality_runs") or []
            row[f"{side}_quality"] = {"accuracy": median([r["accuracy"] for r in runs])} if runs else {}
        g, t = row["galaxy_quality"].get("accuracy"), row["torch_quality"].get("accuracy")
        row["accuracy_gap"] = None if g is None or t is None else g - t
        ref = next((r for r in self.results["speed"] if r.get("id") == "text_logreg"), None)
        if ref:
            row["reference_accuracy"] = (ref.get("peer_quality") or {}).get("accuracy")
        self.results["speed"].append(row)

    def forecast_galaxy(self, row, kind, hp):
        """One galaxy.train() on forecast_train (test_size 0), then galaxy.evaluate on forecast_test."""
        if not row["implemented"] or row["error"]:
            return
        try:
            secs, metrics, model_id, mem = galaxy_train(self.gx, f"bench_{kind}", self.table("forecast_train"), kind,
                                                        0.0, self.cfg["timeout_s"], hyperparams=hp,
                                                        target_col="next_value")
            if metrics.get("r2") is None and (metrics.get("details") or {}).get("r2") is None:
                raise RuntimeError(f"galaxy did not train a regression model (metrics: {sorted(metrics)})")
            row["galaxy_s"].append(secs)
            row["galaxy_metrics"] = {k: v for k, v in metrics.items() if k != "confusion_matrix"}
            details = metrics.get("details") if isinstance(metrics.get("details"), dict) else {}
            fit_s = metrics.get("fit_seconds", details.get("fit_seconds"))
            epochs = metrics.get("epochs_trained", details.get("epochs_trained"))
            row["galaxy_fit_s"].append(fit_s)
            row["galaxy_epochs_trained"].append(epochs)
            if isinstance(fit_s, (int, float)) and isinstance(epochs, (int, float)) and epochs > 0:
                row["galaxy_epoch_s"].append(fit_s / epochs)
            if mem:
                row["galaxy_memory"].append(mem)
            row["model_id"] = model_id
            d = json.loads(q1(self.conn, "SELECT galaxy.describe(model)::text FROM galaxy.models WHERE id = %s",
                              (model_id,)) or "{}")
            a = d.get("architecture") or {}
            row["galaxy_parameters"] = a.get("parameters")
            row["galaxy_layers"] = [l.get("type") for l in a.get("layers") or []]
            row["galaxy_curve_loss"] = (d.get("training_curve") or {}).get("loss")
            if row["galaxy_parameters"] != row["parameters"]:
                row["error"] = (f"galaxy's model has {row['galaxy_parameters']} parameters, {row['parameters']:,} "
                                "expected (PyTorch's network has those): not the same architecture")
                log(f"{kind}: {row['error']}")
            t0 = time.perf_counter()
            ev = json.loads(q1(self.conn, "SELECT galaxy.evaluate(%s::bigint, %s::regclass)::text",
                               (model_id, self.table("forecast_test"))))
            row["galaxy_eval_s"].append(time.perf_counter() - t0)
            q = {k: float(ev[k]) for k in ("rmse", "r2", "mae") if isinstance(ev.get(k), (int, float))}
            row["galaxy_quality_runs"].append(q)
            row["galaxy_quality"] = q
        except Exception as e:  # noqa: BLE001 - the report says what failed
            row["error"] = first_line(e)
            log(f"galaxy {kind} failed: {row['error']}")

    def forecast_torch(self, row, build, Xtr, ytr, Xte, yte, spec, epochs, batch, fetch_s):
        """One PyTorch training: scale per position and the target (training windows), fit (timed per epoch),
        predict the test windows, un-scale."""
        t0 = time.perf_counter()
        A, B = neural.scale(Xtr, Xte)
        A, B = (np.ascontiguousarray(a.reshape(len(a), -1, 1)) for a in (A, B))
        y_mean, y_scale = float(ytr.mean()), float(ytr.std()) or 1.0
        model, secs = neural.torch_fit(A, (ytr - y_mean) / y_scale, None, 1, epochs, batch,
                                       learning_rate=spec["learning_rate"], weight_decay=0.0, seed=0, threads=NCPU,
                                       build=build)
        pred = neural.torch_predict(model, B, chunk=4096).astype(np.float64) * y_scale + y_mean
        row["torch_e2e_s"].append(time.perf_counter() - t0 + fetch_s)
        row["torch_fit_s"].append(sum(secs))
        row["torch_epoch_s"].append(sum(secs) / len(secs))
        row.setdefault("torch_epoch_seconds", []).append(secs)
        q = regression_quality(yte, pred)
        row["torch_quality_runs"].append(q)
        row["torch_quality"] = q

    def finish_forecast(self, row):
        """Medians, ratios and the memory budget of a sequence row."""
        for k in ("galaxy_s", "galaxy_fit_s", "galaxy_epoch_s", "galaxy_eval_s", "torch_fit_s", "torch_epoch_s",
                  "torch_e2e_s"):
            row[k[:-2] + "_median_s"] = median([v for v in row[k] if isinstance(v, (int, float))])
        row["ratio_epoch"] = ratio(row["galaxy_epoch_median_s"], row["torch_epoch_median_s"])
        best = [min((v for v in row[k] if isinstance(v, (int, float))), default=None)
                for k in ("galaxy_epoch_s", "torch_epoch_s")]
        row["ratio_epoch_fastest"] = ratio(*best)
        g = row["galaxy_median_s"]
        row["galaxy_e2e_median_s"] = None if g is None or row["galaxy_eval_median_s"] is None else \
            g + row["galaxy_eval_median_s"]
        for side in ("galaxy", "torch"):
            runs = row[f"{side}_quality_runs"]
            if runs:
                # the median run's metrics (every run's are kept in *_quality_runs)
                row[f"{side}_quality"] = {k: median([r.get(k) for r in runs]) for k in runs[0]}
        gr, tr = row["galaxy_quality"].get("rmse"), row["torch_quality"].get("rmse")
        row["rmse_ratio"] = ratio(gr, tr)
        self.results["speed"].append(row)
        if row["galaxy_memory"]:
            mem = max(row["galaxy_memory"], key=lambda m: m["private_peak"])
            n, f = row["train_rows"], row["features"]
            budget = neural.memory_budget(n, f, row["parameters"])
            used = mem["private_peak"] - mem["baseline_private"]
            self.results["memory"].append({
                "neural": True, "forecast": True, "algorithm": row["algorithm"], "row": row["id"], "rows": n,
                "features": f, "parameters": row["parameters"], "matrix_bytes": n * f * 4, "matrix_dtype": "float32",
                "vmhwm_bytes": mem["vmhwm"], "shmem_bytes": mem["shmem"], "private_peak_bytes": mem["private_peak"],
                "baseline_bytes": mem["baseline_private"], "hwm_private_bytes": mem.get("hwm_private"),
                "sampled_private_bytes": mem.get("sampled_private"), "used_bytes": used, "target_bytes": budget,
                "ratio": ratio(used, n * f * 4), "ratio_budget": ratio(used, budget)})

    # -- model compression (issue #17) --
    def run_compress(self):
        """int8 (galaxy.compress) of an MLP and a logistic regression trained on Fashion-MNIST: stored size, median
        single-row predict latency (galaxy's own measurement at compression, the same rows for both models) and
        batch predict (galaxy.predict over the 10,000 test images in one statement, best of the repetitions,
        alternating which model goes first) of the compressed model against its parent, and the accuracy drop on
        the test images.  Targets (issue #17): size <= 0.3 x, the MLP's batch predict >= 1.5 x faster, accuracy
        drop <= 0.005."""
        test = self.table("fmnist_test")
        spec = NEURAL_ROWS["mlp_fmnist"]
        for kind, cm in COMPRESS_MODELS.items():
            row = {"id": f"compress_{kind}", "compress": True, "algorithm": cm["algorithm"], "method": "int8",
                   "rows": self.cfg["fmnist_rows"], "test_rows": 10_000, "error": None,
                   "implemented": self.gx.has_function("compress")}
            if kind == "mlp":
                hp = neural.galaxy_hyperparams(spec["hidden"], self.cfg["compress_epochs"], self.cfg["mlp_batch"],
                                               spec["learning_rate"], spec["weight_decay"])
                row["architecture"] = [data.FMNIST_PIXELS] + spec["hidden"] + [10]
            else:
                hp = cm["hyperparams"]
            row["hyperparams"] = hp
            if not row["implemented"]:
                row["error_detail"] = "galaxy.compress does not exist"
                self.results["speed"].append(row)
                continue
            try:
                log(f"compress: training {cm['algorithm']} on {self.cfg['fmnist_rows']:,} Fashion-MNIST images")
                parent = q1(self.conn, "SELECT id FROM galaxy.train(project => %s, relation => %s::regclass, "
                                       "target => 'label', algorithm => %s, hyperparams => %s::jsonb, test_size => 0, "
                                       "deploy => 'never', seed => 42, task => 'classification')",
                            (f"bench_compress_{kind}", self.table("fmnist"), cm["algorithm"], json.dumps(hp)))
                log(f"compress: int8 of model {parent}, measured on {test}")
                t0 = time.perf_counter()
                child = q1(self.conn, "SELECT id FROM galaxy.compress(%s, 'int8', jsonb_build_object("
                                      "'relation', %s::text, 'max_metric_drop', 0.005))", (parent, test))
                row["compress_s"] = time.perf_counter() - t0
                c = self.conn.cursor()
                c.execute("SELECT parent_size_bytes, size_bytes, parent_predict_p50_ms, predict_p50_ms, "
                          "parent_value, value, metric_drop, guard_passed FROM galaxy.model_compressions "
                          "WHERE model = %s", (child,))
                (row["parent_bytes"], row["bytes"], row["parent_p50_ms"], row["p50_ms"], row["parent_accuracy"],
                 row["accuracy"], row["accuracy_drop"], row["guard_passed"]) = c.fetchone()
                row["size_ratio"] = row["bytes"] / row["parent_bytes"]
                row["single_row_speedup"] = ratio(row["parent_p50_ms"], row["p50_ms"])
                sql = f"SELECT count(*) FILTER (WHERE galaxy.predict(%s::bigint, t) = label) FROM {test} t"
                times = {"parent": [], "int8": []}
                for rep in range(self.cfg["compress_reps"]):
                    order = (("parent", parent), ("int8", child))
                    for name, mid in (order if rep % 2 == 0 else order[::-1]):
                        secs, _ = timed(q1, self.conn, sql, (mid,))
                        times[name].append(secs)
                row["parent_batch_s"], row["batch_s"] = min(times["parent"]), min(times["int8"])
                row["batch_speedup"] = ratio(row["parent_batch_s"], row["batch_s"])
                row["models"] = [parent, child]
                log(f"compress {kind}: size {row['size_ratio']:.3f} x, single row {row['single_row_speedup']:.2f} x, "
                    f"batch {row['batch_speedup']:.2f} x faster, accuracy drop {row['accuracy_drop']:.4f}")
            except Exception as e:  # noqa: BLE001 - the report says what failed
                row["error"] = first_line(e)
                log(f"compress {kind} failed: {row['error']}")
            self.results["speed"].append(row)
            if kind == "mlp" and row.get("models"):
                self.run_compress_mlp_prune(row["models"][0], test)

    def run_compress_mlp_prune(self, parent, test):
        """prune of the Fashion-MNIST MLP to a sparsity of 0.8, without and with fine-tuning (as many epochs
        as the parent trained; the pruned weights held at zero), measured on the test images.  Target (issue
        #17): accuracy drop <= 0.01 after fine-tuning."""
        for kind, epochs in (("mlp_prune", 0), ("mlp_prune_ft", self.cfg["compress_epochs"])):
            row = {"id": f"compress_{kind}", "compress": True, "algorithm": "neural_network", "method": "prune",
                   "sparsity": 0.8, "fine_tune_epochs": epochs, "rows": self.cfg["fmnist_rows"],
                   "test_rows": 10_000, "error": None, "implemented": True}
            try:
                opts = {"sparsity": 0.8, "relation": test, "max_metric_drop": 0.01}
                if epochs:
                    opts["epochs"] = epochs
                t0 = time.perf_counter()
                child = q1(self.conn, "SELECT id FROM galaxy.compress(%s, 'prune', %s::jsonb)",
                           (parent, json.dumps(opts)))
                row["compress_s"] = time.perf_counter() - t0
                c = self.conn.cursor()
                c.execute("SELECT parent_size_bytes, size_bytes, parent_predict_p50_ms, predict_p50_ms, "
                          "parent_value, value, metric_drop, guard_passed FROM galaxy.model_compressions "
                          "WHERE model = %s", (child,))
                (row["parent_bytes"], row["bytes"], row["parent_p50_ms"], row["p50_ms"], row["parent_accuracy"],
                 row["accuracy"], row["accuracy_drop"], row["guard_passed"]) = c.fetchone()
                row["size_ratio"] = row["bytes"] / row["parent_bytes"]
                row["single_row_speedup"] = ratio(row["parent_p50_ms"], row["p50_ms"])
                row["models"] = [parent, child]
                log(f"compress {kind}: size {row['size_ratio']:.3f} x, accuracy {row['parent_accuracy']:.4f} -> "
                    f"{row['accuracy']:.4f} (drop {row['accuracy_drop']:.4f}), {row['compress_s']:.1f} s")
            except Exception as e:  # noqa: BLE001 - the report says what failed
                row["error"] = first_line(e)
                log(f"compress {kind} failed: {row['error']}")
            self.results["speed"].append(row)

    def run_compress_trees(self):
        """galaxy.compress on tree ensembles: prune a 500-tree gradient boosting model to 40 % of its trees, and
        distill the 100-tree benchmark model into its default student (8 trees), 10 trees and an MLP.  Both measured on the held-out rows (the
        relation galaxy.compress is given): AUC of parent and child, stored size, galaxy's single-row latency and
        batch predict over the training rows (best of at least 5 repetitions, alternating which model goes first),
        and the same scan without a model (the floor), so that the models' own predict time is the difference.
        The statements run serially (no parallel workers: each would parse the model again, a fixed cost that is not
        predict's per-row speed), timed twice: wall clock, and the backend's CPU time (/proc/PID/schedstat), which
        other work on a loaded machine does not inflate.
        Targets (issue #17): prune <= 40 % of the trees with AUC drop <= 0.003; distill >= 5 x faster predict
        with AUC drop <= 0.01."""
        n = self.cfg["compress_tree_rows"]
        src, train, test = self.table("clf"), self.table("compress_train"), self.table("compress_test")
        cols = ", ".join(data.CLF_FEATURES + ["y"])
        execute(self.conn, f"DROP TABLE IF EXISTS {train}, {test}")
        execute(self.conn, f"CREATE TABLE {train} AS SELECT {cols} FROM (SELECT * FROM {src} LIMIT {n}) s "
                           f"WHERE abs(hashfloat8(x1)) % 5 <> 0")
        execute(self.conn, f"CREATE TABLE {test} AS SELECT {cols} FROM (SELECT * FROM {src} LIMIT {n}) s "
                           f"WHERE abs(hashfloat8(x1)) % 5 = 0")
        teachers = {}
        for kind, spec in COMPRESS_TREES.items():
            row = {"id": f"compress_{kind}", "compress": True, "algorithm": "gradient_boosting",
                   "method": spec["method"], "rows": n, "teacher": spec["teacher"], "options": spec["options"],
                   "error": None, "implemented": self.gx.has_function("compress")}
            if not row["implemented"]:
                self.results["speed"].append(row)
                continue
            try:
                log(f"compress {kind}: training gradient_boosting {spec['teacher']} on {train}")
                parent = teachers.get(json.dumps(spec["teacher"])) or q1(self.conn, "SELECT id FROM galaxy.train(project => %s, relation => %s::regclass, "
                                       "target => 'y', algorithm => 'gradient_boosting', hyperparams => %s::jsonb, "
                                       "test_size => 0, deploy => 'never', seed => 42, task => 'classification')",
                            (f"bench_compress_{kind}", train, json.dumps(spec["teacher"])))
                teachers[json.dumps(spec["teacher"])] = parent
                opts = dict(spec["options"], relation=test)
                t0 = time.perf_counter()
                child = q1(self.conn, "SELECT id FROM galaxy.compress(%s, %s, %s::jsonb)",
                           (parent, spec["method"], json.dumps(opts)))
                row["compress_s"] = time.perf_counter() - t0
                c = self.conn.cursor()
                c.execute("SELECT c.parent_size_bytes, c.size_bytes, c.parent_predict_p50_ms, c.predict_p50_ms, "
                          "c.parent_value, c.value, c.metric_drop, c.metric_drop <= c.max_metric_drop, "
                          "(c.parent_metrics->>'roc_auc')::float8, (m.metrics->>'roc_auc')::float8, m.algorithm, "
                          "m.hyperparams FROM galaxy.compressions c JOIN galaxy.models m ON m.id = c.model_id "
                          "WHERE c.model_id = %s", (child,))
                (row["parent_bytes"], row["bytes"], row["parent_p50_ms"], row["p50_ms"], row["parent_accuracy"],
                 row["accuracy"], row["accuracy_drop"], row["guard_passed"], row["parent_auc"], row["auc"],
                 row["student"], row["student_hyperparams"]) = c.fetchone()
                row["auc_drop"] = row["parent_auc"] - row["auc"]
                row["size_ratio"] = row["bytes"] / row["parent_bytes"]
                row["single_row_speedup"] = ratio(row["parent_p50_ms"], row["p50_ms"])
                if spec["method"] == "prune":
                    row["trees_kept"] = 1.0 - spec["options"]["sparsity"]
                # batch predict over the training rows (4 x the held-out ones: a longer, steadier measurement),
                # serially, in wall clock and backend CPU time
                execute(self.conn, "SET max_parallel_workers_per_gather = 0")
                pid = q1(self.conn, "SELECT pg_backend_pid()")
                sql = f"SELECT count(*) FILTER (WHERE galaxy.predict(%s::bigint, t) = y) FROM {train} t"
                times = {"parent": [], "child": []}
                cpu = {"parent": [], "child": []}
                for rep in range(max(self.cfg["compress_reps"], 5)):
                    order = (("parent", parent), ("child", child))
                    for name, mid in (order if rep % 2 == 0 else order[::-1]):
                        secs, cpu_s = timed_cpu(pid, q1, self.conn, sql, (mid,))
                        times[name].append(secs)
                        cpu[name].append(cpu_s)
                row["parent_batch_s"], row["batch_s"] = min(times["parent"]), min(times["child"])
                row["batch_speedup"] = ratio(row["parent_batch_s"], row["batch_s"])
                # the same scan without the model (the floor): what is left is the models' own predict time
                floor = [timed_cpu(pid, q1, self.conn, f"SELECT count(*) FILTER (WHERE t.y = 1) FROM {train} t")
                         for _ in range(max(self.cfg["compress_reps"], 5))]
                execute(self.conn, "RESET max_parallel_workers_per_gather")
                row["floor_s"] = min(f[0] for f in floor)
                row["parent_predict_s"] = max(row["parent_batch_s"] - row["floor_s"], 1e-9)
                row["predict_s"] = max(row["batch_s"] - row["floor_s"], 1e-9)
                row["predict_speedup"] = ratio(row["parent_predict_s"], row["predict_s"])
                if all(c is not None for c in cpu["parent"] + cpu["child"] + [f[1] for f in floor]):
                    row["floor_cpu_s"] = min(f[1] for f in floor)
                    row["parent_predict_cpu_s"] = max(min(cpu["parent"]) - row["floor_cpu_s"], 1e-9)
                    row["predict_cpu_s"] = max(min(cpu["child"]) - row["floor_cpu_s"], 1e-9)
                    row["predict_cpu_speedup"] = ratio(row["parent_predict_cpu_s"], row["predict_cpu_s"])
                row["models"] = [parent, child]
                log(f"compress {kind}: predict beyond the scan {row['predict_speedup']:.2f} x faster "
                    f"(backend CPU: {row.get('predict_cpu_speedup') or 0:.2f} x); AUC {row['parent_auc']:.4f} -> {row['auc']:.4f} (drop {row['auc_drop']:.4f}), "
                    f"size {row['size_ratio']:.3f} x, single row {row['single_row_speedup']:.2f} x, "
                    f"batch {row['batch_speedup']:.2f} x faster")
            except Exception as e:  # noqa: BLE001 - the report says what failed
                row["error"] = first_line(e)
                log(f"compress {kind} failed: {row['error']}")
            self.results["speed"].append(row)

    def run_predict(self):
        """Batch predict over the main table vs the plain scan and the peers' in-memory predict."""
        n, reps = self.cfg["clf_rows"], self.cfg["reps"]
        clf = self.table("clf")
        X = self.arrays["clf"][0]
        cases = [("predict_logreg", "logreg", f"SELECT sum(galaxy.predict('bench_logreg', {FEATURE_ARRAY})) FROM {clf}"),
                 ("predict_gbdt", "gbdt", f"SELECT sum(galaxy.predict('bench_gbdt', {FEATURE_ARRAY})) FROM {clf}")]
        if self.gx.whole_row_predict():
            cases.append(("predict_logreg_row", "logreg", f"SELECT sum(galaxy.predict('bench_logreg', t)) FROM {clf} t"))
        scan_sql = f"SELECT sum({'+'.join(data.CLF_FEATURES)}) FROM {clf}"
        for cid, kind, sql in cases:
            row = {"id": cid, "model": kind, "rows": n, "sql": sql, "galaxy_serial_s": [], "galaxy_parallel_s": [],
                   "scan_serial_s": [], "scan_parallel_s": [], "peer_s": [], "error": None,
                   "implemented": self.model_available(kind)}
            if cid == "predict_logreg_row" and not row["implemented"]:
                continue
            for rep in range(reps):
                log(f"rep {rep + 1}/{reps}: {cid}")
                for par in ((False, True) if rep % 2 == 0 else (True, False)):
                    key = "parallel" if par else "serial"
                    row[f"scan_{key}_s"].append(self.time_sql(scan_sql, par)[0])
                    if row["implemented"] and not row["error"]:
                        try:
                            secs, val = self.time_sql(sql, par)
                            row[f"galaxy_{key}_s"].append(secs)
                            row["galaxy_sum"] = val
                        except Exception as e:  # noqa: BLE001
                            row["error"] = first_line(e)
                            log(f"{cid} failed: {row['error']}")
                if cid != "predict_logreg_row":
                    model = self.ensure_peer(kind)
                    secs, pred = timed(model.predict, X)
                    row["peer_s"].append(secs)
                    row["peer_sum"] = float(np.sum(pred))
            for k in ("galaxy_serial_s", "galaxy_parallel_s", "scan_serial_s", "scan_parallel_s", "peer_s"):
                row[k[:-2] + "_median_s"] = median(row[k])
            row["ratio_scan_serial"] = ratio(row["galaxy_serial_median_s"], row["scan_serial_median_s"])
            row["ratio_scan_parallel"] = ratio(row["galaxy_parallel_median_s"], row["scan_parallel_median_s"])
            times = [v for v in (row["galaxy_serial_median_s"], row["galaxy_parallel_median_s"]) if v is not None]
            best = min(times) if times else None
            row["galaxy_best_s"] = best
            row["ratio_peer"] = ratio(best, row["peer_median_s"])
            row["rows_per_s"] = None if not best else n / best
            self.results["speed"].append(row)

    # -- latency --
    def run_latency(self):
        """Single-row predict by project under pgbench (prepared), against the same fetch without predict."""
        pgbench = self.args.pgbench or shutil.which("pgbench")
        if not pgbench:
            self.results["notes"].append("pgbench not found: latency section skipped")
            return
        ids = min(self.cfg["clf_rows"], self.cfg["id_rows"])
        t = self.table("clf_ids")
        queries = [("baseline", f"SELECT ({FEATURE_ARRAY})[1] FROM {t} WHERE id = :id;")]
        for kind, project in (("linreg", "bench_linreg"), ("gbdt", "bench_gbdt")):
            if self.model_available(kind):
                queries.append((f"predict_{kind}", f"SELECT galaxy.predict('{project}', {FEATURE_ARRAY}) "
                                                   f"FROM {t} WHERE id = :id;"))
            else:
                self.results["notes"].append(f"single-row predict for {kind}: no galaxy model (training missing or failed)")
        work = tempfile.mkdtemp(prefix="galaxy-pgbench-")
        try:
            for name, sql in queries:
                with open(os.path.join(work, name + ".sql"), "w") as f:
                    f.write(f"\\set id random(1, {ids})\n{sql}\n")
            for ci, clients in enumerate(self.cfg["clients"]):
                order = queries[ci % len(queries):] + queries[:ci % len(queries)]
                for name, _ in order:
                    log(f"pgbench {name}, {clients} clients, {self.cfg['pgbench_seconds']} s")
                    self.results["latency"].append(self.pgbench_once(pgbench, work, name, clients))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        base = {r["clients"]: r for r in self.results["latency"] if r["query"] == "baseline"}
        for r in self.results["latency"]:
            b = base.get(r["clients"])
            r["tps_vs_baseline"] = ratio(r.get("tps"), b.get("tps")) if b else None

    def pgbench_once(self, pgbench, work, name, clients):
        """One pgbench run; TPS from its summary, percentiles from its per-transaction log."""
        prefix = os.path.join(work, f"{name}_{clients}")
        cmd = [pgbench, "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(clients, NCPU)),
               "-T", str(self.cfg["pgbench_seconds"]), "-f", os.path.join(work, name + ".sql"),
               "--log", f"--log-prefix={prefix}"]
        res = {"query": name, "clients": clients, "seconds": self.cfg["pgbench_seconds"]}
        p = subprocess.run(cmd, capture_output=True, text=True)
        m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", p.stdout)
        res["tps"] = float(m.group(1)) if m else None
        lat = []
        failed = 0
        for fn in glob.glob(prefix + ".*"):
            with open(fn) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 3 and parts[2].isdigit():
                        lat.append(int(parts[2]))
                    elif len(parts) >= 3:
                        failed += 1
        if p.returncode != 0 or not lat:
            err = (p.stderr or p.stdout).strip().splitlines()
            res["error"] = next((ln for ln in err if "ERROR" in ln or "error" in ln), err[-1] if err else "failed")
        if lat:
            a = np.array(lat, dtype=np.float64) / 1000.0
            res.update({"transactions": len(lat), "failed": failed, "p50_ms": float(np.percentile(a, 50)),
                        "p95_ms": float(np.percentile(a, 95)), "p99_ms": float(np.percentile(a, 99)),
                        "max_ms": float(a.max()), "mean_ms": float(a.mean())})
        return res

    # -- scaling --
    def run_scaling(self):
        """Training time vs rows per algorithm (one repetition per size; the main size reuses its median)."""
        main = {r["id"]: r for r in self.results["speed"] if "peer_fit_s" in r}
        for kind, sizes in (("linreg", self.cfg["scaling"]), ("logreg", self.cfg["scaling"]),
                            ("gbdt", self.cfg["scaling"]), ("rf", self.cfg["rf_scaling"])):
            if not self.want(kind):
                continue
            row = main.get(kind)
            for m in sizes:
                if row and row["rows"] == m:
                    self.results["scaling"].append({
                        "id": kind, "algorithm": GALAXY_ALGO[kind], "rows": m, "galaxy_s": row["galaxy_median_s"],
                        "peer_fit_s": row["peer_fit_median_s"], "peer_e2e_s": row["peer_e2e_median_s"]})
                    continue
                log(f"scaling: {kind} on {m:,} rows")
                t = self.table_for_rows(m)
                r = self.new_row(kind, m)
                fsecs, arr = timed(fetch_table, self.conn, t, data.CLF_FEATURES + ["y"])
                self.measure_training(r, kind, t, arr[:, :-1], arr[:, -1], fsecs, 0)
                self.results["scaling"].append({
                    "id": kind, "algorithm": GALAXY_ALGO[kind], "rows": m, "galaxy_s": median(r["galaxy_s"]),
                    "peer_fit_s": median(r["peer_fit_s"]), "peer_e2e_s": median(r["peer_e2e_s"]),
                    "error": r["error"]})

    def run(self):
        """Everything, in the order of the benchmark brief."""
        t0 = time.perf_counter()
        only = set(self.args.only.split(",")) if self.args.only else None
        if not self.gx.installed:
            raise SystemExit("galaxy is not installed in this database (CREATE EXTENSION galaxy)")
        self.setup_data()
        if only is None or "speed" in only:
            # the scan floor belongs with the training rows of the main table (a run of other rows keeps the
            # published floor)
            if self.rows_filter is None or self.rows_filter & {"linreg", "logreg", "gbdt", "kmeans", "scan",
                                                               "linreg_stream", "logreg_stream"}:
                self.run_scan_and_training()
            if self.want("rf"):
                self.run_rf()
            if self.want("grid_search"):
                self.run_grid_search()
            if self.want("predict"):
                self.run_predict()
            if self.want("linreg_10m"):
                self.run_linreg_10m()
            if self.want("linreg_10m_stream"):
                self.run_linreg_stream(self.table("reg"), {"serial": [], "parallel": []}, "linreg_10m_stream",
                                       data.REG_FEATURES, self.cfg["reg_rows"])
            for kind in NEURAL_ROWS:
                if self.want(kind):
                    self.run_neural(kind)
            for kind in FORECAST_ROWS:
                if self.want(kind):
                    self.run_forecast(kind)
            if self.want_text():
                self.run_text()
            for kind in NLP_ROWS:
                if self.want("text") or self.want(kind):
                    self.run_nlp(kind)
            if self.want("compress"):
                self.run_compress()
                self.run_compress_trees()
        # latency measures the linreg and gbdt models: a run of other rows (say --rows mlp) skips it
        if (only is None or "latency" in only) and (
                self.rows_filter is None or self.rows_filter & {"linreg", "gbdt", "predict", "latency"}):
            self.run_latency()
        if only is None or "scaling" in only:
            self.run_scaling()
        self.results["meta"]["bench_seconds"] = time.perf_counter() - t0
        self.results["meta"]["loadavg_end"] = os.getloadavg()[0]
        if self.args.accuracy_json and os.path.exists(self.args.accuracy_json):
            with open(self.args.accuracy_json) as f:
                self.results["accuracy"] = json.load(f)
        return self.results


def merge_published(old, new, rows, only):
    """The published results after a partial run (--rows / --only): every row, memory line, scaling point and
    accuracy result the new run measured replaces the old one with the same key, latency is replaced when the
    new run measured it, and everything else is carried over from OLD (each entry keeps the date it was measured)."""
    date = new["meta"]["date"]
    old_date = old.get("meta", {}).get("date")

    def merge(a, b, key):
        for e in a:
            e.setdefault("measured", old_date)
        for e in b:
            e["measured"] = date
        fresh = {key(e): e for e in b}
        out = [fresh.pop(key(e), e) for e in a]
        return out + [e for e in b if key(e) in fresh]

    res = dict(new)
    res["speed"] = merge(old.get("speed", []), new.get("speed", []), lambda e: e["id"])
    res["memory"] = merge(old.get("memory", []), new.get("memory", []), lambda e: e.get("row"))
    res["scaling"] = merge(old.get("scaling", []), new.get("scaling", []), lambda e: (e["id"], e["rows"]))
    res["latency"] = new["latency"] if new.get("latency") else old.get("latency", [])
    res["notes"] = list(new.get("notes", [])) + [n for n in old.get("notes", []) if n not in new.get("notes", [])]
    if new.get("accuracy") or old.get("accuracy"):
        acc_old, acc_new = old.get("accuracy") or {}, new.get("accuracy") or {}
        acc = dict(acc_new or acc_old)
        merged = merge(acc_old.get("results", []), acc_new.get("results", []), lambda e: (e["dataset"], e["config"]))
        order = list(dict.fromkeys(e["dataset"] for e in merged))
        acc["results"] = sorted(merged, key=lambda e: order.index(e["dataset"]))
        res["accuracy"] = acc
    prev = old.get("meta", {}).get("merged") or {}
    res["meta"] = dict(new["meta"])
    res["meta"]["merged"] = {"rows": rows, "only": only, "base_date": prev.get("base_date", old_date),
                             "base_commit": prev.get("base_commit",
                                                     old.get("meta", {}).get("versions", {}).get("galaxy_commit"))}
    for k in ("clf_heap_mb", "reg_heap_mb", "fmnist_heap_mb", "text_data"):
        if res["meta"].get(k) is None:
            res["meta"][k] = old.get("meta", {}).get(k)
    return res


def merge_results_files(files):
    """Publish partial runs measured elsewhere (another branch's bench/results/*.json): each replaces its own
    rows in latest.json, as if it had been published there, and docs/benchmarks.md is written again."""
    latest = os.path.join(common.RESULTS_DIR, "latest.json")
    with open(latest) as f:
        pub = json.load(f)
    for path in files:
        with open(path) as f:
            res = json.load(f)
        if res["meta"].get("mode") != pub.get("meta", {}).get("mode"):
            raise SystemExit(f"{path}: a {res['meta'].get('mode')} run cannot be merged into a "
                             f"{pub.get('meta', {}).get('mode')} one")
        pub = merge_published(pub, res, res["meta"].get("rows"), res["meta"].get("only"))
        log(f"merged {path} ({res['meta'].get('date')})")
    common.write_json(latest, pub)
    report.write_doc(pub, plot=False)
    log("published: docs/benchmarks.md, bench/results/latest.json")


def main():
    """Parse arguments, run, write the JSON, plots and page."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one repetition (< 2 minutes)")
    ap.add_argument("--reps", type=int, help="repetitions per measurement (default: 3 full, 1 quick)")
    ap.add_argument("--only", help="comma-separated sections: speed,latency,scaling")
    ap.add_argument("--rows", help="comma-separated rows: linreg,linreg_stream,logreg,logreg_stream,gbdt,kmeans,rf,predict,linreg_10m,mlp,"
                                   "mlp_fmnist,cnn_fmnist,lstm_forecast,transformer_forecast,text,lstm_text,transformer_text,grid_search,compress (default: all; predict and latency reuse models of earlier runs; "
                                   "latency runs only with linreg, gbdt or predict)")
    ap.add_argument("--pgbench", help="pgbench binary (default: the one on PATH)")
    ap.add_argument("--accuracy-json", help="accuracy results (from bench/accuracy --json) to include")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--publish", dest="publish", action="store_true", default=None,
                    help="write docs/benchmarks.md, docs/img and bench/results/latest.json (default: full runs only)")
    ap.add_argument("--no-publish", dest="publish", action="store_false",
                    help="leave docs/ and bench/results/latest.json alone")
    ap.add_argument("--merge-results", nargs="+", metavar="FILE",
                    help="run nothing: merge these results files (bench/results/*.json of partial runs, e.g. from "
                         "another branch) into latest.json in order, and rewrite docs/benchmarks.md from it")
    args = ap.parse_args()
    if args.merge_results:
        merge_results_files(args.merge_results)
        return
    publish = (not args.quick) if args.publish is None else args.publish
    b = Bench(args)
    res = b.run()
    res["meta"]["published"] = publish
    res["meta"]["rows"], res["meta"]["only"] = args.rows, args.only
    if args.json:
        common.write_json(args.json, res)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    common.write_json(os.path.join(common.RESULTS_DIR, f"{stamp}-{res['meta']['mode']}.json"), res)
    print(report.markdown(res))
    if publish:
        latest = os.path.join(common.RESULTS_DIR, "latest.json")
        pub = res
        if (args.rows or args.only) and os.path.exists(latest):
            with open(latest) as f:
                old = json.load(f)
            if old.get("meta", {}).get("mode") == res["meta"]["mode"]:
                pub = merge_published(old, res, args.rows, args.only)
                log("partial run: its rows replace theirs in latest.json and docs/benchmarks.md; the others are kept")
        common.write_json(latest, pub)
        report.write_doc(pub, plot=pub is res or bool(res["latency"] or res["scaling"]))
        log("published: docs/benchmarks.md, docs/img/bench-*.svg, bench/results/latest.json")
    else:
        log(f"results: bench/results/{stamp}-{res['meta']['mode']}.json (docs/ untouched; --publish writes them)")
    log(f"done in {res['meta']['bench_seconds']:.0f} s")


if __name__ == "__main__":
    main()
