/*
 * neural_network.c — the neural algorithms on the neural engine (src/nn):
 * the multilayer perceptron ('neural_network', also 'mlp'), the
 * convolutional network ('cnn') and the recurrent one ('lstm'), for
 * classification and regression.  They
 * differ only in their architecture hyperparameters and how those build the
 * network (NnArch); data, training, storage and prediction are one code.
 *
 * The MLP is dense → [batch norm] → activation → [dropout] per hidden
 * layer, then a dense output: one unit per class with softmax cross-entropy
 * (or one unit with binary cross-entropy), or one unit for regression,
 * trained on the standardised target (mean and deviation kept, so
 * predictions come back in the target's units).  A validation split is
 * taken from the training rows (validation_fraction) for the validation
 * loss, early stopping and keeping the best epoch's weights.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "galaxy.h"
#include "algo/algo.h"
#include "algo/linalg.h"
#include "algo/nn_layer_spec.h"
#include "model/model.h"
#include "nn/nn.h"
#include "util/jsonb_build.h"
#include "util/rng.h"

/*
 * The hyperparameters every neural algorithm shares, after its own
 * architecture ones: index HP_X of this block is values[n_arch + HP_X].
 */
enum
{
	HP_ACTIVATION,
	HP_DROPOUT,
	HP_BATCH_NORM,
	HP_OPTIMIZER,
	HP_LEARNING_RATE,
	HP_MOMENTUM,
	HP_NESTEROV,
	HP_LR_SCHEDULE,
	HP_LR_STEP_SIZE,
	HP_LR_GAMMA,
	HP_LR_PATIENCE,
	HP_BATCH_SIZE,
	HP_EPOCHS,
	HP_EARLY_STOPPING,
	HP_VALIDATION_FRACTION,
	HP_WEIGHT_DECAY,
	HP_CLASS_WEIGHT,
	HP_LOSS,
	HP_HUBER_DELTA,
	HP_CLIP_NORM,
	HP_SEED,
	HP_INIT
};

/* choice orders match NnActivation / NnOptimizer / NnSchedule */
#define NN_COMMON_HYPERPARAMS \
	{"activation", HP_ENUM, 0, 0, 0, false, "relu,leaky_relu,tanh,sigmoid,gelu", \
	"Activation after each hidden layer."}, \
	{"dropout", HP_FLOAT, 0.0, 0.0, 0.9, false, NULL, \
	"Probability of dropping a hidden unit while training (0 = no dropout)."}, \
	{"batch_norm", HP_BOOL, 0, 0, 1, false, NULL, \
	"Batch normalisation before each hidden activation."}, \
	{"optimizer", HP_ENUM, 0, 0, 0, false, "adam,adamw,sgd", \
	"adam, adamw (decoupled weight decay) or sgd (with momentum)."}, \
	{"learning_rate", HP_FLOAT, 0.001, 0.0, 10.0, true, NULL, \
	"Initial learning rate."}, \
	{"momentum", HP_FLOAT, 0.9, 0.0, 0.999, false, NULL, \
	"Momentum of sgd (0 = plain gradient descent)."}, \
	{"nesterov", HP_BOOL, 0, 0, 1, false, NULL, \
	"Nesterov momentum for sgd."}, \
	{"lr_schedule", HP_ENUM, 0, 0, 0, false, "constant,step,cosine,plateau", \
	"Learning-rate schedule over the epochs."}, \
	{"lr_step_size", HP_INT, 10, 1, 100000, false, NULL, \
	"step: multiply the learning rate by lr_gamma every this many epochs."}, \
	{"lr_gamma", HP_FLOAT, 0.1, 0.0, 1.0, true, NULL, \
	"step and plateau: factor applied to the learning rate."}, \
	{"lr_patience", HP_INT, 5, 0, 100000, false, NULL, \
	"plateau: epochs without improvement of the validation loss before lowering the rate."}, \
	{"batch_size", HP_INT, 200, 1, 65536, false, NULL, \
	"Rows per mini-batch."}, \
	{"epochs", HP_INT, 100, 1, 100000, false, NULL, \
	"Passes over the training rows (fewer with early stopping)."}, \
	{"early_stopping_rounds", HP_INT, 10, 0, 100000, false, NULL, \
	"Stop when the validation loss has not improved for this many epochs (0 = off)."}, \
	{"validation_fraction", HP_FLOAT, 0.1, 0.0, 0.5, false, NULL, \
	"Fraction of the training rows held out for the validation loss (0 = none)."}, \
	{"weight_decay", HP_FLOAT, 0.0001, 0.0, 1.0, false, NULL, \
	"L2 penalty on the weights (decoupled for adamw; biases are not decayed)."}, \
	{"class_weight", HP_ENUM, 0, 0, 0, false, "none,balanced", \
	"balanced: weight each class by n / (classes x its count)."}, \
	{"loss", HP_ENUM, 0, 0, 0, false, "auto,cross_entropy,binary_cross_entropy,mse,huber", \
	"auto: cross_entropy for classification, mse for regression."}, \
	{"huber_delta", HP_FLOAT, 1.0, 0.0, 1e6, true, NULL, \
	"huber: where the loss turns from quadratic to linear (in standardised target units)."}, \
	{"clip_norm", HP_FLOAT, 0.0, 0.0, 1e6, false, NULL, \
	"Clip the gradients' joint L2 norm to this (0 = no clipping)."}, \
	{"seed", HP_INT, -1, -1, 2147483647, false, NULL, \
	"Seed of the initial weights, shuffling and dropout (-1: train's seed)."}, \
	{"init", HP_ENUM, 0, 0, 0, false, "auto,he,glorot,uniform", \
	"Initial weights: auto (He before relu-like activations, Glorot otherwise), he, glorot, or uniform (PyTorch's default: weights and biases in +-1/sqrt(fan_in))."}, \
	/* end */

/* neural_network: the widths of the hidden layers, then the common block */
enum
{
	MLP_HIDDEN,
	MLP_N_ARCH
};

static const HyperParamSpec mlp_params[] = {
	{"hidden_layers", HP_INT_LIST, 1, 1, NN_MAX_WIDTH, false, NULL,
	"Width of each hidden layer, e.g. [128, 64] ([] = no hidden layer).", "100"},
	NN_COMMON_HYPERPARAMS
};

/* loss choices, in HP_LOSS order */
enum
{
	LOSS_AUTO,
	LOSS_CE,
	LOSS_BCE,
	LOSS_MSE,
	LOSS_HUBER
};

typedef struct NnModel
{
	NnNet		net;
	GalaxyTask	task;
	int			n_features;
	int			n_classes;
	NnLoss		loss;
	double		y_mean;			/* regression: the network predicts (y - mean) / scale */
	double		y_scale;
	NnCurve		curve;
} NnModel;

static NnLoss
choose_loss(const double *v, const TrainData *d)
{
	int			choice = (int) v[HP_LOSS];

	if (d->task == TASK_CLASSIFICATION)
	{
		if (choice == LOSS_AUTO || choice == LOSS_CE)
			return NN_LOSS_SOFTMAX_CE;
		if (choice == LOSS_BCE)
		{
			if (d->n_classes != 2)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("loss \"binary_cross_entropy\" needs two classes, the target has %d", d->n_classes),
						 errhint("Use \"cross_entropy\" (the default) for more classes.")));
			return NN_LOSS_SIGMOID_BCE;
		}
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("loss \"%s\" is for regression; classification takes cross_entropy or binary_cross_entropy",
						choice == LOSS_MSE ? "mse" : "huber")));
	}
	if (choice == LOSS_AUTO || choice == LOSS_MSE)
		return NN_LOSS_MSE;
	if (choice == LOSS_HUBER)
		return NN_LOSS_HUBER;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("loss \"%s\" is for classification; regression takes mse or huber",
					choice == LOSS_CE ? "cross_entropy" : "binary_cross_entropy")));
	pg_unreachable();
}

static int
output_units(NnLoss loss, int n_classes)
{
	return loss == NN_LOSS_SOFTMAX_CE ? n_classes : 1;
}

/*
 * What distinguishes one neural algorithm from another: its architecture
 * hyperparameters (the first n_arch values; the common block follows) and
 * how they build the network.
 */
typedef struct NnArch
{
	int			n_arch;
	/* Check the architecture against the data before anything is allocated (may be NULL). */
	void		(*check) (const HyperParams *hp, int n_features);
	/* Bytes of parameters and per-row activations the network will need (an estimate from the hyperparameters). */
	double		(*bytes) (const HyperParams *hp, int n_features, int n_out, int batch);
	/* Build the network (weights drawn from rng). */
	void		(*build) (NnNet *net, const HyperParams *hp, int n_features, int n_out, GalaxyRng *rng);
} NnArch;

/* The common block of an algorithm's hyperparameter values. */
#define COMMON(hp, arch) ((hp)->values + (arch)->n_arch)

/*
 * Dense hidden layers: dense → [batch norm] → activation → [dropout] for
 * each width, with the common block's activation, batch_norm and dropout.
 */
static void
add_dense_stack(NnNet *net, const int32 *widths, int n, const double *v, GalaxyRng *rng)
{
	NnActivation act = (NnActivation) (int) v[HP_ACTIVATION];

	for (int i = 0; i < n; i++)
	{
		nn_add_dense(net, widths[i], act, rng);
		if (v[HP_BATCH_NORM] != 0)
			nn_add_batchnorm(net);
		nn_add_activation(net, act);
		if (v[HP_DROPOUT] > 0)
			nn_add_dropout(net, v[HP_DROPOUT]);
	}
}

/*
 * Bytes of a dense stack from 'prev' inputs to n_out outputs: weights and
 * gradients, Adam's two moments and the best epoch's copy (5 floats per
 * parameter), activations and their gradients per batch row.
 */
static double
dense_stack_bytes(const int32 *widths, int n, const double *v, double prev, int n_out, int batch)
{
	double		params = 0,
				rows = 0;

	for (int i = 0; i < n; i++)
	{
		double		h = widths[i];

		params += (prev + 1) * h + (v[HP_BATCH_NORM] != 0 ? 4 * h : 0);
		rows += h * (2 + (v[HP_BATCH_NORM] != 0 ? 2 : 0) + (v[HP_DROPOUT] > 0 ? 2 : 0));
		prev = h;
	}
	params += (prev + 1) * n_out;
	rows += n_out;
	return params * sizeof(float) * 5 + rows * sizeof(float) * 2 * batch;
}

static void
mlp_build(NnNet *net, const HyperParams *hp, int n_features, int n_out, GalaxyRng *rng)
{
	NnShape		in = {1, {n_features, 0, 0}};

	nn_init(net, &in);
	net->init = (NnInit) (int) hp->values[MLP_N_ARCH + HP_INIT];
	add_dense_stack(net, hp->list[MLP_HIDDEN], (int) hp->values[MLP_HIDDEN], hp->values + MLP_N_ARCH, rng);
	nn_add_dense(net, n_out, NN_IDENTITY, rng);
}

static double
mlp_bytes(const HyperParams *hp, int n_features, int n_out, int batch)
{
	return dense_stack_bytes(hp->list[MLP_HIDDEN], (int) hp->values[MLP_HIDDEN], hp->values + MLP_N_ARCH,
							 n_features, n_out, batch) + (double) n_features * sizeof(float) * batch;
}

static const NnArch mlp_arch = {MLP_N_ARCH, NULL, mlp_bytes, mlp_build};

/*
 * cnn: convolution blocks for images held in one numeric array column
 * (input_shape [channels, height, width], or [height, width]), then a dense
 * head.  Each block is conv2d (kernel_size, stride 1, "same" padding) →
 * activation → max pool (pool_size, when the image is still that large).
 */
enum
{
	CNN_INPUT_SHAPE,
	CNN_FILTERS,
	CNN_KERNEL,
	CNN_POOL,
	CNN_DENSE,
	CNN_N_ARCH
};

static const HyperParamSpec cnn_params[] = {
	{"input_shape", HP_INT_LIST, 0, 1, NN_MAX_WIDTH, false, NULL,
	"Shape of each image: [channels, height, width] or [height, width] ([] = one square channel).", ""},
	{"conv_filters", HP_INT_LIST, 0, 1, 4096, false, NULL,
	"Filters of each convolution block, e.g. [32, 64] (one block per entry).", "32,64"},
	{"kernel_size", HP_INT, 3, 1, 15, false, NULL,
	"Side of the square convolution kernels."},
	{"pool_size", HP_INT, 2, 1, 8, false, NULL,
	"Side (and stride) of the max pooling after each block (1 = no pooling)."},
	{"dense_units", HP_INT_LIST, 0, 1, NN_MAX_WIDTH, false, NULL,
	"Widths of the dense layers after the convolutions, e.g. [128].", "128"},
	NN_COMMON_HYPERPARAMS
	{"layers", HP_SPEC_LIST, 0, 0, 0, false, NULL,
		"A custom architecture instead of the blocks: a list of layer objects, e.g. [{\"type\": \"conv2d\", \"filters\": 16}, {\"type\": \"activation\", \"function\": \"relu\"}, {\"type\": \"max_pool2d\"}, {\"type\": \"dense\", \"units\": 64}, {\"type\": \"activation\", \"function\": \"relu\"}] (the output layer is added).",
	NULL, &nn_layer_spec_codec},
};

/* index of "layers": after the common block */
#define CNN_LAYERS (CNN_N_ARCH + HP_INIT + 1)

/* The image shape: input_shape checked against the row's features. */
static NnShape
cnn_input(const HyperParams *hp, int n_features)
{
	int			n = (int) hp->values[CNN_INPUT_SHAPE];
	const int32 *d = hp->list[CNN_INPUT_SHAPE];
	NnShape		s = {3, {1, 0, 0}};

	if (n == 0)
	{
		int			side = (int) floor(sqrt((double) n_features) + 0.5);

		if (side * side != n_features)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cnn needs \"input_shape\": %d features are not one square image", n_features),
					 errhint("Give the shape of each image, e.g. '{\"input_shape\": [3, 32, 32]}'.")));
		s.d[1] = s.d[2] = side;
	}
	else if (n == 2 || n == 3)
	{
		for (int i = 0; i < n; i++)
			s.d[3 - n + i] = d[i];
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"input_shape\" has 2 or 3 dimensions ([height, width] or [channels, height, width]), not %d", n)));
	if (nn_shape_size(&s) != n_features)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"input_shape\" [%d, %d, %d] holds " INT64_FORMAT " values, but the rows have %d features",
						s.d[0], s.d[1], s.d[2], nn_shape_size(&s), n_features),
				 errhint("The features must be the image's array column alone, of channels x height x width values.")));
	return s;
}

static void
cnn_check(const HyperParams *hp, int n_features)
{
	int			k = (int) hp->values[CNN_KERNEL];

	if (hp->values[CNN_LAYERS] > 0)
	{
		/* a custom architecture replaces the blocks' hyperparameters */
		static const int block_params[] = {CNN_FILTERS, CNN_KERNEL, CNN_POOL, CNN_DENSE};

		for (int i = 0; i < (int) lengthof(block_params); i++)
			if (hp->given[block_params[i]])
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("give either \"layers\" or the blocks' conv_filters, kernel_size, pool_size and dense_units, not both")));
		if (hp->values[CNN_N_ARCH + HP_BATCH_NORM] != 0 || hp->values[CNN_N_ARCH + HP_DROPOUT] > 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("with \"layers\", put batch_norm and dropout layers in the list"),
					 errhint("For example {\"type\": \"dropout\", \"rate\": 0.5}.")));
		(void) cnn_input(hp, n_features);
		return;
	}

	(void) cnn_input(hp, n_features);
	if (k % 2 == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"kernel_size\" of cnn must be odd, not %d", k),
				 errdetail("The convolutions keep the image's size (\"same\" padding of (kernel_size - 1) / 2 on every side), which an even kernel cannot do.")));
}

/* Pooling applies while the image is at least pool_size on both sides. */
static bool
cnn_pools(int pool, int h, int w)
{
	return pool > 1 && h >= pool && w >= pool;
}

/* Bytes of the default architecture (the blocks) on image shape s. */
static double
cnn_blocks_bytes(const HyperParams *hp, NnShape s, int n_features, int n_out, int batch)
{
	int			k = (int) hp->values[CNN_KERNEL];
	int			pool = (int) hp->values[CNN_POOL];
	double		c = s.d[0],
				h = s.d[1],
				w = s.d[2];
	double		params = 0,
				rows = n_features;

	for (int i = 0; i < (int) hp->values[CNN_FILTERS]; i++)
	{
		double		f = hp->list[CNN_FILTERS][i];

		h = h + 2 * (k / 2) - k + 1;
		w = w + 2 * (k / 2) - k + 1;
		params += (c * k * k + 1) * f;
		/* conv output and gradient, its columns and transposed products, the activation's two */
		rows += f * h * w * 5 + c * k * k * h * w;
		if (cnn_pools(pool, (int) h, (int) w))
		{
			h = floor((h - pool) / pool) + 1;
			w = floor((w - pool) / pool) + 1;
			rows += f * h * w * 3;
		}
		c = f;
	}
	return params * sizeof(float) * 5 + rows * sizeof(float) * batch +
		dense_stack_bytes(hp->list[CNN_DENSE], (int) hp->values[CNN_DENSE], hp->values + CNN_N_ARCH,
						  c * h * w, n_out, batch);
}

static double
cnn_bytes(const HyperParams *hp, int n_features, int n_out, int batch)
{
	NnShape		s = cnn_input(hp, n_features);

	if (hp->values[CNN_LAYERS] > 0)
		return nn_layer_spec_bytes(hp->list[CNN_LAYERS], (int) hp->values[CNN_LAYERS], s, n_out, batch);
	return cnn_blocks_bytes(hp, s, n_features, n_out, batch);
}

static void
cnn_build(NnNet *net, const HyperParams *hp, int n_features, int n_out, GalaxyRng *rng)
{
	NnShape		in = cnn_input(hp, n_features);
	const double *v = hp->values + CNN_N_ARCH;
	NnActivation act = (NnActivation) (int) v[HP_ACTIVATION];
	int			k = (int) hp->values[CNN_KERNEL];
	int			pool = (int) hp->values[CNN_POOL];

	nn_init(net, &in);
	net->init = (NnInit) (int) v[HP_INIT];
	if (hp->values[CNN_LAYERS] > 0)
	{
		nn_layer_spec_build(net, hp->list[CNN_LAYERS], (int) hp->values[CNN_LAYERS], rng);
		nn_add_dense(net, n_out, NN_IDENTITY, rng);
		return;
	}
	for (int i = 0; i < (int) hp->values[CNN_FILTERS]; i++)
	{
		NnShape		cur;

		nn_add_conv2d(net, hp->list[CNN_FILTERS][i], k, 1, k / 2, act, rng);
		nn_add_activation(net, act);
		cur = nn_output_shape(net);
		if (cnn_pools(pool, cur.d[1], cur.d[2]))
			nn_add_pool2d(net, NN_MAXPOOL2D, pool, pool);
	}
	nn_add_flatten(net);
	add_dense_stack(net, hp->list[CNN_DENSE], (int) hp->values[CNN_DENSE], v, rng);
	nn_add_dense(net, n_out, NN_IDENTITY, rng);
}

static const NnArch cnn_arch = {CNN_N_ARCH, cnn_check, cnn_bytes, cnn_build};

/*
 * lstm: sequences held in one numeric array column, row-major as
 * [steps, features] (input_shape; [] = one feature per step), or token ids
 * (vocab_size > 0, or a text column read as a sequence: each row is [steps]
 * ids, embedded in embedding_dim dimensions first).  Stacked LSTM
 * (or, with cell = gru, GRU) layers (every one but the last passes its
 * whole sequence on), the last step's hidden state, an optional dense head,
 * the output.
 */
enum
{
	LSTM_INPUT_SHAPE,
	LSTM_UNITS,
	LSTM_DENSE,
	LSTM_CELL,
	LSTM_N_ARCH
};

static const HyperParamSpec lstm_params[] = {
	{"input_shape", HP_INT_LIST, 0, 1, NN_MAX_WIDTH, false, NULL,
	"Shape of each sequence: [steps, features] ([] = one feature per step).", ""},
	{"lstm_units", HP_INT_LIST, 0, 1, 4096, false, NULL,
	"Hidden size of each stacked LSTM layer, e.g. [64] or [64, 32].", "64"},
	{"dense_units", HP_INT_LIST, 0, 1, NN_MAX_WIDTH, false, NULL,
	"Widths of dense layers after the last LSTM step ([] = none).", ""},
	{"cell", HP_ENUM, 0, 0, 0, false, "lstm,gru",
	"Recurrent cell: lstm (4 gates) or gru (3 gates, fewer weights)."},
	NN_COMMON_HYPERPARAMS
	/* after the common block: models stored before them read their defaults */
	{"vocab_size", HP_INT, 0, 0, NN_MAX_VOCAB, false, NULL,
	"0: numeric sequences (or, for a text column read as a sequence, its vocabulary's size); above 0: the features are token ids 0 .. vocab_size - 1 (0 = padding), embedded first."},
	{"embedding_dim", HP_INT, 64, 1, NN_MAX_EMBED, false, NULL,
	"Dimensions of the token embedding (token ids only)."},
};

#define LSTM_VOCAB (LSTM_N_ARCH + HP_INIT + 1)
#define LSTM_EMBED (LSTM_N_ARCH + HP_INIT + 2)

static NnShape
lstm_input(const HyperParams *hp, int n_features)
{
	int			n = (int) hp->values[LSTM_INPUT_SHAPE];
	NnShape		s = {2, {n_features, 1, 0}};

	if (hp->values[LSTM_VOCAB] > 0)
	{
		/* token ids: [steps], embedded into [steps, embedding_dim] */
		s.ndim = 1;
		s.d[1] = 0;
		if (n == 1)
			s.d[0] = hp->list[LSTM_INPUT_SHAPE][0];
		else if (n != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"input_shape\" of an lstm over token ids has 1 dimension ([steps]), not %d", n)));
		if (s.d[0] != n_features)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"input_shape\" [%d] holds %d token ids, but the rows have %d features",
							s.d[0], s.d[0], n_features)));
		return s;
	}
	if (n == 2)
	{
		s.d[0] = hp->list[LSTM_INPUT_SHAPE][0];
		s.d[1] = hp->list[LSTM_INPUT_SHAPE][1];
	}
	else if (n != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"input_shape\" of lstm has 2 dimensions ([steps, features]), not %d", n)));
	if (nn_shape_size(&s) != n_features)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"input_shape\" [%d, %d] holds " INT64_FORMAT " values, but the rows have %d features",
						s.d[0], s.d[1], nn_shape_size(&s), n_features),
				 errhint("The features must be the sequence's array column alone, of steps x features values.")));
	return s;
}

static void
lstm_check(const HyperParams *hp, int n_features)
{
	(void) lstm_input(hp, n_features);
	if (hp->values[LSTM_UNITS] < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"lstm_units\" needs at least one layer")));
}

static double
lstm_bytes(const HyperParams *hp, int n_features, int n_out, int batch)
{
	NnShape		s = lstm_input(hp, n_features);
	double		T = s.d[0],
				f = s.d[1];
	double		params = 0,
				rows = n_features;

	if (hp->values[LSTM_VOCAB] > 0)
	{
		/* the embedding's table and its [steps, embedding_dim] output and gradient */
		f = hp->values[LSTM_EMBED];
		params += hp->values[LSTM_VOCAB] * f;
		rows += 2 * T * f;
	}

	for (int i = 0; i < (int) hp->values[LSTM_UNITS]; i++)
	{
		double		h = hp->list[LSTM_UNITS][i];

		params += (hp->values[LSTM_CELL] == 1 ? 3 : 4) * h * (f + h + 2);
		/* gates, states, step-major inputs, outputs and their gradients */
		rows += T * (4 * h + 2 * h + f + 2 * h) + 2 * h;
		f = h;
	}
	return params * sizeof(float) * 5 + rows * sizeof(float) * batch +
		dense_stack_bytes(hp->list[LSTM_DENSE], (int) hp->values[LSTM_DENSE], hp->values + LSTM_N_ARCH,
						  f, n_out, batch);
}

static void
lstm_build(NnNet *net, const HyperParams *hp, int n_features, int n_out, GalaxyRng *rng)
{
	NnShape		in = lstm_input(hp, n_features);
	int			layers = (int) hp->values[LSTM_UNITS];

	nn_init(net, &in);
	net->init = (NnInit) (int) hp->values[LSTM_N_ARCH + HP_INIT];
	if (hp->values[LSTM_VOCAB] > 0)
		nn_add_embedding(net, (int) hp->values[LSTM_VOCAB], (int) hp->values[LSTM_EMBED], rng);
	for (int i = 0; i < layers; i++)
	{
		if (hp->values[LSTM_CELL] == 1)
			nn_add_gru(net, hp->list[LSTM_UNITS][i], i < layers - 1, rng);
		else
			nn_add_lstm(net, hp->list[LSTM_UNITS][i], i < layers - 1, rng);
	}
	add_dense_stack(net, hp->list[LSTM_DENSE], (int) hp->values[LSTM_DENSE], hp->values + LSTM_N_ARCH, rng);
	nn_add_dense(net, n_out, NN_IDENTITY, rng);
}

static const NnArch lstm_arch = {LSTM_N_ARCH, lstm_check, lstm_bytes, lstm_build};

/*
 * transformer: a small encoder over sequences held in one numeric array
 * column, [steps, features] (input_shape; [] = one feature per step), or
 * over token ids (vocab_size > 0: each row is [steps] integers 0 ..
 * vocab_size - 1, id 0 for padding).  The input is projected to d_model
 * (a dense layer at every step, or an embedding), sinusoidal position codes
 * are added, then 'layers' pre-norm encoder blocks run — x + attention(
 * layer_norm(x)), then x + feed_forward(layer_norm(x)) with ff_units and
 * the activation — and a final layer norm, the mean over the steps, an
 * optional dense head and the output.  dropout applies after the attention
 * and the feed-forward block.
 */
enum
{
	TF_INPUT_SHAPE,
	TF_VOCAB,
	TF_D_MODEL,
	TF_HEADS,
	TF_LAYERS,
	TF_FF,
	TF_POSITIONAL,
	TF_DENSE,
	TF_N_ARCH
};

static const HyperParamSpec transformer_params[] = {
	{"input_shape", HP_INT_LIST, 0, 1, NN_MAX_WIDTH, false, NULL,
	"Shape of each sequence: [steps, features], or [steps] of token ids ([] = one feature per step).", ""},
	{"vocab_size", HP_INT, 0, 0, NN_MAX_VOCAB, false, NULL,
	"0: numeric sequences; above 0: the features are token ids 0 .. vocab_size - 1 (0 = padding), embedded in d_model dimensions."},
	{"d_model", HP_INT, 64, 1, NN_MAX_EMBED, false, NULL,
	"Width of the encoder (the embedding or input projection, attention and residual stream)."},
	{"heads", HP_INT, 4, 1, 256, false, NULL,
	"Attention heads per block (must divide d_model)."},
	{"layers", HP_INT, 2, 1, 16, false, NULL,
	"Encoder blocks (attention + feed-forward, each with a residual connection and layer norm)."},
	{"ff_units", HP_INT, 128, 1, 65536, false, NULL,
	"Width of each block's feed-forward layer."},
	{"positional_encoding", HP_ENUM, 0, 0, 0, false, "sinusoidal,none",
	"Position codes added to the inputs: sinusoidal, or none."},
	{"dense_units", HP_INT_LIST, 0, 1, NN_MAX_WIDTH, false, NULL,
	"Widths of dense layers after the mean over the steps ([] = none).", ""},
	NN_COMMON_HYPERPARAMS
};

static NnShape
transformer_input(const HyperParams *hp, int n_features)
{
	int			n = (int) hp->values[TF_INPUT_SHAPE];
	bool		tokens = hp->values[TF_VOCAB] > 0;
	NnShape		s;

	if (tokens)
	{
		s.ndim = 1;
		s.d[0] = n == 1 ? hp->list[TF_INPUT_SHAPE][0] : n_features;
		if (n > 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"input_shape\" of a transformer over token ids has 1 dimension ([steps]), not %d", n)));
	}
	else
	{
		s.ndim = 2;
		s.d[0] = n_features;
		s.d[1] = 1;
		if (n == 2)
		{
			s.d[0] = hp->list[TF_INPUT_SHAPE][0];
			s.d[1] = hp->list[TF_INPUT_SHAPE][1];
		}
		else if (n != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"input_shape\" of transformer has 2 dimensions ([steps, features]), not %d", n),
					 errhint("For token ids, set \"vocab_size\".")));
	}
	if (nn_shape_size(&s) != n_features)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"input_shape\" holds " INT64_FORMAT " values, but the rows have %d features",
						nn_shape_size(&s), n_features),
				 errhint("The features must be the sequence's array column alone.")));
	return s;
}

static void
transformer_check(const HyperParams *hp, int n_features)
{
	int			D = (int) hp->values[TF_D_MODEL];
	int			H = (int) hp->values[TF_HEADS];

	(void) transformer_input(hp, n_features);
	if (D % H != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"heads\" (%d) must divide \"d_model\" (%d)", H, D)));
	if (hp->values[TF_N_ARCH + HP_BATCH_NORM] != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("transformer uses layer normalisation, not batch_norm"),
				 errhint("Leave batch_norm out.")));
}

static double
transformer_bytes(const HyperParams *hp, int n_features, int n_out, int batch)
{
	NnShape		s = transformer_input(hp, n_features);
	double		T = s.d[0],
				D = hp->values[TF_D_MODEL],
				H = hp->values[TF_HEADS],
				ff = hp->values[TF_FF],
				L = hp->values[TF_LAYERS];
	double		params,
				rows;

	params = hp->values[TF_VOCAB] > 0 ? hp->values[TF_VOCAB] * D : (s.d[1] + 1) * D;
	params += L * (4 * D + 4 * D * D + 4 * D + 2 * D * ff + ff + D) + 2 * D;
	/* per block: outputs and gradients of its layers, attention and norm scratch, the weights of every head */
	rows = n_features + 6 * T * D + L * (T * (30 * D + 4 * ff) + H * T * T + 2 * T);
	return params * sizeof(float) * 5 + rows * sizeof(float) * batch + T * D * sizeof(float) +
		dense_stack_bytes(hp->list[TF_DENSE], (int) hp->values[TF_DENSE], hp->values + TF_N_ARCH,
						  D, n_out, batch);
}

static void
transformer_build(NnNet *net, const HyperParams *hp, int n_features, int n_out, GalaxyRng *rng)
{
	NnShape		in = transformer_input(hp, n_features);
	const double *v = hp->values + TF_N_ARCH;
	NnActivation act = (NnActivation) (int) v[HP_ACTIVATION];
	int			D = (int) hp->values[TF_D_MODEL];
	double		drop = v[HP_DROPOUT];

	nn_init(net, &in);
	net->init = (NnInit) (int) v[HP_INIT];
	if (hp->values[TF_VOCAB] > 0)
		nn_add_embedding(net, (int) hp->values[TF_VOCAB], D, rng);
	else
		nn_add_dense_steps(net, D, NN_IDENTITY, rng);
	if (hp->values[TF_POSITIONAL] == 0)
		nn_add_positional(net);
	for (int i = 0; i < (int) hp->values[TF_LAYERS]; i++)
	{
		int			b = nn_boundary(net);

		nn_add_layernorm(net);
		nn_add_attention(net, (int) hp->values[TF_HEADS], rng);
		if (drop > 0)
			nn_add_dropout(net, drop);
		nn_add_residual(net, b);
		b = nn_boundary(net);
		nn_add_layernorm(net);
		nn_add_dense_steps(net, (int) hp->values[TF_FF], act, rng);
		nn_add_activation(net, act);
		nn_add_dense_steps(net, D, NN_IDENTITY, rng);
		if (drop > 0)
			nn_add_dropout(net, drop);
		nn_add_residual(net, b);
	}
	nn_add_layernorm(net);
	nn_add_seq_meanpool(net);
	add_dense_stack(net, hp->list[TF_DENSE], (int) hp->values[TF_DENSE], v, rng);
	nn_add_dense(net, n_out, NN_IDENTITY, rng);
}

static const NnArch transformer_arch = {TF_N_ARCH, transformer_check, transformer_bytes, transformer_build};

static void
optim_config(const double *v, NnOptimConfig *oc)
{
	memset(oc, 0, sizeof(*oc));
	oc->kind = (NnOptimizer) (int) v[HP_OPTIMIZER];
	oc->learning_rate = v[HP_LEARNING_RATE];
	oc->momentum = v[HP_MOMENTUM];
	oc->nesterov = v[HP_NESTEROV] != 0;
	oc->beta1 = 0.9;
	oc->beta2 = 0.999;
	oc->adam_eps = 1e-8;
	oc->weight_decay = v[HP_WEIGHT_DECAY];
	oc->clip_norm = v[HP_CLIP_NORM];
	oc->schedule = (NnSchedule) (int) v[HP_LR_SCHEDULE];
	oc->step_size = (int) v[HP_LR_STEP_SIZE];
	oc->gamma = v[HP_LR_GAMMA];
	oc->patience = (int) v[HP_LR_PATIENCE];
}

/* The one fit of every neural algorithm: data, network, training loop. */
static void *
nn_fit_arch(const TrainData *d, const HyperParams *hp, const FitContext *ctx, const NnArch *arch)
{
	NnModel    *m = palloc0(sizeof(NnModel));
	int			p = d->n_features;
	const double *v = COMMON(hp, arch);
	const bool *given = hp->given + arch->n_arch;
	NnLoss		loss = choose_loss(v, d);
	int			k = output_units(loss, d->n_classes);
	double		vf = v[HP_VALIDATION_FRACTION];
	int64		n = d->n_rows;
	int64		n_val = (int64) floor(n * vf);
	int64		n_train;
	uint64		seed = v[HP_SEED] >= 0 ? (uint64) v[HP_SEED] : ctx->seed;
	int			batch;
	double		need;
	int64	   *order;
	const float *X;
	float	   *Xbuf = NULL;
	float	   *y;
	float	   *class_w = NULL;
	GalaxyRng	rng;
	NnTrainConfig cfg;
	NnTrainData tr,
				va;

	if (given[HP_EARLY_STOPPING] && v[HP_EARLY_STOPPING] > 0 && vf == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("early_stopping_rounds needs a validation split"),
				 errhint("Set validation_fraction above 0, or set early_stopping_rounds to 0.")));
	if (v[HP_BATCH_NORM] != 0 && v[HP_BATCH_SIZE] < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_norm needs batch_size of at least 2"),
				 errdetail("Batch normalisation uses each batch's mean and variance, which one row does not have.")));
	if (arch->check)
		arch->check(hp, p);
	if (n_val >= n)
		n_val = n - 1;
	n_train = n - n_val;
	batch = (int) Min((int64) v[HP_BATCH_SIZE], n_train);

	/* everything the fit allocates, before it allocates */
	need = arch->bytes(hp, p, k, batch) + (double) n * (sizeof(float) + 2 * sizeof(int64));
	if (d->Xf == NULL)
		need += (double) n * p * sizeof(float);
	if (need > (double) MaxAllocHugeSize)
		need = (double) MaxAllocHugeSize;
	galaxy_check_training_memory((Size) need, "the neural network");

	m->task = d->task;
	m->n_features = p;
	m->n_classes = d->task == TASK_CLASSIFICATION ? d->n_classes : 0;
	m->loss = loss;
	m->y_mean = 0.0;
	m->y_scale = 1.0;

	/* the validation rows: a seeded shuffle's first n_val rows; the others train */
	galaxy_rng_seed(&rng, seed, 0x5641);
	order = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * n);
	for (int64 i = 0; i < n; i++)
		order[i] = i;
	if (n_val > 0)
		galaxy_rng_shuffle(&rng, order, n);

	if (d->task == TASK_REGRESSION)
	{
		double		s = 0,
					ss = 0;

		for (int64 i = n_val; i < n; i++)
			s += d->y[order[i]];
		m->y_mean = s / n_train;
		for (int64 i = n_val; i < n; i++)
			ss += (d->y[order[i]] - m->y_mean) * (d->y[order[i]] - m->y_mean);
		m->y_scale = sqrt(ss / n_train);
		if (!(m->y_scale > 0) || !isfinite(m->y_scale))
			m->y_scale = 1.0;
	}
	y = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * n);
	for (int64 i = 0; i < n; i++)
		y[i] = d->task == TASK_REGRESSION ?
			(float) ((d->y[i] - m->y_mean) / m->y_scale) : (float) d->y[i];

	/* the features in float32, in row order: the caller's, or converted here */
	if (d->Xf)
		X = d->Xf;
	else
	{
		Xbuf = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(n * p, 1));
		for (int64 i = 0; i < n * p; i++)
		{
			Xbuf[i] = (float) d->X[i];
			if ((i & 0xFFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
		}
		X = Xbuf;
	}

	if (d->task == TASK_CLASSIFICATION && (int) v[HP_CLASS_WEIGHT] == 1)
	{
		int64	   *counts = palloc0(sizeof(int64) * d->n_classes);
		int			present = 0;

		for (int64 i = n_val; i < n; i++)
			counts[(int) y[order[i]]]++;
		for (int c = 0; c < d->n_classes; c++)
			present += counts[c] > 0;
		class_w = palloc0(sizeof(float) * d->n_classes);
		for (int c = 0; c < d->n_classes; c++)
			class_w[c] = counts[c] > 0 ? (float) ((double) n_train / ((double) present * counts[c])) : 0.0f;
		pfree(counts);
	}

	galaxy_rng_seed(&rng, seed, 0x494E);
	arch->build(&m->net, hp, p, k, &rng);

	memset(&cfg, 0, sizeof(cfg));
	cfg.loss = loss;
	cfg.class_weight = class_w;
	cfg.huber_delta = v[HP_HUBER_DELTA];
	cfg.batch_size = batch;
	cfg.epochs = (int) v[HP_EPOCHS];
	cfg.patience = n_val > 0 ? (int) v[HP_EARLY_STOPPING] : 0;
	optim_config(v, &cfg.optim);
	cfg.seed = seed;
	cfg.classification = d->task == TASK_CLASSIFICATION;

	va.n = n_val;
	va.X = X;
	va.y = y;
	va.rows = order;
	tr.n = n_train;
	tr.X = X;
	tr.y = y;
	tr.rows = order + n_val;
	nn_train(&m->net, &cfg, &tr, &va, ctx, &m->curve);

	if (Xbuf)
		pfree(Xbuf);
	pfree(y);
	pfree(order);
	if (class_w)
		pfree(class_w);
	return m;
}

/*
 * The trainable parameters of the network an architecture builds for
 * n_features inputs, counted on a network built (and freed) here; one
 * larger than galaxy.max_training_memory is estimated from its bytes
 * instead (at least that many: it could not be fitted anyway).
 */
static int64
nn_count_arch(const HyperParams *hp, int n_features, int n_classes, GalaxyTask task, const NnArch *arch)
{
	const double *v = COMMON(hp, arch);
	TrainData	d = {0};
	int			k;
	double		bytes;
	MemoryContext tmp,
				old;
	NnNet		net;
	GalaxyRng	rng;
	int64		n;

	d.task = task;
	d.n_classes = n_classes;
	k = output_units(choose_loss(v, &d), n_classes);
	if (arch->check)
		arch->check(hp, n_features);
	bytes = arch->bytes(hp, n_features, k, 1);
	if (bytes > (double) galaxy_max_training_memory_mb * 1024.0 * 1024.0)
		return (int64) Min(bytes / (5 * sizeof(float)), (double) PG_INT64_MAX / 2);
	tmp = AllocSetContextCreate(CurrentMemoryContext, "galaxy parameter count", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(tmp);
	galaxy_rng_seed(&rng, 0, 0x494E);
	memset(&net, 0, sizeof(net));
	arch->build(&net, hp, n_features, k, &rng);
	n = nn_param_count(&net);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
	return n;
}

static int64
mlp_count(const HyperParams *hp, int n_features, int n_classes, GalaxyTask task)
{
	return nn_count_arch(hp, n_features, n_classes, task, &mlp_arch);
}

static int64
cnn_count(const HyperParams *hp, int n_features, int n_classes, GalaxyTask task)
{
	return nn_count_arch(hp, n_features, n_classes, task, &cnn_arch);
}

static void *
mlp_fit(const TrainData *d, const HyperParams *hp, const FitContext *ctx)
{
	return nn_fit_arch(d, hp, ctx, &mlp_arch);
}

static void *
cnn_fit(const TrainData *d, const HyperParams *hp, const FitContext *ctx)
{
	return nn_fit_arch(d, hp, ctx, &cnn_arch);
}

/*
 * A fit over token ids (hyperparameter 'vocab' > 0, or a text column read
 * as a sequence: d->n_tokens): the ids must be whole numbers 0 .. vocab - 1
 * (an unscaled integer array); with a text column, vocab_size comes from its
 * vocabulary when not given (ERROR when given too small).
 */
static void *
token_fit(const TrainData *d, const HyperParams *hp, const FitContext *ctx, const NnArch *arch,
		  int vocab_index)
{
	int			vocab = (int) hp->values[vocab_index];
	HyperParams *own = NULL;
	void	   *state;

	if (d->n_tokens > 0)
	{
		if (hp->given[vocab_index] && vocab < d->n_tokens)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("vocab_size %d is smaller than the %d token ids of the text column's vocabulary",
							vocab, d->n_tokens),
					 errhint("Leave vocab_size out: it follows the vocabulary (\"max_features\" limits it).")));
		if (!hp->given[vocab_index])
		{
			own = palloc(sizeof(HyperParams));
			memcpy(own, hp, sizeof(HyperParams));
			own->values[vocab_index] = d->n_tokens;
			hp = own;
			vocab = d->n_tokens;
		}
	}
	if (vocab > 0)
	{
		int64		n = d->n_rows * d->n_features;

		for (int64 i = 0; i < n; i++)
		{
			double		x = d->Xf ? (double) d->Xf[i] : d->X[i];

			if (!(x >= 0 && x < vocab && x == floor(x)))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s with vocab_size %d needs token ids 0 to %d, not %g", arch == &lstm_arch ? "lstm" : "transformer",
								vocab, vocab - 1, x),
						 errdetail("In training row " INT64_FORMAT ", element %d of the sequence.",
								   i / d->n_features + 1, (int) (i % d->n_features) + 1),
						 errhint("Store token ids in an integer array column, raise vocab_size, and do not scale them (preprocess \"scale\": \"none\" is the default here).")));
		}
	}
	state = nn_fit_arch(d, hp, ctx, arch);
	if (own)
		pfree(own);
	return state;
}

static void *
lstm_fit(const TrainData *d, const HyperParams *hp, const FitContext *ctx)
{
	return token_fit(d, hp, ctx, &lstm_arch, LSTM_VOCAB);
}

/* Token ids are not scaled; numeric sequences are. */
static bool
lstm_scales(const HyperParams *hp)
{
	return hp->values[LSTM_VOCAB] == 0;
}

static bool
transformer_scales(const HyperParams *hp)
{
	return hp->values[TF_VOCAB] == 0;
}

static void *
transformer_fit(const TrainData *d, const HyperParams *hp, const FitContext *ctx)
{
	return token_fit(d, hp, ctx, &transformer_arch, TF_VOCAB);
}

/* Outputs of up to this many values come back on the caller's stack (one row: no allocation). */
#define NN_STACK_OUTPUTS 256

/*
 * The network's raw outputs for n rows: into 'stack' when they fit, else
 * into one allocation for the call (the caller frees it when it is not
 * 'stack').
 */
static float *
network_outputs(NnModel *m, const double *X, int64 n, float *stack)
{
	int			k = output_units(m->loss, m->n_classes);
	float	   *res = (n * k <= NN_STACK_OUTPUTS) ? stack :
		MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * n * k);

	nn_predict(&m->net, X, n, res);
	return res;
}

static void
nn_predict_values(const void *state, const double *X, int64 n, double *out)
{
	NnModel    *m = (NnModel *) state;	/* only the inference buffers change */
	int			k = output_units(m->loss, m->n_classes);
	float		stack[NN_STACK_OUTPUTS];
	float	   *res = network_outputs(m, X, n, stack);

	for (int64 i = 0; i < n; i++)
	{
		const float *o = res + i * k;

		if (m->task == TASK_REGRESSION)
			out[i] = o[0] * m->y_scale + m->y_mean;
		else if (m->loss == NN_LOSS_SIGMOID_BCE)
			/* as predict_proba decides (1 - p < p), so scoring may use either */
			out[i] = logistic(o[0]) > 0.5 ? 1 : 0;
		else
		{
			int			best = 0;

			for (int j = 1; j < k; j++)
				if (o[j] > o[best])
					best = j;
			out[i] = best;
		}
	}
	if (res != stack)
		pfree(res);
}

static void
nn_predict_probabilities(const void *state, const double *X, int64 n, double *out)
{
	NnModel    *m = (NnModel *) state;
	int			k = output_units(m->loss, m->n_classes);
	int			c = m->n_classes;
	float		stack[NN_STACK_OUTPUTS];
	float	   *res = network_outputs(m, X, n, stack);

	for (int64 i = 0; i < n; i++)
	{
		const float *o = res + i * k;
		double	   *p = out + i * c;

		if (m->loss == NN_LOSS_SIGMOID_BCE)
		{
			p[1] = logistic(o[0]);
			p[0] = 1.0 - p[1];
		}
		else
		{
			for (int j = 0; j < k; j++)
				p[j] = o[j];
			vec_exp_normalise(p, k, p[vec_argmax(p, k)], p);
		}
	}
	if (res != stack)
		pfree(res);
}

static void
nn_serialize(const void *state, ModelWriter *w)
{
	const NnModel *m = state;

	mw_tag(w, "MLP1");
	mw_u8(w, (uint8) m->loss);
	mw_f64(w, m->y_mean);
	mw_f64(w, m->y_scale);
	nn_write(&m->net, w);
	mw_u32(w, (uint32) m->curve.epochs);
	mw_u32(w, (uint32) m->curve.best_epoch);
	mw_f64s(w, m->curve.loss, m->curve.epochs);
	mw_f64s(w, m->curve.val_loss, m->curve.epochs);
}

static void *
nn_deserialize(ModelReader *r, int n_features, int n_classes, GalaxyTask task)
{
	NnModel    *m = palloc0(sizeof(NnModel));
	uint8		loss;
	NnShape		in,
				out;
	uint32		epochs;

	if (task != TASK_CLASSIFICATION && task != TASK_REGRESSION)
		mr_corrupt("neural_network does not do %s", galaxy_task_name(task));
	mr_tag(r, "MLP1");
	loss = mr_u8(r);
	if (task == TASK_CLASSIFICATION ?
		!(loss == NN_LOSS_SOFTMAX_CE || (loss == NN_LOSS_SIGMOID_BCE && n_classes == 2)) :
		!(loss == NN_LOSS_MSE || loss == NN_LOSS_HUBER))
		mr_corrupt("loss %u does not fit a %s model", loss, galaxy_task_name(task));
	m->loss = (NnLoss) loss;
	m->task = task;
	m->n_features = n_features;
	m->n_classes = task == TASK_CLASSIFICATION ? n_classes : 0;
	m->y_mean = mr_f64_finite(r, "target mean");
	m->y_scale = mr_f64_finite(r, "target scale");
	if (!(m->y_scale > 0))
		mr_corrupt("target scale %g", m->y_scale);

	nn_read(&m->net, r);
	in = m->net.input;
	out = nn_output_shape(&m->net);
	if (nn_shape_size(&in) != n_features)
		mr_corrupt("network takes " INT64_FORMAT " inputs, the model has %d features", nn_shape_size(&in), n_features);
	if (out.ndim != 1 || out.d[0] != output_units(m->loss, m->n_classes))
		mr_corrupt("network has " INT64_FORMAT " outputs, %d expected",
				   nn_shape_size(&out), output_units(m->loss, m->n_classes));

	epochs = mr_count(r, 1000000, 2 * sizeof(double), "epoch");
	m->curve.best_epoch = (int) mr_u32(r);
	m->curve.epochs = (int) epochs;
	if (m->curve.best_epoch < 0 || m->curve.best_epoch > (int) epochs)
		mr_corrupt("best epoch %d of %u", m->curve.best_epoch, epochs);
	if ((uint64) epochs * 2 * sizeof(double) > mr_remaining(r))
		mr_corrupt("training curve of %u epochs does not fit in the bytes left", epochs);
	m->curve.loss = palloc(sizeof(double) * Max(epochs, 1));
	m->curve.val_loss = palloc(sizeof(double) * Max(epochs, 1));
	mr_f64s(r, m->curve.loss, epochs);
	mr_f64s(r, m->curve.val_loss, epochs);

	/* inference buffers live with the state: predict then allocates nothing per row */
	nn_alloc_buffers(&m->net, nn_inference_batch(&m->net), false);
	return m;
}

/*
 * galaxy.compress: a copy of the network (written and read back) whose
 * dense layers hold int8 weights per unit ('int8'; other layers stay
 * float), or have their smallest weights zero and stored sparse ('prune').
 */
/*
 * Fine-tune a pruned network for a few epochs on the rows of d, with the
 * hyperparameters of its fit (optimizer, learning rate, batch size, loss)
 * and its pruned weights held at zero (nn_train keeps a pruned layer's
 * mask).  No validation split: every row trains.  The model's learning
 * curve stays the one of its fit.
 */
static void
nn_fine_tune(NnModel *m, const TrainData *d, const HyperParams *hp, const NnArch *arch, int epochs,
			 uint64 seed)
{
	const double *v = COMMON(hp, arch);
	int64		n = d->n_rows;
	int			p = d->n_features;
	NnTrainConfig cfg;
	NnTrainData tr;
	NnCurve		curve;
	float	   *X;
	float	   *y;

	if (p != m->n_features)
		elog(ERROR, "fine-tuning rows have %d features, the network %d", p, m->n_features);
	galaxy_check_training_memory((Size) ((double) n * (p + 1) * sizeof(float)), "fine-tuning the pruned network");
	X = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(n * p, 1));
	y = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(n, 1));
	for (int64 i = 0; i < n * p; i++)
	{
		X[i] = (float) d->X[i];
		if ((i & 0xFFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	for (int64 i = 0; i < n; i++)
		y[i] = m->task == TASK_REGRESSION ?
			(float) ((d->y[i] - m->y_mean) / m->y_scale) : (float) d->y[i];

	memset(&cfg, 0, sizeof(cfg));
	cfg.loss = m->loss;
	cfg.huber_delta = v[HP_HUBER_DELTA];
	cfg.batch_size = (int) Min((int64) v[HP_BATCH_SIZE], n);
	cfg.epochs = epochs;
	cfg.patience = 0;
	optim_config(v, &cfg.optim);
	cfg.seed = seed;
	cfg.classification = m->task == TASK_CLASSIFICATION;
	tr.n = n;
	tr.X = X;
	tr.y = y;
	tr.rows = NULL;
	nn_train(&m->net, &cfg, &tr, NULL, NULL, &curve);
	pfree(X);
	pfree(y);
}

static void *
nn_compress(const void *state, const CompressOptions *opt, uint16 *format)
{
	const NnModel *m = state;
	NnModel    *c;
	ModelWriter w;
	ModelReader r;

	mw_init(&w);
	nn_serialize(state, &w);
	mr_init(&r, w.buf.data, w.buf.len);
	r.format = MODEL_FORMAT_QUANT;
	c = nn_deserialize(&r, m->n_features, m->n_classes, m->task);
	pfree(w.buf.data);
	if ((strcmp(opt->method, "prune") == 0 ? nn_prune(&c->net, opt->sparsity) : nn_quantize(&c->net)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the network has no dense layer left to %s", opt->method)));
	if (strcmp(opt->method, "prune") == 0 && opt->epochs > 0 && opt->data != NULL && opt->hp != NULL)
		nn_fine_tune(c, opt->data, opt->hp,
					 opt->algorithm && strcmp(opt->algorithm, "cnn") == 0 ? &cnn_arch : &mlp_arch,
					 opt->epochs, opt->seed);
	*format = MODEL_FORMAT_QUANT;
	return c;
}

static void
nn_fit_metrics(const void *state, void (*add) (const char *name, double value, void *arg), void *arg)
{
	const NnModel *m = state;

	add("epochs_trained", m->curve.epochs, arg);
	add("best_epoch", m->curve.best_epoch, arg);
}

/* JSON number array of a curve. */
static void
push_curve(JsonbParseState **st, const char *key, const double *v, int n)
{
	jb_key(st, key);
	pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < n; i++)
		jb_num(st, WJB_ELEM, v[i]);
	pushJsonbValue(st, WJB_END_ARRAY, NULL);
}

static void
nn_describe_state(const void *state, const struct Preprocessor *prep, JsonbParseState **st)
{
	const NnModel *m = state;

	jb_key(st, "architecture");
	pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
	jb_kv_int(st, "inputs", nn_shape_size(&m->net.input));
	jb_kv_int(st, "outputs", nn_output_size(&m->net));
	jb_kv_int(st, "parameters", nn_param_count(&m->net));
	jb_kv_str(st, "loss", nn_loss_name(m->loss));
	jb_key(st, "layers");
	nn_describe(&m->net, st);
	pushJsonbValue(st, WJB_END_OBJECT, NULL);

	jb_key(st, "training_curve");
	pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
	jb_kv_int(st, "epochs", m->curve.epochs);
	jb_kv_int(st, "best_epoch", m->curve.best_epoch);
	push_curve(st, "loss", m->curve.loss, m->curve.epochs);
	push_curve(st, "val_loss", m->curve.val_loss, m->curve.epochs);
	pushJsonbValue(st, WJB_END_OBJECT, NULL);
}

/* What every neural algorithm shares: tasks, scaling, prediction, storage, describe. */
#define NN_ALGORITHM_HOOKS \
	.tasks = TASK_BIT(TASK_CLASSIFICATION) | TASK_BIT(TASK_REGRESSION), \
	.default_scaling = true, \
	.predict = nn_predict_values, \
	.predict_proba = nn_predict_probabilities, \
	.serialize = nn_serialize, \
	.deserialize = nn_deserialize, \
	.fit_metrics = nn_fit_metrics, \
	.describe = nn_describe_state, \
	.predict_is_proba_argmax = true, \
	.float32_input = true,

const AlgorithmDef galaxy_algo_neural_network = {
	.name = "neural_network",
	.alias = "mlp",
	.id = 6,
	.params = mlp_params,
	.n_params = lengthof(mlp_params),
	.description = "Multilayer perceptron (dense layers, relu/tanh/gelu..., dropout, batch norm; adam/adamw/sgd) on galaxy's float32 neural engine",
	.fit = mlp_fit,
	.compress_methods = "int8,prune",
	.compress = nn_compress,
	NN_ALGORITHM_HOOKS
	.budget_param = "epochs",
	.count_parameters = mlp_count,
};

const AlgorithmDef galaxy_algo_cnn = {
	.name = "cnn",
	.id = 15,
	.params = cnn_params,
	.n_params = lengthof(cnn_params),
	.description = "Convolutional network for images in one array column (conv2d-activation-max pool blocks, dense head) on galaxy's float32 neural engine",
	.fit = cnn_fit,
	.compress_methods = "int8,prune",
	.compress = nn_compress,
	NN_ALGORITHM_HOOKS
	.count_parameters = cnn_count,
};

const AlgorithmDef galaxy_algo_lstm = {
	.name = "lstm",
	.id = 16,
	.params = lstm_params,
	.n_params = lengthof(lstm_params),
	.description = "LSTM network for sequences in one array column or token ids of a text (embedding, stacked LSTM layers, last step, dense head) on galaxy's float32 neural engine",
	.fit = lstm_fit,
	NN_ALGORITHM_HOOKS
	.scales = lstm_scales,
	.token_input = true,
};

const AlgorithmDef galaxy_algo_transformer = {
	.name = "transformer",
	.id = 17,
	.params = transformer_params,
	.n_params = lengthof(transformer_params),
	.description = "Transformer encoder for sequences or token ids in one array column (embedding or projection, position codes, attention blocks, mean pooling, dense head) on galaxy's float32 neural engine",
	.fit = transformer_fit,
	NN_ALGORITHM_HOOKS
	.scales = transformer_scales,
	.token_input = true,
};
