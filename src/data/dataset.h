/*
 * dataset.h — relation → Dataset loading, column profiles, splits and the
 * preprocessor that is fitted on the training split and stored in the model.
 *
 * Raw rows: every input column maps to 'width' consecutive raw slots
 * (numeric/boolean: 1; fixed-length float4[]/float8[]: the array length;
 * categorical: 1 slot holding the category code, an index into the column's
 * dictionary; text: 1 slot holding the row's document number in the column's
 * store of terms).  NULL is stored as NaN in the raw row.  The preprocessor
 * turns a raw row into the n_features doubles an algorithm sees (imputation,
 * scaling, one-hot / hashing) or, when an input is text, into a sparse row
 * (bag of words: TF-IDF, counts or hashed; see preprocess.c).
 */
#ifndef GALAXY_DATASET_H
#define GALAXY_DATASET_H

#include "algo/algo.h"
#include "algo/sparse.h"
#include "model/modelio.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

typedef enum InputKind
{
	INPUT_NUMERIC = 1,			/* int2/4/8, float4/8, numeric */
	INPUT_BOOLEAN = 2,			/* bool → 0/1 */
	INPUT_CATEGORICAL = 3,		/* text, varchar, bpchar, name, enum */
	INPUT_ARRAY = 4,			/* float4[]/float8[] of one fixed length */
	INPUT_TEXT = 5				/* text/varchar/char configured as text: a bag of words */
} InputKind;

typedef struct InputColumn
{
	char	   *name;
	InputKind	kind;
	Oid			typid;			/* type at load time (not serialised) */
	char	   *typname;		/* format_type of the column, serialised */
	int			width;			/* raw slots: 1, or the array length */
	int			raw_offset;		/* first raw slot of this column */
	/* categorical dictionary (built while loading; index = code); text: the terms */
	int			n_categories;
	char	  **categories;
	int64	   *category_counts;

	/*
	 * text (INPUT_TEXT): the text search configuration (schema-qualified
	 * name) and, per row of the Dataset, the distinct terms of its text with
	 * their counts: entries doc_start[r] .. doc_start[r + 1] of
	 * doc_terms/doc_counts.  A term is a code of the column's term dictionary
	 * (categories), or its hash bucket when text_buckets > 0 (no dictionary).
	 * The row's raw slot holds r (NaN: NULL).  Only the loader's Dataset has
	 * the store; a fitted preprocessor keeps its vocabulary instead.  A
	 * column read as a sequence (text_sequence > 0) keeps instead the terms
	 * of its first text_sequence words in text order, repeats included
	 * (doc_counts all 1).
	 */
	char	   *text_config;
	int			text_buckets;
	int			text_sequence;
	int64	   *doc_start;
	int32	   *doc_terms;
	int32	   *doc_counts;
} InputColumn;

/*
 * Rows loaded as bin codes (LoadOptions.max_bins, for an algorithm with
 * binned_input): a pass over a seeded sample of the relation's blocks
 * places each raw slot's bin edges, then the scan stores one byte per value
 * — code c for edges[c - 1] < x <= edges[c], DATASET_BIN_NULL for NULL —
 * and, for the rows of the sampled blocks, their raw values as well: the
 * sample the preprocessor is fitted on (src/data/binned.c).
 */
#define DATASET_BIN_NULL 255

typedef struct DatasetBins
{
	int			max_bins;		/* what the edges were placed for (<= 255 value codes) */
	uint8	   *codes;			/* n_raw x n_rows, column-major */
	int		   *n_edges;		/* per raw slot */
	double	   *edges;			/* n_raw x ALGO_MAX_BIN_EDGES, raw units */
	bool	   *has_null;		/* per raw slot: some row is NULL there */
	int64		n_sample;
	double	   *sample;			/* n_sample x n_raw raw rows, NaN = NULL */
	int64	   *sample_row;		/* each sample row's row number, ascending */
} DatasetBins;

typedef struct Dataset
{
	Oid			relid;
	int			n_inputs;
	InputColumn *inputs;
	int			n_raw;			/* width of a raw row */
	int64		n_rows;
	/*
	 * The rows, n_rows x n_raw, row-major, NaN = NULL: in float64 (raw), or,
	 * when loaded for an algorithm that computes in float32, in float32
	 * (raw32) at half the memory.  Exactly one is set; read them through
	 * dataset_raw_row() / dataset_raw_value().
	 */
	double	   *raw;
	float	   *raw32;

	/* or, loaded as bin codes, neither: see DatasetBins */
	DatasetBins *bins;

	/* target (absent for clustering: target == NULL, y == NULL) */
	char	   *target;
	Oid			target_type;
	char	   *target_typname;
	GalaxyTask	task;
	double	   *y;				/* value, or class index 0..n_classes-1 */
	int			n_classes;
	char	  **class_labels;	/* text form of each class, in sorted order */
	int64		skipped_null_labels;
	char	   *schema_fingerprint; /* hex digest of input names/types/order */
	char	   *data_fingerprint;	/* hex digest of the loaded values */
	int64		estimated_rows; /* LoadOptions.schema: the rows the relation may hold, -1 unknown */
} Dataset;

/* A column configured as text in the preprocess options (preprocess_text_columns). */
typedef struct TextColumnSpec
{
	char	   *name;
	char	   *config;			/* text search configuration, as given */
	int			hash_buckets;	/* "hashing": its n_features; 0: a vocabulary */
	int			max_width;		/* most features it can yield (max_features, n_features); 0: no bound */
	int			sequence_length;	/* "sequence": the first this many words, in order; 0: a bag of words */
} TextColumnSpec;

typedef struct LoadOptions
{
	Oid			relid;
	const char *target;			/* NULL: no target (clustering) */
	List	   *features;		/* List of String nodes; NIL = every column but the target */
	GalaxyTask	task;			/* 0 = infer from the target column */
	bool		impute_error;	/* NULL feature → ERROR instead of imputing */
	bool		check_only;		/* resolve columns, types, privileges; read no row; return NULL */
	bool		float32;		/* store the rows in float32 (Dataset.raw32) */

	/*
	 * > 0: store the rows as bin codes for at most this many bins
	 * (Dataset.bins) when the relation is a large enough heap table read
	 * directly with numeric, boolean and array features only; else as
	 * usual.  seed picks the blocks the edges are placed on.
	 */
	int			max_bins;
	uint64		seed;
	int			n_text;			/* feature columns to load as text */
	const TextColumnSpec *text;
	/* check_only: receives the names (String nodes) of the features of a text type, or NULL */
	List	  **text_typed;

	/*
	 * check_only: receives the relation's Dataset without rows (inputs,
	 * target, task from the target's type, schema fingerprint), or NULL:
	 * what the streaming solver (src/scale/stream.c) trains from.
	 */
	struct Dataset **schema;
} LoadOptions;

/*
 * Load a relation (table, view, matview, partitioned table) as the calling
 * role into a Dataset.  Checks SELECT privilege, column types, memory against
 * galaxy.max_training_memory before allocating; NaN/Inf feature → ERROR
 * naming the column; NULL label → row skipped (NOTICE with the count);
 * empty relation / one class only → ERROR.
 */
extern Dataset *dataset_load(const LoadOptions *opts);

/*
 * Whether a relation is a Citus table (distributed, reference or
 * Citus-managed local): its rows live in shards, and the coordinator's own
 * heap is an empty shell, so it must be read through SQL.
 */
extern bool dataset_is_distributed(Oid relid);

/*
 * Raw row i as doubles: a pointer into ds->raw, or 'buf' (n_raw doubles)
 * filled from ds->raw32.
 */
static inline const double *
dataset_raw_row(const Dataset *ds, int64 i, double *buf)
{
	const float *src;

	if (ds->raw)
		return ds->raw + i * (int64) ds->n_raw;
	src = ds->raw32 + i * (int64) ds->n_raw;
	for (int j = 0; j < ds->n_raw; j++)
		buf[j] = (double) src[j];
	return buf;
}

/* Raw slot s of row i as a double. */
static inline double
dataset_raw_value(const Dataset *ds, int64 i, int s)
{
	return ds->raw ? ds->raw[i * (int64) ds->n_raw + s] : (double) ds->raw32[i * (int64) ds->n_raw + s];
}

/*
 * A Dataset of the rows loaded as bin codes (ds->bins): the sample of raw
 * rows, for what needs raw values (preprocess_fit, the drift profile), and
 * in *rows (*n of them) its rows that are among the n_train training rows
 * train_idx (ascending).  Shares ds's inputs, labels and sample.
 */
extern Dataset *dataset_bins_sample(const Dataset *ds, const int64 *train_idx, int64 n_train,
									int64 **rows, int64 *n);

/*
 * The bin codes of ds turned into preprocessed features (prep fitted on
 * dataset_bins_sample's rows; numeric features only): the training rows'
 * codes (train_idx, ascending) compacted in place into *train, their labels
 * moved to the front of ds->y; the test rows (test_idx) decoded into *X_test
 * (n_test x p, a value of each code's bin: every tree threshold on a bin
 * edge sends it where it sends the row) and *y_test.  ds->bins no longer
 * owns the codes.
 */
extern void dataset_bins_split(Dataset *ds, const struct Preprocessor *prep,
							   const int64 *train_idx, int64 n_train,
							   const int64 *test_idx, int64 n_test,
							   BinnedFeatures *train, double **X_test, double **y_test);

/* Infer the task from the target's type and values. */
extern GalaxyTask dataset_infer_task(Oid target_type, int64 n_distinct, int64 n_rows);

/* Splits (deterministic by seed).  Index arrays are palloc'd. */
extern void split_holdout(const Dataset *ds, double test_size, uint64 seed,
						  int64 **train_idx, int64 *n_train,
						  int64 **test_idx, int64 *n_test);
/* fold_of[i] in 0..k-1 for every row; stratified for classification. */
extern int *split_kfold(const Dataset *ds, int k, uint64 seed);

/* Column profiles (create_dataset, galaxy.profile, drift baseline). */
extern Jsonb *dataset_profile_jsonb(Oid relid, List *columns);

/* ----- preprocessor ----- */

typedef struct Preprocessor Preprocessor;

/*
 * Fit on the given training rows.  'config' is the user's preprocess jsonb
 * (may be NULL): {"scale": "standard|minmax|none", "impute": "mean|median|
 * most_frequent|zero|error", "max_categories": N, "hash_buckets": N,
 * "columns": {"col": {...same keys..., or for a text column "text":
 * "tfidf|counts|binary|hashing", "config", "min_df", "max_df",
 * "max_features", "n_features", "norm", "sublinear_tf", "smooth_idf"}}}.
 * default_scale is the algorithm's preference when "scale" is not given.
 */
extern Preprocessor *preprocess_fit(const Dataset *ds, const int64 *rows, int64 n_rows,
									Jsonb *config, bool default_scale);

/* Statistics of one numeric raw slot over the training rows (present values only). */
typedef struct PrepSlotStats
{
	double		count;
	double		mean;
	double		sd;				/* population standard deviation */
	double		min;
	double		max;
} PrepSlotStats;

/*
 * The same fit from per-raw-slot statistics of n_rows training rows (the
 * streaming solver): ds without rows (LoadOptions.schema), numeric and
 * boolean inputs only (ERROR 0A000 otherwise), imputation mean, zero or
 * error.
 */
extern Preprocessor *preprocess_fit_stats(const Dataset *ds, const PrepSlotStats *stats, int64 n_rows,
										  Jsonb *config, bool default_scale);
/*
 * The columns 'config' makes text (array of *n, palloc'd; NULL when none),
 * with what the loader needs; ERROR 22023 on a malformed text option.
 */
extern TextColumnSpec *preprocess_text_columns(Jsonb *config, int *n);
/*
 * 'config' (may be NULL) with every column of 'columns' (String nodes) made
 * text in the given mode ("sequence", "tfidf", ...) unless its options
 * already say "text"; a new jsonb.  For task 'nlp'.
 */
extern Jsonb *preprocess_text_defaults(Jsonb *config, List *columns, const char *mode);
extern int	preprocess_n_features(const Preprocessor *p);
extern int	preprocess_n_inputs(const Preprocessor *p);
extern int	preprocess_n_raw(const Preprocessor *p);
/* Input column i (name, kind, width, typname) of the fitted schema. */
extern const InputColumn *preprocess_input(const Preprocessor *p, int i);
/* Name of output feature j (e.g. "color=red", "pixels[3]"). */
extern const char *preprocess_feature_name(const Preprocessor *p, int j);
/* Transform rows of a Dataset into an n x n_features row-major matrix. */
extern void preprocess_transform(const Preprocessor *p, const Dataset *ds,
								 const int64 *rows, int64 n, double *out);
/*
 * Transform one raw row: a row of the Dataset the preprocessor was fitted on,
 * or one filled by preprocess_datums_to_raw_conv() (NaN = missing; categorical
 * slot = that Dataset's code, -1 unseen, or the preprocessor's own code as
 * -(code + 2); see preprocess.c).  Allocation-free.
 */
extern void preprocess_apply_raw(const Preprocessor *p, const double *raw, double *out);
/*
 * Sparse features (a text input is a bag of words): preprocess_apply_raw()
 * and preprocess_transform() are then not used; rows become SparseRows.
 */
extern bool preprocess_is_sparse(const Preprocessor *p);

/*
 * The terms of one text value in the preprocessor's own indexes (vocabulary
 * index or hash bucket, relative to the input's first feature): n distinct
 * ids, ascending, with their counts.  For an input read as a sequence: its
 * first words' vocabulary indexes in text order (negative: out of the
 * vocabulary), each with count 1.
 */
typedef struct TextTerms
{
	int			n;
	const int32 *ids;
	const int32 *counts;
} TextTerms;

/*
 * Transform one raw row into sparse features (columns ascending, zeros left
 * out) in out, replacing what it held.  preprocess_apply_sparse_dataset:
 * a row of the Dataset the preprocessor was fitted on (text from its
 * store).  preprocess_apply_sparse: text input i's terms in terms[i] (NULL,
 * or an entry with n = 0: no words), e.g. preprocess_datum_conv_terms().
 * Allocation-free but for growing out.
 */
extern void preprocess_apply_sparse_dataset(const Preprocessor *p, const Dataset *ds,
											const double *raw, SparseRow *out);
extern void preprocess_apply_sparse(const Preprocessor *p, const double *raw,
									const TextTerms *terms, SparseRow *out);

/*
 * Token ids (vocabulary terms + 2) of the text input read as a sequence
 * ("text": "sequence"), or 0: the features are then those ids (TrainData.n_tokens).
 */
extern int	preprocess_n_tokens(const Preprocessor *p);

/* The input's features: first (a column index) and count. */
extern void preprocess_input_features(const Preprocessor *p, int i, int *first, int *n);

/*
 * Map n_features preprocessed values back towards the input columns' units:
 * numeric, boolean and array features undo their scaling (standard or
 * minmax); one-hot and hashed features are copied as they are.
 */
extern void preprocess_inverse_features(const Preprocessor *p, const double *features, double *out);
/*
 * Fill a raw row from Datums aligned with the model's inputs (values[i] for
 * input i), for predict's whole-row and columns input and for evaluate.
 * Categorical values are looked up in the stored dictionary (unseen → -1).
 * ERROR on NaN/Inf or an array of the wrong length, naming the column.  The
 * inputs' types are classified once per call site (preprocess_datum_conv,
 * palloc'd in the current context), then each row is converted.
 */
typedef struct PrepDatumConv PrepDatumConv;
extern PrepDatumConv *preprocess_datum_conv(const Preprocessor *p, const Oid *types);
extern void preprocess_datum_conv_free(PrepDatumConv *dc);
extern void preprocess_datums_to_raw_conv(const Preprocessor *p, const PrepDatumConv *dc,
										  const Datum *values, const bool *isnull, double *raw);
/*
 * Both steps, preprocess_datums_to_raw_conv() then preprocess_apply_raw(), in
 * one pass for a call site whose inputs are all float8 columns for numeric
 * inputs: input i's Datum is values[at[i]] (NULL if isnull[at[i]]), or
 * args[at[i]]; the raw row goes to raw and its features to out, with the
 * same values and errors as the two steps.  Returns false, doing nothing,
 * for any other call site (then take the two steps).
 */
extern bool preprocess_float8_apply(const Preprocessor *p, const PrepDatumConv *dc,
									const Datum *values, const bool *isnull, const int *at,
									double *raw, double *out);
extern bool preprocess_float8_apply_args(const Preprocessor *p, const PrepDatumConv *dc,
										 const NullableDatum *args, const int *at,
										 double *raw, double *out);
/*
 * The text inputs' terms of the row preprocess_datums_to_raw_conv() filled
 * last (tokenised with the input's text search configuration), indexed by
 * input, for preprocess_apply_sparse().
 */
extern const TextTerms *preprocess_datum_conv_terms(const PrepDatumConv *dc);
/* Serialise / read (validating every count and index). */
extern void preprocess_write(const Preprocessor *p, ModelWriter *w);
extern Preprocessor *preprocess_read(ModelReader *r);
/* Description for galaxy.describe(). */
extern Jsonb *preprocess_describe(const Preprocessor *p);

#endif							/* GALAXY_DATASET_H */
