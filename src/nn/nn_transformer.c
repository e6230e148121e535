/*
 * nn_transformer.c — forward and backward passes of the sequence layers a
 * transformer encoder is built from: token embedding, sinusoidal position
 * codes, layer normalisation, multi-head self-attention, residual (skip)
 * connections, a dense layer applied at every step, and mean pooling over
 * the steps.
 *
 * A sequence sample is [T, D] row-major (step-major within the sample), so
 * a batch is batch x T rows of D values.  As in nn_layers.c, nothing here
 * allocates, raises or checks for interrupts: the scratch lives in the
 * layer's cache buffers, sized in nn_net.c.
 */
#include "postgres.h"

#include <math.h>

#include <cblas.h>

#include "nn/nn.h"
#include "nn/nn_layers.h"

/* ----- embedding: [T] ids -> [T, D] ----- */

/* The row of an id; anything outside 0..vocab-1 (or not a number) reads row 0. */
static inline int
embedding_row(const NnLayer *l, float id)
{
	return (id >= 0.0f && id < (float) l->vocab) ? (int) id : 0;
}

static void
embedding_forward(NnLayer *l, const float *in, float *out, int batch, bool training)
{
	int			T = l->in.d[0];
	int			D = l->out.d[1];
	const float *table = l->params[0].w;

	for (int64 r = 0; r < (int64) batch * T; r++)
		memcpy(out + r * D, table + (Size) embedding_row(l, in[r]) * D, sizeof(float) * D);
}

static void
embedding_backward(NnLayer *l, const float *in, const float *out, const float *dout,
				   float *din, int batch)
{
	int			T = l->in.d[0];
	int			D = l->out.d[1];
	float	   *g = l->params[0].g;

	memset(g, 0, sizeof(float) * l->params[0].n);
	for (int64 r = 0; r < (int64) batch * T; r++)
	{
		float	   *row = g + (Size) embedding_row(l, in[r]) * D;
		const float *d = dout + r * D;

		for (int j = 0; j < D; j++)
			row[j] += d[j];
	}
	/* ids are not differentiable */
	if (din)
		memset(din, 0, sizeof(float) * batch * T);
}

const NnLayerOps nn_embedding_ops = {"embedding", embedding_forward, embedding_backward};

/* ----- positional codes: out = in + PE (the T x D table in running_mean) ----- */

static void
positional_forward(NnLayer *l, const float *in, float *out, int batch, bool training)
{
	Size		n = (Size) nn_shape_size(&l->in);
	const float *pe = l->running_mean;

	for (int b = 0; b < batch; b++)
	{
		const float *x = in + b * n;
		float	   *y = out + b * n;

		for (Size i = 0; i < n; i++)
			y[i] = x[i] + pe[i];
	}
}

static void
positional_backward(NnLayer *l, const float *in, const float *out, const float *dout,
					float *din, int batch)
{
	if (din)
		memcpy(din, dout, sizeof(float) * batch * nn_shape_size(&l->in));
}

const NnLayerOps nn_positional_ops = {"positional_encoding", positional_forward, positional_backward};

/* ----- layer normalisation over the last dimension ----- */

/* Rows of the last dimension in a batch, and that dimension's size. */
static inline void
last_dim_rows(const NnLayer *l, int batch, int64 *rows, int *D)
{
	*D = l->in.d[l->in.ndim - 1];
	*rows = (int64) batch * (nn_shape_size(&l->in) / *D);
}

static void
layernorm_forward(NnLayer *l, const float *in, float *out, int batch, bool training)
{
	int64		rows;
	int			D;
	const float *gamma = l->params[0].w;
	const float *beta = l->params[1].w;

	last_dim_rows(l, batch, &rows, &D);
	for (int64 r = 0; r < rows; r++)
	{
		const float *x = in + r * D;
		float	   *y = out + r * D;
		float		mean = 0.0f,
					var = 0.0f,
					rstd;

		for (int j = 0; j < D; j++)
			mean += x[j];
		mean /= D;
		for (int j = 0; j < D; j++)
			var += (x[j] - mean) * (x[j] - mean);
		rstd = 1.0f / sqrtf(var / D + l->eps);
		if (training)
		{
			/* the normalised values and 1 / std, for the backward pass */
			float	   *xhat = l->cache + r * D;

			for (int j = 0; j < D; j++)
			{
				xhat[j] = (x[j] - mean) * rstd;
				y[j] = xhat[j] * gamma[j] + beta[j];
			}
			l->cache2[r] = rstd;
		}
		else
			for (int j = 0; j < D; j++)
				y[j] = (x[j] - mean) * rstd * gamma[j] + beta[j];
	}
}

static void
layernorm_backward(NnLayer *l, const float *in, const float *out, const float *dout,
				   float *din, int batch)
{
	int64		rows;
	int			D;
	const float *gamma = l->params[0].w;
	float	   *gg = l->params[0].g;
	float	   *gb = l->params[1].g;

	last_dim_rows(l, batch, &rows, &D);
	memset(gg, 0, sizeof(float) * D);
	memset(gb, 0, sizeof(float) * D);
	for (int64 r = 0; r < rows; r++)
	{
		const float *xhat = l->cache + r * D;
		const float *d = dout + r * D;
		float		m1 = 0.0f,
					m2 = 0.0f;

		for (int j = 0; j < D; j++)
		{
			float		dx = d[j] * gamma[j];

			gg[j] += d[j] * xhat[j];
			gb[j] += d[j];
			m1 += dx;
			m2 += dx * xhat[j];
		}
		if (din)
		{
			float	   *o = din + r * D;
			float		rstd = l->cache2[r];

			m1 /= D;
			m2 /= D;
			for (int j = 0; j < D; j++)
				o[j] = rstd * (d[j] * gamma[j] - m1 - xhat[j] * m2);
		}
	}
}

const NnLayerOps nn_layernorm_ops = {"layer_norm", layernorm_forward, layernorm_backward};

/* ----- multi-head self-attention ----- */

/*
 * Parameters: W_qkv (3D x D) and b_qkv (3D) project every step to its
 * query, key and value; W_o (D x D) and b_o (D) mix the heads' outputs.
 * Head h uses columns h*dh .. (h+1)*dh - 1 of Q, K and V (dh = D / heads);
 * scores are Q K^T / sqrt(dh), softmax over the keys.
 *
 * Scratch per sample: cache holds QKV (T x 3D), the heads' outputs O
 * (T x D), and in training their gradients dQKV (T x 3D) and dO (T x D);
 * cache2 holds the attention weights P (heads x T x T per sample) and one
 * T x T matrix for the backward pass.
 */
typedef struct AttnParts
{
	int			T;
	int			D;
	int			H;
	int			dh;
	float	   *qkv;
	float	   *o;
	float	   *dqkv;
	float	   *dout_heads;
	float	   *p;
	float	   *tmp;
} AttnParts;

static AttnParts
attn_parts(const NnLayer *l, int batch)
{
	AttnParts	a;
	Size		td;

	a.T = l->in.d[0];
	a.D = l->in.d[1];
	a.H = l->heads;
	a.dh = a.D / a.H;
	td = (Size) batch * a.T * a.D;
	a.qkv = l->cache;
	a.o = a.qkv + 3 * td;
	a.dqkv = a.o + td;
	a.dout_heads = a.dqkv + 3 * td;
	a.p = l->cache2;
	a.tmp = a.p + (Size) batch * a.H * a.T * a.T;
	return a;
}

/* Row-wise softmax of an n x n matrix, in place. */
static void
softmax_rows(float *s, int n)
{
	for (int i = 0; i < n; i++)
	{
		float	   *row = s + (Size) i * n;
		float		mx = row[0],
					sum = 0.0f,
					inv;

		for (int j = 1; j < n; j++)
			mx = Max(mx, row[j]);
		for (int j = 0; j < n; j++)
		{
			row[j] = expf(row[j] - mx);
			sum += row[j];
		}
		inv = 1.0f / sum;
		for (int j = 0; j < n; j++)
			row[j] *= inv;
	}
}

static void
attention_forward(NnLayer *l, const float *in, float *out, int batch, bool training)
{
	AttnParts	a = attn_parts(l, batch);
	int			T = a.T,
				D = a.D,
				dh = a.dh;
	float		scale = 1.0f / sqrtf((float) dh);
	NnLayer		proj = *l;

	/* QKV = in W_qkv^T + b_qkv (every step of every sample) */
	nn_dense_rows_forward(l, in, a.qkv, (int64) batch * T, D, 3 * D);
	for (int b = 0; b < batch; b++)
	{
		const float *qkv = a.qkv + (Size) b * T * 3 * D;
		float	   *o = a.o + (Size) b * T * D;

		for (int h = 0; h < a.H; h++)
		{
			float	   *p = a.p + ((Size) b * a.H + h) * T * T;

			/* S = Q K^T / sqrt(dh) */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, dh,
						scale, qkv + h * dh, 3 * D, qkv + D + h * dh, 3 * D, 0.0f, p, T);
			softmax_rows(p, T);
			/* O_h = P V_h */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T,
						1.0f, p, T, qkv + 2 * D + h * dh, 3 * D, 0.0f, o + h * dh, D);
		}
	}
	/* out = O W_o^T + b_o: the output projection's tensors are params 2 and 3 */
	proj.params[0] = l->params[2];
	proj.params[1] = l->params[3];
	nn_dense_rows_forward(&proj, a.o, out, (int64) batch * T, D, D);
}

static void
attention_backward(NnLayer *l, const float *in, const float *out, const float *dout,
				   float *din, int batch)
{
	AttnParts	a = attn_parts(l, batch);
	int			T = a.T,
				D = a.D,
				dh = a.dh;
	float		scale = 1.0f / sqrtf((float) dh);
	NnLayer		proj = *l;

	/* the output projection: dW_o, db_o and dO */
	proj.params[0] = l->params[2];
	proj.params[1] = l->params[3];
	nn_dense_rows_backward(&proj, a.o, dout, a.dout_heads, (int64) batch * T, D, D);

	for (int b = 0; b < batch; b++)
	{
		const float *qkv = a.qkv + (Size) b * T * 3 * D;
		float	   *dqkv = a.dqkv + (Size) b * T * 3 * D;
		const float *dO = a.dout_heads + (Size) b * T * D;

		for (int h = 0; h < a.H; h++)
		{
			const float *p = a.p + ((Size) b * a.H + h) * T * T;
			float	   *ds = a.tmp;

			/* dV_h = P^T dO_h */
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, dh, T,
						1.0f, p, T, dO + h * dh, D, 0.0f, dqkv + 2 * D + h * dh, 3 * D);
			/* dP = dO_h V_h^T, then dS = P * (dP - rowsum(dP * P)) */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, dh,
						1.0f, dO + h * dh, D, qkv + 2 * D + h * dh, 3 * D, 0.0f, ds, T);
			for (int i = 0; i < T; i++)
			{
				const float *pr = p + (Size) i * T;
				float	   *dr = ds + (Size) i * T;
				float		dot = 0.0f;

				for (int j = 0; j < T; j++)
					dot += pr[j] * dr[j];
				for (int j = 0; j < T; j++)
					dr[j] = pr[j] * (dr[j] - dot);
			}
			/* dQ_h = dS K_h / sqrt(dh); dK_h = dS^T Q_h / sqrt(dh) */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, dh, T,
						scale, ds, T, qkv + D + h * dh, 3 * D, 0.0f, dqkv + h * dh, 3 * D);
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, dh, T,
						scale, ds, T, qkv + h * dh, 3 * D, 0.0f, dqkv + D + h * dh, 3 * D);
		}
	}
	/* the input projection: dW_qkv, db_qkv and din */
	nn_dense_rows_backward(l, in, a.dqkv, din, (int64) batch * T, D, 3 * D);
}

const NnLayerOps nn_attention_ops = {"attention", attention_forward, attention_backward};

/* ----- residual: out = in + values at an earlier boundary ----- */

static void
residual_forward(NnLayer *l, const float *in, float *out, int batch, bool training)
{
	Size		n = (Size) batch * nn_shape_size(&l->in);

	for (Size i = 0; i < n; i++)
		out[i] = in[i] + l->skip[i];
}

/*
 * dL/din = dL/dout, and the same gradient flows into the skipped boundary:
 * it is kept in cache, and nn_backward adds it there once the layer after
 * that boundary has written its gradient.
 */
static void
residual_backward(NnLayer *l, const float *in, const float *out, const float *dout,
				  float *din, int batch)
{
	Size		n = (Size) batch * nn_shape_size(&l->in);

	memcpy(l->cache, dout, sizeof(float) * n);
	if (din)
		memcpy(din, dout, sizeof(float) * n);
}

const NnLayerOps nn_residual_ops = {"residual", residual_forward, residual_backward};

/* ----- dense at every step: [T, F] -> [T, U] ----- */

static void
dense_steps_forward(NnLayer *l, const float *in, float *out, int batch, bool training)
{
	nn_dense_rows_forward(l, in, out, (int64) batch * l->in.d[0], l->in.d[1], l->units);
}

static void
dense_steps_backward(NnLayer *l, const float *in, const float *out, const float *dout,
					 float *din, int batch)
{
	nn_dense_rows_backward(l, in, dout, din, (int64) batch * l->in.d[0], l->in.d[1], l->units);
}

const NnLayerOps nn_dense_steps_ops = {"dense_steps", dense_steps_forward, dense_steps_backward};

/* ----- mean over the steps: [T, D] -> [D] ----- */

static void
seq_meanpool_forward(NnLayer *l, const float *in, float *out, int batch, bool training)
{
	int			T = l->in.d[0];
	int			D = l->in.d[1];
	float		inv = 1.0f / T;

	for (int b = 0; b < batch; b++)
	{
		float	   *o = out + (Size) b * D;

		memset(o, 0, sizeof(float) * D);
		for (int t = 0; t < T; t++)
		{
			const float *x = in + ((Size) b * T + t) * D;

			for (int j = 0; j < D; j++)
				o[j] += x[j];
		}
		for (int j = 0; j < D; j++)
			o[j] *= inv;
	}
}

static void
seq_meanpool_backward(NnLayer *l, const float *in, const float *out, const float *dout,
					  float *din, int batch)
{
	int			T = l->in.d[0];
	int			D = l->in.d[1];
	float		inv = 1.0f / T;

	if (din == NULL)
		return;
	for (int b = 0; b < batch; b++)
		for (int t = 0; t < T; t++)
		{
			float	   *d = din + ((Size) b * T + t) * D;
			const float *g = dout + (Size) b * D;

			for (int j = 0; j < D; j++)
				d[j] = g[j] * inv;
		}
}

const NnLayerOps nn_seq_meanpool_ops = {"sequence_mean_pool", seq_meanpool_forward, seq_meanpool_backward};
