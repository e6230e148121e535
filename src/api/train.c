/*
 * train.c — the one training pipeline (load → preprocess → fit → evaluate →
 * register → deploy) and galaxy.train().  Background workers call
 * train_run() on a request rebuilt from the job queue.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "galaxy.h"
#include "algo/algo.h"
#include "algo/sparse.h"
#include "api/search.h"
#include "api/train.h"
#include "data/dataset.h"
#include "eval/metrics.h"
#include "jobs/trials.h"
#include "progress/progress.h"
#include "scale/stream.h"
#include "model/model.h"
#include "model/model_cache.h"
#include "model/model_latency.h"
#include "monitor/drift.h"
#include "registry/access.h"
#include "registry/approvals.h"
#include "registry/audit.h"
#include "registry/deploy.h"
#include "registry/gates.h"
#include "registry/versions.h"
#include "util/catalog.h"
#include "util/query.h"

PG_FUNCTION_INFO_V1(galaxy_train);

/* ---------- requests ---------- */

/* Text argument or NULL. */
static char *
arg_text(FunctionCallInfo fcinfo, int i)
{
	if (PG_NARGS() <= i || PG_ARGISNULL(i))
		return NULL;
	return text_to_cstring(PG_GETARG_TEXT_PP(i));
}

/* Jsonb argument or NULL. */
static Jsonb *
arg_jsonb(FunctionCallInfo fcinfo, int i)
{
	if (PG_NARGS() <= i || PG_ARGISNULL(i))
		return NULL;
	return PG_GETARG_JSONB_P_COPY(i);
}

/* List of String nodes from a text[] argument (NULL elements rejected). */
static List *
arg_text_list(FunctionCallInfo fcinfo, int i, const char *what)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *result = NIL;

	if (PG_NARGS() <= i || PG_ARGISNULL(i))
		return NIL;
	arr = PG_GETARG_ARRAYTYPE_P(i);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional text array", what)));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", what),
				 errhint("Pass NULL (or leave it out) to use every column but the target.")));
	for (int k = 0; k < n; k++)
	{
		if (nulls[k])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain NULL", what)));
		result = lappend(result, makeString(TextDatumGetCString(elems[k])));
	}
	return result;
}

/* Build a request from galaxy.train()'s (or galaxy.submit()'s leading) arguments. */
TrainRequest *
train_request_from_args(FunctionCallInfo fcinfo, int ntrain)
{
	TrainRequest *req = palloc0(sizeof(TrainRequest));

	req->project = arg_text(fcinfo, TA_PROJECT);
	req->relid = (PG_NARGS() > TA_RELATION && !PG_ARGISNULL(TA_RELATION)) ? PG_GETARG_OID(TA_RELATION) : InvalidOid;
	req->target = arg_text(fcinfo, TA_TARGET);
	req->algorithm = arg_text(fcinfo, TA_ALGORITHM);
	req->hyperparams = arg_jsonb(fcinfo, TA_HYPERPARAMS);
	req->test_size = (PG_NARGS() > TA_TEST_SIZE && !PG_ARGISNULL(TA_TEST_SIZE)) ? PG_GETARG_FLOAT8(TA_TEST_SIZE) : 0.2;
	req->search = arg_text(fcinfo, TA_SEARCH);
	req->search_space = arg_jsonb(fcinfo, TA_SEARCH_SPACE);
	req->folds = (PG_NARGS() > TA_FOLDS && !PG_ARGISNULL(TA_FOLDS)) ? PG_GETARG_INT32(TA_FOLDS) : 0;
	/* 0 means "no cross-validation" inside; a caller's 0 is out of range */
	if (PG_NARGS() > TA_FOLDS && !PG_ARGISNULL(TA_FOLDS) && (req->folds < 2 || req->folds > 100))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("folds must be between 2 and 100, got %d", req->folds),
				 errhint("Pass NULL (or leave it out) for no cross-validation.")));
	req->deploy = arg_text(fcinfo, TA_DEPLOY);
	req->seed = (PG_NARGS() > TA_SEED && !PG_ARGISNULL(TA_SEED)) ? PG_GETARG_INT32(TA_SEED) : 42;
	req->features = arg_text_list(fcinfo, TA_FEATURES, "features");
	req->preprocess = arg_jsonb(fcinfo, TA_PREPROCESS);
	req->task = arg_text(fcinfo, TA_TASK);
	req->dataset = arg_text(fcinfo, TA_DATASET);
	req->search_trials = (ntrain > TA_SEARCH_TRIALS && !PG_ARGISNULL(TA_SEARCH_TRIALS)) ?
		PG_GETARG_INT32(TA_SEARCH_TRIALS) : 0;
	if (ntrain > TA_SEARCH_TRIALS && !PG_ARGISNULL(TA_SEARCH_TRIALS) &&
		(req->search_trials < 1 || req->search_trials > SEARCH_MAX_TRIALS))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("search_trials must be between 1 and %d, got %d", SEARCH_MAX_TRIALS, req->search_trials),
				 errhint("Pass NULL (or leave it out) for the strategy's default: every point of a grid, %d random or bayesian trials.",
						 SEARCH_DEFAULT_TRIALS)));
	req->search_metric = ntrain > TA_SEARCH_METRIC ? arg_text(fcinfo, TA_SEARCH_METRIC) : NULL;
	req->search_objective = ntrain > TA_SEARCH_OBJECTIVE ? arg_text(fcinfo, TA_SEARCH_OBJECTIVE) : NULL;
	if (ntrain > TA_MAX_PARAMETERS && !PG_ARGISNULL(TA_MAX_PARAMETERS))
	{
		req->max_parameters = PG_GETARG_INT64(TA_MAX_PARAMETERS);
		if (req->max_parameters <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_parameters must be positive, got " INT64_FORMAT, req->max_parameters),
					 errhint("Pass NULL (or leave it out) for no limit on a trial's parameters.")));
	}
	if (req->algorithm == NULL)
		req->algorithm = pstrdup("auto");
	if (req->deploy == NULL)
		req->deploy = pstrdup("if_better");
	return req;
}

/* Fill relation/target/features from a registered dataset. */
static void
resolve_dataset(TrainRequest *req)
{
	QueryResult *r;
	bool		isnull;
	Datum		d;

	r = catalog_query("SELECT id, relation::oid, target, features FROM galaxy.datasets WHERE name = $1",
					  1, (Oid[]) {TEXTOID}, (Datum[]) {CStringGetTextDatum(req->dataset)},
					  NULL, true, 1, SPI_OK_SELECT, "read galaxy.datasets");
	if (r->nrows != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("dataset \"%s\" does not exist", galaxy_short(req->dataset)),
				 errhint("Register it with galaxy.create_dataset().")));
	if (!OidIsValid(req->relid))
		req->relid = DatumGetObjectId(query_datum(r, 0, 2, &isnull));
	if (req->target == NULL)
		req->target = query_text(r, 0, 3);
	d = query_datum(r, 0, 4, &isnull);
	if (req->features == NIL && !isnull)
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		for (int k = 0; k < n; k++)
			if (!nulls[k])
				req->features = lappend(req->features, makeString(TextDatumGetCString(elems[k])));
	}
	req->dataset_id = query_int64(r, 0, 1, 0);
}

/* Validate a request up front. */
void
train_request_validate(TrainRequest *req)
{
	if (req->project == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("project must not be NULL")));
	registry_check_project_name(req->project);
	/* an existing project: the caller needs the train privilege on it */
	{
		int64		pid = registry_project_id(req->project, true);

		if (pid != 0)
			registry_check_project_access(pid, "train");
	}
	if (req->dataset && req->dataset_id == 0)
		resolve_dataset(req);
	if (!OidIsValid(req->relid))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a relation or a dataset is required"),
				 errhint("Call galaxy.train('project', relation => 'table', target => 'column').")));
	if (get_rel_name(req->relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", req->relid)));
	if (pg_class_aclcheck(req->relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK &&
		pg_attribute_aclcheck_all(req->relid, GetUserId(), ACL_SELECT, ACLMASK_ANY) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(req->relid))));
	if (req->task)
		(void) galaxy_task_from_name(req->task);
	if (req->target == NULL && !(req->task && strcmp(req->task, "clustering") == 0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("target must be given"),
				 errhint("Name the column to predict: target => 'column'.")));
	if (strcmp(req->algorithm, "auto") != 0)
	{
		const AlgorithmDef *algo = algo_by_name(req->algorithm);
		HyperParams hp;

		/* an alias ('mlp') is recorded by its algorithm's name everywhere */
		req->algorithm = pstrdup(algo->name);

		if (req->task && !(algo->tasks & TASK_BIT(galaxy_task_from_name(req->task))))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("algorithm %s does not support %s", algo->name, req->task)));
		algo_resolve_hyperparams(algo, req->hyperparams, &hp);
	}
	else if (req->hyperparams && JB_ROOT_COUNT(req->hyperparams) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hyperparams need an explicit algorithm"),
				 errhint("Pass algorithm => 'name' with hyperparams; SELECT * FROM galaxy.algorithms lists them.")));
	if (isnan(req->test_size) || req->test_size < 0 || req->test_size >= 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("test_size must be in [0, 1), got %g", req->test_size)));
	if (req->search == NULL && (req->search_space != NULL || req->search_trials != 0 ||
								req->search_metric != NULL || req->search_objective != NULL ||
								req->max_parameters != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("search_space, search_trials, search_metric, search_objective and max_parameters need search => 'grid', 'random', 'bayesian', 'halving' or 'auto'")));
	if (req->search != NULL)
	{
		search_check_objective(req->search_objective);
		if (strcmp(req->search, "auto") == 0 || strcmp(req->algorithm, "auto") == 0)
			search_check_auto(req->algorithm, req->search, req->search_space, req->search_trials);
		else
		{
			/* the strategy, the space against the algorithm's hyperparameters, the budget */
			(void) search_prepare(algo_by_name(req->algorithm), req->search, req->search_space,
								  req->search_trials, req->hyperparams, req->seed);
			if (req->max_parameters != 0 && algo_by_name(req->algorithm)->count_parameters == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("max_parameters needs an algorithm that counts its parameters; %s does not",
								req->algorithm),
						 errhint("The neural algorithms (neural_network, cnn, lstm, transformer) count theirs.")));
		}
		if (req->search_metric && (req->search_metric[0] == '\0' || strlen(req->search_metric) > 63))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("search_metric must be a metric's name, such as accuracy or rmse")));
	}
	if (req->folds != 0 && (req->folds < 2 || req->folds > 100))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("folds must be between 2 and 100, got %d", req->folds)));
	if (strcmp(req->deploy, "if_better") != 0 && strcmp(req->deploy, "always") != 0 &&
		strcmp(req->deploy, "never") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown deploy policy \"%s\"", req->deploy),
				 errhint("Valid policies: if_better, always, never.")));
	if (req->preprocess && (!JB_ROOT_IS_OBJECT(req->preprocess) || JB_ROOT_IS_SCALAR(req->preprocess)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess must be a JSON object, e.g. '{\"scale\": \"minmax\"}'")));
}

static char *jget_str(Jsonb *j, const char *key);

/* The loader's options for a request. */
static void
request_load_options(const TrainRequest *req, LoadOptions *lo)
{
	memset(lo, 0, sizeof(*lo));
	lo->relid = req->relid;
	lo->target = req->target;
	lo->features = req->features;
	lo->task = req->task ? galaxy_task_from_name(req->task) : 0;
	if (req->preprocess)
	{
		char	   *imp = jget_str(req->preprocess, "impute");

		lo->impute_error = imp && strcmp(imp, "error") == 0;
		lo->text = preprocess_text_columns(req->preprocess, &lo->n_text);
	}
}

/*
 * An algorithm that bins its features (binned_input) may get its rows loaded
 * straight into bin codes, for its "max_bins": only for a plain holdout fit
 * (no search, no folds, some test rows) without text columns.
 */
static void
binned_load_options(const TrainRequest *req, const AlgorithmDef *algo, LoadOptions *lo)
{
	HyperParams hp;
	int			i;

	if (!algo->binned_input || lo->n_text > 0 || req->search != NULL || req->folds >= 2 ||
		!(req->test_size > 0))
		return;
	algo_resolve_hyperparams(algo, req->hyperparams, &hp);
	i = algo_param_index(algo, "max_bins");
	if (i >= 0)
		lo->max_bins = (int) hp.values[i];
	lo->seed = (uint64) req->seed;
}

/*
 * Most text features a dense-only algorithm (without sparse_input) takes:
 * its rows are then made dense, n_rows x n_features doubles.
 */
#define TEXT_DENSE_MAX_FEATURES 4096

/*
 * An algorithm without sparse input takes text columns only when their
 * options bound their features to at most TEXT_DENSE_MAX_FEATURES in all
 * (max_features, or hashing's n_features): ERROR 0A000 otherwise, decided
 * from the request before any row is read.
 */
static void
check_text_algorithm(const AlgorithmDef *algo, const LoadOptions *lo)
{
	int64		width = 0;
	const char *unbounded = NULL;

	/* token ids are for a model that embeds them, and nothing else */
	for (int t = 0; t < lo->n_text; t++)
		if (lo->text[t].sequence_length > 0 && !algo->token_input)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("algorithm %s does not read text as a sequence", algo->name),
					 errdetail("Text column \"%s\" is configured as \"text\": \"sequence\" (token ids).",
							   lo->text[t].name),
					 errhint("Train lstm or transformer on it, or make it a bag of words with \"text\": \"tfidf\".")));
	if (lo->n_text == 0 || algo->sparse_input)
		return;
	for (int t = 0; t < lo->n_text; t++)
	{
		if (lo->text[t].max_width == 0)
			unbounded = lo->text[t].name;
		width += lo->text[t].max_width;
	}
	if (unbounded == NULL && width <= TEXT_DENSE_MAX_FEATURES)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("algorithm %s does not take sparse text features", algo->name),
			 unbounded ?
			 errdetail("Text column \"%s\" has a vocabulary of any size; %s would need it dense, which galaxy does for at most %d text features.",
					   unbounded, algo->name, TEXT_DENSE_MAX_FEATURES) :
			 errdetail("The text columns yield up to " INT64_FORMAT " features; %s would need them dense, which galaxy does for at most %d.",
					   width, algo->name, TEXT_DENSE_MAX_FEATURES),
			 errhint("Train a linear model (logistic_regression, linear_svm, linear_regression, lasso, elastic_net) or naive_bayes on text, or bound the text features to at most %d with \"max_features\" (or \"text\": \"hashing\" with \"n_features\").",
					 TEXT_DENSE_MAX_FEATURES)));
}

/*
 * A text column read as a sequence is the row's whole input (the network
 * reads every feature as a token id): ERROR 22023 beside other features.
 */
static void
check_token_sequence(const LoadOptions *lo, const Dataset *ds)
{
	for (int t = 0; t < lo->n_text; t++)
		if (lo->text[t].sequence_length > 0 && ds->n_inputs > 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("text column \"%s\" read as a sequence must be the only feature, not one of %d",
							lo->text[t].name, ds->n_inputs),
					 errhint("Name it alone: features => ARRAY['%s'].", lo->text[t].name)));
}

/*
 * Task 'nlp' (text classification): every feature column of a text type
 * whose preprocess options do not say otherwise is read as text — a
 * sequence of token ids for an algorithm that embeds tokens (lstm,
 * transformer), else TF-IDF — by adding that to req->preprocess, which the
 * model then records.  Idempotent (submit does it, then the worker).
 */
static void
nlp_text_defaults(TrainRequest *req)
{
	LoadOptions lo;
	List	   *names = NIL;
	bool		tokens;

	if (req->task == NULL || strcmp(req->task, "nlp") != 0)
		return;
	tokens = strcmp(req->algorithm, "auto") != 0 && algo_by_name(req->algorithm)->token_input;
	/* the options are read once the defaults are in (a column's max_length needs its "text") */
	memset(&lo, 0, sizeof(lo));
	lo.relid = req->relid;
	lo.target = req->target;
	lo.features = req->features;
	lo.task = TASK_CLASSIFICATION;
	lo.check_only = true;
	lo.text_typed = &names;
	(void) dataset_load(&lo);
	if (names == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("task nlp needs a feature column of type text, varchar or char"),
				 errhint("Name the text column in features, or choose task classification.")));
	req->preprocess = preprocess_text_defaults(req->preprocess, names, tokens ? "sequence" : "tfidf");
}

/* The audit row of a registered model. */
static void
audit_training(const TrainRequest *req, const AlgorithmDef *algo, const Dataset *ds, int64 model_id)
{
	StringInfoData d;

	initStringInfo(&d);
	details_begin(&d);
	details_str(&d, "project", req->project);
	details_str(&d, "algorithm", algo->name);
	details_str(&d, "relation", get_rel_name(req->relid));
	details_float(&d, "rows", (double) ds->n_rows);
	details_float(&d, "job_id", (double) req->job_id);
	galaxy_audit("train", "model", psprintf(INT64_FORMAT, model_id), details_end(&d));
}

/*
 * What galaxy.submit() checks beyond train_request_validate: the relation,
 * its columns, their types and the caller's privileges on them, as the
 * worker will find them, without reading a row.
 */
void
train_request_check_inputs(TrainRequest *req)
{
	LoadOptions lo = {0};

	if (get_rel_persistence(req->relid) == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a background job cannot read the temporary table \"%s\"", get_rel_name(req->relid)),
				 errdetail("Temporary tables are visible only to the session that created them."),
				 errhint("Train synchronously with galaxy.train(), or copy the rows into a regular table.")));
	nlp_text_defaults(req);
	request_load_options(req, &lo);
	if (strcmp(req->algorithm, "auto") != 0)
		check_text_algorithm(algo_by_name(req->algorithm), &lo);
	lo.check_only = true;
	(void) dataset_load(&lo);
}

/* Request as jsonb for the job queue. */
Jsonb *
train_request_to_jsonb(const TrainRequest *req)
{
	StringInfoData s;
	ListCell   *lc;

	initStringInfo(&s);
	details_begin(&s);
	details_str(&s, "project", req->project);
	details_float(&s, "relid", (double) req->relid);
	details_str(&s, "relation", OidIsValid(req->relid) ? get_rel_name(req->relid) : NULL);
	details_str(&s, "dataset", req->dataset);
	details_str(&s, "target", req->target);
	details_str(&s, "algorithm", req->algorithm);
	details_str(&s, "task", req->task);
	details_float(&s, "test_size", req->test_size);
	details_float(&s, "folds", req->folds);
	details_str(&s, "deploy", req->deploy);
	details_float(&s, "seed", req->seed);
	details_str(&s, "search", req->search);
	details_json(&s, "search_space", req->search_space ? JsonbToCString(NULL, &req->search_space->root, 0) : "null");
	details_float(&s, "search_trials", req->search_trials);
	details_str(&s, "search_metric", req->search_metric);
	details_str(&s, "search_objective", req->search_objective);
	details_float(&s, "max_parameters", (double) req->max_parameters);
	if (req->features == NIL)
		details_json(&s, "features", "null");
	else
	{
		StringInfoData arr;

		initStringInfo(&arr);
		appendStringInfoChar(&arr, '[');
		foreach(lc, req->features)
		{
			if (lc != list_head(req->features))
				appendStringInfoString(&arr, ", ");
			escape_json(&arr, strVal(lfirst(lc)));
		}
		appendStringInfoChar(&arr, ']');
		details_json(&s, "features", arr.data);
	}
	details_json(&s, "hyperparams", req->hyperparams ? JsonbToCString(NULL, &req->hyperparams->root, 0) : "null");
	details_json(&s, "preprocess", req->preprocess ? JsonbToCString(NULL, &req->preprocess->root, 0) : "null");
	return details_end(&s);
}

/* Look up a key of a jsonb object. */
static JsonbValue *
jget(Jsonb *j, const char *key)
{
	JsonbValue	k;
	JsonbValue *v;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	v = findJsonbValueFromContainer(&j->root, JB_FOBJECT, &k);
	if (v && v->type == jbvNull)
		return NULL;
	return v;
}

/* String member or NULL. */
static char *
jget_str(Jsonb *j, const char *key)
{
	JsonbValue *v = jget(j, key);

	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* Numeric member or a default. */
static double
jget_num(Jsonb *j, const char *key, double def)
{
	JsonbValue *v = jget(j, key);

	if (v == NULL || v->type != jbvNumeric)
		return def;
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
}

/* Object/array member as its own jsonb, or NULL. */
static Jsonb *
jget_jsonb(Jsonb *j, const char *key)
{
	JsonbValue *v = jget(j, key);

	if (v == NULL || v->type != jbvBinary)
		return NULL;
	return JsonbValueToJsonb(v);
}

/* Rebuild a request stored by train_request_to_jsonb. */
TrainRequest *
train_request_from_jsonb(Jsonb *j)
{
	TrainRequest *req = palloc0(sizeof(TrainRequest));
	Jsonb	   *features;

	req->project = jget_str(j, "project");
	req->relid = (Oid) jget_num(j, "relid", 0);
	req->dataset = jget_str(j, "dataset");
	req->target = jget_str(j, "target");
	req->algorithm = jget_str(j, "algorithm");
	req->task = jget_str(j, "task");
	req->test_size = jget_num(j, "test_size", 0.2);
	req->folds = (int) jget_num(j, "folds", 0);
	req->deploy = jget_str(j, "deploy");
	req->seed = (int) jget_num(j, "seed", 42);
	req->hyperparams = jget_jsonb(j, "hyperparams");
	req->preprocess = jget_jsonb(j, "preprocess");
	req->search = jget_str(j, "search");
	req->search_space = jget_jsonb(j, "search_space");
	req->search_trials = (int) jget_num(j, "search_trials", 0);
	req->search_metric = jget_str(j, "search_metric");
	req->search_objective = jget_str(j, "search_objective");
	req->max_parameters = (int64) jget_num(j, "max_parameters", 0);
	features = jget_jsonb(j, "features");
	if (features)
	{
		JsonbIterator *it = JsonbIteratorInit(&features->root);
		JsonbValue	v;
		JsonbIteratorToken tok;

		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
			if (tok == WJB_ELEM && v.type == jbvString)
				req->features = lappend(req->features,
										makeString(pnstrdup(v.val.string.val, v.val.string.len)));
	}
	if (req->algorithm == NULL)
		req->algorithm = pstrdup("auto");
	if (req->deploy == NULL)
		req->deploy = pstrdup("if_better");
	if (req->project == NULL || !OidIsValid(req->relid))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("stored training request is incomplete")));
	return req;
}

/* ---------- the pipeline ---------- */

/* Seconds since 'start'. */
static double
seconds_since(instr_time start)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	return INSTR_TIME_GET_DOUBLE(now);
}

/* The algorithm for a task when the user said 'auto'. */
static const AlgorithmDef *
choose_algorithm(const char *name, GalaxyTask task)
{
	const AlgorithmDef *algo;

	if (strcmp(name, "auto") == 0)
	{
		switch (task)
		{
			case TASK_REGRESSION:
				return algo_by_name("linear_regression");
			case TASK_CLASSIFICATION:
				return algo_by_name("logistic_regression");
			case TASK_CLUSTERING:
				return algo_by_name("kmeans");
			default:
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("no algorithm for task %s is available", galaxy_task_name(task))));
		}
	}
	algo = algo_by_name(name);
	if (!(algo->tasks & TASK_BIT(task)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("algorithm %s does not support %s", algo->name, galaxy_task_name(task)),
				 errhint("SELECT name, tasks FROM galaxy.algorithms lists what each algorithm supports.")));
	return algo;
}

/*
 * Put the training rows in ascending order (the complement of the test rows):
 * which rows train matters, their order does not, and scanning the raw
 * matrix in order is several times faster than through a shuffled index.
 */
static void
ascending_rows(int64 n_rows, const int64 *test_idx, int64 n_test, int64 *train_idx, int64 n_train)
{
	bool	   *is_test = palloc0(sizeof(bool) * Max(n_rows, 1));
	int64		k = 0;

	for (int64 i = 0; i < n_test; i++)
		is_test[test_idx[i]] = true;
	for (int64 i = 0; i < n_rows; i++)
		if (!is_test[i])
			train_idx[k++] = i;
	if (k != n_train)
		elog(ERROR, "galaxy: split has %lld training rows, expected %lld", (long long) k, (long long) n_train);
	pfree(is_test);
}

/*
 * Matrices of one split, in training layout: float64 (X_train, X_test), or
 * float32 (Xf_train, Xf_test) when the Dataset was loaded in float32 for an
 * algorithm that computes in float32.
 */
typedef struct SplitData
{
	int64		n_train;
	int64		n_test;
	double	   *X_train;
	double	   *y_train;
	double	   *X_test;			/* the rows after the training rows in X_train's buffer */
	double	   *y_test;
	float	   *Xf_train;
	float	   *Xf_test;		/* the rows after the training rows in Xf_train's buffer */
	/* rows loaded as bin codes: the training rows' codes; X_test apart (or X_train without test rows) */
	bool		binned;
	BinnedFeatures Xb;
	/* text features for an algorithm with sparse input: CSR, training rows then test rows */
	bool		sparse;
	SparseBuilder csr;
	SparseMatrix Xs_train;
	SparseMatrix Xs_test;
} SplitData;

/*
 * Sparse features (a text input) of rows a, then rows b, of the Dataset
 * into one CSR matrix in out->csr.  An algorithm with sparse input gets
 * them as they are (Xs_train, Xs_test); for any other they are made dense
 * (X_train, X_test: the text features are few, check_text_algorithm).
 */
static void
sparse_split(const Dataset *ds, const Preprocessor *prep, const AlgorithmDef *algo,
			 const int64 *ra, int64 na, const int64 *rb, int64 nb, SplitData *out)
{
	int			p = preprocess_n_features(prep);
	int64		nnz_hint = 0;
	double	   *rowbuf = palloc(sizeof(double) * Max(ds->n_raw, 1));
	SparseRow	row;

	/* the text columns' words plus a value per other input and row */
	for (int i = 0; i < ds->n_inputs; i++)
		nnz_hint += ds->inputs[i].kind == INPUT_TEXT ? ds->inputs[i].doc_start[ds->n_rows] :
			(int64) ds->inputs[i].width * ds->n_rows;
	sparse_builder_init(&out->csr, p, na + nb, Min(nnz_hint, (int64) 1 << 30), "text features");
	sparse_row_init(&row, 256);
	for (int part = 0; part < 2; part++)
	{
		const int64 *rows = part == 0 ? ra : rb;
		int64		n = part == 0 ? na : nb;

		for (int64 k = 0; k < n; k++)
		{
			if ((k & 0x3FFF) == 0)
				CHECK_FOR_INTERRUPTS();
			preprocess_apply_sparse_dataset(prep, ds, dataset_raw_row(ds, rows[k], rowbuf), &row);
			sparse_builder_add(&out->csr, &row);
		}
	}
	pfree(row.idx);
	pfree(row.val);
	pfree(rowbuf);
	out->Xs_train = sparse_builder_rows(&out->csr, 0, na);
	out->Xs_test = sparse_builder_rows(&out->csr, na, nb);
	out->sparse = true;
	if (!algo->sparse_input)
	{
		/* a dense-only algorithm: few text features, made dense */
		galaxy_check_training_memory((Size) (na + nb) * p * sizeof(double), "text features made dense");
		out->X_train = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(na + nb, 1) * Max(p, 1));
		sparse_densify(&out->Xs_train, 0, na, out->X_train);
		out->X_test = nb > 0 ? out->X_train + na * p : NULL;
		if (nb > 0)
			sparse_densify(&out->Xs_test, 0, nb, out->X_test);
		sparse_builder_free(&out->csr);
		out->sparse = false;
	}
}

/* The Dataset's text columns' stores of terms, no longer needed once the features are built. */
static void
free_text_stores(Dataset *ds)
{
	for (int i = 0; i < ds->n_inputs; i++)
	{
		InputColumn *in = &ds->inputs[i];

		if (in->kind != INPUT_TEXT || in->doc_start == NULL)
			continue;
		pfree(in->doc_start);
		pfree(in->doc_terms);
		pfree(in->doc_counts);
		in->doc_start = NULL;
		in->doc_terms = NULL;
		in->doc_counts = NULL;
	}
}

/* Store preprocessed row 'src' (p values) at row i of a float64 or float32 matrix. */
static inline void
store_row(void *X, bool f32, int64 i, int p, const double *src)
{
	if (f32)
	{
		float	   *dst = (float *) X + i * p;

		for (int j = 0; j < p; j++)
			dst[j] = (float) src[j];
	}
	else
		memcpy((double *) X + i * p, src, sizeof(double) * p);
}

/*
 * Turn the dataset's raw rows into preprocessed train/test matrices: one
 * buffer of n rows, the training rows first and the test rows after them
 * (X_test points into X_train's buffer; free only X_train), of the raw rows'
 * element type.  When preprocessing keeps the width (no one-hot), that
 * buffer is the raw rows' own, compacted and transformed in place, so peak
 * memory stays near one copy of the data.
 */
static void
build_split(Dataset *ds, const Preprocessor *prep, const AlgorithmDef *algo,
			const int64 *train_idx, int64 n_train, const int64 *test_idx, int64 n_test, SplitData *out)
{
	int			p = preprocess_n_features(prep);
	int			r = ds->n_raw;
	int64		n = ds->n_rows;
	bool		f32 = ds->raw32 != NULL;
	Size		elem = f32 ? sizeof(float) : sizeof(double);
	bool		in_place = (p == r);
	bool	   *is_test = palloc0(sizeof(bool) * Max(n, 1));
	double	   *scratch = palloc(sizeof(double) * Max(p, r));
	double	   *rowbuf = palloc(sizeof(double) * Max(r, 1));
	char	   *X;
	char	   *test_rows;
	int64		dst = 0;
	int64		ti = 0;

	memset(out, 0, sizeof(SplitData));
	out->n_test = n_test;
	out->n_train = n - n_test;
	if (preprocess_is_sparse(prep))
	{
		/* text features: CSR rows (training, then test), labels in the same order */
		Assert(n_train == out->n_train);
		sparse_split(ds, prep, algo, train_idx, n_train, test_idx, n_test, out);
		if (ds->y)
		{
			out->y_train = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(n_train, 1));
			for (int64 i = 0; i < n_train; i++)
				out->y_train[i] = ds->y[train_idx[i]];
			out->y_test = n_test > 0 ? MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * n_test) : NULL;
			for (int64 i = 0; i < n_test; i++)
				out->y_test[i] = ds->y[test_idx[i]];
		}
		pfree(ds->raw);
		ds->raw = NULL;
		free_text_stores(ds);
		pfree(is_test);
		pfree(scratch);
		pfree(rowbuf);
		return;
	}
	for (int64 i = 0; i < n_test; i++)
		is_test[test_idx[i]] = true;

	galaxy_check_training_memory((Size) (in_place ? n_test : n) * p * elem + (Size) n * r * elem,
								 "preprocessed training data");
	X = in_place ? (f32 ? (char *) ds->raw32 : (char *) ds->raw) :
		MemoryContextAllocHuge(CurrentMemoryContext, (Size) Max(n, 1) * p * elem);
	/* in place, the test rows wait aside until the training rows are compacted */
	if (!in_place)
		galaxy_prefault(X, (Size) n * p * elem);
	test_rows = n_test == 0 ? NULL : in_place ?
		MemoryContextAllocHuge(CurrentMemoryContext, (Size) n_test * p * elem) :
		X + (Size) out->n_train * p * elem;
	if (in_place && test_rows)
		galaxy_prefault(test_rows, (Size) n_test * p * elem);
	out->y_test = n_test > 0 && ds->y ? MemoryContextAllocHuge(CurrentMemoryContext, (Size) n_test * sizeof(double)) : NULL;
	out->y_train = ds->y;

	for (int64 i = 0; i < n; i++)
	{
		/* a float32 row is copied out before its slot can be overwritten */
		const double *row = dataset_raw_row(ds, i, rowbuf);

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		preprocess_apply_raw(prep, row, scratch);
		if (is_test[i])
		{
			store_row(test_rows, f32, ti, p, scratch);
			if (out->y_test)
				out->y_test[ti] = ds->y[i];
			ti++;
		}
		else
		{
			store_row(X, f32, dst, p, scratch);
			if (ds->y)
				ds->y[dst] = ds->y[i];	/* dst <= i: compaction is safe */
			dst++;
		}
	}
	Assert(dst == out->n_train && ti == n_test);
	if (in_place && n_test > 0)
	{
		memcpy(X + (Size) out->n_train * p * elem, test_rows, (Size) n_test * p * elem);
		pfree(test_rows);
	}
	if (!in_place)
	{
		if (f32)
			pfree(ds->raw32);
		else
			pfree(ds->raw);
	}
	ds->raw = NULL;
	ds->raw32 = NULL;
	if (f32)
	{
		out->Xf_train = (float *) X;
		out->Xf_test = n_test > 0 ? out->Xf_train + out->n_train * p : NULL;
	}
	else
	{
		out->X_train = (double *) X;
		out->X_test = n_test > 0 ? out->X_train + out->n_train * p : NULL;
	}
	pfree(is_test);
	pfree(scratch);
	pfree(rowbuf);
}

/*
 * The split of rows loaded as bin codes (ds->bins): the training rows' codes
 * for the fit, and the rows scored after it (test rows, or the training rows
 * when there are none) decoded into float64.
 */
static void
binned_split(Dataset *ds, const Preprocessor *prep, const int64 *train_idx, int64 n_train,
			 const int64 *test_idx, int64 n_test, SplitData *out)
{
	double	   *X;

	memset(out, 0, sizeof(SplitData));
	dataset_bins_split(ds, prep, train_idx, n_train, test_idx, n_test, &out->Xb, &X, &out->y_test);
	out->binned = true;
	out->n_train = n_train;
	out->n_test = n_test;
	out->y_train = ds->y;
	if (n_test > 0)
		out->X_test = X;
	else
		out->X_train = X;
}

/* Callback for AlgorithmDef.fit_metrics: add to a MetricSet. */
static void
add_fit_metric(const char *name, double value, void *arg)
{
	metrics_add((MetricSet *) arg, name, value);
}

/*
 * Predictions (and, with proba, class probabilities) of a fitted state for n
 * rows given in float64 (X) or float32 (Xf); float32 rows are widened a block
 * at a time (at most ~4 MB).
 */
static void
predict_rows(const AlgorithmDef *algo, void *state, int n_classes, const double *X, const float *Xf,
			 const SparseMatrix *Xs, int64 n, int p, double *pred, double *proba)
{
	int64		block;
	double	   *buf;

	if (Xs != NULL)
	{
		algo_predict_scores_sparse(algo, state, Xs, n_classes, pred, proba);
		return;
	}
	if (Xf == NULL)
	{
		if (n_classes > 0)
			algo_predict_scores(algo, state, X, n, n_classes, pred, proba);
		else
			algo->predict(state, X, n, pred);
		return;
	}
	block = Max((int64) ((4 << 20) / (sizeof(double) * Max(p, 1))), 1);
	buf = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Min(block, Max(n, 1)) * p);
	for (int64 start = 0; start < n; start += block)
	{
		int64		m = Min(block, n - start);

		for (int64 i = 0; i < m * p; i++)
			buf[i] = (double) Xf[start * p + i];
		if (n_classes > 0)
			algo_predict_scores(algo, state, buf, m, n_classes, pred + start,
								proba ? proba + start * n_classes : NULL);
		else
			algo->predict(state, buf, m, pred + start);
		CHECK_FOR_INTERRUPTS();
	}
	pfree(buf);
}

/*
 * Evaluate a fitted state on X (or Xf, float32) and y into metrics; with
 * predict_seconds, the seconds the predictions took (scoring them left out).
 */
static void
evaluate_state(const AlgorithmDef *algo, void *state, GalaxyTask task, int n_classes,
			   const double *X, const float *Xf, const SparseMatrix *Xs, const double *y, int64 n,
			   int p, uint64 seed, MetricSet *ms, double *predict_seconds)
{
	double	   *pred = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(n, 1));
	instr_time	t0;

	metrics_init(ms);
	INSTR_TIME_SET_CURRENT(t0);
	if (task == TASK_CLASSIFICATION)
	{
		double	   *proba = NULL;

		if (algo->predict_proba)
			proba = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(n, 1) * n_classes);
		predict_rows(algo, state, n_classes, X, Xf, Xs, n, p, pred, proba);
		if (predict_seconds)
			*predict_seconds = seconds_since(t0);
		metrics_classification(y, pred, proba, n, n_classes, ms);
		if (proba)
			pfree(proba);
	}
	else
	{
		/* clustering metrics read the rows: a clustering algorithm is loaded in float64, dense */
		Assert(task == TASK_REGRESSION || (Xf == NULL && Xs == NULL));
		predict_rows(algo, state, 0, X, Xf, Xs, n, p, pred, NULL);
		if (predict_seconds)
			*predict_seconds = seconds_since(t0);
		if (task == TASK_REGRESSION)
			metrics_regression(y, pred, n, ms);
		else
		{
			/* clusters are numbered 0..k-1: k from the predictions */
			int			k = 0;

			for (int64 i = 0; i < n; i++)
				if (pred[i] >= k && pred[i] < INT_MAX)
					k = (int) pred[i] + 1;
			metrics_clustering(X, n, p, pred, k, seed, ms);
		}
	}
	pfree(pred);
}

/*
 * What a search's trial learns beside its scores (fold_metrics): the
 * model's parameter count and the predict time of its scored rows; with
 * max_parameters > 0, a configuration over it is not fitted (skipped).
 */
typedef struct FoldCosts
{
	int64		max_parameters; /* in: 0 = no limit */
	int64		parameters;		/* out: -1 when the algorithm does not count them */
	bool		skipped;		/* out: over max_parameters, nothing fitted */
	double		predict_seconds;	/* out: over every fold */
	int64		predict_rows;
} FoldCosts;

/*
 * Fit and score one configuration on folds 0..n_folds-1 of fold_of: fold
 * f's rows are scored by a fit on every other row with fold_of >= 0 (rows
 * with fold_of < 0 take no part).  per_fold[f] gets fold f's metrics (their
 * names and values only); costs (may be NULL) what the fits cost.
 */
static void
fold_metrics(const TrainRequest *req, Dataset *ds, const AlgorithmDef *algo, const HyperParams *hp,
			 const FitContext *fctx, const int *fold_of, int n_folds, MetricSet *per_fold,
			 FoldCosts *costs)
{
	if (costs)
	{
		costs->parameters = -1;
		costs->skipped = false;
		costs->predict_seconds = 0;
		costs->predict_rows = 0;
	}
	for (int f = 0; f < n_folds; f++)
	{
		MemoryContext foldctx = AllocSetContextCreate(CurrentMemoryContext, "galaxy cv fold", ALLOCSET_DEFAULT_SIZES);
		MemoryContext old = MemoryContextSwitchTo(foldctx);
		int64		n_tr = 0,
					n_te = 0;
		int64	   *tr = palloc(sizeof(int64) * ds->n_rows);
		int64	   *te = palloc(sizeof(int64) * ds->n_rows);
		Preprocessor *prep;
		int			p;
		double	   *Xtr,
				   *Xte,
				   *ytr = NULL,
				   *yte = NULL;
		TrainData	td = {0};
		SplitData	fold = {0};
		void	   *state;
		MetricSet  *ms = &per_fold[f];

		for (int64 i = 0; i < ds->n_rows; i++)
		{
			if (fold_of[i] == f)
				te[n_te++] = i;
			else if (fold_of[i] >= 0)
				tr[n_tr++] = i;
		}
		if (n_te == 0 || n_tr < 2)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("too few rows to score on %d fold%s: fold %d has " INT64_FORMAT " rows to score and " INT64_FORMAT " to train on",
							n_folds, n_folds == 1 ? "" : "s", f + 1, n_te, n_tr),
					 errhint("Train on more rows, or use fewer folds.")));
		prep = preprocess_fit(ds, tr, n_tr, req->preprocess, algo_default_scaling(algo, hp));
		p = preprocess_n_features(prep);
		/* the parameter count, before anything is fitted: over the limit, the trial is skipped */
		if (costs && f == 0 && algo->count_parameters)
		{
			costs->parameters = algo->count_parameters(hp, p, ds->n_classes, ds->task);
			if (costs->max_parameters > 0 && costs->parameters > costs->max_parameters)
			{
				costs->skipped = true;
				MemoryContextSwitchTo(old);
				MemoryContextDelete(foldctx);
				return;
			}
		}
		if (preprocess_is_sparse(prep))
		{
			/* text features: CSR for a sparse algorithm, else made dense */
			sparse_split(ds, prep, algo, tr, n_tr, te, n_te, &fold);
			Xtr = fold.X_train;
			Xte = fold.X_test;
		}
		else
		{
			galaxy_check_training_memory((Size) ds->n_rows * p * sizeof(double), "cross-validation fold");
			Xtr = MemoryContextAllocHuge(foldctx, (Size) Max(n_tr, 1) * p * sizeof(double));
			Xte = MemoryContextAllocHuge(foldctx, (Size) Max(n_te, 1) * p * sizeof(double));
			preprocess_transform(prep, ds, tr, n_tr, Xtr);
			preprocess_transform(prep, ds, te, n_te, Xte);
		}
		if (ds->y)
		{
			ytr = palloc(sizeof(double) * Max(n_tr, 1));
			yte = palloc(sizeof(double) * Max(n_te, 1));
			for (int64 i = 0; i < n_tr; i++)
				ytr[i] = ds->y[tr[i]];
			for (int64 i = 0; i < n_te; i++)
				yte[i] = ds->y[te[i]];
		}
		td.n_rows = n_tr;
		td.n_features = p;
		td.X = fold.sparse ? NULL : Xtr;
		td.Xs = fold.sparse ? &fold.Xs_train : NULL;
		td.y = ytr;
		td.n_tokens = preprocess_n_tokens(prep);
		td.n_classes = ds->n_classes;
		td.task = ds->task;
		state = algo->fit(&td, hp, fctx);
		{
			double		predict_seconds = 0;

			evaluate_state(algo, state, ds->task, ds->n_classes, fold.sparse ? NULL : Xte, NULL,
						   fold.sparse ? &fold.Xs_test : NULL, yte, n_te, p, (uint64) req->seed, ms,
						   &predict_seconds);
			if (costs)
			{
				costs->predict_seconds += predict_seconds;
				costs->predict_rows += n_te;
			}
		}
		/* the confusion matrix and cluster sizes live in the fold's context */
		ms->confusion = NULL;
		ms->n_classes = 0;
		ms->cluster_sizes = NULL;
		ms->n_clusters = 0;
		MemoryContextSwitchTo(old);
		MemoryContextDelete(foldctx);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Mean and standard deviation over n_folds folds of every metric, in the
 * order first seen; a metric missing from a fold counts as 0 there.
 * Returns the number of metrics.
 */
static int
fold_summary(const MetricSet *per_fold, int n_folds, const char **names, double *mean, double *std)
{
	double		sum[GALAXY_MAX_METRICS] = {0};
	double		sumsq[GALAXY_MAX_METRICS] = {0};
	int			n_names = 0;

	for (int f = 0; f < n_folds; f++)
	{
		const MetricSet *ms = &per_fold[f];

		for (int m = 0; m < ms->n; m++)
		{
			int			k;

			for (k = 0; k < n_names; k++)
				if (strcmp(names[k], ms->names[m]) == 0)
					break;
			if (k == n_names && n_names < GALAXY_MAX_METRICS)
				names[n_names++] = ms->names[m];
			if (k < GALAXY_MAX_METRICS)
			{
				sum[k] += ms->values[m];
				sumsq[k] += ms->values[m] * ms->values[m];
			}
		}
	}
	for (int k = 0; k < n_names; k++)
	{
		double		var;

		mean[k] = sum[k] / n_folds;
		var = sumsq[k] / n_folds - mean[k] * mean[k];
		std[k] = sqrt(Max(var, 0));
	}
	return n_names;
}

/* Add a fold summary to details as cv_<metric>_mean and cv_<metric>_std. */
static void
details_fold_summary(StringInfo extra, const char **names, const double *mean, const double *std,
					 int n_names, int n_folds)
{
	for (int k = 0; k < n_names; k++)
	{
		char		key[80];

		snprintf(key, sizeof(key), "cv_%s_mean", names[k]);
		details_float(extra, key, mean[k]);
		snprintf(key, sizeof(key), "cv_%s_std", names[k]);
		details_float(extra, key, std[k]);
	}
	details_float(extra, "cv_folds", n_folds);
}

/* k-fold cross-validation of the same algorithm/hyperparameters: mean and std of every metric. */
static void
cross_validate(TrainRequest *req, Dataset *ds, const AlgorithmDef *algo, const HyperParams *hp,
			   const FitContext *fctx, StringInfo extra)
{
	int		   *fold_of = split_kfold(ds, req->folds, (uint64) req->seed);
	MetricSet  *per_fold = palloc0(sizeof(MetricSet) * req->folds);
	const char *names[GALAXY_MAX_METRICS];
	double		mean[GALAXY_MAX_METRICS];
	double		std[GALAXY_MAX_METRICS];
	int			n_names;

	fold_metrics(req, ds, algo, hp, fctx, fold_of, req->folds, per_fold, NULL);
	n_names = fold_summary(per_fold, req->folds, names, mean, std);
	details_fold_summary(extra, names, mean, std, n_names, req->folds);
}

/* The fraction of the training rows a search without folds scores its trials on. */
#define SEARCH_VALIDATION_SIZE 0.25
/* The random stream of that validation split ("SVAL"), apart from the test split's. */
#define SEARCH_VALIDATION_SEED UINT64CONST(0x5356414C)

/*
 * Folds a search scores its trials on, over the Dataset's rows: k-fold on
 * the training rows (stratified for classification) with folds => k, else
 * one validation split of a quarter of them (fold 0 scored, fold 1 trains);
 * the test rows are -1 (never used).  Returns the number of scored folds.
 */
static int
search_folds(const TrainRequest *req, const Dataset *ds, const int64 *test_idx, int64 n_test,
			 int **fold_of_out)
{
	int		   *fold_of;
	int			n_folds;

	if (req->folds >= 2)
	{
		fold_of = split_kfold(ds, req->folds, (uint64) req->seed);
		n_folds = req->folds;
	}
	else
	{
		int64	   *vtr,
				   *vte;
		int64		n_vtr,
					n_vte;

		split_holdout(ds, SEARCH_VALIDATION_SIZE, (uint64) req->seed ^ SEARCH_VALIDATION_SEED,
					  &vtr, &n_vtr, &vte, &n_vte);
		fold_of = palloc(sizeof(int) * Max(ds->n_rows, 1));
		for (int64 i = 0; i < ds->n_rows; i++)
			fold_of[i] = 1;
		for (int64 i = 0; i < n_vte; i++)
			fold_of[vte[i]] = 0;
		pfree(vtr);
		pfree(vte);
		n_folds = 1;
	}
	for (int64 i = 0; i < n_test; i++)
		fold_of[test_idx[i]] = -1;
	*fold_of_out = fold_of;
	return n_folds;
}

/*
 * Run one trial in a subtransaction: resolve its hyperparameters (into *hp),
 * score them on the folds.  An error is caught and returned as a failed
 * trial (a query cancel or a shutdown is not: it ends the search).
 */
static void
run_trial(const TrainRequest *req, Dataset *ds, const AlgorithmDef *algo, Jsonb *given,
		  const int *fold_of, int n_folds, const char *metric, TrialOutcome *res, HyperParams *hp)
{
	MemoryContext caller = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	MemoryContext trialctx = AllocSetContextCreate(caller, "galaxy trial", ALLOCSET_DEFAULT_SIZES);
	MetricSet  *per_fold = palloc0(sizeof(MetricSet) * n_folds);
	FitContext	fctx = {0};
	FoldCosts	costs = {0};
	instr_time	t0;

	/* trials report as the search; their fits do not report iterations */
	fctx.seed = (uint64) req->seed;
	fctx.threads = galaxy_threads;
	memset(res, 0, sizeof(*res));
	memset(hp, 0, sizeof(*hp));
	res->n_folds = n_folds;
	res->parameters = -1;
	res->predict_ms = NAN;
	costs.max_parameters = req->max_parameters;
	costs.parameters = -1;
	INSTR_TIME_SET_CURRENT(t0);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(trialctx);
	PG_TRY();
	{
		algo_resolve_hyperparams(algo, given, hp);
		fold_metrics(req, ds, algo, hp, &fctx, fold_of, n_folds, per_fold, &costs);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller);
		CurrentResourceOwner = owner;
		res->ok = !costs.skipped;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(caller);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller);
		CurrentResourceOwner = owner;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
		res->error_message = pstrdup(edata->message);
		res->sqlstate = pstrdup(unpack_sql_state(edata->sqlerrcode));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	MemoryContextDelete(trialctx);
	res->seconds = seconds_since(t0);
	res->parameters = costs.parameters;
	if (costs.predict_rows > 0)
		res->predict_ms = costs.predict_seconds * 1000.0 / costs.predict_rows;
	if (costs.skipped)
	{
		res->skipped = true;
		res->error_message = psprintf("skipped: the model would have " INT64_FORMAT " parameters, more than max_parameters " INT64_FORMAT,
									  costs.parameters, costs.max_parameters);
		res->sqlstate = pstrdup("54000");
	}

	if (res->ok)
	{
		const char *names[GALAXY_MAX_METRICS];
		double		mean[GALAXY_MAX_METRICS];
		double		std[GALAXY_MAX_METRICS];
		int			n_names = fold_summary(per_fold, n_folds, names, mean, std);
		MetricSet	means;
		bool		found = false;

		metrics_init(&means);
		for (int k = 0; k < n_names; k++)
		{
			metrics_add(&means, names[k], mean[k]);
			if (strcmp(names[k], metric) == 0)
			{
				res->score = mean[k];
				res->score_std = std[k];
				found = true;
			}
		}
		if (!found)
		{
			StringInfoData known;

			initStringInfo(&known);
			for (int k = 0; k < n_names; k++)
				appendStringInfo(&known, "%s%s", k > 0 ? ", " : "", names[k]);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("search_metric \"%s\" is not a metric of this task", galaxy_short(metric)),
					 errhint("Metrics scored: %s.", known.data)));
		}
		for (int f = 0; f < n_folds; f++)
			res->fold_scores[f] = metrics_get(&per_fold[f], metric);
		res->metrics = metrics_to_jsonb(&means, NULL);
	}
	pfree(per_fold);
}

static void train_split(const TrainRequest *req, const Dataset *ds, int64 **train_idx, int64 *n_train,
						int64 **test_idx, int64 *n_test);

/* What trials_wait reports to: the job's progress slot. */
typedef struct SearchProgress
{
	ProgressRun *run;
	int			budget;
	int64		rows;
} SearchProgress;

/* Report the trials done so far as the search's progress. */
static void
search_progress(void *arg, int done)
{
	SearchProgress *sp = (SearchProgress *) arg;
	ProgressInfo info = {0};

	info.phase = "search";
	info.iteration = done;
	info.total = sp->budget;
	info.rows = sp->rows;
	info.loss = NAN;
	info.val_loss = NAN;
	info.metric = NAN;
	info.learning_rate = NAN;
	progress_callback(&info, sp->run);
}

/*
 * A background job's grid or random search with more than one trial runs
 * its trials in parallel: every proposal up front on a board, up to
 * galaxy.max_workers - 1 trial workers plus this one claiming them
 * (jobs/trials.c).  Returns the board with every trial's result, or NULL
 * when the search runs here alone.
 */
static TrialBoard *
run_trials_parallel(TrainRequest *req, Dataset *ds, const AlgorithmDef *algo, Search *s,
					const int *fold_of, int n_folds, const char *metric, Jsonb **given,
					Jsonb **values, SearchProgress *sp)
{
	int			budget = search_budget(s);
	TrialBoard *volatile board;

	if (req->job_id == 0 || search_is_sequential(s) || budget < 2 || budget > TRIALS_MAX_PARALLEL ||
		galaxy_max_workers < 2 || n_folds > TRIALS_MAX_FOLDS)
		return NULL;
	for (int t = 0; t < budget; t++)
		given[t] = search_propose(s, t, &values[t]);
	board = trials_create(budget, n_folds, train_request_to_jsonb(req), ds->data_fingerprint, req->job_id);
	PG_TRY();
	{
		int			t;

		for (t = 0; t < budget; t++)
			trials_put(board, t, given[t]);
		(void) trials_launch(board, Min(galaxy_max_workers, budget) - 1);
		while ((t = trials_claim(board, 0)) >= 0)
		{
			TrialOutcome res;
			HyperParams thp;

			run_trial(req, ds, algo, given[t], fold_of, n_folds, metric, &res, &thp);
			trials_set_result(board, t, &res);
		}
		trials_wait(board, search_progress, sp);
	}
	PG_CATCH();
	{
		trials_stop(board);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return board;
}

/*
 * Hyperparameter search: run every trial the search proposes, scored on
 * folds of the training rows (search_folds) — here one after another, or
 * in parallel workers for a background job (run_trials_parallel) — record
 * each in galaxy.trials in trial order, then set *hp and req->hyperparams
 * to the best configuration (the first of equally good ones by the
 * search_objective) and *algo_out to its algorithm (an auto search's
 * trials differ in it).  A failing trial is recorded as failed and the
 * search goes on, one over max_parameters as skipped; ERROR when no trial
 * scored.  Returns the search's id.
 */
static int64
run_search(TrainRequest *req, Dataset *ds, const AlgorithmDef *algo, const int64 *test_idx,
		   int64 n_test, ProgressRun *run, HyperParams *hp, StringInfo extra,
		   const AlgorithmDef **algo_out)
{
	bool		autoalg = strcmp(req->search, "auto") == 0;
	Search	   *s = autoalg ? search_prepare_auto(ds->task, req->search_trials, req->seed) :
		search_prepare(algo, req->search, req->search_space, req->search_trials,
					   req->hyperparams, req->seed);
	int			budget = search_budget(s);
	bool		higher;
	const char *metric = metrics_key(ds->task, &higher);
	int		   *fold_of;
	int			n_folds = search_folds(req, ds, test_idx, n_test, &fold_of);
	int64		project_id = registry_project_ensure(req->project, ds->task);
	int64		search_id;
	int			best = -1,
				n_failed = 0;
	double		best_score = NAN,
				best_std = NAN,
				best_objective = NAN;
	const AlgorithmDef *best_algo = NULL;
	int			n_skipped = 0;
	HyperParams best_hp;
	Jsonb	   *best_given = NULL;
	Jsonb	   *best_values = NULL;
	char	   *first_error = NULL;
	int64		resource_fitted = 0;
	Jsonb	  **given = palloc0(sizeof(Jsonb *) * budget);
	Jsonb	  **values = palloc0(sizeof(Jsonb *) * budget);
	SearchProgress sp = {run, budget, ds->n_rows};
	TrialBoard *board;

	if (req->search_metric)
	{
		metric = req->search_metric;
		higher = !metrics_lower_is_better(metric);
	}
	registry_check_project_access(project_id, "train");
	/* accuracy_per_ms: a metric where higher is better (ERROR now, not after the trials) */
	(void) search_objective_value(req->search_objective, metric, higher, 1, 1);
	search_id = search_insert(s, project_id, autoalg ? "auto" : algo->name, req->search, search_space(s),
							  metric, higher, req->folds, req->seed, req->job_id, req->search_objective,
							  req->max_parameters);
	board = run_trials_parallel(req, ds, algo, s, fold_of, n_folds, metric, given, values, &sp);

	for (int t = 0; t < budget; t++)
	{
		TrialOutcome res;
		HyperParams thp;
		bool		final = search_trial_final(s, t);
		const AlgorithmDef *talgo = search_trial_algorithm(s, t);
		TrialCosts	costs = {0};

		CHECK_FOR_INTERRUPTS();
		memset(&thp, 0, sizeof(thp));
		if (board == NULL)
		{
			given[t] = search_propose(s, t, &values[t]);
			run_trial(req, ds, talgo, given[t], fold_of, n_folds, metric, &res, &thp);
			search_progress(&sp, t + 1);
		}
		else
		{
			trials_get_result(board, t, &res);
			if (res.ok || res.skipped)
				algo_resolve_hyperparams(talgo, given[t], &thp);
		}
		costs.algorithm = talgo->name;
		costs.architecture = (res.ok || res.skipped) ? search_architecture(talgo, &thp) : NULL;
		costs.parameters = res.parameters;
		costs.predict_ms = res.predict_ms;
		costs.objective = res.ok ? search_objective_value(req->search_objective, metric, higher,
														  res.score, res.predict_ms) : NAN;
		costs.skipped = res.skipped;
		search_observe(s, t, res.ok && isfinite(costs.objective), costs.objective, higher);
		search_record_trial(search_id, project_id, t + 1, search_trial_rung(s, t), final, values[t],
							res.ok, res.score, res.score_std, res.fold_scores, res.ok ? res.n_folds : 0,
							res.metrics, res.seconds, res.error_message, res.sqlstate, &costs);
		resource_fitted += (int64) search_trial_resource(s, t) * n_folds;
		if (res.skipped)
			n_skipped++;
		else if (!res.ok)
		{
			n_failed++;
			if (first_error == NULL)
				first_error = psprintf("trial %d (%s): %s", t + 1, talgo->name, res.error_message);
		}
		else if (final && isfinite(costs.objective) &&
				 (best < 0 || (higher ? costs.objective > best_objective : costs.objective < best_objective)))
		{
			best = t;
			best_score = res.score;
			best_std = res.score_std;
			best_objective = costs.objective;
			best_hp = thp;
			best_given = given[t];
			best_values = values[t];
			best_algo = talgo;
		}
	}
	if (board != NULL)
		trials_stop(board);
	if (best < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 n_skipped > 0 ?
				 errmsg("every trial of the %s search failed, was skipped or scored no %s", req->search, metric) :
				 errmsg("every trial of the %s search failed or scored no %s", req->search, metric),
				 first_error ? errdetail("First failure: %s", first_error) :
				 n_skipped > 0 ? errdetail("%d trials were over max_parameters " INT64_FORMAT ".", n_skipped,
										   req->max_parameters) : 0,
				 errhint("Narrow search_space to values the algorithm can fit on this data%s.",
						 n_skipped > 0 ? ", or raise max_parameters" : "")));

	*hp = best_hp;
	*algo_out = best_algo;
	req->hyperparams = best_given;
	if (autoalg)
		req->algorithm = pstrdup(best_algo->name);
	details_float(extra, "search_id", (double) search_id);
	if (autoalg)
		details_str(extra, "search_algorithm", best_algo->name);
	if (req->search_objective)
		details_str(extra, "search_objective", req->search_objective);
	if (n_skipped > 0)
		details_float(extra, "search_trials_skipped", n_skipped);
	details_str(extra, "search", req->search);
	details_float(extra, "search_trials", budget);
	details_float(extra, "search_trials_failed", n_failed);
	details_float(extra, "search_best_trial", best + 1);
	details_str(extra, "search_metric", metric);
	details_float(extra, "search_best_score", best_score);
	details_float(extra, "search_best_score_std", best_std);
	details_json(extra, "search_best_hyperparams", JsonbToCString(NULL, &best_values->root, 0));
	details_float(extra, "search_folds", req->folds >= 2 ? req->folds : 0);
	if (search_full_resource(s) > 0)
	{
		/* successive halving: iterations fitted, against fitting every configuration in full */
		details_str(extra, "search_resource", algo->budget_param);
		details_float(extra, "search_resource_fitted", (double) resource_fitted);
		details_float(extra, "search_resource_full", (double) search_full_resource(s) * n_folds);
	}
	if (autoalg || n_skipped > 0)
		ereport(NOTICE,
				(errmsg("galaxy: search " INT64_FORMAT " (%s, %d trial%s, %d failed, %d skipped): best trial %d (%s), %s = %.4f",
						search_id, req->search, budget, budget == 1 ? "" : "s", n_failed, n_skipped, best + 1,
						best_algo->name, metric, best_score)));
	else
		ereport(NOTICE,
				(errmsg("galaxy: search " INT64_FORMAT " (%s, %d trial%s, %d failed): best trial %d, %s = %.4f",
						search_id, req->search, budget, budget == 1 ? "" : "s", n_failed, best + 1, metric,
						best_score)));
	return search_id;
}

/*
 * A trial worker of a parallel search: load and split the rows as the job's
 * worker did (the same request and seed), then score trials from the board
 * until none is left.  Nothing is written to the catalog.
 */
void
train_trials_run(TrainRequest *req, TrialBoard *board, int who, const char *fingerprint)
{
	MemoryContext trainctx = AllocSetContextCreate(CurrentMemoryContext, "galaxy trials",
												   ALLOCSET_DEFAULT_SIZES);
	MemoryContext oldctx = MemoryContextSwitchTo(trainctx);
	ProgressRun *volatile run;

	train_request_validate(req);
	run = progress_begin(req->job_id, req->project, req->algorithm, 0);
	PG_TRY();
	{
		LoadOptions lo = {0};
		Dataset    *ds;
		const AlgorithmDef *algo;
		int64	   *train_idx,
				   *test_idx;
		int64		n_train,
					n_test;
		int		   *fold_of;
		int			n_folds;
		bool		higher;
		const char *metric;
		int			t,
					done = 0;
		SearchProgress sp;

		progress_phase(run, "load");
		request_load_options(req, &lo);
		check_text_algorithm(algo_by_name(req->algorithm), &lo);
		lo.float32 = algo_by_name(req->algorithm)->float32_input && lo.n_text == 0;
		ds = dataset_load(&lo);
		if (fingerprint && ds->data_fingerprint && strcmp(fingerprint, ds->data_fingerprint) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the rows of relation \"%s\" changed since the search's job read them",
							get_rel_name(req->relid)),
					 errdetail("This trial worker stops; the job's other workers score its trials.")));
		progress_set_rows(run, ds->n_rows);
		algo = choose_algorithm(req->algorithm, ds->task);
		train_split(req, ds, &train_idx, &n_train, &test_idx, &n_test);
		n_folds = search_folds(req, ds, test_idx, n_test, &fold_of);
		metric = req->search_metric ? req->search_metric : metrics_key(ds->task, &higher);
		progress_phase(run, "trial");
		sp.run = run;
		sp.budget = 0;
		sp.rows = ds->n_rows;
		while ((t = trials_claim(board, who)) >= 0)
		{
			TrialOutcome res;
			HyperParams thp;

			run_trial(req, ds, algo, trials_given(board, t), fold_of, n_folds, metric, &res, &thp);
			trials_set_result(board, t, &res);
			search_progress(&sp, ++done);
		}
	}
	PG_FINALLY();
	{
		progress_end(run);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldctx);
	MemoryContextDelete(trainctx);
}

/* Key metric of a stored model's metrics, NaN if absent. */
static double
stored_metric(int64 model_id, const char *key)
{
	QueryResult *r;

	r = catalog_query("SELECT (metrics ->> $2)::float8 FROM galaxy.models WHERE id = $1",
					  2, (Oid[]) {INT8OID, TEXTOID},
					  (Datum[]) {Int64GetDatum(model_id), CStringGetTextDatum(key)},
					  NULL, false, 1, SPI_OK_SELECT, "read galaxy.models");
	return r->nrows == 1 ? query_float8(r, 0, 1, NAN) : NAN;
}

/* text[] datum from C strings. */
static Datum
cstring_array(char **items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(items[i]);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * Measure a just-registered model's single-row predict latency, add it to
 * its metrics (predict_p50_ms, predict_p99_ms, predict_latency_rows) and
 * make the model ready.  A model whose latency cannot be measured is ready
 * without it (model_latency_measure said why).
 */
static void
record_latency(int64 model_id)
{
	ModelLatency lat;

	if (model_latency_measure(model_id, &lat))
		catalog_command("UPDATE galaxy.models SET status = 'ready', metrics = metrics"
						" || jsonb_build_object('predict_p50_ms', $2::float8, 'predict_p99_ms', $3::float8,"
						"                       'predict_latency_rows', $4::integer)"
						" WHERE id = $1 AND status = 'training'",
						4, (Oid[]) {INT8OID, FLOAT8OID, FLOAT8OID, INT4OID},
						(Datum[]) {Int64GetDatum(model_id), Float8GetDatum(lat.p50_ms),
								   Float8GetDatum(lat.p99_ms), Int32GetDatum(lat.rows)},
						NULL, SPI_OK_UPDATE, "record the model's latency");
	else
		catalog_command("UPDATE galaxy.models SET status = 'ready' WHERE id = $1 AND status = 'training'",
						1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(model_id)},
						NULL, SPI_OK_UPDATE, "make the model ready");
}

/*
 * Insert the model row (status 'training' until record_latency), with its
 * training profile when it has one (in the same row: not a second write of
 * it); returns its id.
 */
static int64
insert_model(TrainRequest *req, int64 project_id, const Dataset *ds, const GalaxyModel *gm,
			 struct varlena *value, Jsonb *metrics, const HyperParams *hp,
			 int64 n_train, int64 n_test, Jsonb *profile)
{
	int			n_in = preprocess_n_inputs(gm->prep);
	char	  **names = palloc(sizeof(char *) * n_in);
	char	  **types = palloc(sizeof(char *) * n_in);
	int			major,
				minor,
				patch;
	int64		parent_id;
	char		version[64];
	QueryResult *r;
	const char *relname;
	Datum		v[28];
	char		nulls[28];
	Oid			t[28] = {INT8OID, TEXTOID, INT4OID, INT4OID, INT4OID, TEXTOID, TEXTOID,
		galaxy_type_oid("model"), JSONBOID, JSONBOID, JSONBOID, JSONBOID,
		TEXTARRAYOID, TEXTARRAYOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID, INT8OID,
		TEXTOID, TEXTOID, INT4OID, INT4OID, NAMEOID, INT8OID, INT8OID, JSONBOID};
	bool		with_profile = drift_profile_column_exists();

	for (int i = 0; i < n_in; i++)
	{
		names[i] = preprocess_input(gm->prep, i)->name;
		types[i] = preprocess_input(gm->prep, i)->typname;
	}
	if (req->parent_id != 0)
	{
		/* a model made from another (distillation): its next patch version */
		registry_next_patch(project_id, req->parent_id, &major, &minor, &patch);
		parent_id = req->parent_id;
	}
	else
		registry_next_version(project_id, ds->schema_fingerprint, &major, &minor, &patch, &parent_id);
	snprintf(version, sizeof(version), "%d.%d.%d", major, minor, patch);
	relname = req->relation_name ? req->relation_name :
		quote_qualified_identifier(get_namespace_name(get_rel_namespace(req->relid)),
								   get_rel_name(req->relid));

	memset(v, 0, sizeof(v));
	memset(nulls, ' ', sizeof(nulls));
	v[0] = Int64GetDatum(project_id);
	v[1] = CStringGetTextDatum(version);
	v[2] = Int32GetDatum(major);
	v[3] = Int32GetDatum(minor);
	v[4] = Int32GetDatum(patch);
	v[5] = CStringGetTextDatum(gm->algo->name);
	v[6] = CStringGetTextDatum(galaxy_task_name(gm->task));
	v[7] = PointerGetDatum(value);
	v[8] = JsonbPGetDatum(algo_hyperparams_jsonb(gm->algo, hp, false));
	v[9] = JsonbPGetDatum(algo_hyperparams_jsonb(gm->algo, hp, true));
	if (req->preprocess)
		v[10] = JsonbPGetDatum(req->preprocess);
	else
		nulls[10] = 'n';
	v[11] = JsonbPGetDatum(metrics);
	v[12] = cstring_array(names, n_in);
	v[13] = cstring_array(types, n_in);
	if (ds->target)
		v[14] = CStringGetTextDatum(ds->target);
	else
		nulls[14] = 'n';
	if (ds->target_typname)
		v[15] = CStringGetTextDatum(ds->target_typname);
	else
		nulls[15] = 'n';
	v[16] = CStringGetTextDatum(relname);
	if (req->dataset_id)
		v[17] = Int64GetDatum(req->dataset_id);
	else
		nulls[17] = 'n';
	v[18] = Int64GetDatum(n_train);
	v[19] = Int64GetDatum(n_test);
	v[20] = CStringGetTextDatum(ds->schema_fingerprint);
	if (ds->data_fingerprint)
		v[21] = CStringGetTextDatum(ds->data_fingerprint);
	else
		nulls[21] = 'n';
	v[22] = Int32GetDatum(req->seed);
	v[23] = Int32GetDatum(VARSIZE(value));
	v[24] = CStringGetDatum(GetUserNameFromId(GetUserId(), false));
	if (req->job_id)
		v[25] = Int64GetDatum(req->job_id);
	else
		nulls[25] = 'n';
	if (parent_id)
		v[26] = Int64GetDatum(parent_id);
	else
		nulls[26] = 'n';
	if (profile != NULL)
		v[27] = JsonbPGetDatum(profile);
	else
		nulls[27] = 'n';

	/* the same statement with and without the profile column (a 0.1.0 schema has none) */
#define INSERT_MODEL_COLUMNS \
	"INSERT INTO galaxy.models (project_id, version, version_major, version_minor, " \
	"version_patch, algorithm, task, model, hyperparams, hyperparams_given, " \
	"preprocess, metrics, features, feature_types, target, label_type, relation, " \
	"dataset_id, training_rows, test_rows, schema_fingerprint, data_fingerprint, " \
	"seed, size_bytes, trained_by, job_id, parent_id, status"
#define INSERT_MODEL_VALUES \
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, " \
	"$17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, 'training'"
	r = catalog_query(with_profile ?
					  INSERT_MODEL_COLUMNS ", training_profile) " INSERT_MODEL_VALUES ", $28) RETURNING id" :
					  INSERT_MODEL_COLUMNS ") " INSERT_MODEL_VALUES ") RETURNING id",
					  with_profile ? 28 : 27, t, v, nulls, false, 1,
					  SPI_OK_INSERT_RETURNING, "register the model");
#undef INSERT_MODEL_COLUMNS
#undef INSERT_MODEL_VALUES
	if (r->nrows != 1)
		elog(ERROR, "could not register the model: no row returned");
	return query_int64(r, 0, 1, 0);
}

/*
 * The holdout split of a request, training rows in ascending order; ERROR
 * when fewer than two training rows are left.
 */
static void
train_split(const TrainRequest *req, const Dataset *ds, int64 **train_idx, int64 *n_train,
			int64 **test_idx, int64 *n_test)
{
	split_holdout(ds, req->test_size, (uint64) req->seed, train_idx, n_train, test_idx, n_test);
	Assert(*n_train + *n_test == ds->n_rows && *n_train >= 0 && *n_test >= 0);
	ascending_rows(ds->n_rows, *test_idx, *n_test, *train_idx, *n_train);
	if (*n_train == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no training rows left after holding out test_size = %g", req->test_size)));
	if (*n_train < 2)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("only " INT64_FORMAT " training row%s left (of " INT64_FORMAT " usable rows); at least 2 are needed",
						(int64) *n_train, *n_train == 1 ? "" : "s", (int64) ds->n_rows),
				 errhint("Train on more rows, or lower test_size.")));
}

/* What the algorithm's fit sees: the split's matrices. */
static void
training_data(const Dataset *ds, const SplitData *sd, int n_features, TrainData *td)
{
	td->n_rows = sd->n_train;
	td->n_features = n_features;
	td->X = sd->binned ? NULL : sd->X_train;
	td->Xb = sd->binned ? &sd->Xb : NULL;
	td->Xf = sd->Xf_train;
	td->y = sd->y_train;
	td->n_classes = ds->n_classes;
	td->task = ds->task;
	td->n_val = sd->n_test;
	td->X_val = sd->X_test;
	td->y_val = sd->y_test;
	if (sd->sparse)
	{
		td->Xs = &sd->Xs_train;
		td->Xs_val = sd->n_test > 0 ? &sd->Xs_test : NULL;
	}
}

/* The in-memory model of a fit, as model_serialize takes it. */
static void
model_of(const AlgorithmDef *algo, const Dataset *ds, Preprocessor *prep, const HyperParams *hp,
		 void *state, GalaxyModel *gm)
{
	gm->algo = algo;
	gm->task = ds->task;
	gm->n_features = preprocess_n_features(prep);
	gm->n_classes = ds->task == TASK_CLASSIFICATION ? ds->n_classes : 0;
	gm->label_typname = ds->target_typname;
	gm->labels = ds->class_labels;
	gm->prep = prep;
	gm->hp = *hp;
	gm->state = state;
}

/*
 * Metrics of a fitted state on the held-out rows (or the training rows when
 * test_size = 0), plus the algorithm's own (e.g. out-of-bag); returns the
 * seconds it took.
 */
static double
score_fit(const TrainRequest *req, const AlgorithmDef *algo, const Dataset *ds,
		  const SplitData *sd, void *state, int p, MetricSet *ms)
{
	instr_time	t;

	INSTR_TIME_SET_CURRENT(t);
	if (sd->n_test > 0)
		evaluate_state(algo, state, ds->task, ds->n_classes, sd->X_test, sd->Xf_test,
					   sd->sparse ? &sd->Xs_test : NULL, sd->y_test,
					   sd->n_test, p, (uint64) req->seed, ms, NULL);
	else
		evaluate_state(algo, state, ds->task, ds->n_classes, sd->X_train, sd->Xf_train,
					   sd->sparse ? &sd->Xs_train : NULL, sd->y_train,
					   sd->n_train, p, (uint64) req->seed, ms, NULL);
	if (algo->fit_metrics)
		algo->fit_metrics(state, add_fit_metric, ms);
	return seconds_since(t);
}

/*
 * train's deploy policy (always / if_better / never) for a registered
 * model, within the rules: never when the project requires approval, never
 * for a role without the deploy privilege, never for a model that fails one
 * of the project's quality gates.  Returns what happened, for the NOTICE
 * (which names the failed gates, the measured values and the thresholds).
 */
static const char *
apply_deploy_policy(const TrainRequest *req, int64 project_id, int64 model_id,
					const char *key, bool higher_better, double new_score)
{
	int64		current = registry_primary_model(project_id);
	double		current_score = current ? stored_metric(current, key) : NAN;
	bool		deployed;
	char	   *refusal;

	if (strcmp(req->deploy, "always") == 0 || current == 0)
		deployed = strcmp(req->deploy, "never") != 0;
	else if (strcmp(req->deploy, "if_better") == 0 && isfinite(new_score))
		deployed = !isfinite(current_score) ||
			(higher_better ? new_score > current_score : new_score < current_score);
	else
		deployed = false;
	if (!deployed)
		return current && isfinite(current_score) ?
			psprintf("not deployed (deployed model " INT64_FORMAT " has %s = %.4f)", current, key, current_score) :
			"not deployed";

	/* four eyes: a project that needs approval is never deployed by training */
	if (registry_approval_required(project_id))
		return psprintf("not deployed: the project requires approval (SELECT galaxy.request_deployment(" INT64_FORMAT "))",
						model_id);
	/* training needs train; making the model serve needs deploy */
	if (!registry_has_project_privilege(GetUserId(), project_id, registry_action_privilege("deploy")))
		return psprintf("not deployed: role \"%s\" lacks the deploy privilege on the project",
						GetUserNameFromId(GetUserId(), false));
	/* quality gates: the model stays registered, with its gate results */
	refusal = registry_gates_refusal(model_id);
	if (refusal != NULL)
		return psprintf("not deployed: %s", refusal);
	registry_deploy_model(project_id, model_id, 1.0, req->deploy, "galaxy.train deploy policy");
	return "deployed";
}

/*
 * The in-memory fit: load the relation into a Dataset, split, search,
 * preprocess, cross-validate, fit and score; the data is freed before it
 * returns, the fitted state lives in o->modelctx.
 */
static void
fit_in_memory(TrainRequest *req, LoadOptions *lo, ProgressRun *run, MemoryContext trainctx,
			  instr_time t_start, FitOutcome *o)
{
	instr_time	t_fit;
	Dataset    *ds;
	const AlgorithmDef *algo;
	int64	   *train_idx,
			   *test_idx;
	int64		n_train,
				n_test;
	Preprocessor *prep;
	Dataset    *fit_ds;			/* what the preprocessor is fitted on: ds, or its sample */
	int64	   *fit_idx;
	int64		n_fit;
	SplitData	sd;
	TrainData	td = {0};
	FitContext	fctx = {0};
	double		load_seconds,
				score_seconds;
	StringInfoData extra;
	int			p;

	/*
	 * The rows' large buffers are reused, not faulted in afresh, from here
	 * on (a streamed fit holds no rows: its pass maps a smaller arena).
	 */
	galaxy_prepare_memory(GALAXY_TRAINING_ARENA_MB);

	/* an algorithm that computes in float32 gets its rows loaded in float32 (not with text) */
	if (strcmp(req->algorithm, "auto") != 0)
	{
		check_text_algorithm(algo_by_name(req->algorithm), lo);
		lo->float32 = algo_by_name(req->algorithm)->float32_input && lo->n_text == 0;
		binned_load_options(req, algo_by_name(req->algorithm), lo);
	}
	ds = dataset_load(lo);
	load_seconds = seconds_since(t_start);
	progress_set_rows(run, ds->n_rows);

	algo = choose_algorithm(req->algorithm, ds->task);
	check_text_algorithm(algo, lo);
	check_token_sequence(lo, ds);
	algo_resolve_hyperparams(algo, req->hyperparams, &o->hp);

	initStringInfo(&extra);
	details_begin(&extra);

	/* split */
	progress_phase(run, "preprocess");
	train_split(req, ds, &train_idx, &n_train, &test_idx, &n_test);
	/* rows loaded as bin codes: what needs raw values reads the sample's training rows */
	if (ds->bins)
		fit_ds = dataset_bins_sample(ds, train_idx, n_train, &fit_idx, &n_fit);
	else
	{
		fit_ds = ds;
		fit_idx = train_idx;
		n_fit = n_train;
	}
	o->training_profile = drift_training_profile(fit_ds, fit_idx, n_fit);

	/* a search picks the hyperparameters on the training rows (before the final preprocessing) */
	if (req->search != NULL)
	{
		progress_phase(run, "search");
		o->search_id = run_search(req, ds, algo, test_idx, n_test, run, &o->hp, &extra, &algo);
		progress_phase(run, "preprocess");
	}

	/* preprocess (fitted on the training rows only) */
	prep = preprocess_fit(fit_ds, fit_idx, n_fit, req->preprocess, algo_default_scaling(algo, &o->hp));
	p = preprocess_n_features(prep);

	/* optional cross-validation before the final fit reuses the raw rows (a search did it per trial) */
	fctx.progress = progress_callback;
	fctx.progress_arg = run;
	fctx.seed = (uint64) req->seed;
	fctx.threads = galaxy_threads;
	if (req->folds >= 2 && req->search == NULL)
	{
		progress_phase(run, "cross-validate");
		cross_validate(req, ds, algo, &o->hp, &fctx, &extra);
	}

	if (ds->bins)
		binned_split(ds, prep, train_idx, n_train, test_idx, n_test, &sd);
	else
		build_split(ds, prep, algo, train_idx, n_train, test_idx, n_test, &sd);

	/* fit */
	progress_phase(run, "fit");
	training_data(ds, &sd, p, &td);
	td.n_tokens = preprocess_n_tokens(prep);
	/* the model lives in its own context, freed as soon as it is serialised */
	o->modelctx = AllocSetContextCreate(trainctx, "galaxy model", ALLOCSET_DEFAULT_SIZES);
	INSTR_TIME_SET_CURRENT(t_fit);
	MemoryContextSwitchTo(o->modelctx);
	o->state = algo->fit(&td, &o->hp, &fctx);
	MemoryContextSwitchTo(trainctx);
	o->fit_seconds = seconds_since(t_fit);

	/* evaluate on the held-out rows (or the training rows when test_size = 0) */
	progress_phase(run, "evaluate");
	score_seconds = score_fit(req, algo, ds, &sd, o->state, p, &o->ms);
	details_str(&extra, "evaluated_on", sd.n_test > 0 ? "test" : "training");
	details_float(&extra, "training_rows", (double) sd.n_train);
	details_float(&extra, "test_rows", (double) sd.n_test);
	details_float(&extra, "load_seconds", load_seconds);
	if (sd.binned)
		details_str(&extra, "loaded_as", "bin codes");
	details_float(&extra, "fit_seconds", o->fit_seconds);
	details_float(&extra, "score_seconds", score_seconds);
	if (ds->skipped_null_labels > 0)
		details_float(&extra, "skipped_null_labels", (double) ds->skipped_null_labels);
	o->metrics = metrics_to_jsonb(&o->ms, details_end(&extra));

	/* the data is no longer needed: free it before the model is serialised */
	if (sd.y_test)
		pfree(sd.y_test);
	if (sd.X_train)
		pfree(sd.X_train);
	if (sd.Xf_train)
		pfree(sd.Xf_train);
	if (sd.sparse)
		sparse_builder_free(&sd.csr);
	if (sd.binned)
	{
		pfree(sd.Xb.codes);
		if (sd.X_test)
			pfree(sd.X_test);
	}

	o->ds = ds;
	o->algo = algo;
	o->prep = prep;
	o->n_train = sd.n_train;
	o->n_test = sd.n_test;
}

/*
 * Run the pipeline in the current transaction; returns the new model's id,
 * and its galaxy.models row in *row (in the caller's memory context) when
 * row is not NULL.
 */
int64
train_run(TrainRequest *req, Datum *row)
{
	MemoryContext trainctx;
	MemoryContext oldctx;
	ProgressRun *volatile run = NULL;
	volatile int64 model_id = 0;

	trainctx = AllocSetContextCreate(CurrentMemoryContext, "galaxy training", ALLOCSET_DEFAULT_SIZES);
	oldctx = MemoryContextSwitchTo(trainctx);

	train_request_validate(req);
	run = progress_begin(req->job_id, req->project, req->algorithm, 0);

	PG_TRY();
	{
		instr_time	t_start;
		LoadOptions lo = {0};
		FitOutcome	o = {0};
		GalaxyModel gm = {0};
		struct varlena *value;
		int64		project_id;
		bool		higher_better;
		const char *key;
		double		new_score;
		const char *outcome;

		INSTR_TIME_SET_CURRENT(t_start);

		/* load and fit: in memory, or streamed through the moments aggregates */
		progress_phase(run, "load");
		nlp_text_defaults(req);
		request_load_options(req, &lo);
		if (!stream_fit(req, &lo, run, trainctx, &o))
			fit_in_memory(req, &lo, run, trainctx, t_start, &o);

		/* register */
		progress_phase(run, "register");
		model_of(o.algo, o.ds, o.prep, &o.hp, o.state, &gm);
		Assert(gm.n_features == preprocess_n_features(o.prep));
		Assert(gm.task != TASK_CLASSIFICATION || (gm.n_classes >= 2 && gm.labels != NULL));
		value = model_serialize(&gm);
		{
			GalaxyModelHeader h;

			/* what a parsed model says of its value (galaxy.describe reads it) */
			model_read_header(VARDATA(value), VARSIZE(value) - VARHDRSZ, &h);
			gm.stored_size = VARSIZE(value);
			gm.compressed = (h.flags & MODEL_FLAG_LZ4) != 0;
		}

		project_id = registry_project_ensure(req->project, o.ds->task);
		model_id = insert_model(req, project_id, o.ds, &gm, value, o.metrics, &o.hp, o.n_train, o.n_test,
								o.training_profile);
		if (o.search_id != 0)
			search_finish(o.search_id, model_id);

		/*
		 * The project may have been created by another role while this one
		 * trained: check the train privilege now, with the project row
		 * locked (insert_model took the lock), not only at the start.
		 */
		registry_check_project_access(project_id, "train");

		/*
		 * Single-row predict latency of the registered model, in this
		 * backend, on the training relation's rows: data the deployment
		 * gates compare.  The row is still 'training', so its metrics may
		 * take the measurement; then it is ready.  A model made from
		 * another (distillation) stays 'training': its caller measures it
		 * beside its parent and makes it ready.
		 */
		if (req->parent_id == 0)
		{
			/*
			 * The predict path reads the model this backend holds instead
			 * of reading the value back (detoast, decompress, parse: 0.2 to
			 * 0.3 s for a 100-tree forest on 200,000 rows); the cache entry
			 * goes when o.modelctx does, on an ERROR too.
			 */
			GalaxyModel *held = MemoryContextAlloc(o.modelctx, sizeof(GalaxyModel));

			*held = gm;
			model_cache_lend(model_id, project_id, held, o.modelctx);
			record_latency(model_id);
		}
		gm.state = o.state = NULL;
		MemoryContextDelete(o.modelctx);

		audit_training(req, o.algo, o.ds, model_id);

		/* deploy policy */
		key = metrics_key(o.ds->task, &higher_better);
		new_score = metrics_get(&o.ms, key);
		outcome = apply_deploy_policy(req, project_id, model_id, key, higher_better, new_score);

		ereport(NOTICE,
				(errmsg("galaxy: project \"%s\" model " INT64_FORMAT " (%s, %s): %s = %.4f on " INT64_FORMAT " %s rows, fit %.3f s, %s",
						req->project, model_id, o.algo->name, galaxy_task_name(o.ds->task), key, new_score,
						o.n_test > 0 ? o.n_test : o.n_train, o.n_test > 0 ? "held-out" : "training",
						o.fit_seconds, outcome)));
		if (row != NULL)
		{
			/* the row with the model value this backend holds (not read back) */
			MemoryContext c = MemoryContextSwitchTo(oldctx);

			*row = registry_model_row_with(model_id, value);
			MemoryContextSwitchTo(c);
		}
	}
	PG_FINALLY();
	{
		progress_end(run);
	}
	PG_END_TRY();

	MemoryContextSwitchTo(oldctx);
	MemoryContextDelete(trainctx);
	return model_id;
}

/* galaxy.train(): train synchronously and return the model row. */
Datum
galaxy_train(PG_FUNCTION_ARGS)
{
	TrainRequest *req = train_request_from_args(fcinfo, Min(PG_NARGS(), TA_NARGS));
	Datum		row;

	(void) train_run(req, &row);
	PG_RETURN_DATUM(row);
}
