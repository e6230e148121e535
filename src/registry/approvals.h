/*
 * approvals.h — the four-eyes rule for deployments (approvals.c).
 */
#ifndef GALAXY_APPROVALS_H
#define GALAXY_APPROVALS_H

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

#endif							/* GALAXY_APPROVALS_H */
