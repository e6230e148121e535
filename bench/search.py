#!/usr/bin/env python3
"""bench/search.py — how much a search strategy saves, measured side by side in one run (issue #16).

  bayesian_vs_random  galaxy's Bayesian search (tree-structured Parzen estimator) against its random search
                      with the same budget, on the same held-out split (search without folds: a quarter of the
                      training rows), over several seeds: the trials the Bayesian search needs to reach the best
                      score the random search found with the whole budget, as a share of the budget (averaged
                      over the seeds; a seed where it never gets there counts as the whole budget).
                      Target: <= 0.6.
  halving_vs_grid     successive halving against the full grid (same space, same folds): boosting rounds
                      fitted, as a share of the grid's, and the best cross-validated score of each.
                      Target: >= 3 x fewer rounds for a best score within 0.002.

Usage: bench/search.py [--seeds N] [--budget B] [--no-publish | --report]
Runs against the server in PGHOST/PGPORT/PGUSER (galaxy preloaded or not: every search runs in the session),
in a database it creates (bench_search) and drops.  Writes bench/results/search.json, prints the tables and
replaces the "search" section of docs/benchmarks.md (unless --no-publish).  Counts of trials and rounds do not
depend on the machine's load; the seconds printed beside them do.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

DB = "bench_search"

# diabetes (442 rows, 10 features, r2): a continuous score, so "reached the best" is strict
BAYES_SPACE = {"learning_rate": {"log_uniform": [0.005, 0.5]}, "max_depth": {"int": [1, 8]},
               "subsample": {"uniform": [0.5, 1.0]}, "min_child_weight": {"log_uniform": [0.1, 50]},
               "reg_lambda": {"log_uniform": [0.01, 100]}}
BAYES_FIXED = {"n_estimators": 50}

# wine (178 rows, 13 features, 3 classes): the halving example of docs/search.md
HALVING_SPACE = {"learning_rate": [0.03, 0.1, 0.3], "max_depth": [2, 3, 4, 6], "subsample": [0.7, 1.0]}
HALVING_FIXED = {"n_estimators": 54}


def log(msg):
    """A progress line on stderr."""
    print(f"[bench/search {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def load(conn, table, csv, columns):
    """A table of test/data's CSV file."""
    common.execute(conn, f"CREATE TABLE {table} ({columns})")
    with conn.cursor() as cur, open(os.path.join(common.DATA_DIR, csv)) as f:
        cur.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)", f)


def scores(conn, search_id):
    """The scores of a search's trials, in trial order (None for a failed trial)."""
    with conn.cursor() as cur:
        cur.execute("SELECT score FROM galaxy.trials WHERE search_id = %s ORDER BY trial", (search_id,))
        return [r[0] for r in cur.fetchall()]


def search(conn, project, relation, target, strategy, space, fixed, seed, budget=None, folds=None):
    """Run one search in the session; returns (search id, seconds, the model's metrics)."""
    t0 = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute("SELECT id, search_id, metrics FROM galaxy.train(%s, %s::regclass, %s, algorithm => 'gradient_boosting', "
                    "hyperparams => %s::jsonb, search => %s, search_space => %s::jsonb, search_trials => %s, "
                    "folds => %s, seed => %s, deploy => 'never')",
                    (project, relation, target, json.dumps(fixed), strategy, json.dumps(space), budget, folds, seed))
        _, sid, metrics = cur.fetchone()
    return sid, time.perf_counter() - t0, metrics


def bayes_vs_random(conn, seeds, budget):
    """Per seed: random's best over the whole budget, and the trial at which bayesian first reaches it."""
    per_seed = []
    for seed in range(1, seeds + 1):
        rid, rsecs, _ = search(conn, f"rand_{seed}", "diabetes", "progression", "random", BAYES_SPACE, BAYES_FIXED, seed, budget)
        bid, bsecs, _ = search(conn, f"bayes_{seed}", "diabetes", "progression", "bayesian", BAYES_SPACE, BAYES_FIXED, seed, budget)
        r, b = scores(conn, rid), scores(conn, bid)
        target = max(s for s in r if s is not None)
        reached, best = None, None
        for i, s in enumerate(b):
            if s is not None and (best is None or s > best):
                best = s
            if best is not None and best >= target and reached is None:
                reached = i + 1
        first_random = next(i + 1 for i, s in enumerate(r) if s == target)
        per_seed.append({"seed": seed, "random_best": target, "random_best_at": first_random,
                         "bayesian_best": best, "bayesian_reached_at": reached,
                         "share": (reached if reached else budget) / budget,
                         "random_s": rsecs, "bayesian_s": bsecs})
        log(f"seed {seed}: random best r2 {target:.4f} (trial {first_random}), bayesian best {best:.4f}, "
                   f"reached at {reached or 'never'} of {budget}")
    share = sum(p["share"] for p in per_seed) / len(per_seed)
    return {"id": "bayesian_vs_random", "data": "diabetes (442 x 10), r2 on a held-out quarter of the training rows",
            "algorithm": "gradient_boosting", "space": BAYES_SPACE, "fixed": BAYES_FIXED, "budget": budget,
            "seeds": seeds, "per_seed": per_seed, "mean_share": share,
            "seeds_reached": sum(1 for p in per_seed if p["bayesian_reached_at"]),
            "bayesian_wins": sum(1 for p in per_seed if p["bayesian_best"] >= p["random_best"]),
            "target": 0.6, "met": share <= 0.6}


def halving_vs_grid(conn):
    """The full grid and successive halving over the same space and folds."""
    gid, gsecs, _ = search(conn, "grid", "wine", "cultivar", "grid", HALVING_SPACE, HALVING_FIXED, 42, folds=3)
    hid, hsecs, hm = search(conn, "halving", "wine", "cultivar", "halving", HALVING_SPACE, HALVING_FIXED, 42, folds=3)
    gbest = common.q1(conn, "SELECT best_score FROM galaxy.searches WHERE id = %s", (gid,))
    hbest = common.q1(conn, "SELECT best_score FROM galaxy.searches WHERE id = %s", (hid,))
    fitted, full = int(hm["search_resource_fitted"]), int(hm["search_resource_full"])
    fewer = full / fitted
    return {"id": "halving_vs_grid", "data": "wine (178 x 13), 3-fold CV accuracy", "algorithm": "gradient_boosting",
            "space": HALVING_SPACE, "fixed": HALVING_FIXED, "points": 24, "rounds_fitted": fitted, "rounds_full": full,
            "times_fewer": fewer, "grid_best": gbest, "halving_best": hbest, "grid_s": gsecs, "halving_s": hsecs,
            "target": 3.0, "met": fewer >= 3.0 and hbest >= gbest - 0.002}


def markdown(res):
    """The search section of docs/benchmarks.md."""
    b, h = res["bayesian_vs_random"], res["halving_vs_grid"]
    load = res["load_average"]
    lines = ["## Search strategies (bench/search.py)", "",
             f"- **Run:** {res['when']}, galaxy commit {res['commit']}; load average (1 min) {load[0]:.1f} at the start, "
             f"{load[1]:.1f} at the end" + (" — **the machine was busy: the seconds are inflated; the counts of trials "
                                            "and rounds are not affected**." if load[0] > 1.5 else "."),
             "- Both sides run in one session, one after the other, with the same data, split and budget; every "
             "proposal follows from the seed. With the same seed, Bayesian search's first random trials (a quarter "
             "of the budget, 3 to 10) are the same draws as random search's first ones.", "",
             f"Bayesian (TPE) against random search: `gradient_boosting` on {b['data']}, "
             f"{len(b['space'])} hyperparameters ({', '.join(b['space'])}; n_estimators {b['fixed']['n_estimators']}), "
             f"{b['budget']} trials each, seeds 1 to {b['seeds']}. Measured: the trials Bayesian search needs to reach "
             "the best score random search found with all its trials, as a share of the budget (a seed where it never "
             "gets there counts as the whole budget). Target (issue #16): ≤ 0.6.", ""]
    lines += [common.md_table(["seed", "random: best r2 (at trial)", "bayesian: best r2", "bayesian reaches random's best at",
                               "share of the budget", "random / bayesian (s)"],
                              [[p["seed"], f"{p['random_best']:.4f} ({p['random_best_at']})", f"{p['bayesian_best']:.4f}",
                                p["bayesian_reached_at"] or "never", f"{p['share']:.2f}",
                                f"{p['random_s']:.1f} / {p['bayesian_s']:.1f}"] for p in b["per_seed"]]), ""]
    lines += [f"**Mean share: {b['mean_share']:.2f}** of the budget ({'yes' if b['met'] else '**NO**'}, target ≤ 0.6); "
              f"Bayesian reached random's best in {b['seeds_reached']} of {b['seeds']} seeds.", ""]
    lines += [f"Successive halving against the full grid: `gradient_boosting` on {h['data']}, the {h['points']}-point "
              f"grid of docs/search.md, {h['fixed']['n_estimators']} rounds. Target (issue #16): ≥ 3 × fewer rounds "
              "for a best score within 0.002.", ""]
    lines += [common.md_table(["rounds fitted: grid", "halving", "× fewer", "best CV accuracy: grid", "halving",
                               "seconds: grid / halving", "target met?"],
                              [[f"{h['rounds_full']:,}", f"{h['rounds_fitted']:,}", f"{h['times_fewer']:.1f}",
                                f"{h['grid_best']:.4f}", f"{h['halving_best']:.4f}",
                                f"{h['grid_s']:.1f} / {h['halving_s']:.1f}", "yes" if h["met"] else "**NO**"]])]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--budget", type=int, default=30)
    ap.add_argument("--no-publish", action="store_true")
    ap.add_argument("--report", action="store_true", help="measure nothing: publish bench/results/search.json again")
    args = ap.parse_args()
    if args.report:
        with open(os.path.join(common.RESULTS_DIR, "search.json")) as f:
            common.replace_section(common.DOC_PATH, "search", markdown(json.load(f)))
        return
    admin = common.connect(dbname="postgres")
    common.execute(admin, f"DROP DATABASE IF EXISTS {DB}")
    common.execute(admin, f"CREATE DATABASE {DB}")
    load0 = os.getloadavg()[0]
    try:
        conn = common.connect(dbname=DB)
        common.execute(conn, "CREATE EXTENSION galaxy")
        common.execute(conn, "SET client_min_messages = warning")
        load(conn, "diabetes", "diabetes.csv", "age float8, sex float8, bmi float8, bp float8, s1 float8, s2 float8, "
                                               "s3 float8, s4 float8, s5 float8, s6 float8, progression float8")
        load(conn, "wine", "wine.csv", ", ".join(f"c{i} float8" for i in range(13)) + ", cultivar text")
        res = {"when": common.now_iso(), "commit": common.git_describe(),
               "bayesian_vs_random": bayes_vs_random(conn, args.seeds, args.budget),
               "halving_vs_grid": halving_vs_grid(conn)}
        conn.close()
    finally:
        common.execute(admin, f"DROP DATABASE IF EXISTS {DB}")
    res["load_average"] = [load0, os.getloadavg()[0]]
    common.write_json(os.path.join(common.RESULTS_DIR, "search.json"), res)
    md = markdown(res)
    print(md)
    if not args.no_publish:
        common.replace_section(common.DOC_PATH, "search", md)


if __name__ == "__main__":
    main()
