/*
 * deploy.h — the deployment primitive (deploy.c): deploying a model, the
 * primary model of a project, and the deployment lock and invalidation
 * that predict() relies on.  The SQL functions are in deployments_api.c.
 */
#ifndef GALAXY_DEPLOY_H
#define GALAXY_DEPLOY_H

/*
 * Deploy a model of a project.  traffic 1.0 makes it the primary (retiring
 * every active deployment); traffic < 1 adds it as a canary beside the
 * primary.  ERROR 23514 when the model fails one of the project's quality
 * gates (registry/gates.h; not for the model galaxy.deploy_override
 * deploys).  Updates model statuses, audits, and invalidates every backend's
 * predict cache at commit.
 */
extern void registry_deploy_model(int64 project_id, int64 model_id, double traffic,
								  const char *strategy, const char *reason);

/*
 * At most this many canaries serve beside a project's primary; predict reads
 * the primary and up to this many canaries, so nothing can hide the primary.
 */
#define REGISTRY_MAX_CANARIES 7

/* The primary deployed model of a project (0 if none). */
extern int64 registry_primary_model(int64 project_id);

/* Tell every backend (at commit) that deployments changed. */
extern void registry_deployments_changed(void);

/*
 * How many deployment changes this backend has made: predict pins one
 * deployment snapshot per statement but lets a statement see its own deploys.
 */
extern uint64 registry_deployments_local_changes(void);

/*
 * The per-project deployment lock.  A deploy holds it exclusively until its
 * transaction ends; PostgreSQL releases locks only after a committing
 * transaction has sent its invalidation messages.  A reader that gets it in
 * share mode (registry_deployments_sync) and then accepts invalidations
 * never serves routes older than its snapshot; a reader that does not get it
 * at once reads the routes from the catalog instead of waiting.
 */
extern void registry_deployments_lock(int64 project_id);
extern bool registry_deployments_sync(int64 project_id);

#endif							/* GALAXY_DEPLOY_H */
