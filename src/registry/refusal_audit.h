/*
 * refusal_audit.h — an audit row for every deploy the deployment gates
 * refuse (refusal_audit.c), although the refusal is an ERROR that rolls back
 * everything the refused transaction wrote.
 */
#ifndef GALAXY_REFUSAL_AUDIT_H
#define GALAXY_REFUSAL_AUDIT_H

/*
 * Called just before the ERROR that refuses to make model_id serve in
 * project_id (gate: the first gate it fails, as text; nfailed: how many it
 * fails): the refusal is appended to a file of the transaction's refusals,
 * and the transaction's first refusal starts a short-lived background
 * worker that waits for the transaction to end and then writes an audit row
 * "deploy_refused" for each, in a transaction of its own.  When the file or
 * the worker fails, a WARNING says the refusal goes unaudited: the refusal
 * itself stands.
 */
extern void refusal_audit_keep(int64 project_id, int64 model_id, const char *gate, int nfailed);

#endif							/* GALAXY_REFUSAL_AUDIT_H */
