/*
 * refusal_audit.c — the audit row of a refused deploy.
 *
 * The deployment gates (gates.c) refuse a model with an ERROR, which rolls
 * back the refusing transaction and every audit row written in it.  So the
 * refusal is recorded as the export audit does (export.c): a short-lived
 * background worker, the refusal keeper, started just before the ERROR with
 * everything the row needs in bgw_extra, waits for the refusing transaction
 * to end and writes "deploy_refused" (object: the model; details: project,
 * the first failed gate, how many failed, and the refusing transaction) in
 * a transaction of its own, as the refused roles.  The row appears once the
 * refusing transaction has ended, not before.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"

#include "registry/audit.h"
#include "registry/refusal_audit.h"

PGDLLEXPORT void galaxy_refusal_audit_main(Datum arg);

/* What the refusal keeper needs, passed in bgw_extra (128 bytes). */
typedef struct RefusalAuditRequest
{
	Oid			dboid;
	Oid			session_user_oid;
	Oid			current_user_oid;
	TransactionId xid;
	int64		model_id;
	int64		project_id;
	int32		nfailed;
	char		gate[BGW_EXTRALEN - 4 * sizeof(Oid) - 2 * sizeof(int64) - sizeof(int32)];
} RefusalAuditRequest;

StaticAssertDecl(sizeof(RefusalAuditRequest) <= BGW_EXTRALEN,
				 "the refusal audit request must fit in bgw_extra");

/* Start the refusal keeper; see refusal_audit.h. */
void
refusal_audit_keep(int64 project_id, int64 model_id, const char *gate, int nfailed)
{
	BackgroundWorker worker = {0};
	BackgroundWorkerHandle *handle;
	RefusalAuditRequest req = {0};
	pid_t		pid;

	/* a standby's or a read-only transaction's refusal changes nothing to record */
	if (RecoveryInProgress() || XactReadOnly)
		return;
	req.dboid = MyDatabaseId;
	req.session_user_oid = GetSessionUserId();
	req.current_user_oid = GetUserId();
	req.xid = GetTopTransactionId();
	req.model_id = model_id;
	req.project_id = project_id;
	req.nfailed = nfailed;
	strlcpy(req.gate, gate ? gate : "", sizeof(req.gate));

	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "galaxy", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "galaxy_refusal_audit_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "galaxy refusal keeper for model " INT64_FORMAT, model_id);
	strlcpy(worker.bgw_type, "galaxy refusal keeper", BGW_MAXLEN);
	worker.bgw_notify_pid = MyProcPid;
	memcpy(worker.bgw_extra, &req, sizeof(req));

	if (!RegisterDynamicBackgroundWorker(&worker, &handle) ||
		WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
		ereport(WARNING,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("galaxy could not start its refusal keeper: the refused deploy of model %lld is not audited",
						(long long) model_id),
				 errhint("Raise max_worker_processes.")));
}

/*
 * Entry point of the refusal keeper: wait for the refusing transaction to
 * end, then write its audit row as the refused roles.
 */
void
galaxy_refusal_audit_main(Datum arg)
{
	RefusalAuditRequest req;
	StringInfoData js;

	memcpy(&req, MyBgworkerEntry->bgw_extra, sizeof(req));
	req.gate[sizeof(req.gate) - 1] = '\0';
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(req.dboid, req.session_user_oid,
											  BGWORKER_BYPASS_ALLOWCONN);
	pgstat_report_appname("galaxy refusal keeper");

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, "galaxy: waiting for a refusing transaction to end");
	XactLockTableWait(req.xid, NULL, NULL, XLTW_None);
	PushActiveSnapshot(GetTransactionSnapshot());
	SetUserIdAndSecContext(req.current_user_oid, 0);

	initStringInfo(&js);
	details_begin(&js);
	details_int(&js, "project_id", req.project_id);
	details_str(&js, "gate", req.gate);
	details_int(&js, "failed_gates", req.nfailed);
	details_int(&js, "refusing_xid", (int64) req.xid);
	galaxy_audit("deploy_refused", "model", psprintf(INT64_FORMAT, req.model_id), details_end(&js));

	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}
