"""Turns bench results (the dict written to bench/results/latest.json) into Markdown and plots."""

import os

import common
from common import fmt, md_table

MB = 1048576.0

# Targets of the project's benchmark brief and the tree-model issue, per training row.
TRAIN_TARGETS = {
    "linreg": [("abs", 0.5, "≤ 0.5 s end to end")],
    "logreg": [("abs", 1.5, "≤ 1.5 s end to end")],
    "gbdt": [("abs", 5.5, "≤ 5.5 s end to end"), ("ratio_fit", 1.0, "≤ 1.0 × XGBoost fit"),
             ("auc", 0.005, "test AUC within 0.005"),
             ("load_scan", 1.3, "load ≤ 1.3 × plain scan (issue #18)")],
    "rf": [("abs", 30.0, "≤ 30 s"), ("ratio_fit", 0.5, "≤ 0.5 × scikit-learn fit")],
    "kmeans": [("abs", 2.0, "≤ 2.0 s end to end"), ("ratio_fit", 1.0, "≤ 1.0 × scikit-learn fit"),
               ("inertia", 0.01, "inertia within 1 % from the same initial centroids")],
    "linreg_10m": [("abs", 3.0, "≤ 3 s (MADlib: 4.45 s on 6 segments, quoted)")],
}
TITLES = {
    "linreg": "linear regression", "logreg": "logistic regression (lbfgs, L2, standardised)",
    "gbdt": "gradient boosting, 100 trees, depth 6, hist", "rf": "random forest, 100 trees",
    "kmeans": "k-means, k = 8", "linreg_10m": "linear regression, 10 features",
}
PEERS = {
    "linreg": "sklearn LinearRegression", "logreg": "sklearn StandardScaler + LogisticRegression",
    "gbdt": "XGBoost XGBClassifier (hist)", "rf": "sklearn RandomForestClassifier", "kmeans": "sklearn KMeans",
    "linreg_10m": "sklearn LinearRegression",
}


SHORT = {"linreg": "linear regression", "logreg": "logistic regression", "gbdt": "gradient boosting (100 trees)",
         "rf": "random forest (100 trees)"}
QCOLORS = {"baseline": "tab:grey", "predict_linreg": "tab:blue", "predict_gbdt": "tab:orange"}


def verdict(ok):
    """Cell text of a target check."""
    if ok is None:
        return "n/a"
    return "yes" if ok else "**NO**"


def check_training(row, mode):
    """[(label, ok or None)] for a training row's targets."""
    out = []
    for kind, val, label in TRAIN_TARGETS.get(row["id"], []):
        ok = None
        if kind == "abs":
            if mode != "full":
                out.append((label + " (full run only)", None))
                continue
            if row.get("galaxy_median_s") is not None:
                ok = row["galaxy_median_s"] <= val
        elif kind == "ratio_fit":
            if row.get("ratio_fit") is not None:
                ok = row["ratio_fit"] <= val
        elif kind == "load_scan":
            if row.get("load_scan_ratio") is not None:
                ok = row["load_scan_ratio"] <= val
                label = f"{label}: {row['load_scan_ratio']:.2f} ×"
        elif kind == "inertia":
            g = row.get("galaxy_quality", {}).get("inertia_same_init")
            p = row.get("peer_quality", {}).get("inertia_same_init")
            if g is not None and p:
                ok = abs(g - p) <= val * p
        elif kind == "auc":
            g, p = row.get("galaxy_quality", {}).get("roc_auc"), row.get("peer_quality", {}).get("roc_auc")
            if g is not None and p is not None:
                ok = g >= p - val
        out.append((label, ok))
    return out


def quality_cell(row):
    """'metric galaxy / peer' for the metrics both sides report."""
    g, p = row.get("galaxy_quality", {}), row.get("peer_quality", {})
    parts = []
    for k in ("r2", "accuracy", "roc_auc", "inertia", "inertia_same_init"):
        if k in g or k in p:
            gv = f"{g[k]:.4f}" if k in g else "—"
            pv = f"{p[k]:.4f}" if k in p else "—"
            parts.append(f"{k} {gv} / {pv}")
    return "; ".join(parts) or "—"


def galaxy_cell(row):
    """galaxy's median time, or why there is none."""
    if not row.get("implemented", True):
        return "not implemented"
    if row.get("error"):
        return "error: " + row["error"].replace("|", "\\|")
    return fmt(row.get("galaxy_median_s"))


def phases_cell(row):
    """galaxy's own load / fit / score breakdown (from models.metrics)."""
    ph = row.get("galaxy_phases_median") or {}
    if not ph:
        return "—"
    return " / ".join(fmt(ph.get(k)) for k in ("load_seconds", "fit_seconds", "score_seconds"))


def num(x):
    """A number stored as text (PostgreSQL numerics go to JSON as strings) as a float; None stays None."""
    try:
        return None if x is None else float(x)
    except (TypeError, ValueError):
        return x


def machine_block(res):
    """Machine, versions, settings and mode."""
    meta = res["meta"]
    m, v, s = meta["machine"], meta["versions"], meta.get("settings", {})
    lines = [
        f"- **Run:** {meta['date']}, mode **{meta['mode']}** "
        f"({meta['config']['reps']} repetition(s) per measurement; galaxy and peer alternate within each), "
        f"bench time {fmt(meta.get('bench_seconds'))} s after {fmt(meta.get('setup_seconds'))} s of data setup.",
        f"- **Machine:** {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB RAM, {m['os']}, kernel {m['kernel']}.",
        f"- **Versions:** PostgreSQL {v.get('postgresql')}, galaxy {v.get('galaxy')} (commit {v.get('galaxy_commit')}), "
        f"scikit-learn {v.get('scikit-learn')}, XGBoost {v.get('xgboost')}, NumPy {v.get('numpy')}, "
        f"psycopg2 {v.get('psycopg2')}, PyTorch {v.get('torch')}, Python {v.get('python')}.",
        "- **Server:** " + ", ".join(f"{k} = {val}" for k, val in s.items() if val is not None) + ".",
        f"- **Data:** classification table {meta['config']['clf_rows']:,} × 20 "
        f"({fmt(num(meta.get('clf_heap_mb')))} MB heap)"
        + (f", regression table {meta['config']['reg_rows']:,} × 10 ({fmt(num(meta.get('reg_heap_mb')))} MB heap)"
           if meta.get("reg_heap_mb") is not None else "")
        + (f", Fashion-MNIST {meta['config'].get('fmnist_rows', 60000):,} × 784 (`real[]`) + 10,000 test rows "
           f"({fmt(num(meta.get('fmnist_heap_mb')))} MB)" if meta.get("fmnist_heap_mb") is not None else "") + ".",
        "- **galaxy algorithms available:** " + (", ".join(meta.get("galaxy_algorithms") or []) or "none") + ".",
    ]
    merged = meta.get("merged")
    if merged:
        what = ", ".join(x for x in (merged.get("rows") and f"rows {merged['rows']}",
                                     merged.get("only") and f"sections {merged['only']}") if x)
        lines.append(f"- **Partial run:** this run measured {what} only; the other results are carried over from "
                     f"earlier full runs (the first of {merged.get('base_date')}, commit {merged.get('base_commit')}), "
                     "and each JSON entry says when it was measured.")
    la = [meta.get("loadavg_start"), meta.get("loadavg_end")]
    if all(x is not None for x in la):
        busy = la[0] > 0.5 * m["nproc"]
        lines.append(f"- **Load average** (1 min) before the measurements: {la[0]:.1f}; at the end: {la[1]:.1f} "
                     f"(includes the benchmark's own last minute)"
                     + (" — **the machine was busy with other work when the run started: absolute times are "
                        "inflated and noisy; compare ratios.**" if busy else "."))
    if meta["mode"] != "full":
        lines.append("- **Quick mode:** small tables and one repetition, for developers. Absolute-time targets are "
                     "defined for the full sizes and are not judged here; ratios are.")
    return "\n".join(lines)


def floor_table(res):
    """Plain scan and fetch rows."""
    rows = []
    for r in res["speed"]:
        if r["id"] == "scan":
            rows.append([r["work"] + ", serial", f"{r['rows']:,}", fmt(r["serial_median_s"]), "0.23 s"])
            rows.append([r["work"] + ", 2 parallel workers", f"{r['rows']:,}", fmt(r["parallel_median_s"]), "0.12 s"])
        elif r["id"] == "fetch":
            rows.append([r["work"] + " (what a Python user pays before fitting)", f"{r['rows']:,}",
                         fmt(r["median_s"]), "10.3 s"])
    return md_table(["work", "rows", "median (s)", "quoted reference (1M rows)"], rows)


def stream_table(res):
    """Linear and logistic regression with the streaming solver against the plain scan (issue #18)."""
    rows = []
    for r in res["speed"]:
        if r["id"] not in ("linreg_stream", "linreg_10m_stream", "logreg_stream"):
            continue
        what = "streaming logistic regression" if r["id"] == "logreg_stream" else "streaming linear regression"
        if not r.get("implemented"):
            rows.append([what, f"{r['rows']:,} × {r['features']}"] + ["not implemented"] * 6)
            continue
        if r.get("error"):
            rows.append([what, f"{r['rows']:,} × {r['features']}",
                         "error: " + r["error"]] + ["—"] * 5)
            continue
        ok_s = None if r.get("ratio_serial") is None else r["ratio_serial"] <= 1.2
        ok_p = None if r.get("ratio_parallel") is None else r["ratio_parallel"] <= 0.8
        target = "≤ 1.2 × serial scan; ≤ 0.8 × it with 2 workers"
        if r["id"] == "linreg_10m_stream":
            # issue #18 sets no parallel target here; MADlib's published 4.45 s (6 Greenplum segments) is the reference
            ok_p = None
            target = "≤ 1.2 × serial scan (MADlib: 4.45 s on 6 segments)"
        if r["id"] == "logreg_stream":
            # issue #18 sets no time target for it: Newton passes and the roc_auc scoring query, beside the in-memory fit
            ok_s = ok_p = None
            target = "— (the in-memory fit's time beside it)"
        rows.append([what + " (`\"solver\": \"streaming\"`), end to end",
                     f"{r['rows']:,} × {r['features']}",
                     f"{fmt(r.get('serial_median_s'))} / {fmt(r.get('parallel_median_s'))}",
                     f"{fmt(r.get('scan_serial_median_s'))} / {fmt(r.get('scan_parallel_median_s'))}",
                     f"{fmt(r.get('ratio_serial'), 2)} / {fmt(r.get('ratio_parallel'), 2)}",
                     fmt(r.get("in_memory_median_s")),
                     target,
                     f"{verdict(ok_s)} / {verdict(ok_p)}" if r["id"] == "linreg_stream" else verdict(ok_s)])
    return md_table(["work", "rows × features", "galaxy serial / 2 workers (s)", "scan serial / 2 workers (s)",
                     "galaxy / serial scan (serial / 2 workers)", "in memory (s)", "target", "target met?"], rows)


def training_table(res):
    """One line per training benchmark."""
    mode = res["meta"]["mode"]
    rows = []
    for r in res["speed"]:
        if r["id"] not in TRAIN_TARGETS:
            continue
        checks = check_training(r, mode) if r.get("implemented") and not r.get("error") else []
        target = "; ".join(c[0] for c in checks) or "; ".join(t[2] for t in TRAIN_TARGETS[r["id"]])
        met = "; ".join(verdict(c[1]) for c in checks) or ("not implemented" if not r.get("implemented") else "**NO**")
        rows.append([TITLES[r["id"]], f"{r['rows']:,} × {r['features']}", PEERS[r["id"]],
                     fmt(r.get("peer_fit_median_s")), fmt(r.get("peer_e2e_median_s")), galaxy_cell(r),
                     phases_cell(r),
                     fmt(r.get("ratio_fit"), 2), fmt(r.get("ratio_e2e"), 2), target, met, quality_cell(r)])
    return md_table(["work", "rows × features", "peer", "peer fit (s)", "peer end to end (s)",
                     "galaxy end to end (s)", "galaxy load / fit / score (s)", "galaxy / peer fit", "galaxy / peer end to end", "target",
                     "target met?", "held-out quality galaxy / peer"], rows)


def predict_table(res):
    """Batch predict over the main table."""
    mode = res["meta"]["mode"]
    rows = []
    for r in res["speed"]:
        if not r["id"].startswith("predict_"):
            continue
        if r["id"] == "predict_gbdt":
            target = "≤ 1.0 s in SQL"
            ok = None if mode != "full" or r.get("galaxy_best_s") is None else r["galaxy_best_s"] <= 1.0
            if mode != "full":
                target += " (full run only)"
        else:
            target = "≤ 1.5 × plain scan (same settings)"
            oks = [x <= 1.5 for x in (r.get("ratio_scan_serial"), r.get("ratio_scan_parallel")) if x is not None]
            ok = all(oks) if oks else None
        what = {"predict_logreg": "logistic, `galaxy.predict(project, float8[])`",
                "predict_gbdt": "100-tree GBDT, `galaxy.predict(project, float8[])`",
                "predict_logreg_row": "logistic, whole row `galaxy.predict(project, t)`"}[r["id"]]
        gs = "not implemented" if not r.get("implemented") else (
            "error: " + r["error"] if r.get("error") else fmt(r.get("galaxy_serial_median_s")))
        gp = "—" if not r.get("implemented") or r.get("error") else fmt(r.get("galaxy_parallel_median_s"))
        rows.append([what, f"{r['rows']:,}", gs, gp, fmt(r.get("scan_serial_median_s")),
                     fmt(r.get("scan_parallel_median_s")),
                     f"{fmt(r.get('ratio_scan_serial'), 2)} / {fmt(r.get('ratio_scan_parallel'), 2)}",
                     fmt(r.get("peer_median_s")), fmt(r.get("ratio_peer"), 1),
                     fmt(r.get("rows_per_s")), target,
                     verdict(ok) if r.get("implemented") and not r.get("error") else "not implemented"])
    return md_table(["predict", "rows", "galaxy serial (s)", "galaxy 2 workers (s)", "scan serial (s)",
                     "scan 2 workers (s)", "galaxy / scan (serial / parallel)", "peer in memory (s)",
                     "galaxy / peer", "galaxy rows/s", "target", "target met?"], rows)


def latency_table(res):
    """pgbench percentiles."""
    rows = []
    names = {"baseline": "same row fetch, no predict (baseline)", "predict_linreg": "predict, linear regression",
             "predict_gbdt": "predict, 100-tree GBDT"}
    base = {r["clients"]: r for r in res["latency"] if r["query"] == "baseline"}
    order = {"baseline": 0, "predict_linreg": 1, "predict_gbdt": 2}
    for r in sorted(res["latency"], key=lambda r: (r["clients"], order.get(r["query"], 9))):
        b = base.get(r["clients"], {})
        added = "—"
        if r["query"] != "baseline" and r.get("p50_ms") is not None and b.get("p50_ms") is not None:
            added = f"{r['p50_ms'] - b['p50_ms']:+.3f} / {r['p99_ms'] - b['p99_ms']:+.3f}"
        checks = []
        if r["query"] != "baseline" and r.get("tps_vs_baseline") is not None:
            checks.append(f"TPS ≥ 80 %: {verdict(r['tps_vs_baseline'] >= 0.8)}")
        if r["query"] != "baseline" and r["clients"] == 8 and r.get("p99_ms") is not None:
            note = ""
            if r["p99_ms"] > 1.0 and b.get("p99_ms") is not None and b["p99_ms"] > 1.0:
                note = f" (the baseline's own p99 is {b['p99_ms']:.2f} ms: the machine, not predict, sets it)"
            checks.append(f"p99 ≤ 1 ms: {verdict(r['p99_ms'] <= 1.0)}{note}")
        rows.append([names.get(r["query"], r["query"]), r["clients"], fmt(r.get("tps")),
                     "—" if r.get("tps_vs_baseline") is None else f"{100 * r['tps_vs_baseline']:.0f} %",
                     fmt(r.get("p50_ms")), fmt(r.get("p95_ms")), fmt(r.get("p99_ms")), fmt(r.get("max_ms")),
                     added, r.get("transactions"), "; ".join(checks) or ("error: " + r["error"] if r.get("error") else "—")])
    return md_table(["query", "clients", "TPS", "TPS vs baseline", "p50 (ms)", "p95 (ms)", "p99 (ms)", "max (ms)",
                     "added by predict p50 / p99 (ms)", "transactions", "target met?"], rows)


def memory_table(res):
    """Peak RSS of the training backend against the float64 matrix."""
    rows = []
    for m in res["memory"]:
        if m.get("neural"):
            continue
        extra = m["private_peak_bytes"] - m["baseline_bytes"]
        ok = m["private_peak_bytes"] <= m["target_bytes"] + m["baseline_bytes"]
        hwm_private = m.get("hwm_private_bytes")
        sampled = m.get("sampled_private_bytes")
        rows.append([m["algorithm"], f"{m['rows']:,} × {m['features']}", fmt(m["matrix_bytes"] / MB),
                     fmt(m["vmhwm_bytes"] / MB), fmt(m["shmem_bytes"] / MB),
                     "—" if hwm_private is None else fmt(hwm_private / MB),
                     "—" if sampled is None else fmt(sampled / MB), fmt(m["private_peak_bytes"] / MB),
                     fmt(m["baseline_bytes"] / MB), fmt(extra / m["matrix_bytes"], 2),
                     f"{fmt(m['target_bytes'] / MB)} ({m.get('target_label', '1.5 × matrix + 64 MB')})",
                     verdict(ok)])
    return md_table(["algorithm", "rows × features", "float64 matrix (MB)", "backend VmHWM (MB)",
                     "shared memory mapped (MB)", "VmHWM − RssShmem (MB)", "sampled private peak (MB)",
                     "private peak (MB)", "fresh backend (MB)",
                     "(private peak − fresh) / matrix", "target: private peak − fresh (MB)", "target met?"], rows)


NEURAL_TITLES = {"mlp": "MLP on the classification table", "mlp_fmnist": "MLP on Fashion-MNIST"}


# time per epoch against PyTorch: rows whose target is not 1.0 (issue #13: cnn, lstm, transformer)
NEURAL_EPOCH_TARGET = {"cnn_fmnist": 1.5}


def neural_table(res):
    """Neural-network rows: time per epoch of galaxy, PyTorch and scikit-learn, and held-out accuracy."""
    rows = []
    # galaxy.describe's training_curve had per-epoch seconds in early builds only: show them when present
    curve = any(r.get("galaxy_curve_epoch_median_s") is not None for r in res["speed"] if r.get("neural"))
    for r in res["speed"]:
        if not r.get("neural"):
            continue
        arch = "-".join(str(x) for x in r["architecture"])
        data = (f"{r['train_rows']:,} train / {r['test_rows']:,} test × {r['features']}")
        if not r.get("implemented"):
            g = "not implemented"
        elif r.get("error"):
            g = "error: " + r["error"].replace("|", "\\|")
        else:
            g = fmt(r.get("galaxy_epoch_median_s"))
        # the issues' targets: the MLP at most as slow as PyTorch, cnn / lstm / transformer 1.5 times
        limit = NEURAL_EPOCH_TARGET.get(r["id"], 1.0)
        ratio_ok = None if r.get("ratio_epoch") is None else r["ratio_epoch"] <= limit
        # on a shared machine the fastest repetition of each side is the least disturbed: show its ratio too
        best = [min((v for v in r.get(k) or [] if isinstance(v, (int, float))), default=None)
                for k in ("galaxy_epoch_s", "torch_epoch_s")]
        ratio_cell = fmt(r.get("ratio_epoch"), 2)
        if len(r.get("torch_epoch_s") or []) > 1 and common.ratio(*best) is not None:
            ratio_cell += f" (fastest runs: {fmt(common.ratio(*best), 2)})"
        ga, ta, sa = (r.get(k, {}).get("accuracy") for k in ("galaxy_quality", "torch_quality", "sklearn_quality"))
        acc_ok = None if ga is None or ta is None else ga >= ta - 0.01
        e2e = fmt(r.get("galaxy_e2e_median_s"))
        if r.get("galaxy_eval_median_s") is not None:
            e2e += f" (train {fmt(r.get('galaxy_median_s'))} + evaluate {fmt(r.get('galaxy_eval_median_s'))})"
        epochs = r.get("galaxy_epochs_trained") or []
        epochs = sorted({e for e in epochs if e is not None})
        rows.append([f"{NEURAL_TITLES.get(r['id'], r['id'])} (`{r['id']}`)", arch, data,
                     f"{r['epochs']} × {r['batch_size']}" + (
                         f" (galaxy ran {', '.join(fmt(e, 0) for e in epochs)})" if epochs and epochs != [r['epochs']]
                         else ""),
                     fmt(r.get("torch_epoch_median_s")), g] + (
                        [fmt(r.get("galaxy_curve_epoch_median_s"))] if curve else []) + [
                     fmt(r.get("sklearn_epoch_median_s")), ratio_cell,
                     fmt(r.get("ratio_epoch_sklearn"), 2), verdict(ratio_ok), e2e, fmt(r.get("torch_e2e_median_s")),
                     f"{fmt(ga, 4)} / {fmt(ta, 4)} / {fmt(sa, 4)}",
                     verdict(acc_ok)])
    return md_table(["work", "network", "rows", "epochs × batch", "PyTorch s/epoch", "galaxy s/epoch"] + (
                        ["galaxy median epoch (training curve)"] if curve else []) + ["scikit-learn s/epoch", "galaxy / PyTorch per epoch",
                     "galaxy / scikit-learn per epoch", "target met (≤ 1.0 × PyTorch; cnn ≤ 1.5 ×)?", "galaxy end to end (s)",
                     "PyTorch end to end (s)", "accuracy galaxy / PyTorch / scikit-learn",
                     "within 0.01 of PyTorch (or better)?"], rows)


FORECAST_TITLES = {"lstm_forecast": "lstm", "transformer_forecast": "transformer"}
FORECAST_EPOCH_TARGET = 1.5  # issue #13: time per epoch at most 1.5 × PyTorch's


def forecast_table(res):
    """Sequence rows (issue #13): time per epoch of galaxy and PyTorch, test RMSE and R², parameters, memory."""
    mem = {m.get("row"): m for m in res["memory"] if m.get("forecast")}
    rows = []
    for r in res["speed"]:
        if not r.get("forecast"):
            continue
        if not r.get("implemented"):
            g = "not implemented"
        elif r.get("error"):
            g = "error: " + r["error"].replace("|", "\\|")
        else:
            g = fmt(r.get("galaxy_epoch_median_s"))
        ratio_cell = fmt(r.get("ratio_epoch"), 2)
        if len(r.get("torch_epoch_s") or []) > 1 and r.get("ratio_epoch_fastest") is not None:
            ratio_cell += f" (fastest runs: {fmt(r['ratio_epoch_fastest'], 2)})"
        ok = None if r.get("ratio_epoch") is None else r["ratio_epoch"] <= FORECAST_EPOCH_TARGET
        gq, tq, nq = (r.get(k) or {} for k in ("galaxy_quality", "torch_quality", "naive_quality"))
        gp, tp = r.get("galaxy_parameters"), r.get("torch_parameters")
        params = f"{fmt(gp if gp is None else f'{gp:,}')} / {fmt(tp if tp is None else f'{tp:,}')}"
        m = mem.get(r["id"])
        if m:
            used = m["private_peak_bytes"] - m["baseline_bytes"]
            memory = (f"{fmt(used / MB)} of {fmt(m['target_bytes'] / MB)} "
                      f"({fmt(common.ratio(used, m['target_bytes']), 2)}; {verdict(used <= m['target_bytes'])})")
        else:
            memory = "—"
        reps = len(r.get("torch_epoch_s") or [])
        rows.append([f"{FORECAST_TITLES.get(r['id'], r['id'])} (`{r['id']}`)", r.get("architecture", "—"), params,
                     f"{fmt(r.get('train_rows'))} / {fmt(r.get('test_rows'))}",
                     f"{r['epochs']} × {r['batch_size']}, lr {r.get('learning_rate')}" + (f", {reps} runs" if reps > 1 else ""),
                     fmt(r.get("torch_epoch_median_s")), g, ratio_cell, verdict(ok),
                     f"{fmt(gq.get('rmse'), 2)} / {fmt(tq.get('rmse'), 2)} ({fmt(nq.get('rmse'), 2)})",
                     f"{fmt(gq.get('r2'), 4)} / {fmt(tq.get('r2'), 4)}",
                     f"{fmt(r.get('galaxy_e2e_median_s'))} / {fmt(r.get('torch_e2e_median_s'))}", memory])
    return md_table(["model", "network", "trainable parameters galaxy / PyTorch", "train / test windows",
                     "epochs × batch", "PyTorch s/epoch", "galaxy s/epoch", "galaxy / PyTorch per epoch",
                     f"≤ {FORECAST_EPOCH_TARGET} × PyTorch?", "test RMSE galaxy / PyTorch (last value repeated)",
                     "test R² galaxy / PyTorch", "end to end galaxy / PyTorch (s)",
                     "galaxy training memory: private peak − fresh of budget (MB)"], rows)


def forecast_markdown(res):
    """The sequence-forecasting section (issue #13's sequence task), or [] when no such row was measured."""
    rs = [r for r in res["speed"] if r.get("forecast")]
    if not rs:
        return []
    s = rs[0].get("series") or {}
    def month(t):
        """A decimal year of R's time() (1749.0833 …) as 1749-02."""
        if t is None:
            return "?"
        y = int(t + 1e-6)
        return f"{y}-{int(round((t - y) * 12)) + 1:02d}"

    when = f" ({month(s.get('first'))} to {month(s.get('last'))})" if s.get("first") is not None else ""
    la = [x for r in rs for x in r.get("loadavg") or []]
    load = f" Load average (1 min) at the start of each training: {min(la):.1f} to {max(la):.1f}." if la else ""
    return ["### Sequences: next-value forecasting", "",
            f"Issue #13's sequence task on a real series: {s.get('source', 'a series')}, {fmt(s.get('values'))} "
            f"values{when}, exported by `Rscript` (Debian's `r-base-core`) into a table. A window function turns it "
            f"into rows `history real[{s.get('window')}]` (the last {s.get('window')} values) → `next_value` (the "
            f"following one); the split is in time: the last {100 * (s.get('test_fraction') or 0):g} % of the "
            f"windows (targets from {month(s.get('test_from'))} on) are the test rows, the others the training rows. galaxy "
            "trains on the training table with `test_size => 0` and is scored with `galaxy.evaluate(model, "
            "test_table)`; PyTorch (CPU, `torch.set_num_threads(2)`) fetches the same two tables with psycopg2. "
            "Both standard-scale every window position and the target on the training rows, train with Adam "
            "(MSE on the scaled target, no weight decay, no early stopping, no validation split), the same batch "
            "size, epochs and learning rate, float32, and report RMSE and R² in the series' units on the test "
            "rows. The networks are the same layers: galaxy's `lstm` (`lstm_units` [32]) against `nn.LSTM(1, 32)` "
            "whose second bias (`bias_hh`, redundant with `bias_ih`) is held at 0 so both train the same "
            "parameters; galaxy's `transformer` (`d_model` 32, 4 heads, 2 blocks, `ff_units` 64) against "
            "`Linear(1, 32)` at every step + the same sinusoidal codes + 2 × `nn.TransformerEncoderLayer(32, 4, 64, "
            "dropout=0, relu, batch_first, norm_first=True)` + `LayerNorm` + mean over the steps + `Linear(32, 1)`. "
            "The benchmark stops a row when the two trainable-parameter counts differ. Each side keeps its own "
            "default initialisation. Time per epoch: galaxy's `fit_seconds / epochs_trained`, PyTorch's mean "
            "epoch; medians over the runs, which alternate which side goes first. The RMSE of repeating each "
            "window's last value is given in brackets as a floor." + load, "",
            forecast_table(res), ""]


def nlp_markdown(res):
    """Issue #13's text rows: lstm and transformer with task 'nlp' against the same networks in PyTorch."""
    rs = [r for r in res["speed"] if r.get("nlp")]
    if not rs:
        return []
    rows = []
    for r in rs:
        if not r.get("implemented"):
            g = "not implemented"
        elif r.get("error"):
            g = "error: " + r["error"].replace("|", "\\|")
        else:
            g = fmt(r.get("galaxy_epoch_median_s"))
        ok_t = None if r.get("ratio_epoch") is None else r["ratio_epoch"] <= FORECAST_EPOCH_TARGET
        gap = r.get("accuracy_gap")
        ok_a = None if gap is None else gap >= -0.01
        gp, tp = r.get("galaxy_parameters"), r.get("torch_parameters")
        gq, tq = (r.get(k) or {} for k in ("galaxy_quality", "torch_quality"))
        rows.append([f"{r['algorithm']} (`{r['id']}`)", r.get("architecture", "—"),
                     f"{fmt(gp if gp is None else f'{gp:,}')} / {fmt(tp if tp is None else f'{tp:,}')}",
                     f"{fmt(r.get('rows'))} / {fmt(r.get('test_rows'))}, {r.get('categories')} classes",
                     f"{r.get('epochs')} × {r.get('batch_size')}, lr {r.get('learning_rate')}",
                     fmt(r.get("torch_epoch_median_s")), g, fmt(r.get("ratio_epoch"), 2), verdict(ok_t),
                     f"{fmt(gq.get('accuracy'), 4)} / {fmt(tq.get('accuracy'), 4)}", verdict(ok_a),
                     fmt(r.get("reference_accuracy"), 4)])
    la = [x for r in rs for x in r.get("loadavg") or []]
    load = f" Load average (1 min) at the start of each training: {min(la):.1f} to {max(la):.1f}." if la else ""
    r0 = rs[0]
    return ["### Text classification with sequence models (task `nlp`)", "",
            "Issue #13's text task on the same fortunes split as the TF-IDF rows below. galaxy: one `galaxy.train` "
            f"with `task => 'nlp'` on the training table: each text becomes the token ids of its first "
            f"{r0.get('max_length')} lexemes (PostgreSQL's 'english' configuration), a vocabulary of at most "
            "20,000 terms fitted on the training split, padding in front; then `galaxy.evaluate` on the test "
            "table. PyTorch (CPU, `torch.set_num_threads(2)`) gets the same token ids (the lexemes of "
            "`galaxy.tokenize`, the vocabulary rebuilt the way galaxy builds it, `bench/neural.py`) and the same "
            "network: `nn.Embedding` then `nn.LSTM` (its redundant `bias_hh` held at 0) and `Linear`, or "
            "`nn.Embedding` + the same sinusoidal codes + `nn.TransformerEncoderLayer(norm_first=True, "
            "dropout=0)` blocks + `LayerNorm` + mean over the steps + `Linear`; Adam, cross-entropy, no weight "
            "decay, no early stopping, the same batch size, epochs and learning rate, float32. The benchmark stops "
            "a row when the trainable-parameter counts differ. Time per epoch: galaxy's `fit_seconds / epochs`, "
            "PyTorch's mean epoch; medians over the runs, which alternate which side goes first. The reference is "
            "scikit-learn's `TfidfVectorizer` + `LogisticRegression` on the same split (the `text_logreg` row)."
            + load, "",
            md_table(["model", "network", "trainable parameters galaxy / PyTorch", "train / test texts",
                      "epochs × batch", "PyTorch s/epoch", "galaxy s/epoch", "galaxy / PyTorch per epoch",
                      f"≤ {FORECAST_EPOCH_TARGET} × PyTorch?", "test accuracy galaxy / PyTorch",
                      "within 0.01 of PyTorch (or better)?", "scikit-learn TF-IDF + LogisticRegression"], rows), ""]


TEXT_TITLES = {"text_logreg": "TF-IDF + logistic regression", "text_nb": "TF-IDF + multinomial naive Bayes"}


def text_table(res):
    """Text rows (issue #14): galaxy end to end from the table against scikit-learn's vectorize + fit, and the
    held-out accuracy of both."""
    rows = []
    for r in res["speed"]:
        if not r.get("text"):
            continue
        ga, pa = (r.get(k, {}).get("accuracy") for k in ("galaxy_quality", "peer_quality"))
        time_ok = None if r.get("ratio") is None else r["ratio"] <= 1.0
        acc_ok = None if ga is None or pa is None else ga >= pa - 0.01
        done = r.get("implemented") and not r.get("error")
        rows.append([TEXT_TITLES.get(r["id"], r["id"]),
                     f"{r['rows']:,} train / {r['test_rows']:,} test texts, {r['categories']} categories",
                     "scikit-learn " + r.get("peer", ""),
                     f"{fmt(r.get('peer_vectorize_median_s'))} + {fmt(r.get('peer_fit_median_s'))} = "
                     f"{fmt(r.get('peer_total_median_s'))}",
                     galaxy_cell(r), phases_cell(r), fmt(r.get("ratio"), 2),
                     verdict(time_ok) if done else "n/a",
                     f"{fmt(ga, 4)} / {fmt(pa, 4)}", verdict(acc_ok) if done else "n/a",
                     f"{fmt(r.get('galaxy_vocabulary'), 0)} / {fmt(r.get('peer_vocabulary'), 0)}"])
    return md_table(["work", "data", "peer", "peer vectorize + fit (s)", "galaxy end to end (s)",
                     "galaxy load / fit / score (s)", "galaxy / peer", "≤ 1.0 × peer?",
                     "held-out accuracy galaxy / peer", "within 0.01 (or better)?", "vocabulary galaxy / peer"], rows)


def grid_table(res):
    """The grid-search row (issue #16): galaxy.submit(search => 'grid') until galaxy.wait returns, against
    scikit-learn's GridSearchCV(XGBClassifier, n_jobs=2).fit on the same training rows; the best configuration
    and its cross-validated and held-out accuracy on each side."""
    rows = []
    for r in res["speed"]:
        if not r.get("grid"):
            continue
        done = r.get("implemented") and not r.get("error")
        time_ok = None if r.get("ratio") is None else r["ratio"] <= 0.5
        gq, pq = r.get("galaxy_quality") or {}, r.get("peer_quality") or {}
        gc, pc = gq.get("cv_accuracy"), pq.get("cv_accuracy")
        same = r.get("same_best") or (gc is not None and pc is not None and abs(gc - pc) <= 0.002)
        best = lambda b: ", ".join(f"{k} {v}" for k, v in sorted((b or {}).items())) or "—"  # noqa: E731
        rows.append([f"{r['points']}-point grid, {r['folds']}-fold CV, gradient boosting",
                     f"{r['rows']:,} rows × {r['features']}, galaxy.max_workers = {r.get('max_workers')}",
                     fmt(r.get("peer_fit_median_s")), galaxy_cell(r) if r.get("error") else fmt(r.get("galaxy_median_s")),
                     fmt(r.get("ratio"), 2), verdict(time_ok) if done else "n/a",
                     best(r.get("galaxy_best")), best(r.get("peer_best")),
                     f"{fmt(gc, 4)} / {fmt(pc, 4)}", f"{fmt(gq.get('accuracy'), 4)} / {fmt(pq.get('accuracy'), 4)}",
                     verdict(same) if done else "n/a"])
    return md_table(["work", "data", "GridSearchCV fit (s)", "galaxy submit → wait (s)", "galaxy / peer",
                     "≤ 0.5 × peer?", "galaxy's best", "peer's best", "best CV accuracy galaxy / peer",
                     "held-out accuracy galaxy / peer", "same best (or CV within 0.002)?"], rows)


def neural_memory_table(res):
    """Peak private memory of the neural_network training backends against issue #12's budget."""
    rows = []
    for m in res["memory"]:
        if not m.get("neural"):
            continue
        used = m["private_peak_bytes"] - m["baseline_bytes"]
        rows.append([f"`{m['row']}`", f"{m['rows']:,} × {m['features']}", fmt(m["matrix_bytes"] / MB),
                     f"{m['parameters']:,}", fmt(m["target_bytes"] / MB), fmt(m["private_peak_bytes"] / MB),
                     fmt(m["baseline_bytes"] / MB), fmt(used / MB), fmt(common.ratio(used, m["target_bytes"]), 2),
                     verdict(used <= m["target_bytes"])])
    return md_table(["row", "rows loaded × features", "float32 matrix (MB)", "parameters",
                     "budget: 1.5 × matrix + 16 B × parameters + 64 MB (MB)", "private peak (MB)",
                     "fresh backend (MB)", "private peak − fresh (MB)", "used / budget", "within budget?"], rows)


def scaling_table(res):
    """Training time vs rows."""
    rows = []
    for s in res["scaling"]:
        g = "error: " + s["error"] if s.get("error") else fmt(s.get("galaxy_s"))
        rows.append([s["algorithm"], f"{s['rows']:,}", g, fmt(s.get("peer_fit_s")), fmt(s.get("peer_e2e_s")),
                     fmt(common.ratio(s.get("galaxy_s"), s.get("peer_fit_s")), 2)])
    return md_table(["algorithm", "rows", "galaxy end to end (s)", "peer fit (s)", "peer end to end (s)",
                     "galaxy / peer fit"], rows)


def accuracy_markdown(acc):
    """The accuracy table (bench/accuracy's results)."""
    rows = []
    for r in acc.get("results", []):
        diff = r.get("diff")
        ok = None if diff is None else diff >= -0.01
        rows.append([r["dataset"], r["metric"], r["galaxy_algorithm"], r["peer"],
                     "not implemented" if not r.get("implemented") else (
                         "error: " + r["error"] if r.get("error") else fmt(r.get("galaxy"), 4)),
                     fmt(r.get("peer_score"), 4), fmt(r.get("reference"), 4),
                     "—" if diff is None else f"{0.0 if abs(diff) < 5e-5 else diff:+.4f}", verdict(ok) if r.get("implemented") and not r.get("error")
                     else "n/a",
                     f"{fmt(r.get('galaxy_seconds') if r.get('galaxy') is not None else None)} / "
                     f"{fmt(r.get('peer_seconds'))}"])
    res = acc.get("results", [])
    judged = [r for r in res if r.get("within_0.01") is not None]
    summary = (f"{sum(1 for r in judged if r['within_0.01'])} of {len(judged)} configurations within 0.01 of the "
               f"peer or better; {sum(1 for r in res if not r.get('implemented'))} not implemented.\n\n")
    head = (f"5-fold CV (StratifiedKFold for classification, KFold for diabetes; shuffle, random_state 0): "
            f"galaxy is trained on four folds with `test_size => 0` and scored on the fifth; the peer runs in the "
            f"same script on the same folds. Run {acc.get('date', '')}.\n\n")
    return head + summary + md_table(["dataset", "metric", "galaxy algorithm", "peer", "galaxy", "peer (same folds)",
                            "quoted reference", "galaxy − peer", "within 0.01 (or better)?",
                            "5 fits + scoring, galaxy / peer (s)"], rows)


COMPRESS_TITLES = {"compress_mlp": "MLP 784-256-128-10", "compress_logreg": "logistic regression",
                   "compress_mlp_prune": "MLP 784-256-128-10, sparsity 0.8",
                   "compress_mlp_prune_ft": "MLP 784-256-128-10, sparsity 0.8, fine-tuned",
                   "compress_gbdt_prune": "gradient boosting, 500 trees", "compress_gbdt_distill": "gradient boosting, 100 trees → 8 trees (default student)",
                   "compress_gbdt_distill_10": "gradient boosting, 100 trees → 10 trees",
                   "compress_gbdt_distill_mlp": "gradient boosting, 100 trees → MLP 20-64-2"}


def compress_table(res):
    """The compress rows (issue #17): int8 copies against their parents."""
    rows = []
    for r in res["speed"]:
        if not r.get("compress") or r["id"].startswith("compress_gbdt"):
            continue
        done = r.get("implemented") and not r.get("error")
        size_ok = None if r.get("size_ratio") is None else r["size_ratio"] <= 0.3
        drop_limit = 0.01 if r["id"].startswith("compress_mlp_prune") else 0.005
        drop_ok = None if r.get("accuracy_drop") is None else r["accuracy_drop"] <= drop_limit
        batch_ok = None if r.get("batch_speedup") is None else r["batch_speedup"] >= 1.5
        rows.append([COMPRESS_TITLES.get(r["id"], r["id"]), r.get("method", ""),
                     f"{fmt(r.get('parent_bytes'), 0)} → {fmt(r.get('bytes'), 0)}", fmt(r.get("size_ratio"), 3),
                     (verdict(size_ok) if not r["id"].startswith("compress_mlp_prune") else "—") if done else "n/a",
                     f"{fmt(r.get('parent_p50_ms'), 4)} → {fmt(r.get('p50_ms'), 4)}", fmt(r.get("single_row_speedup"), 2),
                     f"{fmt(r.get('parent_batch_s'))} → {fmt(r.get('batch_s'))}", fmt(r.get("batch_speedup"), 2),
                     (verdict(batch_ok) if r["id"] == "compress_mlp" else "—") if done else "n/a",
                     f"{fmt(r.get('parent_accuracy'), 4)} → {fmt(r.get('accuracy'), 4)}",
                     fmt(r.get("accuracy_drop"), 4),
                     f"{verdict(drop_ok)} (≤ {drop_limit})" if done else (r.get("error") or "n/a")])
    return md_table(["model", "method", "stored bytes", "size ratio", "≤ 0.3 ×?", "single-row p50 (ms)",
                     "single-row speedup", "batch predict, 10,000 rows (s)", "batch speedup", "≥ 1.5 × (MLP)?",
                     "test accuracy", "drop", "within target?"], rows)


def compress_trees_table(res):
    """The tree compress rows (issue #17): prune to 40 % of the trees, distill into students of <= 10 trees or an MLP."""
    rows = []
    for r in res["speed"]:
        if not (r.get("compress") and r["id"].startswith("compress_gbdt")):
            continue
        done = r.get("implemented") and not r.get("error")
        limit = 0.003 if r["id"] == "compress_gbdt_prune" else 0.01
        auc_ok = None if r.get("auc_drop") is None else r["auc_drop"] <= limit
        fast_ok = None if r.get("predict_speedup") is None else r["predict_speedup"] >= 5.0
        rows.append([COMPRESS_TITLES.get(r["id"], r["id"]), r.get("method", ""),
                     f"{fmt(r.get('parent_bytes'), 0)} → {fmt(r.get('bytes'), 0)}", fmt(r.get("size_ratio"), 3),
                     f"{fmt(r.get('parent_p50_ms'), 4)} → {fmt(r.get('p50_ms'), 4)}", fmt(r.get("single_row_speedup"), 2),
                     f"{fmt(r.get('parent_batch_s'))} → {fmt(r.get('batch_s'))}", fmt(r.get("batch_speedup"), 2),
                     fmt(r.get("floor_s")),
                     f"{fmt(r.get('parent_predict_s'))} → {fmt(r.get('predict_s'))}", fmt(r.get("predict_speedup"), 2),
                     fmt(r.get("predict_cpu_speedup"), 2),
                     (verdict(fast_ok) if r["id"].startswith("compress_gbdt_distill") else "—") if done else "n/a",
                     f"{fmt(r.get('parent_auc'), 4)} → {fmt(r.get('auc'), 4)}", fmt(r.get("auc_drop"), 4),
                     f"{verdict(auc_ok)} (≤ {limit})" if done else (r.get("error") or "n/a")])
    return md_table(["model", "method", "stored bytes", "size ratio", "single-row p50 (ms)", "single-row speedup",
                     "batch predict, training rows (s)", "batch speedup", "floor: the scan alone (s)",
                     "predict beyond the scan (s)", "predict speedup", "the same in backend CPU time",
                     "≥ 5 × (distill)?", "held-out AUC",
                     "AUC drop", "within target?"], rows)


def or_note(table):
    """TABLE, or a note when it has no rows (a partial run did not measure them)."""
    return table if table.count("\n") > 1 else "_Not measured in this run._"


def markdown(res, img_rel="img"):
    """The generated part of docs/benchmarks.md."""
    out = ["## Latest results", "", machine_block(res), ""]
    out += ["### The floor: reading the table", "", or_note(floor_table(res)), ""]
    if any(r["id"] in ("linreg_stream", "linreg_10m_stream", "logreg_stream") for r in res["speed"]):
        out += ["### Streaming regression (parallel SQL aggregates) against the plain scan", "",
                f"Medians of {res['meta'].get('config', {}).get('stream_reps', 3)} repetitions; each repetition "
                "runs the serial and the 2-worker training, each beside its own plain scan, alternating which pair "
                "goes first. Every run is a new connection. Most of a new connection's serial scan is the mapping "
                "of the table's shared-buffer pages into the process, paid once per process (on the 2-core virtual "
                "machine of 2026-12-05: 0.58 s for the 1M-row scan in a new connection, 0.19 s for the same scan "
                "repeated in that connection); parallel workers are new processes and pay it again for their share.", "",
                stream_table(res), ""]
    out += ["### Training, end to end from the table", "",
            "galaxy: wall time of one `SELECT galaxy.train(...)` (load, split 80/20, preprocess, fit, evaluate, "
            "register). Peer fit: `fit()` on an in-memory NumPy array; peer end to end: psycopg2 fetch + NumPy + "
            "split + fit + score, measured in the same repetition. Ratios below 1 mean galaxy is faster.", "",
            or_note(training_table(res)), ""]
    if any(r.get("neural") for r in res["speed"]):
        cfg = res["meta"]["config"]
        out += ["### Neural networks", "",
                "galaxy's `neural_network` against PyTorch (CPU; `nn.Sequential` of `Linear` and `ReLU`, "
                "`CrossEntropyLoss`, `torch.optim.Adam`, shuffled index batches of a float32 tensor, no DataLoader, "
                f"`torch.set_num_threads({res['meta']['machine']['nproc']})`) and scikit-learn's `MLPClassifier` "
                "(float32, one timing), with the same layers, Adam (learning rate 0.001, L2 0.0001 added to the "
                "gradient of the weights), batch size and number of epochs, no early stopping and no validation split; every side "
                "standard-scales the features with the training rows. galaxy's time per epoch is `fit_seconds / "
                "epochs_trained` of its model; its end to end is the `galaxy.train` call (load from the table, "
                "scale, fit, score, register), plus `galaxy.evaluate` on the 10,000 test images for Fashion-MNIST. "
                "PyTorch's time per epoch is the mean epoch of its training loop; its end to end adds the psycopg2 "
                "fetch (classification table) or starts from the IDX files (Fashion-MNIST), then split, scale, fit "
                "and score. Accuracy: the classification table's own held-out 20 % on each side; Fashion-MNIST's "
                "10,000 test images on every side. "
                f"Medians of {cfg['reps']} repetition(s); scikit-learn once.", "",
                neural_table(res), "",
                "Memory of the `neural_network` training backend (measured as below) against issue #12's budget.", "",
                or_note(neural_memory_table(res)), ""]
    out += forecast_markdown(res)
    out += nlp_markdown(res)
    if any(r.get("text") for r in res["speed"]):
        td = res["meta"].get("text_data") or {}
        tr = next(r for r in res["speed"] if r.get("text"))
        tcfg = (((tr.get("preprocess") or {}).get("columns") or {}).get("body") or {}).get("config", "english")
        run_cfg = res["meta"].get("config") or {}
        text_reps = run_cfg.get("text_reps", run_cfg.get("reps"))
        if tcfg == "galaxy.words":
            tokens = ("the text search configuration `galaxy.words`: galaxy's own word parser, scikit-learn's "
                      "default tokens (runs of two or more letters, digits or underscores) lower-cased, no stemming, "
                      "no stop words")
        else:
            tokens = f"PostgreSQL's '{tcfg}' text search configuration: its parser, stemming and stop words"
        out += ["### Text classification (TF-IDF)", "",
                "The fortunes Debian package (one file per category, entries separated by `%` lines): the "
                f"{len(td.get('categories') or [])} largest categories ({', '.join(td.get('categories') or [])}), "
                "split 80/20 by a seeded shuffle that both sides share. galaxy: one `galaxy.train` on the training "
                "table with `preprocess => '{\"columns\": {\"body\": {\"text\": \"tfidf\", \"config\": "
                f"\"{tcfg}\"}}}}}}'` ({tokens}; smoothed idf, l2 rows, "
                "as scikit-learn's defaults), `test_size => 0`, timed from the client: read the table, tokenise, "
                "build the vocabulary, fit, score, register; then `galaxy.evaluate` on the test table. Peer: "
                "scikit-learn's `TfidfVectorizer()` (its defaults) `fit_transform` and the classifier's `fit` on the "
                "same training texts in memory, then `predict` on the test texts. Same classifier settings on both "
                "sides (C = 1, 100 L-BFGS iterations, tol 1e-4; alpha = 1). What the two times hold differs: galaxy's "
                "also scores every training row (the model's metrics: accuracy, log loss, ROC AUC, confusion matrix), "
                "stores and registers the model, measures its single-row predict latency (200 rows) and runs in a new "
                "session (cold caches, fresh memory); the peer's has no predict, no pickling, and runs in a warm Python "
                f"process. Medians of {text_reps} repetitions, alternating which side goes "
                "first. Targets (issue #14): galaxy end to end "
                "≤ 1.0 × the peer's vectorize + fit; accuracy within 0.01 of the peer's, or better.", "",
                or_note(text_table(res)), ""]
    if any(r.get("grid") for r in res["speed"]):
        out += ["### Hyperparameter search: a 24-point grid", "",
                "galaxy: `galaxy.submit(..., algorithm => 'gradient_boosting', folds => 3, search => 'grid')` on the "
                "table (80/20 split, 3 folds of the training rows, every trial scored by the job's worker and its "
                "trial workers, the best refitted on all training rows), timed from the submit until `galaxy.wait` "
                "returns. Peer: the psycopg2 fetch is not counted; `GridSearchCV(XGBClassifier(tree_method='hist', "
                "n_jobs=1), n_jobs=2, cv=StratifiedKFold(3))` fit on the same 80 % (train_test_split, random_state 0), "
                "refit included. The folds differ between the sides (each draws its own). Target (issue #16): "
                "galaxy ≤ 0.5 × the peer, with the same best configuration or one scoring within 0.002.", "",
                or_note(grid_table(res)), ""]
    if any(r.get("compress") for r in res["speed"]):
        out += ["### Model compression (int8)", "",
                "`galaxy.compress(model, 'int8')` on an MLP (mlp_fmnist's layers) and a logistic regression, each "
                "trained by `galaxy.train` on the Fashion-MNIST training images (`test_size => 0`). Stored bytes: "
                "`galaxy.models.size_bytes` of both. Single-row p50: galaxy's own latency measurement at compression "
                "(the same 200 rows, one prepared `galaxy.predict` each). Batch predict: one statement "
                "`galaxy.predict(model, t)` over the 10,000 test images, best of the repetitions, alternating which "
                "model goes first. Accuracy on the test images (the relation `galaxy.compress` was given). Targets "
                "(issue #17): size ≤ 0.3 × the parent, the MLP's batch predict ≥ 1.5 × faster, drop ≤ 0.005.", "",
                or_note(compress_table(res)), ""]
        out += ["### Model compression of tree ensembles (prune, distill)", "",
                "`galaxy.compress(model, 'prune', '{\"sparsity\": 0.6}')` keeps the first 40 % of the rounds of a "
                "500-tree gradient boosting model; `galaxy.compress(model, 'distill')` trains a student on the "
                "100-tree benchmark model's predictions over its training rows: the default (gradient boosting, 8 "
                "trees of depth 8, learning rate 1), 10 such trees, and an MLP with one hidden layer of 64 units (30 epochs). Both on the "
                "first rows of the classification table (80 % to train, 20 % held out): AUC on the held-out rows, batch "
                "predict (one statement `galaxy.predict(model, t)`) over the training rows, best of 5, alternating "
                "which model goes first, serially (no parallel workers); the floor is the same scan without a model, "
                "and the predict speedup (the distill target) compares the wall-clock time each statement spends "
                "beyond it. The same difference in the backend's CPU time (/proc/PID/schedstat) is beside it: other "
                "work on the machine does not inflate it.",
                "", or_note(compress_trees_table(res)), ""]
    out += ["### Batch predict", "", or_note(predict_table(res)), ""]
    out += ["### Single-row predict under load (pgbench, prepared protocol)", "",
            "Each transaction fetches one random row by primary key; the baseline runs the identical query without "
            "`galaxy.predict`. Percentiles come from pgbench's per-transaction log; each pgbench connection loads "
            "the model once (included).", "", or_note(latency_table(res)), ""]
    if res["latency"] and os.path.exists(os.path.join(common.IMG_DIR, "bench-latency.svg")):
        out += [f"![latency percentiles per client count]({img_rel}/bench-latency.svg)", ""]
    out += ["### Memory of the training backend", "",
            "Read from `/proc/PID/status` of the backend running `galaxy.train` on a fresh connection. "
            "VmHWM also counts the shared buffers the backend mapped (the scanned table, then the new model's "
            "TOAST pages), so the private peak is the larger of VmHWM − RssShmem after the call and the largest "
            "RssAnon + RssFile sampled every millisecond during it; parallel workers, if any, are not included. "
            "For linear and logistic regression, gradient boosting, k-means and random forest this is one more "
            "training after the timed ones: the sampling thread takes CPU from the backend's threads, so the "
            "timed runs go without it.",
            "", or_note(memory_table(res)), ""]
    out += ["### Training time vs rows", "", or_note(scaling_table(res)), ""]
    if res["scaling"] and os.path.exists(os.path.join(common.IMG_DIR, "bench-scaling.svg")):
        out += [f"![training time vs rows]({img_rel}/bench-scaling.svg)", ""]
    if res.get("notes"):
        out += ["### Notes", ""] + [f"- {n}" for n in res["notes"]] + [""]
    return "\n".join(out)


def plots(res, outdir=None, ext="svg"):
    """docs/img/bench-latency.svg and docs/img/bench-scaling.svg (matplotlib, text kept as text)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    matplotlib.rcParams["svg.fonttype"] = "none"
    outdir = outdir or common.IMG_DIR
    os.makedirs(outdir, exist_ok=True)
    written = []
    lat = [r for r in res["latency"] if r.get("p50_ms") is not None]
    if lat:
        clients = sorted({r["clients"] for r in lat})
        queries = [q for q in ("baseline", "predict_linreg", "predict_gbdt") if any(r["query"] == q for r in lat)]
        fig, axes = plt.subplots(1, len(clients), figsize=(4 * len(clients), 3.6), sharey=True)
        axes = axes if len(clients) > 1 else [axes]
        width = 0.8 / len(queries)
        allv = [r[k] for r in lat for k in ("p50_ms", "p95_ms", "p99_ms") if r.get(k)]
        lo, hi = min(allv), max(allv)
        for ax, c in zip(axes, clients):
            for qi, q in enumerate(queries):
                r = next((x for x in lat if x["clients"] == c and x["query"] == q), None)
                if r is None:
                    continue
                vals = [r["p50_ms"], r["p95_ms"], r["p99_ms"]]
                ax.bar([i + qi * width for i in range(3)], vals, width, label=q, color=QCOLORS.get(q))
            ax.set_xticks([i + width * (len(queries) - 1) / 2 for i in range(3)])
            ax.set_xticklabels(["p50", "p95", "p99"])
            ax.set_title(f"{c} client{'s' if c > 1 else ''}")
            ax.set_yscale("log")
            ax.set_ylim(lo / 2, hi * 2)
            ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
        axes[0].set_ylabel("latency (ms)")
        axes[-1].legend(fontsize=8)
        fig.suptitle(f"single-row predict latency, pgbench -M prepared ({res['meta']['mode']} run)")
        fig.tight_layout()
        path = os.path.join(outdir, "bench-latency." + ext)
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    sc = res["scaling"]
    if sc:
        algos = []
        for s in sc:
            if s["id"] not in algos:
                algos.append(s["id"])
        fig, axes = plt.subplots(1, len(algos), figsize=(3.6 * len(algos), 3.4))
        axes = axes if len(algos) > 1 else [axes]
        for ax, a in zip(axes, algos):
            pts = sorted((s for s in sc if s["id"] == a), key=lambda s: s["rows"])
            for key, label, style, color in (("galaxy_s", "galaxy (end to end)", "o-", "tab:blue"),
                                             ("peer_fit_s", "peer fit (in memory)", "s--", "tab:orange"),
                                             ("peer_e2e_s", "peer end to end (fetch + fit)", "^:", "tab:green")):
                xs = [s["rows"] for s in pts if s.get(key)]
                ys = [s[key] for s in pts if s.get(key)]
                ax.plot(xs, ys, style, label=label, color=color)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(SHORT.get(a, a))
            ax.set_xlabel("rows")
        axes[0].set_ylabel("seconds")
        axes[0].legend(fontsize=8)
        fig.suptitle(f"training time vs rows ({res['meta']['mode']} run)")
        fig.tight_layout()
        path = os.path.join(outdir, "bench-scaling." + ext)
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written


def write_doc(res, plot=True):
    """Plots (unless PLOT is false: a partial run that measured neither latency nor scaling leaves them alone),
    then the generated sections of docs/benchmarks.md (the hand-written intro is kept)."""
    if plot:
        plots(res)
    common.replace_section(common.DOC_PATH, "bench", markdown(res))
    if res.get("accuracy"):
        common.replace_section(common.DOC_PATH, "accuracy", "## Accuracy\n\n" + accuracy_markdown(res["accuracy"]))
