/*
 * registry.h — governance of the model registry: project access checks,
 * approvals (four eyes), the audit hash chain.
 *
 * galaxy's C functions run as the caller but read and write the catalog as
 * the extension owner (util/catalog.h), so row-level security on the catalog
 * tables does not restrict them: every C path that acts on a project checks
 * access explicitly with registry_check_project_access().
 */
#ifndef GALAXY_REGISTRY_H
#define GALAXY_REGISTRY_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"

/* GUCs (defined in governance.c) */
extern bool galaxy_require_approval;
extern int	galaxy_approval_ttl_min;

/* Define the registry's GUCs; called once from _PG_init. */
extern void galaxy_registry_init(void);

/* Privilege levels on a project, weakest first. */
typedef enum ProjectPrivilege
{
	PROJECT_PRIV_READ = 1,		/* see the project and its models, predict */
	PROJECT_PRIV_TRAIN = 2,		/* train/submit/cancel, import/export models */
	PROJECT_PRIV_DEPLOY = 3,	/* deploy, roll back, request deployments */
	PROJECT_PRIV_ALL = 4		/* everything, incl. granting to others */
} ProjectPrivilege;

/*
 * ERROR (42501) unless the calling role (GetUserId()) may perform 'action'
 * on the project: superusers and members of galaxy_admin always may; the
 * project's owner (and members of the owning role) may do everything;
 * others need a galaxy.project_grants row for one of their roles (or
 * PUBLIC) at the level the action needs.  Actions: "read", "predict",
 * "describe", "evaluate" (read); "train", "submit", "cancel", "export",
 * "import" (train); "deploy", "rollback", "request_deployment" (deploy);
 * anything else needs "all".
 */
extern void registry_check_project_access(int64 project_id, const char *action);

/* The same by project name (ERROR 42704 if there is no such project). */
extern int64 registry_check_project_access_by_name(const char *project,
												   const char *action);

/* true if 'roleid' holds 'level' on the project (no ERROR). */
extern bool registry_has_project_privilege(Oid roleid, int64 project_id,
										   ProjectPrivilege level);

/* Privilege level an action needs (see registry_check_project_access). */
extern ProjectPrivilege registry_action_privilege(const char *action);

/* true for superusers and members of galaxy_admin. */
extern bool registry_is_admin(Oid roleid);

/*
 * Whether deploying in this project needs an approved request:
 * projects.require_approval, or galaxy.require_approval when that is NULL.
 * Automatic deployment after training (deploy => 'if_better') must be
 * skipped when this is true.
 */
extern bool registry_approval_required(int64 project_id);

/*
 * When approval is required, find a valid approved request for the model,
 * mark it used (linking the deployment id when known) and return its id;
 * ERROR (55000) with a HINT naming galaxy.request_deployment() otherwise.
 * Returns 0 when no approval is required.
 */
extern int64 registry_consume_approval(int64 project_id, int64 model_id);

/* Link a used approval to the deployment it authorised. */
extern void registry_link_approval(int64 approval_id, int64 deployment_id);

/*
 * The audit chain (chain.c).  The canonical byte encoding of an audit_log
 * row, the chain hash, and the chain's anchor after a purge.
 */
#define AUDIT_HASH_LEN 32

/* Append the canonical encoding of an audit_log tuple to buf. */
extern void audit_canonical_row(TupleDesc tupdesc, Datum *values, bool *nulls,
								StringInfo buf);

/* hash = SHA-256(prev || canonical); out has AUDIT_HASH_LEN bytes. */
extern void audit_chain_hash(const uint8 *prev, const char *canonical,
							 Size len, uint8 *out);

/* Take the chain lock (transaction-level; not reachable from SQL). */
extern void audit_chain_lock(void);

/*
 * The hash the next row must chain to: the newest audit row's hash, else the
 * newest purge anchor, else 32 zero bytes (genesis).  Call under the lock.
 */
extern void audit_chain_head(uint8 *out);

/*
 * Building an audit row's details jsonb: details_begin, then any number of
 * details_str/details_int/details_bool/details_json, then details_end.
 */
extern void details_begin(StringInfo buf);
extern void details_str(StringInfo buf, const char *key, const char *val);
extern void details_int(StringInfo buf, const char *key, int64 val);
extern void details_float(StringInfo buf, const char *key, double val);
extern void details_bool(StringInfo buf, const char *key, bool val);
extern void details_json(StringInfo buf, const char *key, const char *json);
extern Jsonb *details_end(StringInfo buf);

/* true while galaxy.purge_audit() deletes rows (checked by the guard). */
extern bool audit_purge_active;

#endif							/* GALAXY_REGISTRY_H */
