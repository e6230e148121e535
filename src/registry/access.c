/*
 * access.c — who may do what in the registry: roles, project privileges,
 * the per-backend cache of access decisions, grants and the row-level
 * security helpers.
 *
 * All catalog reads and writes run as the extension owner (util/catalog.h);
 * the caller's identity is captured first and every decision is made
 * explicitly here, so row-level security on the catalog (which the owner
 * bypasses) is only the SQL-level view of the same rules.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "galaxy.h"
#include "registry/access.h"
#include "registry/audit.h"
#include "registry/versions.h"
#include "util/catalog.h"
#include "util/query.h"

PG_FUNCTION_INFO_V1(galaxy_grant_project);
PG_FUNCTION_INFO_V1(galaxy_revoke_project);
PG_FUNCTION_INFO_V1(galaxy_project_visible);
PG_FUNCTION_INFO_V1(galaxy_has_project_privilege);
PG_FUNCTION_INFO_V1(galaxy_owner_visible);
PG_FUNCTION_INFO_V1(galaxy_access_changed);

static void access_cache_subxact(SubXactEvent event, SubTransactionId mySubid,
								 SubTransactionId parentSubid, void *arg);
static void access_cache_relcache(Datum arg, Oid relid);
static void access_cache_syscache(Datum arg, int cacheid, uint32 hashvalue);

/* Register the access cache's invalidation callbacks; called once from _PG_init. */
void
registry_access_init(void)
{
	RegisterSubXactCallback(access_cache_subxact, NULL);
	CacheRegisterRelcacheCallback(access_cache_relcache, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, access_cache_syscache, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, access_cache_syscache, (Datum) 0);
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
bool
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
		{"set_gate", PROJECT_PRIV_DEPLOY},
		{"drop_gate", PROJECT_PRIV_DEPLOY},
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

/*
 * ERROR (42501) unless the calling role may perform 'action' on the model's
 * project.  For callers that name a model, not a project: a role that holds
 * nothing on the project is not told its name (model ids must not reveal
 * project names).
 */
void
registry_check_model_access(int64 project_id, int64 model_id, const char *action)
{
	Oid			roleid = GetUserId();
	int			have = project_privilege_level(roleid, project_id, NULL);

	if (have <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s galaxy model %lld", action, (long long) model_id),
				 errdetail("Role \"%s\" holds no privilege on the model's project.",
						   GetUserNameFromId(roleid, false)),
				 errhint("Ask the project's owner for a grant (galaxy.grant_project).")));
	registry_check_project_access(project_id, action);
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
int64
registry_lookup_project(const char *project)
{
	int64		id = registry_project_id(project, true);

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
	id = registry_lookup_project(project);

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
	PG_RETURN_BOOL(registry_project_visible(PG_GETARG_INT64(0)));
}

/* Whether the calling role may see the project's rows (galaxy.project_visible). */
bool
registry_project_visible(int64 project_id)
{
	Oid			roleid = GetUserId();

	/* the cached decision first: this runs for every row under RLS */
	if (project_privilege_level(roleid, project_id, NULL) >= PROJECT_PRIV_READ)
		return true;
	return has_privs_of_role_name(roleid, "galaxy_approver");
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
