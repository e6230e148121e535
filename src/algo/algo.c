/*
 * algo.c — the registry of algorithms and hyperparameter resolution.
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/memutils.h"

#include "galaxy.h"
#include "algo/algo.h"
#include "algo/sparse.h"

/*
 * Every algorithm galaxy ships, in the order galaxy.algorithms lists them.
 * An algorithm's file adds its line here; the NULL ends the list.
 *
 * Stable ids (AlgorithmDef.id, stored in every model value; never reuse one):
 * 1 linear_regression, 2 logistic_regression, 6 neural_network, 7 kmeans,
 * 8 naive_bayes, 9 lasso, 10 decision_tree, 11 random_forest,
 * 12 gradient_boosting, 13 elastic_net, 14 linear_svm, 15 cnn, 16 lstm.
 */
static const AlgorithmDef *const registry[] = {
	&galaxy_algo_linear_regression,
	&galaxy_algo_logistic_regression,
	&galaxy_algo_decision_tree,
	&galaxy_algo_random_forest,
	&galaxy_algo_gradient_boosting,
	&galaxy_algo_neural_network,
	&galaxy_algo_cnn,
	&galaxy_algo_lstm,
	&galaxy_algo_transformer,
	&galaxy_algo_lasso,
	&galaxy_algo_elastic_net,
	&galaxy_algo_linear_svm,
	&galaxy_algo_naive_bayes,
	&galaxy_algo_kmeans,
	NULL
};

#define N_ALGOS ((int) lengthof(registry) - 1)

/* Name of a task. */
const char *
galaxy_task_name(GalaxyTask task)
{
	switch (task)
	{
		case TASK_REGRESSION:
			return "regression";
		case TASK_CLASSIFICATION:
			return "classification";
		case TASK_CLUSTERING:
			return "clustering";
	}
	return "unknown";
}

/* Task from its name; ERROR if unknown. */
GalaxyTask
galaxy_task_from_name(const char *name)
{
	if (strcmp(name, "regression") == 0)
		return TASK_REGRESSION;
	/*
	 * 'vision' is image classification (the cnn's task in BigQuery ML's
	 * words); 'nlp' is text classification (train() also reads the text
	 * columns as text: see train.c)
	 */
	if (strcmp(name, "classification") == 0 || strcmp(name, "vision") == 0 ||
		strcmp(name, "nlp") == 0)
		return TASK_CLASSIFICATION;
	if (strcmp(name, "clustering") == 0)
		return TASK_CLUSTERING;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown task \"%s\"", name),
			 errhint("Valid tasks: regression, classification (also \"vision\" and \"nlp\"), clustering.")));
	pg_unreachable();
}

/*
 * ERROR when two algorithms share a stable id, a name or an alias (a model
 * value would be read by the wrong algorithm); called once when galaxy loads.
 */
void
algo_check_registry(void)
{
	for (int i = 0; i < N_ALGOS; i++)
		for (int j = i + 1; j < N_ALGOS; j++)
		{
			const AlgorithmDef *a = registry[i],
					   *b = registry[j];

			if (a->id == b->id ||
				strcmp(a->name, b->name) == 0 ||
				(a->alias && (strcmp(a->alias, b->name) == 0 || (b->alias && strcmp(a->alias, b->alias) == 0))) ||
				(b->alias && strcmp(b->alias, a->name) == 0))
				elog(ERROR, "galaxy: algorithms %s and %s share an id (%u, %u) or a name",
					 a->name, b->name, a->id, b->id);
		}
	for (int i = 0; i < N_ALGOS; i++)
	{
		const AlgorithmDef *a = registry[i];

		/* sparse input needs a sparse predict, and a sparse predict_proba if it has one */
		if (a->sparse_input != (a->predict_sparse != NULL) ||
			(a->sparse_input && (a->predict_proba != NULL) != (a->predict_proba_sparse != NULL)))
			elog(ERROR, "galaxy: algorithm %s declares sparse input without its sparse predictions",
				 a->name);
	}
}

int
algo_count(void)
{
	return N_ALGOS;
}

const AlgorithmDef *
algo_at(int i)
{
	Assert(i >= 0 && i < N_ALGOS);
	return registry[i];
}

/* The class of each row: the first largest of its n_classes probabilities. */
static void
proba_argmax(const double *proba, int64 n, int n_classes, double *pred)
{
	for (int64 i = 0; i < n; i++)
	{
		const double *p = proba + i * n_classes;
		int			best = 0;

		for (int c = 1; c < n_classes; c++)
			if (p[c] > p[best])
				best = c;
		pred[i] = best;
	}
}

void
algo_predict_scores(const AlgorithmDef *algo, const void *state, const double *X, int64 n,
					int n_classes, double *pred, double *proba)
{
	Assert(proba == NULL || algo->predict_proba != NULL);
	if (proba && algo->predict_is_proba_argmax)
	{
		algo->predict_proba(state, X, n, proba);
		proba_argmax(proba, n, n_classes, pred);
		return;
	}
	algo->predict(state, X, n, pred);
	if (proba)
		algo->predict_proba(state, X, n, proba);
}

/* Rows of a CSR matrix made dense at a time: about 4 MB of doubles. */
#define SPARSE_DENSE_BLOCK_BYTES (4 << 20)

void
algo_predict_scores_sparse(const AlgorithmDef *algo, const void *state, const SparseMatrix *X,
						   int n_classes, double *pred, double *proba)
{
	int64		n = X->n_rows;
	int			p = X->n_cols;
	int64		block;
	double	   *buf;

	Assert(proba == NULL || (n_classes > 0 && algo->predict_proba != NULL));
	if (algo->sparse_input)
	{
		if (proba && algo->predict_is_proba_argmax)
		{
			/* the classes from the probabilities: the model runs once per row */
			algo->predict_proba_sparse(state, X, proba);
			proba_argmax(proba, n, n_classes, pred);
			return;
		}
		algo->predict_sparse(state, X, pred);
		if (proba)
			algo->predict_proba_sparse(state, X, proba);
		return;
	}
	/* a dense-only algorithm: its (few) features are made dense a block at a time */
	block = Max((int64) (SPARSE_DENSE_BLOCK_BYTES / (sizeof(double) * Max(p, 1))), 1);
	block = Min(block, Max(n, 1));
	buf = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * block * Max(p, 1));
	for (int64 start = 0; start < n; start += block)
	{
		int64		m = Min(block, n - start);

		sparse_densify(X, start, m, buf);
		if (n_classes > 0)
			algo_predict_scores(algo, state, buf, m, n_classes, pred + start,
								proba ? proba + start * n_classes : NULL);
		else
			algo->predict(state, buf, m, pred + start);
		CHECK_FOR_INTERRUPTS();
	}
	pfree(buf);
}

/* The sample weights of d, checked; returns their sum (algo.h). */
double
algo_sample_weights(const char *name, const TrainData *d, double *sw)
{
	double		W = 0.0;

	for (int64 i = 0; i < d->n_rows; i++)
	{
		double		w = d->weight ? d->weight[i] : 1.0;

		if (!(w >= 0.0) || !isfinite(w))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sample weight %g of row " INT64_FORMAT " is not a finite non-negative number",
							w, i + 1)));
		sw[i] = w;
		W += w;
	}
	if (!(W > 0.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: the sample weights sum to zero", name)));
	return W;
}

/*
 * Algorithm by stable id, NULL if unknown.  The first call checks that no two
 * algorithms share an id (a model would be read by the wrong algorithm).
 */
const AlgorithmDef *
algo_by_id(uint16 id)
{
	static bool ids_checked = false;

	/* _PG_init checks too; this covers code run without it (the fuzzers) */
	if (!ids_checked)
	{
		algo_check_registry();
		ids_checked = true;
	}
	for (int i = 0; i < N_ALGOS; i++)
		if (registry[i]->id == id)
			return registry[i];
	return NULL;
}

/* Algorithm by name; ERROR listing the valid names. */
bool
algo_default_scaling(const AlgorithmDef *algo, const HyperParams *hp)
{
	return algo->scales ? algo->scales(hp) : algo->default_scaling;
}

const AlgorithmDef *
algo_by_name(const char *name)
{
	StringInfoData names;

	for (int i = 0; i < N_ALGOS; i++)
		if (strcmp(registry[i]->name, name) == 0 ||
			(registry[i]->alias && strcmp(registry[i]->alias, name) == 0))
			return registry[i];

	initStringInfo(&names);
	for (int i = 0; i < N_ALGOS; i++)
		appendStringInfo(&names, "%s%s", i ? ", " : "", registry[i]->name);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown algorithm \"%s\"", galaxy_short(name)),
			 errhint("Valid algorithms: %s.", names.data)));
	pg_unreachable();
}

/* Index of 'choice' in a comma-separated list, -1 if absent. */
static int
choice_index(const char *choices, const char *choice)
{
	const char *p = choices;
	int			idx = 0;
	size_t		len = strlen(choice);

	while (*p)
	{
		const char *end = strchr(p, ',');
		size_t		n = end ? (size_t) (end - p) : strlen(p);

		if (n == len && strncmp(p, choice, n) == 0)
			return idx;
		if (!end)
			break;
		p = end + 1;
		idx++;
	}
	return -1;
}

/* Text of choice 'idx' into buf. */
static const char *
choice_text(const char *choices, int idx, char *buf, Size buflen)
{
	const char *p = choices;

	for (int i = 0; i < idx && p; i++)
	{
		p = strchr(p, ',');
		if (p)
			p++;
	}
	if (!p)
		return "";
	{
		const char *end = strchr(p, ',');
		Size		n = end ? (Size) (end - p) : strlen(p);

		if (n >= buflen)
			n = buflen - 1;
		memcpy(buf, p, n);
		buf[n] = '\0';
	}
	return buf;
}

int
algo_param_index(const AlgorithmDef *algo, const char *name)
{
	for (int i = 0; i < algo->n_params; i++)
		if (strcmp(algo->params[i].name, name) == 0)
			return i;
	return -1;
}

const char *
algo_hp_choice(const AlgorithmDef *algo, const HyperParams *hp, int index, char *buf, Size buflen)
{
	Assert(index >= 0 && index < algo->n_params);
	return choice_text(algo->params[index].choices, (int) hp->values[index], buf, buflen);
}

/* List of the algorithm's hyperparameter names, for hints. */
static char *
param_names(const AlgorithmDef *algo)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int i = 0; i < algo->n_params; i++)
		appendStringInfo(&s, "%s%s", i ? ", " : "", algo->params[i].name);
	if (algo->n_params == 0)
		appendStringInfoString(&s, "(none)");
	return s.data;
}

/* Check one numeric value against its spec. */
static double
check_number(const AlgorithmDef *algo, const HyperParamSpec *spec, double v)
{
	if (!isfinite(v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hyperparameter \"%s\" of %s must be a finite number", spec->name, algo->name)));
	if ((spec->type == HP_INT || spec->type == HP_INT_LIST) && v != floor(v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hyperparameter \"%s\" of %s must be an integer, got %g", spec->name, algo->name, v)));
	if (v < spec->min || v > spec->max || (spec->min_exclusive && v <= spec->min))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hyperparameter \"%s\" = %g is out of range for %s", spec->name, v, algo->name),
				 errdetail("Allowed range: %s%.15g, %.15g].", spec->min_exclusive ? "(" : "[", spec->min, spec->max)));
	return v;
}

/* One integer of an HP_INT_LIST value, checked against the spec's bounds. */
static int32
list_element(const AlgorithmDef *algo, const HyperParamSpec *spec, const JsonbValue *v)
{
	double		d;

	if (v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hyperparameter \"%s\" of %s must be an array of integers, e.g. [64, 32]",
						spec->name, algo->name)));
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(v->val.numeric)));
	return (int32) check_number(algo, spec, d);
}

/* The default of an HP_INT_LIST spec ("64,32") into out->list[idx]. */
static void
list_default(const HyperParamSpec *spec, HyperParams *out, int idx)
{
	const char *p = spec->list_default ? spec->list_default : "";
	int			n = 0;

	while (*p && n < GALAXY_MAX_HP_LIST)
	{
		char	   *end;

		out->list[idx][n++] = (int32) strtol(p, &end, 10);
		p = (*end == ',') ? end + 1 : end;
		if (end == p && *p != '\0')
			break;
	}
	out->values[idx] = n;
}

/*
 * An HP_INT_LIST value: a JSON array of integers (or one integer, taken as
 * a list of one), at most GALAXY_MAX_HP_LIST long.
 */
static void
resolve_list(const AlgorithmDef *algo, const HyperParamSpec *spec, const JsonbValue *v,
			 HyperParams *out, int idx)
{
	int			n = 0;

	if (v->type == jbvNumeric)
	{
		out->list[idx][0] = list_element(algo, spec, v);
		out->values[idx] = 1;
		return;
	}
	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hyperparameter \"%s\" of %s must be an array of integers, e.g. [64, 32]",
						spec->name, algo->name)));
	{
		JsonbIterator *it = JsonbIteratorInit(v->val.binary.data);
		JsonbValue	e;
		JsonbIteratorToken tok;

		while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
		{
			if (tok != WJB_ELEM)
				continue;
			if (n >= GALAXY_MAX_HP_LIST)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("hyperparameter \"%s\" of %s has more than %d elements",
								spec->name, algo->name, GALAXY_MAX_HP_LIST)));
			out->list[idx][n++] = list_element(algo, spec, &e);
		}
	}
	out->values[idx] = n;
}

/* Resolve a jsonb object of hyperparameters against the algorithm's spec. */
void
algo_resolve_hyperparams(const AlgorithmDef *algo, Jsonb *given, HyperParams *out)
{
	JsonbIterator *it;
	JsonbValue	k,
				v;
	JsonbIteratorToken tok;

	Assert(algo->n_params <= GALAXY_MAX_HP);
	memset(out, 0, sizeof(*out));
	out->n = algo->n_params;
	for (int i = 0; i < algo->n_params; i++)
	{
		out->values[i] = algo->params[i].def;
		if (algo->params[i].type == HP_INT_LIST)
			list_default(&algo->params[i], out, i);
	}

	if (given == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(given) || JB_ROOT_IS_SCALAR(given))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hyperparams must be a JSON object, e.g. '{\"alpha\": 0.5}'")));

	it = JsonbIteratorInit(&given->root);
	while ((tok = JsonbIteratorNext(&it, &k, false)) != WJB_DONE)
	{
		char	   *name;
		const HyperParamSpec *spec = NULL;
		int			idx = -1;

		if (tok != WJB_KEY)
			continue;
		name = pnstrdup(k.val.string.val, k.val.string.len);
		for (int i = 0; i < algo->n_params; i++)
			if (strcmp(algo->params[i].name, name) == 0)
			{
				spec = &algo->params[i];
				idx = i;
			}
		if (spec == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown hyperparameter \"%s\" for algorithm %s", name, algo->name),
					 errhint("Valid hyperparameters: %s.", param_names(algo))));

		tok = JsonbIteratorNext(&it, &v, true);
		Assert(tok == WJB_VALUE);
		switch (spec->type)
		{
			case HP_INT:
			case HP_FLOAT:
				if (v.type != jbvNumeric)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("hyperparameter \"%s\" of %s must be a number", name, algo->name),
							 errdetail("Allowed range: %s%.15g, %.15g].", spec->min_exclusive ? "(" : "[", spec->min, spec->max)));
				/* beyond float8 becomes ±Infinity, which check_number refuses by name */
				out->values[idx] = check_number(algo, spec,
												DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
																				   NumericGetDatum(v.val.numeric))));
				break;
			case HP_BOOL:
				if (v.type != jbvBool)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("hyperparameter \"%s\" of %s must be true or false", name, algo->name)));
				out->values[idx] = v.val.boolean ? 1.0 : 0.0;
				break;
			case HP_ENUM:
				{
					char	   *s;
					int			ci;

					if (v.type != jbvString)
						ereport(ERROR,
								(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								 errmsg("hyperparameter \"%s\" of %s must be one of: %s", name, algo->name, spec->choices)));
					s = pnstrdup(v.val.string.val, v.val.string.len);
					ci = choice_index(spec->choices, s);
					if (ci < 0)
						ereport(ERROR,
								(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								 errmsg("hyperparameter \"%s\" of %s has no choice \"%s\"", name, algo->name, s),
								 errhint("Valid choices: %s.", spec->choices)));
					out->values[idx] = ci;
				}
				break;
			case HP_INT_LIST:
				resolve_list(algo, spec, &v, out, idx);
				break;
			case HP_SPEC_LIST:
				out->values[idx] = spec->codec->encode(algo->name, spec, &v, out->list[idx], GALAXY_MAX_HP_SPEC);
				Assert(out->values[idx] >= 0 && out->values[idx] <= GALAXY_MAX_HP_SPEC);
				break;
		}
		out->given[idx] = true;
	}
}

/* Effective (or only user-given) hyperparameters as a jsonb object. */
Jsonb *
algo_hyperparams_jsonb(const AlgorithmDef *algo, const HyperParams *hp, bool only_given)
{
	JsonbParseState *state = NULL;
	JsonbValue *res;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < algo->n_params; i++)
	{
		const HyperParamSpec *spec = &algo->params[i];
		JsonbValue	k,
					v;
		char		buf[64];

		if (only_given && !hp->given[i])
			continue;
		k.type = jbvString;
		k.val.string.val = (char *) spec->name;
		k.val.string.len = strlen(spec->name);
		pushJsonbValue(&state, WJB_KEY, &k);
		switch (spec->type)
		{
			case HP_BOOL:
				v.type = jbvBool;
				v.val.boolean = hp->values[i] != 0;
				break;
			case HP_ENUM:
				v.type = jbvString;
				v.val.string.val = pstrdup(choice_text(spec->choices, (int) hp->values[i], buf, sizeof(buf)));
				v.val.string.len = strlen(v.val.string.val);
				break;
			case HP_INT:
				v.type = jbvNumeric;
				v.val.numeric = int64_to_numeric((int64) hp->values[i]);
				break;
			case HP_INT_LIST:
				pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
				for (int e = 0; e < (int) hp->values[i]; e++)
				{
					v.type = jbvNumeric;
					v.val.numeric = int64_to_numeric(hp->list[i][e]);
					pushJsonbValue(&state, WJB_ELEM, &v);
				}
				pushJsonbValue(&state, WJB_END_ARRAY, NULL);
				continue;
			case HP_SPEC_LIST:
				spec->codec->decode(hp->list[i], (int) hp->values[i], &state);
				continue;
			case HP_FLOAT:
			default:
				v.type = jbvNumeric;
				v.val.numeric = DatumGetNumeric(DirectFunctionCall1(float8_numeric,
																	Float8GetDatum(hp->values[i])));
				break;
		}
		pushJsonbValue(&state, WJB_VALUE, &v);
	}
	res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}

/* Store resolved hyperparameters in a model value. */
void
algo_write_hyperparams(const AlgorithmDef *algo, const HyperParams *hp, ModelWriter *w)
{
	mw_u32(w, (uint32) algo->n_params);
	for (int i = 0; i < algo->n_params; i++)
	{
		mw_f64(w, hp->values[i]);
		mw_u8(w, hp->given[i] ? 1 : 0);
		if (algo->params[i].type == HP_INT_LIST || algo->params[i].type == HP_SPEC_LIST)
			for (int e = 0; e < (int) hp->values[i]; e++)
				mw_i32(w, hp->list[i][e]);
	}
}

/* Read and validate hyperparameters stored in a model value. */
void
algo_read_hyperparams(const AlgorithmDef *algo, ModelReader *r, HyperParams *out)
{
	uint32		n = mr_count(r, GALAXY_MAX_HP, 9, "hyperparameter");

	/*
	 * A hyperparameter is only ever added at the end of its algorithm's
	 * list: a model stored before it has fewer, and gets its default.
	 */
	if ((int) n > algo->n_params || n == 0)
		mr_corrupt("%u hyperparameters stored, %s has %d", n, algo->name, algo->n_params);
	algo_resolve_hyperparams(algo, NULL, out);
	for (uint32 i = 0; i < n; i++)
	{
		const HyperParamSpec *spec = &algo->params[i];
		double		v = mr_f64_finite(r, "hyperparameter");

		if (spec->type == HP_INT || spec->type == HP_FLOAT)
		{
			if (v < spec->min || v > spec->max)
				mr_corrupt("hyperparameter %s out of range", spec->name);
		}
		else if (spec->type == HP_BOOL)
		{
			if (v != 0 && v != 1)
				mr_corrupt("hyperparameter %s is not a boolean", spec->name);
		}
		else if (spec->type == HP_INT_LIST || spec->type == HP_SPEC_LIST)
		{
			if (v < 0 || v != floor(v) ||
				v > (spec->type == HP_INT_LIST ? GALAXY_MAX_HP_LIST : GALAXY_MAX_HP_SPEC))
				mr_corrupt("hyperparameter %s has an invalid length", spec->name);
		}
		else
		{
			char		buf[64];

			/* bound before the cast: (int) of a huge double is undefined */
			if (v < 0 || v > 1000 || v != floor(v) ||
				choice_text(spec->choices, (int) v, buf, sizeof(buf))[0] == '\0')
				mr_corrupt("hyperparameter %s has an invalid choice", spec->name);
		}
		out->values[i] = v;
		out->given[i] = mr_u8(r) != 0;
		if (spec->type == HP_INT_LIST)
			for (int e = 0; e < (int) v; e++)
			{
				int32		x = mr_i32(r);

				if (x < spec->min || x > spec->max)
					mr_corrupt("hyperparameter %s has an element out of range", spec->name);
				out->list[i][e] = x;
			}
		else if (spec->type == HP_SPEC_LIST)
		{
			for (int e = 0; e < (int) v; e++)
				out->list[i][e] = mr_i32(r);
			if (!spec->codec->valid(out->list[i], (int) v))
				mr_corrupt("hyperparameter %s is not a valid list", spec->name);
		}
	}
}
