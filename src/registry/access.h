/*
 * access.h — who may do what in a project (access.c).
 *
 * galaxy's C functions run as the caller but read and write the catalog as
 * the extension owner (util/catalog.h), so row-level security on the catalog
 * tables does not restrict them: every C path that acts on a project checks
 * access explicitly with registry_check_project_access().
 */
#ifndef GALAXY_ACCESS_H
#define GALAXY_ACCESS_H

/* Privilege levels on a project, weakest first. */
typedef enum ProjectPrivilege
{
	PROJECT_PRIV_READ = 1,		/* see the project and its models, predict */
	PROJECT_PRIV_TRAIN = 2,		/* train/submit/cancel, import/export models */
	PROJECT_PRIV_DEPLOY = 3,	/* deploy, roll back, request deployments */
	PROJECT_PRIV_ALL = 4		/* everything, incl. granting to others */
} ProjectPrivilege;

/* Register the access cache's invalidation callbacks; called once from _PG_init. */
extern void registry_access_init(void);

/*
 * ERROR (42501) unless the calling role (GetUserId()) may perform 'action'
 * on the project: superusers and members of galaxy_admin always may; the
 * project's owner (and members of the owning role) may do everything;
 * others need a galaxy.project_grants row for one of their roles (or
 * PUBLIC) at the level the action needs.  Actions: "read", "predict",
 * "describe", "evaluate" (read); "train", "submit", "cancel", "export",
 * "import" (train); "deploy", "rollback", "request_deployment",
 * "set_gate", "drop_gate" (deploy); anything else needs "all".
 */
extern void registry_check_project_access(int64 project_id, const char *action);
/* The same for a caller that names a model: no project name for a role that holds nothing on it. */
extern void registry_check_model_access(int64 project_id, int64 model_id, const char *action);

/* The same by project name (ERROR 42704 if there is no such project). */
extern int64 registry_check_project_access_by_name(const char *project,
												   const char *action);

/* Id of a project by name, without an access check (ERROR 42704 if absent). */
extern int64 registry_lookup_project(const char *project);

/* true if 'roleid' holds 'level' on the project (no ERROR). */
extern bool registry_has_project_privilege(Oid roleid, int64 project_id,
										   ProjectPrivilege level);

/* Privilege level an action needs (see registry_check_project_access). */
extern ProjectPrivilege registry_action_privilege(const char *action);

/*
 * Whether the calling role may see the project's rows: read privilege, or
 * galaxy_approver for reviewing (galaxy.project_visible(), used by the
 * catalog's row-level security and the BI views).
 */
extern bool registry_project_visible(int64 project_id);

/* true for superusers, members of galaxy_admin and the extension's owner. */
extern bool registry_is_admin(Oid roleid);

/* true for members of galaxy_approver (or admins). */
extern bool registry_is_approver(Oid roleid);

#endif							/* GALAXY_ACCESS_H */
