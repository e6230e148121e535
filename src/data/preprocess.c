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
 * Text (INPUT_TEXT): a column the options make text is tokenised while
 * loading (text/tokenize.h; the Dataset keeps each row's distinct terms
 * with their counts, and its raw slot holds the row's number).  Fitting
 * chooses the vocabulary on the training rows only (min_df, max_df, then
 * the max_features most frequent; text/vocab.h) and, for "tfidf", the
 * smoothed inverse document frequencies of scikit-learn's TfidfVectorizer;
 * "hashing" needs no fitting.  A row's text features are then its term
 * counts (1 for "binary", 1 + ln(count) with sublinear_tf), times the idf
 * ("tfidf"), normalised to unit length ("norm": l2 by default for tfidf and
 * hashing).  NULL and empty texts give all-zero features.  Features with a
 * text input are sparse: rows become SparseRows (preprocess_apply_sparse*),
 * never dense ones.
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "data/data_internal.h"
#include "data/dataset.h"
#include "text/tokenize.h"
#include "text/vocab.h"
#include "util/jsonb_build.h"
#include "model/model.h"

#define PREP_FORMAT_VERSION		1
#define PREP_MAX_NAME			1024
#define PREP_MAX_CATEGORY		(1024 * 1024)
#define PREP_DEFAULT_MAX_CATEGORIES 32
#define PREP_DEFAULT_HASH_BUCKETS	32
#define PREP_MAX_MAX_CATEGORIES		100000
#define PREP_MAX_HASH_BUCKETS		(1 << 20)
#define PREP_HASH_SEED			UINT64CONST(0x67616C6178790001)
#define PREP_TEXT_MAX_HASH		(1 << 20)	/* n_features of the hashing trick */
#define PREP_TEXT_DEFAULT_HASH	(1 << 18)
#define PREP_TEXT_DEFAULT_CONFIG "english"
#define PREP_TEXT_MAX_MAX_DF	2147483647.0

typedef enum ScaleMode
{
	SCALE_NONE = 0,
	SCALE_STANDARD = 1,
	SCALE_MINMAX = 2
} ScaleMode;

typedef enum ImputeMode
{
	IMPUTE_MEAN = 0,
	IMPUTE_MEDIAN = 1,
	IMPUTE_MOST_FREQUENT = 2,
	IMPUTE_ZERO = 3,
	IMPUTE_ERROR = 4
} ImputeMode;

typedef enum Encoding
{
	ENC_NONE = 0,
	ENC_ONEHOT = 1,
	ENC_HASH = 2
} Encoding;

typedef enum TextMode
{
	TEXT_NONE = 0,
	TEXT_TFIDF = 1,
	TEXT_COUNTS = 2,
	TEXT_BINARY = 3,
	TEXT_HASHING = 4
} TextMode;

typedef enum TextNorm
{
	NORM_NONE = 0,
	NORM_L2 = 1,
	NORM_L1 = 2
} TextNorm;

static const char *const text_names[] = {"none", "tfidf", "counts", "binary", "hashing"};
static const char *const norm_names[] = {"none", "l2", "l1"};
static const char *const scale_names[] = {"none", "standard", "minmax"};
static const char *const impute_names[] = {"mean", "median", "most_frequent", "zero", "error"};
static const char *const encoding_names[] = {"none", "one_hot", "hashing"};

/* Fitted transform of one input column. */
typedef struct PrepColumn
{
	ScaleMode	scale;
	ImputeMode	impute;
	Encoding	enc;			/* categorical only */
	int			out_offset;		/* first output feature */
	int			n_out;			/* output features */
	int			missing_code;	/* categorical: code used for NULL, -1 = none */
	char	   *mode;			/* categorical: most frequent category or NULL */
	int		   *cat_len;		/* one-hot: byte length of each category */
	/* text */
	TextMode	text;
	TextNorm	norm;
	bool		sublinear_tf;	/* tf = 1 + ln(count) */
	bool		smooth_idf;
	char	   *text_config;	/* schema-qualified text search configuration */
	TextVocab  *vocab;			/* tfidf, counts, binary: n_out terms */
	double	   *idf;			/* tfidf: per term */
	int64		n_docs;			/* training documents */
	double		min_df;			/* as configured: a count, or a fraction below 1 */
	double		max_df;			/* as configured: a fraction up to 1, or a count */
	int			max_features;	/* as configured, 0 = no limit */
} PrepColumn;

struct Preprocessor
{
	int			n_inputs;
	InputColumn *inputs;		/* fitted schema; categories sorted (one-hot) */
	PrepColumn *cols;
	int			n_raw;
	int			n_features;
	double	   *fill;			/* per raw slot: raw value used for NULL */
	double	   *center;			/* per raw slot */
	double	   *scale;			/* per raw slot (never 0) */

	/* derived tables for the per-row paths */
	int			n_num;			/* numeric/boolean/array raw slots */
	int		   *num_raw;		/* raw slot */
	int		   *num_out;		/* output feature */
	int		   *num_input;		/* input column */
	double	   *num_center;		/* center of the slot */
	double	   *num_inv;		/* 1 / scale */
	double	   *num_missing;	/* transformed value for NULL */
	bool	   *num_error;		/* NULL is an error */
	int			n_cat;
	int		   *cat_input;		/* input column of each categorical */
	int			n_text;			/* text inputs: the features are sparse */
	int		   *num_first;		/* per input: its first numeric slot (numeric, boolean, array) */
	int		  **fit_map;		/* per input: fitted Dataset code → own code (text: term → index) */
	int		   *fit_ncodes;		/* per input: size of fit_map[i] */

	char	  **feature_names;	/* built on first use */
	MemoryContext mcxt;			/* where this preprocessor lives */
};

/* User options for one column (or the defaults for all of them). */
typedef struct PrepOptions
{
	bool		has_scale;
	ScaleMode	scale;
	bool		has_impute;
	ImputeMode	impute;
	bool		has_max_categories;
	int			max_categories;
	bool		has_hash_buckets;
	int			hash_buckets;
	/* text columns */
	bool		has_text;
	TextMode	text;
	bool		has_config;
	char	   *config;
	bool		has_min_df;
	double		min_df;
	bool		has_max_df;
	double		max_df;
	bool		has_max_features;
	int			max_features;
	bool		has_n_features;
	int			n_features;
	bool		has_norm;
	TextNorm	norm;
	bool		has_sublinear_tf;
	bool		sublinear_tf;
	bool		has_smooth_idf;
	bool		smooth_idf;
} PrepOptions;

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

/* The text options of a column, checked against its "text" mode. */
static void
check_text_options(const PrepOptions *o, const char *where)
{
	const char *mode;

	if (!o->has_text)
	{
		if (o->has_config || o->has_min_df || o->has_max_df || o->has_max_features ||
			o->has_n_features || o->has_norm || o->has_sublinear_tf || o->has_smooth_idf)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("preprocess options config, min_df, max_df, max_features, n_features, norm, sublinear_tf and smooth_idf%s need \"text\"",
							where),
					 errhint("Make the column text with \"text\": \"tfidf\", \"counts\", \"binary\" or \"hashing\".")));
		return;
	}
	mode = text_names[o->text];
	if ((o->has_scale && o->scale != SCALE_NONE) || o->has_max_categories || o->has_hash_buckets)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess options \"scale\", \"max_categories\" and \"hash_buckets\" do not apply to text%s", where),
				 errhint("The size of a text column's features is set by \"max_features\" (a vocabulary) or \"n_features\" (hashing).")));
	if (o->has_impute && o->impute != IMPUTE_ZERO && o->impute != IMPUTE_ERROR)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess option \"impute\" = \"%s\" does not apply to text%s", impute_names[o->impute], where),
				 errhint("A NULL text has no words (\"zero\", the default), or is an error (\"error\").")));
	if (o->text == TEXT_HASHING && (o->has_min_df || o->has_max_df || o->has_max_features))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess options \"min_df\", \"max_df\" and \"max_features\" need a vocabulary, not \"text\": \"hashing\"%s", where),
				 errhint("Hashing has a fixed width: \"n_features\".")));
	if (o->text != TEXT_HASHING && o->has_n_features)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess option \"n_features\" applies to \"text\": \"hashing\", not \"%s\"%s", mode, where),
				 errhint("A vocabulary's size is limited by \"max_features\".")));
	if (o->text != TEXT_TFIDF && (o->has_sublinear_tf || o->has_smooth_idf))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess options \"sublinear_tf\" and \"smooth_idf\" apply to \"text\": \"tfidf\", not \"%s\"%s", mode, where)));
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
			o->scale = (ScaleMode) option_choice(key, where, &v, scale_names, 3,
												 "standard, minmax, none");
		}
		else if (strcmp(key, "impute") == 0)
		{
			o->has_impute = true;
			o->impute = (ImputeMode) option_choice(key, where, &v, impute_names, 5,
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
				  strcmp(key, "sublinear_tf") == 0 || strcmp(key, "smooth_idf") == 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("preprocess option \"%s\" applies to one column", key),
					 errhint("Give it under \"columns\", e.g. '{\"columns\": {\"body\": {\"text\": \"tfidf\"}}}'.")));
		else if (strcmp(key, "text") == 0)
		{
			o->has_text = true;
			o->text = (TextMode) option_choice(key, where, &v, text_names + 1, 4,
											   "tfidf, counts, binary, hashing") + 1;
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
			o->norm = (TextNorm) option_choice(key, where, &v, norm_names, 3, "l2, l1, none");
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
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown preprocess option \"%s\"%s", key, where),
					 errhint("Valid options are: scale, impute, max_categories, hash_buckets%s.",
							 columns != NULL ? ", columns" :
							 ", and for a text column text, config, min_df, max_df, max_features, n_features, norm, sublinear_tf, smooth_idf")));
	}
	if (columns == NULL)
		check_text_options(o, where);
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
	return true;
}

/* ERROR for a NULL value in a column whose impute option is "error". */
static void
null_is_error(const char *colname)
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
		/* checked by parse_options: no scaling, NULL is no words or an error */
		pc->scale = SCALE_NONE;
		pc->impute = c->has_impute ? c->impute :
			(g->has_impute && g->impute == IMPUTE_ERROR) ? IMPUTE_ERROR : IMPUTE_ZERO;
		pc->text = c->text;
		pc->norm = c->has_norm ? c->norm :
			(c->text == TEXT_TFIDF || c->text == TEXT_HASHING) ? NORM_L2 : NORM_NONE;
		pc->sublinear_tf = c->has_sublinear_tf && c->sublinear_tf;
		pc->smooth_idf = !c->has_smooth_idf || c->smooth_idf;
		pc->min_df = c->has_min_df ? c->min_df : 1.0;
		pc->max_df = c->has_max_df ? c->max_df : 1.0;
		pc->max_features = c->has_max_features ? c->max_features : 0;
		pc->n_out = c->text == TEXT_HASHING ? (c->has_n_features ? c->n_features : PREP_TEXT_DEFAULT_HASH) : 0;
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
							impute_names[c->impute], in->name),
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
		int			s = slot[k];
		const InputColumn *in = &p->inputs[slot_in[k]];
		const PrepColumn *pc = &p->cols[slot_in[k]];
		double		mean = sum[k];
		double		sd = count[k] > 0 ? sqrt(ss[k] / (double) count[k]) : 0.0;

		if (count[k] < n_rows && pc->impute == IMPUTE_ERROR)
			null_is_error(in->name);

		/* imputation value */
		switch (pc->impute)
		{
			case IMPUTE_MEAN:
				p->fill[s] = count[k] > 0 ? mean : 0.0;
				break;
			case IMPUTE_MEDIAN:
			case IMPUTE_MOST_FREQUENT:
				{
					int64		m = 0;

					if (buf == NULL)
						buf = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * n_rows);
					for (int64 r = 0; r < n_rows; r++)
					{
						double		x = dataset_raw_value(ds, rows[r], s);

						if (!isnan(x))
							buf[m++] = x;
					}
					CHECK_FOR_INTERRUPTS();
					qsort(buf, m, sizeof(double), data_cmp_double);
					p->fill[s] = sorted_stat(buf, m, pc->impute);
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
		if (count[k] > 0)
		{
			if (pc->scale == SCALE_STANDARD)
			{
				p->center[s] = mean;
				if (sd > 0.0 && isfinite(sd))
					p->scale[s] = sd;
			}
			else if (pc->scale == SCALE_MINMAX)
			{
				p->center[s] = mn[k];
				if (mx[k] > mn[k] && isfinite(mx[k] - mn[k]))
					p->scale[s] = mx[k] - mn[k];
			}
		}
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
		null_is_error(in->name);

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

/* A document-frequency bound as a number of the n documents: a fraction (min: below 1, max: up to 1) or a count. */
static int64
df_bound(double v, int64 n, bool upper)
{
	if (upper)
		return v <= 1.0 ? (int64) floor(v * (double) n) : (int64) v;
	return v < 1.0 ? (int64) ceil(v * (double) n) : (int64) v;
}

/*
 * Fit one text input: hashing needs nothing; a vocabulary is chosen from
 * the terms of the training rows' texts (document frequencies, then the most
 * frequent), with the inverse document frequencies for tfidf.
 */
static void
fit_text(Preprocessor *p, int i, const Dataset *ds, const InputColumn *dsin,
		 const int64 *rows, int64 n_rows)
{
	InputColumn *in = &p->inputs[i];
	PrepColumn *pc = &p->cols[i];
	int			s = dsin->raw_offset;
	int			ncat = dsin->n_categories;
	int64		nulls = 0;
	int64	   *df;
	int64	   *tf;
	int		   *map;
	int64		min_docs,
				max_docs;

	if (dsin->doc_start == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("text column \"%s\" has no words loaded", dsin->name)));
	pc->text_config = pstrdup(dsin->text_config ? dsin->text_config : PREP_TEXT_DEFAULT_CONFIG);
	pc->n_docs = n_rows;
	/* the fitted schema keeps a vocabulary, not the load-time terms */
	in->n_categories = 0;
	in->categories = NULL;
	in->category_counts = NULL;
	for (int64 r = 0; r < n_rows; r++)
		if (isnan(dataset_raw_value(ds, rows[r], s)))
			nulls++;
	if (nulls > 0 && pc->impute == IMPUTE_ERROR)
		null_is_error(in->name);

	if (pc->text == TEXT_HASHING)
	{
		/* the loader stored hash buckets: nothing to learn */
		if (dsin->text_buckets != pc->n_out)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("text column \"%s\" was loaded into %d hash buckets, not n_features = %d",
							dsin->name, dsin->text_buckets, pc->n_out)));
		p->fit_map[i] = NULL;
		p->fit_ncodes[i] = 0;
		return;
	}
	if (dsin->text_buckets != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("text column \"%s\" was loaded hashed, but its options ask for a vocabulary", dsin->name)));

	/* document frequency and occurrences of every term over the training rows */
	df = palloc0(sizeof(int64) * Max(ncat, 1));
	tf = palloc0(sizeof(int64) * Max(ncat, 1));
	for (int64 r = 0; r < n_rows; r++)
	{
		double		x = dataset_raw_value(ds, rows[r], s);
		int64		doc;

		if ((r & 0x3FFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (isnan(x))
			continue;
		doc = (int64) x;
		if (doc < 0 || doc >= ds->n_rows)
			elog(ERROR, "galaxy: document %g of text column \"%s\" is not a row", x, dsin->name);
		for (int64 k = dsin->doc_start[doc]; k < dsin->doc_start[doc + 1]; k++)
		{
			int32		t = dsin->doc_terms[k];

			if (t < 0 || t >= ncat)
				elog(ERROR, "galaxy: term %d of text column \"%s\" is outside its %d terms", t, dsin->name, ncat);
			df[t]++;
			tf[t] += dsin->doc_counts[k];
		}
	}
	min_docs = df_bound(pc->min_df, n_rows, false);
	max_docs = df_bound(pc->max_df, n_rows, true);
	if (max_docs < min_docs)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("for text column \"%s\", max_df keeps terms of at most " INT64_FORMAT " documents, fewer than the " INT64_FORMAT " min_df asks for",
						in->name, max_docs, min_docs),
				 errdetail("The training split has " INT64_FORMAT " rows.", n_rows)));
	map = palloc(sizeof(int) * Max(ncat, 1));
	pc->vocab = text_vocab_build(ncat, dsin->categories, df, tf, n_rows,
								 Max(min_docs, 1), max_docs, pc->max_features, map);
	if (pc->vocab->n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("text column \"%s\" has no term for its vocabulary", in->name),
				 errdetail("The " INT64_FORMAT " training rows (" INT64_FORMAT " NULL) have %d distinct terms; none is in at least " INT64_FORMAT " and at most " INT64_FORMAT " documents.",
						   n_rows, nulls, ncat, Max(min_docs, 1), max_docs),
				 errhint("Lower \"min_df\" or raise \"max_df\"; with config 'english' a text of stop words only has no terms.")));
	pc->n_out = pc->vocab->n;
	if (pc->text == TEXT_TFIDF)
	{
		pc->idf = palloc(sizeof(double) * pc->n_out);
		for (int j = 0; j < pc->n_out; j++)
			pc->idf[j] = text_vocab_idf(pc->vocab, j, pc->smooth_idf);
	}
	p->fit_map[i] = map;
	p->fit_ncodes[i] = ncat;
	pfree(df);
	pfree(tf);
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

Preprocessor *
preprocess_fit(const Dataset *ds, const int64 *rows, int64 n_rows,
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
		if (p->inputs[i].kind == INPUT_CATEGORICAL)
			fit_categorical(p, i, ds, &ds->inputs[i], rows, n_rows, max_categories, hash_buckets);
		else if (p->inputs[i].kind == INPUT_TEXT)
			fit_text(p, i, ds, &ds->inputs[i], rows, n_rows);
	}
	fit_numeric(p, ds, rows, n_rows);

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
			null_is_error(p->inputs[p->num_input[k]].name);
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
	for (int k = 0; k < p->n_num; k++)
		out[p->num_out[k]] = numeric_feature(p, k, row[src[k]]);
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
			null_is_error(p->inputs[i].name);
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

/* Sort n entries of a row by column (a quicksort for long rows, insertion below 16). */
static void
sort_entries(int32 *idx, double *val, int n)
{
	while (n > 16)
	{
		int32		a = idx[0],
					b = idx[n / 2],
					c = idx[n - 1];
		int32		pivot = (a < b) ? ((b < c) ? b : ((a < c) ? c : a)) : ((a < c) ? a : ((b < c) ? c : b));
		int			i = 0,
					j = n - 1;

		while (i <= j)
		{
			while (idx[i] < pivot)
				i++;
			while (idx[j] > pivot)
				j--;
			if (i <= j)
			{
				int32		ti = idx[i];
				double		tv = val[i];

				idx[i] = idx[j];
				val[i] = val[j];
				idx[j] = ti;
				val[j] = tv;
				i++;
				j--;
			}
		}
		/* recurse into the smaller part, loop on the larger */
		if (j + 1 < n - i)
		{
			sort_entries(idx, val, j + 1);
			idx += i;
			val += i;
			n -= i;
		}
		else
		{
			sort_entries(idx + i, val + i, n - i);
			n = j + 1;
		}
	}
	for (int k = 1; k < n; k++)
	{
		int32		ti = idx[k];
		double		tv = val[k];
		int			m = k - 1;

		while (m >= 0 && idx[m] > ti)
		{
			idx[m + 1] = idx[m];
			val[m + 1] = val[m];
			m--;
		}
		idx[m + 1] = ti;
		val[m + 1] = tv;
	}
}

/*
 * Text input i's features for raw slot value x, appended to out: its terms
 * from the fitted Dataset ds (x is the row's document), or from terms
 * (own ids).
 */
static void
apply_text(const Preprocessor *p, int i, double x, const Dataset *ds, const TextTerms *terms,
		   SparseRow *out)
{
	const PrepColumn *pc = &p->cols[i];
	const int32 *ids = NULL;
	const int32 *counts = NULL;
	const int  *map = NULL;
	int			map_n = 0;
	int64		n = 0;
	int			start = out->nnz;
	int			m;
	bool		sorted = true;
	double		norm = 0.0;

	if (isnan(x))
	{
		if (unlikely(pc->impute == IMPUTE_ERROR))
			null_is_error(p->inputs[i].name);
		return;					/* no words */
	}
	if (ds != NULL)
	{
		const InputColumn *d = &ds->inputs[i];
		int64		doc = (int64) x;

		if (i >= ds->n_inputs || d->kind != INPUT_TEXT || d->doc_start == NULL ||
			!(x >= 0 && x < (double) ds->n_rows))
			elog(ERROR, "galaxy: text input \"%s\" does not match the Dataset row", p->inputs[i].name);
		ids = d->doc_terms + d->doc_start[doc];
		counts = d->doc_counts + d->doc_start[doc];
		n = d->doc_start[doc + 1] - d->doc_start[doc];
		if (pc->text != TEXT_HASHING)
		{
			if (p->fit_map == NULL || p->fit_map[i] == NULL)
				elog(ERROR, "galaxy: dataset terms need the preprocessor fitted on that dataset");
			map = p->fit_map[i];
			map_n = p->fit_ncodes[i];
		}
	}
	else if (terms != NULL)
	{
		ids = terms[i].ids;
		counts = terms[i].counts;
		n = terms[i].n;
	}
	sparse_row_reserve(out, n);
	for (int64 k = 0; k < n; k++)
	{
		int32		t = ids[k];
		int			own;

		if (map)
			own = (t >= 0 && t < map_n) ? map[t] : -1;
		else
			own = (t >= 0 && t < pc->n_out) ? t : -1;
		if (own < 0 || counts[k] <= 0)
			continue;			/* out of the vocabulary */
		if (out->nnz > start && out->idx[out->nnz - 1] >= pc->out_offset + own)
			sorted = false;
		sparse_row_push(out, pc->out_offset + own, (double) counts[k]);
	}
	if (!sorted)
	{
		/* sort the terms by feature, and add up the counts of a feature seen twice */
		sort_entries(out->idx + start, out->val + start, out->nnz - start);
		m = start;
		for (int k = start; k < out->nnz; k++)
		{
			if (k > start && out->idx[k] == out->idx[m - 1])
				out->val[m - 1] += out->val[k];
			else
			{
				out->idx[m] = out->idx[k];
				out->val[m] = out->val[k];
				m++;
			}
		}
		out->nnz = m;
	}
	/* term frequency, times the idf, then the norm */
	for (int k = start; k < out->nnz; k++)
	{
		double		v = out->val[k];

		if (pc->text == TEXT_BINARY)
			v = 1.0;
		else if (pc->sublinear_tf)
			v = 1.0 + log(v);
		if (pc->text == TEXT_TFIDF)
			v *= pc->idf[out->idx[k] - pc->out_offset];
		out->val[k] = v;
		norm += pc->norm == NORM_L2 ? v * v : fabs(v);
	}
	if (pc->norm != NORM_NONE && norm > 0.0)
	{
		double		scale = pc->norm == NORM_L2 ? 1.0 / sqrt(norm) : 1.0 / norm;

		for (int k = start; k < out->nnz; k++)
			out->val[k] *= scale;
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
				apply_text(p, i, raw[in->raw_offset], ds, terms, out);
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
					null_is_error(p->inputs[i].name);
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
/* The text inputs of a call site: their tokenizers and the terms of the row converted last. */
typedef struct PrepTextConv
{
	const Preprocessor *p;
	TextTokenizer **tk;			/* per input; NULL for an input that is not text */
	TextTerms  *terms;			/* per input */
	int32	  **ids;			/* per input: the buffers terms[i] points into */
	int32	  **counts;
	int		   *cap;
	int32	   *lexemes;		/* own ids of the lexemes of the text being read */
	int			n_lexemes;
	int			cap_lexemes;
	int			input;			/* the text input being read */
	/* per input: the own id of each lexeme id of its tokenizer (-1: not yet known, -2: none) */
	int32	  **memo;
	int		   *memo_cap;
	uint64	   *memo_gen;
} PrepTextConv;

struct PrepDatumConv
{
	bool		all_float8;		/* every input a float8 column for a numeric input */
	int		   *kind;			/* data_classify_type() of each input's type */
	ScalarConv *conv;
	CategoryConv *cat;
	Oid		   *types;
	PrepTextConv *text;			/* NULL without text inputs */
};

/* Set up the tokenizers of the text inputs (their configurations must exist). */
static PrepTextConv *
text_conv_create(const Preprocessor *p)
{
	PrepTextConv *tc = palloc0(sizeof(PrepTextConv));
	int			n = Max(p->n_inputs, 1);

	tc->p = p;
	tc->tk = palloc0(sizeof(TextTokenizer *) * n);
	tc->terms = palloc0(sizeof(TextTerms) * n);
	tc->ids = palloc0(sizeof(int32 *) * n);
	tc->counts = palloc0(sizeof(int32 *) * n);
	tc->cap = palloc0(sizeof(int) * n);
	tc->memo = palloc0(sizeof(int32 *) * n);
	tc->memo_cap = palloc0(sizeof(int) * n);
	tc->memo_gen = palloc0(sizeof(uint64) * n);
	for (int i = 0; i < p->n_inputs; i++)
	{
		if (p->inputs[i].kind != INPUT_TEXT)
			continue;
		tc->tk[i] = text_tokenizer_create(text_config_oid(p->cols[i].text_config));
		tc->memo_cap[i] = 1024;
		tc->memo[i] = palloc(sizeof(int32) * tc->memo_cap[i]);
		memset(tc->memo[i], 0xFF, sizeof(int32) * tc->memo_cap[i]);	/* -1 */
		tc->memo_gen[i] = text_tokenizer_generation(tc->tk[i]);
		tc->cap[i] = 64;
		tc->ids[i] = palloc(sizeof(int32) * tc->cap[i]);
		tc->counts[i] = palloc(sizeof(int32) * tc->cap[i]);
	}
	tc->cap_lexemes = 256;
	tc->lexemes = palloc(sizeof(int32) * tc->cap_lexemes);
	return tc;
}

/* The own id of a lexeme of text input i: vocabulary index or bucket, -1 for none. */
static int32
text_own_id(const PrepColumn *pc, const char *lexeme, int len)
{
	if (pc->text == TEXT_HASHING)
		return len <= TEXT_MAX_TERM_BYTES ? text_hash_bucket(lexeme, len, pc->n_out) : -1;
	return text_vocab_lookup(pc->vocab, lexeme, len);
}

/* One lexeme of the text being converted: its own id (vocabulary index or bucket), if any. */
static void
text_conv_lexeme(void *arg, const char *lexeme, int len, int position, int lexeme_id)
{
	PrepTextConv *tc = (PrepTextConv *) arg;
	int			i = tc->input;
	const PrepColumn *pc = &tc->p->cols[i];
	int32		id;

	if (lexeme_id < 0)
		id = text_own_id(pc, lexeme, len);
	else
	{
		/* a lexeme id seen before has the same own id */
		if (tc->memo_gen[i] != text_tokenizer_generation(tc->tk[i]))
		{
			memset(tc->memo[i], 0xFF, sizeof(int32) * tc->memo_cap[i]);
			tc->memo_gen[i] = text_tokenizer_generation(tc->tk[i]);
		}
		if (lexeme_id >= tc->memo_cap[i])
		{
			int			cap = Max(tc->memo_cap[i] * 2, lexeme_id + 1);

			tc->memo[i] = repalloc_huge(tc->memo[i], sizeof(int32) * cap);
			memset(tc->memo[i] + tc->memo_cap[i], 0xFF, sizeof(int32) * (cap - tc->memo_cap[i]));
			tc->memo_cap[i] = cap;
		}
		if (tc->memo[i][lexeme_id] == -1)
		{
			id = text_own_id(pc, lexeme, len);
			tc->memo[i][lexeme_id] = id < 0 ? -2 : id;
		}
		id = tc->memo[i][lexeme_id];
	}
	if (id < 0)
		return;					/* not in the vocabulary */
	if (tc->n_lexemes == tc->cap_lexemes)
	{
		tc->cap_lexemes *= 2;
		tc->lexemes = repalloc_huge(tc->lexemes, sizeof(int32) * tc->cap_lexemes);
	}
	tc->lexemes[tc->n_lexemes++] = id;
}

/* qsort comparator for int32. */
static int
cmp_int32(const void *a, const void *b)
{
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	return (x > y) - (x < y);
}

/* Tokenise text input i's value into tc->terms[i] (distinct own ids, ascending, with counts). */
static void
text_conv_value(PrepTextConv *tc, int i, Datum d)
{
	text	   *t = DatumGetTextPP(d);
	TextTerms  *tt = &tc->terms[i];
	int			n = 0;

	tc->input = i;
	tc->n_lexemes = 0;
	text_tokenize(tc->tk[i], VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), text_conv_lexeme, tc);
	if ((Pointer) t != DatumGetPointer(d))
		pfree(t);
	if (tc->n_lexemes > 1)
		qsort(tc->lexemes, tc->n_lexemes, sizeof(int32), cmp_int32);
	if (tc->n_lexemes > tc->cap[i])
	{
		tc->cap[i] = tc->n_lexemes;
		tc->ids[i] = repalloc_huge(tc->ids[i], sizeof(int32) * tc->cap[i]);
		tc->counts[i] = repalloc_huge(tc->counts[i], sizeof(int32) * tc->cap[i]);
	}
	for (int k = 0; k < tc->n_lexemes; k++)
	{
		if (k == 0 || tc->lexemes[k] != tc->lexemes[k - 1])
		{
			tc->ids[i][n] = tc->lexemes[k];
			tc->counts[i][n] = 0;
			n++;
		}
		if (tc->counts[i][n - 1] < PG_INT32_MAX)
			tc->counts[i][n - 1]++;
	}
	tt->n = n;
	tt->ids = tc->ids[i];
	tt->counts = tc->counts[i];
}

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
	dc->text = p->n_text > 0 ? text_conv_create(p) : NULL;
	return dc;
}

/* The text inputs' terms of the row converted last. */
const TextTerms *
preprocess_datum_conv_terms(const PrepDatumConv *dc)
{
	return dc->text ? dc->text->terms : NULL;
}

/* Free what preprocess_datum_conv() allocated. */
void
preprocess_datum_conv_free(PrepDatumConv *dc)
{
	if (dc->text)
	{
		PrepTextConv *tc = dc->text;

		for (int i = 0; i < tc->p->n_inputs; i++)
			if (tc->tk[i])
			{
				text_tokenizer_free(tc->tk[i]);
				pfree(tc->ids[i]);
				pfree(tc->counts[i]);
				pfree(tc->memo[i]);
			}
		pfree(tc->tk);
		pfree(tc->memo);
		pfree(tc->memo_cap);
		pfree(tc->memo_gen);
		pfree(tc->terms);
		pfree(tc->ids);
		pfree(tc->counts);
		pfree(tc->cap);
		pfree(tc->lexemes);
		pfree(tc);
	}
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
				dc->text->terms[i].n = 0;
			continue;
		}
		switch (in->kind)
		{
			case INPUT_TEXT:
				if (kind != INPUT_CATEGORICAL || cat != CAT_TEXT)
					type_mismatch(in, types[i]);
				text_conv_value(dc->text, i, values[i]);
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
		{
			mw_u8(w, (uint8) pc->text);
			mw_u8(w, (uint8) pc->norm);
			mw_u8(w, (uint8) ((pc->sublinear_tf ? 1 : 0) | (pc->smooth_idf ? 2 : 0)));
			mw_str(w, pc->text_config);
			mw_i32(w, pc->n_out);
			mw_i64(w, pc->n_docs);
			mw_f64(w, pc->min_df);
			mw_f64(w, pc->max_df);
			mw_i32(w, pc->max_features);
			if (pc->text != TEXT_HASHING)
				text_vocab_write(pc->vocab, w);
		}
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

/* Read and validate the fitted transform of a text input. */
static void
read_text_column(ModelReader *r, const InputColumn *in, PrepColumn *pc)
{
	uint8		mode = mr_u8(r);
	uint8		norm = mr_u8(r);
	uint8		flags = mr_u8(r);

	if (mode < TEXT_TFIDF || mode > TEXT_HASHING)
		mr_corrupt("text input \"%s\" has unknown mode %u", in->name, mode);
	if (norm > NORM_L1)
		mr_corrupt("text input \"%s\" has unknown norm %u", in->name, norm);
	if (flags & ~3)
		mr_corrupt("text input \"%s\" has unknown flags 0x%02X", in->name, flags);
	if (pc->scale != SCALE_NONE || (pc->impute != IMPUTE_ZERO && pc->impute != IMPUTE_ERROR))
		mr_corrupt("text input \"%s\" is scaled or imputed", in->name);
	pc->enc = ENC_NONE;
	pc->missing_code = -1;
	pc->text = (TextMode) mode;
	pc->norm = (TextNorm) norm;
	pc->sublinear_tf = (flags & 1) != 0;
	pc->smooth_idf = (flags & 2) != 0;
	pc->text_config = mr_str(r, PREP_MAX_NAME);
	if (pc->text_config == NULL || pc->text_config[0] == '\0')
		mr_corrupt("text input \"%s\" has no text search configuration", in->name);
	pc->n_out = mr_i32_range(r, 1, mode == TEXT_HASHING ? PREP_TEXT_MAX_HASH : MODEL_MAX_FEATURES,
							 "text feature count");
	pc->n_docs = mr_i64(r);
	if (pc->n_docs < 1)
		mr_corrupt("text input \"%s\" was fitted on " INT64_FORMAT " documents", in->name, pc->n_docs);
	pc->min_df = mr_f64_finite(r, "min_df");
	pc->max_df = mr_f64_finite(r, "max_df");
	pc->max_features = mr_i32_range(r, 0, MODEL_MAX_FEATURES, "max_features");
	if (mode == TEXT_HASHING)
		return;
	pc->vocab = text_vocab_read(r, MODEL_MAX_FEATURES);
	if (pc->vocab->n != pc->n_out || pc->vocab->n_docs != pc->n_docs)
		mr_corrupt("text input \"%s\" has a vocabulary of %d terms from " INT64_FORMAT " documents for %d features from " INT64_FORMAT,
				   in->name, pc->vocab->n, pc->vocab->n_docs, pc->n_out, pc->n_docs);
	if (mode == TEXT_TFIDF)
	{
		pc->idf = palloc(sizeof(double) * pc->n_out);
		for (int j = 0; j < pc->n_out; j++)
			pc->idf[j] = text_vocab_idf(pc->vocab, j, pc->smooth_idf);
	}
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
			read_text_column(r, in, pc);
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

#define DESCRIBE_TOP_TERMS		20

/* qsort_arg comparator of vocabulary indexes: more documents first, then the term. */
static int
cmp_by_df(const void *a, const void *b, void *arg)
{
	const TextVocab *v = (const TextVocab *) arg;
	int			i = *(const int *) a;
	int			j = *(const int *) b;

	if (v->df[i] != v->df[j])
		return v->df[i] > v->df[j] ? -1 : 1;
	return (i > j) - (i < j);
}

/* The keys of a text input in galaxy.describe(). */
static void
describe_text(JsonbParseState **st, const PrepColumn *pc)
{
	jb_kv_str(st, "text", text_names[pc->text]);
	jb_kv_str(st, "config", pc->text_config);
	jb_kv_str(st, "norm", norm_names[pc->norm]);
	jb_kv_num(st, "training_documents", (double) pc->n_docs);
	if (pc->text == TEXT_HASHING)
	{
		jb_kv_num(st, "hash_features", pc->n_out);
		return;
	}
	jb_kv_num(st, "vocabulary_size", pc->n_out);
	jb_kv_num(st, "min_df", pc->min_df);
	jb_kv_num(st, "max_df", pc->max_df);
	if (pc->max_features > 0)
		jb_kv_num(st, "max_features", pc->max_features);
	if (pc->text == TEXT_TFIDF)
	{
		jb_kv_bool(st, "sublinear_tf", pc->sublinear_tf);
		jb_kv_bool(st, "smooth_idf", pc->smooth_idf);
	}
	{
		int		   *order = palloc(sizeof(int) * pc->n_out);
		int			n = Min(pc->n_out, DESCRIBE_TOP_TERMS);

		for (int j = 0; j < pc->n_out; j++)
			order[j] = j;
		qsort_arg(order, pc->n_out, sizeof(int), cmp_by_df, pc->vocab);
		jb_key(st, "most_frequent_terms");
		pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
		for (int j = 0; j < n; j++)
			jb_str(st, WJB_ELEM, pc->vocab->terms[order[j]]);
		pushJsonbValue(st, WJB_END_ARRAY, NULL);
		pfree(order);
	}
}

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
		jb_kv_str(&st, "impute", impute_names[pc->impute]);
		if (in->kind == INPUT_TEXT)
			describe_text(&st, pc);
		else if (in->kind == INPUT_CATEGORICAL)
		{
			jb_kv_str(&st, "encoding", encoding_names[pc->enc]);
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

			jb_kv_str(&st, "scale", scale_names[pc->scale]);
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
