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

/* out (rows x o) = in (rows x k) W^T + b: a dense layer, or one applied at every step. */
void
nn_dense_rows_forward(const NnLayer *l, const float *in, float *out, int64 rows, int k, int o)
{
	const float *W = l->params[0].w;
	const float *b = l->params[1].w;

	/* start from the bias, then add in W^T */
	for (int64 i = 0; i < rows; i++)
		memcpy(out + (Size) i * o, b, sizeof(float) * o);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int) rows, o, k,
				1.0f, in, k, W, k, 1.0f, out, o);
}

/* The gradients of nn_dense_rows_forward: dW, db (overwritten) and din (if not NULL). */
void
nn_dense_rows_backward(NnLayer *l, const float *in, const float *dout, float *din, int64 rows, int k, int o)
{
	float	   *gW = l->params[0].g;
	float	   *gb = l->params[1].g;

	/* dW = dout^T in (o x k) */
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o, k, (int) rows,
				1.0f, dout, o, in, k, 0.0f, gW, k);
	/* db = column sums of dout */
	memset(gb, 0, sizeof(float) * o);
	for (int64 i = 0; i < rows; i++)
	{
		const float *row = dout + (Size) i * o;

		for (int j = 0; j < o; j++)
			gb[j] += row[j];
	}
	/* din = dout W (rows x k) */
	if (din)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) rows, k, o,
					1.0f, dout, o, l->params[0].w, k, 0.0f, din, k);
}

static void
dense_forward(NnLayer *l, const float *in, float *out, int batch, bool training)
{
	nn_dense_rows_forward(l, in, out, batch, (int) nn_shape_size(&l->in), l->out.d[0]);
}

static void
dense_backward(NnLayer *l, const float *in, const float *out, const float *dout,
			   float *din, int batch)
{
	nn_dense_rows_backward(l, in, dout, din, batch, (int) nn_shape_size(&l->in), l->out.d[0]);
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

/*
 * tanh for the recurrent cells' gates: a rational function (odd numerator
 * of degree 13, even denominator of degree 6, the approximation Eigen's
 * vectorised tanh uses) on x clamped to +-7.905 (where tanh is 1 in
 * float), so the gate loops vectorise instead of calling libm per value.
 * Absolute error below 1e-6 over the whole line; tanh(0) = 0 exactly.
 */
static inline float
gate_tanhf(float x)
{
	float		x2,
				p,
				q;

	x = x > 7.90531110763549805f ? 7.90531110763549805f : x;
	x = x < -7.90531110763549805f ? -7.90531110763549805f : x;
	x2 = x * x;
	p = -2.76076847742355e-16f;
	p = p * x2 + 2.00018790482477e-13f;
	p = p * x2 - 8.60467152213735e-11f;
	p = p * x2 + 5.12229709037114e-08f;
	p = p * x2 + 1.48572235717979e-05f;
	p = p * x2 + 6.37261928875436e-04f;
	p = p * x2 + 4.89352455891786e-03f;
	p = p * x;
	q = 1.19825839466702e-06f;
	q = q * x2 + 1.18534705686654e-04f;
	q = q * x2 + 2.26843463243900e-03f;
	q = q * x2 + 4.89352518554385e-03f;
	return p / q;
}

/* The logistic function of the gates through gate_tanhf: 1/2 + tanh(x/2)/2. */
static inline float
gate_sigmoidf(float x)
{
	return 0.5f + 0.5f * gate_tanhf(0.5f * x);
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
				din[i] = dout[i] * (in[i] > 0.0f ? 1.0f : 0.0f);	/* branch-free: vectorizes */
			break;
		case NN_LEAKY_RELU:
			for (Size i = 0; i < n; i++)
				din[i] = dout[i] * (in[i] > 0.0f ? 1.0f : LEAKY_SLOPE);
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

/* Sum of n floats: eight float lanes (they vectorize), added up in double. */
static float
sum_floats(const float *x, Size n)
{
	float		acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
	double		total = 0.0;
	Size		i = 0;

	for (; i + 8 <= n; i += 8)
		for (int j = 0; j < 8; j++)
			acc[j] += x[i + j];
	for (; i < n; i++)
		total += x[i];
	for (int j = 0; j < 8; j++)
		total += acc[j];
	return (float) total;
}

/*
 * ----- 2-D convolution: im2col over the whole batch, one sgemm -----
 * The columns matrix has one row per (channel, kernel row, kernel column)
 * and one column per (sample, output row, output column): forward is
 * W [F x K] times columns [K x B*HW], then each sample's [F x HW] block is
 * moved to the batch layout [B x F x HW] with the bias added.  Backward
 * turns dL/dout into [F x B*HW] (cache2) for the weight gradient
 * (times the columns' transpose) and the columns' gradient (W^T times it),
 * which col2im adds back into the input's shape.
 */

/*
 * Output columns ow whose input column ow * stride - pad + kj lies inside
 * the image: [*lo, *hi).  Outside them the kernel reads the zero padding.
 */
static inline void
window_columns(int Wo, int W, int st, int pad, int kj, int *lo, int *hi)
{
	int			a = pad - kj;		/* ow * st >= a */
	int			b = W - 1 + pad - kj;	/* ow * st <= b */

	*lo = a <= 0 ? 0 : (a + st - 1) / st;
	*hi = b < 0 ? 0 : Min(Wo, b / st + 1);
	if (*hi < *lo)
		*hi = *lo;
}

static void
im2col(const NnLayer *l, const float *in, int batch, float *col)
{
	int			C = l->in.d[0],
				H = l->in.d[1],
				W = l->in.d[2];
	int			Ho = l->out.d[1],
				Wo = l->out.d[2];
	int			k = l->kernel,
				st = l->stride,
				pad = l->padding;
	Size		hw = (Size) Ho * Wo;
	Size		bhw = hw * batch;

	for (int c = 0; c < C; c++)
		for (int ki = 0; ki < k; ki++)
			for (int kj = 0; kj < k; kj++)
			{
				float	   *row = col + ((Size) (c * k + ki) * k + kj) * bhw;
				int			lo,
							hi;

				window_columns(Wo, W, st, pad, kj, &lo, &hi);
				for (int b = 0; b < batch; b++)
				{
					const float *plane = in + ((Size) b * C + c) * H * W;
					float	   *dst = row + (Size) b * hw;

					for (int oh = 0; oh < Ho; oh++)
					{
						int			ih = oh * st - pad + ki;
						float	   *d = dst + (Size) oh * Wo;
						/* input index of output column ow: base + ow * st (inside for lo <= ow < hi) */
						ptrdiff_t	base = (ptrdiff_t) ih * W - pad + kj;

						if (ih < 0 || ih >= H)
						{
							memset(d, 0, sizeof(float) * Wo);
							continue;
						}
						for (int ow = 0; ow < lo; ow++)
							d[ow] = 0.0f;
						if (st == 1)
							memcpy(d + lo, plane + base + lo, sizeof(float) * (hi - lo));
						else
							for (int ow = lo; ow < hi; ow++)
								d[ow] = plane[base + (ptrdiff_t) ow * st];
						for (int ow = hi; ow < Wo; ow++)
							d[ow] = 0.0f;
					}
				}
			}
}

/* din += the columns' gradient, back in the input's shape (din zeroed by the caller). */
static void
col2im(const NnLayer *l, const float *col, int batch, float *din)
{
	int			C = l->in.d[0],
				H = l->in.d[1],
				W = l->in.d[2];
	int			Ho = l->out.d[1],
				Wo = l->out.d[2];
	int			k = l->kernel,
				st = l->stride,
				pad = l->padding;
	Size		hw = (Size) Ho * Wo;
	Size		bhw = hw * batch;

	for (int c = 0; c < C; c++)
		for (int ki = 0; ki < k; ki++)
			for (int kj = 0; kj < k; kj++)
			{
				const float *row = col + ((Size) (c * k + ki) * k + kj) * bhw;
				int			lo,
							hi;

				window_columns(Wo, W, st, pad, kj, &lo, &hi);
				for (int b = 0; b < batch; b++)
				{
					float	   *plane = din + ((Size) b * C + c) * H * W;
					const float *src = row + (Size) b * hw;

					for (int oh = 0; oh < Ho; oh++)
					{
						int			ih = oh * st - pad + ki;
						const float *restrict s = src + (Size) oh * Wo;
						ptrdiff_t	base = (ptrdiff_t) ih * W - pad + kj;

						if (ih < 0 || ih >= H || hi <= lo)
							continue;
						if (st == 1)
						{
							float	   *restrict drow = plane + base + lo;

							for (int ow = 0; ow < hi - lo; ow++)
								drow[ow] += s[lo + ow];
						}
						else
							for (int ow = lo; ow < hi; ow++)
								plane[base + (ptrdiff_t) ow * st] += s[ow];
					}
				}
			}
}

static void
conv2d_forward(NnLayer *l, const float *in, float *out, int batch, bool training)
{
	int			F = l->out.d[0];
	int			K = l->in.d[0] * l->kernel * l->kernel;
	Size		hw = (Size) l->out.d[1] * l->out.d[2];
	Size		bhw = hw * batch;
	const float *Wt = l->params[0].w;
	const float *bias = l->params[1].w;
	float	   *col = l->cache;
	float	   *tmp = l->cache2;

	im2col(l, in, batch, col);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, F, (int) bhw, K,
				1.0f, Wt, K, col, (int) bhw, 0.0f, tmp, (int) bhw);
	for (int b = 0; b < batch; b++)
		for (int f = 0; f < F; f++)
		{
			const float *src = tmp + (Size) f * bhw + (Size) b * hw;
			float	   *dst = out + ((Size) b * F + f) * hw;
			float		bf = bias[f];

			for (Size p = 0; p < hw; p++)
				dst[p] = src[p] + bf;
		}
}

static void
conv2d_backward(NnLayer *l, const float *in, const float *out, const float *dout,
				float *din, int batch)
{
	int			F = l->out.d[0];
	int			K = l->in.d[0] * l->kernel * l->kernel;
	Size		hw = (Size) l->out.d[1] * l->out.d[2];
	Size		bhw = hw * batch;
	float	   *gW = l->params[0].g;
	float	   *gb = l->params[1].g;
	float	   *col = l->cache;
	float	   *dT = l->cache2;

	for (int f = 0; f < F; f++)
	{
		for (int b = 0; b < batch; b++)
			memcpy(dT + (Size) f * bhw + (Size) b * hw, dout + ((Size) b * F + f) * hw, sizeof(float) * hw);
		gb[f] = sum_floats(dT + (Size) f * bhw, bhw);
	}
	/* the columns are those of the last forward pass (the same batch) */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, F, K, (int) bhw,
				1.0f, dT, (int) bhw, col, (int) bhw, 0.0f, gW, K);
	if (din)
	{
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, (int) bhw, F,
					1.0f, l->params[0].w, K, dT, (int) bhw, 0.0f, col, (int) bhw);
		memset(din, 0, sizeof(float) * batch * nn_shape_size(&l->in));
		col2im(l, col, batch, din);
	}
}

const NnLayerOps nn_conv2d_ops = {"conv2d", conv2d_forward, conv2d_backward};

/* ----- max and average pooling over k x k windows (no padding) ----- */

static void
pool_forward(NnLayer *l, const float *in, float *out, int batch, bool training)
{
	int			C = l->in.d[0],
				H = l->in.d[1],
				W = l->in.d[2];
	int			Ho = l->out.d[1],
				Wo = l->out.d[2];
	int			k = l->kernel,
				st = l->stride;
	bool		is_max = (l->kind == NN_MAXPOOL2D);
	float		inv = 1.0f / (float) (k * k);

	for (int b = 0; b < batch; b++)
		for (int c = 0; c < C; c++)
		{
			const float *plane = in + ((Size) b * C + c) * H * W;
			Size		obase = ((Size) b * C + c) * Ho * Wo;

			for (int oh = 0; oh < Ho; oh++)
				for (int ow = 0; ow < Wo; ow++)
				{
					int			at = (oh * st) * W + ow * st;
					float		best = plane[at],
								sum = 0.0f;
					int			arg = at;

					for (int i = 0; i < k; i++)
						for (int j = 0; j < k; j++)
						{
							int			q = (oh * st + i) * W + ow * st + j;
							float		v = plane[q];

							sum += v;
							if (v > best)
							{
								best = v;
								arg = q;
							}
						}
					out[obase + (Size) oh * Wo + ow] = is_max ? best : sum * inv;
					/* the input position that won, for backward (exact in float below 2^24) */
					if (is_max && training)
						l->cache[obase + (Size) oh * Wo + ow] = (float) arg;
				}
		}
}

static void
pool_backward(NnLayer *l, const float *in, const float *out, const float *dout,
			  float *din, int batch)
{
	int			C = l->in.d[0],
				H = l->in.d[1],
				W = l->in.d[2];
	int			Ho = l->out.d[1],
				Wo = l->out.d[2];
	int			k = l->kernel,
				st = l->stride;
	float		inv = 1.0f / (float) (k * k);

	if (din == NULL)
		return;
	memset(din, 0, sizeof(float) * batch * nn_shape_size(&l->in));
	for (int b = 0; b < batch; b++)
		for (int c = 0; c < C; c++)
		{
			float	   *plane = din + ((Size) b * C + c) * H * W;
			Size		obase = ((Size) b * C + c) * Ho * Wo;

			for (int oh = 0; oh < Ho; oh++)
				for (int ow = 0; ow < Wo; ow++)
				{
					float		g = dout[obase + (Size) oh * Wo + ow];

					if (l->kind == NN_MAXPOOL2D)
						plane[(int) l->cache[obase + (Size) oh * Wo + ow]] += g;
					else
						for (int i = 0; i < k; i++)
							for (int j = 0; j < k; j++)
								plane[(oh * st + i) * W + ow * st + j] += g * inv;
				}
		}
}

const NnLayerOps nn_maxpool2d_ops = {"max_pool2d", pool_forward, pool_backward};
const NnLayerOps nn_avgpool2d_ops = {"avg_pool2d", pool_forward, pool_backward};

/* ----- global average pooling: [C, H, W] -> [C] ----- */

static void
global_avgpool_forward(NnLayer *l, const float *in, float *out, int batch, bool training)
{
	int			C = l->in.d[0];
	Size		hw = (Size) l->in.d[1] * l->in.d[2];

	for (int b = 0; b < batch; b++)
		for (int c = 0; c < C; c++)
		{
			const float *plane = in + ((Size) b * C + c) * hw;
			double		sum = 0.0;

			for (Size p = 0; p < hw; p++)
				sum += plane[p];
			out[(Size) b * C + c] = (float) (sum / hw);
		}
}

static void
global_avgpool_backward(NnLayer *l, const float *in, const float *out, const float *dout,
						float *din, int batch)
{
	int			C = l->in.d[0];
	Size		hw = (Size) l->in.d[1] * l->in.d[2];

	if (din == NULL)
		return;
	for (int b = 0; b < batch; b++)
		for (int c = 0; c < C; c++)
		{
			float		g = dout[(Size) b * C + c] / (float) hw;
			float	   *plane = din + ((Size) b * C + c) * hw;

			for (Size p = 0; p < hw; p++)
				plane[p] = g;
		}
}

const NnLayerOps nn_global_avgpool_ops = {"global_avg_pool", global_avgpool_forward, global_avgpool_backward};

/* ----- flatten: the same values, one dimension ----- */

static void
flatten_forward(NnLayer *l, const float *in, float *out, int batch, bool training)
{
	memcpy(out, in, sizeof(float) * batch * nn_shape_size(&l->in));
}

static void
flatten_backward(NnLayer *l, const float *in, const float *out, const float *dout,
				 float *din, int batch)
{
	if (din)
		memcpy(din, dout, sizeof(float) * batch * nn_shape_size(&l->in));
}

const NnLayerOps nn_flatten_ops = {"flatten", flatten_forward, flatten_backward};

/*
 * The recurrent layers work step-major ([T][B][F]: one step of every
 * sample is contiguous); the batch is sample-major ([B][T][F]).
 */
static void
to_step_major(const float *in, float *out, int T, int batch, int F)
{
	for (int t = 0; t < T; t++)
		for (int b = 0; b < batch; b++)
			memcpy(out + ((Size) t * batch + b) * F, in + ((Size) b * T + t) * F, sizeof(float) * F);
}

static void
from_step_major(const float *in, float *out, int T, int batch, int F)
{
	for (int t = 0; t < T; t++)
		for (int b = 0; b < batch; b++)
			memcpy(out + ((Size) b * T + t) * F, in + ((Size) t * batch + b) * F, sizeof(float) * F);
}

/*
 * ----- LSTM over a [T, F] sequence (gates i, f, g, o; PyTorch's order) -----
 * Step t: z = x_t W_ih^T + h_{t-1} W_hh^T + b; i, f, o = sigmoid, g = tanh;
 * c_t = f c_{t-1} + i g; h_t = o tanh(c_t).  The inputs are first laid out
 * step-major ([T][B][F], cache2), so x W_ih^T for every step is one sgemm
 * straight into the gates buffer ([T][B][4H], cache), and each step adds
 * h_{t-1} W_hh^T with one more.  Backward (through time) overwrites each
 * step's gates with their gradients, accumulates dW_hh per step, and ends
 * with one sgemm for dW_ih and one for the inputs' gradient.
 *
 * cache2 per sample: c [T][H], h [T][H], x [T][F], then two [H] scratch rows
 * (dh and dc carried between steps).
 */

static void
lstm_parts(const NnLayer *l, int batch, float **c, float **h, float **xt, float **dh, float **dc)
{
	int			T = l->in.d[0],
				F = l->in.d[1],
				H = l->units;
	float	   *base = l->cache2;

	*c = base;
	*h = *c + (Size) T * batch * H;
	*xt = *h + (Size) T * batch * H;
	*dh = *xt + (Size) T * batch * F;
	*dc = *dh + (Size) batch * H;
}

/*
 * One row of an LSTM step: z holds the row's 4H pre-activations (input,
 * forget, cell, output; without the bias), replaced by the gates; cprev is
 * the previous cell state (zeros at the first step).  Branch-free, so the
 * loop vectorises.
 */
static inline void
lstm_cell(float *restrict z, const float *restrict bias, const float *restrict cprev,
		  float *restrict c, float *restrict h, int H)
{
	/* one pointer per gate: z[H + j] would not vectorise under -fwrapv */
	float	   *zi = z,
			   *zf = z + H,
			   *zg = z + 2 * (Size) H,
			   *zo = z + 3 * (Size) H;
	const float *bi = bias,
			   *bf = bias + H,
			   *bg = bias + 2 * (Size) H,
			   *bo = bias + 3 * (Size) H;

	for (int j = 0; j < H; j++)
	{
		float		ig = gate_sigmoidf(zi[j] + bi[j]);
		float		fg = gate_sigmoidf(zf[j] + bf[j]);
		float		gg = gate_tanhf(zg[j] + bg[j]);
		float		og = gate_sigmoidf(zo[j] + bo[j]);
		float		cv = fg * cprev[j] + ig * gg;

		zi[j] = ig;
		zf[j] = fg;
		zg[j] = gg;
		zo[j] = og;
		c[j] = cv;
		h[j] = og * gate_tanhf(cv);
	}
}

static void
lstm_forward(NnLayer *l, const float *in, float *out, int batch, bool training)
{
	int			T = l->in.d[0],
				F = l->in.d[1],
				H = l->units;
	int			G = 4 * H;
	const float *Wih = l->params[0].w;
	const float *Whh = l->params[1].w;
	const float *bias = l->params[2].w;
	float	   *gates = l->cache;
	float	   *c,
			   *h,
			   *xt,
			   *dh,
			   *dc,
			   *zeros;

	lstm_parts(l, batch, &c, &h, &xt, &dh, &dc);
	zeros = palloc0(sizeof(float) * H);
	to_step_major(in, xt, T, batch, F);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T * batch, G, F,
				1.0f, xt, F, Wih, F, 0.0f, gates, G);
	for (int t = 0; t < T; t++)
	{
		float	   *gt = gates + (Size) t * batch * G;
		float	   *ct = c + (Size) t * batch * H;
		float	   *ht = h + (Size) t * batch * H;

		if (t > 0)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, G, H,
						1.0f, h + (Size) (t - 1) * batch * H, H, Whh, H, 1.0f, gt, G);
		for (int b = 0; b < batch; b++)
			lstm_cell(gt + (Size) b * G, bias, t > 0 ? c + ((Size) (t - 1) * batch + b) * H : zeros,
					  ct + (Size) b * H, ht + (Size) b * H, H);
	}
	pfree(zeros);
	if (l->sequences)
		from_step_major(h, out, T, batch, H);
	else
		memcpy(out, h + (Size) (T - 1) * batch * H, sizeof(float) * batch * H);
}

/*
 * The backward of one row of an LSTM step: z holds the step's gates,
 * replaced by dL/dz; c is the row's cell state, cprev the previous one
 * (zeros at the first step), dy the gradient from above (zeros where none),
 * dh and dc the gradients carried from the next step (updated).
 */
static inline void
lstm_cell_backward(float *restrict z, const float *restrict c, const float *restrict cprev,
				   const float *restrict dy, const float *restrict dh, float *restrict dc, int H)
{
	float	   *zi = z,
			   *zf = z + H,
			   *zg = z + 2 * (Size) H,
			   *zo = z + 3 * (Size) H;

	for (int j = 0; j < H; j++)
	{
		float		ig = zi[j],
					fg = zf[j],
					gg = zg[j],
					og = zo[j];
		float		tc = gate_tanhf(c[j]);
		float		dhj = dh[j] + dy[j];
		float		dcj = dc[j] + dhj * og * (1.0f - tc * tc);

		zi[j] = dcj * gg * ig * (1.0f - ig);
		zf[j] = dcj * cprev[j] * fg * (1.0f - fg);
		zg[j] = dcj * ig * (1.0f - gg * gg);
		zo[j] = dhj * tc * og * (1.0f - og);
		dc[j] = dcj * fg;
	}
}

static void
lstm_backward(NnLayer *l, const float *in, const float *out, const float *dout,
			  float *din, int batch)
{
	int			T = l->in.d[0],
				F = l->in.d[1],
				H = l->units;
	int			G = 4 * H;
	const float *Wih = l->params[0].w;
	const float *Whh = l->params[1].w;
	float	   *gWih = l->params[0].g;
	float	   *gWhh = l->params[1].g;
	float	   *gb = l->params[2].g;
	float	   *gates = l->cache;
	float	   *c,
			   *h,
			   *xt,
			   *dh,
			   *dc,
			   *zeros;

	lstm_parts(l, batch, &c, &h, &xt, &dh, &dc);
	zeros = palloc0(sizeof(float) * H);
	memset(gWhh, 0, sizeof(float) * G * H);
	memset(dh, 0, sizeof(float) * batch * H);
	memset(dc, 0, sizeof(float) * batch * H);
	for (int t = T - 1; t >= 0; t--)
	{
		float	   *gt = gates + (Size) t * batch * G;

		for (int b = 0; b < batch; b++)
		{
			float	   *z = gt + (Size) b * G;
			const float *ct = c + ((Size) t * batch + b) * H;
			const float *cprev = t > 0 ? c + ((Size) (t - 1) * batch + b) * H : NULL;
			const float *dy = l->sequences ? dout + ((Size) b * T + t) * H :
				(t == T - 1 ? dout + (Size) b * H : NULL);

			lstm_cell_backward(z, ct, cprev ? cprev : zeros, dy ? dy : zeros,
							   dh + (Size) b * H, dc + (Size) b * H, H);
		}
		if (t > 0)
		{
			const float *hprev = h + (Size) (t - 1) * batch * H;

			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, H, batch,
						1.0f, gt, G, hprev, H, 1.0f, gWhh, H);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, H, G,
						1.0f, gt, G, Whh, H, 0.0f, dh, H);
		}
	}
	/* gates now hold dL/dz for every step: the input weights, bias and inputs */
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, G, F, T * batch,
				1.0f, gates, G, xt, F, 0.0f, gWih, F);
	memset(gb, 0, sizeof(float) * G);
	for (Size r = 0; r < (Size) T * batch; r++)
		for (int j = 0; j < G; j++)
			gb[j] += gates[r * G + j];
	if (din)
	{
		/* step-major gradient into the x buffer, then back to the batch layout */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T * batch, F, G,
					1.0f, gates, G, Wih, F, 0.0f, xt, F);
		from_step_major(xt, din, T, batch, F);
	}
	pfree(zeros);
}

const NnLayerOps nn_lstm_ops = {"lstm", lstm_forward, lstm_backward};

/*
 * ----- GRU over a [T, F] sequence (PyTorch's formulation, gates r, z, n) -----
 * r = sigmoid(x W_ir + b_ir + h W_hr + b_hr), z likewise,
 * n = tanh(x W_in + b_in + r (h W_hn + b_hn)), h' = (1 - z) n + z h.
 * As for the LSTM, x W_ih^T + b_ih for every step is one sgemm (into gi,
 * step-major) and each step adds one sgemm for h W_hh^T.
 *
 * cache per sample: r, z, n and h W_hn + b_hn of every step ([T][4H]).
 * cache2 per sample: h [T][H], x [T][F], gi [T][3H], then scratch rows
 * gh [3H] and dh [H].
 */

static void
gru_parts(const NnLayer *l, int batch, float **h, float **xt, float **gi, float **gh, float **dh)
{
	int			T = l->in.d[0],
				F = l->in.d[1],
				H = l->units;

	*h = l->cache2;
	*xt = *h + (Size) T * batch * H;
	*gi = *xt + (Size) T * batch * F;
	*gh = *gi + (Size) T * batch * 3 * H;
	*dh = *gh + (Size) batch * 3 * H;
}

static void
gru_forward(NnLayer *l, const float *in, float *out, int batch, bool training)
{
	int			T = l->in.d[0],
				F = l->in.d[1],
				H = l->units;
	const float *Wih = l->params[0].w;
	const float *Whh = l->params[1].w;
	const float *bih = l->params[2].w;
	const float *bhh = l->params[3].w;
	float	   *h,
			   *xt,
			   *gi,
			   *gh,
			   *dh;

	gru_parts(l, batch, &h, &xt, &gi, &gh, &dh);
	to_step_major(in, xt, T, batch, F);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T * batch, 3 * H, F,
				1.0f, xt, F, Wih, F, 0.0f, gi, 3 * H);
	for (int t = 0; t < T; t++)
	{
		const float *hprev = t > 0 ? h + (Size) (t - 1) * batch * H : NULL;
		float	   *ht = h + (Size) t * batch * H;

		if (hprev)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, 3 * H, H,
						1.0f, hprev, H, Whh, H, 0.0f, gh, 3 * H);
		else
			memset(gh, 0, sizeof(float) * batch * 3 * H);
		for (int b = 0; b < batch; b++)
		{
			const float *x3 = gi + ((Size) t * batch + b) * 3 * H;
			const float *h3 = gh + (Size) b * 3 * H;
			float	   *st = l->cache + ((Size) t * batch + b) * 4 * H;

			for (int j = 0; j < H; j++)
			{
				float		r = gate_sigmoidf(x3[j] + bih[j] + h3[j] + bhh[j]);
				float		z = gate_sigmoidf(x3[H + j] + bih[H + j] + h3[H + j] + bhh[H + j]);
				float		hn = h3[2 * H + j] + bhh[2 * H + j];
				float		n = gate_tanhf(x3[2 * H + j] + bih[2 * H + j] + r * hn);
				float		hp = hprev ? hprev[(Size) b * H + j] : 0.0f;

				st[j] = r;
				st[H + j] = z;
				st[2 * H + j] = n;
				st[3 * H + j] = hn;
				ht[(Size) b * H + j] = (1.0f - z) * n + z * hp;
			}
		}
	}
	if (l->sequences)
		from_step_major(h, out, T, batch, H);
	else
		memcpy(out, h + (Size) (T - 1) * batch * H, sizeof(float) * batch * H);
}

static void
gru_backward(NnLayer *l, const float *in, const float *out, const float *dout,
			 float *din, int batch)
{
	int			T = l->in.d[0],
				F = l->in.d[1],
				H = l->units;
	const float *Wih = l->params[0].w;
	const float *Whh = l->params[1].w;
	float	   *gWih = l->params[0].g;
	float	   *gWhh = l->params[1].g;
	float	   *gbih = l->params[2].g;
	float	   *gbhh = l->params[3].g;
	float	   *h,
			   *xt,
			   *gi,
			   *gh,
			   *dh;

	gru_parts(l, batch, &h, &xt, &gi, &gh, &dh);
	memset(gWhh, 0, sizeof(float) * 3 * H * H);
	memset(gbhh, 0, sizeof(float) * 3 * H);
	memset(dh, 0, sizeof(float) * batch * H);
	for (int t = T - 1; t >= 0; t--)
	{
		const float *hprev = t > 0 ? h + (Size) (t - 1) * batch * H : NULL;

		for (int b = 0; b < batch; b++)
		{
			const float *st = l->cache + ((Size) t * batch + b) * 4 * H;
			const float *dy = l->sequences ? dout + ((Size) b * T + t) * H :
				(t == T - 1 ? dout + (Size) b * H : NULL);
			float	   *dgi = gi + ((Size) t * batch + b) * 3 * H;	/* overwritten: dL/d(x W_ih + b_ih) */
			float	   *dgh = gh + (Size) b * 3 * H;	/* dL/d(h W_hh + b_hh) */
			float	   *dhb = dh + (Size) b * H;

			for (int j = 0; j < H; j++)
			{
				float		r = st[j],
							z = st[H + j],
							n = st[2 * H + j],
							hn = st[3 * H + j];
				float		hp = hprev ? hprev[(Size) b * H + j] : 0.0f;
				float		d = dhb[j] + (dy ? dy[j] : 0.0f);
				float		dn = d * (1.0f - z) * (1.0f - n * n);
				float		dz = d * (hp - n) * z * (1.0f - z);
				float		dr = dn * hn * r * (1.0f - r);

				dgi[j] = dr;
				dgi[H + j] = dz;
				dgi[2 * H + j] = dn;
				dgh[j] = dr;
				dgh[H + j] = dz;
				dgh[2 * H + j] = dn * r;
				dhb[j] = d * z;	/* the direct path to h_{t-1}; W_hh's is added below */
			}
		}
		for (int b = 0; b < batch; b++)
			for (int j = 0; j < 3 * H; j++)
				gbhh[j] += gh[(Size) b * 3 * H + j];
		if (hprev)
		{
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 3 * H, H, batch,
						1.0f, gh, 3 * H, hprev, H, 1.0f, gWhh, H);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, H, 3 * H,
						1.0f, gh, 3 * H, Whh, H, 1.0f, dh, H);
		}
	}
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 3 * H, F, T * batch,
				1.0f, gi, 3 * H, xt, F, 0.0f, gWih, F);
	memset(gbih, 0, sizeof(float) * 3 * H);
	for (Size r = 0; r < (Size) T * batch; r++)
		for (int j = 0; j < 3 * H; j++)
			gbih[j] += gi[r * 3 * H + j];
	if (din)
	{
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T * batch, F, 3 * H,
					1.0f, gi, 3 * H, Wih, F, 0.0f, xt, F);
		from_step_major(xt, din, T, batch, F);
	}
}

const NnLayerOps nn_gru_ops = {"gru", gru_forward, gru_backward};

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
		case NN_CONV2D:
			return &nn_conv2d_ops;
		case NN_MAXPOOL2D:
			return &nn_maxpool2d_ops;
		case NN_AVGPOOL2D:
			return &nn_avgpool2d_ops;
		case NN_FLATTEN:
			return &nn_flatten_ops;
		case NN_GLOBAL_AVGPOOL:
			return &nn_global_avgpool_ops;
		case NN_LSTM:
			return &nn_lstm_ops;
		case NN_GRU:
			return &nn_gru_ops;
		case NN_EMBEDDING:
			return &nn_embedding_ops;
		case NN_POSITIONAL:
			return &nn_positional_ops;
		case NN_LAYERNORM:
			return &nn_layernorm_ops;
		case NN_ATTENTION:
			return &nn_attention_ops;
		case NN_RESIDUAL:
			return &nn_residual_ops;
		case NN_DENSE_STEPS:
			return &nn_dense_steps_ops;
		case NN_SEQ_MEANPOOL:
			return &nn_seq_meanpool_ops;
	}
	return NULL;
}
