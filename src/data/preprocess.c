/*
 * preprocess.c — the preprocessor: imputation, scaling, one-hot encoding and
 * feature hashing, fitted on the training rows only and stored in the model.
 *
 * Raw rows (see dataset.h) hold one slot per numeric/boolean column, 'width'
 * slots per array column and one slot per categorical column.  The
 * categorical slot holds one of:
 *   code >= 0   a code into the dictionary of the Dataset the preprocessor
 *               was fitted on (mapped through a table kept from fit time,
 *               not serialised);
 *   -1          an unseen category (all-zero one-hot);
 *   -(k + 2)    the preprocessor's own code k: the category index of a
 *               one-hot column, the bucket of a hashed one; this is what
 *               preprocess_datums_to_raw_conv() produces (predict).
 * So preprocess_apply_raw() accepts rows of the fitted Dataset and rows built
 * from Datums alike; preprocess_transform() maps any Dataset by category name.
 *
 * Output features, in input order: numeric/boolean → 1, array → width,
 * one-hot categorical → one per training category (sorted by bytes),
 * hashed categorical → hash_buckets, text → one per vocabulary term (sorted
 * by bytes) or n_features hash buckets.
 *
 * Text inputs (INPUT_TEXT) are preprocess_text.c's: they make the features
 * sparse, and rows become SparseRows (preprocess_apply_sparse*), never
 * dense ones.  The Preprocessor's structures are in data/preprocessor.h.
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "miscadmin.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "data/data_internal.h"
#include "data/dataset.h"
#include "data/preprocessor.h"
#include "text/tokenize.h"
#include "text/vocab.h"
#include "util/jsonb_build.h"
#include "model/model.h"

const char *const prep_scale_names[] = {"none", "standard", "minmax"};
const char *const prep_impute_names[] = {"mean", "median", "most_frequent", "zero", "error"};
const char *const prep_encoding_names[] = {"none", "one_hot", "hashing"};


/* ---------------------------------------------------------------------
 * option parsing
 * --------------------------------------------------------------------- */

/* NUL-terminated copy of a jsonb string. */
static char *
jbv_cstring(const JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* Index of a string value among the names, or ERROR listing them. */
static int
option_choice(const char *option, const char *where, const JsonbValue *v,
			  const char *const *names, int n, const char *valid)
{
	char	   *s;

	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess option \"%s\"%s must be a string", option, where),
				 errhint("Valid values are: %s.", valid)));
	s = jbv_cstring(v);
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value \"%s\" for preprocess option \"%s\"%s", s, option, where),
			 errhint("Valid values are: %s.", valid)));
	return -1;					/* keep compiler quiet */
}

/* An integer option within [lo, hi]. */
static int
option_int(const char *option, const char *where, const JsonbValue *v, int lo, int hi)
{
	double		d;

	if (v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess option \"%s\"%s must be an integer", option, where)));
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
										   NumericGetDatum(v->val.numeric)));
	if (!isfinite(d) || d != floor(d) || d < lo || d > hi)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess option \"%s\"%s must be an integer between %d and %d", option, where, lo, hi),
				 errdetail("The value given is %s.",
						   DatumGetCString(DirectFunctionCall1(numeric_out,
															   NumericGetDatum(v->val.numeric))))));
	return (int) d;
}

/* A number option within [lo, hi] (lo excluded when lo_open). */
static double
option_number(const char *option, const char *where, const JsonbValue *v, double lo, double hi, bool lo_open)
{
	double		d;

	if (v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess option \"%s\"%s must be a number", option, where)));
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
										   NumericGetDatum(v->val.numeric)));
	if (!isfinite(d) || d > hi || (lo_open ? d <= lo : d < lo))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess option \"%s\"%s must be %s %g and at most %g", option, where,
						lo_open ? "above" : "at least", lo, hi),
				 errdetail("The value given is %s.",
						   DatumGetCString(DirectFunctionCall1(numeric_out,
															   NumericGetDatum(v->val.numeric))))));
	return d;
}

/* A boolean option. */
static bool
option_bool(const char *option, const char *where, const JsonbValue *v)
{
	if (v->type != jbvBool)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess option \"%s\"%s must be true or false", option, where)));
	return v->val.boolean;
}

/* A document-frequency bound: a count (an integer from 1) or a fraction of the documents. */
static double
option_df(const char *option, const char *where, const JsonbValue *v, double fraction_max)
{
	double		d = option_number(option, where, v, 0.0, PREP_TEXT_MAX_MAX_DF, true);

	if (d > fraction_max && d != floor(d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess option \"%s\"%s must be a fraction of the documents (at most %g) or a whole number of documents, not %g",
						option, where, fraction_max, d)));
	return d;
}

/*
 * Parse one options object.  At the top level (columns non-NULL) the
 * "columns" key is accepted and its container returned there; a column's
 * options (columns NULL) may make it text.
 */
static void
parse_options(JsonbContainer *c, PrepOptions *o, const char *where,
			  JsonbContainer **columns)
{
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			key = jbv_cstring(&v);
			continue;
		}
		if (tok != WJB_VALUE)
			continue;
		Assert(key != NULL);
		if (strcmp(key, "scale") == 0)
		{
			o->has_scale = true;
			o->scale = (ScaleMode) option_choice(key, where, &v, prep_scale_names, 3,
												 "standard, minmax, none");
		}
		else if (strcmp(key, "impute") == 0)
		{
			o->has_impute = true;
			o->impute = (ImputeMode) option_choice(key, where, &v, prep_impute_names, 5,
												   "mean, median, most_frequent, zero, error");
		}
		else if (strcmp(key, "max_categories") == 0)
		{
			o->has_max_categories = true;
			o->max_categories = option_int(key, where, &v, 1, PREP_MAX_MAX_CATEGORIES);
		}
		else if (strcmp(key, "hash_buckets") == 0)
		{
			o->has_hash_buckets = true;
			o->hash_buckets = option_int(key, where, &v, 1, PREP_MAX_HASH_BUCKETS);
		}
		else if (columns != NULL && strcmp(key, "columns") == 0)
		{
			if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("preprocess option \"columns\" must be an object mapping column names to options")));
			*columns = v.val.binary.data;
		}
		else if (columns != NULL &&
				 (strcmp(key, "text") == 0 || strcmp(key, "config") == 0 || strcmp(key, "min_df") == 0 ||
				  strcmp(key, "max_df") == 0 || strcmp(key, "max_features") == 0 ||
				  strcmp(key, "n_features") == 0 || strcmp(key, "norm") == 0 ||
				  strcmp(key, "sublinear_tf") == 0 || strcmp(key, "smooth_idf") == 0 ||
				  strcmp(key, "max_length") == 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("preprocess option \"%s\" applies to one column", key),
					 errhint("Give it under \"columns\", e.g. '{\"columns\": {\"body\": {\"text\": \"tfidf\"}}}'.")));
		else if (strcmp(key, "text") == 0)
		{
			o->has_text = true;
			o->text = (TextMode) option_choice(key, where, &v, prep_text_names + 1, 5,
											   "tfidf, counts, binary, hashing, sequence") + 1;
		}
		else if (strcmp(key, "config") == 0)
		{
			if (v.type != jbvString || v.val.string.len == 0 || v.val.string.len > PREP_MAX_NAME)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("preprocess option \"config\"%s must be the name of a text search configuration", where),
						 errhint("For example \"english\" or \"simple\"; SELECT cfgname FROM pg_ts_config lists them.")));
			o->has_config = true;
			o->config = jbv_cstring(&v);
		}
		else if (strcmp(key, "min_df") == 0)
		{
			o->has_min_df = true;
			o->min_df = option_df(key, where, &v, 1.0);
		}
		else if (strcmp(key, "max_df") == 0)
		{
			o->has_max_df = true;
			o->max_df = option_df(key, where, &v, 1.0);
		}
		else if (strcmp(key, "max_features") == 0)
		{
			o->has_max_features = true;
			o->max_features = option_int(key, where, &v, 1, MODEL_MAX_FEATURES);
		}
		else if (strcmp(key, "n_features") == 0)
		{
			o->has_n_features = true;
			o->n_features = option_int(key, where, &v, 1, PREP_TEXT_MAX_HASH);
		}
		else if (strcmp(key, "norm") == 0)
		{
			o->has_norm = true;
			o->norm = (TextNorm) option_choice(key, where, &v, prep_norm_names, 3, "l2, l1, none");
		}
		else if (strcmp(key, "sublinear_tf") == 0)
		{
			o->has_sublinear_tf = true;
			o->sublinear_tf = option_bool(key, where, &v);
		}
		else if (strcmp(key, "smooth_idf") == 0)
		{
			o->has_smooth_idf = true;
			o->smooth_idf = option_bool(key, where, &v);
		}
		else if (strcmp(key, "max_length") == 0)
		{
			o->has_max_length = true;
			o->max_length = option_int(key, where, &v, 1, PREP_TEXT_MAX_LENGTH);
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown preprocess option \"%s\"%s", key, where),
					 errhint("Valid options are: scale, impute, max_categories, hash_buckets%s.",
							 columns != NULL ? ", columns" :
							 ", and for a text column text, config, min_df, max_df, max_features, n_features, norm, sublinear_tf, smooth_idf, max_length")));
	}
	if (columns == NULL)
		prep_text_check_options(o, where);
}

/*
 * Where the options of a named column go: called for each key of
 * "columns" before its options are parsed.
 */
typedef PrepOptions *(*ColumnOptionsFn) (const char *name, void *arg);

/* Parse the whole preprocess config into global options and, through 'column', per-column ones. */
static void
parse_config(Jsonb *config, PrepOptions *global, ColumnOptionsFn column, void *arg)
{
	JsonbContainer *columns = NULL;

	memset(global, 0, sizeof(PrepOptions));
	if (config == NULL)
		return;
	if (JB_ROOT_IS_SCALAR(config) || !JB_ROOT_IS_OBJECT(config))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess must be a jsonb object"),
				 errhint("For example '{\"scale\": \"minmax\", \"columns\": {\"color\": {\"impute\": \"most_frequent\"}}}'.")));
	parse_options(&config->root, global, "", &columns);

	if (columns != NULL)
	{
		JsonbIterator *it = JsonbIteratorInit(columns);
		JsonbValue	v;
		JsonbIteratorToken tok;
		PrepOptions *target = NULL;
		char	   *colname = NULL;

		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			if (tok == WJB_KEY)
			{
				colname = jbv_cstring(&v);
				target = column(colname, arg);
			}
			else if (tok == WJB_VALUE)
			{
				char	   *where = psprintf(" for column \"%s\"", colname);

				if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("preprocess options%s must be an object", where)));
				memset(target, 0, sizeof(PrepOptions));
				parse_options(v.val.binary.data, target, where, NULL);
			}
		}
	}
}

/* What parse_config fills for a Dataset: options per input. */
typedef struct DatasetColumns
{
	const Dataset *ds;
	PrepOptions *per_col;
} DatasetColumns;

/* ColumnOptionsFn for a Dataset: the input's options; ERROR for a column that is not an input. */
static PrepOptions *
dataset_column(const char *name, void *arg)
{
	DatasetColumns *dc = (DatasetColumns *) arg;

	for (int i = 0; i < dc->ds->n_inputs; i++)
		if (strcmp(dc->ds->inputs[i].name, name) == 0)
			return &dc->per_col[i];
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("preprocess names column \"%s\", which is not a feature of this training run",
					name)));
	return NULL;				/* keep compiler quiet */
}

/* What parse_config fills for preprocess_text_columns: every column's options by name. */
typedef struct NamedColumns
{
	int			n;
	int			cap;
	char	  **names;
	PrepOptions **opts;
} NamedColumns;

/* ColumnOptionsFn collecting the options of every named column. */
static PrepOptions *
named_column(const char *name, void *arg)
{
	NamedColumns *nc = (NamedColumns *) arg;

	for (int k = 0; k < nc->n; k++)
		if (strcmp(nc->names[k], name) == 0)
			return nc->opts[k];	/* a repeated key: the last wins, as in jsonb */
	if (nc->n == nc->cap)
	{
		nc->cap = Max(nc->cap * 2, 8);
		nc->names = nc->names ? repalloc(nc->names, sizeof(char *) * nc->cap) : palloc(sizeof(char *) * nc->cap);
		nc->opts = nc->opts ? repalloc(nc->opts, sizeof(PrepOptions *) * nc->cap) : palloc(sizeof(PrepOptions *) * nc->cap);
	}
	nc->names[nc->n] = pstrdup(name);
	nc->opts[nc->n] = palloc0(sizeof(PrepOptions));
	return nc->opts[nc->n++];
}

/* jsonb_set(j, path, value, create_missing => true) */
static Datum
jsonb_set_path(Datum j, int n, const char *const *path, const char *value_json)
{
	Datum	   *elems = palloc(sizeof(Datum) * n);
	ArrayType  *arr;

	for (int k = 0; k < n; k++)
		elems[k] = CStringGetTextDatum(path[k]);
	arr = construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
	return DirectFunctionCall4(jsonb_set, j, PointerGetDatum(arr),
							   DirectFunctionCall1(jsonb_in, CStringGetDatum(value_json)),
							   BoolGetDatum(true));
}

/* Make the given columns text in 'mode' where the config does not say how. */
Jsonb *
preprocess_text_defaults(Jsonb *config, List *columns, const char *mode)
{
	Datum		j = config ? JsonbPGetDatum(config) : DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	JsonbValue	colsv;
	JsonbContainer *cols = NULL;
	char	   *value = psprintf("{\"text\": \"%s\"}", mode);
	char	   *mode_json = psprintf("\"%s\"", mode);
	ListCell   *lc;

	if (config != NULL && (JB_ROOT_IS_SCALAR(config) || !JB_ROOT_IS_OBJECT(config)))
		return config;			/* preprocess_fit says what is wrong with it */
	if (config != NULL && getKeyJsonValueFromContainer(&config->root, "columns", 7, &colsv))
	{
		if (colsv.type != jbvBinary || !JsonContainerIsObject(colsv.val.binary.data))
			return config;
		cols = colsv.val.binary.data;
	}
	else
		j = jsonb_set_path(j, 1, (const char *[]) {"columns"}, "{}");
	foreach(lc, columns)
	{
		const char *name = strVal(lfirst(lc));
		JsonbValue	cv,
					tv;

		if (cols == NULL || !getKeyJsonValueFromContainer(cols, name, strlen(name), &cv))
			j = jsonb_set_path(j, 2, (const char *[]) {"columns", name}, value);
		else if (cv.type == jbvBinary && JsonContainerIsObject(cv.val.binary.data) &&
				 !getKeyJsonValueFromContainer(cv.val.binary.data, "text", 4, &tv))
			j = jsonb_set_path(j, 3, (const char *[]) {"columns", name, "text"}, mode_json);
	}
	return DatumGetJsonbP(j);
}

/* The columns the config makes text, for the loader. */
TextColumnSpec *
preprocess_text_columns(Jsonb *config, int *n)
{
	PrepOptions global;
	NamedColumns nc = {0};
	TextColumnSpec *specs;
	int			k = 0;

	*n = 0;
	parse_config(config, &global, named_column, &nc);
	for (int c = 0; c < nc.n; c++)
		if (nc.opts[c]->has_text)
			k++;
	if (k == 0)
		return NULL;
	specs = palloc0(sizeof(TextColumnSpec) * k);
	for (int c = 0; c < nc.n; c++)
	{
		const PrepOptions *o = nc.opts[c];
		TextColumnSpec *t;

		if (!o->has_text)
			continue;
		t = &specs[(*n)++];
		t->name = nc.names[c];
		t->config = o->has_config ? o->config : pstrdup(PREP_TEXT_DEFAULT_CONFIG);
		if (o->text == TEXT_HASHING)
		{
			t->hash_buckets = o->has_n_features ? o->n_features : PREP_TEXT_DEFAULT_HASH;
			t->max_width = t->hash_buckets;
		}
		else if (o->text == TEXT_SEQUENCE)
		{
			t->sequence_length = o->has_max_length ? o->max_length : PREP_TEXT_DEFAULT_LENGTH;
			t->max_width = t->sequence_length;
		}
		else
			t->max_width = o->has_max_features ? o->max_features : 0;
	}
	return specs;
}

/* ---------------------------------------------------------------------
 * small helpers
 * --------------------------------------------------------------------- */


/* qsort comparator for C strings by bytes. */
static int
cmp_cstring(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Compare bytes (s, len) with a category string of length clen (strcmp order). */
static inline int
cmp_bytes(const char *s, int len, const char *c, int clen)
{
	int			r = memcmp(s, c, Min(len, clen));

	if (r != 0)
		return r;
	return (len > clen) - (len < clen);
}

/* Index of a category in a one-hot column's sorted list, or -1. */
static int
category_lookup(const InputColumn *in, const PrepColumn *pc, const char *s, int len)
{
	int			lo = 0,
				hi = in->n_categories - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			r = cmp_bytes(s, len, in->categories[mid], pc->cat_len[mid]);

		if (r == 0)
			return mid;
		if (r < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

/* Hash bucket of a category. */
static inline int
category_bucket(const char *s, int len, int buckets)
{
	return (int) (hash_bytes_extended((const unsigned char *) s, len, PREP_HASH_SEED) % (uint64) buckets);
}

/* Code of a category in a fitted categorical column (bucket, index or -1). */
static int
category_code(const Preprocessor *p, int i, const char *s, int len)
{
	const PrepColumn *pc = &p->cols[i];

	if (pc->enc == ENC_HASH)
		return category_bucket(s, len, pc->n_out);
	return category_lookup(&p->inputs[i], pc, s, len);
}

/* Human-readable kind of an input. */
static const char *
kind_name(InputKind k)
{
	switch (k)
	{
		case INPUT_NUMERIC:
			return "numeric";
		case INPUT_BOOLEAN:
			return "boolean";
		case INPUT_CATEGORICAL:
			return "categorical";
		case INPUT_ARRAY:
			return "array";
		case INPUT_TEXT:
			return "text";
	}
	return "unknown";
}

/*
 * Build the derived per-row tables from inputs/cols/fill/center/scale.
 * Also recomputes offsets and n_features; returns false if the feature count
 * would exceed MODEL_MAX_FEATURES.
 */
static bool
build_tables(Preprocessor *p)
{
	int64		nf = 0;
	int			k = 0;

	p->n_num = 0;
	p->n_cat = 0;
	p->n_text = 0;
	for (int i = 0; i < p->n_inputs; i++)
	{
		if (p->inputs[i].kind == INPUT_CATEGORICAL)
			p->n_cat++;
		else if (p->inputs[i].kind == INPUT_TEXT)
			p->n_text++;
		else
			p->n_num += p->inputs[i].width;
	}
	p->num_first = palloc(sizeof(int) * Max(p->n_inputs, 1));
	p->num_raw = palloc(sizeof(int) * Max(p->n_num, 1));
	p->num_out = palloc(sizeof(int) * Max(p->n_num, 1));
	p->num_input = palloc(sizeof(int) * Max(p->n_num, 1));
	p->num_center = palloc(sizeof(double) * Max(p->n_num, 1));
	p->num_inv = palloc(sizeof(double) * Max(p->n_num, 1));
	p->num_missing = palloc(sizeof(double) * Max(p->n_num, 1));
	p->num_error = palloc(sizeof(bool) * Max(p->n_num, 1));
	p->cat_input = palloc(sizeof(int) * Max(p->n_cat, 1));

	p->n_cat = 0;
	for (int i = 0; i < p->n_inputs; i++)
	{
		InputColumn *in = &p->inputs[i];
		PrepColumn *pc = &p->cols[i];

		pc->out_offset = (int) nf;
		p->num_first[i] = k;
		if (in->kind == INPUT_CATEGORICAL)
		{
			p->cat_input[p->n_cat++] = i;
			nf += pc->n_out;
		}
		else if (in->kind == INPUT_TEXT)
			nf += pc->n_out;
		else
		{
			pc->n_out = in->width;
			for (int j = 0; j < in->width; j++)
			{
				int			s = in->raw_offset + j;

				p->num_raw[k] = s;
				p->num_out[k] = (int) nf + j;
				p->num_input[k] = i;
				p->num_center[k] = p->center[s];
				p->num_inv[k] = 1.0 / p->scale[s];
				p->num_missing[k] = (p->fill[s] - p->center[s]) / p->scale[s];
				p->num_error[k] = (pc->impute == IMPUTE_ERROR);
				k++;
			}
			nf += in->width;
		}
		if (nf > MODEL_MAX_FEATURES)
			return false;
	}
	p->n_features = (int) nf;

	/*
	 * Slots that are neither centred nor scaled keep their value: (x - 0) * 1
	 * is x, bit for bit (a center of -0 would turn -0 into +0, so it does
	 * not count), and the per-row paths skip the arithmetic.
	 */
	p->num_unscaled = true;
	for (k = 0; k < p->n_num; k++)
		if (p->num_center[k] != 0.0 || signbit(p->num_center[k]) || p->num_inv[k] != 1.0)
			p->num_unscaled = false;
	return true;
}

/* ERROR for a NULL value in a column whose impute option is "error". */
void
prep_null_is_error(const char *colname)
{
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("column \"%s\" is NULL and its preprocess option \"impute\" is \"error\"", colname),
			 errhint("Use another \"impute\" strategy, or remove the rows with NULLs.")));
}

/* ---------------------------------------------------------------------
 * fitting
 * --------------------------------------------------------------------- */

/* Resolve the scale/impute modes of input i from the options. */
static void
resolve_options(const InputColumn *in, const PrepOptions *g, const PrepOptions *c,
				bool default_scale, PrepColumn *pc, int *max_categories, int *hash_buckets)
{
	bool		cat = (in->kind == INPUT_CATEGORICAL);

	if (c->has_text != (in->kind == INPUT_TEXT))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 c->has_text ?
				 errmsg("preprocess option \"text\" needs a text column, but \"%s\" is %s", in->name, kind_name(in->kind)) :
				 errmsg("column \"%s\" was read as text, but its preprocess options do not make it text", in->name)));
	if (in->kind == INPUT_TEXT)
	{
		prep_text_resolve(g, c, pc);
		*max_categories = 0;
		*hash_buckets = 0;
		return;
	}

	/* scale */
	if (c->has_scale)
	{
		if (cat && c->scale != SCALE_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("preprocess option \"scale\" does not apply to categorical column \"%s\"", in->name)));
		pc->scale = c->scale;
	}
	else if (cat || in->kind == INPUT_BOOLEAN)
		pc->scale = SCALE_NONE;
	else if (g->has_scale)
		pc->scale = g->scale;
	else
		pc->scale = default_scale ? SCALE_STANDARD : SCALE_NONE;

	/* impute */
	if (c->has_impute)
	{
		if (cat && (c->impute == IMPUTE_MEAN || c->impute == IMPUTE_MEDIAN))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("preprocess option \"impute\" = \"%s\" does not apply to categorical column \"%s\"",
							prep_impute_names[c->impute], in->name),
					 errhint("Categorical columns accept most_frequent, zero or error.")));
		pc->impute = c->impute;
	}
	else if (g->has_impute &&
			 !((cat || in->kind == INPUT_BOOLEAN) &&
			   (g->impute == IMPUTE_MEAN || g->impute == IMPUTE_MEDIAN)))
		pc->impute = g->impute;
	else if (cat || in->kind == INPUT_BOOLEAN)
		pc->impute = IMPUTE_MOST_FREQUENT;
	else
		pc->impute = IMPUTE_MEAN;

	/* categorical encoding limits */
	if (!cat && (c->has_max_categories || c->has_hash_buckets))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess options \"max_categories\" and \"hash_buckets\" apply only to categorical columns, not to \"%s\"",
						in->name)));
	*max_categories = c->has_max_categories ? c->max_categories :
		g->has_max_categories ? g->max_categories : PREP_DEFAULT_MAX_CATEGORIES;
	*hash_buckets = c->has_hash_buckets ? c->hash_buckets :
		g->has_hash_buckets ? g->hash_buckets : PREP_DEFAULT_HASH_BUCKETS;
}

/* Median or most frequent value of the sorted non-missing values. */
static double
sorted_stat(const double *v, int64 n, ImputeMode mode)
{
	if (n == 0)
		return 0.0;
	if (mode == IMPUTE_MEDIAN)
		return (n % 2) ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
	else
	{
		double		best = v[0];
		int64		best_run = 0;
		int64		i = 0;

		while (i < n)
		{
			int64		j = i;

			while (j < n && v[j] == v[i])
				j++;
			if (j - i > best_run)
			{
				best_run = j - i;
				best = v[i];
			}
			i = j;
		}
		return best;
	}
}

/*
 * The imputation value and the scaling of one numeric raw slot s (of input
 * i) from its statistics over the n_rows training rows; the median and the
 * most frequent value need the rows themselves (ds, rows; *buf is scratch
 * for them, allocated on first use).
 */
static void
fit_numeric_slot(Preprocessor *p, int s, int i, const PrepSlotStats *st, int64 n_rows,
				 const Dataset *ds, const int64 *rows, double **buf)
{
	const InputColumn *in = &p->inputs[i];
	const PrepColumn *pc = &p->cols[i];
	double		mean = st->mean;
	double		sd = st->sd;

	if (st->count < n_rows && pc->impute == IMPUTE_ERROR)
		prep_null_is_error(in->name);

	/* imputation value */
	switch (pc->impute)
	{
		case IMPUTE_MEAN:
			p->fill[s] = st->count > 0 ? mean : 0.0;
			break;
		case IMPUTE_MEDIAN:
		case IMPUTE_MOST_FREQUENT:
			{
				int64		m = 0;

				if (ds == NULL && in->kind == INPUT_BOOLEAN)
				{
					/* 0/1 values: their counts follow from the mean */
					int64		n = (int64) st->count;
					int64		ones = (int64) llround(st->mean * st->count);
					int64		zeros = n - ones;

					if (n == 0)
						p->fill[s] = 0.0;
					else if (pc->impute == IMPUTE_MOST_FREQUENT)
						p->fill[s] = ones > zeros ? 1.0 : 0.0;
					else if (n % 2)
						p->fill[s] = n / 2 >= zeros ? 1.0 : 0.0;
					else
						p->fill[s] = 0.5 * ((n / 2 - 1 >= zeros ? 1.0 : 0.0) + (n / 2 >= zeros ? 1.0 : 0.0));
					break;
				}
				if (ds == NULL)
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("imputation \"%s\" of column \"%s\" needs the rows in memory",
									prep_impute_names[pc->impute], in->name),
							 errhint("Use \"impute\": \"mean\" or \"zero\" with the streaming solver.")));
				if (*buf == NULL)
					*buf = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * n_rows);
				for (int64 r = 0; r < n_rows; r++)
				{
					double		x = dataset_raw_value(ds, rows[r], s);

					if (!isnan(x))
						(*buf)[m++] = x;
				}
				CHECK_FOR_INTERRUPTS();
				qsort(*buf, m, sizeof(double), data_cmp_double);
				p->fill[s] = sorted_stat(*buf, m, pc->impute);
				break;
			}
		case IMPUTE_ZERO:
		case IMPUTE_ERROR:
			p->fill[s] = 0.0;
			break;
	}

	/* scaling */
	p->center[s] = 0.0;
	p->scale[s] = 1.0;
	if (st->count > 0)
	{
		if (pc->scale == SCALE_STANDARD)
		{
			p->center[s] = mean;
			if (sd > 0.0 && isfinite(sd))
				p->scale[s] = sd;
		}
		else if (pc->scale == SCALE_MINMAX)
		{
			p->center[s] = st->min;
			if (st->max > st->min && isfinite(st->max - st->min))
				p->scale[s] = st->max - st->min;
		}
	}
}

/* Fit the numeric/boolean/array raw slots. */
static void
fit_numeric(Preprocessor *p, const Dataset *ds, const int64 *rows, int64 n_rows)
{
	int			n_slots = 0;
	int		   *slot;			/* raw slot */
	int		   *slot_in;		/* input of the slot */
	int64	   *count;
	double	   *sum,
			   *mn,
			   *mx,
			   *ss;
	double	   *buf = NULL;
	double	   *rowbuf;

	for (int i = 0; i < p->n_inputs; i++)
		if (p->inputs[i].kind != INPUT_CATEGORICAL && p->inputs[i].kind != INPUT_TEXT)
			n_slots += p->inputs[i].width;
	if (n_slots == 0)
		return;
	rowbuf = palloc(sizeof(double) * Max(ds->n_raw, 1));

	slot = palloc(sizeof(int) * n_slots);
	slot_in = palloc(sizeof(int) * n_slots);
	count = palloc0(sizeof(int64) * n_slots);
	sum = palloc0(sizeof(double) * n_slots);
	ss = palloc0(sizeof(double) * n_slots);
	mn = palloc(sizeof(double) * n_slots);
	mx = palloc(sizeof(double) * n_slots);
	n_slots = 0;
	for (int i = 0; i < p->n_inputs; i++)
		if (p->inputs[i].kind != INPUT_CATEGORICAL && p->inputs[i].kind != INPUT_TEXT)
			for (int j = 0; j < p->inputs[i].width; j++)
			{
				slot[n_slots] = p->inputs[i].raw_offset + j;
				slot_in[n_slots] = i;
				mn[n_slots] = get_float8_infinity();
				mx[n_slots] = -get_float8_infinity();
				n_slots++;
			}

	/* pass 1: count, sum, min, max */
	for (int64 r = 0; r < n_rows; r++)
	{
		const double *row = dataset_raw_row(ds, rows[r], rowbuf);

		if ((r & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		for (int k = 0; k < n_slots; k++)
		{
			double		x = row[slot[k]];

			if (isnan(x))
				continue;
			count[k]++;
			sum[k] += x;
			if (x < mn[k])
				mn[k] = x;
			if (x > mx[k])
				mx[k] = x;
		}
	}
	/* pass 2: sum of squared deviations (two-pass for accuracy) */
	for (int k = 0; k < n_slots; k++)
		if (count[k] > 0)
			sum[k] /= (double) count[k];
	for (int64 r = 0; r < n_rows; r++)
	{
		const double *row = dataset_raw_row(ds, rows[r], rowbuf);

		if ((r & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		for (int k = 0; k < n_slots; k++)
		{
			double		x = row[slot[k]];

			if (!isnan(x))
				ss[k] += (x - sum[k]) * (x - sum[k]);
		}
	}

	for (int k = 0; k < n_slots; k++)
	{
		PrepSlotStats st;

		st.count = (double) count[k];
		st.mean = sum[k];
		st.sd = count[k] > 0 ? sqrt(ss[k] / (double) count[k]) : 0.0;
		st.min = mn[k];
		st.max = mx[k];
		fit_numeric_slot(p, slot[k], slot_in[k], &st, n_rows, ds, rows, &buf);
	}
	if (buf)
		pfree(buf);
	pfree(slot);
	pfree(rowbuf);
	pfree(slot_in);
	pfree(count);
	pfree(sum);
	pfree(ss);
	pfree(mn);
	pfree(mx);
}

/* Fit one categorical input: its training categories, mode and encoding. */
static void
fit_categorical(Preprocessor *p, int i, const Dataset *ds, const InputColumn *dsin,
				const int64 *rows, int64 n_rows, int max_categories, int hash_buckets)
{
	InputColumn *in = &p->inputs[i];
	PrepColumn *pc = &p->cols[i];
	int			ncat = dsin->n_categories;
	int64	   *counts = palloc0(sizeof(int64) * Max(ncat, 1));
	int64		nulls = 0;
	int			n_seen = 0;
	char	  **seen;
	int			mode = -1;
	int			s = dsin->raw_offset;

	for (int64 r = 0; r < n_rows; r++)
	{
		double		x = dataset_raw_value(ds, rows[r], s);

		if ((r & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (isnan(x))
		{
			nulls++;
			continue;
		}
		if (x < 0 || x >= ncat)
			elog(ERROR, "galaxy: category code %g of column \"%s\" is outside its dictionary of %d",
				 x, dsin->name, ncat);
		counts[(int) x]++;
	}
	if (nulls > 0 && pc->impute == IMPUTE_ERROR)
		prep_null_is_error(in->name);

	/* most frequent category; ties go to the smallest string */
	for (int c = 0; c < ncat; c++)
	{
		if (counts[c] == 0)
			continue;
		n_seen++;
		if (mode < 0 || counts[c] > counts[mode] ||
			(counts[c] == counts[mode] && strcmp(dsin->categories[c], dsin->categories[mode]) < 0))
			mode = c;
	}
	pc->mode = mode >= 0 ? pstrdup(dsin->categories[mode]) : NULL;

	if (n_seen <= max_categories)
	{
		int			k = 0;

		seen = palloc(sizeof(char *) * Max(n_seen, 1));
		for (int c = 0; c < ncat; c++)
			if (counts[c] > 0)
				seen[k++] = pstrdup(dsin->categories[c]);
		qsort(seen, n_seen, sizeof(char *), cmp_cstring);
		pc->enc = ENC_ONEHOT;
		pc->n_out = n_seen;
		in->n_categories = n_seen;
		in->categories = seen;
		in->category_counts = palloc(sizeof(int64) * Max(n_seen, 1));
		pc->cat_len = palloc(sizeof(int) * Max(n_seen, 1));
		for (int j = 0; j < n_seen; j++)
			pc->cat_len[j] = strlen(seen[j]);
		/* counts in sorted order */
		for (int c = 0; c < ncat; c++)
			if (counts[c] > 0)
			{
				int			j = category_lookup(in, pc, dsin->categories[c],
												strlen(dsin->categories[c]));

				in->category_counts[j] = counts[c];
			}
	}
	else
	{
		pc->enc = ENC_HASH;
		pc->n_out = hash_buckets;
		in->n_categories = 0;
		in->categories = NULL;
		in->category_counts = NULL;
		pc->cat_len = NULL;
	}

	pc->missing_code = -1;
	if (pc->impute == IMPUTE_MOST_FREQUENT && pc->mode != NULL)
		pc->missing_code = category_code(p, i, pc->mode, strlen(pc->mode));

	/* the fitted Dataset's codes → own codes, for preprocess_apply_raw() */
	p->fit_ncodes[i] = ncat;
	p->fit_map[i] = palloc(sizeof(int) * Max(ncat, 1));
	for (int c = 0; c < ncat; c++)
		p->fit_map[i][c] = category_code(p, i, dsin->categories[c], strlen(dsin->categories[c]));
	pfree(counts);
}

/* Fit the preprocessor on the given training rows of a Dataset. */
/*
 * The fitted numbers must be what preprocess_read accepts: finite fill,
 * center and scale (values near the limits of float8, such as 1e306, can
 * overflow a mean or a variance).  ERROR 22003 naming the column, so that no
 * model is registered that galaxy could not read back.
 */
static void
check_fitted_finite(const Preprocessor *p)
{
	for (int s = 0; s < p->n_raw; s++)
	{
		bool		ok = isfinite(p->fill[s]) && isfinite(p->center[s]) &&
			isfinite(p->scale[s]) && fabs(p->scale[s]) >= 1e-300;

		for (int k = 0; ok && k < p->n_num; k++)
			if (p->num_raw[k] == s)
				ok = isfinite(p->num_inv[k]) && isfinite(p->num_missing[k]);
		if (!ok)
		{
			const char *col = "?";

			for (int i = 0; i < p->n_inputs; i++)
				if (s >= p->inputs[i].raw_offset && s < p->inputs[i].raw_offset + p->inputs[i].width)
					col = p->inputs[i].name;
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("the values of feature column \"%s\" are too large in magnitude to impute and scale", col),
					 errdetail("Their mean, spread or imputation value is not a finite double precision number."),
					 errhint("Rescale the column (e.g. divide it by a power of ten) in a view, and train on the view.")));
		}
	}
}

static Preprocessor *
prep_fit(const Dataset *ds, const int64 *rows, int64 n_rows, const PrepSlotStats *stats,
		 Jsonb *config, bool default_scale)
{
	Preprocessor *p;
	PrepOptions global;
	PrepOptions *per_col;

	if (ds->n_inputs <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no feature columns to train on")));
	if (n_rows <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no training rows to fit the preprocessor on")));

	per_col = palloc0(sizeof(PrepOptions) * ds->n_inputs);
	{
		DatasetColumns dc = {ds, per_col};

		parse_config(config, &global, dataset_column, &dc);
	}

	p = palloc0(sizeof(Preprocessor));
	p->mcxt = CurrentMemoryContext;
	p->n_inputs = ds->n_inputs;
	p->inputs = palloc0(sizeof(InputColumn) * ds->n_inputs);
	p->cols = palloc0(sizeof(PrepColumn) * ds->n_inputs);
	p->fit_map = palloc0(sizeof(int *) * ds->n_inputs);
	p->fit_ncodes = palloc0(sizeof(int) * ds->n_inputs);
	p->n_raw = ds->n_raw;
	p->fill = palloc0(sizeof(double) * Max(ds->n_raw, 1));
	p->center = palloc0(sizeof(double) * Max(ds->n_raw, 1));
	p->scale = palloc(sizeof(double) * Max(ds->n_raw, 1));
	for (int s = 0; s < ds->n_raw; s++)
		p->scale[s] = 1.0;

	for (int i = 0; i < ds->n_inputs; i++)
	{
		const InputColumn *src = &ds->inputs[i];
		InputColumn *in = &p->inputs[i];

		in->name = pstrdup(src->name);
		in->kind = src->kind;
		in->typid = src->typid;
		in->typname = pstrdup(src->typname ? src->typname : "unknown");
		in->width = src->width;
		in->raw_offset = src->raw_offset;
		if (src->width < 1 || (src->kind != INPUT_ARRAY && src->width != 1) ||
			src->raw_offset < 0 || src->raw_offset + src->width > ds->n_raw)
			elog(ERROR, "galaxy: inconsistent raw layout for column \"%s\"", src->name);
	}

	for (int i = 0; i < ds->n_inputs; i++)
	{
		int			max_categories,
					hash_buckets;

		resolve_options(&p->inputs[i], &global, &per_col[i], default_scale,
						&p->cols[i], &max_categories, &hash_buckets);
		if (stats != NULL && (p->inputs[i].kind == INPUT_CATEGORICAL || p->inputs[i].kind == INPUT_TEXT))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column \"%s\" of type %s needs the rows in memory", p->inputs[i].name,
							p->inputs[i].typname),
					 errdetail("The streaming solver takes numeric and boolean feature columns.")));
		if (p->inputs[i].kind == INPUT_CATEGORICAL)
			fit_categorical(p, i, ds, &ds->inputs[i], rows, n_rows, max_categories, hash_buckets);
		else if (p->inputs[i].kind == INPUT_TEXT)
			prep_text_fit(p, i, ds, &ds->inputs[i], rows, n_rows);
	}
	if (stats == NULL)
		fit_numeric(p, ds, rows, n_rows);
	else
	{
		double	   *buf = NULL;

		for (int i = 0; i < p->n_inputs; i++)
			for (int j = 0; j < p->inputs[i].width; j++)
				fit_numeric_slot(p, p->inputs[i].raw_offset + j, i, &stats[p->inputs[i].raw_offset + j],
								 n_rows, NULL, NULL, &buf);
	}

	if (!build_tables(p))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("preprocessing yields more than %d features", MODEL_MAX_FEATURES),
				 errhint("Lower \"max_categories\", \"hash_buckets\", \"max_features\" or \"n_features\" in preprocess.")));
	if (p->n_features == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocessing yields no features"),
				 errdetail("Every feature column is categorical with no non-NULL value in the training rows.")));
	check_fitted_finite(p);
	pfree(per_col);
	return p;
}

/* Fit on the rows 'rows' (n_rows of them) of a loaded Dataset. */
Preprocessor *
preprocess_fit(const Dataset *ds, const int64 *rows, int64 n_rows,
			   Jsonb *config, bool default_scale)
{
	return prep_fit(ds, rows, n_rows, NULL, config, default_scale);
}

/*
 * Fit from per-raw-slot statistics of n_rows training rows instead of the
 * rows (the streaming solver): ds is the relation's Dataset without rows
 * (LoadOptions.schema); numeric and boolean inputs only, imputation by mean,
 * zero or error.
 */
Preprocessor *
preprocess_fit_stats(const Dataset *ds, const PrepSlotStats *stats, int64 n_rows,
					 Jsonb *config, bool default_scale)
{
	return prep_fit(ds, NULL, n_rows, stats, config, default_scale);
}

/* ---------------------------------------------------------------------
 * accessors
 * --------------------------------------------------------------------- */

int
preprocess_n_features(const Preprocessor *p)
{
	return p->n_features;
}

int
preprocess_n_inputs(const Preprocessor *p)
{
	return p->n_inputs;
}

int
preprocess_n_raw(const Preprocessor *p)
{
	return p->n_raw;
}

/* Input column i of the fitted schema. */
const InputColumn *
preprocess_input(const Preprocessor *p, int i)
{
	if (i < 0 || i >= p->n_inputs)
		elog(ERROR, "galaxy: input index %d out of range", i);
	return &p->inputs[i];
}

/* Whether the features are sparse: a text input makes them so. */
bool
preprocess_is_sparse(const Preprocessor *p)
{
	return p->n_text > 0;
}

/*
 * Token ids of a text input read as a sequence (padding, out of the
 * vocabulary, then its terms), 0 when there is none.
 */
int
preprocess_n_tokens(const Preprocessor *p)
{
	for (int i = 0; i < p->n_inputs; i++)
		if (p->inputs[i].kind == INPUT_TEXT && p->cols[i].text == TEXT_SEQUENCE)
			return TEXT_SEQ_FIRST + p->cols[i].vocab->n;
	return 0;
}

/* The features of input i: the first one and how many. */
void
preprocess_input_features(const Preprocessor *p, int i, int *first, int *n)
{
	if (i < 0 || i >= p->n_inputs)
		elog(ERROR, "galaxy: input index %d out of range", i);
	*first = p->cols[i].out_offset;
	*n = p->cols[i].n_out;
}

/* Build every output feature name (once, in the preprocessor's context). */
static void
build_feature_names(Preprocessor *p)
{
	MemoryContext old = MemoryContextSwitchTo(p->mcxt);
	char	  **names = palloc(sizeof(char *) * p->n_features);

	for (int i = 0; i < p->n_inputs; i++)
	{
		const InputColumn *in = &p->inputs[i];
		const PrepColumn *pc = &p->cols[i];

		switch (in->kind)
		{
			case INPUT_NUMERIC:
			case INPUT_BOOLEAN:
				names[pc->out_offset] = pstrdup(in->name);
				break;
			case INPUT_ARRAY:
				for (int j = 0; j < in->width; j++)
					names[pc->out_offset + j] = psprintf("%s[%d]", in->name, j + 1);
				break;
			case INPUT_CATEGORICAL:
				for (int j = 0; j < pc->n_out; j++)
					names[pc->out_offset + j] = pc->enc == ENC_HASH ?
						psprintf("%s#h%d", in->name, j) :
						psprintf("%s=%s", in->name, in->categories[j]);
				break;
			case INPUT_TEXT:
				for (int j = 0; j < pc->n_out; j++)
					names[pc->out_offset + j] = pc->text == TEXT_HASHING ?
						psprintf("%s#h%d", in->name, j) :
						pc->text == TEXT_SEQUENCE ? psprintf("%s[%d]", in->name, j + 1) :
						psprintf("%s:%s", in->name, pc->vocab->terms[j]);
				break;
		}
	}
	p->feature_names = names;
	MemoryContextSwitchTo(old);
}

/* Name of output feature j. */
const char *
preprocess_feature_name(const Preprocessor *p, int j)
{
	if (j < 0 || j >= p->n_features)
		elog(ERROR, "galaxy: feature index %d out of range", j);
	if (p->feature_names == NULL)
		build_feature_names((Preprocessor *) p);
	return p->feature_names[j];
}

/* ---------------------------------------------------------------------
 * applying
 * --------------------------------------------------------------------- */

/* Numeric slot k's feature for raw value x (NaN: missing). */
static inline double
numeric_feature(const Preprocessor *p, int k, double x)
{
	if (isnan(x))
	{
		if (unlikely(p->num_error[k]))
			prep_null_is_error(p->inputs[p->num_input[k]].name);
		return p->num_missing[k];
	}
	return (x - p->num_center[k]) * p->num_inv[k];
}

/*
 * Impute and scale the numeric slots of one row: slot k is read at
 * row[src[k]] and written at out[num_out[k]].
 */
static inline void
apply_numeric(const Preprocessor *p, const double *row, const int *src, double *out)
{
	const int  *num_out = p->num_out;
	int			n_num = p->n_num;

	if (p->num_unscaled)
	{
		/* no arithmetic but for the missing values */
		for (int k = 0; k < n_num; k++)
		{
			double		x = row[src[k]];

			out[num_out[k]] = unlikely(isnan(x)) ? numeric_feature(p, k, x) : x;
		}
		return;
	}
	for (int k = 0; k < n_num; k++)
		out[num_out[k]] = numeric_feature(p, k, row[src[k]]);
}

/*
 * The own code (one-hot index or bucket) of categorical input i for its raw
 * slot value x (see the top of this file), or -1 for no feature.
 */
static inline int
raw_category(const Preprocessor *p, int i, double x)
{
	const PrepColumn *pc = &p->cols[i];
	int			code;

	if (isnan(x))
	{
		if (unlikely(pc->impute == IMPUTE_ERROR))
			prep_null_is_error(p->inputs[i].name);
		code = pc->missing_code;
	}
	else if (x >= 0)
	{
		/* a code of the Dataset this preprocessor was fitted on */
		if (unlikely(p->fit_map == NULL || p->fit_map[i] == NULL))
			elog(ERROR, "galaxy: dataset category codes need the preprocessor fitted on that dataset");
		code = x < p->fit_ncodes[i] ? p->fit_map[i][(int) x] : -1;
	}
	else if (x <= -2 && x > -2.0 - pc->n_out)
		code = (int) (-x) - 2;	/* own code */
	else
		code = -1;				/* unseen */
	Assert(code < pc->n_out);
	return code;
}

/* ERROR: a dense transform of a preprocessor whose features are sparse. */
static void
dense_of_sparse(void)
{
	elog(ERROR, "galaxy: text features are sparse and are not transformed into dense rows");
}

/* Transform one raw row (preprocessor codes for categoricals). */
void
preprocess_apply_raw(const Preprocessor *p, const double *raw, double *out)
{
	if (unlikely(p->n_text > 0))
		dense_of_sparse();
	apply_numeric(p, raw, p->num_raw, out);
	for (int c = 0; c < p->n_cat; c++)
	{
		int			i = p->cat_input[c];
		const PrepColumn *pc = &p->cols[i];
		double	   *o = out + pc->out_offset;
		int			code = raw_category(p, i, raw[p->inputs[i].raw_offset]);

		for (int j = 0; j < pc->n_out; j++)
			o[j] = 0.0;
		Assert(pc->out_offset + pc->n_out <= p->n_features);
		if (code >= 0)
			o[code] = 1.0;
	}
}

/* A raw row's sparse features, text from ds (the fitted Dataset) or terms. */
static void
apply_sparse(const Preprocessor *p, const double *raw, const Dataset *ds, const TextTerms *terms,
			 SparseRow *out)
{
	out->nnz = 0;
	sparse_row_reserve(out, (int64) p->n_num + p->n_cat);
	for (int i = 0; i < p->n_inputs; i++)
	{
		const InputColumn *in = &p->inputs[i];
		const PrepColumn *pc = &p->cols[i];

		switch (in->kind)
		{
			case INPUT_CATEGORICAL:
				{
					int			code = raw_category(p, i, raw[in->raw_offset]);

					if (code >= 0)
						sparse_row_push(out, pc->out_offset + code, 1.0);
					break;
				}
			case INPUT_TEXT:
				prep_text_apply(p, i, raw[in->raw_offset], ds, terms, out);
				break;
			default:
				for (int k = p->num_first[i]; k < p->num_first[i] + in->width; k++)
				{
					double		v = numeric_feature(p, k, raw[p->num_raw[k]]);

					if (v != 0.0)
						sparse_row_push(out, p->num_out[k], v);
				}
				break;
		}
	}
}

/* Sparse features of a row of the fitted Dataset. */
void
preprocess_apply_sparse_dataset(const Preprocessor *p, const Dataset *ds, const double *raw, SparseRow *out)
{
	apply_sparse(p, raw, ds, NULL, out);
}

/* Sparse features of a raw row whose text inputs' terms are given. */
void
preprocess_apply_sparse(const Preprocessor *p, const double *raw, const TextTerms *terms, SparseRow *out)
{
	apply_sparse(p, raw, NULL, terms, out);
}

/* Undo the scaling of the numeric features; categorical features stay as they are. */
void
preprocess_inverse_features(const Preprocessor *p, const double *features, double *out)
{
	memcpy(out, features, sizeof(double) * p->n_features);
	for (int k = 0; k < p->n_num; k++)
	{
		int			s = p->num_raw[k];

		out[p->num_out[k]] = features[p->num_out[k]] * p->scale[s] + p->center[s];
	}
}

/* Index of the Dataset input matching fitted input i (by name), checked. */
static int
match_dataset_input(const Preprocessor *p, int i, const Dataset *ds)
{
	const InputColumn *in = &p->inputs[i];
	int			j = -1;

	if (i < ds->n_inputs && strcmp(ds->inputs[i].name, in->name) == 0)
		j = i;
	else
		for (int k = 0; k < ds->n_inputs; k++)
			if (strcmp(ds->inputs[k].name, in->name) == 0)
			{
				j = k;
				break;
			}
	if (j < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" required by the model is missing", in->name)));

	{
		const InputColumn *d = &ds->inputs[j];
		bool		ok;

		if (in->kind == INPUT_CATEGORICAL || in->kind == INPUT_TEXT)
			ok = d->kind == in->kind;
		else if (in->kind == INPUT_ARRAY)
			ok = d->kind == INPUT_ARRAY && d->width == in->width;
		else
			ok = d->kind == INPUT_NUMERIC || d->kind == INPUT_BOOLEAN;
		if (!ok)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" is of type %s (%s, width %d), but the model was trained on %s (%s, width %d)",
							in->name, d->typname, kind_name(d->kind), d->width,
							in->typname, kind_name(in->kind), in->width)));
	}
	return j;
}

/* Transform rows of a Dataset into an n x n_features row-major matrix. */
void
preprocess_transform(const Preprocessor *p, const Dataset *ds,
					 const int64 *rows, int64 n, double *out)
{
	int		   *num_src = palloc(sizeof(int) * Max(p->n_num, 1));
	int		   *cat_src = palloc(sizeof(int) * Max(p->n_cat, 1));
	int		  **cat_map = palloc(sizeof(int *) * Max(p->n_cat, 1));
	int		   *cat_ncodes = palloc(sizeof(int) * Max(p->n_cat, 1));
	int			nf = p->n_features;
	double	   *rowbuf = palloc(sizeof(double) * Max(ds->n_raw, 1));
	bool		dense;

	if (p->n_text > 0)
		dense_of_sparse();
	/* map fitted inputs onto the Dataset's raw slots and dictionaries */
	for (int k = 0; k < p->n_num; k++)
	{
		int			i = p->num_input[k];
		int			j = match_dataset_input(p, i, ds);

		num_src[k] = ds->inputs[j].raw_offset + (p->num_raw[k] - p->inputs[i].raw_offset);
	}
	for (int c = 0; c < p->n_cat; c++)
	{
		int			i = p->cat_input[c];
		int			j = match_dataset_input(p, i, ds);
		const InputColumn *d = &ds->inputs[j];

		cat_src[c] = d->raw_offset;
		cat_ncodes[c] = d->n_categories;
		cat_map[c] = palloc(sizeof(int) * Max(d->n_categories, 1));
		for (int code = 0; code < d->n_categories; code++)
			cat_map[c][code] = category_code(p, i, d->categories[code], strlen(d->categories[code]));
	}

	/* fast path: only numeric slots, contiguous and in order, no NULL errors */
	dense = (p->n_cat == 0);
	for (int k = 0; dense && k < p->n_num; k++)
		if (p->num_out[k] != k || num_src[k] != num_src[0] + k || p->num_error[k])
			dense = false;
	if (dense)
	{
		const double *center = p->num_center;
		const double *inv = p->num_inv;
		const double *miss = p->num_missing;
		int			off = num_src[0];

		for (int64 r = 0; r < n; r++)
		{
			const double *row = dataset_raw_row(ds, rows ? rows[r] : r, rowbuf) + off;
			double	   *o = out + r * (int64) nf;

			if ((r & 0x3FFF) == 0)
				CHECK_FOR_INTERRUPTS();
			for (int k = 0; k < nf; k++)
			{
				double		x = row[k];

				o[k] = isnan(x) ? miss[k] : (x - center[k]) * inv[k];
			}
		}
		n = 0;					/* done */
	}

	for (int64 r = 0; r < n; r++)
	{
		const double *row = dataset_raw_row(ds, rows ? rows[r] : r, rowbuf);
		double	   *o = out + r * (int64) nf;

		if ((r & 0x3FFF) == 0)
			CHECK_FOR_INTERRUPTS();
		apply_numeric(p, row, num_src, o);
		for (int c = 0; c < p->n_cat; c++)
		{
			int			i = p->cat_input[c];
			const PrepColumn *pc = &p->cols[i];
			double	   *oc = o + pc->out_offset;
			double		x = row[cat_src[c]];
			int			code;

			for (int j = 0; j < pc->n_out; j++)
				oc[j] = 0.0;
			if (isnan(x))
			{
				if (unlikely(pc->impute == IMPUTE_ERROR))
					prep_null_is_error(p->inputs[i].name);
				code = pc->missing_code;
			}
			else if (x >= 0 && x < cat_ncodes[c])
				code = cat_map[c][(int) x];
			else
				code = -1;
			if (code >= 0)
				oc[code] = 1.0;
		}
	}

	for (int c = 0; c < p->n_cat; c++)
		pfree(cat_map[c]);
	pfree(cat_map);
	pfree(cat_ncodes);
	pfree(rowbuf);
	pfree(cat_src);
	pfree(num_src);
}

/* ERROR: a value of the wrong type for input i. */
static void
type_mismatch(const InputColumn *in, Oid typid)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("column \"%s\" is of type %s, which cannot be used for the model's %s input of type %s",
					in->name, format_type_be(typid), kind_name(in->kind), in->typname)));
}

/* ERROR: a NaN or infinite feature value. */
static void
nonfinite_value(const InputColumn *in, double v)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("column \"%s\" contains %s, which is not a valid feature value",
					in->name, isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity")),
			 errhint("Replace it with NULL to have it imputed, or with a finite value.")));
}

/*
 * How each input's Datums become raw values: the type classification of
 * every input, done once for a call site instead of once per row.
 */
struct PrepDatumConv
{
	bool		all_float8;		/* every input a float8 column for a numeric input */
	bool		fused;			/* all_float8 and no other inputs: preprocess_float8_apply() */
	int		   *kind;			/* data_classify_type() of each input's type */
	ScalarConv *conv;
	CategoryConv *cat;
	Oid		   *types;
	PrepTextConv *text;			/* NULL without text inputs (preprocess_text.c) */
};

/* Classify the types of the inputs' Datums (types[i] for input i). */
PrepDatumConv *
preprocess_datum_conv(const Preprocessor *p, const Oid *types)
{
	PrepDatumConv *dc = palloc(sizeof(PrepDatumConv));
	int			n = Max(p->n_inputs, 1);

	dc->kind = palloc(sizeof(int) * n);
	dc->conv = palloc(sizeof(ScalarConv) * n);
	dc->cat = palloc(sizeof(CategoryConv) * n);
	dc->types = palloc(sizeof(Oid) * n);
	dc->all_float8 = true;
	for (int i = 0; i < p->n_inputs; i++)
	{
		dc->types[i] = types[i];
		dc->kind[i] = data_classify_type(types[i], &dc->conv[i], &dc->cat[i]);
		if (p->inputs[i].kind != INPUT_NUMERIC || dc->kind[i] != INPUT_NUMERIC ||
			dc->conv[i] != CONV_FLOAT8)
			dc->all_float8 = false;
	}
	dc->fused = dc->all_float8 && p->n_cat == 0 && p->n_text == 0 && p->n_num == p->n_inputs;
	dc->text = p->n_text > 0 ? prep_text_conv_create(p) : NULL;
	return dc;
}

/* The text inputs' terms of the row converted last. */
const TextTerms *
preprocess_datum_conv_terms(const PrepDatumConv *dc)
{
	return dc->text ? prep_text_conv_terms(dc->text) : NULL;
}

/* Free what preprocess_datum_conv() allocated. */
void
preprocess_datum_conv_free(PrepDatumConv *dc)
{
	if (dc->text)
		prep_text_conv_free(dc->text);
	pfree(dc->kind);
	pfree(dc->conv);
	pfree(dc->cat);
	pfree(dc->types);
	pfree(dc);
}

/* Fill a raw row from Datums aligned with the model's inputs, their types classified by dc. */
void
preprocess_datums_to_raw_conv(const Preprocessor *p, const PrepDatumConv *dc,
							  const Datum *values, const bool *isnull, double *raw)
{
	/* the common case: float8 columns for numeric inputs */
	if (dc->all_float8)
	{
		const InputColumn *inputs = p->inputs;
		int			n_in = p->n_inputs;

		for (int i = 0; i < n_in; i++)
		{
			double		v = isnull[i] ? get_float8_nan() : DatumGetFloat8(values[i]);

			if (unlikely(!isnull[i] && !isfinite(v)))
				nonfinite_value(&inputs[i], v);
			raw[inputs[i].raw_offset] = v;
		}
		return;
	}

	for (int i = 0; i < p->n_inputs; i++)
	{
		const InputColumn *in = &p->inputs[i];
		double	   *dst = raw + in->raw_offset;
		ScalarConv	conv = dc->conv[i];
		CategoryConv cat = dc->cat[i];
		int			kind = dc->kind[i];
		const Oid  *types = dc->types;

		if (isnull[i])
		{
			for (int j = 0; j < in->width; j++)
				dst[j] = get_float8_nan();
			if (in->kind == INPUT_TEXT)
				prep_text_conv_null(dc->text, i);
			continue;
		}
		switch (in->kind)
		{
			case INPUT_TEXT:
				if (kind != INPUT_CATEGORICAL || cat != CAT_TEXT)
					type_mismatch(in, types[i]);
				prep_text_conv_value(dc->text, i, values[i]);
				dst[0] = 0.0;	/* not NULL: its words are in dc->text */
				break;
			case INPUT_NUMERIC:
			case INPUT_BOOLEAN:
				if (kind != INPUT_NUMERIC && kind != INPUT_BOOLEAN)
					type_mismatch(in, types[i]);
				dst[0] = data_scalar_to_double(values[i], conv);
				if (!isfinite(dst[0]))
					nonfinite_value(in, dst[0]);
				break;
			case INPUT_ARRAY:
				{
					int			nitems;
					ArrayFillResult res;

					if (kind != INPUT_ARRAY)
						type_mismatch(in, types[i]);
					res = data_array_fill(values[i], dst, in->width, &nitems);
					if (res == ARRAYFILL_MULTIDIM)
						ereport(ERROR,
								(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
								 errmsg("column \"%s\" must be a one-dimensional array", in->name)));
					if (res == ARRAYFILL_BAD_LENGTH)
						ereport(ERROR,
								(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
								 errmsg("column \"%s\" has %d elements, but the model expects %d",
										in->name, nitems, in->width)));
					if (res == ARRAYFILL_NONFINITE)
					{
						/* an infinite element, else a NaN element that is not NULL */
						for (int j = 0; j < in->width; j++)
							if (isinf(dst[j]))
								nonfinite_value(in, dst[j]);
						nonfinite_value(in, get_float8_nan());
					}
					break;
				}
			case INPUT_CATEGORICAL:
				{
					char		buf[NAMEDATALEN];
					const char *s;
					int			len;
					int			code;

					if (kind != INPUT_CATEGORICAL)
						type_mismatch(in, types[i]);
					s = data_category_bytes(values[i], cat, buf, &len);
					code = category_code(p, i, s, len);
					dst[0] = code >= 0 ? -(double) code - 2.0 : -1.0;
					break;
				}
		}
	}
}

/*
 * preprocess_float8_apply() and preprocess_float8_apply_args() in one pass:
 * input i's Datum is args[at[i]] when from_args, else values[at[i]] (NULL:
 * isnull[at[i]]).  Inlined into each with from_args constant, so each loop
 * reads its own layout directly.
 */
static pg_attribute_always_inline bool
float8_apply(const Preprocessor *p, const PrepDatumConv *dc, bool from_args,
			 const NullableDatum *args, const Datum *values, const bool *isnull,
			 const int *at, double *restrict raw, double *restrict out)
{
	const InputColumn *inputs = p->inputs;
	const int  *num_first = p->num_first;
	const int  *num_raw = p->num_raw;
	const int  *num_out = p->num_out;
	const double *num_center = p->num_center;
	const double *num_inv = p->num_inv;
	bool		unscaled = p->num_unscaled;
	int			n_in = p->n_inputs;
	bool		any_null = false;

	if (!dc->fused)
		return false;
	for (int i = 0; i < n_in; i++)
	{
		int			a = at[i];
		int			k = num_first[i];
		bool		null = from_args ? args[a].isnull : isnull[a];
		double		v;

		if (null)
		{
			raw[num_raw[k]] = get_float8_nan();
			any_null = true;
			continue;
		}
		v = DatumGetFloat8(from_args ? args[a].value : values[a]);
		if (unlikely(!isfinite(v)))
			nonfinite_value(&inputs[i], v);
		raw[num_raw[k]] = v;
		out[num_out[k]] = unscaled ? v : (v - num_center[k]) * num_inv[k];
	}

	/*
	 * The missing values, in slot order as preprocess_apply_raw() takes them
	 * (the first with impute "error" raises it), after every value was checked
	 */
	if (unlikely(any_null))
	{
		for (int k = 0; k < p->n_num; k++)
			if (isnan(raw[num_raw[k]]))
				out[num_out[k]] = numeric_feature(p, k, raw[num_raw[k]]);
	}
	return true;
}

/*
 * preprocess_datums_to_raw_conv() and preprocess_apply_raw() in one pass
 * for a call site of float8 columns for numeric inputs only: the raw row in
 * raw and its features in out, input i read from values[at[i]] and
 * isnull[at[i]].  Returns false, and does nothing, for any other call site.
 */
bool
preprocess_float8_apply(const Preprocessor *p, const PrepDatumConv *dc, const Datum *values,
						const bool *isnull, const int *at, double *raw, double *out)
{
	return float8_apply(p, dc, false, NULL, values, isnull, at, raw, out);
}

/* preprocess_float8_apply() reading input i from args[at[i]] (a function's arguments). */
bool
preprocess_float8_apply_args(const Preprocessor *p, const PrepDatumConv *dc,
							 const NullableDatum *args, const int *at, double *raw, double *out)
{
	return float8_apply(p, dc, true, args, NULL, NULL, at, raw, out);
}

/* ---------------------------------------------------------------------
 * serialisation
 * --------------------------------------------------------------------- */

/* Serialise the fitted preprocessor. */
void
preprocess_write(const Preprocessor *p, ModelWriter *w)
{
	mw_u8(w, PREP_FORMAT_VERSION);
	mw_u32(w, (uint32) p->n_inputs);
	for (int i = 0; i < p->n_inputs; i++)
	{
		const InputColumn *in = &p->inputs[i];
		const PrepColumn *pc = &p->cols[i];

		mw_str(w, in->name);
		mw_u8(w, (uint8) in->kind);
		mw_str(w, in->typname);
		mw_i32(w, in->width);
		mw_u8(w, (uint8) pc->scale);
		mw_u8(w, (uint8) pc->impute);
		if (in->kind == INPUT_CATEGORICAL)
		{
			mw_u8(w, (uint8) pc->enc);
			mw_i32(w, pc->n_out);
			mw_i32(w, pc->missing_code);
			mw_str(w, pc->mode);
			mw_u32(w, (uint32) in->n_categories);
			for (int j = 0; j < in->n_categories; j++)
				mw_str(w, in->categories[j]);
		}
		else if (in->kind == INPUT_TEXT)
			prep_text_write(pc, w);
	}
	mw_u32(w, (uint32) p->n_raw);
	for (int s = 0; s < p->n_raw; s++)
	{
		mw_f64(w, p->fill[s]);
		mw_f64(w, p->center[s]);
		mw_f64(w, p->scale[s]);
	}
	mw_u32(w, (uint32) p->n_features);
}

/* Read and validate a serialised preprocessor. */
Preprocessor *
preprocess_read(ModelReader *r)
{
	Preprocessor *p = palloc0(sizeof(Preprocessor));
	uint8		version = mr_u8(r);
	int64		n_raw = 0;
	uint32		stored_raw;
	uint32		stored_features;

	if (version != PREP_FORMAT_VERSION)
		mr_corrupt("preprocessor format %u is unknown", version);
	p->mcxt = CurrentMemoryContext;
	/* an input takes at least 4+1+4+4+1+1 bytes */
	p->n_inputs = (int) mr_count(r, MODEL_MAX_FEATURES, 15, "input");
	if (p->n_inputs == 0)
		mr_corrupt("preprocessor has no inputs");
	p->inputs = palloc0(sizeof(InputColumn) * p->n_inputs);
	p->cols = palloc0(sizeof(PrepColumn) * p->n_inputs);

	for (int i = 0; i < p->n_inputs; i++)
	{
		InputColumn *in = &p->inputs[i];
		PrepColumn *pc = &p->cols[i];
		uint8		kind,
					scale,
					impute;

		in->name = mr_str(r, PREP_MAX_NAME);
		if (in->name == NULL || in->name[0] == '\0')
			mr_corrupt("input %d has no name", i);
		for (int k = 0; k < i; k++)
			if (strcmp(p->inputs[k].name, in->name) == 0)
				mr_corrupt("input \"%s\" appears twice", in->name);
		kind = mr_u8(r);
		if (kind < INPUT_NUMERIC || kind > INPUT_TEXT)
			mr_corrupt("input \"%s\" has unknown kind %u", in->name, kind);
		in->kind = (InputKind) kind;
		in->typid = InvalidOid;
		in->typname = mr_str(r, PREP_MAX_NAME);
		if (in->typname == NULL)
			mr_corrupt("input \"%s\" has no type name", in->name);
		in->width = mr_i32_range(r, 1, in->kind == INPUT_ARRAY ? MODEL_MAX_FEATURES : 1, "input width");
		in->raw_offset = (int) n_raw;
		n_raw += in->width;
		if (n_raw > MODEL_MAX_FEATURES)
			mr_corrupt("raw width exceeds %d", MODEL_MAX_FEATURES);
		scale = mr_u8(r);
		impute = mr_u8(r);
		if (scale > SCALE_MINMAX)
			mr_corrupt("input \"%s\" has unknown scaling %u", in->name, scale);
		if (impute > IMPUTE_ERROR)
			mr_corrupt("input \"%s\" has unknown imputation %u", in->name, impute);
		pc->scale = (ScaleMode) scale;
		pc->impute = (ImputeMode) impute;

		if (in->kind == INPUT_CATEGORICAL)
		{
			uint8		enc = mr_u8(r);
			uint32		ncat;

			if (enc != ENC_ONEHOT && enc != ENC_HASH)
				mr_corrupt("input \"%s\" has unknown encoding %u", in->name, enc);
			pc->enc = (Encoding) enc;
			pc->n_out = mr_i32_range(r, enc == ENC_HASH ? 1 : 0, MODEL_MAX_FEATURES, "category count");
			pc->missing_code = mr_i32_range(r, -1, pc->n_out - 1, "missing-value code");
			pc->mode = mr_str(r, PREP_MAX_CATEGORY);
			ncat = mr_count(r, MODEL_MAX_FEATURES, 4, "category");
			if (enc == ENC_ONEHOT && (int) ncat != pc->n_out)
				mr_corrupt("input \"%s\" stores %u categories for %d one-hot features",
						   in->name, ncat, pc->n_out);
			if (enc == ENC_HASH && ncat != 0)
				mr_corrupt("hashed input \"%s\" stores categories", in->name);
			in->n_categories = (int) ncat;
			in->categories = palloc(sizeof(char *) * Max(ncat, 1));
			pc->cat_len = palloc(sizeof(int) * Max(ncat, 1));
			for (uint32 j = 0; j < ncat; j++)
			{
				char	   *c = mr_str(r, PREP_MAX_CATEGORY);

				if (c == NULL)
					mr_corrupt("category %u of input \"%s\" is missing", j, in->name);
				if (j > 0 && strcmp(in->categories[j - 1], c) >= 0)
					mr_corrupt("categories of input \"%s\" are not sorted", in->name);
				in->categories[j] = c;
				pc->cat_len[j] = strlen(c);
			}
		}
		else if (in->kind == INPUT_TEXT)
			prep_text_read(r, in, pc);
		else
		{
			pc->enc = ENC_NONE;
			pc->missing_code = -1;
		}
	}

	stored_raw = mr_count(r, MODEL_MAX_FEATURES, 24, "raw slot");
	if ((int64) stored_raw != n_raw)
		mr_corrupt("preprocessor stores %u raw slots for inputs of total width " INT64_FORMAT,
				   stored_raw, n_raw);
	p->n_raw = (int) n_raw;
	p->fill = palloc(sizeof(double) * p->n_raw);
	p->center = palloc(sizeof(double) * p->n_raw);
	p->scale = palloc(sizeof(double) * p->n_raw);
	for (int s = 0; s < p->n_raw; s++)
	{
		p->fill[s] = mr_f64_finite(r, "imputation value");
		p->center[s] = mr_f64_finite(r, "scaling center");
		p->scale[s] = mr_f64_finite(r, "scaling factor");
		if (!(fabs(p->scale[s]) >= 1e-300))
			mr_corrupt("scaling factor of raw slot %d is zero", s);
	}
	if (!build_tables(p))
		mr_corrupt("preprocessor yields more than %d features", MODEL_MAX_FEATURES);
	stored_features = mr_u32(r);
	if (stored_features != (uint32) p->n_features || p->n_features == 0)
		mr_corrupt("preprocessor stores %u features, its inputs yield %d",
				   stored_features, p->n_features);
	/* derived values must be finite too */
	for (int k = 0; k < p->n_num; k++)
		if (!isfinite(p->num_inv[k]) || !isfinite(p->num_missing[k]))
			mr_corrupt("scaling of raw slot %d is not finite", p->num_raw[k]);
	return p;
}

/* ---------------------------------------------------------------------
 * description
 * --------------------------------------------------------------------- */

#define DESCRIBE_MAX_CATEGORIES 100
#define DESCRIBE_MAX_SLOTS		16

/* jsonb description of the preprocessor for galaxy.describe(). */
Jsonb *
preprocess_describe(const Preprocessor *p)
{
	JsonbParseState *st = NULL;
	JsonbValue *res;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_kv_num(&st, "n_inputs", p->n_inputs);
	jb_kv_num(&st, "n_raw", p->n_raw);
	jb_kv_num(&st, "n_features", p->n_features);
	jb_key(&st, "inputs");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < p->n_inputs; i++)
	{
		const InputColumn *in = &p->inputs[i];
		const PrepColumn *pc = &p->cols[i];

		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		jb_kv_str(&st, "name", in->name);
		jb_kv_str(&st, "type", in->typname);
		jb_kv_str(&st, "kind", kind_name(in->kind));
		jb_kv_num(&st, "width", in->width);
		jb_kv_num(&st, "first_feature", pc->out_offset);
		jb_kv_num(&st, "n_features", pc->n_out);
		jb_kv_str(&st, "impute", prep_impute_names[pc->impute]);
		if (in->kind == INPUT_TEXT)
			prep_text_describe(&st, pc);
		else if (in->kind == INPUT_CATEGORICAL)
		{
			jb_kv_str(&st, "encoding", prep_encoding_names[pc->enc]);
			jb_kv_str(&st, "most_frequent", pc->mode);
			if (pc->enc == ENC_HASH)
				jb_kv_num(&st, "hash_buckets", pc->n_out);
			else
			{
				jb_kv_num(&st, "n_categories", in->n_categories);
				jb_key(&st, "categories");
				pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
				for (int j = 0; j < Min(in->n_categories, DESCRIBE_MAX_CATEGORIES); j++)
					jb_str(&st, WJB_ELEM, in->categories[j]);
				pushJsonbValue(&st, WJB_END_ARRAY, NULL);
			}
		}
		else
		{
			int			n = Min(in->width, DESCRIBE_MAX_SLOTS);

			jb_kv_str(&st, "scale", prep_scale_names[pc->scale]);
			if (in->width == 1)
			{
				jb_kv_num(&st, "fill", p->fill[in->raw_offset]);
				jb_kv_num(&st, "center", p->center[in->raw_offset]);
				jb_kv_num(&st, "scale_factor", p->scale[in->raw_offset]);
			}
			else
			{
				const char *keys[3] = {"fill", "center", "scale_factor"};
				const double *arrs[3] = {p->fill, p->center, p->scale};

				for (int a = 0; a < 3; a++)
				{
					jb_key(&st, keys[a]);
					pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
					for (int j = 0; j < n; j++)
						jb_num(&st, WJB_ELEM, arrs[a][in->raw_offset + j]);
					pushJsonbValue(&st, WJB_END_ARRAY, NULL);
				}
			}
		}
		pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}
