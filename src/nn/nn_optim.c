/*
 * nn_optim.c — optimizers (SGD with momentum or Nesterov momentum, Adam,
 * AdamW), gradient clipping by global norm, and learning-rate schedules
 * (constant, step, cosine, reduce-on-plateau).
 *
 * Weight decay applies to the tensors marked 'decay' (dense weights, not
 * biases nor batch-norm scales): added to the gradient as L2 for sgd and
 * adam, decoupled (w -= lr * wd * w) for adamw.
 */
#include "postgres.h"

#include <math.h>

#include "nn/nn.h"

struct NnOptimizerState
{
	NnNet	   *net;
	NnOptimConfig cfg;
	int			n;				/* tensors */
	NnParam   **params;
	float	  **m;				/* adam: first moment; sgd: velocity (NULL without momentum) */
	float	  **v;				/* adam: second moment */
	int64		t;				/* steps taken */
	double		lr;				/* current learning rate */
	double		best;			/* plateau: best monitored loss */
	int			since_best;		/* plateau: epochs without improvement */
};

static bool
uses_first_moment(const NnOptimConfig *cfg)
{
	return cfg->kind != NN_OPT_SGD || cfg->momentum > 0.0;
}

Size
nn_optim_bytes(const NnNet *net, const NnOptimConfig *cfg)
{
	int64		n = nn_param_count(net);
	int			copies = (cfg->kind == NN_OPT_SGD) ? (uses_first_moment(cfg) ? 1 : 0) : 2;

	return (Size) n * sizeof(float) * copies;
}

NnOptimizerState *
nn_optim_create(NnNet *net, const NnOptimConfig *cfg)
{
	NnOptimizerState *os = palloc0(sizeof(NnOptimizerState));
	int			n = 0;

	os->net = net;
	os->cfg = *cfg;
	os->lr = cfg->learning_rate;
	os->best = INFINITY;
	for (int i = 0; i < net->n_layers; i++)
		n += net->layers[i].n_params;
	os->n = n;
	os->params = palloc0(sizeof(NnParam *) * Max(n, 1));
	os->m = palloc0(sizeof(float *) * Max(n, 1));
	os->v = palloc0(sizeof(float *) * Max(n, 1));
	n = 0;
	for (int i = 0; i < net->n_layers; i++)
		for (int k = 0; k < net->layers[i].n_params; k++)
		{
			NnParam    *p = &net->layers[i].params[k];

			os->params[n] = p;
			if (uses_first_moment(cfg))
				os->m[n] = MemoryContextAllocExtended(CurrentMemoryContext, sizeof(float) * Max(p->n, 1),
													  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
			if (cfg->kind != NN_OPT_SGD)
				os->v[n] = MemoryContextAllocExtended(CurrentMemoryContext, sizeof(float) * Max(p->n, 1),
													  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
			n++;
		}
	return os;
}

double
nn_optim_lr(const NnOptimizerState *os)
{
	return os->lr;
}

/* Scale every gradient so their joint L2 norm is at most clip; returns the norm before. */
static double
clip_gradients(NnOptimizerState *os, double clip)
{
	double		sq = 0.0;
	double		norm;

	for (int t = 0; t < os->n; t++)
	{
		const float *g = os->params[t]->g;

		for (int64 i = 0; i < os->params[t]->n; i++)
			sq += (double) g[i] * g[i];
	}
	norm = sqrt(sq);
	if (norm > clip && norm > 0.0)
	{
		float		s = (float) (clip / norm);

		for (int t = 0; t < os->n; t++)
		{
			float	   *g = os->params[t]->g;

			for (int64 i = 0; i < os->params[t]->n; i++)
				g[i] *= s;
		}
	}
	return norm;
}

double
nn_optim_step(NnOptimizerState *os)
{
	const NnOptimConfig *c = &os->cfg;
	double		norm = 0.0;
	float		lr = (float) os->lr;
	float		wd = (float) c->weight_decay;

	if (c->clip_norm > 0.0)
		norm = clip_gradients(os, c->clip_norm);
	os->t++;

	if (c->kind == NN_OPT_SGD)
	{
		float		mom = (float) c->momentum;

		for (int t = 0; t < os->n; t++)
		{
			NnParam    *p = os->params[t];
			float	   *restrict w = p->w;
			const float *restrict g = p->g;
			float	   *restrict buf = os->m[t];
			int64		n = p->n;
			float		d = p->decay ? wd : 0.0f;

			if (buf == NULL)
			{
				for (int64 i = 0; i < n; i++)
					w[i] -= lr * (g[i] + d * w[i]);
				continue;
			}
			for (int64 i = 0; i < n; i++)
			{
				float		gi = g[i] + d * w[i];

				buf[i] = mom * buf[i] + gi;
				w[i] -= lr * (c->nesterov ? gi + mom * buf[i] : buf[i]);
			}
		}
	}
	else
	{
		float		b1 = (float) c->beta1;
		float		b2 = (float) c->beta2;
		double		bc1 = 1.0 - pow(c->beta1, (double) os->t);
		double		bc2 = 1.0 - pow(c->beta2, (double) os->t);
		/* w -= lr / bc1 * m / (sqrt(v / bc2) + eps), as PyTorch computes it */
		float		step = (float) (os->lr / bc1);
		float		inv_sqrt_bc2 = (float) (1.0 / sqrt(bc2));
		float		eps = (float) c->adam_eps;
		bool		decoupled = (c->kind == NN_OPT_ADAMW);

		for (int t = 0; t < os->n; t++)
		{
			NnParam    *p = os->params[t];
			float	   *restrict w = p->w;
			const float *restrict g = p->g;
			float	   *restrict m = os->m[t];
			float	   *restrict v = os->v[t];
			int64		n = p->n;
			float		d = p->decay ? wd : 0.0f;
			float		shrink = decoupled ? 1.0f - lr * d : 1.0f;
			float		l2 = decoupled ? 0.0f : d;

			for (int64 i = 0; i < n; i++)
			{
				float		gi = g[i] + l2 * w[i];

				m[i] = b1 * m[i] + (1.0f - b1) * gi;
				v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
				w[i] = w[i] * shrink - step * m[i] / (sqrtf(v[i]) * inv_sqrt_bc2 + eps);
			}
		}
	}
	return norm;
}

/* Move the schedule to the next epoch; 'monitor' is the loss plateau watches. */
void
nn_optim_end_epoch(NnOptimizerState *os, int epochs_done, int epochs_total, double monitor)
{
	const NnOptimConfig *c = &os->cfg;

	switch (c->schedule)
	{
		case NN_LR_CONSTANT:
			break;
		case NN_LR_STEP:
			os->lr = c->learning_rate * pow(c->gamma, (double) (epochs_done / Max(c->step_size, 1)));
			break;
		case NN_LR_COSINE:
			os->lr = 0.5 * c->learning_rate * (1.0 + cos(M_PI * Min(epochs_done, epochs_total) / Max(epochs_total, 1)));
			break;
		case NN_LR_PLATEAU:
			if (isfinite(monitor) && monitor < os->best)
			{
				os->best = monitor;
				os->since_best = 0;
			}
			else if (++os->since_best > c->patience)
			{
				os->lr *= c->gamma;
				os->since_best = 0;
			}
			break;
	}
}
