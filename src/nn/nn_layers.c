/*
 * nn_layers.c — forward and backward passes of the layer kinds: dense
 * (OpenBLAS sgemm), activation, dropout and batch normalisation.
 *
 * Every pass works on a whole batch in the network's preallocated buffers;
 * nothing here allocates, raises or checks for interrupts.
 */
#include "postgres.h"

#include <math.h>

#include <cblas.h>

#include "nn/nn.h"
#include "nn/nn_layers.h"

/* ----- dense: out = in W^T + b, W is units x inputs (row-major) ----- */

static void
dense_forward(NnLayer *l, const float *in, float *out, int batch, bool training)
{
	int			k = (int) nn_shape_size(&l->in);
	int			o = l->out.d[0];
	const float *W = l->params[0].w;
	const float *b = l->params[1].w;

	/* start from the bias, then add in W^T */
	for (int i = 0; i < batch; i++)
		memcpy(out + (Size) i * o, b, sizeof(float) * o);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, o, k,
				1.0f, in, k, W, k, 1.0f, out, o);
}

static void
dense_backward(NnLayer *l, const float *in, const float *out, const float *dout,
			   float *din, int batch)
{
	int			k = (int) nn_shape_size(&l->in);
	int			o = l->out.d[0];
	float	   *gW = l->params[0].g;
	float	   *gb = l->params[1].g;

	/* dW = dout^T in (o x k) */
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o, k, batch,
				1.0f, dout, o, in, k, 0.0f, gW, k);
	/* db = column sums of dout */
	memset(gb, 0, sizeof(float) * o);
	for (int i = 0; i < batch; i++)
	{
		const float *row = dout + (Size) i * o;

		for (int j = 0; j < o; j++)
			gb[j] += row[j];
	}
	/* din = dout W (batch x k) */
	if (din)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, k, o,
					1.0f, dout, o, l->params[0].w, k, 0.0f, din, k);
}

const NnLayerOps nn_dense_ops = {"dense", dense_forward, dense_backward};

/* ----- activation ----- */

#define LEAKY_SLOPE 0.01f
#define INV_SQRT2 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f

const char *
nn_activation_name(NnActivation a)
{
	switch (a)
	{
		case NN_RELU:
			return "relu";
		case NN_LEAKY_RELU:
			return "leaky_relu";
		case NN_TANH:
			return "tanh";
		case NN_SIGMOID:
			return "sigmoid";
		case NN_GELU:
			return "gelu";
		case NN_IDENTITY:
			return "identity";
	}
	return "unknown";
}

static inline float
sigmoidf(float x)
{
	/* never exp of a large positive number */
	if (x >= 0)
		return 1.0f / (1.0f + expf(-x));
	else
	{
		float		e = expf(x);

		return e / (1.0f + e);
	}
}

static void
activation_forward(NnLayer *l, const float *in, float *out, int batch, bool training)
{
	Size		n = (Size) batch * nn_shape_size(&l->in);

	switch (l->activation)
	{
		case NN_RELU:
			for (Size i = 0; i < n; i++)
				out[i] = in[i] > 0.0f ? in[i] : 0.0f;
			break;
		case NN_LEAKY_RELU:
			for (Size i = 0; i < n; i++)
				out[i] = in[i] > 0.0f ? in[i] : LEAKY_SLOPE * in[i];
			break;
		case NN_TANH:
			for (Size i = 0; i < n; i++)
				out[i] = tanhf(in[i]);
			break;
		case NN_SIGMOID:
			for (Size i = 0; i < n; i++)
				out[i] = sigmoidf(in[i]);
			break;
		case NN_GELU:
			/* the exact form x Phi(x), as PyTorch's default */
			for (Size i = 0; i < n; i++)
				out[i] = 0.5f * in[i] * (1.0f + erff(in[i] * INV_SQRT2));
			break;
		case NN_IDENTITY:
			if (out != in)
				memcpy(out, in, sizeof(float) * n);
			break;
	}
}

static void
activation_backward(NnLayer *l, const float *in, const float *out, const float *dout,
					float *din, int batch)
{
	Size		n = (Size) batch * nn_shape_size(&l->in);

	if (din == NULL)
		return;
	switch (l->activation)
	{
		case NN_RELU:
			for (Size i = 0; i < n; i++)
				din[i] = in[i] > 0.0f ? dout[i] : 0.0f;
			break;
		case NN_LEAKY_RELU:
			for (Size i = 0; i < n; i++)
				din[i] = in[i] > 0.0f ? dout[i] : LEAKY_SLOPE * dout[i];
			break;
		case NN_TANH:
			for (Size i = 0; i < n; i++)
				din[i] = dout[i] * (1.0f - out[i] * out[i]);
			break;
		case NN_SIGMOID:
			for (Size i = 0; i < n; i++)
				din[i] = dout[i] * out[i] * (1.0f - out[i]);
			break;
		case NN_GELU:
			for (Size i = 0; i < n; i++)
			{
				float		x = in[i];
				float		cdf = 0.5f * (1.0f + erff(x * INV_SQRT2));
				float		pdf = INV_SQRT_2PI * expf(-0.5f * x * x);

				din[i] = dout[i] * (cdf + x * pdf);
			}
			break;
		case NN_IDENTITY:
			memcpy(din, dout, sizeof(float) * n);
			break;
	}
}

const NnLayerOps nn_activation_ops = {"activation", activation_forward, activation_backward};

/* ----- dropout (inverted: kept values are scaled by 1/(1-rate) in training) ----- */

static void
dropout_forward(NnLayer *l, const float *in, float *out, int batch, bool training)
{
	Size		n = (Size) batch * nn_shape_size(&l->in);

	if (!training || l->rate <= 0.0)
	{
		if (out != in)
			memcpy(out, in, sizeof(float) * n);
		return;
	}
	{
		float		keep = (float) (1.0 / (1.0 - l->rate));
		/* compare 24 random bits against the rate, two draws per 64 bits */
		uint32		threshold = (uint32) (l->rate * 16777216.0);
		float	   *mask = l->cache;
		Size		i = 0;

		while (i < n)
		{
			uint64		r = galaxy_rng_next(l->rng);

			for (int h = 0; h < 2 && i < n; h++, i++)
			{
				uint32		bits = (uint32) ((r >> (h * 32 + 8)) & 0xFFFFFF);

				mask[i] = bits < threshold ? 0.0f : keep;
			}
		}
		for (i = 0; i < n; i++)
			out[i] = in[i] * mask[i];
	}
}

static void
dropout_backward(NnLayer *l, const float *in, const float *out, const float *dout,
				 float *din, int batch)
{
	Size		n = (Size) batch * nn_shape_size(&l->in);

	if (din == NULL)
		return;
	if (l->rate <= 0.0)
	{
		memcpy(din, dout, sizeof(float) * n);
		return;
	}
	for (Size i = 0; i < n; i++)
		din[i] = dout[i] * l->cache[i];
}

const NnLayerOps nn_dropout_ops = {"dropout", dropout_forward, dropout_backward};

/*
 * ----- batch normalisation over the batch, per feature -----
 * Training: y = gamma (x - mean_B) / sqrt(var_B + eps) + beta with the
 * batch's statistics (biased variance), and the running statistics move by
 * 'momentum' towards them (unbiased variance), as PyTorch's BatchNorm1d.
 * Inference uses the running statistics.
 */

static void
batchnorm_forward(NnLayer *l, const float *in, float *out, int batch, bool training)
{
	int			f = (int) nn_shape_size(&l->in);
	const float *gamma = l->params[0].w;
	const float *beta = l->params[1].w;

	if (!training)
	{
		for (int j = 0; j < f; j++)
		{
			float		s = gamma[j] / sqrtf(l->running_var[j] + l->eps);
			float		t = beta[j] - l->running_mean[j] * s;

			for (int i = 0; i < batch; i++)
				out[(Size) i * f + j] = in[(Size) i * f + j] * s + t;
		}
		return;
	}

	{
		float	   *xhat = l->cache;
		float	   *inv_std = l->cache2;
		float		m = l->momentum;

		/* statistics in double: a float sum over a large batch drifts */
		for (int j = 0; j < f; j++)
		{
			double		sum = 0.0,
						sq = 0.0,
						mean,
						var;

			for (int i = 0; i < batch; i++)
				sum += in[(Size) i * f + j];
			mean = sum / batch;
			for (int i = 0; i < batch; i++)
			{
				double		dlt = in[(Size) i * f + j] - mean;

				sq += dlt * dlt;
			}
			var = sq / batch;
			inv_std[j] = (float) (1.0 / sqrt(var + l->eps));
			l->running_mean[j] = (1.0f - m) * l->running_mean[j] + m * (float) mean;
			l->running_var[j] = (1.0f - m) * l->running_var[j] +
				m * (float) (batch > 1 ? sq / (batch - 1) : var);
			for (int i = 0; i < batch; i++)
			{
				Size		at = (Size) i * f + j;

				xhat[at] = (float) ((in[at] - mean) * inv_std[j]);
				out[at] = gamma[j] * xhat[at] + beta[j];
			}
		}
	}
}

static void
batchnorm_backward(NnLayer *l, const float *in, const float *out, const float *dout,
				   float *din, int batch)
{
	int			f = (int) nn_shape_size(&l->in);
	const float *gamma = l->params[0].w;
	float	   *ggamma = l->params[0].g;
	float	   *gbeta = l->params[1].g;
	const float *xhat = l->cache;
	const float *inv_std = l->cache2;

	for (int j = 0; j < f; j++)
	{
		double		sdy = 0.0,
					sdyx = 0.0;

		for (int i = 0; i < batch; i++)
		{
			Size		at = (Size) i * f + j;

			sdy += dout[at];
			sdyx += (double) dout[at] * xhat[at];
		}
		ggamma[j] = (float) sdyx;
		gbeta[j] = (float) sdy;
		if (din)
		{
			/* dx = gamma/std/B (B dy - sum(dy) - xhat sum(dy xhat)) */
			double		c = (double) gamma[j] * inv_std[j] / batch;

			for (int i = 0; i < batch; i++)
			{
				Size		at = (Size) i * f + j;

				din[at] = (float) (c * ((double) batch * dout[at] - sdy - xhat[at] * sdyx));
			}
		}
	}
}

const NnLayerOps nn_batchnorm_ops = {"batch_norm", batchnorm_forward, batchnorm_backward};

/* The ops of a stored kind, NULL if unknown. */
const NnLayerOps *
nn_layer_ops(NnLayerKind kind)
{
	switch (kind)
	{
		case NN_DENSE:
			return &nn_dense_ops;
		case NN_ACTIVATION:
			return &nn_activation_ops;
		case NN_DROPOUT:
			return &nn_dropout_ops;
		case NN_BATCHNORM:
			return &nn_batchnorm_ops;
	}
	return NULL;
}
