/*
 * model_cache.h — the per-backend model cache and project routes (primary +
 * canaries) that predict, evaluate and feature importance read models through.
 *
 * A model value is parsed once per backend.  Routes are cached per project
 * and dropped when any session commits a deployment change; within one
 * statement every call site routes with the same deployments (statement pins).
 */
#ifndef GALAXY_MODEL_CACHE_H
#define GALAXY_MODEL_CACHE_H

#include "datatype/timestamp.h"
#include "utils/snapshot.h"

#include "model/model.h"

#define MAX_ROUTES 8

/* A parsed model with scratch space for one row. */
typedef struct CachedModel
{
	int64		id;				/* hash key */
	int64		project_id;
	GalaxyModel *m;
	MemoryContext cxt;			/* where m and the scratch arrays live */
	double	   *raw;			/* n_raw scratch */
	double	   *feat;			/* n_features scratch */
	double	   *proba;			/* n_classes scratch */
	double	   *label_value;	/* numeric value of each label, NaN if not numeric */
	bool		has_categorical;
	bool		has_text;		/* text inputs: the features are sparse (row, not feat) */
	SparseRow	row;			/* the sparse features of one row (has_text) */
} CachedModel;

/* Active deployments of a project. */
typedef struct ProjectRoutes
{
	char		name[NAMEDATALEN];	/* hash key */
	int64		project_id;
	int			n;
	int64		model_id[MAX_ROUTES];
	double		cum_weight[MAX_ROUTES];	/* canaries first, primary last (1.0) */
	bool		failed[MAX_ROUTES];
} ProjectRoutes;

/*
 * The identity of the active snapshot.  A cursor's FETCHes are new
 * statements but run under the portal's one snapshot, so a call site that
 * sees the same snapshot again is still in the same query.
 */
typedef struct SnapshotIdentity
{
	Snapshot	snap;
	TransactionId xmin;
	TransactionId xmax;
	CommandId	curcid;
} SnapshotIdentity;

/* Changes whenever cached models may have been dropped: look them up again. */
extern uint64 model_cache_generation;

/* Make sure the caches and the invalidation callback exist; drop stale entries. */
extern void model_cache_ensure(void);
/* Once per statement take in invalidations, then drop what they made stale. */
extern void model_cache_begin(TimestampTz stmt_start);
/* A cached model by id, loading it on first use. */
extern CachedModel *model_cache_get(int64 model_id);
/* A model value parsed outside the cache, in a child context of parent (cm->cxt). */
extern CachedModel *model_cache_parse_value(Datum d, MemoryContext parent);
/* A registered model's value (copied) and project; ERROR when missing or untrained. */
extern Datum model_cache_read_value(int64 model_id, int64 *project_id);
/*
 * Cache a model this backend holds in memory (train's new model, for its
 * latency measurement) without reading it back; the entry is forgotten when
 * the context that holds the model is reset or deleted.
 */
extern void model_cache_lend(int64 model_id, int64 project_id, GalaxyModel *m, MemoryContext owner);
/* Whether a model is in this backend's cache. */
extern bool model_cache_contains(int64 model_id);
/*
 * Drop a model from this backend's cache and free it (call sites look their
 * models up again): for a model loaded only to be measured.
 */
extern void model_cache_forget(int64 model_id);
/* The routes the current statement uses for a project (the same for every call site). */
extern const ProjectRoutes *model_cache_statement_routes(const char *project, TimestampTz stmt_start);
/* Pick a route: stable by key when given, else per call. */
extern int	model_cache_choose_route(const ProjectRoutes *pr, const text *key);
/* The model of route idx, falling back to the primary if a canary cannot be loaded. */
extern CachedModel *model_cache_route_model(ProjectRoutes *pr, int idx);
/* Number of canary loads that fell back to the primary in this backend. */
extern int64 model_cache_route_fallbacks(void);
/* The active snapshot's identity (all zero when none is active). */
extern SnapshotIdentity model_cache_snapshot_identity(void);
/* Whether two snapshot identities are the same snapshot. */
extern bool model_cache_same_snapshot(const SnapshotIdentity *a, const SnapshotIdentity *b);

#endif							/* GALAXY_MODEL_CACHE_H */
