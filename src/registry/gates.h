/*
 * gates.h — deployment quality gates (gates.c): rules "metric op threshold"
 * per project (and defaults for every project) that a model must pass before
 * it serves.
 *
 * The deployment primitive (registry_deploy_model) enforces them for every
 * path that makes a model serve — galaxy.deploy by model (primary or canary)
 * or strategy, galaxy.rollback, train's and submit's deploy policy — and the
 * galaxy.deployments trigger checks again any row galaxy's code records;
 * galaxy.approve refuses a request for a model that fails them.  The one
 * exception is galaxy.deploy_override, a galaxy_admin's audited emergency
 * act.  Results come from the galaxy.gate_results view, so what the view
 * shows is what the deploy paths decide.
 */
#ifndef GALAXY_GATES_H
#define GALAXY_GATES_H

/* One gate evaluated for one model (a row of galaxy.gate_results). */
typedef struct GateResult
{
	char	   *metric;
	char	   *op;
	double		threshold;
	char	   *scope;			/* "project" or "default" */
	bool		has_value;
	double		value;
	char	   *status;			/* passed, failed, missing, not_measured */
	double		margin;			/* > 0 on the passing side; NaN without a value */
} GateResult;

/*
 * The gates that apply to a model, evaluated.  With measure, a model that a
 * latency gate needs a measurement of and has none is first measured (as
 * the calling role, on its training relation; see model/model_latency.h)
 * and the measurement stored in galaxy.model_latency.  Returns the number
 * of results (0: no gate applies); *results is palloc'd.
 */
extern int	registry_gates_evaluate(int64 model_id, bool measure, GateResult **results);

/* Whether a result fails its gate (failed, missing or not measured). */
extern bool registry_gate_failed(const GateResult *g);

/*
 * ERROR 23514 (check_violation) naming the first failed gate, the measured
 * value and the threshold (every failure in the DETAIL) unless the model
 * passes every gate of its project; 'prefix' (may be NULL) opens the
 * message, e.g. "deployment request 7 cannot be approved: ".  Measures
 * latency first when needed.  Nothing is checked for the model
 * galaxy.deploy_override is deploying.
 */
extern void registry_gates_enforce(int64 project_id, int64 model_id, const char *prefix);

/*
 * The same check on stored values only (no measurement), for the
 * galaxy.deployments trigger: ERROR 23514 when the model fails a gate.
 */
extern void registry_gates_recheck(int64 project_id, int64 model_id);

/*
 * For train's deploy policy: NULL when the model passes every gate, else
 * the failed gates as text ("accuracy >= 0.975 (measured 0.9646)").
 */
extern char *registry_gates_refusal(int64 model_id);

/* The failed gates of evaluated results as a JSON array (for audit rows). */
extern char *registry_gates_failures_json(const GateResult *results, int n);

/*
 * The model galaxy.deploy_override is deploying now (0: none): the gates do
 * not stop it.  Set it only around the deployment primitive.
 */
extern void registry_gates_set_override(int64 model_id);

#endif							/* GALAXY_GATES_H */
