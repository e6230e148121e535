"""Shared helpers for galaxy's benchmark scripts (bench/run, bench/bench.py, bench/accuracy).

Connection parameters come from the usual libpq environment variables (PGHOST, PGPORT, PGUSER,
PGDATABASE); bench/run sets them for the throwaway cluster it starts.
"""

import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import time

import psycopg2

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
DOC_PATH = os.path.join(REPO_DIR, "docs", "benchmarks.md")
IMG_DIR = os.path.join(REPO_DIR, "docs", "img")
RESULTS_DIR = os.path.join(BENCH_DIR, "results")
DATA_DIR = os.path.join(REPO_DIR, "test", "data")


def connect(autocommit=True, **kw):
    """Open a connection from the libpq environment; autocommit so each statement stands alone."""
    conn = psycopg2.connect(kw.get("dsn", ""), **{k: v for k, v in kw.items() if k != "dsn"})
    conn.autocommit = autocommit
    return conn


def q1(conn, sql, args=None):
    """First column of the first row of a query (None when it returns no row)."""
    with conn.cursor() as cur:
        cur.execute(sql, args)
        row = cur.fetchone()
        return None if row is None else row[0]


def execute(conn, sql, args=None):
    """Run one statement and discard its result."""
    with conn.cursor() as cur:
        cur.execute(sql, args)


def timed(fn, *args, **kw):
    """(seconds, result) of one call, measured with the monotonic performance counter."""
    t0 = time.perf_counter()
    res = fn(*args, **kw)
    return time.perf_counter() - t0, res


def median(xs):
    """Median of the non-None values, or None."""
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio(a, b):
    """a / b, or None when either is missing or b is zero."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def backend_memory(pid):
    """VmHWM, VmRSS and RssShmem (bytes) of a server process, read from /proc (same machine)."""
    out = {}
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if b"postgres" not in f.read():
                return None  # the server runs elsewhere: this pid is some other local process
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, val = line.partition(":")
                if key in ("VmHWM", "VmRSS", "RssShmem", "RssAnon", "RssFile"):
                    out[key] = int(val.split()[0]) * 1024
    except OSError:
        return None
    return out


class MemorySampler:
    """Largest private resident set (RssAnon + RssFile) of a server process, polled every millisecond
    from a thread while a statement runs.  VmHWM alone cannot say it: it also counts the shared buffers
    the process mapped, which grow after the peak (the new model's TOAST pages), so VmHWM minus the
    final RssShmem can understate the private peak."""

    def __init__(self, pid, interval=0.001):
        import threading
        self.pid, self.interval, self.peak, self.samples = pid, interval, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        path = f"/proc/{self.pid}/status"
        while not self._stop.is_set():
            try:
                anon = file = 0
                with open(path) as f:
                    for line in f:
                        if line.startswith("RssAnon:"):
                            anon = int(line.split()[1]) * 1024
                        elif line.startswith("RssFile:"):
                            file = int(line.split()[1]) * 1024
                self.peak = max(self.peak, anon + file)
                self.samples += 1
            except (OSError, ValueError, IndexError):
                return
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False


def git_describe():
    """Short commit of the source tree, with '+dirty' when it has uncommitted changes."""
    try:
        sha = subprocess.run(["git", "-C", REPO_DIR, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO_DIR, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_info():
    """nproc, memory, CPU model and OS of this machine."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kb = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kb = int(line.split()[1])
    except OSError:
        pass
    osname = platform.platform()
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    osname = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "os": osname,
        "kernel": platform.release(),
    }


def versions(conn=None):
    """Versions of everything that takes part in the measurements."""
    import numpy
    import sklearn
    v = {"python": platform.python_version(), "numpy": numpy.__version__, "scikit-learn": sklearn.__version__,
         "psycopg2": psycopg2.__version__.split()[0], "galaxy_commit": git_describe()}
    try:
        import xgboost
        v["xgboost"] = xgboost.__version__
    except ImportError:
        v["xgboost"] = None
    try:
        import torch
        v["torch"] = torch.__version__
    except ImportError:
        v["torch"] = None
    if conn is not None:
        v["postgresql"] = q1(conn, "SHOW server_version")
        v["galaxy"] = q1(conn, "SELECT extversion FROM pg_extension WHERE extname = 'galaxy'")
    return v


class Galaxy:
    """What the installed galaxy offers: functions, algorithms and their hyperparameters."""

    def __init__(self, conn):
        self.conn = conn
        self.installed = q1(conn, "SELECT count(*) FROM pg_extension WHERE extname = 'galaxy'") == 1
        self.functions = {}
        if self.installed:
            with conn.cursor() as cur:
                cur.execute("""SELECT p.proname, pg_get_function_identity_arguments(p.oid)
                               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                               WHERE n.nspname = 'galaxy'""")
                for name, args in cur.fetchall():
                    self.functions.setdefault(name, []).append(args)
        self.algorithms = {}
        if self.installed and q1(conn, "SELECT to_regclass('galaxy.algorithms') IS NOT NULL"):
            with conn.cursor() as cur:
                cur.execute("SELECT * FROM galaxy.algorithms")
                cols = [d[0] for d in cur.description]
                for row in cur.fetchall():
                    rec = dict(zip(cols, row))
                    name = rec.get("name") or rec.get("algorithm")
                    if name:
                        self.algorithms[name] = rec

    def has_function(self, name, arg_pattern=None):
        """True when galaxy.NAME exists (with an identity-argument list matching arg_pattern)."""
        sigs = self.functions.get(name, [])
        if arg_pattern is None:
            return bool(sigs)
        return any(re.search(arg_pattern, s) for s in sigs)

    def can_train(self):
        """galaxy.train() exists."""
        return self.has_function("train")

    def has_algorithm(self, name):
        """Algorithm NAME is listed in galaxy.algorithms (or, before that view exists, train() does)."""
        if self.algorithms:
            return name in self.algorithms
        return False

    def whole_row_predict(self):
        """galaxy.predict(project text, row anyelement) exists."""
        return self.has_function("predict", r'^\w+ text, "?\w+"? (record|anyelement)')


def first_line(exc):
    """The first line of an exception's message (psycopg2 errors carry DETAIL/HINT lines)."""
    msg = getattr(exc, "pgerror", None) or str(exc)
    for line in msg.strip().splitlines():
        line = line.strip()
        if line:
            return line[:300]
    return type(exc).__name__


def now_iso():
    """Local time with offset, seconds precision."""
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def replace_section(path, marker, body, heading_if_new=None):
    """Replace the text between <!-- MARKER:begin --> and <!-- MARKER:end --> in PATH (append if absent)."""
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    block = f"{begin}\n{body.rstrip()}\n{end}\n"
    text = ""
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    if begin in text and end in text:
        pre = text[:text.index(begin)]
        post = text[text.index(end) + len(end):].lstrip("\n")
        text = pre + block + ("\n" + post if post else "")
    else:
        if text and not text.endswith("\n"):
            text += "\n"
        text += ("\n" if text else "") + (heading_if_new + "\n\n" if heading_if_new else "") + block
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def write_json(path, obj):
    """Write obj as indented JSON (creating the folder)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=False, default=str)
        f.write("\n")


def fmt(x, digits=3, unit=""):
    """A number for a Markdown cell ('—' when missing)."""
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    if abs(x) >= 100:
        s = f"{x:,.0f}"
    elif abs(x) >= 10:
        s = f"{x:.1f}"
    else:
        s = f"{x:.{digits}g}" if abs(x) < 0.01 and x != 0 else f"{x:.{digits}f}"
    return s + unit


def md_table(header, rows):
    """A Markdown table from a header list and rows of cells."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join("—" if c is None else str(c) for c in r) + " |")
    return "\n".join(out)
