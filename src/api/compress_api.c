/*
 * compress_api.c — galaxy.compress(model, method, options): a smaller or
 * faster copy of a registered model, registered as the next patch version of
 * it (1.4.0 → 1.4.1, parent_id the model), measured beside it.
 *
 * The algorithm compresses its own state (AlgorithmDef.compress, e.g. int8
 * coefficients through algo/quant.h); this file checks the request, writes
 * the new model value, registers it, scores both models on the same rows
 * (the parent's training relation, or options->>'relation') and times their
 * single-row predict, and records all of it in galaxy.compressions and the
 * audit log.  The compressed model carries metric_drop and max_metric_drop
 * in its metrics: the galaxy.gate_results view turns them into the
 * compression guard, a deployment gate (src/sql/65_gates.sql), so every
 * deploy path refuses a model that lost more than it was allowed.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/snapmgr.h"

#include "algo/algo.h"
#include "api/distill.h"
#include "data/dataset.h"
#include "eval/evaluate.h"
#include "eval/metrics.h"
#include "model/model.h"
#include "model/model_latency.h"
#include "registry/access.h"
#include "registry/audit.h"
#include "registry/versions.h"
#include "util/catalog.h"
#include "util/jsonb_build.h"
#include "util/query.h"

PG_FUNCTION_INFO_V1(galaxy_compress);

/* Every method galaxy.compress knows, whichever algorithms offer it. */
static const char *const compress_methods[] = {"int8", "prune", "distill"};

/* The default accuracy guard: the main metric may fall by at most this much. */
#define COMPRESS_DEFAULT_MAX_DROP 0.01

/* What the options of a call ask for. */
typedef struct CompressRequest
{
	CompressOptions algo;		/* handed to the algorithm */
	double		max_metric_drop;
	char	   *relation;		/* rows to measure on; NULL: the parent's */
	DistillOptions distill;		/* distill: the student */
	/* the options given that only one method takes, and that method */
	int			n_method_only;
	const char *method_only[8];
	const char *method_only_key[8];
} CompressRequest;

/* Remember that an option only one method takes was given. */
static void
note_method_option(CompressRequest *req, const char *method, const char *key)
{
	if (req->n_method_only < lengthof(req->method_only))
	{
		req->method_only[req->n_method_only] = method;
		req->method_only_key[req->n_method_only] = key;
		req->n_method_only++;
	}
}

/* The jsonb options as text, for messages and the catalog. */
static const char *
options_text(Jsonb *options)
{
	return JsonbToCString(NULL, &options->root, VARSIZE(options));
}

/* A number option; ERROR 22023 naming it when it is not a number in [lo, hi]. */
static double
option_number(const char *key, const JsonbValue *v, double lo, double hi, bool hi_open)
{
	double		d;

	if (v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("galaxy.compress option \"%s\" must be a number, not %s", key, jb_type_name(v))));
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
	if (isinf(hi) && !(d >= lo))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("galaxy.compress option \"%s\" = %g must be >= %g", key, d, lo)));
	if (!(d >= lo) || (hi_open ? !(d < hi) : !(d <= hi)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("galaxy.compress option \"%s\" = %g is outside [%g, %g%s", key, d, lo, hi,
						hi_open ? ")" : "]")));
	return d;
}

/* Read the options object; ERROR 22023 on an unknown key or a bad value. */
static void
read_options(Jsonb *options, CompressRequest *req)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	req->max_metric_drop = COMPRESS_DEFAULT_MAX_DROP;
	req->relation = NULL;
	req->algo.sparsity = 0.8;
	req->algo.epochs = 0;
	req->algo.data = NULL;
	req->algo.hp = NULL;
	req->algo.algorithm = NULL;
	req->algo.seed = 42;
	req->distill.student = NULL;
	req->distill.hyperparams = NULL;
	req->distill.test_size = 0.0;
	req->n_method_only = 0;
	if (!JB_ROOT_IS_OBJECT(options) || JB_ROOT_IS_SCALAR(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("galaxy.compress options must be a JSON object, not %s", options_text(options))));
	it = JsonbIteratorInit(&options->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE)
			continue;
		if (strcmp(key, "max_metric_drop") == 0)
			req->max_metric_drop = option_number(key, &v, 0.0, INFINITY, false);
		else if (strcmp(key, "sparsity") == 0)
		{
			req->algo.sparsity = option_number(key, &v, 0.0, 0.99, false);
			note_method_option(req, "prune", "sparsity");
		}
		else if (strcmp(key, "epochs") == 0)
		{
			double		e = option_number(key, &v, 0.0, 1000.0, false);

			if (e != floor(e))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("galaxy.compress option \"epochs\" must be a whole number, not %g", e)));
			req->algo.epochs = (int) e;
			note_method_option(req, "prune", "epochs");
		}
		else if (strcmp(key, "student") == 0)
		{
			if (v.type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("galaxy.compress option \"student\" must be an algorithm's name, not %s",
								jb_type_name(&v))));
			req->distill.student = pnstrdup(v.val.string.val, v.val.string.len);
			note_method_option(req, "distill", "student");
		}
		else if (strcmp(key, "test_size") == 0)
		{
			req->distill.test_size = option_number(key, &v, 0.0, 1.0, true);
			note_method_option(req, "distill", "test_size");
		}
		else if (strcmp(key, "hyperparams") == 0)
		{
			if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("galaxy.compress option \"hyperparams\" must be a JSON object of the student's hyperparameters")));
			req->distill.hyperparams = JsonbValueToJsonb(&v);
			note_method_option(req, "distill", "hyperparams");
		}
		else if (strcmp(key, "relation") == 0)
		{
			if (v.type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("galaxy.compress option \"relation\" must be a relation name, not %s",
								jb_type_name(&v))));
			req->relation = pnstrdup(v.val.string.val, v.val.string.len);
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown galaxy.compress option \"%s\"", key),
					 errhint("Options are max_metric_drop, relation, "
							 "for prune sparsity (default 0.8) and epochs (fine-tuning a neural network), for distill student, hyperparams and test_size.")));
	}
}

/* Whether a comma-separated list holds a name. */
static bool
list_has(const char *list, const char *name)
{
	size_t		n = strlen(name);

	for (const char *p = list; p && *p;)
	{
		const char *end = strchr(p, ',');
		size_t		len = end ? (size_t) (end - p) : strlen(p);

		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

/*
 * The methods a model offers: its algorithm's (int8, prune), and distill for
 * every classifier and regressor (a student learns from any teacher).
 */
static char *
supported_methods(const AlgorithmDef *algo, GalaxyTask task)
{
	StringInfoData s;

	initStringInfo(&s);
	if (algo->compress != NULL && algo->compress_methods != NULL)
		appendStringInfoString(&s, algo->compress_methods);
	if (task == TASK_CLASSIFICATION || task == TASK_REGRESSION)
		appendStringInfo(&s, "%sdistill", s.len > 0 ? "," : "");
	return s.len > 0 ? s.data : pstrdup("none");
}

/* ERROR unless method is one galaxy knows and the model offers. */
static void
check_method(const char *method, const AlgorithmDef *algo, GalaxyTask task, const CompressRequest *req)
{
	bool		known = false;
	char	   *supported = supported_methods(algo, task);

	for (int i = 0; i < lengthof(compress_methods); i++)
		known |= strcmp(method, compress_methods[i]) == 0;
	if (!known)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown compression method \"%s\"", method),
				 errhint("Methods are int8, prune and distill.")));
	if (!list_has(supported, method))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("algorithm %s does not support compression method \"%s\" (it supports %s)",
						algo->name, method, supported),
				 errhint("int8 compresses logistic_regression, neural_network and cnn models; prune those and "
						 "gradient_boosting; distill every classifier and regressor.")));
	for (int i = 0; i < req->n_method_only; i++)
		if (strcmp(req->method_only[i], method) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("galaxy.compress option \"%s\" is for method %s, not %s",
							req->method_only_key[i], req->method_only[i], method)));
}

/*
 * The parent's training rows for fine-tuning a pruned network: its
 * relation read as the caller (dataset_load), preprocessed by the parent's
 * preprocessor, the labels as the parent's class indices.
 */
static TrainData *
fine_tune_rows(const GalaxyModel *gm, const char *relation, int64 model_id)
{
	QueryResult *r;
	LoadOptions lo = {0};
	Dataset    *ds;
	TrainData  *td = palloc0(sizeof(TrainData));
	double	   *X;
	double	   *y;
	int			n_in = preprocess_n_inputs(gm->prep);

	if (strcmp(gm->algo->name, "neural_network") != 0 && strcmp(gm->algo->name, "cnn") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("galaxy.compress option \"epochs\" fine-tunes a pruned neural network; algorithm %s has none",
						gm->algo->name),
				 errhint("Fine-tuning is for neural_network and cnn models.")));
	if (preprocess_is_sparse(gm->prep))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("galaxy model %lld reads text features: its pruned network cannot be fine-tuned",
						(long long) model_id)));
	if (relation == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("galaxy model %lld has no training relation to fine-tune the pruned network on",
						(long long) model_id)));
	r = catalog_query("SELECT target FROM galaxy.models WHERE id = $1", 1, (Oid[]) {INT8OID},
					  (Datum[]) {Int64GetDatum(model_id)}, NULL, true, 1, SPI_OK_SELECT, "read galaxy.models");
	lo.relid = DatumGetObjectId(DirectFunctionCall1(regclassin, CStringGetDatum(relation)));
	lo.target = query_text(r, 0, 1);
	lo.task = gm->task;
	for (int i = 0; i < n_in; i++)
		lo.features = lappend(lo.features, makeString(preprocess_input(gm->prep, i)->name));
	ds = dataset_load(&lo);

	X = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(ds->n_rows * gm->n_features, 1));
	preprocess_transform(gm->prep, ds, NULL, ds->n_rows, X);
	y = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(ds->n_rows, 1));
	if (gm->task == TASK_CLASSIFICATION)
	{
		/* the relation's classes as the parent's class indices */
		int		   *map = palloc(sizeof(int) * Max(ds->n_classes, 1));

		for (int c = 0; c < ds->n_classes; c++)
		{
			map[c] = -1;
			for (int k = 0; k < gm->n_classes; k++)
				if (strcmp(ds->class_labels[c], gm->labels[k]) == 0)
					map[c] = k;
			if (map[c] < 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("relation %s has the label \"%s\", which galaxy model %lld does not know",
								relation, ds->class_labels[c], (long long) model_id)));
		}
		for (int64 i = 0; i < ds->n_rows; i++)
			y[i] = map[(int) ds->y[i]];
	}
	else
		memcpy(y, ds->y, sizeof(double) * ds->n_rows);
	td->n_rows = ds->n_rows;
	td->n_features = gm->n_features;
	td->X = X;
	td->y = y;
	td->n_classes = gm->n_classes;
	td->task = gm->task;
	return td;
}

/* The relation to measure on: the option's, else the parent's training relation. */
static Oid
measure_relation(const CompressRequest *req, const char *parent_relation, int64 model_id)
{
	const char *name = req->relation ? req->relation : parent_relation;

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("galaxy model %lld has no training relation to measure the compressed model on",
						(long long) model_id),
				 errhint("Name one with the option \"relation\" (a table with its input and target columns).")));
	return DatumGetObjectId(DirectFunctionCall1(regclassin, CStringGetDatum(name)));
}

/* The main metric of evaluated metrics, ERROR when it is missing. */
static double
main_metric(Jsonb *metrics, const char *key, int64 model_id)
{
	JsonbValue *v = getKeyJsonValueFromContainer(&metrics->root, key, strlen(key), NULL);

	if (v == NULL || v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("galaxy model %lld has no %s on the measured rows", (long long) model_id, key)));
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
}

/* Time a model's single-row predict (NaN when it cannot be measured). */
static void
measure_latency(int64 model_id, ModelLatency *lat)
{
	if (!model_latency_measure(model_id, lat))
	{
		lat->p50_ms = NAN;
		lat->p99_ms = NAN;
		lat->rows = 0;
	}
}

/* A float8 Datum for the catalog, NULL when not finite. */
static Datum
float_or_null(double v, char *null)
{
	*null = isfinite(v) ? ' ' : 'n';
	return Float8GetDatum(isfinite(v) ? v : 0.0);
}

/*
 * Register a compressed value as the next patch version of its parent, a
 * copy of the parent's row (status 'training' until it is measured);
 * returns its id and writes its version.
 */
static int64
register_copy(int64 project_id, int64 parent_id, struct varlena *value, char *version, Size versionlen)
{
	QueryResult *r;
	int			major,
				minor,
				patch;

	registry_next_patch(project_id, parent_id, &major, &minor, &patch);
	snprintf(version, versionlen, "%d.%d.%d", major, minor, patch);
	r = catalog_query("INSERT INTO galaxy.models (project_id, version, version_major, version_minor, "
					  "  version_patch, algorithm, task, model, hyperparams, hyperparams_given, preprocess, "
					  "  metrics, features, feature_types, target, label_type, relation, dataset_id, "
					  "  training_rows, test_rows, schema_fingerprint, data_fingerprint, seed, size_bytes, "
					  "  trained_by, parent_id, status) "
					  "SELECT project_id, $2, $3, $4, $5, algorithm, task, $6, hyperparams, hyperparams_given, "
					  "  preprocess, '{}', features, feature_types, target, label_type, relation, dataset_id, "
					  "  training_rows, test_rows, schema_fingerprint, data_fingerprint, seed, $7, $8, id, "
					  "  'training' "
					  "FROM galaxy.models WHERE id = $1 RETURNING id",
					  8, (Oid[]) {INT8OID, TEXTOID, INT4OID, INT4OID, INT4OID, galaxy_type_oid("model"),
						  INT4OID, NAMEOID},
					  (Datum[]) {Int64GetDatum(parent_id), CStringGetTextDatum(version),
						  Int32GetDatum(major), Int32GetDatum(minor), Int32GetDatum(patch),
						  PointerGetDatum(value), Int32GetDatum(VARSIZE(value)),
						  CStringGetDatum(GetUserNameFromId(GetUserId(), false))},
					  NULL, false, 1, SPI_OK_INSERT_RETURNING, "register the compressed model");
	if (r->nrows != 1)
		elog(ERROR, "could not register the compressed model: no row returned");
	return query_int64(r, 0, 1, 0);
}

/*
 * Both models on the same rows, the main metric's drop, both latencies; the
 * compressed model's metrics, its galaxy.compressions row and the audit
 * row.  The model is 'ready' afterwards.
 */
static void
measure_and_record(int64 parent_id, int64 project_id, int64 model_id, GalaxyTask task, const char *method,
				   Jsonb *options, const CompressRequest *reqp, const char *parent_relation,
				   int64 parent_size, int64 size_bytes, const char *version)
{
	CompressRequest req = *reqp;
	Oid			relid;
	Jsonb	   *parent_metrics;
	Jsonb	   *metrics;
	const char *key;
	bool		higher_is_better;
	double		parent_value,
				value_now,
				drop;
	bool		passed;
	ModelLatency parent_lat,
				lat;
	StringInfoData d;
	Datum		v[16];
	char		nulls[16];

	/*
	 * Both models on the same rows, the main metric's drop, both latencies.
	 * The model cache reads the catalog with the active snapshot: one that
	 * sees the row just inserted.
	 */
	relid = measure_relation(&req, parent_relation, parent_id);
	CommandCounterIncrement();
	PushCopiedSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
	parent_metrics = evaluate_model_metrics(parent_id, relid);
	metrics = evaluate_model_metrics(model_id, relid);
	PopActiveSnapshot();
	key = metrics_key(task, &higher_is_better);
	parent_value = main_metric(parent_metrics, key, parent_id);
	value_now = main_metric(metrics, key, model_id);
	drop = higher_is_better ? parent_value - value_now : value_now - parent_value;
	passed = drop <= req.max_metric_drop;
	measure_latency(parent_id, &parent_lat);
	measure_latency(model_id, &lat);

	catalog_command("UPDATE galaxy.models SET status = 'ready', metrics = $2 || jsonb_strip_nulls(jsonb_build_object("
					"  'predict_p50_ms', $3::float8, 'predict_p99_ms', $4::float8, 'predict_latency_rows', $5::integer,"
					"  'metric_drop', $6::float8, 'max_metric_drop', $7::float8))"
					" WHERE id = $1 AND status = 'training'",
					7, (Oid[]) {INT8OID, JSONBOID, FLOAT8OID, FLOAT8OID, INT4OID, FLOAT8OID, FLOAT8OID},
					(Datum[]) {Int64GetDatum(model_id), JsonbPGetDatum(metrics),
						Float8GetDatum(lat.p50_ms), Float8GetDatum(lat.p99_ms), Int32GetDatum(lat.rows),
						Float8GetDatum(drop), Float8GetDatum(req.max_metric_drop)},
					(char[]) {' ', ' ', isfinite(lat.p50_ms) ? ' ' : 'n', isfinite(lat.p99_ms) ? ' ' : 'n',
						lat.rows > 0 ? ' ' : 'n', ' ', ' '},
					SPI_OK_UPDATE, "record the compressed model's metrics");

	memset(nulls, ' ', sizeof(nulls));
	v[0] = Int64GetDatum(model_id);
	v[1] = Int64GetDatum(parent_id);
	v[2] = Int64GetDatum(project_id);
	v[3] = CStringGetTextDatum(method);
	v[4] = JsonbPGetDatum(options);
	v[5] = ObjectIdGetDatum(relid);
	v[6] = CStringGetTextDatum(key);
	v[7] = Float8GetDatum(parent_value);
	v[8] = Float8GetDatum(value_now);
	v[9] = Float8GetDatum(drop);
	v[10] = Float8GetDatum(req.max_metric_drop);
	v[11] = Int64GetDatum(parent_size);
	v[12] = Int64GetDatum(size_bytes);
	v[13] = float_or_null(parent_lat.p50_ms, &nulls[13]);
	v[14] = float_or_null(lat.p50_ms, &nulls[14]);
	v[15] = JsonbPGetDatum(parent_metrics);
	catalog_command("INSERT INTO galaxy.compressions (model_id, parent_id, project_id, method, options, "
					"  measured_on, main_metric, parent_value, value, metric_drop, max_metric_drop, "
					"  parent_size_bytes, size_bytes, parent_predict_p50_ms, predict_p50_ms, parent_metrics, "
					"  compressed_by) "
					"VALUES ($1, $2, $3, $4, $5, $6::regclass::text, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
					"  current_user)",
					16, (Oid[]) {INT8OID, INT8OID, INT8OID, TEXTOID, JSONBOID, OIDOID, TEXTOID,
						FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID, INT8OID, INT8OID, FLOAT8OID, FLOAT8OID,
						JSONBOID},
					v, nulls, SPI_OK_INSERT, "record the compression");

	initStringInfo(&d);
	details_begin(&d);
	details_int(&d, "parent", parent_id);
	details_str(&d, "method", method);
	details_json(&d, "options", options_text(options));
	details_str(&d, "version", version);
	details_str(&d, "metric", key);
	details_float(&d, "metric_drop", drop);
	details_float(&d, "max_metric_drop", req.max_metric_drop);
	details_bool(&d, "guard_passed", passed);
	details_int(&d, "parent_size_bytes", parent_size);
	details_int(&d, "size_bytes", size_bytes);
	galaxy_audit("compress", "model", psprintf(INT64_FORMAT, model_id), details_end(&d));

	if (!passed)
		ereport(NOTICE,
				(errmsg("compressed model %lld loses %.6g of %s (more than max_metric_drop %g): it is stored, and the deployment gates refuse it",
						(long long) model_id, drop, key, req.max_metric_drop)));
}

/*
 * galaxy.compress(model bigint, method text, options jsonb) → galaxy.models:
 * the compressed model's row.
 */
Datum
galaxy_compress(PG_FUNCTION_ARGS)
{
	int64		parent_id;
	char	   *method;
	Jsonb	   *options;
	CompressRequest req;
	QueryResult *r;
	int64		project_id;
	char	   *status;
	char	   *parent_relation;
	GalaxyModel *gm;
	GalaxyModel cm;
	struct varlena *value;
	uint16		format = MODEL_FORMAT_VERSION;
	char		version[64];
	int64		model_id;
	int64		parent_size;
	int32		parent_seed;
	int64		size_bytes;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("galaxy.compress: %s must not be NULL", PG_ARGISNULL(0) ? "model" : "method")));
	parent_id = PG_GETARG_INT64(0);
	method = text_to_cstring(PG_GETARG_TEXT_PP(1));
	options = PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2);

	r = catalog_query("SELECT project_id, status, relation, model, size_bytes::bigint, seed FROM galaxy.models WHERE id = $1",
					  1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(parent_id)},
					  NULL, true, 1, SPI_OK_SELECT, "read galaxy.models");
	if (r->nrows != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("galaxy model %lld does not exist", (long long) parent_id)));
	project_id = query_int64(r, 0, 1, 0);
	registry_check_model_access(project_id, parent_id, "train");
	status = query_text(r, 0, 2);
	parent_relation = query_text(r, 0, 3);
	parent_size = query_int64(r, 0, 5, 0);
	parent_seed = query_int32(r, 0, 6, 42);
	if (strcmp(status, "training") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("galaxy model %lld is still training", (long long) parent_id)));
	{
		bool		isnull;
		Datum		mv = query_datum(r, 0, 4, &isnull);

		gm = model_from_datum(mv);
	}

	if (options == NULL)
		options = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	read_options(options, &req);
	check_method(method, gm->algo, gm->task, &req);
	req.algo.method = method;

	if (strcmp(method, "distill") == 0)
	{
		/* a student trained on the teacher's predictions, through train_run */
		model_id = distill_run(parent_id, project_id, &req.distill);
		r = catalog_query("SELECT version, size_bytes::bigint FROM galaxy.models WHERE id = $1",
						  1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(model_id)},
						  NULL, false, 1, SPI_OK_SELECT, "read the student model");
		if (r->nrows != 1)
			elog(ERROR, "the distilled model " INT64_FORMAT " is missing", model_id);
		strlcpy(version, query_text(r, 0, 1), sizeof(version));
		size_bytes = query_int64(r, 0, 2, 0);
	}
	else
	{
		/* a pruned network fine-tuned on the parent's training rows */
		if (req.algo.epochs > 0)
		{
			req.algo.data = fine_tune_rows(gm, parent_relation, parent_id);
			req.algo.hp = &gm->hp;
			req.algo.algorithm = gm->algo->name;
			req.algo.seed = (uint64) parent_seed;
		}
		/* the algorithm's compressed copy of the state, in a new model value */
		cm = *gm;
		cm.state = gm->algo->compress(gm->state, &req.algo, &format);
		cm.format = format;
		value = model_serialize(&cm);
		size_bytes = VARSIZE(value);
		model_id = register_copy(project_id, parent_id, value, version, sizeof(version));
	}
	measure_and_record(parent_id, project_id, model_id, gm->task, method, options, &req, parent_relation,
					   parent_size, size_bytes, version);
	PG_RETURN_DATUM(registry_model_row(model_id));
}
