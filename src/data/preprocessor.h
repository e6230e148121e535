/*
 * preprocessor.h — the Preprocessor's internals, shared by the two files
 * that build and apply it: preprocess.c (options, numeric, boolean, array
 * and categorical inputs, the whole row, serialisation) and
 * preprocess_text.c (text inputs: vocabulary, TF-IDF, hashing, the
 * tokenised value of a row).  Everyone else sees data/dataset.h.
 */
#ifndef GALAXY_PREPROCESSOR_H
#define GALAXY_PREPROCESSOR_H

#include "algo/sparse.h"
#include "data/dataset.h"
#include "model/modelio.h"
#include "text/vocab.h"
#include "utils/jsonb.h"

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
#define PREP_TEXT_MAX_LENGTH	4096	/* "sequence": most token ids per row */
#define PREP_TEXT_DEFAULT_LENGTH 128
#define PREP_TEXT_DEFAULT_SEQ_VOCAB 20000	/* "sequence": default max_features */

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
	TEXT_HASHING = 4,
	TEXT_SEQUENCE = 5			/* token ids in text order, for sequence models */
} TextMode;

typedef enum TextNorm
{
	NORM_NONE = 0,
	NORM_L2 = 1,
	NORM_L1 = 2
} TextNorm;

/* Names of the enums' values, as options and describe() spell them. */
extern const char *const prep_scale_names[];
extern const char *const prep_impute_names[];
extern const char *const prep_encoding_names[];
extern const char *const prep_text_names[];
extern const char *const prep_norm_names[];

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
	TextVocab  *vocab;			/* tfidf, counts, binary: n_out terms; sequence: any number */
	double	   *idf;			/* tfidf: per term */
	int64		n_docs;			/* training documents */
	double		min_df;			/* as configured: a count, or a fraction below 1 */
	double		max_df;			/* as configured: a fraction up to 1, or a count */
	int			max_features;	/* as configured, 0 = no limit */
	/* sequence: n_out = max_length features, the token id at each position (0: none) */
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
	bool		num_unscaled;	/* every slot's center is +0 and 1 / scale is 1 */
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
	bool		has_max_length;
	int			max_length;
} PrepOptions;

/* ERROR for a NULL value in a column whose impute option is "error" (preprocess.c). */
extern void prep_null_is_error(const char *colname) pg_attribute_noreturn();

/* ----- text inputs (preprocess_text.c) ----- */

/* ERROR 22023 unless a column's text options fit together (and its other options fit text). */
extern void prep_text_check_options(const PrepOptions *o, const char *where);
/* Resolve the fitted settings of a text input from its options (g: the global ones). */
extern void prep_text_resolve(const PrepOptions *g, const PrepOptions *c, PrepColumn *pc);
/* Fit text input i on the training rows: its vocabulary (and idf), or nothing for hashing. */
extern void prep_text_fit(Preprocessor *p, int i, const Dataset *ds, const InputColumn *dsin,
						  const int64 *rows, int64 n_rows);
/*
 * Append text input i's features for its raw slot value x to out: the terms
 * come from the fitted Dataset ds (x is the row's document), or from terms.
 */
extern void prep_text_apply(const Preprocessor *p, int i, double x, const Dataset *ds,
							const TextTerms *terms, SparseRow *out);
/* Serialise / read and validate a text input's fitted transform. */
extern void prep_text_write(const PrepColumn *pc, ModelWriter *w);
extern void prep_text_read(ModelReader *r, const InputColumn *in, PrepColumn *pc);
/* The keys of a text input in galaxy.describe(). */
extern void prep_text_describe(JsonbParseState **st, const PrepColumn *pc);

/* The text inputs of a call site of preprocess_datums_to_raw_conv(). */
typedef struct PrepTextConv PrepTextConv;

/* Tokenizers for the preprocessor's text inputs (ERROR 42704 if a configuration is gone). */
extern PrepTextConv *prep_text_conv_create(const Preprocessor *p);
/* Tokenise text input i's value d into the call site's terms. */
extern void prep_text_conv_value(PrepTextConv *tc, int i, Datum d);
/* Text input i is NULL in the row being converted: no terms. */
extern void prep_text_conv_null(PrepTextConv *tc, int i);
/* The terms of the row converted last, indexed by input. */
extern const TextTerms *prep_text_conv_terms(const PrepTextConv *tc);
extern void prep_text_conv_free(PrepTextConv *tc);

#endif							/* GALAXY_PREPROCESSOR_H */
