#!/usr/bin/python3
"""Redraw docs/img/neural-training-curve.svg from a running galaxy server.

Reads the training curve of the model deployed for a project (by default
'digits', trained as in docs/algorithms-neural.md) from galaxy.describe()
and plots its training and validation loss per epoch, marking the epoch
whose weights were kept.

    docs/img/neural-training-curve.py ["host=/tmp/db port=5432 dbname=postgres"] [project]

Needs python3-matplotlib and python3-psycopg2.
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import psycopg2  # noqa: E402

dsn = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("GALAXY_DSN", "dbname=postgres")
project = sys.argv[2] if len(sys.argv) > 2 else "digits"
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "neural-training-curve.svg")

with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
    cur.execute(
        """SELECT m.version, galaxy.describe(m.model)->'training_curve',
                  galaxy.describe(m.model)->'architecture'->'parameters',
                  galaxy.describe(m.model)->'architecture'->>'loss'
             FROM galaxy.models m WHERE m.id = galaxy.deployed_model(%s)""",
        (project,),
    )
    row = cur.fetchone()
if row is None:
    sys.exit(f"project {project!r} has no deployed model")
version, curve, parameters, loss_name = row
loss, val_loss, best = curve["loss"], curve["val_loss"], curve["best_epoch"]
epochs = range(1, len(loss) + 1)

plt.rcParams["svg.hashsalt"] = "galaxy"
fig, ax = plt.subplots(figsize=(8, 4))
ax.plot(epochs, loss, label="training loss (mean over the epoch's batches)")
if any(v is not None for v in val_loss):
    ax.plot(epochs, [float("nan") if v is None else v for v in val_loss],
            label="validation loss (end of epoch)")
ax.axvline(best, color="grey", linestyle="--", linewidth=1)
ax.annotate(f"best epoch {best}: weights kept", xy=(best, max(loss) * 0.9),
            xytext=(6, 0), textcoords="offset points", color="dimgrey")
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel(f"{loss_name} (log scale)")
ax.set_title(f"galaxy neural_network, project {project} {version} "
             f"({parameters} parameters, {len(loss)} epochs trained)", fontsize=11)
ax.grid(True, which="major", alpha=0.3)
ax.legend()
fig.tight_layout()
fig.savefig(out, format="svg", metadata={"Date": None})
print(out)
