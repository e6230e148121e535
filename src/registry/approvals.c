/*
 * approvals.c — the four-eyes deployment workflow: whether a project needs
 * approval, requests, decisions (approve/reject by another person) and the
 * use of an approval by a deployment.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "galaxy.h"
#include "registry/access.h"
#include "registry/approvals.h"
#include "registry/audit.h"
#include "registry/gates.h"
#include "util/query.h"

PG_FUNCTION_INFO_V1(galaxy_set_require_approval);
PG_FUNCTION_INFO_V1(galaxy_request_deployment);
PG_FUNCTION_INFO_V1(galaxy_approve);
PG_FUNCTION_INFO_V1(galaxy_reject);

/*
 * true if roleid and the named role are one person for the four-eyes rule:
 * the same role, or either one a member of the other (so it can SET ROLE to
 * it).  Superusers' power to become any role is not counted; they are
 * trusted.  A role that no longer exists is nobody.
 */
static bool
same_person(Oid roleid, const char *rolename)
{
	Oid			other;

	if (rolename == NULL)
		return false;
	other = get_role_oid(rolename, true);
	if (!OidIsValid(other))
		return false;
	return roleid == other ||
		is_member_of_role_nosuper(roleid, other) ||
		is_member_of_role_nosuper(other, roleid);
}

/* Whether deploying in this project needs an approved request. */
bool
registry_approval_required(int64 project_id)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1];
	bool		required = galaxy_require_approval;
	QueryResult *r;

	args[0] = Int64GetDatum(project_id);
	r = catalog_query("SELECT require_approval FROM galaxy.projects WHERE id = $1",
					  1, argtypes, args, NULL, true, 1,
					  SPI_OK_SELECT, "read galaxy.projects");
	if (r->nrows == 1)
		required = query_bool(r, 0, 1, required);
	return required;
}

/*
 * galaxy.set_require_approval(project, required): per-project override of
 * galaxy.require_approval (NULL follows the GUC).  Admins only.
 */
Datum
galaxy_set_require_approval(PG_FUNCTION_ARGS)
{
	char	   *project;
	int64		id;
	Oid			argtypes[2] = {INT8OID, BOOLOID};
	Datum		args[2];
	char		nulls[2] = {' ', ' '};
	StringInfoData js;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("project must not be NULL")));
	project = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!registry_is_admin(GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only a galaxy_admin may change whether project \"%s\" requires approval", project),
				 errdetail("Letting a project's owner turn off the four-eyes rule would defeat it."),
				 errhint("Ask a member of galaxy_admin to run it (an administrator can run GRANT galaxy_admin TO %s).",
						 quote_identifier(GetUserNameFromId(GetUserId(), false)))));
	id = registry_lookup_project(project);
	args[0] = Int64GetDatum(id);
	if (PG_ARGISNULL(1))
		nulls[1] = 'n';
	else
		args[1] = PG_GETARG_DATUM(1);
	catalog_command("UPDATE galaxy.projects SET require_approval = $2 WHERE id = $1",
					2, argtypes, args, nulls,
					SPI_OK_UPDATE, "update galaxy.projects");

	initStringInfo(&js);
	details_begin(&js);
	details_str(&js, "project", project);
	if (PG_ARGISNULL(1))
		details_json(&js, "require_approval", NULL);
	else
		details_bool(&js, "require_approval", PG_GETARG_BOOL(1));
	galaxy_audit("set_require_approval", "project", psprintf(INT64_FORMAT, id), details_end(&js));
	PG_RETURN_VOID();
}

/* A model's project id, version and status; ERROR 42704 if it does not exist. */
static int64
model_project(int64 model_id, char **version, char **status)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1];
	int64		project_id = 0;
	QueryResult *r;

	args[0] = Int64GetDatum(model_id);
	r = catalog_query("SELECT project_id, version, status FROM galaxy.models WHERE id = $1",
					  1, argtypes, args, NULL, true, 1,
					  SPI_OK_SELECT, "read galaxy.models");
	if (r->nrows == 1)
	{
		project_id = query_int64(r, 0, 1, 0);
		if (version)
			*version = query_text(r, 0, 2);
		if (status)
			*status = query_text(r, 0, 3);
	}
	if (project_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("galaxy model %lld does not exist", (long long) model_id)));
	return project_id;
}

/*
 * galaxy.request_deployment(model, note): ask for approval to deploy a model.
 * Needs the deploy privilege on its project.  Returns the request's id.
 */
Datum
galaxy_request_deployment(PG_FUNCTION_ARGS)
{
	int64		model_id;
	char	   *note = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *version = NULL;
	char	   *status = NULL;
	int64		project_id;
	int64		request_id;
	Oid			argtypes[6] = {INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, INT4OID};
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	QueryResult *r;
	StringInfoData js;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model must not be NULL")));
	model_id = PG_GETARG_INT64(0);
	project_id = model_project(model_id, &version, &status);
	registry_check_model_access(project_id, model_id, "request_deployment");
	if (strcmp(status, "training") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("galaxy model %lld is still training and cannot be deployed", (long long) model_id)));

	args[0] = Int64GetDatum(project_id);
	args[1] = Int64GetDatum(model_id);
	args[2] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	args[3] = CStringGetTextDatum(GetUserNameFromId(GetSessionUserId(), false));
	if (note)
		args[4] = CStringGetTextDatum(note);
	else
		nulls[4] = 'n';
	args[5] = Int32GetDatum(galaxy_approval_ttl_min);

	r = catalog_query("INSERT INTO galaxy.approvals"
					  " (project_id, model_id, requested_by, requested_session_user, note, expires_at)"
					  " VALUES ($1, $2, $3::name, $4::name, $5, now() + $6 * interval '1 minute')"
					  " RETURNING id",
					  6, argtypes, args, nulls, false, 0,
					  SPI_OK_INSERT_RETURNING, "write galaxy.approvals");
	if (r->nrows != 1)
		elog(ERROR, "could not write galaxy.approvals: no row returned");
	request_id = query_int64(r, 0, 1, 0);

	initStringInfo(&js);
	details_begin(&js);
	details_int(&js, "model", model_id);
	details_str(&js, "version", version);
	details_int(&js, "project_id", project_id);
	details_str(&js, "note", note);
	galaxy_audit("request_deployment", "approval", psprintf(INT64_FORMAT, request_id),
				 details_end(&js));
	PG_RETURN_INT64(request_id);
}

/*
 * approve() and reject(): the caller must be a galaxy_approver (or admin) and
 * must not be the requester (neither as current nor as session user).  A
 * request for a model that fails one of its project's quality gates cannot
 * be approved (ERROR 23514).
 */
static Datum
decide_request(FunctionCallInfo fcinfo, bool approve)
{
	const char *verb = approve ? "approve" : "reject";
	int64		request_id;
	char	   *note = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	Oid			roleid = GetUserId();
	char	   *curname = GetUserNameFromId(roleid, false);
	Oid			argtypes[5] = {INT8OID, TEXTOID, TEXTOID, INT4OID, TEXTOID};
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	QueryResult *r;
	char	   *state;
	char	   *requested_by;
	char	   *requested_session;
	bool		expired;
	int64		model_id;
	int64		project_id;
	Datum		result;
	StringInfoData js;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("request must not be NULL")));
	request_id = PG_GETARG_INT64(0);

	if (!registry_is_approver(roleid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s deployment request %lld", verb, (long long) request_id),
				 errdetail("Role \"%s\" is not a member of galaxy_approver.", curname),
				 errhint("An administrator can run GRANT galaxy_approver TO %s.", quote_identifier(curname))));

	args[0] = Int64GetDatum(request_id);
	r = catalog_query("SELECT state, requested_by, requested_session_user,"
					  " expires_at <= now(), model_id, project_id"
					  " FROM galaxy.approvals WHERE id = $1 FOR UPDATE",
					  1, argtypes, args, NULL, false, 1,
					  SPI_OK_SELECT, "read galaxy.approvals");
	if (r->nrows != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("deployment request %lld does not exist", (long long) request_id)));
	state = query_text(r, 0, 1);
	requested_by = query_text(r, 0, 2);
	requested_session = query_text(r, 0, 3);
	expired = query_bool(r, 0, 4, false);
	model_id = query_int64(r, 0, 5, 0);
	project_id = query_int64(r, 0, 6, 0);

	/*
	 * Four eyes: the decider must be another person.  Names are compared,
	 * and so is role membership either way: a role that can SET ROLE to the
	 * requester (or that the requester can become) is the same person.
	 */
	if (same_person(roleid, requested_by) || same_person(GetSessionUserId(), requested_by) ||
		same_person(roleid, requested_session) || same_person(GetSessionUserId(), requested_session))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" cannot %s its own deployment request %lld",
						curname, verb, (long long) request_id),
				 errdetail("Four-eyes rule: the request was made by \"%s\" (session user \"%s\"); a role that is, or is a member of, or has as a member, either of them cannot decide it.",
						   requested_by, requested_session),
				 errhint("Another galaxy_approver, unrelated to the requester by role membership, must decide it.")));

	if (strcmp(state, "pending") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("deployment request %lld is already %s", (long long) request_id, state)));
	if (expired)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("deployment request %lld has expired", (long long) request_id),
				 errdetail("Requests stay pending for galaxy.approval_ttl."),
				 errhint("Ask for a new one with SELECT galaxy.request_deployment(%lld).", (long long) model_id)));

	/* an approval is a promise that the model may serve: it must pass the gates */
	if (approve)
		registry_gates_enforce(project_id, model_id,
							   psprintf("deployment request %lld cannot be approved: ", (long long) request_id));

	args[1] = CStringGetTextDatum(approve ? "approved" : "rejected");
	args[2] = CStringGetTextDatum(curname);
	args[3] = Int32GetDatum(galaxy_approval_ttl_min);
	if (note)
		args[4] = CStringGetTextDatum(note);
	else
		nulls[4] = 'n';
	r = catalog_query("UPDATE galaxy.approvals SET state = $2, decided_by = $3::name,"
					  " decided_at = now(), decision_note = $5,"
					  " expires_at = CASE WHEN $2 = 'approved'"
					  "   THEN now() + $4 * interval '1 minute' ELSE expires_at END"
					  " WHERE id = $1 RETURNING *",
					  5, argtypes, args, nulls, false, 0,
					  SPI_OK_UPDATE_RETURNING, "update galaxy.approvals");
	if (r->nrows != 1)
		elog(ERROR, "could not update galaxy.approvals: no row returned");
	result = query_row_datum(r, 0);

	initStringInfo(&js);
	details_begin(&js);
	details_int(&js, "model", model_id);
	details_int(&js, "project_id", project_id);
	details_str(&js, "requested_by", requested_by);
	details_str(&js, "note", note);
	galaxy_audit(verb, "approval", psprintf(INT64_FORMAT, request_id), details_end(&js));

	PG_RETURN_DATUM(result);
}

/* galaxy.approve(request, note) */
Datum
galaxy_approve(PG_FUNCTION_ARGS)
{
	return decide_request(fcinfo, true);
}

/* galaxy.reject(request, note) */
Datum
galaxy_reject(PG_FUNCTION_ARGS)
{
	return decide_request(fcinfo, false);
}

/*
 * When approval is required, mark the newest valid approved request for the
 * model used and return its id; ERROR with a HINT otherwise.  0 when no
 * approval is required.
 */
int64
registry_consume_approval(int64 project_id, int64 model_id)
{
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		args[2];
	int64		approval_id = 0;
	QueryResult *r;

	if (!registry_approval_required(project_id))
		return 0;

	args[0] = Int64GetDatum(model_id);
	args[1] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	r = catalog_query("UPDATE galaxy.approvals SET state = 'used', used_at = now(), used_by = $2::name"
						" WHERE id = (SELECT id FROM galaxy.approvals"
						"   WHERE model_id = $1 AND state = 'approved' AND expires_at > now()"
						"   ORDER BY decided_at DESC, id DESC LIMIT 1 FOR UPDATE)"
						" RETURNING id",
						2, argtypes, args, NULL, false, 0,
						SPI_OK_UPDATE_RETURNING, "update galaxy.approvals");
	if (r->nrows == 1)
		approval_id = query_int64(r, 0, 1, 0);

	if (approval_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("deploying galaxy model %lld needs an approved deployment request", (long long) model_id),
				 errdetail("galaxy.require_approval (or the project's require_approval) is on, and the model has no unexpired approved request."),
				 errhint("Run SELECT galaxy.request_deployment(%lld, 'why'); then another member of galaxy_approver runs SELECT galaxy.approve(<request id>).",
						 (long long) model_id)));
	return approval_id;
}

/* Link a used approval to the deployment it authorised. */
void
registry_link_approval(int64 approval_id, int64 deployment_id)
{
	Oid			argtypes[2] = {INT8OID, INT8OID};
	Datum		args[2];

	if (approval_id == 0)
		return;
	args[0] = Int64GetDatum(approval_id);
	args[1] = Int64GetDatum(deployment_id);
	catalog_command("UPDATE galaxy.approvals SET deployment_id = $2 WHERE id = $1",
					2, argtypes, args, NULL,
					SPI_OK_UPDATE, "update galaxy.approvals");
}
