/*
 * nn_train.c — the training loop every neural algorithm shares: shuffled
 * mini-batches gathered into the network's input buffer, forward, loss,
 * backward, optimizer step; per epoch the validation loss and metric, the
 * learning-rate schedule, progress, early stopping and the weights of the
 * best validation epoch.
 */
#include "postgres.h"

#include <math.h>

#include <cblas.h>

#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/memutils.h"

#include "galaxy.h"
#include "nn/nn.h"

/* Zero again the weights a pruned layer's mask drops (after an optimizer step). */
static void
apply_masks(NnNet *net, bool *const *masks)
{
	for (int i = 0; i < net->n_layers; i++)
	{
		float	   *w = net->layers[i].params[0].w;
		int64		n = net->layers[i].params[0].n;
		const bool *m = masks[i];

		if (m == NULL)
			continue;
		for (int64 j = 0; j < n; j++)
			if (!m[j])
				w[j] = 0.0f;
	}
}

static int64
largest_product(const NnNet *net, int batch)
{
	int64		best = 0;

	for (int i = 0; i < net->n_layers; i++)
		if (net->layers[i].kind == NN_DENSE)
			best = Max(best, (int64) batch * nn_shape_size(&net->layers[i].in) *
					   nn_shape_size(&net->layers[i].out));
	return best;
}

/* Every trained value of the network (weights, batch-norm statistics), in order. */
static int64
snapshot_size(const NnNet *net)
{
	int64		n = nn_param_count(net);

	for (int i = 0; i < net->n_layers; i++)
		if (net->layers[i].kind == NN_BATCHNORM)
			n += 2 * nn_shape_size(&net->layers[i].in);
	return n;
}

/* Copy the trained values to buf (save) or back from it. */
static void
snapshot(NnNet *net, float *buf, bool save)
{
	float	   *p = buf;

	for (int i = 0; i < net->n_layers; i++)
	{
		NnLayer    *l = &net->layers[i];
		float	   *parts[NN_MAX_PARAMS_PER_LAYER + 2];
		int64		sizes[NN_MAX_PARAMS_PER_LAYER + 2];
		int			np = 0;

		for (int k = 0; k < l->n_params; k++)
		{
			parts[np] = l->params[k].w;
			sizes[np++] = l->params[k].n;
		}
		if (l->kind == NN_BATCHNORM)
		{
			parts[np] = l->running_mean;
			sizes[np++] = nn_shape_size(&l->in);
			parts[np] = l->running_var;
			sizes[np++] = nn_shape_size(&l->in);
		}
		for (int k = 0; k < np; k++)
		{
			if (save)
				memcpy(p, parts[k], sizeof(float) * sizes[k]);
			else
				memcpy(parts[k], p, sizeof(float) * sizes[k]);
			p += sizes[k];
		}
	}
}

static bool
has_batchnorm(const NnNet *net)
{
	for (int i = 0; i < net->n_layers; i++)
		if (net->layers[i].kind == NN_BATCHNORM)
			return true;
	return false;
}

Size
nn_train_bytes(const NnNet *net, const NnTrainConfig *cfg)
{
	return nn_buffer_bytes(net, cfg->batch_size, true) +
		nn_optim_bytes(net, &cfg->optim) +
		(Size) snapshot_size(net) * sizeof(float) +
		(Size) cfg->batch_size * sizeof(float) * 2;
}

/*
 * Loss and metric (accuracy for classification, R² otherwise) of the
 * network on a data set, in inference mode, batch by batch.
 */
static void
evaluate_set(NnNet *net, const NnTrainConfig *cfg, const NnTrainData *d, int k,
			 double *loss, double *metric)
{
	int64		in = nn_shape_size(&net->input);
	double		total = 0.0,
				wtotal = 0.0;
	int64		correct = 0;
	double		ysum = 0.0,
				yss = 0.0,
				sse = 0.0;

	float	   *ybuf = palloc(sizeof(float) * net->max_batch);

	for (int64 start = 0; start < d->n; start += net->max_batch)
	{
		int			b = (int) Min((int64) net->max_batch, d->n - start);
		double		ws;
		float	   *out;

		for (int i = 0; i < b; i++)
		{
			int64		r = d->rows ? d->rows[start + i] : start + i;

			memcpy(net->acts[0] + (Size) i * in, d->X + r * in, sizeof(float) * in);
			ybuf[i] = d->y[r];
		}
		out = nn_forward(net, b, false);
		total += nn_loss(cfg->loss, out, ybuf, b, k, cfg->class_weight,
						 cfg->huber_delta, NULL, &ws);
		wtotal += ws;
		for (int i = 0; i < b; i++)
		{
			double		t = ybuf[i];

			if (cfg->classification)
			{
				int			pred;

				if (cfg->loss == NN_LOSS_SIGMOID_BCE)
					pred = out[i] > 0.0f ? 1 : 0;
				else
				{
					pred = 0;
					for (int j = 1; j < k; j++)
						if (out[(Size) i * k + j] > out[(Size) i * k + pred])
							pred = j;
				}
				correct += (pred == (int) t);
			}
			else
			{
				double		e = out[i] - t;

				sse += e * e;
				ysum += t;
				yss += t * t;
			}
		}
		CHECK_FOR_INTERRUPTS();
	}
	pfree(ybuf);
	*loss = wtotal > 0 ? total / wtotal : NAN;
	if (cfg->classification)
		*metric = d->n > 0 ? (double) correct / d->n : NAN;
	else
	{
		double		sst = yss - ysum * ysum / Max(d->n, 1);

		*metric = sst > 0 ? 1.0 - sse / sst : NAN;
	}
}

void
nn_train(NnNet *net, const NnTrainConfig *cfg, const NnTrainData *train,
		 const NnTrainData *val, const FitContext *ctx, NnCurve *curve)
{
	int64		in = nn_shape_size(&net->input);
	int			k = (int) nn_output_size(net);
	int64		n = train->n;
	int			batch = (int) Min((int64) cfg->batch_size, n);
	bool		has_val = val && val->n > 0;
	bool		bn = has_batchnorm(net);
	NnOptimizerState *os;
	int64	   *perm;
	float	   *ybuf;
	float	   *best = NULL;
	double		best_loss = INFINITY;
	GalaxyRng	shuffle_rng;
	int			epoch;
	bool	   *masks[NN_MAX_LAYERS] = {0};
	bool		any_mask = false;

	Assert(n >= 1 && batch >= 1);
	nn_alloc_buffers(net, batch, true);
	os = nn_optim_create(net, &cfg->optim);
	perm = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * n);
	for (int64 i = 0; i < n; i++)
		perm[i] = train->rows ? train->rows[i] : i;
	ybuf = palloc(sizeof(float) * batch);
	if (has_val)
		best = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * Max(snapshot_size(net), 1));
	galaxy_rng_seed(&shuffle_rng, cfg->seed, 0x5348);
	galaxy_rng_seed(&net->rng, cfg->seed, 0x4452);

	curve->epochs = 0;
	curve->best_epoch = 0;
	curve->loss = palloc(sizeof(double) * cfg->epochs);
	curve->val_loss = palloc(sizeof(double) * cfg->epochs);
	curve->seconds = palloc(sizeof(double) * cfg->epochs);

	/*
	 * Fine-tuning a pruned network (galaxy.compress 'prune' with epochs):
	 * the weights pruned to zero stay zero, the mask fixed.
	 */
	for (int i = 0; i < net->n_layers; i++)
	{
		NnLayer    *l = &net->layers[i];

		if (l->kind != NN_DENSE || !l->pruned || l->params[0].w == NULL)
			continue;
		masks[i] = palloc_extended(sizeof(bool) * Max(l->params[0].n, 1), MCXT_ALLOC_HUGE);
		for (int64 j = 0; j < l->params[0].n; j++)
			masks[i][j] = l->params[0].w[j] != 0.0f;
		any_mask = true;
	}

	/* by its largest product per batch (20-64-64-2 at batch 256: 2.5x slower on two threads) */
	galaxy_apply_blas_threads_for((double) largest_product(net, batch));
	for (epoch = 1; epoch <= cfg->epochs; epoch++)
	{
		instr_time	t0,
					t1;
		double		loss_sum = 0.0,
					w_sum = 0.0;
		double		train_loss,
					val_loss = NAN,
					metric = NAN;
		double		lr = nn_optim_lr(os);

		INSTR_TIME_SET_CURRENT(t0);
		galaxy_rng_shuffle(&shuffle_rng, perm, n);
		for (int64 start = 0; start < n; start += batch)
		{
			int			b = (int) Min((int64) batch, n - start);
			float	   *x = net->acts[0];
			float	   *out;
			double		ws;

			/* batch statistics of one sample are undefined: leave it for the next epoch */
			if (b == 1 && bn && n > 1)
				continue;
			for (int i = 0; i < b; i++)
			{
				int64		r = perm[start + i];

				memcpy(x + (Size) i * in, train->X + r * in, sizeof(float) * in);
				ybuf[i] = train->y[r];
			}
			out = nn_forward(net, b, true);
			loss_sum += nn_loss(cfg->loss, out, ybuf, b, k, cfg->class_weight, cfg->huber_delta,
								net->grads[net->n_layers], &ws);
			w_sum += ws;
			nn_backward(net, b);
			nn_optim_step(os);
			if (any_mask)
				apply_masks(net, masks);
			CHECK_FOR_INTERRUPTS();
		}
		train_loss = w_sum > 0 ? loss_sum / w_sum : NAN;
		if (!isfinite(train_loss))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("neural network training diverged in epoch %d (the loss is not finite)", epoch),
					 errhint("Lower \"learning_rate\", set \"clip_norm\", or scale the features.")));
		if (has_val)
			evaluate_set(net, cfg, val, k, &val_loss, &metric);

		INSTR_TIME_SET_CURRENT(t1);
		INSTR_TIME_SUBTRACT(t1, t0);
		curve->loss[epoch - 1] = train_loss;
		curve->val_loss[epoch - 1] = val_loss;
		curve->seconds[epoch - 1] = INSTR_TIME_GET_DOUBLE(t1);
		curve->epochs = epoch;
		fit_report_iteration(ctx, epoch, cfg->epochs, n, train_loss, val_loss, metric, lr);

		if (has_val)
		{
			if (val_loss < best_loss)
			{
				best_loss = val_loss;
				curve->best_epoch = epoch;
				snapshot(net, best, true);
			}
			else if (cfg->patience > 0 && epoch - curve->best_epoch >= cfg->patience)
				break;
		}
		nn_optim_end_epoch(os, epoch, cfg->epochs, has_val ? val_loss : train_loss);
	}

	/* keep the best validation epoch's weights */
	if (has_val && curve->best_epoch > 0 && curve->best_epoch != curve->epochs)
		snapshot(net, best, false);
	if (!has_val)
		curve->best_epoch = curve->epochs;

	/* training buffers are no longer needed: leave inference ones */
	nn_alloc_buffers(net, nn_inference_batch(net), false);
	pfree(perm);
	pfree(ybuf);
	if (best)
		pfree(best);
	for (int i = 0; i < net->n_layers; i++)
		if (masks[i])
			pfree(masks[i]);
}
