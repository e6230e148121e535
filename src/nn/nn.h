/*
 * nn.h — galaxy's neural engine: float32 batches, layers with forward and
 * backward passes, losses, optimizers and the one training loop every
 * neural algorithm shares (src/algo/neural_network.c is the first).
 *
 * Data layout.  A layer sees a batch as one contiguous row-major float
 * buffer of batch x size(shape) values; a sample's shape has up to three
 * dimensions (features; channels x length; channels x height x width;
 * steps x features), so convolution, recurrence and attention layers fit
 * the same interface.  The network owns one activation buffer and one
 * gradient buffer per layer boundary, sized once for the largest batch, so
 * the training loop allocates nothing per batch or per sample.
 *
 * Rules (as for algo.h): allocate with palloc in CurrentMemoryContext; the
 * numeric kernels run on OpenBLAS (threads bounded by galaxy.blas_threads)
 * and plain loops, never palloc/ereport inside a batch; every random draw
 * comes from util/rng.h seeded by the caller, so the same seed, data and
 * thread count give the same model; nn_read validates everything it reads.
 */
#ifndef GALAXY_NN_H
#define GALAXY_NN_H

#include "algo/algo.h"
#include "model/modelio.h"
#include "util/rng.h"

#define NN_MAX_DIMS 3
#define NN_MAX_LAYERS 72			/* 16 hidden layers of 4 (dense, norm, activation, dropout) + output */
#define NN_MAX_WIDTH (1 << 20)	/* values per sample at any layer boundary */
#define NN_MAX_PARAMS_PER_LAYER 4
#define NN_MAX_KERNEL 64			/* conv2d / pooling window side, stride, padding */
#define NN_MAX_VOCAB (1 << 21)	/* embedding rows */
#define NN_MAX_EMBED 4096		/* embedding dimensions */

/* Shape of one sample (the batch dimension is implicit). */
typedef struct NnShape
{
	int			ndim;
	int			d[NN_MAX_DIMS];
} NnShape;

static inline int64
nn_shape_size(const NnShape *s)
{
	int64		n = 1;

	for (int i = 0; i < s->ndim; i++)
		n *= s->d[i];
	return n;
}

/* Stable layer kind ids (stored in model values; never reuse). */
typedef enum NnLayerKind
{
	NN_DENSE = 1,
	NN_ACTIVATION = 2,
	NN_DROPOUT = 3,
	NN_BATCHNORM = 4,
	NN_CONV2D = 5,				/* [C, H, W] -> [F, H', W'] */
	NN_MAXPOOL2D = 6,			/* [C, H, W] -> [C, H', W'] */
	NN_AVGPOOL2D = 7,
	NN_FLATTEN = 8,				/* any shape -> [size] */
	NN_GLOBAL_AVGPOOL = 9,		/* [C, H, W] -> [C] */
	NN_LSTM = 10,				/* [T, F] -> [H] (last step) or [T, H] */
	NN_GRU = 11,				/* the same shapes as NN_LSTM */
	NN_EMBEDDING = 12,			/* [T] token ids -> [T, D] */
	NN_POSITIONAL = 13,			/* [T, D] + sinusoidal position codes */
	NN_LAYERNORM = 14,			/* normalise the last dimension */
	NN_ATTENTION = 15,			/* multi-head self-attention, [T, D] -> [T, D] */
	NN_RESIDUAL = 16,			/* out = in + an earlier boundary's values */
	NN_DENSE_STEPS = 17,		/* a dense layer at every step: [T, F] -> [T, U] */
	NN_SEQ_MEANPOOL = 18		/* mean over the steps: [T, D] -> [D] */
} NnLayerKind;

/* Activation functions (stored; never renumber). */
typedef enum NnActivation
{
	NN_RELU = 0,
	NN_LEAKY_RELU = 1,
	NN_TANH = 2,
	NN_SIGMOID = 3,
	NN_GELU = 4,
	NN_IDENTITY = 5
} NnActivation;

#define NN_N_ACTIVATIONS 6

extern const char *nn_activation_name(NnActivation a);

/* A trainable tensor: values, gradient, and whether weight decay applies. */
typedef struct NnParam
{
	float	   *w;
	float	   *g;
	int64		n;
	bool		decay;
} NnParam;

typedef struct NnLayer NnLayer;

/* What a layer kind does (one table per kind in nn_layers.c). */
typedef struct NnLayerOps
{
	const char *name;
	/* out = f(in) for 'batch' samples; 'training' switches dropout/batch norm */
	void		(*forward) (NnLayer *l, const float *in, float *out, int batch, bool training);
	/*
	 * Given dL/dout, set the parameter gradients (overwrite) and dL/din
	 * (din NULL: not needed, e.g. the first layer).  'in' and 'out' are the
	 * values of the last training forward pass.
	 */
	void		(*backward) (NnLayer *l, const float *in, const float *out, const float *dout,
							 float *din, int batch);
} NnLayerOps;

struct NnLayer
{
	NnLayerKind kind;
	const NnLayerOps *ops;
	NnShape		in;
	NnShape		out;
	int			n_params;
	NnParam		params[NN_MAX_PARAMS_PER_LAYER];
	/* configuration */
	NnActivation activation;	/* NN_ACTIVATION */
	double		rate;			/* NN_DROPOUT: drop probability */
	int			kernel;			/* NN_CONV2D, pools: square window side */
	int			stride;
	int			padding;		/* NN_CONV2D: zeros on every side */
	int			units;			/* NN_LSTM, NN_GRU: hidden size; NN_DENSE_STEPS: outputs */
	int			heads;			/* NN_ATTENTION */
	int			vocab;			/* NN_EMBEDDING: ids 0 .. vocab - 1 */
	int			skip_from;		/* NN_RESIDUAL: the boundary (acts index) it adds */
	const float *skip;			/* NN_RESIDUAL: that boundary's buffer (set with the buffers) */
	bool		sequences;		/* NN_LSTM, NN_GRU: output every step, not only the last */
	float		eps;			/* NN_BATCHNORM */
	float		momentum;		/* NN_BATCHNORM: running-statistics update */
	/* state that is not trained by gradient */
	float	   *running_mean;	/* NN_BATCHNORM, in.size values; NN_POSITIONAL: the T x D codes */
	float	   *running_var;
	/* scratch of the last training forward pass (max_batch x size) */
	float	   *cache;			/* dropout mask / batch-norm normalised inputs /
								 * conv2d im2col columns / max-pool argmax */
	float	   *cache2;			/* batch-norm 1/std per feature / conv2d
								 * outputs transposed */
	GalaxyRng  *rng;			/* NN_DROPOUT: the network's generator */
	/*
	 * NN_DENSE compressed by galaxy.compress 'int8' (nn_quantize): the
	 * weights in int8 per unit (params[0].w is then NULL; the bias stays
	 * float) and QUANT_ROWS rows of the input quantised, for the forward pass.
	 */
	struct QuantMatrix *quant;
	int8	   *qx;
	bool		pruned;			/* NN_DENSE pruned by nn_prune: weights stored sparse */
};

/* How dense and convolution layers draw their initial weights (never renumber: a hyperparameter's choice index). */
typedef enum NnInit
{
	NN_INIT_AUTO = 0,			/* He before relu-like activations, Glorot otherwise */
	NN_INIT_HE = 1,
	NN_INIT_GLOROT = 2,
	NN_INIT_UNIFORM = 3			/* weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default */
} NnInit;

/* A feed-forward stack of layers with its buffers. */
typedef struct NnNet
{
	NnShape		input;
	int			n_layers;
	NnLayer		layers[NN_MAX_LAYERS];
	int			max_batch;		/* buffers hold this many samples (0 = none yet) */
	float	   *acts[NN_MAX_LAYERS + 1];	/* acts[0] input, acts[i+1] output of layer i */
	float	   *grads[NN_MAX_LAYERS + 1];	/* dL/d acts[i] (training only) */
	bool		training_buffers;
	GalaxyRng	rng;			/* dropout draws */
	NnInit		init;			/* initial weights of the layers added next (nn_init: auto) */
} NnNet;

/* ----- building (nn_net.c) ----- */

extern void nn_init(NnNet *net, const NnShape *input);
extern NnShape nn_output_shape(const NnNet *net);
extern int64 nn_output_size(const NnNet *net);
/* Append layers; weights are drawn from rng (He for relu-like, Glorot otherwise). */
extern void nn_add_dense(NnNet *net, int units, NnActivation init_for, GalaxyRng *rng);
extern void nn_add_activation(NnNet *net, NnActivation a);
extern void nn_add_dropout(NnNet *net, double rate);
extern void nn_add_batchnorm(NnNet *net);
/* 2-D layers take a [C, H, W] input (ERROR otherwise, naming the shapes). */
extern void nn_add_conv2d(NnNet *net, int filters, int kernel, int stride, int padding,
						  NnActivation init_for, GalaxyRng *rng);
extern void nn_add_pool2d(NnNet *net, NnLayerKind kind, int kernel, int stride);
extern void nn_add_global_avgpool(NnNet *net);
extern void nn_add_flatten(NnNet *net);
/* LSTM over a [T, F] input: [units] (last step) or [T, units] with sequences. */
extern void nn_add_lstm(NnNet *net, int units, bool sequences, GalaxyRng *rng);
/* GRU (PyTorch's formulation) with the same shapes as nn_add_lstm. */
extern void nn_add_gru(NnNet *net, int units, bool sequences, GalaxyRng *rng);
/* Token ids [T] (floats holding integers) -> [T, dim] vectors; an id outside 0..vocab-1 reads row 0. */
extern void nn_add_embedding(NnNet *net, int vocab, int dim, GalaxyRng *rng);
/* Add sinusoidal position codes to a [T, D] input. */
extern void nn_add_positional(NnNet *net);
/* Layer normalisation over the last dimension (gamma 1, beta 0). */
extern void nn_add_layernorm(NnNet *net);
/* Multi-head self-attention over a [T, D] input, D divisible by heads. */
extern void nn_add_attention(NnNet *net, int heads, GalaxyRng *rng);
/* The index of the current output boundary, for a later nn_add_residual. */
extern int	nn_boundary(const NnNet *net);
/* out = in + the values at boundary 'from' (same shape; a skip connection). */
extern void nn_add_residual(NnNet *net, int from);
/* A dense layer of 'units' applied at every step of a [T, F] input. */
extern void nn_add_dense_steps(NnNet *net, int units, NnActivation init_for, GalaxyRng *rng);
/* Mean over the steps of a [T, D] input. */
extern void nn_add_seq_meanpool(NnNet *net);
extern int64 nn_param_count(const NnNet *net);
/* Bytes of the buffers for max_batch samples (training: also gradients and caches). */
extern Size nn_buffer_bytes(const NnNet *net, int max_batch, bool training);
/* Rows per inference batch (buffers of about 1 MB). */
extern int	nn_inference_batch(const NnNet *net);
/* (Re)allocate the buffers for max_batch samples. */
extern void nn_alloc_buffers(NnNet *net, int max_batch, bool training);

/* Forward 'batch' samples already in acts[0]; returns the output buffer. */
extern float *nn_forward(NnNet *net, int batch, bool training);
/* Backward from grads[n_layers] (dL/doutput, set by the loss). */
extern void nn_backward(NnNet *net, int batch);

/*
 * Inference on n samples of X (n x input size, float64, as algorithms get
 * them): out gets n x output size values.  Uses the network's buffers when
 * they are large enough, otherwise allocates once per call (never per row).
 */
extern void nn_predict(NnNet *net, const double *X, int64 n, float *out);

/*
 * Quantise the weights of every dense layer to int8 (algo/quant.h) for
 * inference only: the network can no longer be trained.  Returns how many
 * layers it quantised.  nn_write then writes network format 2, which
 * nn_read accepts only in a model of format MODEL_FORMAT_QUANT.
 */
extern int	nn_quantize(NnNet *net);

/*
 * Magnitude pruning (galaxy.compress 'prune'): in every dense layer, zero
 * the smallest 'sparsity' share of the weights; nn_write then stores them
 * sparse (network format 2).  Returns how many layers it pruned.
 */
extern int	nn_prune(NnNet *net, double sparsity);

/* Serialise / read (validating kinds, shapes, counts and values). */
extern void nn_write(const NnNet *net, ModelWriter *w);
extern void nn_read(NnNet *net, ModelReader *r);
/* jsonb array of the layers for galaxy.describe(). */
extern void nn_describe(const NnNet *net, JsonbParseState **st);

/* ----- losses (nn_loss.c) ----- */

typedef enum NnLoss
{
	NN_LOSS_SOFTMAX_CE = 1,		/* k outputs, class index targets */
	NN_LOSS_SIGMOID_BCE = 2,	/* 1 output, 0/1 targets */
	NN_LOSS_MSE = 3,
	NN_LOSS_HUBER = 4
} NnLoss;

extern const char *nn_loss_name(NnLoss loss);


/*
 * Loss of a batch of outputs (batch x k) against targets (class indexes or
 * values); sets dout = dL/doutput when dout is not NULL.  The loss is the
 * weighted mean over the batch: sum(w_i l_i) / sum(w_i), w_i the weight of
 * sample i's class (class_weight NULL: 1).  Returns the weighted sum of
 * l_i, and *wsum the sum of the weights, so callers can average over epochs.
 */
extern double nn_loss(NnLoss loss, const float *out, const float *y, int batch, int k,
					  const float *class_weight, double huber_delta, float *dout, double *wsum);

/* ----- optimizers and schedules (nn_optim.c) ----- */

typedef enum NnOptimizer
{
	NN_OPT_ADAM = 0,
	NN_OPT_ADAMW = 1,
	NN_OPT_SGD = 2
} NnOptimizer;

typedef enum NnSchedule
{
	NN_LR_CONSTANT = 0,
	NN_LR_STEP = 1,
	NN_LR_COSINE = 2,
	NN_LR_PLATEAU = 3
} NnSchedule;

typedef struct NnOptimConfig
{
	NnOptimizer kind;
	double		learning_rate;
	double		momentum;		/* sgd */
	bool		nesterov;		/* sgd */
	double		beta1;			/* adam */
	double		beta2;
	double		adam_eps;
	double		weight_decay;	/* L2 (sgd, adam) or decoupled (adamw) */
	double		clip_norm;		/* 0 = off */
	NnSchedule	schedule;
	int			step_size;		/* step: epochs between decays */
	double		gamma;			/* step / plateau: factor */
	int			patience;		/* plateau: epochs without improvement */
} NnOptimConfig;

typedef struct NnOptimizerState NnOptimizerState;

extern NnOptimizerState *nn_optim_create(NnNet *net, const NnOptimConfig *cfg);
/* Bytes the optimizer's state takes for a network. */
extern Size nn_optim_bytes(const NnNet *net, const NnOptimConfig *cfg);
/* One update from the gradients; returns the gradient norm before clipping. */
extern double nn_optim_step(NnOptimizerState *os);
/* Learning rate for a 0-based epoch (plateau: after nn_schedule_observe). */
extern double nn_optim_lr(const NnOptimizerState *os);
/* End of an epoch: advance the schedule (val_loss NaN: none). */
extern void nn_optim_end_epoch(NnOptimizerState *os, int epochs_done, int epochs_total, double val_loss);

/* ----- the training loop (nn_train.c) ----- */

typedef struct NnTrainData
{
	int64		n;				/* samples */
	const float *X;				/* samples (rows NULL) or the rows rows[] index (input size each) */
	const float *y;				/* targets, indexed like X */
	const int64 *rows;			/* n indexes into X and y, or NULL: the first n */
} NnTrainData;

typedef struct NnTrainConfig
{
	NnLoss		loss;
	const float *class_weight;	/* k weights or NULL */
	double		huber_delta;
	int			batch_size;
	int			epochs;
	int			patience;		/* early stopping on validation loss; 0 = off */
	NnOptimConfig optim;
	uint64		seed;
	/* how progress reports the validation metric */
	bool		classification;
} NnTrainConfig;

/* The learning curve a fit leaves behind (kept with the model). */
typedef struct NnCurve
{
	int			epochs;			/* epochs trained */
	int			best_epoch;		/* 1-based epoch whose weights are kept (0: last) */
	double	   *loss;			/* per epoch: training loss */
	double	   *val_loss;		/* per epoch: validation loss (NaN without a split) */
	double	   *seconds;		/* per epoch: wall time (not stored: models stay reproducible) */
} NnCurve;

/*
 * Train net (buffers allocated here) on 'train', watching 'val' (n = 0: no
 * validation) and keeping the weights of the best validation epoch.
 * Reports progress every epoch, checks for interrupts every batch.
 */
extern void nn_train(NnNet *net, const NnTrainConfig *cfg, const NnTrainData *train,
					 const NnTrainData *val, const FitContext *ctx, NnCurve *curve);
/* Bytes nn_train needs beyond the data (buffers, optimizer, best weights). */
extern Size nn_train_bytes(const NnNet *net, const NnTrainConfig *cfg);

#endif							/* GALAXY_NN_H */
