/*
 * refusal_audit.c — the audit row of a refused deploy.
 *
 * The deployment gates (gates.c) refuse a model with an ERROR, which rolls
 * back the refusing transaction and every audit row written in it.  So the
 * refusal is recorded as the export audit does (export.c): just before the
 * ERROR the refusal is appended to a file of the transaction's refusals
 * (files are not rolled back), and the first refusal of a transaction
 * starts a short-lived background worker, the refusal keeper, which waits
 * for the transaction to end and writes "deploy_refused" (object: the model;
 * details: project, the first failed gate, how many failed, the refusing
 * transaction) for every line of the file, in a transaction of its own, as
 * the refused roles.  The rows appear once the refusing transaction has
 * ended, not before; one keeper serves all the refusals of a transaction.
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "common/file_perm.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "registry/audit.h"
#include "registry/refusal_audit.h"

PGDLLEXPORT void galaxy_refusal_audit_main(Datum arg);

/*
 * The refusals of a transaction wait for its keeper in a file of their own,
 * DataDir/pg_galaxy_refusals/<xid>, one line each: the refused role, the
 * project, the model, how many gates failed, the first failed gate.  A file
 * is not rolled back with the transaction; the keeper reads it once the
 * transaction has ended, writes one audit row per line and removes it.
 */
#define REFUSAL_DIR "pg_galaxy_refusals"
#define REFUSAL_LINE 1200

/* What the refusal keeper needs, passed in bgw_extra (128 bytes). */
typedef struct RefusalAuditRequest
{
	Oid			dboid;
	Oid			session_user_oid;
	TransactionId xid;
} RefusalAuditRequest;

StaticAssertDecl(sizeof(RefusalAuditRequest) <= BGW_EXTRALEN,
				 "the refusal audit request must fit in bgw_extra");

/* The transaction whose keeper this backend started last. */
static TransactionId keeper_xid = InvalidTransactionId;

/* Whether a role exists (in the keeper's transaction). */
static bool
role_exists(Oid role)
{
	return OidIsValid(role) && SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(role));
}

/* Path of a transaction's refusal file. */
static void
refusal_path(TransactionId xid, char *path, Size len)
{
	snprintf(path, len, "%s/%s/%u", DataDir, REFUSAL_DIR, xid);
}

/* Append one refusal to the transaction's file; false when it cannot be written. */
static bool
refusal_append(TransactionId xid, int64 project_id, int64 model_id, const char *gate, int nfailed)
{
	char		dir[MAXPGPATH];
	char		path[MAXPGPATH];
	char		text[REFUSAL_LINE - 100];
	FILE	   *f;
	bool		ok;

	snprintf(dir, sizeof(dir), "%s/%s", DataDir, REFUSAL_DIR);
	if (mkdir(dir, pg_dir_create_mode) != 0 && errno != EEXIST)
		return false;
	strlcpy(text, gate ? gate : "", sizeof(text));
	for (char *c = text; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	refusal_path(xid, path, sizeof(path));
	f = AllocateFile(path, "a");
	if (f == NULL)
		return false;
	ok = fprintf(f, "%u " INT64_FORMAT " " INT64_FORMAT " %d %s\n",
				 GetUserId(), project_id, model_id, nfailed, text) > 0;
	ok &= FreeFile(f) == 0;
	return ok;
}

/* Start the refusal keeper; see refusal_audit.h. */
void
refusal_audit_keep(int64 project_id, int64 model_id, const char *gate, int nfailed)
{
	BackgroundWorker worker = {0};
	BackgroundWorkerHandle *handle;
	RefusalAuditRequest req = {0};
	pid_t		pid;
	TransactionId xid;
	char		path[MAXPGPATH];

	/* a standby's or a read-only transaction's refusal changes nothing to record */
	if (RecoveryInProgress() || XactReadOnly)
		return;
	xid = GetTopTransactionId();
	if (!refusal_append(xid, project_id, model_id, gate, nfailed))
	{
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("galaxy could not record the refused deploy of model %lld for its audit: %m",
						(long long) model_id)));
		return;
	}
	/* one keeper per transaction: it writes every refusal of the file */
	if (keeper_xid == xid)
		return;

	req.dboid = MyDatabaseId;
	req.session_user_oid = GetSessionUserId();
	req.xid = xid;
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "galaxy", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "galaxy_refusal_audit_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "galaxy refusal keeper for transaction %u", xid);
	strlcpy(worker.bgw_type, "galaxy refusal keeper", BGW_MAXLEN);
	worker.bgw_notify_pid = MyProcPid;
	memcpy(worker.bgw_extra, &req, sizeof(req));

	if (!RegisterDynamicBackgroundWorker(&worker, &handle) ||
		WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
	{
		refusal_path(xid, path, sizeof(path));
		(void) unlink(path);
		ereport(WARNING,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("galaxy could not start its refusal keeper: the refused deploy of model %lld is not audited",
						(long long) model_id),
				 errhint("Raise max_worker_processes.")));
		return;
	}
	keeper_xid = xid;
}

/*
 * Entry point of the refusal keeper: wait for the refusing transaction to
 * end, then write an audit row for each of its refusals, as the refused
 * roles, and remove their file.
 */
void
galaxy_refusal_audit_main(Datum arg)
{
	RefusalAuditRequest req;
	char		path[MAXPGPATH];
	char		line[REFUSAL_LINE];
	FILE	   *f;

	memcpy(&req, MyBgworkerEntry->bgw_extra, sizeof(req));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	/*
	 * Connected as the bootstrap superuser: the refused session's role may
	 * have been created by the refused transaction, and be gone with it.
	 */
	BackgroundWorkerInitializeConnectionByOid(req.dboid, InvalidOid, BGWORKER_BYPASS_ALLOWCONN);
	pgstat_report_appname("galaxy refusal keeper");

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, "galaxy: waiting for a refusing transaction to end");
	XactLockTableWait(req.xid, NULL, NULL, XLTW_None);
	PushActiveSnapshot(GetTransactionSnapshot());
	/* the rows name the refused session's role when it still exists */
	if (role_exists(req.session_user_oid))
		SetSessionAuthorization(req.session_user_oid, superuser_arg(req.session_user_oid));

	refusal_path(req.xid, path, sizeof(path));
	f = AllocateFile(path, "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
	{
		unsigned int role;
		long long	project_id,
					model_id;
		int			nfailed,
					used = 0;
		StringInfoData js;
		char	   *gate;

		if (sscanf(line, "%u %lld %lld %d %n", &role, &project_id, &model_id, &nfailed, &used) < 4 || used == 0)
			continue;
		gate = line + used;
		gate[strcspn(gate, "\n")] = '\0';
		initStringInfo(&js);
		details_begin(&js);
		if (role_exists((Oid) role))
			SetUserIdAndSecContext((Oid) role, 0);
		else
		{
			/* a role the refused transaction created: gone with it */
			SetUserIdAndSecContext(GetSessionUserId(), 0);
			details_int(&js, "refused_role_oid", (int64) role);
		}
		details_int(&js, "project_id", (int64) project_id);
		details_str(&js, "gate", gate);
		details_int(&js, "failed_gates", nfailed);
		details_int(&js, "refusing_xid", (int64) req.xid);
		galaxy_audit("deploy_refused", "model", psprintf("%lld", model_id), details_end(&js));
	}
	if (f != NULL)
		FreeFile(f);

	PopActiveSnapshot();
	CommitTransactionCommand();
	(void) unlink(path);
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
