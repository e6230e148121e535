/*
 * algo.h — the one algorithm interface.
 *
 * An algorithm sees only preprocessed numeric data: a dense row-major
 * float64 matrix X (n_rows x n_features) — or, for an algorithm with
 * sparse_input when the features include text, a CSR matrix Xs — and a
 * target vector y (the value for regression, the class index
 * 0..n_classes-1 for classification, unused for clustering).  It never
 * touches the catalog, SPI or relations.
 *
 * Rules every implementation follows:
 *   - allocate with palloc in CurrentMemoryContext (the caller owns it);
 *   - call CHECK_FOR_INTERRUPTS() in every loop that can run long, and report
 *     progress through ctx->progress once per iteration/round/epoch;
 *   - use only ctx->seed through util/rng.h for random choices (deterministic);
 *   - threads (bounded by ctx->threads) may run pure numeric kernels only:
 *     no palloc/ereport/CHECK_FOR_INTERRUPTS from a thread, and results must
 *     not depend on the thread count;
 *   - deserialize validates every count/index/enum it reads (modelio.h) so a
 *     hostile value raises ERROR, never crashes; predict must then be safe on
 *     any state deserialize accepted.
 */
#ifndef GALAXY_ALGO_H
#define GALAXY_ALGO_H

#include "model/modelio.h"
#include "utils/jsonb.h"

struct Preprocessor;				/* data/dataset.h */

typedef enum GalaxyTask
{
	TASK_REGRESSION = 1,
	TASK_CLASSIFICATION = 2,
	TASK_CLUSTERING = 3
} GalaxyTask;

#define TASK_BIT(t) (1u << (t))

extern const char *galaxy_task_name(GalaxyTask task);
extern GalaxyTask galaxy_task_from_name(const char *name);	/* ERROR if unknown */

/* Hyperparameter types. */
typedef enum HpType
{
	HP_INT = 1,
	HP_FLOAT,
	HP_BOOL,
	HP_ENUM,					/* value = index into the comma-separated choices */
	HP_INT_LIST,				/* value = length; the integers in HyperParams.list */
	HP_SPEC_LIST				/* a JSON array of objects (e.g. layer specs), encoded by
								 * the spec's codec into HyperParams.list; value = the
								 * number of integers */
} HpType;

typedef struct HyperParamSpec HyperParamSpec;

/* How an HP_SPEC_LIST value is encoded in integers and shown as JSON. */
typedef struct HpCodec
{
	const char *type_name;		/* shown in galaxy.algorithm_hyperparameters */
	/*
	 * Encode a JSON value into at most 'max' integers; returns how many.
	 * ERROR (22023) on anything it does not accept, naming the algorithm.
	 */
	int			(*encode) (const char *algo, const HyperParamSpec *spec, const JsonbValue *v,
						   int32 *out, int max);
	/* Push the JSON array that n encoded integers stand for. */
	void		(*decode) (const int32 *in, int n, JsonbParseState **st);
	/* Whether n stored integers are a valid encoding (the model reader's check). */
	bool		(*valid) (const int32 *in, int n);
} HpCodec;

struct HyperParamSpec
{
	const char *name;
	HpType		type;
	double		def;			/* default (enum: index of the default choice) */
	double		min;			/* inclusive bounds (ignored for bool/enum) */
	double		max;
	bool		min_exclusive;	/* true: value must be > min */
	const char *choices;		/* HP_ENUM: "a,b,c" */
	const char *description;
	const char *list_default;	/* HP_INT_LIST: default as "100" or "64,64" ("" = empty) */
	const HpCodec *codec;		/* HP_SPEC_LIST (default: the empty list) */
};

#define GALAXY_MAX_HP 32
#define GALAXY_MAX_HP_LIST 16	/* integers in one HP_INT_LIST value */
#define GALAXY_MAX_HP_SPEC 96	/* integers in one HP_SPEC_LIST value (HyperParams.list's size) */

/* Resolved hyperparameters: values[i] belongs to spec[i]. */
typedef struct HyperParams
{
	int			n;
	double		values[GALAXY_MAX_HP];
	bool		given[GALAXY_MAX_HP];
	int32		list[GALAXY_MAX_HP][GALAXY_MAX_HP_SPEC];	/* HP_INT_LIST and HP_SPEC_LIST values */
} HyperParams;

/* Progress of one iteration/round/epoch, reported by fit. NaN = not known. */
typedef struct ProgressInfo
{
	const char *phase;			/* "fit", "evaluate", ... */
	int			iteration;		/* 1-based */
	int			total;			/* planned iterations, 0 if unknown */
	int64		rows;			/* rows processed in this iteration */
	double		loss;
	double		val_loss;
	double		metric;
	double		learning_rate;
} ProgressInfo;

typedef void (*ProgressFn) (const ProgressInfo *info, void *arg);

typedef struct FitContext
{
	ProgressFn	progress;		/* may be NULL */
	void	   *progress_arg;
	uint64		seed;
	int			threads;		/* galaxy.threads */
} FitContext;

/* Report progress if a callback is set. */
static inline void
fit_report(const FitContext *ctx, const ProgressInfo *info)
{
	if (ctx && ctx->progress)
		ctx->progress(info, ctx->progress_arg);
}

/* Report one finished iteration of the phase "fit" (NaN: a value not known). */
static inline void
fit_report_iteration(const FitContext *ctx, int iteration, int total, int64 rows,
					 double loss, double val_loss, double metric, double learning_rate)
{
	ProgressInfo info;

	info.phase = "fit";
	info.iteration = iteration;
	info.total = total;
	info.rows = rows;
	info.loss = loss;
	info.val_loss = val_loss;
	info.metric = metric;
	info.learning_rate = learning_rate;
	fit_report(ctx, &info);
}

/*
 * A CSR matrix of float64 values: row i's entries are column indices[k] with
 * values[k] for k in [indptr[i], indptr[i + 1]), columns ascending within a
 * row.  indptr[0] need not be 0: a matrix may be a view of some rows of a
 * bigger one (src/algo/sparse.h builds them and holds the shared kernels).
 */
typedef struct SparseMatrix
{
	int64		n_rows;
	int			n_cols;
	const int64 *indptr;		/* n_rows + 1 offsets */
	const int32 *indices;
	const double *values;
} SparseMatrix;

/*
 * Preprocessed features already cut into bins (an algorithm with
 * binned_input, src/data/binned.c): feature f's code c stands for the values
 * x with edge[c - 1] < x <= edge[c] (edge[-1] = -inf, edge[n_edges[f]] =
 * +inf), where edge = edges + f * ALGO_MAX_BIN_EDGES, ascending and finite.
 * There is no code for a missing value: imputation gave every row a value.
 */
#define ALGO_MAX_BIN_EDGES 255

typedef struct BinnedFeatures
{
	int64		n_rows;
	int			n_features;
	int			max_bins;		/* the edges were placed for at most this many bins */
	uint8	   *codes;			/* n_features x n_rows, column-major */
	int		   *n_edges;		/* per feature, < max_bins */
	double	   *edges;			/* n_features x ALGO_MAX_BIN_EDGES */
} BinnedFeatures;

/*
 * Place at most max_bins - 1 bin edges (quantiles, or one bin per distinct
 * value when they are few) for each column f of the m rows (row-major, p
 * values each; NaN ignored) into edges + f * ALGO_MAX_BIN_EDGES, and their
 * number into n_edges[f]; columns are shared among up to 'threads' threads
 * (src/algo/tree_bins.c).
 */
extern void algo_bin_edges_rows(const double *rows, int64 m, int p, int max_bins,
								double *edges, int *n_edges, int threads);

/*
 * Weighted cross products of a regression problem's (preprocessed) rows:
 * with an intercept, centred on their means (mean, ymean); without, about
 * zero (mean and ymean zero).  xx is p x p, full, row-major.
 */
typedef struct GramMoments
{
	int			p;
	double		w;				/* total weight (rows) */
	double	   *mean;			/* p */
	double		ymean;
	double	   *xx;				/* p x p */
	double	   *xy;				/* p */
	double		yy;
} GramMoments;

/* OLS / ridge coefficients and intercept from moments (linear_regression.c). */
extern void linreg_solve_moments(const GramMoments *m, double alpha, bool fit_intercept,
								 double *coef, double *intercept);

/* A binary logistic_regression model from its coefficients (logistic_regression.c). */
extern void *logreg_binary_state(int p, const double *coef, double intercept);
/* One of k classes from o x p coefficients and o intercepts (o = 1 for two classes, else k). */
extern void *logreg_state_from_coef(int p, int k, const double *coef, const double *intercept);

/*
 * A naive_bayes model from its per-class sums (naive_bayes.c): dist is the
 * "distribution" hyperparameter's value (0 gaussian, 1 multinomial, 2
 * bernoulli); s1 and s2 are taken over (see the function).
 */
extern void *nb_state_from_sums(int p, int k, int dist, const double *cw, double *s1, double *s2,
								double var_smoothing, double alpha, double thr, bool fit_prior);

/*
 * k-means hooks of the streaming solver (kmeans.c): k-means++ centres of
 * n_init runs on rows X (the run r seeded as the in-memory fit seeds it;
 * the centres of the run whose Lloyd iterations on X give the lowest
 * inertia are kept), and a model from its centres.
 */
extern void kmeans_sample_centres(const double *X, int64 n, int p, int k, int n_init, int max_iter,
								  uint64 seed, int threads, double *C);
extern void *kmeans_state_from_centres(int k, int p, const double *centers, const double *init,
									   double inertia, int n_iter, const int64 *sizes);

/* Training data handed to fit (already preprocessed). */
typedef struct TrainData
{
	int64		n_rows;
	int			n_features;
	const double *X;			/* n_rows x n_features, row-major */

	/*
	 * The same rows in float32 instead (X is then NULL): only for an
	 * algorithm with float32_input, whose final fit gets its rows this way
	 * (cross-validation folds still come in float64).
	 */
	const float *Xf;

	/*
	 * The same rows in CSR form instead (X and Xf are then NULL): only for an
	 * algorithm with sparse_input, when the features include text.
	 */
	const SparseMatrix *Xs;

	/*
	 * The same rows as bin codes instead (X, Xf and Xs are then NULL): only
	 * for an algorithm with binned_input, whose final fit may get its rows
	 * this way (the validation rows X_val stay float64).
	 */
	const BinnedFeatures *Xb;
	const double *y;			/* n_rows; class index for classification */

	/*
	 * The features are token ids 1 .. n_tokens - 1 of a text column read as
	 * a sequence (0 = padding), from the preprocessor's vocabulary; 0: they
	 * are not.  Only an algorithm with token_input gets such rows.
	 */
	int			n_tokens;
	const double *weight;		/* n_rows sample weights, or NULL */
	int			n_classes;		/* classification: >= 2; else 0 */
	GalaxyTask	task;
	/* optional validation split (early stopping, validation loss) */
	int64		n_val;
	const double *X_val;
	const SparseMatrix *Xs_val; /* the validation rows in CSR form (with Xs) */
	const double *y_val;
} TrainData;

/*
 * What galaxy.compress asks of an algorithm (src/api/compress_api.c reads
 * the options; the algorithm compresses a copy of its state).
 */
typedef struct CompressOptions
{
	const char *method;			/* "int8" or "prune" */
	double		sparsity;		/* prune: share of the weights (of a tree ensemble: of
								 * the rounds) to drop, [0, 0.99] */
	/*
	 * prune of a neural network: epochs of fine-tuning after pruning (0:
	 * none), on data (the parent's training rows, preprocessed by the
	 * parent's preprocessor), with the parent's hyperparameters hp
	 * (optimizer, learning rate, batch size) and the mask fixed.
	 */
	int			epochs;
	const TrainData *data;
	const HyperParams *hp;
	const char *algorithm;		/* the parent's algorithm's name */
	uint64		seed;
} CompressOptions;

typedef struct AlgorithmDef
{
	const char *name;
	uint16		id;				/* stable id stored in model values; never reuse */
	uint32		tasks;			/* TASK_BIT(...) mask */
	const HyperParamSpec *params;
	int			n_params;
	bool		default_scaling;	/* standard-scale features unless told otherwise */
	/* optional: the same, depending on the hyperparameters (e.g. token ids are not scaled) */
	bool		(*scales) (const HyperParams *hp);
	const char *description;

	/* Fit on d; returns the algorithm state (palloc'd). */
	void	   *(*fit) (const TrainData *d, const HyperParams *hp, const FitContext *ctx);
	/* n predictions: value, class index or cluster index. */
	void		(*predict) (const void *state, const double *X, int64 n, double *out);
	/* n x n_classes probabilities (classification only; NULL otherwise). */
	void		(*predict_proba) (const void *state, const double *X, int64 n, double *out);
	void		(*serialize) (const void *state, ModelWriter *w);
	/* Read and validate; n_features/n_classes come from the validated header. */
	void	   *(*deserialize) (ModelReader *r, int n_features, int n_classes, GalaxyTask task);
	/* n_features importances (may be NULL: importance not available). */
	void		(*feature_importance) (const void *state, double *out);
	/*
	 * Metrics only the fit itself can know (e.g. the out-of-bag score), added
	 * to the model's metrics: call add(name, value, arg) for each (may be NULL).
	 */
	void		(*fit_metrics) (const void *state,
								void (*add) (const char *name, double value, void *arg), void *arg);
	/*
	 * Extra keys of galaxy.describe() (e.g. a network's layers); may be NULL.
	 * prep is the model's fitted preprocessor (feature names, and the way
	 * back to the input columns' units), or NULL.
	 */
	void		(*describe) (const void *state, const struct Preprocessor *prep, JsonbParseState **st);
	const char *alias;			/* another name the algorithm answers to, or NULL */

	/*
	 * predict gives, for every row, the first largest of predict_proba's
	 * values: scoring then runs the model once (algo_predict_scores).
	 */
	bool		predict_is_proba_argmax;

	/*
	 * The algorithm computes in float32: train() loads its rows in float32
	 * (half the memory) and passes them to the final fit as TrainData.Xf.
	 */
	bool		float32_input;

	/*
	 * The algorithm bins its features (trees): train() may load a large
	 * relation straight into bin codes, its hyperparameter "max_bins" giving
	 * their number, and pass them to the final fit as TrainData.Xb.
	 */
	bool		binned_input;

	/*
	 * The algorithm takes sparse input (text features): fit reads
	 * TrainData.Xs and Xs_val when they are set, and predict_sparse /
	 * predict_proba_sparse (classification) answer for CSR rows as predict /
	 * predict_proba do for dense ones.  Without it an algorithm gets text
	 * features only when they are few enough to be made dense (train.c).
	 */
	bool		sparse_input;

	/*
	 * The algorithm reads a row as a sequence of token ids (an embedding
	 * first): a text column configured as "text": "sequence" may be its
	 * one input, and fit then finds the vocabulary's size in
	 * TrainData.n_tokens.
	 */
	bool		token_input;
	void		(*predict_sparse) (const void *state, const SparseMatrix *X, double *out);
	void		(*predict_proba_sparse) (const void *state, const SparseMatrix *X, double *out);
	/*
	 * The integer hyperparameter that counts the fit's iterations (boosting
	 * rounds, trees, epochs): a successive-halving search (api/search.c)
	 * fits its early rungs with a fraction of it.  NULL: none.
	 */
	const char *budget_param;

	/*
	 * galaxy.compress: the methods the algorithm offers, comma-separated
	 * ("int8,prune"; NULL: none), and a compressed copy of a state for one
	 * of them.  A compressed state may need a newer model format
	 * (MODEL_FORMAT_QUANT): compress sets *format to the one it needs.
	 */
	const char *compress_methods;
	void	   *(*compress) (const void *state, const CompressOptions *opt, uint16 *format);

	/*
	 * Fit from the moments of the preprocessed training rows instead of
	 * the rows (the streaming solver, src/scale/stream.c, computes them
	 * with SQL aggregates that run in parallel workers and on Citus
	 * nodes).  NULL: the algorithm needs the rows.
	 */
	void	   *(*fit_gram) (const GramMoments *m, const HyperParams *hp, const FitContext *ctx);

	/*
	 * The trainable parameters (weights and biases) a fit with hp on
	 * n_features preprocessed features would have, without fitting: what a
	 * search's max_parameters constrains and galaxy.trials shows (may ERROR
	 * as the fit would on an architecture that does not fit the data).
	 * NULL: the algorithm does not count them.
	 */
	int64		(*count_parameters) (const HyperParams *hp, int n_features, int n_classes, GalaxyTask task);
} AlgorithmDef;

/*
 * Predictions of n rows into pred and, when proba is not NULL (a
 * classifier with predict_proba), n x n_classes probabilities: what scoring
 * (training's metrics, galaxy.evaluate) needs, in one pass of the model
 * where the algorithm allows it (algo.c).
 */
extern void algo_predict_scores(const AlgorithmDef *algo, const void *state, const double *X, int64 n,
								int n_classes, double *pred, double *proba);

/*
 * algo_predict_scores for rows in CSR form: through the algorithm's sparse
 * predict, or, for an algorithm without sparse_input, a block of rows made
 * dense at a time.  With n_classes = 0 (regression, clustering) only pred.
 */
extern void algo_predict_scores_sparse(const AlgorithmDef *algo, const void *state,
									   const SparseMatrix *X, int n_classes,
									   double *pred, double *proba);

/*
 * The sample weights of d (1 for every row without them) into sw (n_rows),
 * each checked finite and non-negative; returns their sum, which must be
 * positive (ERROR 22023 naming the algorithm otherwise).
 */
extern double algo_sample_weights(const char *name, const TrainData *d, double *sw);

/* Registry (algo.c). */
/* Whether a fit with these hyperparameters standard-scales features by default. */
extern bool algo_default_scaling(const AlgorithmDef *algo, const HyperParams *hp);
extern const AlgorithmDef *algo_by_name(const char *name);	/* ERROR listing valid names */
extern const AlgorithmDef *algo_by_id(uint16 id);	/* NULL if unknown */
extern int	algo_count(void);
extern void algo_check_registry(void);	/* ERROR on a shared id or name */
extern const AlgorithmDef *algo_at(int i);

/* Hyperparameters (algo.c): resolve jsonb against the spec, ERROR on unknown/out of range. */

extern void algo_resolve_hyperparams(const AlgorithmDef *algo, Jsonb *given, HyperParams *out);
/* Effective hyperparameters as jsonb {"name": value, ...}. */
extern Jsonb *algo_hyperparams_jsonb(const AlgorithmDef *algo, const HyperParams *hp, bool only_given);
/* Serialise / read the resolved values (stored in the model for describe()). */
extern void algo_write_hyperparams(const AlgorithmDef *algo, const HyperParams *hp, ModelWriter *w);
extern void algo_read_hyperparams(const AlgorithmDef *algo, ModelReader *r, HyperParams *out);
/* Text of an enum hyperparameter's current choice. */
/* Index of the algorithm's hyperparameter called name, -1 when it has none. */
extern int	algo_param_index(const AlgorithmDef *algo, const char *name);
extern const char *algo_hp_choice(const AlgorithmDef *algo, const HyperParams *hp, int index, char *buf, Size buflen);

/* Every algorithm registers here (defined in its own file). */
extern const AlgorithmDef galaxy_algo_linear_regression;
extern const AlgorithmDef galaxy_algo_logistic_regression;
extern const AlgorithmDef galaxy_algo_decision_tree;
extern const AlgorithmDef galaxy_algo_random_forest;
extern const AlgorithmDef galaxy_algo_gradient_boosting;
extern const AlgorithmDef galaxy_algo_neural_network;
extern const AlgorithmDef galaxy_algo_cnn;
extern const AlgorithmDef galaxy_algo_lstm;
extern const AlgorithmDef galaxy_algo_transformer;
extern const AlgorithmDef galaxy_algo_lasso;
extern const AlgorithmDef galaxy_algo_elastic_net;
extern const AlgorithmDef galaxy_algo_linear_svm;
extern const AlgorithmDef galaxy_algo_naive_bayes;
extern const AlgorithmDef galaxy_algo_kmeans;

#endif							/* GALAXY_ALGO_H */
