/*
 * governance.c — who may do what in the registry: project access checks and
 * grants, the four-eyes approval workflow, model immutability, and the
 * registry's GUCs.
 *
 * All catalog reads and writes run as the extension owner (util/catalog.h);
 * the caller's identity is captured first and every decision is made
 * explicitly here, so row-level security on the catalog (which the owner
 * bypasses) is only the SQL-level view of the same rules.
 */
#include "postgres.h"

#include <limits.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/inval.h"
#include "utils/syscache.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "galaxy.h"
#include "registry/audit.h"
#include "registry/deploy.h"
#include "registry/registry.h"
#include "util/catalog.h"
#include "util/query.h"

bool		galaxy_require_approval = false;
int			galaxy_approval_ttl_min = 7 * 24 * 60;

PG_FUNCTION_INFO_V1(galaxy_grant_project);
PG_FUNCTION_INFO_V1(galaxy_revoke_project);
PG_FUNCTION_INFO_V1(galaxy_project_visible);
PG_FUNCTION_INFO_V1(galaxy_has_project_privilege);
PG_FUNCTION_INFO_V1(galaxy_owner_visible);
PG_FUNCTION_INFO_V1(galaxy_set_require_approval);
PG_FUNCTION_INFO_V1(galaxy_request_deployment);
PG_FUNCTION_INFO_V1(galaxy_approve);
PG_FUNCTION_INFO_V1(galaxy_reject);
PG_FUNCTION_INFO_V1(galaxy_model_immutable);
PG_FUNCTION_INFO_V1(galaxy_access_changed);

static void access_cache_subxact(SubXactEvent event, SubTransactionId mySubid,
								 SubTransactionId parentSubid, void *arg);
static void access_cache_relcache(Datum arg, Oid relid);
static void access_cache_syscache(Datum arg, int cacheid, uint32 hashvalue);

/* Define the registry's GUCs; called once from _PG_init. */
void
galaxy_registry_init(void)
{
	RegisterSubXactCallback(access_cache_subxact, NULL);
	CacheRegisterRelcacheCallback(access_cache_relcache, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, access_cache_syscache, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, access_cache_syscache, (Datum) 0);

	DefineCustomBoolVariable("galaxy.require_approval",
							 "Deploying a model needs an approved galaxy.request_deployment() request.",
							 "A project's require_approval setting, when not NULL, overrides this.",
							 &galaxy_require_approval,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("galaxy.approval_ttl",
							"How long a deployment request, and then its approval, stays valid.",
							"A pending request expires this long after it was made; an approval this long after it was given.",
							&galaxy_approval_ttl_min,
							7 * 24 * 60, 1, INT_MAX / 60,
							PGC_SUSET,
							GUC_UNIT_MIN,
							NULL, NULL, NULL);
}

/* ------------------------------------------------------------------------
 * Roles and project privileges
 * ------------------------------------------------------------------------
 */

/* true if roleid has the privileges of the named role (false if it does not exist). */
static bool
has_privs_of_role_name(Oid roleid, const char *rolename)
{
	Oid			r = get_role_oid(rolename, true);

	return OidIsValid(r) && has_privs_of_role(roleid, r);
}

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

/* true for superusers, members of galaxy_admin and the extension's owner. */
bool
registry_is_admin(Oid roleid)
{
	if (superuser_arg(roleid))
		return true;
	if (has_privs_of_role_name(roleid, "galaxy_admin"))
		return true;
	return roleid == galaxy_extension_owner();
}

/* true for members of galaxy_approver (or admins). */
static bool
registry_is_approver(Oid roleid)
{
	return registry_is_admin(roleid) || has_privs_of_role_name(roleid, "galaxy_approver");
}

/* Privilege level named by text ('read', 'train', 'deploy', 'all'), or 0. */
static int
privilege_from_name(const char *name)
{
	if (strcmp(name, "read") == 0)
		return PROJECT_PRIV_READ;
	if (strcmp(name, "train") == 0)
		return PROJECT_PRIV_TRAIN;
	if (strcmp(name, "deploy") == 0)
		return PROJECT_PRIV_DEPLOY;
	if (strcmp(name, "all") == 0)
		return PROJECT_PRIV_ALL;
	return 0;
}

/* Name of a privilege level. */
static const char *
privilege_name(int level)
{
	switch (level)
	{
		case PROJECT_PRIV_READ:
			return "read";
		case PROJECT_PRIV_TRAIN:
			return "train";
		case PROJECT_PRIV_DEPLOY:
			return "deploy";
		default:
			return "all";
	}
}

/* Privilege level an action needs. */
ProjectPrivilege
registry_action_privilege(const char *action)
{
	static const struct
	{
		const char *action;
		ProjectPrivilege level;
	}			map[] = {
		{"read", PROJECT_PRIV_READ},
		{"predict", PROJECT_PRIV_READ},
		{"describe", PROJECT_PRIV_READ},
		{"evaluate", PROJECT_PRIV_READ},
		{"train", PROJECT_PRIV_TRAIN},
		{"submit", PROJECT_PRIV_TRAIN},
		{"cancel", PROJECT_PRIV_TRAIN},
		{"export", PROJECT_PRIV_TRAIN},
		{"import", PROJECT_PRIV_TRAIN},
		{"deploy", PROJECT_PRIV_DEPLOY},
		{"rollback", PROJECT_PRIV_DEPLOY},
		{"request_deployment", PROJECT_PRIV_DEPLOY},
	};

	for (int i = 0; i < lengthof(map); i++)
		if (strcmp(map[i].action, action) == 0)
			return map[i].level;
	return PROJECT_PRIV_ALL;
}

/*
 * A per-backend cache of (role, project) → privilege level, so that
 * predict() does not read the catalog on every call.  Entries stay valid
 * across transactions until something they depend on changes: a relcache
 * invalidation of galaxy.projects or galaxy.project_grants (sent by the
 * access_changed trigger on any write to them, and when they are dropped),
 * a change of role memberships or roles (syscache callbacks), or a rolled
 * back subtransaction.
 */
#define ACCESS_CACHE_SIZE 32

typedef struct AccessCacheEntry
{
	Oid			roleid;
	int64		project_id;
	int			level;			/* -1: no such project */
	LocalTransactionId only_in;	/* valid in this transaction only, or Invalid */
	char		project_name[NAMEDATALEN];
} AccessCacheEntry;

static AccessCacheEntry access_cache[ACCESS_CACHE_SIZE];
static int	access_cache_used = 0;
static int	access_cache_next = 0;
static Oid	access_projects_relid = InvalidOid;
static Oid	access_grants_relid = InvalidOid;
static uint64 access_cache_resets = 0;

/* Forget every cached decision. */
static void
access_cache_reset(void)
{
	access_cache_used = 0;
	access_cache_next = 0;
	access_cache_resets++;
}

/* A rolled-back subtransaction may have changed grants: forget decisions. */
static void
access_cache_subxact(SubXactEvent event, SubTransactionId mySubid,
					 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		access_cache_reset();
}

/* Relcache callback: projects or grants changed (InvalidOid: everything). */
static void
access_cache_relcache(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == access_projects_relid || relid == access_grants_relid)
		access_cache_reset();
}

/* Syscache callback: roles or role memberships changed. */
static void
access_cache_syscache(Datum arg, int cacheid, uint32 hashvalue)
{
	access_cache_reset();
}

/* Look up a cached decision by project id (or, with id 0, by name). */
static AccessCacheEntry *
access_cache_find(Oid roleid, int64 project_id, const char *name)
{
	for (int i = 0; i < access_cache_used; i++)
	{
		AccessCacheEntry *e = &access_cache[i];

		if (e->roleid != roleid)
			continue;
		if (e->only_in != InvalidLocalTransactionId && e->only_in != MyProc->lxid)
			continue;
		if (project_id != 0 ? e->project_id == project_id :
			(name != NULL && e->level >= 0 && strcmp(e->project_name, name) == 0))
			return e;
	}
	return NULL;
}

/*
 * The highest privilege level roleid holds on a project (0: none, -1: no such
 * project), and the project's name (valid until the next call).
 */
static int
project_privilege_level(Oid roleid, int64 project_id, const char **name_out)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1];
	int			level = 0;
	AccessCacheEntry *e = access_cache_find(roleid, project_id, NULL);
	static AccessCacheEntry scratch;
	char		name[NAMEDATALEN] = "";
	uint64		resets_before;
	QueryResult *res;

	if (e)
	{
		if (name_out)
			*name_out = e->project_name;
		return e->level;
	}

	/*
	 * Read with a fresh snapshot (read_only = false), so a project created
	 * earlier in this transaction, e.g. by this very training, is seen.
	 */
	/* remember which relations invalidate what we are about to read */
	access_projects_relid = galaxy_relation_oid("projects");
	access_grants_relid = galaxy_relation_oid("project_grants");
	resets_before = access_cache_resets;

	args[0] = Int64GetDatum(project_id);
	res = catalog_query("SELECT p.name, p.owner, g.grantee, g.privilege"
						" FROM galaxy.projects p"
						" LEFT JOIN galaxy.project_grants g ON g.project_id = p.id"
						" WHERE p.id = $1",
						1, argtypes, args, NULL, false, 0,
						SPI_OK_SELECT, "read galaxy.projects");

	if (res->nrows == 0)
		level = -1;
	else
	{
		char	   *owner = query_text(res, 0, 2);

		strlcpy(name, query_text(res, 0, 1), NAMEDATALEN);
		if (registry_is_admin(roleid) ||
			(owner && has_privs_of_role_name(roleid, owner)))
			level = PROJECT_PRIV_ALL;
		else
		{
			for (uint64 r = 0; r < res->nrows; r++)
			{
				char	   *grantee = query_text(res, r, 3);
				char	   *priv = query_text(res, r, 4);
				int			l;

				if (grantee == NULL || priv == NULL)
					continue;
				l = privilege_from_name(priv);
				if (l > level &&
					(strcmp(grantee, "public") == 0 ||
					 has_privs_of_role_name(roleid, grantee)))
					level = l;
			}
		}
	}

	/*
	 * Keep the decision only if nothing was invalidated while we read.  Under
	 * REPEATABLE READ the transaction's snapshot may predate a change whose
	 * invalidation was already processed: keep it for this transaction only.
	 */
	e = &scratch;
	if (access_cache_resets == resets_before)
	{
		e = &access_cache[access_cache_next];
		access_cache_next = (access_cache_next + 1) % ACCESS_CACHE_SIZE;
		if (access_cache_used < ACCESS_CACHE_SIZE)
			access_cache_used++;
	}
	e->only_in = IsolationUsesXactSnapshot() ? MyProc->lxid : InvalidLocalTransactionId;
	e->roleid = roleid;
	e->project_id = project_id;
	e->level = level;
	strlcpy(e->project_name, name, NAMEDATALEN);
	if (name_out)
		*name_out = e->project_name;
	return level;
}

/* true if roleid holds 'level' on the project (no ERROR). */
bool
registry_has_project_privilege(Oid roleid, int64 project_id, ProjectPrivilege level)
{
	return project_privilege_level(roleid, project_id, NULL) >= (int) level;
}

/* ERROR (42501) unless the calling role may perform 'action' on the project. */
void
registry_check_project_access(int64 project_id, const char *action)
{
	Oid			roleid = GetUserId();
	const char *name = NULL;
	int			need = registry_action_privilege(action);
	int			have = project_privilege_level(roleid, project_id, &name);

	if (have < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("galaxy project with id %lld does not exist", (long long) project_id)));
	if (have < need)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s in galaxy project \"%s\"", action, name),
				 errdetail("Role \"%s\" is not the project's owner and holds %s on it; \"%s\" needs the \"%s\" privilege.",
						   GetUserNameFromId(roleid, false),
						   have > 0 ? psprintf("only \"%s\"", privilege_name(have)) : "no grant",
						   action, privilege_name(need)),
				 errhint("The project's owner or a galaxy_admin can run SELECT galaxy.grant_project('%s', '%s', '%s').",
						 name, GetUserNameFromId(roleid, false), privilege_name(need))));
}

/* Id of a project by name, or ERROR 42704. */
static int64
project_id_by_name(const char *project)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	int64		id = 0;
	QueryResult *r;

	args[0] = CStringGetTextDatum(project);
	r = catalog_query("SELECT id FROM galaxy.projects WHERE name = $1",
					  1, argtypes, args, NULL, true, 1,
					  SPI_OK_SELECT, "read galaxy.projects");
	if (r->nrows == 1)
		id = query_int64(r, 0, 1, 0);
	if (id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("galaxy project \"%s\" does not exist", galaxy_short(project)),
				 errhint("Projects are created by the first galaxy.train() or galaxy.import_model() with their name.")));
	return id;
}

/* registry_check_project_access by project name; returns the project's id. */
int64
registry_check_project_access_by_name(const char *project, const char *action)
{
	AccessCacheEntry *e = access_cache_find(GetUserId(), 0, project);
	int64		id;

	if (e && e->level >= (int) registry_action_privilege(action))
		return e->project_id;
	id = project_id_by_name(project);

	registry_check_project_access(id, action);
	return id;
}

/*
 * galaxy.project_visible(project_id): whether the calling role may see the
 * project's rows (read privilege, or galaxy_approver for reviewing).  Used
 * by the catalog's row-level security policies and the BI views.
 */
Datum
galaxy_project_visible(PG_FUNCTION_ARGS)
{
	Oid			roleid = GetUserId();
	int64		project_id = PG_GETARG_INT64(0);

	/* the cached decision first: this runs for every row under RLS */
	if (project_privilege_level(roleid, project_id, NULL) >= PROJECT_PRIV_READ)
		PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(has_privs_of_role_name(roleid, "galaxy_approver"));
}

/*
 * galaxy.owner_visible(owner name): whether the calling role acts for the
 * owner role (is it, or a member with its privileges), or is an admin.  Used
 * by row-level security on rows owned by a role (datasets, jobs).
 */
Datum
galaxy_owner_visible(PG_FUNCTION_ARGS)
{
	Oid			roleid = GetUserId();
	Name		owner = PG_GETARG_NAME(0);

	if (has_privs_of_role_name(roleid, NameStr(*owner)))
		PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(registry_is_admin(roleid));
}

/* galaxy.has_project_privilege(project text, privilege text): for the calling role. */
Datum
galaxy_has_project_privilege(PG_FUNCTION_ARGS)
{
	char	   *project = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *priv = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int			need = privilege_from_name(priv);
	int64		id;

	if (need == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown galaxy project privilege \"%s\"", priv),
				 errhint("Use one of read, train, deploy, all.")));
	{
		AccessCacheEntry *e = access_cache_find(GetUserId(), 0, project);

		if (e)
			PG_RETURN_BOOL(e->level >= need);
	}

	/*
	 * A project that does not exist is one the caller holds nothing on:
	 * answering false for both keeps project names from being probed.
	 */
	id = registry_project_id(project, true);
	if (id == 0)
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(project_privilege_level(GetUserId(), id, NULL) >= need);
}

/*
 * AFTER statement trigger on galaxy.projects and galaxy.project_grants: tell
 * every backend (at commit) to forget cached access decisions.
 */
Datum
galaxy_access_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "galaxy_access_changed must be called as a trigger");
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	access_cache_reset();
	return PointerGetDatum(NULL);
}

/* Validate a grantee: an existing role name or PUBLIC; returns the stored form. */
static char *
grantee_name(const char *role)
{
	if (pg_strcasecmp(role, "public") == 0)
		return pstrdup("public");
	if (!OidIsValid(get_role_oid(role, true)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role \"%s\" does not exist", role)));
	return pstrdup(role);
}

/*
 * galaxy.grant_project(project, role, privilege): give a role (or PUBLIC)
 * read/train/deploy/all on a project.  Needs "all" on the project.
 */
Datum
galaxy_grant_project(PG_FUNCTION_ARGS)
{
	char	   *project;
	char	   *role;
	char	   *priv;
	int64		id;
	int			level;
	Oid			argtypes[4] = {INT8OID, TEXTOID, TEXTOID, TEXTOID};
	Datum		args[4];
	char	   *actor = GetUserNameFromId(GetUserId(), false);
	StringInfoData js;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("project, role and privilege must not be NULL")));
	project = text_to_cstring(PG_GETARG_TEXT_PP(0));
	role = text_to_cstring(PG_GETARG_TEXT_PP(1));
	priv = text_to_cstring(PG_GETARG_TEXT_PP(2));

	level = privilege_from_name(priv);
	if (level == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown galaxy project privilege \"%s\"", priv),
				 errhint("Use one of read, train, deploy, all.")));
	id = registry_check_project_access_by_name(project, "grant");
	role = grantee_name(role);

	args[0] = Int64GetDatum(id);
	args[1] = CStringGetTextDatum(role);
	args[2] = CStringGetTextDatum(priv);
	args[3] = CStringGetTextDatum(actor);
	catalog_command("INSERT INTO galaxy.project_grants (project_id, grantee, privilege, granted_by)"
					" VALUES ($1, $2::name, $3, $4::name)"
					" ON CONFLICT (project_id, grantee) DO UPDATE"
					" SET privilege = EXCLUDED.privilege, granted_by = EXCLUDED.granted_by,"
					" granted_at = now()",
					4, argtypes, args, NULL,
					SPI_OK_INSERT, "write galaxy.project_grants");
	access_cache_reset();

	initStringInfo(&js);
	details_begin(&js);
	details_str(&js, "project", project);
	details_str(&js, "grantee", role);
	details_str(&js, "privilege", priv);
	galaxy_audit("grant_project", "project", psprintf(INT64_FORMAT, id), details_end(&js));
	PG_RETURN_VOID();
}

/* galaxy.revoke_project(project, role): remove a role's grant.  Needs "all". */
Datum
galaxy_revoke_project(PG_FUNCTION_ARGS)
{
	char	   *project = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *role = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int64		id;
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		args[2];
	uint64		n;
	StringInfoData js;

	id = registry_check_project_access_by_name(project, "grant");
	if (pg_strcasecmp(role, "public") == 0)
		role = "public";
	args[0] = Int64GetDatum(id);
	args[1] = CStringGetTextDatum(role);
	n = catalog_command("DELETE FROM galaxy.project_grants WHERE project_id = $1 AND grantee = $2::name",
						2, argtypes, args, NULL,
						SPI_OK_DELETE, "write galaxy.project_grants");
	access_cache_reset();

	initStringInfo(&js);
	details_begin(&js);
	details_str(&js, "project", project);
	details_str(&js, "grantee", role);
	details_bool(&js, "existed", n > 0);
	galaxy_audit("revoke_project", "project", psprintf(INT64_FORMAT, id), details_end(&js));
	PG_RETURN_BOOL(n > 0);
}

/* ------------------------------------------------------------------------
 * Approvals (four eyes)
 * ------------------------------------------------------------------------
 */

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
				 errdetail("Letting a project's owner turn off the four-eyes rule would defeat it.")));
	id = project_id_by_name(project);
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
	registry_check_project_access(project_id, "request_deployment");
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
 * must not be the requester (neither as current nor as session user).
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

/* ------------------------------------------------------------------------
 * Model immutability
 * ------------------------------------------------------------------------
 */

/* true if a model may move from status 'from' to 'to'. */
static bool
status_transition_allowed(const char *from, const char *to)
{
	static const char *const allowed[][2] = {
		{"ready", "deployed"},
		{"deployed", "ready"},
		{"deployed", "archived"},
		{"ready", "archived"},
		{"archived", "deployed"},
	};

	if (strcmp(from, to) == 0)
		return true;
	for (int i = 0; i < lengthof(allowed); i++)
		if (strcmp(allowed[i][0], from) == 0 && strcmp(allowed[i][1], to) == 0)
			return true;
	return false;
}

/* Foreign keys of galaxy.models declared ON DELETE SET NULL. */
static bool
is_provenance_link(const char *column)
{
	return strcmp(column, "parent_id") == 0 || strcmp(column, "dataset_id") == 0 ||
		strcmp(column, "job_id") == 0;
}

/*
 * BEFORE UPDATE trigger on galaxy.models: once a model has left 'training',
 * only its status may change, and only along the allowed transitions (and
 * its provenance links may become NULL when what they point to is deleted).
 */
Datum
galaxy_model_immutable(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	oldtup;
	HeapTuple	newtup;
	int			status_att = 0;
	int			id_att = 0;
	bool		isnull;
	char	   *oldstatus;
	char	   *newstatus;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		elog(ERROR, "galaxy_model_immutable must be a BEFORE UPDATE FOR EACH ROW trigger");

	desc = RelationGetDescr(trigdata->tg_relation);
	oldtup = trigdata->tg_trigtuple;
	newtup = trigdata->tg_newtuple;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		if (strcmp(NameStr(att->attname), "status") == 0)
			status_att = i + 1;
		else if (strcmp(NameStr(att->attname), "id") == 0)
			id_att = i + 1;
	}
	if (status_att == 0 || id_att == 0)
		elog(ERROR, "galaxy.models has no status or id column");

	oldstatus = TextDatumGetCString(heap_getattr(oldtup, status_att, desc, &isnull));
	newstatus = TextDatumGetCString(heap_getattr(newtup, status_att, desc, &isnull));
	if (strcmp(oldstatus, "training") == 0)
		return PointerGetDatum(newtup);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		n1,
					n2;
		Datum		d1,
					d2;

		if (att->attisdropped || i + 1 == status_att)
			continue;
		d1 = heap_getattr(oldtup, i + 1, desc, &n1);
		d2 = heap_getattr(newtup, i + 1, desc, &n2);
		/* provenance links are cut when what they point to is deleted */
		if (n2 && is_provenance_link(NameStr(att->attname)))
			continue;
		if (n1 != n2 ||
			(!n1 && !datum_image_eq(d1, d2, att->attbyval, att->attlen)))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("galaxy model %lld is immutable: column \"%s\" cannot change once the model is %s",
							(long long) DatumGetInt64(heap_getattr(oldtup, id_att, desc, &n1)),
							NameStr(att->attname), oldstatus),
					 errdetail("Only the status of a trained model changes (ready → deployed → archived)."),
					 errhint("Train or import a new version instead.")));
	}

	if (!status_transition_allowed(oldstatus, newstatus))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("galaxy model %lld cannot go from status \"%s\" to \"%s\"",
						(long long) DatumGetInt64(heap_getattr(oldtup, id_att, desc, &isnull)),
						oldstatus, newstatus),
				 errdetail("Allowed: ready → deployed, deployed → ready or archived, ready → archived, archived → deployed (rollback).")));

	return PointerGetDatum(newtup);
}
