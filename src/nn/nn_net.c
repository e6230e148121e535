/*
 * nn_net.c — a network: building it layer by layer, its buffers, the
 * forward and backward passes over a batch, inference, storage and the
 * description galaxy.describe() shows.
 */
#include "postgres.h"

#include <math.h>

#include "utils/memutils.h"

#include "galaxy.h"
#include "algo/quant.h"
#include "model/model.h"
#include "nn/nn.h"
#include "nn/nn_layers.h"
#include "util/jsonb_build.h"

#define NN_FORMAT_VERSION 1
#define NN_FORMAT_QUANT 2		/* dense layers may hold int8 or pruned sparse weights */

/* Rows of a batch in inference buffers: up to 256, about 1 MB at most. */
#define NN_PREDICT_VALUES (1 << 18)
/* A call predicting many rows may use up to 32 MB of buffers for itself. */
#define NN_PREDICT_CALL_VALUES (1 << 23)

static float *
alloc_floats(int64 n)
{
	return (float *) MemoryContextAllocExtended(CurrentMemoryContext,
												sizeof(float) * Max(n, 1),
												MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

void
nn_init(NnNet *net, const NnShape *input)
{
	memset(net, 0, sizeof(*net));
	net->input = *input;
}

NnShape
nn_output_shape(const NnNet *net)
{
	return net->n_layers > 0 ? net->layers[net->n_layers - 1].out : net->input;
}

int64
nn_output_size(const NnNet *net)
{
	NnShape		s = nn_output_shape(net);

	return nn_shape_size(&s);
}

/* A new layer taking the current output shape. */
static NnLayer *
add_layer(NnNet *net, NnLayerKind kind)
{
	NnLayer    *l;

	if (net->n_layers >= NN_MAX_LAYERS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a network has at most %d layers", NN_MAX_LAYERS)));
	l = &net->layers[net->n_layers];
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	l->ops = nn_layer_ops(kind);
	l->in = nn_output_shape(net);
	l->out = l->in;
	l->rng = &net->rng;
	net->n_layers++;
	return l;
}

static void
add_param(NnLayer *l, int64 n, bool decay)
{
	NnParam    *p = &l->params[l->n_params++];

	p->n = n;
	p->w = alloc_floats(n);
	p->g = alloc_floats(n);
	p->decay = decay;
}

/*
 * Initial weights of a dense or convolution layer (params[0] weights,
 * params[1] biases), uniform in (-a, a): He's a = sqrt(6 / fan_in), Glorot's
 * sqrt(6 / (fan_in + fan_out)), or PyTorch's default 1 / sqrt(fan_in) for
 * the biases too; otherwise biases are 0.
 */
static void
init_weights(NnLayer *l, NnInit mode, NnActivation init_for, int64 fan_in, int64 fan_out, GalaxyRng *rng)
{
	double		bound;
	bool		biases = false;

	if (mode == NN_INIT_AUTO)
		mode = (init_for == NN_RELU || init_for == NN_LEAKY_RELU || init_for == NN_GELU) ?
			NN_INIT_HE : NN_INIT_GLOROT;
	switch (mode)
	{
		case NN_INIT_HE:
			bound = sqrt(6.0 / (double) fan_in);
			break;
		case NN_INIT_UNIFORM:
			bound = 1.0 / sqrt((double) fan_in);
			biases = true;
			break;
		case NN_INIT_GLOROT:
		default:
			bound = sqrt(6.0 / (double) (fan_in + fan_out));
			break;
	}
	for (int k = 0; k < (biases ? 2 : 1); k++)
		for (int64 i = 0; i < l->params[k].n; i++)
			l->params[k].w[i] = (float) ((2.0 * galaxy_rng_uniform(rng) - 1.0) * bound);
}

/*
 * Dense layer of 'units' outputs, initialised as net->init says (auto: He
 * before relu-like activations, Glorot otherwise).  rng NULL: zeros (the
 * reader fills them).
 */
void
nn_add_dense(NnNet *net, int units, NnActivation init_for, GalaxyRng *rng)
{
	NnLayer    *l;
	int64		fan_in;

	if (units < 1 || units > NN_MAX_WIDTH)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a dense layer has from 1 to %d units, not %d", NN_MAX_WIDTH, units)));
	l = add_layer(net, NN_DENSE);
	fan_in = nn_shape_size(&l->in);
	l->out.ndim = 1;
	l->out.d[0] = units;
	add_param(l, fan_in * units, true);
	add_param(l, units, false);
	if (rng)
		init_weights(l, net->init, init_for, fan_in, units, rng);
}

void
nn_add_activation(NnNet *net, NnActivation a)
{
	NnLayer    *l = add_layer(net, NN_ACTIVATION);

	l->activation = a;
}

void
nn_add_dropout(NnNet *net, double rate)
{
	NnLayer    *l = add_layer(net, NN_DROPOUT);

	l->rate = rate;
}

void
nn_add_batchnorm(NnNet *net)
{
	NnLayer    *l = add_layer(net, NN_BATCHNORM);
	int64		f = nn_shape_size(&l->in);

	l->eps = 1e-5f;
	l->momentum = 0.1f;
	add_param(l, f, false);		/* gamma */
	add_param(l, f, false);		/* beta */
	for (int64 j = 0; j < f; j++)
		l->params[0].w[j] = 1.0f;
	l->running_mean = alloc_floats(f);
	l->running_var = alloc_floats(f);
	for (int64 j = 0; j < f; j++)
		l->running_var[j] = 1.0f;
}

int64
nn_param_count(const NnNet *net)
{
	int64		n = 0;

	for (int i = 0; i < net->n_layers; i++)
		for (int k = 0; k < net->layers[i].n_params; k++)
			n += net->layers[i].params[k].n;
	return n;
}

/* Values per sample the layer keeps from its last training pass (cache). */
static int64
cache_values(const NnLayer *l)
{
	switch (l->kind)
	{
		case NN_DROPOUT:
		case NN_BATCHNORM:
			return nn_shape_size(&l->in);
		case NN_CONV2D:
			/* the im2col columns: K x (H' W') per sample */
			return (int64) l->in.d[0] * l->kernel * l->kernel * l->out.d[1] * l->out.d[2];
		case NN_MAXPOOL2D:
			return nn_shape_size(&l->out);
		case NN_LSTM:
		case NN_GRU:
			/* the gates of every step (GRU: r, z, n and the hidden part of n) */
			return (int64) l->in.d[0] * 4 * l->units;
		case NN_LAYERNORM:
		case NN_RESIDUAL:
			return nn_shape_size(&l->in);
		case NN_ATTENTION:
			/* QKV and O, and their gradients */
			return (int64) 8 * l->in.d[0] * l->in.d[1];
		default:
			return 0;
	}
}

/* Values of the layer's second scratch: per feature (batch norm) or per sample (conv2d). */
static int64
cache2_values(const NnLayer *l, int max_batch)
{
	if (l->kind == NN_BATCHNORM)
		return nn_shape_size(&l->in);
	if (l->kind == NN_CONV2D)
		return (int64) max_batch * nn_shape_size(&l->out);
	if (l->kind == NN_LSTM)
		/* cell and hidden states of every step, the step-major inputs, two rows of scratch */
		return (int64) max_batch * ((int64) l->in.d[0] * (2 * l->units + l->in.d[1]) + 2 * l->units);
	if (l->kind == NN_GRU)
		/* hidden states, step-major inputs and input parts of every step, scratch rows */
		return (int64) max_batch * ((int64) l->in.d[0] * (4 * l->units + l->in.d[1]) + 4 * l->units);
	if (l->kind == NN_LAYERNORM)
		/* 1 / std of every row */
		return (int64) max_batch * (nn_shape_size(&l->in) / l->in.d[l->in.ndim - 1]);
	if (l->kind == NN_ATTENTION)
		/* the weights of every head, and one T x T matrix */
		return ((int64) max_batch * l->heads + 1) * l->in.d[0] * l->in.d[0];
	return 0;
}

/* Layers whose forward pass needs its scratch even outside training. */
static bool
needs_scratch(const NnLayer *l)
{
	return l->kind == NN_CONV2D || l->kind == NN_LSTM || l->kind == NN_GRU || l->kind == NN_ATTENTION;
}

/* An output side of a 2-D window: ERROR when the window does not fit. */
static int
window_output(int size, int kernel, int stride, int padding, const char *what, int dim)
{
	int			span = size + 2 * padding - kernel;

	if (kernel < 1 || stride < 1 || padding < 0 || span < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a %s window of %d with padding %d does not fit an input of %d along dimension %d",
						what, kernel, padding, size, dim)));
	return span / stride + 1;
}

static void
require_sequence(const NnLayer *l, const char *what)
{
	if (l->in.ndim != 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs an input of shape [steps, features], not one of %d dimension%s",
						what, l->in.ndim, l->in.ndim == 1 ? "" : "s")));
}

static void
check_width(const NnLayer *l, const char *what)
{
	if (nn_shape_size(&l->out) > NN_MAX_WIDTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s output of " INT64_FORMAT " values per row is more than %d",
						what, nn_shape_size(&l->out), NN_MAX_WIDTH)));
}

static void
require_image(const NnLayer *l, const char *what)
{
	if (l->in.ndim != 3)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs an input of shape [channels, height, width], not one of %d dimension%s",
						what, l->in.ndim, l->in.ndim == 1 ? "" : "s")));
}

/*
 * 2-D convolution of 'filters' k x k kernels, initialised as net->init says
 * over fan_in = C k k (fan_out = F k k).
 */
void
nn_add_conv2d(NnNet *net, int filters, int kernel, int stride, int padding,
			  NnActivation init_for, GalaxyRng *rng)
{
	NnLayer    *l = add_layer(net, NN_CONV2D);
	int64		fan_in;

	require_image(l, "conv2d");
	if (filters < 1 || filters > 65536)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a conv2d layer has from 1 to 65536 filters, not %d", filters)));
	l->kernel = kernel;
	l->stride = stride;
	l->padding = padding;
	l->out.ndim = 3;
	l->out.d[0] = filters;
	l->out.d[1] = window_output(l->in.d[1], kernel, stride, padding, "conv2d", 1);
	l->out.d[2] = window_output(l->in.d[2], kernel, stride, padding, "conv2d", 2);
	check_width(l, "conv2d");
	fan_in = (int64) l->in.d[0] * kernel * kernel;
	add_param(l, fan_in * filters, true);
	add_param(l, filters, false);
	if (rng)
		init_weights(l, net->init, init_for, fan_in, (int64) filters * kernel * kernel, rng);
}

/* Max or average pooling over k x k windows moved by 'stride' (no padding). */
void
nn_add_pool2d(NnNet *net, NnLayerKind kind, int kernel, int stride)
{
	NnLayer    *l = add_layer(net, kind);

	Assert(kind == NN_MAXPOOL2D || kind == NN_AVGPOOL2D);
	require_image(l, kind == NN_MAXPOOL2D ? "max_pool2d" : "avg_pool2d");
	l->kernel = kernel;
	l->stride = stride;
	l->out.ndim = 3;
	l->out.d[0] = l->in.d[0];
	l->out.d[1] = window_output(l->in.d[1], kernel, stride, 0, "pooling", 1);
	l->out.d[2] = window_output(l->in.d[2], kernel, stride, 0, "pooling", 2);
}

void
nn_add_global_avgpool(NnNet *net)
{
	NnLayer    *l = add_layer(net, NN_GLOBAL_AVGPOOL);

	require_image(l, "global_avg_pool");
	l->out.ndim = 1;
	l->out.d[0] = l->in.d[0];
}

/*
 * LSTM or GRU of 'units' over a [T, F] input.  Weights ~ U(-1/sqrt(units),
 * 1/sqrt(units)) as PyTorch draws them; biases 0.
 */
static void
add_recurrent(NnNet *net, NnLayerKind kind, int units, bool sequences, GalaxyRng *rng)
{
	NnLayer    *l = add_layer(net, kind);
	const char *what = kind == NN_LSTM ? "lstm" : "gru";
	int			gates = kind == NN_LSTM ? 4 : 3;
	int			F;

	require_sequence(l, what);
	if (units < 1 || units > 65536)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a%s %s layer has from 1 to 65536 units, not %d", kind == NN_LSTM ? "n" : "", what, units)));
	F = l->in.d[1];
	l->units = units;
	l->sequences = sequences;
	if (sequences)
	{
		l->out.ndim = 2;
		l->out.d[0] = l->in.d[0];
		l->out.d[1] = units;
	}
	else
	{
		l->out.ndim = 1;
		l->out.d[0] = units;
	}
	check_width(l, what);
	add_param(l, (int64) gates * units * F, true);	/* W_ih */
	add_param(l, (int64) gates * units * units, true);	/* W_hh */
	add_param(l, (int64) gates * units, false); /* b (LSTM), b_ih (GRU) */
	if (kind == NN_GRU)
		add_param(l, (int64) gates * units, false); /* b_hh */
	if (rng)
	{
		double		bound = 1.0 / sqrt((double) units);

		for (int k = 0; k < 2; k++)
			for (int64 i = 0; i < l->params[k].n; i++)
				l->params[k].w[i] = (float) ((2.0 * galaxy_rng_uniform(rng) - 1.0) * bound);
	}
}

void
nn_add_lstm(NnNet *net, int units, bool sequences, GalaxyRng *rng)
{
	add_recurrent(net, NN_LSTM, units, sequences, rng);
}

void
nn_add_gru(NnNet *net, int units, bool sequences, GalaxyRng *rng)
{
	add_recurrent(net, NN_GRU, units, sequences, rng);
}

void
nn_add_flatten(NnNet *net)
{
	NnLayer    *l = add_layer(net, NN_FLATTEN);

	l->out.ndim = 1;
	l->out.d[0] = (int) nn_shape_size(&l->in);
}

/* ---- sequence and attention layers ---- */

/* Embedding vectors ~ N(0, 1), as PyTorch draws them. */
void
nn_add_embedding(NnNet *net, int vocab, int dim, GalaxyRng *rng)
{
	NnLayer    *l = add_layer(net, NN_EMBEDDING);

	if (l->in.ndim != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an embedding needs an input of token ids of shape [steps], not one of %d dimensions",
						l->in.ndim)));
	if (vocab < 1 || vocab > NN_MAX_VOCAB || dim < 1 || dim > NN_MAX_EMBED)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an embedding has a vocabulary of 1 to %d and 1 to %d dimensions, not %d and %d",
						NN_MAX_VOCAB, NN_MAX_EMBED, vocab, dim)));
	l->vocab = vocab;
	l->out.ndim = 2;
	l->out.d[0] = l->in.d[0];
	l->out.d[1] = dim;
	check_width(l, "embedding");
	add_param(l, (int64) vocab * dim, false);
	if (rng)
		for (int64 i = 0; i < l->params[0].n; i++)
			l->params[0].w[i] = (float) galaxy_rng_normal(rng);
}

/* PE[t][2i] = sin(t / 10000^(2i/D)), PE[t][2i+1] = cos(the same). */
void
nn_add_positional(NnNet *net)
{
	NnLayer    *l = add_layer(net, NN_POSITIONAL);
	int			T,
				D;

	require_sequence(l, "positional_encoding");
	T = l->in.d[0];
	D = l->in.d[1];
	l->running_mean = alloc_floats((int64) T * D);
	for (int t = 0; t < T; t++)
		for (int j = 0; j < D; j++)
		{
			double		angle = t / pow(10000.0, (double) (j - j % 2) / D);

			l->running_mean[(Size) t * D + j] = (float) (j % 2 == 0 ? sin(angle) : cos(angle));
		}
}

void
nn_add_layernorm(NnNet *net)
{
	NnLayer    *l = add_layer(net, NN_LAYERNORM);
	int			D = l->in.d[l->in.ndim - 1];

	l->eps = 1e-5f;
	add_param(l, D, false);		/* gamma */
	add_param(l, D, false);		/* beta */
	for (int j = 0; j < D; j++)
		l->params[0].w[j] = 1.0f;
}

/* Projections drawn as net->init says over (D, 3D) and (D, D); biases 0. */
void
nn_add_attention(NnNet *net, int heads, GalaxyRng *rng)
{
	NnLayer    *l = add_layer(net, NN_ATTENTION);
	int			D;

	require_sequence(l, "attention");
	D = l->in.d[1];
	if (heads < 1 || heads > D || D % heads != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("attention over %d features cannot have %d heads", D, heads),
				 errhint("The number of heads must divide the model width (d_model).")));
	l->heads = heads;
	add_param(l, (int64) 3 * D * D, true);	/* W_qkv */
	add_param(l, (int64) 3 * D, false); /* b_qkv */
	add_param(l, (int64) D * D, true);	/* W_o */
	add_param(l, D, false);		/* b_o */
	if (rng)
	{
		NnLayer		proj = *l;

		init_weights(l, net->init, NN_IDENTITY, D, 3 * D, rng);
		proj.params[0] = l->params[2];
		proj.params[1] = l->params[3];
		init_weights(&proj, net->init, NN_IDENTITY, D, D, rng);
	}
}

int
nn_boundary(const NnNet *net)
{
	return net->n_layers;
}

/* The shape at boundary b: the input (b = 0) or layer b - 1's output. */
static NnShape
boundary_shape(const NnNet *net, int b)
{
	return b == 0 ? net->input : net->layers[b - 1].out;
}

static bool
same_shape(const NnShape *a, const NnShape *b)
{
	if (a->ndim != b->ndim)
		return false;
	for (int i = 0; i < a->ndim; i++)
		if (a->d[i] != b->d[i])
			return false;
	return true;
}

void
nn_add_residual(NnNet *net, int from)
{
	NnShape		at = nn_output_shape(net);
	NnShape		src;
	NnLayer    *l;

	if (from < 0 || from >= net->n_layers)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a residual connection must come from an earlier layer boundary (0 to %d), not %d",
						net->n_layers - 1, from)));
	src = boundary_shape(net, from);
	if (!same_shape(&src, &at))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a residual connection adds values of the same shape: " INT64_FORMAT " and " INT64_FORMAT " values",
						nn_shape_size(&src), nn_shape_size(&at))));
	l = add_layer(net, NN_RESIDUAL);
	l->skip_from = from;
}

void
nn_add_dense_steps(NnNet *net, int units, NnActivation init_for, GalaxyRng *rng)
{
	NnLayer    *l = add_layer(net, NN_DENSE_STEPS);
	int			F;

	require_sequence(l, "dense_steps");
	if (units < 1 || units > 65536)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a dense layer at every step has from 1 to 65536 units, not %d", units)));
	F = l->in.d[1];
	l->units = units;
	l->out.d[1] = units;
	check_width(l, "dense_steps");
	add_param(l, (int64) units * F, true);
	add_param(l, units, false);
	if (rng)
		init_weights(l, net->init, init_for, F, units, rng);
}

void
nn_add_seq_meanpool(NnNet *net)
{
	NnLayer    *l = add_layer(net, NN_SEQ_MEANPOOL);

	require_sequence(l, "sequence_mean_pool");
	l->out.ndim = 1;
	l->out.d[0] = l->in.d[1];
}

Size
nn_buffer_bytes(const NnNet *net, int max_batch, bool training)
{
	Size		per = nn_shape_size(&net->input);

	for (int i = 0; i < net->n_layers; i++)
	{
		const NnLayer *l = &net->layers[i];
		int64		o = nn_shape_size(&l->out);

		per += o;
		if (training)
			per += o + cache_values(l);
		if (training || needs_scratch(l))
			per += (needs_scratch(l) && !training ? cache_values(l) : 0) + cache2_values(l, 1);
	}
	return per * sizeof(float) * (Size) Max(max_batch, 1);
}

static void
free_buffers(NnNet *net)
{
	for (int i = 0; i <= net->n_layers; i++)
	{
		if (net->acts[i])
			pfree(net->acts[i]);
		if (net->grads[i])
			pfree(net->grads[i]);
		net->acts[i] = net->grads[i] = NULL;
	}
	for (int i = 0; i < net->n_layers; i++)
	{
		NnLayer    *l = &net->layers[i];

		if (l->cache)
			pfree(l->cache);
		if (l->cache2)
			pfree(l->cache2);
		l->cache = l->cache2 = NULL;
	}
	net->max_batch = 0;
}

void
nn_alloc_buffers(NnNet *net, int max_batch, bool training)
{
	free_buffers(net);
	net->max_batch = Max(max_batch, 1);
	net->training_buffers = training;
	net->acts[0] = alloc_floats((int64) net->max_batch * nn_shape_size(&net->input));
	for (int i = 0; i < net->n_layers; i++)
	{
		NnLayer    *l = &net->layers[i];
		int64		o = (int64) net->max_batch * nn_shape_size(&l->out);

		net->acts[i + 1] = alloc_floats(o);
		if (needs_scratch(l) && !training)
		{
			/* a forward pass needs the columns and products / the steps' states, training or not */
			l->cache = alloc_floats((int64) net->max_batch * cache_values(l));
			l->cache2 = alloc_floats(cache2_values(l, net->max_batch));
		}
		if (training)
		{
			net->grads[i + 1] = alloc_floats(o);
			if (cache_values(l) > 0)
				l->cache = alloc_floats((int64) net->max_batch * cache_values(l));
			if (cache2_values(l, net->max_batch) > 0)
				l->cache2 = alloc_floats(cache2_values(l, net->max_batch));
		}
	}
	/* a residual layer reads its boundary's buffer */
	for (int i = 0; i < net->n_layers; i++)
		if (net->layers[i].kind == NN_RESIDUAL)
			net->layers[i].skip = net->acts[net->layers[i].skip_from];
}

float *
nn_forward(NnNet *net, int batch, bool training)
{
	Assert(batch >= 1 && batch <= net->max_batch);
	Assert(!training || net->training_buffers);
	for (int i = 0; i < net->n_layers; i++)
	{
		NnLayer    *l = &net->layers[i];

		l->ops->forward(l, net->acts[i], net->acts[i + 1], batch, training);
	}
	return net->acts[net->n_layers];
}

void
nn_backward(NnNet *net, int batch)
{
	Assert(net->training_buffers);
	for (int i = net->n_layers - 1; i >= 0; i--)
	{
		NnLayer    *l = &net->layers[i];

		l->ops->backward(l, net->acts[i], net->acts[i + 1], net->grads[i + 1],
						 i > 0 ? net->grads[i] : NULL, batch);
		/* the gradient residual layers carried past this boundary joins it */
		if (i > 0)
			for (int j = i + 1; j < net->n_layers; j++)
				if (net->layers[j].kind == NN_RESIDUAL && net->layers[j].skip_from == i)
				{
					Size		n = (Size) batch * nn_shape_size(&l->in);
					float	   *g = net->grads[i];
					const float *extra = net->layers[j].cache;

					for (Size k = 0; k < n; k++)
						g[k] += extra[k];
				}
	}
}

/* Rows per inference batch within a buffer budget of 'values' floats (1 to 256). */
static int
batch_for_budget(const NnNet *net, Size values)
{
	Size		per = nn_buffer_bytes(net, 1, false) / sizeof(float);

	return (int) Max(1, Min(256, values / Max(per, 1)));
}

/* Rows per batch of the buffers a loaded model keeps: about 1 MB at most. */
int
nn_inference_batch(const NnNet *net)
{
	return batch_for_budget(net, NN_PREDICT_VALUES);
}

/* Forget (without freeing) the buffers of a copy of a network. */
static void
forget_buffers(NnNet *net)
{
	for (int i = 0; i <= net->n_layers; i++)
		net->acts[i] = net->grads[i] = NULL;
	for (int i = 0; i < net->n_layers; i++)
	{
		net->layers[i].cache = net->layers[i].cache2 = NULL;
		net->layers[i].skip = NULL;
	}
	net->max_batch = 0;
}

/*
 * Inference on n rows of float64 features.  The network's buffers are used
 * when they exist (the model cache keeps a loaded model's, sized by
 * nn_read); a network without them gets buffers for this call only.
 */
void
nn_predict(NnNet *net, const double *X, int64 n, float *out)
{
	int64		in = nn_shape_size(&net->input);
	int64		o = nn_output_size(net);
	int			want = (int) Min(n, (int64) batch_for_budget(net, NN_PREDICT_CALL_VALUES));
	NnNet	   *own = NULL;

	/*
	 * Many rows and small kept buffers (a convolutional model keeps room for
	 * a few rows only): larger buffers for this call, on a copy of the
	 * network that shares its weights.
	 */
	if (net->max_batch == 0 || want > net->max_batch)
	{
		own = palloc(sizeof(NnNet));
		memcpy(own, net, sizeof(NnNet));
		forget_buffers(own);
		nn_alloc_buffers(own, want, false);
		net = own;
	}
	for (int64 start = 0; start < n; start += net->max_batch)
	{
		int			b = (int) Min((int64) net->max_batch, n - start);
		float	   *x = net->acts[0];
		const double *src = X + start * in;
		float	   *res;

		for (int64 j = 0; j < (int64) b * in; j++)
			x[j] = (float) src[j];
		res = nn_forward(net, b, false);
		memcpy(out + start * o, res, sizeof(float) * b * o);
	}
	if (own)
	{
		free_buffers(own);
		pfree(own);
	}
}

/* ----- storage ----- */

static void
write_shape(ModelWriter *w, const NnShape *s)
{
	mw_u8(w, (uint8) s->ndim);
	for (int i = 0; i < s->ndim; i++)
		mw_i32(w, s->d[i]);
}

/* Quantise every dense layer's weights; see nn.h. */
int
nn_quantize(NnNet *net)
{
	int			n = 0;

	for (int i = 0; i < net->n_layers; i++)
	{
		NnLayer    *l = &net->layers[i];
		int			k = (int) nn_shape_size(&l->in);

		if (l->kind != NN_DENSE || l->quant != NULL)
			continue;
		l->quant = quant_from_f32(l->params[0].w, l->out.d[0], k);
		l->qx = palloc((Size) QUANT_ROWS * k);
		pfree(l->params[0].w);
		l->params[0].w = NULL;
		if (l->params[0].g)
		{
			pfree(l->params[0].g);
			l->params[0].g = NULL;
		}
		n++;
	}
	return n;
}

/* Prune every dense layer's weights by magnitude; see nn.h. */
int
nn_prune(NnNet *net, double sparsity)
{
	int			n = 0;

	for (int i = 0; i < net->n_layers; i++)
	{
		NnLayer    *l = &net->layers[i];

		if (l->kind != NN_DENSE || l->quant != NULL || l->pruned)
			continue;
		(void) prune_magnitude_f32(l->params[0].w, l->params[0].n, sparsity);
		l->pruned = true;
		n++;
	}
	return n;
}

/* Whether a network holds int8 or pruned layers (it is then written in format 2). */
static bool
nn_is_quantised(const NnNet *net)
{
	for (int i = 0; i < net->n_layers; i++)
		if (net->layers[i].quant != NULL || net->layers[i].pruned)
			return true;
	return false;
}

void
nn_write(const NnNet *net, ModelWriter *w)
{
	bool		quantised = nn_is_quantised(net);

	mw_tag(w, "NNET");
	mw_u32(w, quantised ? NN_FORMAT_QUANT : NN_FORMAT_VERSION);
	write_shape(w, &net->input);
	mw_u32(w, (uint32) net->n_layers);
	for (int i = 0; i < net->n_layers; i++)
	{
		const NnLayer *l = &net->layers[i];

		mw_u8(w, (uint8) l->kind);
		switch (l->kind)
		{
			case NN_DENSE:
				mw_i32(w, l->out.d[0]);
				if (quantised)		/* format 2: the weights' storage */
					mw_u8(w, l->quant ? 1 : (l->pruned ? 2 : 0));
				break;
			case NN_ACTIVATION:
				mw_u8(w, (uint8) l->activation);
				break;
			case NN_DROPOUT:
				mw_f64(w, l->rate);
				break;
			case NN_BATCHNORM:
				mw_f64(w, l->eps);
				mw_f64(w, l->momentum);
				mw_f32s(w, l->running_mean, nn_shape_size(&l->in));
				mw_f32s(w, l->running_var, nn_shape_size(&l->in));
				break;
			case NN_CONV2D:
				mw_i32(w, l->out.d[0]);
				mw_i32(w, l->kernel);
				mw_i32(w, l->stride);
				mw_i32(w, l->padding);
				break;
			case NN_MAXPOOL2D:
			case NN_AVGPOOL2D:
				mw_i32(w, l->kernel);
				mw_i32(w, l->stride);
				break;
			case NN_FLATTEN:
			case NN_GLOBAL_AVGPOOL:
				break;
			case NN_LSTM:
			case NN_GRU:
				mw_i32(w, l->units);
				mw_u8(w, l->sequences ? 1 : 0);
				break;
			case NN_EMBEDDING:
				mw_i32(w, l->vocab);
				mw_i32(w, l->out.d[1]);
				break;
			case NN_POSITIONAL:
			case NN_SEQ_MEANPOOL:
				break;
			case NN_LAYERNORM:
				mw_f64(w, l->eps);
				break;
			case NN_ATTENTION:
				mw_i32(w, l->heads);
				break;
			case NN_RESIDUAL:
				mw_i32(w, l->skip_from);
				break;
			case NN_DENSE_STEPS:
				mw_i32(w, l->units);
				break;
		}
		if (l->quant)
		{
			/* the bias in float, the weights in int8 */
			mw_f32s(w, l->params[1].w, l->params[1].n);
			quant_write(l->quant, w);
			continue;
		}
		if (l->pruned)
		{
			/* the bias, then the weights left after pruning */
			mw_f32s(w, l->params[1].w, l->params[1].n);
			sparse_write_f32(l->params[0].w, l->params[0].n, w);
			continue;
		}
		for (int k = 0; k < l->n_params; k++)
			mw_f32s(w, l->params[k].w, l->params[k].n);
	}
}

/* Read n floats, every one finite (a NaN weight would only give NaN predictions, but is never written). */
static void
read_finite_floats(ModelReader *r, float *dst, int64 n, const char *what)
{
	if ((uint64) n > mr_remaining(r) / sizeof(float))
		mr_corrupt("%s: " INT64_FORMAT " values do not fit in the bytes left", what, n);
	mr_f32s(r, dst, n);
	for (int64 i = 0; i < n; i++)
		if (!isfinite(dst[i]))
			mr_corrupt("%s: non-finite value", what);
}

static int
read_dim(ModelReader *r, const char *what)
{
	return mr_i32_range(r, 1, NN_MAX_WIDTH, what);
}

/*
 * Read a network written by nn_write, validating kinds, shapes and sizes
 * against the bytes present before anything is allocated, and leaving it
 * with inference buffers.
 */
void
nn_read(NnNet *net, ModelReader *r)
{
	NnShape		input;
	uint32		n_layers;
	uint32		version;

	mr_tag(r, "NNET");
	version = mr_u32(r);
	if (version != NN_FORMAT_VERSION && version != NN_FORMAT_QUANT)
		mr_corrupt("neural network format %u is not supported (this galaxy reads %d and %d)",
				   version, NN_FORMAT_VERSION, NN_FORMAT_QUANT);
	if (version == NN_FORMAT_QUANT && r->format < MODEL_FORMAT_QUANT)
		mr_corrupt("neural network format %u in a model of format %u", version, r->format);
	memset(&input, 0, sizeof(input));
	input.ndim = mr_u8(r);
	if (input.ndim < 1 || input.ndim > NN_MAX_DIMS)
		mr_corrupt("input of %d dimensions", input.ndim);
	for (int i = 0; i < input.ndim; i++)
		input.d[i] = read_dim(r, "input dimension");
	if (nn_shape_size(&input) > NN_MAX_WIDTH)
		mr_corrupt("input of " INT64_FORMAT " values", nn_shape_size(&input));
	nn_init(net, &input);

	n_layers = mr_count(r, NN_MAX_LAYERS, 1, "layer");
	for (uint32 i = 0; i < n_layers; i++)
	{
		uint8		kind = mr_u8(r);
		NnLayer    *l;
		bool		int8_weights = false;
		bool		sparse_weights = false;

		switch (kind)
		{
			case NN_DENSE:
				{
					int			units = read_dim(r, "dense units");
					int64		fan_in = nn_output_size(net);
					uint64		bytes;

					if (version == NN_FORMAT_QUANT)
					{
						uint8		storage = mr_u8(r);

						if (storage > 2)
							mr_corrupt("dense layer %u: unknown weight storage %u", i, storage);
						int8_weights = storage == 1;
						sparse_weights = storage == 2;
					}
					/* both tensors must be present before they are allocated */
					bytes = int8_weights ?
						(uint64) units * sizeof(float) + quant_stored_bytes(units, (int) Min(fan_in, NN_MAX_WIDTH)) :
						sparse_weights ?
						(uint64) units * sizeof(float) + SPARSE_MIN_BYTES((uint64) fan_in * units) :
						(uint64) (fan_in + 1) * units * sizeof(float);
					if (bytes > mr_remaining(r))
						mr_corrupt("dense layer %u: %d x " INT64_FORMAT " weights do not fit in the bytes left",
								   i, units, fan_in);
					nn_add_dense(net, units, NN_IDENTITY, NULL);
				}
				break;
			case NN_ACTIVATION:
				{
					uint8		a = mr_u8(r);

					if (a >= NN_N_ACTIVATIONS)
						mr_corrupt("layer %u: unknown activation %u", i, a);
					nn_add_activation(net, (NnActivation) a);
				}
				break;
			case NN_DROPOUT:
				{
					double		rate = mr_f64_finite(r, "dropout rate");

					/* below 1 by a margin: the kept values are scaled by 1 / (1 - rate) in float */
					if (rate < 0.0 || rate > 0.99)
						mr_corrupt("layer %u: dropout rate %g", i, rate);
					nn_add_dropout(net, rate);
				}
				break;
			case NN_BATCHNORM:
				{
					double		eps = mr_f64_finite(r, "batch-norm epsilon");
					double		momentum = mr_f64_finite(r, "batch-norm momentum");
					int64		f = nn_output_size(net);

					if (!((float) eps > 0.0f && eps < 1.0) || momentum < 0.0 || momentum > 1.0)
						mr_corrupt("layer %u: batch-norm epsilon %g, momentum %g", i, eps, momentum);
					if ((uint64) f * 4 > mr_remaining(r) / sizeof(float))
						mr_corrupt("layer %u: batch-norm of " INT64_FORMAT " features does not fit in the bytes left", i, f);
					nn_add_batchnorm(net);
					l = &net->layers[net->n_layers - 1];
					l->eps = (float) eps;
					l->momentum = (float) momentum;
					read_finite_floats(r, l->running_mean, f, "batch-norm running mean");
					read_finite_floats(r, l->running_var, f, "batch-norm running variance");
					for (int64 j = 0; j < f; j++)
						if (l->running_var[j] < 0.0f)
							mr_corrupt("layer %u: negative running variance", i);
				}
				break;
			case NN_CONV2D:
				{
					NnShape		cur = nn_output_shape(net);
					int			filters = mr_i32_range(r, 1, 65536, "conv2d filters");
					int			kernel = mr_i32_range(r, 1, NN_MAX_KERNEL, "conv2d kernel");
					int			stride = mr_i32_range(r, 1, NN_MAX_KERNEL, "conv2d stride");
					int			padding = mr_i32_range(r, 0, NN_MAX_KERNEL, "conv2d padding");
					int64		fan_in;

					if (cur.ndim != 3 || cur.d[1] + 2 * padding < kernel || cur.d[2] + 2 * padding < kernel)
						mr_corrupt("layer %u: conv2d does not fit its input", i);
					fan_in = (int64) cur.d[0] * kernel * kernel;
					if ((uint64) (fan_in + 1) * filters > mr_remaining(r) / sizeof(float))
						mr_corrupt("layer %u: conv2d weights do not fit in the bytes left", i);
					nn_add_conv2d(net, filters, kernel, stride, padding, NN_IDENTITY, NULL);
				}
				break;
			case NN_MAXPOOL2D:
			case NN_AVGPOOL2D:
				{
					NnShape		cur = nn_output_shape(net);
					int			kernel = mr_i32_range(r, 1, NN_MAX_KERNEL, "pooling window");
					int			stride = mr_i32_range(r, 1, NN_MAX_KERNEL, "pooling stride");

					if (cur.ndim != 3 || cur.d[1] < kernel || cur.d[2] < kernel)
						mr_corrupt("layer %u: pooling does not fit its input", i);
					nn_add_pool2d(net, (NnLayerKind) kind, kernel, stride);
				}
				break;
			case NN_FLATTEN:
				nn_add_flatten(net);
				break;
			case NN_LSTM:
			case NN_GRU:
				{
					NnShape		cur = nn_output_shape(net);
					int			units = mr_i32_range(r, 1, 65536, "recurrent units");
					uint8		seq = mr_u8(r);
					int			gates = kind == NN_LSTM ? 4 : 3;

					if (cur.ndim != 2 || seq > 1)
						mr_corrupt("layer %u: recurrent layer over a %d-dimensional input", i, cur.ndim);
					/* W_ih, W_hh and one bias vector (LSTM) or two (GRU) */
					if ((uint64) gates * units * ((uint64) cur.d[1] + units + (kind == NN_LSTM ? 1 : 2)) >
						mr_remaining(r) / sizeof(float))
						mr_corrupt("layer %u: recurrent weights do not fit in the bytes left", i);
					add_recurrent(net, (NnLayerKind) kind, units, seq == 1, NULL);
				}
				break;
			case NN_GLOBAL_AVGPOOL:
				if (nn_output_shape(net).ndim != 3)
					mr_corrupt("layer %u: global pooling of a %d-dimensional input", i, nn_output_shape(net).ndim);
				nn_add_global_avgpool(net);
				break;
			case NN_EMBEDDING:
				{
					NnShape		cur = nn_output_shape(net);
					int			vocab = mr_i32_range(r, 1, NN_MAX_VOCAB, "embedding vocabulary");
					int			dim = mr_i32_range(r, 1, NN_MAX_EMBED, "embedding dimensions");

					if (cur.ndim != 1 || (int64) cur.d[0] * dim > NN_MAX_WIDTH)
						mr_corrupt("layer %u: embedding of a %d-dimensional input", i, cur.ndim);
					if ((uint64) vocab * dim > mr_remaining(r) / sizeof(float))
						mr_corrupt("layer %u: embedding vectors do not fit in the bytes left", i);
					nn_add_embedding(net, vocab, dim, NULL);
				}
				break;
			case NN_POSITIONAL:
			case NN_SEQ_MEANPOOL:
				if (nn_output_shape(net).ndim != 2)
					mr_corrupt("layer %u: sequence layer over a %d-dimensional input", i, nn_output_shape(net).ndim);
				if (kind == NN_POSITIONAL)
					nn_add_positional(net);
				else
					nn_add_seq_meanpool(net);
				break;
			case NN_LAYERNORM:
				{
					double		eps = mr_f64_finite(r, "layer-norm epsilon");
					NnShape		cur = nn_output_shape(net);

					if (!((float) eps > 0.0f && eps < 1.0))
						mr_corrupt("layer %u: layer-norm epsilon %g", i, eps);
					if ((uint64) cur.d[cur.ndim - 1] * 2 > mr_remaining(r) / sizeof(float))
						mr_corrupt("layer %u: layer-norm parameters do not fit in the bytes left", i);
					nn_add_layernorm(net);
					net->layers[net->n_layers - 1].eps = (float) eps;
				}
				break;
			case NN_ATTENTION:
				{
					NnShape		cur = nn_output_shape(net);
					int			heads = mr_i32_range(r, 1, NN_MAX_WIDTH, "attention heads");

					if (cur.ndim != 2 || cur.d[1] % heads != 0)
						mr_corrupt("layer %u: attention with %d heads over its input", i, heads);
					if ((uint64) 4 * cur.d[1] * ((uint64) cur.d[1] + 1) > mr_remaining(r) / sizeof(float))
						mr_corrupt("layer %u: attention weights do not fit in the bytes left", i);
					nn_add_attention(net, heads, NULL);
				}
				break;
			case NN_RESIDUAL:
				{
					int			from = mr_i32_range(r, 0, NN_MAX_LAYERS, "residual source");
					NnShape		cur = nn_output_shape(net);
					NnShape		src;

					if (from >= net->n_layers)
						mr_corrupt("layer %u: residual from boundary %d", i, from);
					src = boundary_shape(net, from);
					if (!same_shape(&src, &cur))
						mr_corrupt("layer %u: residual of differing shapes", i);
					nn_add_residual(net, from);
				}
				break;
			case NN_DENSE_STEPS:
				{
					NnShape		cur = nn_output_shape(net);
					int			units = mr_i32_range(r, 1, 65536, "dense_steps units");

					if (cur.ndim != 2 || (int64) cur.d[0] * units > NN_MAX_WIDTH)
						mr_corrupt("layer %u: dense_steps over its input", i);
					if ((uint64) units * ((uint64) cur.d[1] + 1) > mr_remaining(r) / sizeof(float))
						mr_corrupt("layer %u: dense_steps weights do not fit in the bytes left", i);
					nn_add_dense_steps(net, units, NN_IDENTITY, NULL);
				}
				break;
			default:
				mr_corrupt("layer %u: unknown kind %u", i, kind);
		}
		l = &net->layers[net->n_layers - 1];
		if (int8_weights)
		{
			int			k = (int) nn_shape_size(&l->in);

			read_finite_floats(r, l->params[1].w, l->params[1].n, "dense bias");
			pfree(l->params[0].w);
			l->params[0].w = NULL;
			l->quant = quant_read(r, l->out.d[0], k, "dense int8 weights");
			l->qx = palloc((Size) QUANT_ROWS * k);
			continue;
		}
		if (sparse_weights)
		{
			read_finite_floats(r, l->params[1].w, l->params[1].n, "dense bias");
			memset(l->params[0].w, 0, sizeof(float) * l->params[0].n);
			sparse_read_f32(r, l->params[0].w, l->params[0].n, "dense pruned weights");
			l->pruned = true;
			continue;
		}
		for (int k = 0; k < l->n_params; k++)
			read_finite_floats(r, l->params[k].w, l->params[k].n, "weights");
	}
}

/* The layers as a jsonb array, with shapes and parameter counts. */
void
nn_describe(const NnNet *net, JsonbParseState **st)
{
	pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < net->n_layers; i++)
	{
		const NnLayer *l = &net->layers[i];
		int64		params = 0;

		for (int k = 0; k < l->n_params; k++)
			params += l->params[k].n;
		pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
		jb_kv_str(st, "type", l->ops->name);
		jb_kv_int(st, "in", nn_shape_size(&l->in));
		jb_kv_int(st, "out", nn_shape_size(&l->out));
		jb_kv_int(st, "params", params);
		if (l->quant)
			jb_kv_str(st, "weights", "int8");
		else if (l->pruned)
			jb_kv_str(st, "weights", "pruned");
		if (l->out.ndim > 1)
		{
			jb_key(st, "shape");
			pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
			for (int d = 0; d < l->out.ndim; d++)
				jb_int(st, WJB_ELEM, l->out.d[d]);
			pushJsonbValue(st, WJB_END_ARRAY, NULL);
		}
		if (l->kind == NN_CONV2D || l->kind == NN_MAXPOOL2D || l->kind == NN_AVGPOOL2D)
		{
			jb_kv_int(st, "kernel", l->kernel);
			jb_kv_int(st, "stride", l->stride);
		}
		if (l->kind == NN_CONV2D)
			jb_kv_int(st, "padding", l->padding);
		if (l->kind == NN_LSTM || l->kind == NN_GRU)
		{
			jb_kv_int(st, "units", l->units);
			jb_kv_str(st, "returns", l->sequences ? "every step" : "last step");
		}
		if (l->kind == NN_ACTIVATION)
			jb_kv_str(st, "function", nn_activation_name(l->activation));
		if (l->kind == NN_DROPOUT)
			jb_kv_num(st, "rate", l->rate);
		if (l->kind == NN_ATTENTION)
			jb_kv_int(st, "heads", l->heads);
		if (l->kind == NN_EMBEDDING)
			jb_kv_int(st, "vocabulary", l->vocab);
		if (l->kind == NN_RESIDUAL)
			jb_kv_int(st, "from_layer", l->skip_from);
		pushJsonbValue(st, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(st, WJB_END_ARRAY, NULL);
}
