/*
 * neural_network.c — the multilayer perceptron ('neural_network', also
 * 'mlp') for classification and regression, on the neural engine (src/nn).
 *
 * The network is dense → [batch norm] → activation → [dropout] per hidden
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
#include "nn/nn.h"
#include "util/jsonb_build.h"
#include "util/rng.h"

enum
{
	HP_HIDDEN,
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
	HP_SEED
};

/* choice orders match NnActivation / NnOptimizer / NnSchedule */
static const HyperParamSpec nn_params[] = {
	[HP_HIDDEN] = {"hidden_layers", HP_INT_LIST, 1, 1, NN_MAX_WIDTH, false, NULL,
	"Width of each hidden layer, e.g. [128, 64] ([] = no hidden layer).", "100"},
	[HP_ACTIVATION] = {"activation", HP_ENUM, 0, 0, 0, false, "relu,leaky_relu,tanh,sigmoid,gelu",
	"Activation after each hidden layer."},
	[HP_DROPOUT] = {"dropout", HP_FLOAT, 0.0, 0.0, 0.9, false, NULL,
	"Probability of dropping a hidden unit while training (0 = no dropout)."},
	[HP_BATCH_NORM] = {"batch_norm", HP_BOOL, 0, 0, 1, false, NULL,
	"Batch normalisation before each hidden activation."},
	[HP_OPTIMIZER] = {"optimizer", HP_ENUM, 0, 0, 0, false, "adam,adamw,sgd",
	"adam, adamw (decoupled weight decay) or sgd (with momentum)."},
	[HP_LEARNING_RATE] = {"learning_rate", HP_FLOAT, 0.001, 0.0, 10.0, true, NULL,
	"Initial learning rate."},
	[HP_MOMENTUM] = {"momentum", HP_FLOAT, 0.9, 0.0, 0.999, false, NULL,
	"Momentum of sgd (0 = plain gradient descent)."},
	[HP_NESTEROV] = {"nesterov", HP_BOOL, 0, 0, 1, false, NULL,
	"Nesterov momentum for sgd."},
	[HP_LR_SCHEDULE] = {"lr_schedule", HP_ENUM, 0, 0, 0, false, "constant,step,cosine,plateau",
	"Learning-rate schedule over the epochs."},
	[HP_LR_STEP_SIZE] = {"lr_step_size", HP_INT, 10, 1, 100000, false, NULL,
	"step: multiply the learning rate by lr_gamma every this many epochs."},
	[HP_LR_GAMMA] = {"lr_gamma", HP_FLOAT, 0.1, 0.0, 1.0, true, NULL,
	"step and plateau: factor applied to the learning rate."},
	[HP_LR_PATIENCE] = {"lr_patience", HP_INT, 5, 0, 100000, false, NULL,
	"plateau: epochs without improvement of the validation loss before lowering the rate."},
	[HP_BATCH_SIZE] = {"batch_size", HP_INT, 200, 1, 65536, false, NULL,
	"Rows per mini-batch."},
	[HP_EPOCHS] = {"epochs", HP_INT, 100, 1, 100000, false, NULL,
	"Passes over the training rows (fewer with early stopping)."},
	[HP_EARLY_STOPPING] = {"early_stopping_rounds", HP_INT, 10, 0, 100000, false, NULL,
	"Stop when the validation loss has not improved for this many epochs (0 = off)."},
	[HP_VALIDATION_FRACTION] = {"validation_fraction", HP_FLOAT, 0.1, 0.0, 0.5, false, NULL,
	"Fraction of the training rows held out for the validation loss (0 = none)."},
	[HP_WEIGHT_DECAY] = {"weight_decay", HP_FLOAT, 0.0001, 0.0, 1.0, false, NULL,
	"L2 penalty on the weights (decoupled for adamw; biases are not decayed)."},
	[HP_CLASS_WEIGHT] = {"class_weight", HP_ENUM, 0, 0, 0, false, "none,balanced",
	"balanced: weight each class by n / (classes x its count)."},
	[HP_LOSS] = {"loss", HP_ENUM, 0, 0, 0, false, "auto,cross_entropy,binary_cross_entropy,mse,huber",
	"auto: cross_entropy for classification, mse for regression."},
	[HP_HUBER_DELTA] = {"huber_delta", HP_FLOAT, 1.0, 0.0, 1e6, true, NULL,
	"huber: where the loss turns from quadratic to linear (in standardised target units)."},
	[HP_CLIP_NORM] = {"clip_norm", HP_FLOAT, 0.0, 0.0, 1e6, false, NULL,
	"Clip the gradients' joint L2 norm to this (0 = no clipping)."},
	[HP_SEED] = {"seed", HP_INT, -1, -1, 2147483647, false, NULL,
	"Seed of the initial weights, shuffling and dropout (-1: train's seed)."},
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
choose_loss(const HyperParams *hp, const TrainData *d)
{
	int			choice = (int) hp->values[HP_LOSS];

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

/* Build the architecture the hyperparameters describe (weights drawn from rng). */
static void
build_network(NnNet *net, const HyperParams *hp, int n_features, int n_out, GalaxyRng *rng)
{
	NnShape		in = {1, {n_features, 0, 0}};
	NnActivation act = (NnActivation) (int) hp->values[HP_ACTIVATION];
	int			hidden = (int) hp->values[HP_HIDDEN];

	nn_init(net, &in);
	for (int i = 0; i < hidden; i++)
	{
		nn_add_dense(net, hp->list[HP_HIDDEN][i], act, rng);
		if (hp->values[HP_BATCH_NORM] != 0)
			nn_add_batchnorm(net);
		nn_add_activation(net, act);
		if (hp->values[HP_DROPOUT] > 0)
			nn_add_dropout(net, hp->values[HP_DROPOUT]);
	}
	nn_add_dense(net, n_out, NN_IDENTITY, rng);
}

/*
 * Bytes the network will take, computed from the hyperparameters before
 * anything is allocated: weights and gradients, Adam's two moments, the
 * best epoch's copy, and the activations and their gradients per batch row.
 */
static double
network_bytes(const HyperParams *hp, int n_features, int n_out, int batch)
{
	double		params = 0,
				widths = n_features;
	double		prev = n_features;
	int			hidden = (int) hp->values[HP_HIDDEN];

	for (int i = 0; i < hidden; i++)
	{
		double		h = hp->list[HP_HIDDEN][i];

		params += (prev + 1) * h + (hp->values[HP_BATCH_NORM] != 0 ? 4 * h : 0);
		widths += h * (2 + (hp->values[HP_BATCH_NORM] != 0 ? 2 : 0) + (hp->values[HP_DROPOUT] > 0 ? 2 : 0));
		prev = h;
	}
	params += (prev + 1) * n_out;
	widths += n_out;
	return params * sizeof(float) * 5 + widths * sizeof(float) * 2 * batch;
}

static void
optim_config(const HyperParams *hp, NnOptimConfig *oc)
{
	memset(oc, 0, sizeof(*oc));
	oc->kind = (NnOptimizer) (int) hp->values[HP_OPTIMIZER];
	oc->learning_rate = hp->values[HP_LEARNING_RATE];
	oc->momentum = hp->values[HP_MOMENTUM];
	oc->nesterov = hp->values[HP_NESTEROV] != 0;
	oc->beta1 = 0.9;
	oc->beta2 = 0.999;
	oc->adam_eps = 1e-8;
	oc->weight_decay = hp->values[HP_WEIGHT_DECAY];
	oc->clip_norm = hp->values[HP_CLIP_NORM];
	oc->schedule = (NnSchedule) (int) hp->values[HP_LR_SCHEDULE];
	oc->step_size = (int) hp->values[HP_LR_STEP_SIZE];
	oc->gamma = hp->values[HP_LR_GAMMA];
	oc->patience = (int) hp->values[HP_LR_PATIENCE];
}

static void *
nn_fit(const TrainData *d, const HyperParams *hp, const FitContext *ctx)
{
	NnModel    *m = palloc0(sizeof(NnModel));
	int			p = d->n_features;
	NnLoss		loss = choose_loss(hp, d);
	int			k = output_units(loss, d->n_classes);
	double		vf = hp->values[HP_VALIDATION_FRACTION];
	int64		n = d->n_rows;
	int64		n_val = (int64) floor(n * vf);
	int64		n_train;
	uint64		seed = hp->values[HP_SEED] >= 0 ? (uint64) hp->values[HP_SEED] : ctx->seed;
	int			batch;
	double		need;
	int64	   *order;
	float	   *X;
	float	   *y;
	float	   *class_w = NULL;
	GalaxyRng	rng;
	NnTrainConfig cfg;
	NnTrainData tr,
				va;

	if (hp->given[HP_EARLY_STOPPING] && hp->values[HP_EARLY_STOPPING] > 0 && vf == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("early_stopping_rounds needs a validation split"),
				 errhint("Set validation_fraction above 0, or set early_stopping_rounds to 0.")));
	if (n_val >= n)
		n_val = n - 1;
	n_train = n - n_val;
	batch = (int) Min((int64) hp->values[HP_BATCH_SIZE], n_train);

	/* everything the fit allocates, before it allocates */
	need = network_bytes(hp, p, k, batch) + (double) n * (sizeof(float) + 2 * sizeof(int64));
	if (d->X_scratch == NULL)
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

	/*
	 * The features in float32, in row order.  With the caller's buffer,
	 * in place: float i takes bytes [4i, 4i + 4), which only double i/2
	 * (already read) used, so converting front to back never overwrites an
	 * unread value; the doubles come back (as float-rounded values) after
	 * the fit.
	 */
	X = d->X_scratch ? (float *) d->X_scratch :
		MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(n * p, 1));
	for (int64 i = 0; i < n * p; i++)
	{
		X[i] = (float) d->X[i];
		if ((i & 0xFFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}

	if (d->task == TASK_CLASSIFICATION && (int) hp->values[HP_CLASS_WEIGHT] == 1)
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
	build_network(&m->net, hp, p, k, &rng);

	memset(&cfg, 0, sizeof(cfg));
	cfg.loss = loss;
	cfg.class_weight = class_w;
	cfg.huber_delta = hp->values[HP_HUBER_DELTA];
	cfg.batch_size = batch;
	cfg.epochs = (int) hp->values[HP_EPOCHS];
	cfg.patience = n_val > 0 ? (int) hp->values[HP_EARLY_STOPPING] : 0;
	optim_config(hp, &cfg.optim);
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

	/* give the caller's buffer its doubles back, back to front (double i covers floats 2i, 2i + 1) */
	if (d->X_scratch)
	{
		for (int64 i = n * p - 1; i >= 0; i--)
			d->X_scratch[i] = (double) X[i];
	}
	else
		pfree(X);
	pfree(y);
	pfree(order);
	if (class_w)
		pfree(class_w);
	return m;
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
			out[i] = o[0] > 0.0f ? 1 : 0;
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
			p[1] = nn_sigmoid(o[0]);
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
	int64		per;

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
	per = nn_shape_size(&in);
	for (int i = 0; i < m->net.n_layers; i++)
		per += nn_shape_size(&m->net.layers[i].out);
	nn_alloc_buffers(&m->net, (int) Max(1, Min(256, (1 << 18) / per)), false);
	return m;
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

const AlgorithmDef galaxy_algo_neural_network = {
	.name = "neural_network",
	.alias = "mlp",
	.id = 6,
	.tasks = TASK_BIT(TASK_CLASSIFICATION) | TASK_BIT(TASK_REGRESSION),
	.params = nn_params,
	.n_params = lengthof(nn_params),
	.default_scaling = true,
	.description = "Multilayer perceptron (dense layers, relu/tanh/gelu..., dropout, batch norm; adam/adamw/sgd) on galaxy's float32 neural engine",
	.fit = nn_fit,
	.predict = nn_predict_values,
	.predict_proba = nn_predict_probabilities,
	.serialize = nn_serialize,
	.deserialize = nn_deserialize,
	.fit_metrics = nn_fit_metrics,
	.describe = nn_describe_state,
};
