/*
 * role_hint.c — a HINT on "permission denied" for galaxy's functions, tables
 * and views, naming the galaxy role that grants what was refused.
 *
 * PostgreSQL checks EXECUTE on a function and SELECT on a relation while it
 * plans a query (a view) or starts the executor (functions, tables), before
 * any of galaxy's code runs, so galaxy cannot raise that error itself.  A
 * planner hook and an ExecutorStart hook catch it instead: when the error is
 * about one of galaxy's objects, is refused to the calling role and has no
 * hint yet, the hook adds one and throws it again; every other error passes
 * through untouched, and planning or starting a query costs one setjmp more.
 * Backends that have loaded galaxy add the hint: with
 * shared_preload_libraries = 'galaxy', every backend.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "optimizer/planner.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "registry/role_hint.h"

static ExecutorStart_hook_type prev_executor_start = NULL;
static planner_hook_type prev_planner = NULL;

/* galaxy's roles, weakest first (see src/sql/90_roles_grants.sql). */
static const char *const galaxy_roles[] = {"galaxy_reader", "galaxy_trainer", "galaxy_approver", "galaxy_admin"};

#define N_GALAXY_ROLES lengthof(galaxy_roles)

/* "<what>: an administrator can run GRANT <role> TO <the calling role>." */
static char *
grant_hint(const char *what, const char *role)
{
	return psprintf("%s: an administrator can run GRANT %s TO %s.",
					what, role, quote_identifier(GetUserNameFromId(GetUserId(), false)));
}

/* The hint for <schema nsp>.<name>(...) refused to the caller, or NULL. */
static char *
function_hint(Oid nsp, const char *name)
{
	CatCList   *list = SearchSysCacheList1(PROCNAMEARGSNSP, CStringGetDatum(name));
	Oid			denied = InvalidOid;

	for (int i = 0; i < list->n_members && !OidIsValid(denied); i++)
	{
		Form_pg_proc p = (Form_pg_proc) GETSTRUCT(&list->members[i]->tuple);

		if (p->pronamespace == nsp && pg_proc_aclcheck(p->oid, GetUserId(), ACL_EXECUTE) != ACLCHECK_OK)
			denied = p->oid;
	}
	ReleaseSysCacheList(list);
	if (!OidIsValid(denied))
		return NULL;

	for (int r = 0; r < N_GALAXY_ROLES; r++)
	{
		Oid			roleid = get_role_oid(galaxy_roles[r], true);

		if (OidIsValid(roleid) && pg_proc_aclcheck(denied, roleid, ACL_EXECUTE) == ACLCHECK_OK)
			return has_privs_of_role(GetUserId(), roleid) ? NULL :
				grant_hint(psprintf("%s.%s is for %s", get_namespace_name(nsp), name, galaxy_roles[r]),
						   galaxy_roles[r]);
	}
	return psprintf("%s.%s is for superusers only.", get_namespace_name(nsp), name);
}

/* The hint for galaxy's table or view <name> refused to the caller, or NULL. */
static char *
relation_hint(Oid nsp, const char *name)
{
	Oid			relid = get_relname_relid(name, nsp);

	if (!OidIsValid(relid))
		return NULL;
	for (int r = 0; r < N_GALAXY_ROLES; r++)
	{
		Oid			roleid = get_role_oid(galaxy_roles[r], true);
		bool		member;

		if (!OidIsValid(roleid))
			continue;
		member = has_privs_of_role(GetUserId(), roleid);
		if (pg_class_aclcheck(relid, roleid, ACL_SELECT) == ACLCHECK_OK)
			return member ? NULL :
				grant_hint(psprintf("galaxy.%s is readable by %s", name, galaxy_roles[r]), galaxy_roles[r]);
		if (pg_attribute_aclcheck_all(relid, roleid, ACL_SELECT, ACLMASK_ANY) == ACLCHECK_OK)
		{
			/* galaxy.models: every column but the model bytes */
			if (!member)
				return grant_hint(psprintf("galaxy.%s is readable by %s (not every column)", name, galaxy_roles[r]),
								  galaxy_roles[r]);
			if (strcmp(name, "models") == 0)
				return pstrdup("galaxy_reader may read every column of galaxy.models but model: name the columns you need, "
							   "or export a model with galaxy.export_model().");
			return NULL;
		}
	}
	return NULL;
}

/*
 * A hint for a "permission denied" error about one of galaxy's objects, or
 * NULL.  The object's name ends the message ("permission denied for
 * function train"); its kind comes from the untranslated message.
 */
static char *
role_hint_for(const ErrorData *edata)
{
	bool		function;
	const char *name;
	Oid			nsp;
	Oid			internal;
	char	   *hint;

	if (edata->sqlerrcode != ERRCODE_INSUFFICIENT_PRIVILEGE || edata->hint != NULL ||
		edata->message_id == NULL || edata->message == NULL)
		return NULL;
	if (strcmp(edata->message_id, "permission denied for function %s") == 0)
		function = true;
	else if (strcmp(edata->message_id, "permission denied for table %s") == 0 ||
			 strcmp(edata->message_id, "permission denied for view %s") == 0)
		function = false;
	else
		return NULL;
	name = strrchr(edata->message, ' ');
	if (name == NULL || name[1] == '\0')
		return NULL;
	name++;
	nsp = get_namespace_oid("galaxy", true);
	if (!OidIsValid(nsp))
		return NULL;
	if (!function)
		return relation_hint(nsp, name);
	/* whole-row predict runs as galaxy_internal.predict_columns (the planner's rewrite) */
	hint = function_hint(nsp, name);
	internal = get_namespace_oid("galaxy_internal", true);
	if (hint == NULL && OidIsValid(internal))
		hint = function_hint(internal, name);
	return hint;
}

/*
 * In a PG_CATCH block: throw the error being handled again, with a hint
 * when it is a permission error about one of galaxy's objects.
 */
static void
role_hint_rethrow(MemoryContext context)
{
	ErrorData  *edata;
	char	   *hint;

	MemoryContextSwitchTo(context);
	edata = CopyErrorData();
	hint = role_hint_for(edata);
	if (hint == NULL)
		PG_RE_THROW();
	FlushErrorState();
	edata->hint = hint;
	ReThrowError(edata);
}

/* Planner hook: a view's SELECT privilege is checked while planning. */
static PlannedStmt *
role_hint_planner(Query *parse, const char *query_string, int cursorOptions, ParamListInfo boundParams)
{
	MemoryContext context = CurrentMemoryContext;
	PlannedStmt *result = NULL;

	PG_TRY();
	{
		if (prev_planner)
			result = prev_planner(parse, query_string, cursorOptions, boundParams);
		else
			result = standard_planner(parse, query_string, cursorOptions, boundParams);
	}
	PG_CATCH();
	{
		role_hint_rethrow(context);
	}
	PG_END_TRY();
	return result;
}

/* ExecutorStart hook: functions' EXECUTE and tables' SELECT are checked here. */
static void
role_hint_executor_start(QueryDesc *queryDesc, int eflags)
{
	MemoryContext context = CurrentMemoryContext;

	PG_TRY();
	{
		if (prev_executor_start)
			prev_executor_start(queryDesc, eflags);
		else
			standard_ExecutorStart(queryDesc, eflags);
	}
	PG_CATCH();
	{
		role_hint_rethrow(context);
	}
	PG_END_TRY();
}

/* Install the hooks; called once from _PG_init. */
void
role_hint_init(void)
{
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = role_hint_executor_start;
	prev_planner = planner_hook;
	planner_hook = role_hint_planner;
}
