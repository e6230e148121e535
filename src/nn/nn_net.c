/*
 * nn_net.c — a network: building it layer by layer, its buffers, the
 * forward and backward passes over a batch, inference, storage and the
 * description galaxy.describe() shows.
 */
#include "postgres.h"

#include <math.h>

#include "utils/memutils.h"

#include "galaxy.h"
#include "nn/nn.h"
#include "nn/nn_layers.h"
#include "util/jsonb_build.h"

#define NN_FORMAT_VERSION 1

/* Rows of a batch in inference buffers: up to 256, about 1 MB at most. */
#define NN_PREDICT_VALUES (1 << 18)

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
 * Dense layer of 'units' outputs.  Weights ~ U(-a, a) with He's bound
 * sqrt(6 / fan_in) before relu-like activations and Glorot's
 * sqrt(6 / (fan_in + fan_out)) otherwise; biases 0.  rng NULL: zeros (the
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
	{
		bool		he = (init_for == NN_RELU || init_for == NN_LEAKY_RELU || init_for == NN_GELU);
		double		bound = he ? sqrt(6.0 / (double) fan_in) : sqrt(6.0 / (double) (fan_in + units));
		float	   *w = l->params[0].w;

		for (int64 i = 0; i < l->params[0].n; i++)
			w[i] = (float) ((2.0 * galaxy_rng_uniform(rng) - 1.0) * bound);
	}
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

/* Values per sample the layer keeps from its last training pass. */
static int64
cache_values(const NnLayer *l)
{
	if (l->kind == NN_DROPOUT || l->kind == NN_BATCHNORM)
		return nn_shape_size(&l->in);
	return 0;
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
			per += o + cache_values(l) + (l->kind == NN_BATCHNORM ? 0 : 0);
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
		if (training)
		{
			net->grads[i + 1] = alloc_floats(o);
			if (cache_values(l) > 0)
				l->cache = alloc_floats((int64) net->max_batch * cache_values(l));
			if (l->kind == NN_BATCHNORM)
				l->cache2 = alloc_floats(nn_shape_size(&l->in));
		}
	}
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
	}
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
	bool		own = false;

	if (net->max_batch == 0)
	{
		int64		per = in;

		for (int i = 0; i < net->n_layers; i++)
			per += nn_shape_size(&net->layers[i].out);
		nn_alloc_buffers(net, (int) Max(1, Min(256, NN_PREDICT_VALUES / per)), false);
		own = true;
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
		free_buffers(net);
}

/* ----- storage ----- */

static void
write_shape(ModelWriter *w, const NnShape *s)
{
	mw_u8(w, (uint8) s->ndim);
	for (int i = 0; i < s->ndim; i++)
		mw_i32(w, s->d[i]);
}

void
nn_write(const NnNet *net, ModelWriter *w)
{
	mw_tag(w, "NNET");
	mw_u32(w, NN_FORMAT_VERSION);
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
	if (version != NN_FORMAT_VERSION)
		mr_corrupt("neural network format %u is not supported (this galaxy reads %d)", version, NN_FORMAT_VERSION);
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

		switch (kind)
		{
			case NN_DENSE:
				{
					int			units = read_dim(r, "dense units");
					int64		fan_in = nn_output_size(net);

					/* both tensors must be present before they are allocated */
					if ((uint64) (fan_in + 1) * units > mr_remaining(r) / sizeof(float))
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
			default:
				mr_corrupt("layer %u: unknown kind %u", i, kind);
		}
		l = &net->layers[net->n_layers - 1];
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
		if (l->kind == NN_ACTIVATION)
			jb_kv_str(st, "function", nn_activation_name(l->activation));
		if (l->kind == NN_DROPOUT)
			jb_kv_num(st, "rate", l->rate);
		pushJsonbValue(st, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(st, WJB_END_ARRAY, NULL);
}
