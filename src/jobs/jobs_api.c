/*
 * jobs_api.c — SQL functions of background training: galaxy.submit(),
 * galaxy.cancel(), galaxy.wait().
 *
 * They run as the calling role; the job queue (galaxy.jobs) is read and
 * written as the extension owner (util/catalog.h) after explicit checks:
 * a job's owner (or a member of the owning role) and galaxy admins may
 * cancel it; whoever may see it (progress_role_visible) may wait for it.
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "api/train.h"
#include "galaxy.h"
#include "jobs/shmem.h"
#include "progress/progress.h"
#include "registry/access.h"
#include "registry/audit.h"
#include "registry/versions.h"
#include "util/catalog.h"
#include "util/query.h"

PG_FUNCTION_INFO_V1(galaxy_submit);
PG_FUNCTION_INFO_V1(galaxy_cancel);
PG_FUNCTION_INFO_V1(galaxy_wait);

/*
 * Positions of submit()'s own arguments, after train()'s: TA_NARGS of them,
 * or TA_NARGS_0_1 in a database not yet updated from 0.1.0.
 */
#define SUBMIT_OWN_ARGS	3
#define SA_PRIORITY		(ntrain + 0)
#define SA_RETRIES		(ntrain + 1)
#define SA_TIMEOUT		(ntrain + 2)

/* How long galaxy.cancel() waits for a running job's worker to stop. */
#define CANCEL_WAIT_MS	5000

/* A job as galaxy.cancel()/wait() need it. */
typedef struct JobState
{
	bool		found;
	char		state[16];
	Oid			owner_oid;
	char		owner[NAMEDATALEN];
	int64		project_id;		/* 0 if the project did not exist at submit */
	bool		inserted_here;	/* row created by the current transaction */
	Datum		row;			/* the whole galaxy.jobs row (caller's context) */
} JobState;

/* Milliseconds of an interval (months as 30 days), for limits. */
static double
interval_ms(const Interval *iv)
{
	return (double) iv->time / 1000.0 +
		((double) iv->day + (double) iv->month * DAYS_PER_MONTH) * SECS_PER_DAY * 1000.0;
}

/* Audit details {"previous_state": state} of a cancelled job. */
static Jsonb *
cancel_details(const char *state)
{
	StringInfoData d;

	initStringInfo(&d);
	details_begin(&d);
	details_str(&d, "previous_state", state);
	return details_end(&d);
}

/*
 * Read a job with a fresh snapshot (READ COMMITTED: a new one per query),
 * as the extension owner.  The row datum is copied into 'cxt'.
 */
static void
read_job(int64 job_id, JobState *js, MemoryContext cxt)
{
	QueryResult *r;

	memset(js, 0, sizeof(*js));
	r = catalog_query("SELECT j.state, j.owner_oid, j.owner, j.xmin::text, j, j.project_id "
					  "FROM galaxy.jobs j WHERE j.id = $1",
					  1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(job_id)}, NULL, false, 0,
					  SPI_OK_SELECT, "read galaxy.jobs");
	if (r->nrows == 1)
	{
		bool		isnull;
		char	   *xmin = query_text(r, 0, 4);
		MemoryContext old;

		js->found = true;
		strlcpy(js->state, query_text(r, 0, 1), sizeof(js->state));
		js->owner_oid = DatumGetObjectId(query_datum(r, 0, 2, &isnull));
		strlcpy(js->owner, query_text(r, 0, 3), sizeof(js->owner));
		js->inserted_here = TransactionIdIsCurrentTransactionId((TransactionId) strtoul(xmin, NULL, 10));
		js->project_id = query_int64(r, 0, 6, 0);
		/* a row of its own in cxt (callers pfree it) */
		old = MemoryContextSwitchTo(cxt);
		js->row = datumCopy(query_datum(r, 0, 5, &isnull), false, -1);
		MemoryContextSwitchTo(old);
	}
	if (!js->found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("galaxy job " INT64_FORMAT " does not exist", job_id),
				 errhint("galaxy.jobs_overview lists the jobs you can see.")));
}

/* The job is finished (no further state change will happen). */
static bool
job_finished(const JobState *js)
{
	return strcmp(js->state, "succeeded") == 0 ||
		strcmp(js->state, "failed") == 0 ||
		strcmp(js->state, "cancelled") == 0;
}

/*
 * ERROR unless the caller may see the job: as row-level security on
 * galaxy.jobs, it acts for the owner, is an admin, or may read the project.
 */
static void
check_can_see(int64 job_id, const JobState *js)
{
	if (!progress_role_visible(js->owner_oid) &&
		!(js->project_id != 0 && registry_project_visible(js->project_id)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for galaxy job " INT64_FORMAT, job_id),
				 errdetail("The job belongs to role \"%s\".", js->owner)));
}

/*
 * true if the worker of the job waits for a lock this backend holds (for
 * instance the audit chain's lock, taken by any audited change of this
 * still open transaction): waiting for it would never end.
 */
static bool
worker_blocked_by_me(int64 job_id)
{
	int			pid = jobs_worker_pid(MyDatabaseId, job_id);
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i;

	if (pid == 0)
		return false;
	arr = DatumGetArrayTypeP(DirectFunctionCall1(pg_blocking_pids, Int32GetDatum(pid)));
	deconstruct_array(arr, INT4OID, 4, true, TYPALIGN_INT, &elems, &nulls, &n);
	for (i = 0; i < n; i++)
		if (!nulls[i] && DatumGetInt32(elems[i]) == MyProcPid)
			return true;
	return false;
}

/*
 * Ask the worker of a running job to stop and wait (bounded) until it is
 * gone; false if no worker owns the job (any more).
 */
static bool
cancel_running_job(int64 job_id, Oid me)
{
	TimestampTz deadline;

	if (!jobs_request_cancel(MyDatabaseId, job_id, me))
		return false;
	/* the worker stops within a second; wait for it, bounded */
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), CANCEL_WAIT_MS);
	while (jobs_worker_active(MyDatabaseId, job_id) && GetCurrentTimestamp() < deadline &&
		   !worker_blocked_by_me(job_id))
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	return true;
}

/*
 * Cancel a job no worker owns (queued, or running but left over from a
 * crash) if it is still in 'state'; true if it was.
 */
static bool
cancel_idle_job(int64 job_id, const char *state, const char *myname)
{
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3];

	values[0] = Int64GetDatum(job_id);
	values[1] = CStringGetTextDatum(psprintf("cancelled by role %s with galaxy.cancel()", myname));
	values[2] = CStringGetTextDatum(state);
	return catalog_command("UPDATE galaxy.jobs SET state = 'cancelled',"
						   " error_message = $2, error_sqlstate = '57014',"
						   " finished_at = greatest(now(), started_at) "
						   "WHERE id = $1 AND state = $3",
						   3, types, values, NULL,
						   SPI_OK_UPDATE, "cancel galaxy job") == 1;
}

/* galaxy.cancel(job bigint) → galaxy.jobs */
Datum
galaxy_cancel(PG_FUNCTION_ARGS)
{
	int64		job_id = PG_GETARG_INT64(0);
	Oid			me = GetUserId();
	char	   *myname = GetUserNameFromId(me, false);
	char		idbuf[32];
	JobState	js;

	snprintf(idbuf, sizeof(idbuf), INT64_FORMAT, job_id);
	for (;;)
	{
		read_job(job_id, &js, CurrentMemoryContext);
		check_can_see(job_id, &js);
		if (!progress_role_visible(js.owner_oid) &&
			!(js.project_id != 0 &&
			  registry_has_project_privilege(me, js.project_id, registry_action_privilege("cancel"))))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to cancel galaxy job " INT64_FORMAT, job_id),
					 errdetail("The job belongs to role \"%s\"; its owner, roles with train privilege on its project and galaxy_admin may cancel it.",
							   js.owner)));

		if (job_finished(&js))
		{
			ereport(NOTICE,
					(errmsg("galaxy job " INT64_FORMAT " already %s", job_id, js.state)));
			break;
		}
		if (strcmp(js.state, "running") == 0 && jobs_worker_active(MyDatabaseId, job_id))
		{
			/*
			 * The worker records 'cancelled' (audited) and registers no
			 * model.  Our own audit row comes after the wait: writing it
			 * takes the audit chain's lock until we commit, which the
			 * worker's audit row would then wait for.
			 */
			if (cancel_running_job(job_id, me))
			{
				galaxy_audit("cancel", "job", idbuf, cancel_details(js.state));
				read_job(job_id, &js, CurrentMemoryContext);
				break;
			}
			continue;
		}
		if (cancel_idle_job(job_id, js.state, myname))
		{
			galaxy_audit("cancel", "job", idbuf, cancel_details(js.state));
			jobs_notify(job_id, "cancelled");
			jobs_wake_at_commit(false, true);
			read_job(job_id, &js, CurrentMemoryContext);
			break;
		}
		/* its state changed meanwhile (a worker took it): look again */
		CHECK_FOR_INTERRUPTS();
	}
	PG_RETURN_DATUM(js.row);
}

/* Stop being a registered waiter. */
static void
wait_unregister(void)
{
	ProgressSlot *slot = jobs_my_slot();

	if (slot == NULL)
		return;
	LWLockAcquire(galaxy_jobs_shared->lock, LW_EXCLUSIVE);
	slot->wait_job_id = 0;
	slot->wait_dboid = InvalidOid;
	LWLockRelease(galaxy_jobs_shared->lock);
}

/*
 * The waiting loop of galaxy.wait(): read the job with a fresh snapshot,
 * sleep on the latch (set by the worker or a canceller at commit; at most
 * 1 s), repeat until it has finished or the deadline passed.
 */
static Datum
wait_loop(int64 job_id, bool has_timeout, TimestampTz deadline)
{
	MemoryContext result_cxt = CurrentMemoryContext;
	MemoryContext loop_cxt = AllocSetContextCreate(CurrentMemoryContext, "galaxy wait",
												   ALLOCSET_SMALL_SIZES);
	ProgressSlot *slot = jobs_my_slot();
	bool		first = true;
	JobState	js;

	for (;;)
	{
		long		sleep_ms = 1000;

		MemoryContextReset(loop_cxt);
		MemoryContextSwitchTo(loop_cxt);
		read_job(job_id, &js, result_cxt);
		MemoryContextSwitchTo(result_cxt);
		if (first)
		{
			check_can_see(job_id, &js);
			if (!job_finished(&js) && js.inserted_here)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("galaxy job " INT64_FORMAT " was submitted in this transaction and cannot start before it commits",
								job_id),
						 errhint("COMMIT first, then call galaxy.wait().")));
			if (!job_finished(&js))
				galaxy_require_preload("galaxy.wait");
			if (slot != NULL)
			{
				LWLockAcquire(galaxy_jobs_shared->lock, LW_EXCLUSIVE);
				slot->wait_dboid = MyDatabaseId;
				slot->wait_job_id = job_id;
				slot->pgprocno = MyProc->pgprocno;
				LWLockRelease(galaxy_jobs_shared->lock);
			}
			first = false;
		}
		if (job_finished(&js))
			break;
		if (has_timeout)
		{
			TimestampTz now = GetCurrentTimestamp();

			if (now >= deadline)
				break;
			sleep_ms = Min(sleep_ms, (long) ((deadline - now) / 1000) + 1);
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 sleep_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		pfree(DatumGetPointer(js.row));
		if (worker_blocked_by_me(job_id))
			ereport(ERROR,
					(errcode(ERRCODE_T_R_DEADLOCK_DETECTED),
					 errmsg("galaxy job " INT64_FORMAT " waits for a lock held by this transaction", job_id),
					 errdetail("Its worker waits for a lock this transaction holds; an audited galaxy call, for instance, holds the audit log's lock until the transaction ends."),
					 errhint("COMMIT or ROLLBACK before calling galaxy.wait().")));
	}
	MemoryContextDelete(loop_cxt);
	return js.row;
}

/* galaxy.wait(job bigint, timeout interval DEFAULT NULL) → galaxy.jobs */
Datum
galaxy_wait(PG_FUNCTION_ARGS)
{
	int64		job_id;
	bool		has_timeout = !PG_ARGISNULL(1);
	volatile TimestampTz deadline = 0;
	volatile Datum result = (Datum) 0;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("job must not be NULL")));
	job_id = PG_GETARG_INT64(0);
	if (has_timeout)
	{
		double		ms = interval_ms(PG_GETARG_INTERVAL_P(1));

		if (ms < 0 || isnan(ms))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("timeout must not be negative")));
		deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), (int64) Min(ms, 1e15));
	}
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("galaxy.wait() cannot see a job's progress in a REPEATABLE READ or SERIALIZABLE transaction"),
				 errhint("Call it in READ COMMITTED (the default) or outside an explicit transaction.")));

	progress_register_cleanup();
	PG_TRY();
	{
		result = wait_loop(job_id, has_timeout, deadline);
	}
	PG_FINALLY();
	{
		wait_unregister();
	}
	PG_END_TRY();
	PG_RETURN_DATUM(result);
}

/*
 * galaxy.submit(<galaxy.train()'s arguments>, priority int, retries int,
 * timeout interval) → bigint: validate like train() does, queue the job as
 * the calling role, and wake the launcher when the transaction commits.
 */
Datum
galaxy_submit(PG_FUNCTION_ARGS)
{
	TrainRequest *req;
	int			ntrain = PG_NARGS() - SUBMIT_OWN_ARGS;
	int			priority = PG_ARGISNULL(SA_PRIORITY) ? 0 : PG_GETARG_INT32(SA_PRIORITY);
	int			retries = PG_ARGISNULL(SA_RETRIES) ? 0 : PG_GETARG_INT32(SA_RETRIES);
	Interval   *timeout = PG_ARGISNULL(SA_TIMEOUT) ? NULL : PG_GETARG_INTERVAL_P(SA_TIMEOUT);
	Oid			owner = GetUserId();
	char	   *owner_name = GetUserNameFromId(owner, false);
	HeapTuple	roletup;
	bool		canlogin;
	int64		project_id;
	Jsonb	   *request;
	Oid			types[8] = {INT8OID, TEXTOID, NAMEOID, OIDOID, INT4OID, INT4OID,
	INTERVALOID, JSONBOID};
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	QueryResult *r;
	int64		job_id;
	char		idbuf[32];

	galaxy_require_preload("galaxy.submit");

	if (retries < 0 || retries > 100)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retries must be between 0 and 100, got %d", retries)));
	if (timeout != NULL && interval_ms(timeout) < 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("timeout must be positive"),
				 errhint("Pass NULL for no limit beyond galaxy.job_timeout.")));
	if (timeout != NULL && interval_ms(timeout) > (double) INT_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("timeout must be at most %d ms (about 24 days)", INT_MAX)));

	/* the same request and checks as galaxy.train(): typos fail here */
	if (ntrain != TA_NARGS && ntrain != TA_NARGS_0_1)
		elog(ERROR, "galaxy.submit called with %d arguments", PG_NARGS());
	req = train_request_from_args(fcinfo, ntrain);
	train_request_validate(req);
	train_request_check_inputs(req);

	/* the worker connects as this role, so it must be able to log in */
	roletup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(owner));
	if (!HeapTupleIsValid(roletup))
		elog(ERROR, "cache lookup failed for role %u", owner);
	canlogin = ((Form_pg_authid) GETSTRUCT(roletup))->rolcanlogin;
	ReleaseSysCache(roletup);
	if (!canlogin)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("role \"%s\" cannot log in, so a background worker cannot run a job as it",
						owner_name),
				 errhint("Submit as a role with LOGIN (RESET ROLE), or train synchronously with galaxy.train().")));

	project_id = registry_project_id(req->project, true);
	if (project_id != 0)
		registry_check_project_access(project_id, "submit");

	request = train_request_to_jsonb(req);

	values[0] = Int64GetDatum(project_id);
	nulls[0] = project_id != 0 ? ' ' : 'n';
	values[1] = CStringGetTextDatum(req->project);
	values[2] = CStringGetDatum(owner_name);
	values[3] = ObjectIdGetDatum(owner);
	values[4] = Int32GetDatum(priority);
	values[5] = Int32GetDatum(retries);
	values[6] = timeout ? IntervalPGetDatum(timeout) : (Datum) 0;
	nulls[6] = timeout ? ' ' : 'n';
	values[7] = JsonbPGetDatum(request);
	r = catalog_query("INSERT INTO galaxy.jobs (project_id, project, owner, owner_oid,"
					  " priority, retries, timeout, request) "
					  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
					  8, types, values, nulls, false, 0,
					  SPI_OK_INSERT_RETURNING, "queue the job");
	if (r->nrows != 1)
		elog(ERROR, "could not queue the job: no row returned");
	job_id = query_int64(r, 0, 1, 0);

	snprintf(idbuf, sizeof(idbuf), INT64_FORMAT, job_id);
	galaxy_audit("submit", "job", idbuf, request);
	jobs_notify(job_id, "queued");
	jobs_wake_at_commit(true, false);
	PG_RETURN_INT64(job_id);
}
