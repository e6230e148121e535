/*
 * nn_gradcheck.c — checks every layer's and every loss's backward pass in
 * the neural engine (src/nn) against central finite differences, and that
 * every optimizer lowers the loss of a small problem, and that every network
 * written and read back from exactly its own bytes predicts the same.
 *
 * Not a fuzz target: a unit test built with the fuzz targets' objects and
 * sanitizers (it needs the same palloc/ereport shim), linked without
 * libFuzzer, and run once by scripts/check.  Exit status 0 when every check passes.
 *
 * Gradients are compared as whole vectors per tensor:
 * |g_backward - g_numeric| / max(|g_backward|, |g_numeric|) must stay below
 * TOLERANCE.  The engine computes in float32, so the step is large (1e-2,
 * smaller where a max pool's winner could change) and the losses are
 * accumulated in double.
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "model/modelio.h"
#include "nn/nn.h"
#include "pg_shim.h"
#include "util/rng.h"

#define BATCH 8
#define IN 5					/* features of the dense cases */
#define MAX_IN 72				/* values per sample of any case */
#define STEP_DEFAULT 1e-2
#define TOLERANCE 2e-2
#define MAX_CHECKED 48			/* elements checked per tensor */

static int	failures = 0;
static int	checks = 0;

typedef struct Case
{
	const char *name;
	NnNet		net;
	NnLoss		loss;
	int			k;				/* outputs */
	int			in_size;
	float		X[BATCH * MAX_IN];
	float		y[BATCH];
	float		class_weight[4];
	bool		weighted;
	double		huber_delta;
	GalaxyRng	rng0;			/* dropout draws restart here for every pass */
	double		step;			/* finite-difference step */
} Case;

/* Mean loss of the batch with the current weights (training-mode forward). */
static double
case_loss(Case *c, bool with_gradient)
{
	NnNet	   *net = &c->net;
	float	   *out;
	double		wsum;
	double		total;

	memcpy(net->acts[0], c->X, sizeof(float) * BATCH * c->in_size);
	net->rng = c->rng0;
	out = nn_forward(net, BATCH, true);
	total = nn_loss(c->loss, out, c->y, BATCH, c->k, c->weighted ? c->class_weight : NULL,
					c->huber_delta, with_gradient ? net->grads[net->n_layers] : NULL, &wsum);
	return total / wsum;
}

static void
check_case(Case *c)
{
	NnNet	   *net = &c->net;
	double		worst = 0.0;
	int			failed_before = failures;

	case_loss(c, true);
	nn_backward(net, BATCH);
	for (int li = 0; li < net->n_layers; li++)
	{
		NnLayer    *l = &net->layers[li];

		for (int pi = 0; pi < l->n_params; pi++)
		{
			NnParam    *p = &l->params[pi];
			float	   *analytic = palloc(sizeof(float) * p->n);
			double		diff = 0.0,
						na = 0.0,
						nn = 0.0,
						rel;
			int64		stride = Max(1, p->n / MAX_CHECKED);

			memcpy(analytic, p->g, sizeof(float) * p->n);
			for (int64 i = 0; i < p->n; i += stride)
			{
				float		saved = p->w[i];
				double		up,
							down,
							numeric;

				p->w[i] = saved + (float) c->step;
				up = case_loss(c, false);
				p->w[i] = saved - (float) c->step;
				down = case_loss(c, false);
				p->w[i] = saved;
				numeric = (up - down) / (2 * c->step);
				diff += (analytic[i] - numeric) * (analytic[i] - numeric);
				na += (double) analytic[i] * analytic[i];
				nn += numeric * numeric;
			}
			/*
			 * The floor: a gradient that is zero in theory (a bias before
			 * batch normalisation) is float32 noise on both sides.
			 */
			rel = sqrt(diff) / Max(Max(sqrt(na), sqrt(nn)), 1e-3);
			worst = Max(worst, rel);
			checks++;
			if (!(rel < TOLERANCE))
			{
				failures++;
				printf("FAIL  %-34s layer %d (%s) tensor %d: relative error %.2e\n",
					   c->name, li, l->ops->name, pi, rel);
			}
			pfree(analytic);
		}
	}
	if (failures == failed_before)
		printf("ok    %-34s worst relative error %.2e\n", c->name, worst);
}

/* A small network on input 'in': [mid layers] dense(→k), data and targets from seed. */
static void
setup_case_shape(Case *c, const char *name, NnLoss loss, int k, uint64 seed, NnShape in)
{
	GalaxyRng	rng;

	memset(c, 0, sizeof(*c));
	c->name = name;
	c->loss = loss;
	c->k = k;
	c->huber_delta = 1.0;
	c->step = STEP_DEFAULT;
	c->in_size = (int) nn_shape_size(&in);
	Assert(c->in_size <= MAX_IN);
	galaxy_rng_seed(&rng, seed, 1);
	for (int i = 0; i < BATCH * c->in_size; i++)
		c->X[i] = (float) (2.0 * galaxy_rng_uniform(&rng) - 1.0);
	for (int i = 0; i < BATCH; i++)
	{
		if (loss == NN_LOSS_SOFTMAX_CE)
			c->y[i] = (float) (i % k);
		else if (loss == NN_LOSS_SIGMOID_BCE)
			c->y[i] = (float) (i % 2);
		else
			c->y[i] = (float) (3.0 * galaxy_rng_uniform(&rng) - 1.5);
	}
	for (int j = 0; j < 4; j++)
		c->class_weight[j] = 0.5f + j;
	nn_init(&c->net, &in);
	galaxy_rng_seed(&c->rng0, seed, 2);
}

static void
setup_case(Case *c, const char *name, NnLoss loss, int k, uint64 seed)
{
	NnShape		in = {1, {IN, 0, 0}};

	setup_case_shape(c, name, loss, k, seed, in);
}

/*
 * The network written and read back from exactly its own bytes (nothing
 * after them) predicts the same: the reader's size checks accept every
 * valid layer, whatever follows it.
 */
static void
check_roundtrip(Case *c)
{
	ModelWriter w;
	ModelReader r;
	NnNet	   *copy = palloc0(sizeof(NnNet));
	float	   *want = palloc(sizeof(float) * BATCH * c->k);
	float	   *got;

	memcpy(c->net.acts[0], c->X, sizeof(float) * BATCH * c->in_size);
	memcpy(want, nn_forward(&c->net, BATCH, false), sizeof(float) * BATCH * c->k);
	mw_init(&w);
	nn_write(&c->net, &w);
	mr_init(&r, w.buf.data, w.buf.len);
	nn_read(copy, &r);
	nn_alloc_buffers(copy, BATCH, false);
	memcpy(copy->acts[0], c->X, sizeof(float) * BATCH * c->in_size);
	got = nn_forward(copy, BATCH, false);
	checks++;
	if (r.pos != r.len || memcmp(want, got, sizeof(float) * BATCH * c->k) != 0)
	{
		failures++;
		printf("FAIL  %-34s written and read back: %zu of %zu bytes read, outputs %s\n", c->name,
			   (size_t) r.pos, (size_t) r.len,
			   memcmp(want, got, sizeof(float) * BATCH * c->k) == 0 ? "equal" : "differ");
	}
	pfree(want);
	pfree(copy);
}

static void
finish_case(Case *c, uint64 seed)
{
	GalaxyRng	rng;

	galaxy_rng_seed(&rng, seed, 3);
	nn_add_dense(&c->net, c->k, NN_IDENTITY, &rng);
	nn_alloc_buffers(&c->net, BATCH, true);
	check_case(c);
	check_roundtrip(c);
}

static void
run_gradient_checks(void)
{
	Case		c;
	GalaxyRng	rng;
	static const struct
	{
		const char *name;
		NnLoss		loss;
		int			k;
		bool		weighted;
		double		delta;
	}			losses[] = {
		{"loss cross_entropy", NN_LOSS_SOFTMAX_CE, 3, false, 1.0},
		{"loss cross_entropy, class weights", NN_LOSS_SOFTMAX_CE, 4, true, 1.0},
		{"loss binary_cross_entropy", NN_LOSS_SIGMOID_BCE, 1, false, 1.0},
		{"loss binary_cross_entropy, weights", NN_LOSS_SIGMOID_BCE, 1, true, 1.0},
		{"loss mse", NN_LOSS_MSE, 1, false, 1.0},
		{"loss huber (both branches)", NN_LOSS_HUBER, 1, false, 0.3},
	};

	/* every loss behind dense → tanh → dense */
	for (int i = 0; i < (int) lengthof(losses); i++)
	{
		setup_case(&c, losses[i].name, losses[i].loss, losses[i].k, 10 + i);
		c.weighted = losses[i].weighted;
		c.huber_delta = losses[i].delta;
		galaxy_rng_seed(&rng, 100 + i, 0);
		nn_add_dense(&c.net, 6, NN_TANH, &rng);
		nn_add_activation(&c.net, NN_TANH);
		finish_case(&c, 200 + i);
	}

	/* every activation between two dense layers */
	for (int a = 0; a < NN_N_ACTIVATIONS; a++)
	{
		char	   *name = psprintf("activation %s", nn_activation_name((NnActivation) a));

		setup_case(&c, name, NN_LOSS_SOFTMAX_CE, 3, 30 + a);
		galaxy_rng_seed(&rng, 300 + a, 0);
		nn_add_dense(&c.net, 6, (NnActivation) a, &rng);
		nn_add_activation(&c.net, (NnActivation) a);
		finish_case(&c, 400 + a);
	}

	/* batch normalisation (its scale, shift and the layers before it) */
	setup_case(&c, "batch_norm", NN_LOSS_MSE, 1, 50);
	galaxy_rng_seed(&rng, 500, 0);
	nn_add_dense(&c.net, 6, NN_TANH, &rng);
	nn_add_batchnorm(&c.net);
	/* a scale and shift away from 1 and 0, so their gradients matter */
	for (int j = 0; j < 6; j++)
	{
		c.net.layers[1].params[0].w[j] = 0.5f + 0.25f * j;
		c.net.layers[1].params[1].w[j] = 0.1f * j - 0.2f;
	}
	nn_add_activation(&c.net, NN_TANH);
	finish_case(&c, 501);

	/* dropout (the same mask for every pass) */
	setup_case(&c, "dropout 0.3", NN_LOSS_SOFTMAX_CE, 3, 60);
	galaxy_rng_seed(&rng, 600, 0);
	nn_add_dense(&c.net, 6, NN_RELU, &rng);
	nn_add_activation(&c.net, NN_SIGMOID);
	nn_add_dropout(&c.net, 0.3);
	finish_case(&c, 601);

	/* images: conv2d (padding) - relu - max pool - flatten */
	{
		NnShape		img = {3, {2, 6, 6}};

		setup_case_shape(&c, "conv2d, max_pool2d, flatten", NN_LOSS_SOFTMAX_CE, 3, 80, img);
		/* a smaller step: a max pool's winner must not change between the two sides */
		c.step = 2e-3;
		galaxy_rng_seed(&rng, 800, 0);
		nn_add_conv2d(&c.net, 3, 3, 1, 1, NN_TANH, &rng);
		nn_add_activation(&c.net, NN_TANH);
		nn_add_pool2d(&c.net, NN_MAXPOOL2D, 2, 2);
		nn_add_flatten(&c.net);
		finish_case(&c, 801);

		/* stride 2 without padding, overlapping average pooling */
		setup_case_shape(&c, "conv2d stride 2, avg_pool2d", NN_LOSS_MSE, 1, 81, img);
		galaxy_rng_seed(&rng, 810, 0);
		nn_add_conv2d(&c.net, 2, 2, 2, 0, NN_TANH, &rng);
		nn_add_activation(&c.net, NN_SIGMOID);
		nn_add_pool2d(&c.net, NN_AVGPOOL2D, 2, 1);
		nn_add_flatten(&c.net);
		finish_case(&c, 811);

		/* stride 2 with padding: windows that start in the padding */
		setup_case_shape(&c, "conv2d stride 2, padding 1", NN_LOSS_MSE, 1, 83, img);
		galaxy_rng_seed(&rng, 830, 0);
		nn_add_conv2d(&c.net, 2, 3, 2, 1, NN_TANH, &rng);
		nn_add_activation(&c.net, NN_TANH);
		nn_add_flatten(&c.net);
		finish_case(&c, 831);

		/* two convolutions and global average pooling */
		setup_case_shape(&c, "conv2d x2, global_avg_pool", NN_LOSS_SOFTMAX_CE, 2, 82, img);
		galaxy_rng_seed(&rng, 820, 0);
		nn_add_conv2d(&c.net, 3, 3, 1, 1, NN_GELU, &rng);
		nn_add_activation(&c.net, NN_GELU);
		nn_add_conv2d(&c.net, 4, 3, 1, 0, NN_TANH, &rng);
		nn_add_global_avgpool(&c.net);
		finish_case(&c, 821);
	}

	/* sequences: [4 steps, 3 features] */
	{
		NnShape		seq = {2, {4, 3, 0}};

		setup_case_shape(&c, "lstm (last step)", NN_LOSS_SOFTMAX_CE, 3, 90, seq);
		galaxy_rng_seed(&rng, 900, 0);
		nn_add_lstm(&c.net, 5, false, &rng);
		finish_case(&c, 901);

		setup_case_shape(&c, "lstm (every step) - lstm", NN_LOSS_MSE, 1, 91, seq);
		galaxy_rng_seed(&rng, 910, 0);
		nn_add_lstm(&c.net, 4, true, &rng);
		nn_add_lstm(&c.net, 3, false, &rng);
		finish_case(&c, 911);

		setup_case_shape(&c, "gru (last step)", NN_LOSS_SOFTMAX_CE, 3, 93, seq);
		galaxy_rng_seed(&rng, 930, 0);
		nn_add_gru(&c.net, 5, false, &rng);
		finish_case(&c, 931);

		setup_case_shape(&c, "gru (every step) - gru", NN_LOSS_MSE, 1, 94, seq);
		galaxy_rng_seed(&rng, 940, 0);
		nn_add_gru(&c.net, 4, true, &rng);
		nn_add_gru(&c.net, 3, false, &rng);
		finish_case(&c, 941);

		setup_case_shape(&c, "lstm (every step) - flatten", NN_LOSS_SOFTMAX_CE, 2, 92, seq);
		galaxy_rng_seed(&rng, 920, 0);
		nn_add_lstm(&c.net, 3, true, &rng);
		nn_add_flatten(&c.net);
		finish_case(&c, 921);
	}

	/* sequence and attention layers: [4 steps, 6 features] */
	{
		NnShape		seq = {2, {4, 6, 0}};
		NnShape		ids = {1, {5, 0, 0}};
		int			b1,
					b2;

		setup_case_shape(&c, "dense_steps - layer_norm - mean pool", NN_LOSS_SOFTMAX_CE, 3, 95, seq);
		galaxy_rng_seed(&rng, 950, 0);
		nn_add_dense_steps(&c.net, 5, NN_TANH, &rng);
		nn_add_layernorm(&c.net);
		nn_add_activation(&c.net, NN_TANH);
		nn_add_seq_meanpool(&c.net);
		finish_case(&c, 951);

		setup_case_shape(&c, "attention (2 heads)", NN_LOSS_SOFTMAX_CE, 3, 96, seq);
		galaxy_rng_seed(&rng, 960, 0);
		nn_add_dense_steps(&c.net, 6, NN_TANH, &rng);
		nn_add_attention(&c.net, 2, &rng);
		nn_add_seq_meanpool(&c.net);
		finish_case(&c, 961);

		setup_case_shape(&c, "attention (1 head) - positional", NN_LOSS_MSE, 1, 97, seq);
		galaxy_rng_seed(&rng, 970, 0);
		nn_add_positional(&c.net);
		nn_add_attention(&c.net, 1, &rng);
		nn_add_flatten(&c.net);
		finish_case(&c, 971);

		setup_case_shape(&c, "residual around dense_steps", NN_LOSS_SOFTMAX_CE, 2, 98, seq);
		galaxy_rng_seed(&rng, 980, 0);
		nn_add_dense_steps(&c.net, 4, NN_TANH, &rng);
		b1 = nn_boundary(&c.net);
		nn_add_dense_steps(&c.net, 4, NN_TANH, &rng);
		nn_add_activation(&c.net, NN_TANH);
		nn_add_residual(&c.net, b1);
		nn_add_seq_meanpool(&c.net);
		finish_case(&c, 981);

		/* a transformer encoder block on token ids 0..6 */
		setup_case_shape(&c, "embedding - transformer block", NN_LOSS_SOFTMAX_CE, 3, 99, ids);
		for (int i = 0; i < BATCH * c.in_size; i++)
			c.X[i] = (float) ((i * 5 + i / 3) % 7);
		galaxy_rng_seed(&rng, 990, 0);
		nn_add_embedding(&c.net, 7, 4, &rng);
		nn_add_positional(&c.net);
		b1 = nn_boundary(&c.net);
		nn_add_layernorm(&c.net);
		nn_add_attention(&c.net, 2, &rng);
		nn_add_residual(&c.net, b1);
		b2 = nn_boundary(&c.net);
		nn_add_layernorm(&c.net);
		nn_add_dense_steps(&c.net, 8, NN_GELU, &rng);
		nn_add_activation(&c.net, NN_GELU);
		nn_add_dense_steps(&c.net, 4, NN_IDENTITY, &rng);
		nn_add_residual(&c.net, b2);
		nn_add_layernorm(&c.net);
		nn_add_seq_meanpool(&c.net);
		finish_case(&c, 991);
	}

	/* a deeper stack: dense-bn-gelu-dropout-dense-leaky-dense */
	setup_case(&c, "deep stack", NN_LOSS_SOFTMAX_CE, 4, 70);
	galaxy_rng_seed(&rng, 700, 0);
	nn_add_dense(&c.net, 7, NN_GELU, &rng);
	nn_add_batchnorm(&c.net);
	nn_add_activation(&c.net, NN_GELU);
	nn_add_dropout(&c.net, 0.2);
	nn_add_dense(&c.net, 5, NN_LEAKY_RELU, &rng);
	nn_add_activation(&c.net, NN_LEAKY_RELU);
	finish_case(&c, 701);
}

/* Every optimizer and schedule lowers the loss of a small separable problem. */
static void
run_optimizer_checks(void)
{
	static const struct
	{
		const char *name;
		NnOptimizer kind;
		bool		nesterov;
		double		lr;
		NnSchedule	schedule;
		double		clip;
	}			opts[] = {
		{"adam", NN_OPT_ADAM, false, 0.01, NN_LR_CONSTANT, 0},
		{"adamw, cosine", NN_OPT_ADAMW, false, 0.01, NN_LR_COSINE, 0},
		{"sgd momentum, step", NN_OPT_SGD, false, 0.05, NN_LR_STEP, 0},
		{"sgd nesterov, plateau, clip", NN_OPT_SGD, true, 0.05, NN_LR_PLATEAU, 1.0},
	};
	enum
	{
		N = 256
	};
	static float X[N * 2];
	static float y[N];

	for (int i = 0; i < N; i++)
	{
		float		a = (float) ((i * 37) % 101) / 50.0f - 1.0f;
		float		b = (float) ((i * 53) % 97) / 48.0f - 1.0f;

		X[2 * i] = a;
		X[2 * i + 1] = b;
		y[i] = (a > 0) != (b > 0);	/* XOR: needs the hidden layer */
	}
	for (int o = 0; o < (int) lengthof(opts); o++)
	{
		NnNet		net;
		NnShape		in = {1, {2, 0, 0}};
		GalaxyRng	rng;
		NnTrainConfig cfg;
		NnTrainData tr = {N, X, y};
		NnTrainData va = {0, NULL, NULL};
		NnCurve		curve;
		FitContext	ctx;

		memset(&cfg, 0, sizeof(cfg));
		memset(&ctx, 0, sizeof(ctx));
		nn_init(&net, &in);
		galaxy_rng_seed(&rng, 7, 0);
		nn_add_dense(&net, 16, NN_TANH, &rng);
		nn_add_activation(&net, NN_TANH);
		nn_add_dense(&net, 2, NN_IDENTITY, &rng);
		cfg.loss = NN_LOSS_SOFTMAX_CE;
		cfg.batch_size = 32;
		cfg.epochs = 60;
		cfg.classification = true;
		cfg.seed = 7;
		cfg.optim.kind = opts[o].kind;
		cfg.optim.learning_rate = opts[o].lr;
		cfg.optim.momentum = 0.9;
		cfg.optim.nesterov = opts[o].nesterov;
		cfg.optim.beta1 = 0.9;
		cfg.optim.beta2 = 0.999;
		cfg.optim.adam_eps = 1e-8;
		cfg.optim.weight_decay = 1e-4;
		cfg.optim.clip_norm = opts[o].clip;
		cfg.optim.schedule = opts[o].schedule;
		cfg.optim.step_size = 30;
		cfg.optim.gamma = 0.5;
		cfg.optim.patience = 5;
		nn_train(&net, &cfg, &tr, &va, &ctx, &curve);
		checks++;
		if (!(curve.epochs == 60 && curve.loss[59] < 0.5 * curve.loss[0]))
		{
			failures++;
			printf("FAIL  optimizer %-24s loss %.4f → %.4f in %d epochs\n", opts[o].name,
				   curve.loss[0], curve.loss[curve.epochs - 1], curve.epochs);
		}
		else
			printf("ok    optimizer %-24s loss %.4f → %.4f\n", opts[o].name, curve.loss[0], curve.loss[59]);
	}
}

int
main(int argc, char **argv)
{
	fuzz_setup("nn_gradcheck");
	run_gradient_checks();
	run_optimizer_checks();
	printf("%d checks, %d failed\n", checks, failures);
	return failures == 0 ? 0 : 1;
}
