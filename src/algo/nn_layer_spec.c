/*
 * nn_layer_spec.c — the `layers` hyperparameter: a JSON list of layer
 * specs, encoded as NN_SPEC_INTS integers per layer in HyperParams.list:
 *
 *   conv2d           filters, kernel (3), stride (1), padding (kernel / 2)
 *   max_pool2d       size (2), stride (size)
 *   avg_pool2d       size (2), stride (size)
 *   global_avg_pool
 *   flatten
 *   dense            units
 *   dropout          rate, in thousandths (JSON: 0 to 0.9)
 *   batch_norm
 *   activation       function (relu, leaky_relu, tanh, sigmoid, gelu)
 *
 * Unused parameters are 0.  The same walk over the shapes gives the memory
 * estimate (before anything is allocated) and builds the network.
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "algo/nn_layer_spec.h"
#include "util/jsonb_build.h"

typedef enum SpecKind
{
	SPEC_CONV2D = 1,
	SPEC_MAXPOOL = 2,
	SPEC_AVGPOOL = 3,
	SPEC_GLOBAL_AVGPOOL = 4,
	SPEC_FLATTEN = 5,
	SPEC_DENSE = 6,
	SPEC_DROPOUT = 7,
	SPEC_BATCHNORM = 8,
	SPEC_ACTIVATION = 9
} SpecKind;

#define SPEC_N_KINDS 9

/* A parameter of a kind: JSON key, bounds, default (-1: computed, -2: required). */
typedef struct SpecParam
{
	const char *key;
	int			min;
	int			max;
	int			def;
} SpecParam;

typedef struct SpecKindDef
{
	const char *name;
	int			n_params;
	SpecParam	params[NN_SPEC_INTS - 1];
} SpecKindDef;

/* indexed by SpecKind - 1 */
static const SpecKindDef kinds[SPEC_N_KINDS] = {
	{"conv2d", 4, {{"filters", 1, 4096, -2}, {"kernel", 1, 15, 3}, {"stride", 1, 8, 1}, {"padding", 0, 7, -1}}},
	{"max_pool2d", 2, {{"size", 1, 8, 2}, {"stride", 1, 8, -1}}},
	{"avg_pool2d", 2, {{"size", 1, 8, 2}, {"stride", 1, 8, -1}}},
	{"global_avg_pool", 0, {{NULL}}},
	{"flatten", 0, {{NULL}}},
	{"dense", 1, {{"units", 1, NN_MAX_WIDTH, -2}}},
	{"dropout", 1, {{"rate", 0, 900, -2}}},
	{"batch_norm", 0, {{NULL}}},
	{"activation", 1, {{"function", 0, NN_N_ACTIVATIONS - 1, 0}}},
};

static void
spec_error(const char *algo, int layer, const char *fmt, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("layer %d of \"layers\" of %s: %s", layer, algo, fmt),
			 detail ? errdetail("%s", detail) : 0,
			 errhint("Each layer is an object such as {\"type\": \"conv2d\", \"filters\": 32, \"kernel\": 3}; "
					 "types: conv2d, max_pool2d, avg_pool2d, global_avg_pool, flatten, dense, dropout, batch_norm, activation.")));
}

/* The index of an activation's name, -1 if none (identity is not offered). */
static int
activation_index(const char *s)
{
	for (int a = 0; a < NN_N_ACTIVATIONS; a++)
		if (a != NN_IDENTITY && strcmp(nn_activation_name((NnActivation) a), s) == 0)
			return a;
	return -1;
}

/* One JSON object into out[0..NN_SPEC_INTS). */
static void
encode_layer(const char *algo, int layer, JsonbContainer *obj, int32 *out)
{
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbValue	k,
				v;
	JsonbIteratorToken tok;
	const SpecKindDef *def = NULL;
	bool		seen[NN_SPEC_INTS - 1] = {false};
	int			kind = 0;

	memset(out, 0, sizeof(int32) * NN_SPEC_INTS);
	/* the type first, wherever it is */
	{
		JsonbValue *t = getKeyJsonValueFromContainer(obj, "type", 4, NULL);
		char	   *name;

		if (t == NULL || t->type != jbvString)
			spec_error(algo, layer, "needs a \"type\"", NULL);
		name = pnstrdup(t->val.string.val, t->val.string.len);
		for (int i = 0; i < SPEC_N_KINDS; i++)
			if (strcmp(kinds[i].name, name) == 0)
				kind = i + 1;
		if (kind == 0)
			spec_error(algo, layer, psprintf("unknown type \"%s\"", name), NULL);
		def = &kinds[kind - 1];
	}
	out[0] = kind;
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		char	   *key;
		int			p = -1;
		double		d;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(k.val.string.val, k.val.string.len);
		tok = JsonbIteratorNext(&it, &v, true);
		if (strcmp(key, "type") == 0)
			continue;
		for (int i = 0; i < def->n_params; i++)
			if (strcmp(def->params[i].key, key) == 0)
				p = i;
		if (p < 0)
			spec_error(algo, layer, psprintf("%s has no \"%s\"", def->name, key), NULL);
		if (kind == SPEC_ACTIVATION)
		{
			char	   *fn;

			if (v.type != jbvString ||
				activation_index(fn = pnstrdup(v.val.string.val, v.val.string.len)) < 0)
				spec_error(algo, layer, "\"function\" must be relu, leaky_relu, tanh, sigmoid or gelu", NULL);
			out[1] = activation_index(fn);
			seen[0] = true;
			continue;
		}
		if (v.type != jbvNumeric)
			spec_error(algo, layer, psprintf("\"%s\" must be a number", key), NULL);
		d = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(v.val.numeric)));
		if (kind == SPEC_DROPOUT)
			d = rint(d * 1000.0);
		if (!isfinite(d) || d != floor(d) || d < def->params[p].min || d > def->params[p].max)
			spec_error(algo, layer,
					   psprintf("\"%s\" of %s is out of range", key, def->name),
					   kind == SPEC_DROPOUT ? "Allowed: 0 to 0.9." :
					   psprintf("Allowed: whole numbers from %d to %d.", def->params[p].min, def->params[p].max));
		out[1 + p] = (int32) d;
		seen[p] = true;
	}
	for (int i = 0; i < def->n_params; i++)
	{
		if (seen[i])
			continue;
		if (def->params[i].def == -2)
			spec_error(algo, layer, psprintf("%s needs \"%s\"", def->name, def->params[i].key), NULL);
		out[1 + i] = def->params[i].def;
	}
	/* computed defaults: "same" padding, stride = window */
	if (kind == SPEC_CONV2D && !seen[3])
		out[4] = out[2] / 2;
	if ((kind == SPEC_MAXPOOL || kind == SPEC_AVGPOOL) && !seen[1])
		out[2] = out[1];
	if (kind == SPEC_CONV2D && out[4] >= out[2])
		spec_error(algo, layer, "\"padding\" of conv2d must be smaller than its kernel", NULL);
}

static int
spec_encode(const char *algo, const HyperParamSpec *spec, const JsonbValue *v, int32 *out, int max)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	int			n = 0;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hyperparameter \"%s\" of %s must be an array of layer objects", spec->name, algo),
				 errhint("For example [{\"type\": \"conv2d\", \"filters\": 16}, {\"type\": \"activation\", \"function\": \"relu\"}, "
						 "{\"type\": \"max_pool2d\"}, {\"type\": \"dense\", \"units\": 64}].")));
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		if (n + NN_SPEC_INTS > max)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("hyperparameter \"%s\" of %s has more than %d layers", spec->name, algo, max / NN_SPEC_INTS)));
		if (e.type != jbvBinary || !JsonContainerIsObject(e.val.binary.data))
			spec_error(algo, n / NN_SPEC_INTS + 1, "is not an object", NULL);
		encode_layer(algo, n / NN_SPEC_INTS + 1, e.val.binary.data, out + n);
		n += NN_SPEC_INTS;
	}
	return n;
}

static void
spec_decode(const int32 *in, int n, JsonbParseState **st)
{
	pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
	for (int l = 0; l + NN_SPEC_INTS <= n; l += NN_SPEC_INTS)
	{
		const SpecKindDef *def = &kinds[in[l] - 1];

		pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
		jb_kv_str(st, "type", def->name);
		for (int i = 0; i < def->n_params; i++)
		{
			int32		x = in[l + 1 + i];

			if (in[l] == SPEC_ACTIVATION)
				jb_kv_str(st, def->params[i].key, nn_activation_name((NnActivation) x));
			else if (in[l] == SPEC_DROPOUT)
				jb_kv_num(st, def->params[i].key, x / 1000.0);
			else
				jb_kv_int(st, def->params[i].key, x);
		}
		pushJsonbValue(st, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(st, WJB_END_ARRAY, NULL);
}

static bool
spec_valid(const int32 *in, int n)
{
	if (n < 0 || n % NN_SPEC_INTS != 0)
		return false;
	for (int l = 0; l < n; l += NN_SPEC_INTS)
	{
		const SpecKindDef *def;

		if (in[l] < 1 || in[l] > SPEC_N_KINDS)
			return false;
		def = &kinds[in[l] - 1];
		for (int i = 0; i < NN_SPEC_INTS - 1; i++)
		{
			int32		x = in[l + 1 + i];

			if (i >= def->n_params ? x != 0 : (x < def->params[i].min || x > def->params[i].max))
				return false;
			if (in[l] == SPEC_ACTIVATION && x == NN_IDENTITY)
				return false;
		}
		if (in[l] == SPEC_CONV2D && in[l + 4] >= in[l + 2])
			return false;
	}
	return true;
}

const HpCodec nn_layer_spec_codec = {"jsonb", spec_encode, spec_decode, spec_valid};

/* ----- the walk over the shapes ----- */

/* A side of a window's output, or ERROR naming the layer. */
static int
spec_window(int size, int k, int s, int pad, int layer, const char *what)
{
	if (size + 2 * pad < k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("layer %d of \"layers\" (%s): a window of %d does not fit an input of %d", layer, what, k, size + 2 * pad)));
	return (size + 2 * pad - k) / s + 1;
}

static void
spec_need_image(NnShape cur, int layer, const char *what)
{
	if (cur.ndim != 3)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("layer %d of \"layers\" (%s) needs an image [channels, height, width], not %d dimension%s",
						layer, what, cur.ndim, cur.ndim == 1 ? "" : "s"),
				 errhint("Put convolution and pooling layers before the first dense or flatten layer.")));
}

double
nn_layer_spec_bytes(const int32 *spec, int n, NnShape in, int n_out, int batch)
{
	NnShape		cur = in;
	double		params = 0,
				rows = (double) nn_shape_size(&in);

	for (int l = 0; l < n; l += NN_SPEC_INTS)
	{
		const int32 *p = spec + l + 1;
		int			layer = l / NN_SPEC_INTS + 1;
		double		size = (double) nn_shape_size(&cur);

		switch ((SpecKind) spec[l])
		{
			case SPEC_CONV2D:
				{
					double		cols;

					spec_need_image(cur, layer, "conv2d");
					params += ((double) cur.d[0] * p[1] * p[1] + 1) * p[0];
					cur.d[1] = spec_window(cur.d[1], p[1], p[2], p[3], layer, "conv2d");
					cur.d[2] = spec_window(cur.d[2], p[1], p[2], p[3], layer, "conv2d");
					cols = (double) cur.d[0] * p[1] * p[1] * cur.d[1] * cur.d[2];
					cur.d[0] = p[0];
					/* output and gradient, the transposed products, the im2col columns */
					rows += 3 * (double) nn_shape_size(&cur) + cols;
				}
				break;
			case SPEC_MAXPOOL:
			case SPEC_AVGPOOL:
				spec_need_image(cur, layer, spec[l] == SPEC_MAXPOOL ? "max_pool2d" : "avg_pool2d");
				cur.d[1] = spec_window(cur.d[1], p[0], p[1], 0, layer, "pooling");
				cur.d[2] = spec_window(cur.d[2], p[0], p[1], 0, layer, "pooling");
				rows += 3 * (double) nn_shape_size(&cur);
				break;
			case SPEC_GLOBAL_AVGPOOL:
				spec_need_image(cur, layer, "global_avg_pool");
				cur.ndim = 1;
				rows += 2 * cur.d[0];
				break;
			case SPEC_FLATTEN:
				cur.ndim = 1;
				cur.d[0] = (int) Min(size, NN_MAX_WIDTH);
				rows += 2 * size;
				break;
			case SPEC_DENSE:
				params += (size + 1) * p[0];
				cur.ndim = 1;
				cur.d[0] = p[0];
				rows += 2 * (size + p[0]);
				break;
			case SPEC_DROPOUT:
			case SPEC_BATCHNORM:
			case SPEC_ACTIVATION:
				params += spec[l] == SPEC_BATCHNORM ? 2 * size : 0;
				rows += 3 * size;
				break;
		}
		if (nn_shape_size(&cur) > NN_MAX_WIDTH)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("layer %d of \"layers\" outputs " INT64_FORMAT " values per row, more than %d",
							layer, nn_shape_size(&cur), NN_MAX_WIDTH)));
	}
	params += ((double) nn_shape_size(&cur) + 1) * n_out;
	rows += 2 * ((double) nn_shape_size(&cur) + n_out);
	return params * sizeof(float) * 5 + rows * sizeof(float) * batch;
}

void
nn_layer_spec_build(NnNet *net, const int32 *spec, int n, GalaxyRng *rng)
{
	for (int l = 0; l < n; l += NN_SPEC_INTS)
	{
		const int32 *p = spec + l + 1;
		/* initialise for the activation that follows, if the next layer is one */
		NnActivation next = (l + NN_SPEC_INTS < n && spec[l + NN_SPEC_INTS] == SPEC_ACTIVATION) ?
			(NnActivation) spec[l + NN_SPEC_INTS + 1] : NN_IDENTITY;

		switch ((SpecKind) spec[l])
		{
			case SPEC_CONV2D:
				nn_add_conv2d(net, p[0], p[1], p[2], p[3], next, rng);
				break;
			case SPEC_MAXPOOL:
				nn_add_pool2d(net, NN_MAXPOOL2D, p[0], p[1]);
				break;
			case SPEC_AVGPOOL:
				nn_add_pool2d(net, NN_AVGPOOL2D, p[0], p[1]);
				break;
			case SPEC_GLOBAL_AVGPOOL:
				nn_add_global_avgpool(net);
				break;
			case SPEC_FLATTEN:
				nn_add_flatten(net);
				break;
			case SPEC_DENSE:
				if (nn_output_shape(net).ndim > 1)
					nn_add_flatten(net);
				nn_add_dense(net, p[0], next, rng);
				break;
			case SPEC_DROPOUT:
				nn_add_dropout(net, p[0] / 1000.0);
				break;
			case SPEC_BATCHNORM:
				nn_add_batchnorm(net);
				break;
			case SPEC_ACTIVATION:
				nn_add_activation(net, (NnActivation) p[0]);
				break;
		}
	}
	if (nn_output_shape(net).ndim > 1)
		nn_add_flatten(net);
}
