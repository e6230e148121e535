/*
 * model_cache.c — the per-backend model cache and project routing (primary +
 * canaries), invalidated when deployments change, and the statement pins
 * that make one statement predict with one set of deployments.
 *
 * A model value is parsed once per backend.  Deployments are cached per
 * project and dropped when any session commits a deployment change: the
 * deploy primitive invalidates galaxy.deployments' relcache entry, which
 * every backend processes before its next statement.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "galaxy.h"
#include "model/model_cache.h"
#include "registry/deploy.h"
#include "registry/versions.h"
#include "util/catalog.h"
#include "util/query.h"
#include "util/rng.h"

static MemoryContext PredictCacheContext = NULL;
static HTAB *model_cache = NULL;
static HTAB *route_cache = NULL;
uint64		model_cache_generation = 1;
static Oid	deployments_relid = InvalidOid;
static Oid	models_relid = InvalidOid;
static bool callback_registered = false;
static int64 route_fallbacks = 0;
static GalaxyRng route_rng;
static bool route_rng_ready = false;
static bool routes_stale = false;
static bool models_stale = false;
static TimestampTz last_statement_start = 0;

/*
 * Relcache callback: mark cached routes (and models) stale when the catalog
 * changes.  It can fire in the middle of loading (any lock acquisition
 * processes invalidations), so it only sets flags; model_cache_ensure()
 * drops the stale entries before the next lookup.
 */
static void
predict_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == deployments_relid || relid == models_relid)
	{
		routes_stale = true;
		/* models are immutable, but a deleted or re-created catalog drops them */
		if (relid != deployments_relid)
			models_stale = true;
		model_cache_generation++;
	}
}

/* Make sure caches and the invalidation callback exist; drop stale entries. */
void
model_cache_ensure(void)
{
	if (routes_stale || models_stale)
	{
		if (route_cache)
			hash_destroy(route_cache);
		route_cache = NULL;
		if (models_stale)
		{
			if (model_cache)
				hash_destroy(model_cache);
			model_cache = NULL;
			if (PredictCacheContext)
				MemoryContextReset(PredictCacheContext);
			deployments_relid = InvalidOid;
			models_relid = InvalidOid;
		}
		routes_stale = models_stale = false;
	}
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(predict_relcache_callback, (Datum) 0);
		callback_registered = true;
	}
	if (PredictCacheContext == NULL)
		PredictCacheContext = AllocSetContextCreate(CacheMemoryContext, "galaxy model cache",
													ALLOCSET_DEFAULT_SIZES);
	if (!OidIsValid(deployments_relid))
	{
		deployments_relid = galaxy_relation_oid("deployments");
		models_relid = galaxy_relation_oid("models");
	}
	if (model_cache == NULL)
	{
		HASHCTL		ctl = {0};

		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(CachedModel);
		ctl.hcxt = PredictCacheContext;
		model_cache = hash_create("galaxy models", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	if (route_cache == NULL)
	{
		HASHCTL		ctl = {0};

		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = sizeof(ProjectRoutes);
		ctl.hcxt = PredictCacheContext;
		route_cache = hash_create("galaxy routes", 64, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
}

/*
 * Once per statement, take in deployments committed elsewhere (a statement
 * inside an explicit transaction may lock no relation, so nothing else
 * would), then drop what they made stale.  Never within a statement: one
 * statement predicts with one set of deployments.
 */
void
model_cache_begin(TimestampTz stmt_start)
{
	if (stmt_start != last_statement_start)
	{
		last_statement_start = stmt_start;
		AcceptInvalidationMessages();
	}
	if (routes_stale || models_stale || model_cache == NULL || route_cache == NULL)
		model_cache_ensure();
}

/* The scratch space of cm's model, in cm->cxt. */
static void
cached_model_setup(CachedModel *cm)
{
	MemoryContext old = MemoryContextSwitchTo(cm->cxt);
	GalaxyModel *m = cm->m;

	cm->raw = palloc0(sizeof(double) * Max(preprocess_n_raw(m->prep), 1));
	cm->feat = palloc0(sizeof(double) * Max(m->n_features, 1));
	cm->proba = palloc0(sizeof(double) * Max(m->n_classes, 1));
	cm->label_value = palloc(sizeof(double) * Max(m->n_classes, 1));
	cm->has_categorical = false;
	for (int i = 0; i < preprocess_n_inputs(m->prep); i++)
		if (preprocess_input(m->prep, i)->kind == INPUT_CATEGORICAL)
			cm->has_categorical = true;
	cm->has_text = preprocess_is_sparse(m->prep);
	if (cm->has_text)
		sparse_row_init(&cm->row, 256);
	for (int k = 0; k < m->n_classes; k++)
	{
		const char *lab = m->labels[k];
		char	   *end;
		double		v;

		if (strcmp(lab, "t") == 0 || strcmp(lab, "true") == 0)
			v = 1;
		else if (strcmp(lab, "f") == 0 || strcmp(lab, "false") == 0)
			v = 0;
		else
		{
			v = strtod(lab, &end);
			if (end == lab || *end != '\0' || !isfinite(v))
				v = NAN;
		}
		cm->label_value[k] = v;
	}
	MemoryContextSwitchTo(old);
}

/* Parse a model value into cm: the model and its scratch space, in a new context under parent. */
static void
fill_cached_model(CachedModel *cm, Datum d, MemoryContext parent)
{
	MemoryContext old;

	cm->cxt = AllocSetContextCreate(parent, "galaxy cached model", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cm->cxt);
	cm->m = model_from_datum(d);
	MemoryContextSwitchTo(old);
	cached_model_setup(cm);
}

/* A lent model's entry: forgotten when the memory that holds the model goes. */
typedef struct LentModel
{
	int64		model_id;
	GalaxyModel *m;
	MemoryContextCallback cb;
} LentModel;

static void
lent_model_gone(void *arg)
{
	LentModel  *lent = (LentModel *) arg;
	CachedModel *cm;

	if (model_cache == NULL)
		return;
	cm = hash_search(model_cache, &lent->model_id, HASH_FIND, NULL);
	if (cm != NULL && cm->m == lent->m)
		model_cache_forget(lent->model_id);
}

/*
 * Cache m, a model this backend holds in memory (the one train() has just
 * registered), as model_id without reading it back (see model_cache.h).  The
 * entry owns only its scratch space: when 'owner' (the context that holds m)
 * is reset or deleted, the entry is forgotten first, so it never outlives m.
 * Nothing happens when model_id is cached already.
 */
void
model_cache_lend(int64 model_id, int64 project_id, GalaxyModel *m, MemoryContext owner)
{
	CachedModel *cm;
	bool		found;
	LentModel  *lent;

	if (model_cache == NULL)
		model_cache_ensure();
	cm = hash_search(model_cache, &model_id, HASH_ENTER, &found);
	if (found && cm->m != NULL)
		return;
	/* an entry without a model is loaded afresh by model_cache_get */
	cm->m = NULL;
	cm->cxt = NULL;
	cm->project_id = project_id;
	/* the callback first: from the moment the entry has m, it is forgotten with m */
	lent = MemoryContextAllocZero(owner, sizeof(LentModel));
	lent->model_id = model_id;
	lent->m = m;
	lent->cb.func = lent_model_gone;
	lent->cb.arg = lent;
	MemoryContextRegisterResetCallback(owner, &lent->cb);
	cm->cxt = AllocSetContextCreate(PredictCacheContext, "galaxy lent model", ALLOCSET_SMALL_SIZES);
	cm->m = m;
	cached_model_setup(cm);
}

/*
 * A registered model's value (a copy in the current memory context) and its
 * project: ERROR when the model does not exist or has no value yet.
 */
Datum
model_cache_read_value(int64 model_id, int64 *project_id)
{
	bool		isnull;
	Datum		d;
	QueryResult *r;

	r = catalog_query("SELECT model, project_id FROM galaxy.models WHERE id = $1",
					  1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(model_id)},
					  NULL, true, 1, SPI_OK_SELECT, "read galaxy.models");
	if (r->nrows != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model " INT64_FORMAT " does not exist", model_id)));
	d = query_datum(r, 0, 1, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model " INT64_FORMAT " has no trained value yet", model_id)));
	if (project_id)
		*project_id = query_int64(r, 0, 2, 0);
	return d;
}

/* Parse a model value into the cache entry. */
static void
load_model_into(CachedModel *cm, int64 model_id)
{
	Datum		d = model_cache_read_value(model_id, &cm->project_id);

	fill_cached_model(cm, d, PredictCacheContext);
}

/* A cached model by id, loading it on first use. */
CachedModel *
model_cache_get(int64 model_id)
{
	CachedModel *cm;
	bool		found;

	if (model_cache == NULL)
		model_cache_ensure();
	cm = hash_search(model_cache, &model_id, HASH_ENTER, &found);
	if (!found || cm->m == NULL)
	{
		cm->m = NULL;
		cm->cxt = NULL;
		PG_TRY();
		{
			load_model_into(cm, model_id);
		}
		PG_CATCH();
		{
			if (cm->cxt)
				MemoryContextDelete(cm->cxt);
			hash_search(model_cache, &model_id, HASH_REMOVE, NULL);
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	return cm;
}

/*
 * A model value parsed outside the cache (predict on a galaxy.model
 * argument, which needs no catalog): id and project_id are 0, and
 * everything lives in cm->cxt, a child of parent that the caller deletes.
 */
CachedModel *
model_cache_parse_value(Datum d, MemoryContext parent)
{
	CachedModel tmp;
	CachedModel *cm;

	memset(&tmp, 0, sizeof(tmp));
	PG_TRY();
	{
		fill_cached_model(&tmp, d, parent);
	}
	PG_CATCH();
	{
		if (tmp.cxt)
			MemoryContextDelete(tmp.cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	cm = MemoryContextAlloc(tmp.cxt, sizeof(CachedModel));
	*cm = tmp;
	return cm;
}

/* Whether a model is in this backend's cache. */
bool
model_cache_contains(int64 model_id)
{
	CachedModel *cm;

	if (model_cache == NULL)
		return false;
	cm = hash_search(model_cache, &model_id, HASH_FIND, NULL);
	return cm != NULL && cm->m != NULL;
}

/* Drop a model from this backend's cache and free it. */
void
model_cache_forget(int64 model_id)
{
	CachedModel *cm;

	if (model_cache == NULL)
		return;
	cm = hash_search(model_cache, &model_id, HASH_FIND, NULL);
	if (cm == NULL)
		return;
	if (cm->cxt)
		MemoryContextDelete(cm->cxt);
	hash_search(model_cache, &model_id, HASH_REMOVE, NULL);
	model_cache_generation++;
}

/*
 * Read a project's active deployments into a routes entry: the primary and
 * at most MAX_ROUTES - 1 canaries (deploy refuses more), canaries first in
 * the cumulative weights and the primary last with weight 1.
 */
static void
load_routes(ProjectRoutes *pr, const char *project)
{
	QueryResult *r;
	double		canary_total = 0;
	bool		pushed = false;
	int			n;

	StaticAssertStmt(REGISTRY_MAX_CANARIES < MAX_ROUTES, "routes must hold the primary and every canary");
	pr->project_id = registry_project_id(project, false);

	/*
	 * Read with the latest snapshot, taken after the invalidations this
	 * backend has accepted (as PostgreSQL's catalog caches do): a cache
	 * filled from an older statement snapshot could outlive the
	 * invalidation that should have replaced it.  Parallel workers cannot
	 * take a new snapshot and use the statement's.
	 */
	if (!IsInParallelMode())
	{
		PushActiveSnapshot(GetLatestSnapshot());
		pushed = true;
	}
	r = catalog_query("SELECT model_id, traffic FROM galaxy.deployments "
					  "WHERE project_id = $1 AND retired_at IS NULL "
					  "ORDER BY traffic = 1.0 DESC, traffic ASC, deployed_at DESC, id DESC",
					  1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(pr->project_id)},
					  NULL, true, MAX_ROUTES, SPI_OK_SELECT, "read galaxy.deployments");
	if (pushed)
		PopActiveSnapshot();

	n = (int) r->nrows;
	pr->n = 0;
	if (n == 0 || query_float8(r, 0, 2, 0) < 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("project \"%s\" has no deployed model", project),
				 errhint("Deploy one with galaxy.deploy('%s', model_id), or train with deploy => 'always'.", project)));
	/* canaries (rows 1..n-1), then the primary (row 0) */
	for (int i = 1; i < n; i++)
	{
		double		w = query_float8(r, i, 2, 0);

		Assert(w < 1.0);
		canary_total += w;
		pr->model_id[pr->n] = query_int64(r, i, 1, 0);
		pr->cum_weight[pr->n] = Min(canary_total, 1.0);
		pr->failed[pr->n] = false;
		pr->n++;
	}
	pr->model_id[pr->n] = query_int64(r, 0, 1, 0);
	pr->cum_weight[pr->n] = 1.0;
	pr->failed[pr->n] = false;
	pr->n++;
	Assert(pr->n >= 1 && pr->n <= MAX_ROUTES);
}

/* The routes of a project, cached until deployments change. */
static ProjectRoutes *
get_routes(const char *project)
{
	ProjectRoutes *pr;
	bool		found;
	char		key[NAMEDATALEN];

	if (strlen(project) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("project \"%s\" does not exist", galaxy_short(project))));
	if (route_cache == NULL)
		model_cache_ensure();
	memset(key, 0, sizeof(key));
	strlcpy(key, project, sizeof(key));
	pr = hash_search(route_cache, key, HASH_ENTER, &found);
	if (!found)
	{
		pr->n = 0;
		PG_TRY();
		{
			load_routes(pr, project);
		}
		PG_CATCH();
		{
			if (route_cache)
				hash_search(route_cache, key, HASH_REMOVE, NULL);
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	return pr;
}

/*
 * Load a canary model, falling back to the primary if it cannot be loaded
 * (counted, and remembered until deployments change).
 */
CachedModel *
model_cache_route_model(ProjectRoutes *pr, int idx)
{
	int			primary = pr->n - 1;
	int64		primary_id = pr->model_id[primary];
	int64		route_id = pr->model_id[idx];
	volatile bool ok = true;
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	CachedModel *volatile cm = NULL;

	if (idx == primary || pr->failed[idx] || IsInParallelMode())
		return model_cache_get(pr->failed[idx] ? primary_id : route_id);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		cm = model_cache_get(route_id);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		ereport(WARNING,
				(errmsg("galaxy: canary model " INT64_FORMAT " could not be loaded; serving the primary",
						route_id),
				 errdetail("%s", edata->message)));
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	if (!ok)
	{
		pr->failed[idx] = true;
		route_fallbacks++;
		return model_cache_get(primary_id);
	}
	return cm;
}

/* Pick a route: stable by key when given, else per call. */
int
model_cache_choose_route(const ProjectRoutes *pr, const text *key)
{
	double		u;

	if (pr->n == 1)
		return 0;
	if (key)
	{
		uint32		h = hash_bytes((const unsigned char *) VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));

		u = (double) h / 4294967296.0;
	}
	else
	{
		if (!route_rng_ready)
		{
			galaxy_rng_seed(&route_rng, (uint64) MyProcPid ^ (uint64) GetCurrentTimestamp(), 7);
			route_rng_ready = true;
		}
		u = galaxy_rng_uniform(&route_rng);
	}
	for (int i = 0; i < pr->n; i++)
		if (u < pr->cum_weight[i])
			return i;
	return pr->n - 1;
}

/* The active snapshot's identity (all zero when none is active). */
SnapshotIdentity
model_cache_snapshot_identity(void)
{
	SnapshotIdentity id = {0};

	if (ActiveSnapshotSet())
	{
		Snapshot	s = GetActiveSnapshot();

		id.snap = s;
		id.xmin = s->xmin;
		id.xmax = s->xmax;
		id.curcid = s->curcid;
	}
	return id;
}

/* Whether two snapshot identities are the same snapshot. */
bool
model_cache_same_snapshot(const SnapshotIdentity *a, const SnapshotIdentity *b)
{
	return a->snap != NULL && a->snap == b->snap && a->xmin == b->xmin &&
		a->xmax == b->xmax && a->curcid == b->curcid;
}

/*
 * Deployment snapshots of the current statement, one per project: every
 * call site of a statement routes with the routes the first one read, so a
 * deploy that commits while the statement runs is never mixed in.
 */
typedef struct StatementPin
{
	char		project[NAMEDATALEN];
	ProjectRoutes routes;
} StatementPin;

static StatementPin *stmt_pins = NULL;
static int	n_stmt_pins = 0;
static int	max_stmt_pins = 0;
static TimestampTz stmt_pins_at = 0;
static uint64 stmt_pins_local = 0;

/*
 * The routes the current statement uses for a project: read (after waiting
 * out a deploy of the project that is committing, so they are never older
 * than the statement's snapshot) by the statement's first call site that
 * asks, then shared by every other call site of the statement.
 */
const ProjectRoutes *
model_cache_statement_routes(const char *project, TimestampTz stmt_start)
{
	ProjectRoutes *pr;
	StatementPin *sp;

	/* a deploy by this very statement is seen by its later calls */
	if (stmt_pins_at != stmt_start || stmt_pins_local != registry_deployments_local_changes())
	{
		n_stmt_pins = 0;
		stmt_pins_at = stmt_start;
		stmt_pins_local = registry_deployments_local_changes();
	}
	for (int i = 0; i < n_stmt_pins; i++)
		if (strcmp(stmt_pins[i].project, project) == 0)
			return &stmt_pins[i].routes;

	pr = get_routes(project);
	if (!registry_deployments_sync(pr->project_id))
	{
		/*
		 * A deploy of the project is in progress or committing: read its
		 * deployments with a fresh snapshot rather than trust the cache, and
		 * keep the cache out of it (the deploy's invalidation will come).
		 */
		static ProjectRoutes fresh;

		load_routes(&fresh, project);
		pr = &fresh;
	}
	else if (routes_stale || models_stale)
	{
		model_cache_ensure();
		pr = get_routes(project);
	}

	if (n_stmt_pins == max_stmt_pins)
	{
		int			newmax = Max(8, max_stmt_pins * 2);

		if (stmt_pins == NULL)
			stmt_pins = MemoryContextAlloc(TopMemoryContext, sizeof(StatementPin) * newmax);
		else
			stmt_pins = repalloc(stmt_pins, sizeof(StatementPin) * newmax);
		max_stmt_pins = newmax;
	}
	sp = &stmt_pins[n_stmt_pins++];
	strlcpy(sp->project, project, NAMEDATALEN);
	sp->routes = *pr;
	return &sp->routes;
}

/* Number of canary loads that fell back to the primary in this backend. */
int64
model_cache_route_fallbacks(void)
{
	return route_fallbacks;
}
