/*
 * trials.c — parallel trials of a hyperparameter search in a background
 * job: the trial board (dynamic shared memory) and the trial workers.
 *
 * The job's worker (api/train.c, run_search) proposes every trial up front
 * (grid and random search do not depend on earlier results), writes them to
 * a board and starts up to galaxy.max_workers - 1 trial workers, each
 * connected as the job's owner.  Every worker — the job's own included —
 * loads the same rows, splits them the same way (everything follows from
 * the request and its seed) and claims trials one at a time from an atomic
 * counter until none is left, writing each result to the board.  The job's
 * worker then waits for the others and records every trial in galaxy.trials
 * in trial order, so the rows (and the model) do not depend on which worker
 * scored which trial.  A trial worker that ends before it finishes its
 * trial (terminated, or an error outside the trial) fails that trial only;
 * one that cannot start leaves its share to the others.  A cancel of the
 * job stops every trial worker.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "galaxy.h"
#include "api/train.h"
#include "jobs/trials.h"

PGDLLEXPORT void galaxy_trial_worker_main(Datum arg);

#define TRIALS_MAGIC		0x47545249	/* "GTRI" */
#define TRIALS_TEXT_LEN		2048	/* a trial's hyperparameters, or its metrics, as JSON text */
#define TRIALS_ERROR_LEN	256
#define TRIALS_MAX_WORKERS	64

/* A trial's place on the board. */
enum
{
	TRIAL_FREE = 0,
	TRIAL_CLAIMED,
	TRIAL_DONE
};

typedef struct TrialSlot
{
	pg_atomic_uint32 state;
	int			claimed_by;		/* 0 = the job's worker, i = trial worker i */
	bool		ok;
	double		score;
	double		score_std;
	double		seconds;
	bool		skipped;
	int64		parameters;
	double		predict_ms;
	int			n_folds;
	double		fold_scores[TRIALS_MAX_FOLDS];
	char		sqlstate[6];
	char		error[TRIALS_ERROR_LEN];
	char		given[TRIALS_TEXT_LEN];
	char		metrics[TRIALS_TEXT_LEN];
} TrialSlot;

typedef struct TrialBoardShared
{
	uint32		magic;
	int			n_trials;
	int			n_folds;
	pg_atomic_uint32 next;		/* the next trial to claim */
	Oid			dboid;
	Oid			owner;
	int64		job_id;
	int			job_procno;		/* the job worker's PGPROC, for its latch */
	char		fingerprint[80];	/* the data's, "" if unknown */
	Size		request_off;	/* the request as JSON text, after the slots */
	TrialSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} TrialBoardShared;

struct TrialBoard
{
	dsm_segment *seg;
	TrialBoardShared *sh;
	int			n_workers;
	BackgroundWorkerHandle *workers[TRIALS_MAX_WORKERS];
};

/* Copy a C string into a fixed buffer; ERROR if it does not fit (for JSON, which must not be cut). */
static void
copy_text(char *dst, Size len, const char *src, const char *what)
{
	if (strlen(src) >= len)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s is too long for a parallel trial (%zu bytes, at most %zu)",
						what, strlen(src), len - 1)));
	strcpy(dst, src);
}

/* Create a board for n_trials trials. */
TrialBoard *
trials_create(int n_trials, int n_folds, Jsonb *request, const char *data_fingerprint, int64 job_id)
{
	char	   *req_text = JsonbToCString(NULL, &request->root, VARSIZE(request));
	Size		slots = offsetof(TrialBoardShared, slots) + sizeof(TrialSlot) * n_trials;
	Size		size = slots + strlen(req_text) + 1;
	TrialBoard *b = palloc0(sizeof(TrialBoard));
	TrialBoardShared *sh;

	Assert(n_trials >= 1 && n_trials <= TRIALS_MAX_PARALLEL && n_folds <= TRIALS_MAX_FOLDS);
	b->seg = dsm_create(size, 0);
	sh = dsm_segment_address(b->seg);
	memset(sh, 0, slots);
	sh->magic = TRIALS_MAGIC;
	sh->n_trials = n_trials;
	sh->n_folds = n_folds;
	pg_atomic_init_u32(&sh->next, 0);
	sh->dboid = MyDatabaseId;
	sh->owner = GetUserId();
	sh->job_procno = MyProc->pgprocno;
	sh->job_id = job_id;
	strlcpy(sh->fingerprint, data_fingerprint ? data_fingerprint : "", sizeof(sh->fingerprint));
	sh->request_off = slots;
	strcpy((char *) sh + slots, req_text);
	for (int t = 0; t < n_trials; t++)
		pg_atomic_init_u32(&sh->slots[t].state, TRIAL_FREE);
	b->sh = sh;
	return b;
}

/* Put trial t's hyperparameters. */
void
trials_put(TrialBoard *b, int t, Jsonb *given)
{
	copy_text(b->sh->slots[t].given, TRIALS_TEXT_LEN,
			  JsonbToCString(NULL, &given->root, VARSIZE(given)), "a trial's hyperparameters");
}

/* Start up to n trial workers; returns how many were registered. */
int
trials_launch(TrialBoard *b, int n)
{
	for (int i = 0; i < n && b->n_workers < TRIALS_MAX_WORKERS; i++)
	{
		BackgroundWorker worker;
		int			who = b->n_workers + 1;

		memset(&worker, 0, sizeof(worker));
		worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
		worker.bgw_restart_time = BGW_NEVER_RESTART;
		strlcpy(worker.bgw_library_name, "galaxy", BGW_MAXLEN);
		strlcpy(worker.bgw_function_name, "galaxy_trial_worker_main", BGW_MAXLEN);
		snprintf(worker.bgw_name, BGW_MAXLEN, "galaxy trial worker %d of process %d", who, MyProcPid);
		strlcpy(worker.bgw_type, "galaxy trial worker", BGW_MAXLEN);
		worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(b->seg));
		memcpy(worker.bgw_extra, &who, sizeof(who));
		worker.bgw_notify_pid = MyProcPid;
		if (!RegisterDynamicBackgroundWorker(&worker, &b->workers[b->n_workers]))
			break;				/* no free slot: the others (and the job) do the work */
		b->n_workers++;
	}
	return b->n_workers;
}

/* Claim the next trial; -1 when none is left. */
int
trials_claim(TrialBoard *b, int who)
{
	uint32		t = pg_atomic_fetch_add_u32(&b->sh->next, 1);

	if (t >= (uint32) b->sh->n_trials)
		return -1;
	b->sh->slots[t].claimed_by = who;
	pg_write_barrier();
	pg_atomic_write_u32(&b->sh->slots[t].state, TRIAL_CLAIMED);
	return (int) t;
}

/* Trial t's hyperparameters. */
Jsonb *
trials_given(TrialBoard *b, int t)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(b->sh->slots[t].given)));
}

/* Record trial t's result and wake the job's worker. */
void
trials_set_result(TrialBoard *b, int t, const TrialOutcome *o)
{
	TrialSlot  *s = &b->sh->slots[t];

	s->ok = o->ok;
	s->score = o->score;
	s->score_std = o->score_std;
	s->seconds = o->seconds;
	s->skipped = o->skipped;
	s->parameters = o->parameters;
	s->predict_ms = o->predict_ms;
	s->n_folds = Min(o->n_folds, TRIALS_MAX_FOLDS);
	memcpy(s->fold_scores, o->fold_scores, sizeof(double) * s->n_folds);
	s->metrics[0] = '\0';
	if (o->metrics)
	{
		char	   *m = JsonbToCString(NULL, &o->metrics->root, VARSIZE(o->metrics));

		if (strlen(m) < TRIALS_TEXT_LEN)
			strcpy(s->metrics, m);
	}
	strlcpy(s->error, o->error_message ? o->error_message : "", TRIALS_ERROR_LEN);
	strlcpy(s->sqlstate, o->sqlstate ? o->sqlstate : "", sizeof(s->sqlstate));
	pg_write_barrier();
	pg_atomic_write_u32(&s->state, TRIAL_DONE);
	SetLatch(&ProcGlobal->allProcs[b->sh->job_procno].procLatch);
}

/* Trials scored so far. */
static int
trials_done(TrialBoard *b)
{
	int			done = 0;

	for (int t = 0; t < b->sh->n_trials; t++)
		done += pg_atomic_read_u32(&b->sh->slots[t].state) == TRIAL_DONE ? 1 : 0;
	return done;
}

/* Whether every trial worker has stopped. */
static bool
workers_stopped(TrialBoard *b)
{
	for (int i = 0; i < b->n_workers; i++)
	{
		pid_t		pid;

		if (GetBackgroundWorkerPid(b->workers[i], &pid) != BGWH_STOPPED)
			return false;
	}
	return true;
}

/* Wait until every trial is done, or failed with the worker that claimed it. */
void
trials_wait(TrialBoard *b, void (*progress) (void *arg, int done), void *arg)
{
	int			last = -1;

	for (;;)
	{
		int			done = trials_done(b);
		bool		stopped;

		if (done != last && progress)
			progress(arg, done);
		last = done;
		if (done == b->sh->n_trials)
			break;
		stopped = workers_stopped(b);
		/* read the slots again: a worker may have finished a trial just before it stopped */
		pg_read_barrier();
		if (stopped)
		{
			for (int t = 0; t < b->sh->n_trials; t++)
			{
				TrialSlot  *s = &b->sh->slots[t];

				if (pg_atomic_read_u32(&s->state) == TRIAL_DONE)
					continue;
				s->ok = false;
				s->skipped = false;
				s->parameters = -1;
				s->predict_ms = NAN;
				s->n_folds = 0;
				s->metrics[0] = '\0';
				snprintf(s->error, TRIALS_ERROR_LEN,
						 "trial worker %d ended before the trial finished (see the server log)", s->claimed_by);
				strlcpy(s->sqlstate, "57P01", sizeof(s->sqlstate));
				pg_atomic_write_u32(&s->state, TRIAL_DONE);
			}
			continue;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 100L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}

	/* who scored what: one line for the server log (and the parallel search's test) */
	{
		int			by_workers = 0;

		for (int t = 0; t < b->sh->n_trials; t++)
			if (b->sh->slots[t].claimed_by > 0)
				by_workers++;
		ereport(LOG,
				(errmsg("galaxy search: %d trials, %d of them scored by trial workers (%d started)",
						b->sh->n_trials, by_workers, b->n_workers)));
	}
}

/* Trial t's result (palloc'd in the current context). */
void
trials_get_result(TrialBoard *b, int t, TrialOutcome *o)
{
	TrialSlot  *s = &b->sh->slots[t];

	memset(o, 0, sizeof(*o));
	o->ok = s->ok;
	o->score = s->score;
	o->score_std = s->score_std;
	o->seconds = s->seconds;
	o->skipped = s->skipped;
	o->parameters = s->parameters;
	o->predict_ms = s->predict_ms;
	o->n_folds = s->n_folds;
	memcpy(o->fold_scores, s->fold_scores, sizeof(double) * s->n_folds);
	if (s->ok && s->metrics[0] != '\0')
		o->metrics = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s->metrics)));
	if (!s->ok)
	{
		o->error_message = pstrdup(s->error[0] ? s->error : "unknown error");
		o->sqlstate = pstrdup(s->sqlstate[0] ? s->sqlstate : "XX000");
	}
}

/* Stop the trial workers and forget the board. */
void
trials_stop(TrialBoard *b)
{
	for (int i = 0; i < b->n_workers; i++)
		TerminateBackgroundWorker(b->workers[i]);
	/* nothing is claimed any more: a worker still starting finds no trial */
	pg_atomic_write_u32(&b->sh->next, (uint32) b->sh->n_trials);
	dsm_detach(b->seg);
	b->seg = NULL;
	b->sh = NULL;
}

/* Entry point of a trial worker (bgw_main_arg = the board's handle, bgw_extra = its number). */
void
galaxy_trial_worker_main(Datum arg)
{
	TrialBoard	b;
	int			who;
	TrainRequest *req;
	Jsonb	   *request;

	memset(&b, 0, sizeof(b));
	memcpy(&who, MyBgworkerEntry->bgw_extra, sizeof(who));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	CurrentResourceOwner = ResourceOwnerCreate(NULL, "galaxy trial worker");
	b.seg = dsm_attach(DatumGetUInt32(arg));
	if (b.seg == NULL)
		proc_exit(0);			/* the job is gone already */
	b.sh = dsm_segment_address(b.seg);
	if (b.sh->magic != TRIALS_MAGIC)
		proc_exit(0);
	BackgroundWorkerInitializeConnectionByOid(b.sh->dboid, b.sh->owner, 0);
	pgstat_report_appname("galaxy trial worker");

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "galaxy: trials of a hyperparameter search");
	request = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
												 CStringGetDatum((char *) b.sh + b.sh->request_off)));
	req = train_request_from_jsonb(request);
	req->job_id = b.sh->job_id;
	train_trials_run(req, &b, who, b.sh->fingerprint[0] ? b.sh->fingerprint : NULL);
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	dsm_detach(b.seg);
	proc_exit(0);
}
