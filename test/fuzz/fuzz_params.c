/*
 * fuzz_params.c — libFuzzer target for the hyperparameter parser,
 * algo_resolve_hyperparams() in src/algo/algo.c (galaxy.train's and
 * galaxy.train_async's hyperparams => jsonb).
 *
 * The input is JSON text, turned into jsonb by jsonb_in (jsonb_shim.c: the
 * backend's layout, PostgreSQL's JSON parser), then resolved against every
 * algorithm.  What an algorithm accepts must hold:
 *   - every value is finite and within its spec: integers integral, bounds
 *     (exclusive where declared), booleans 0/1, enums a valid choice index;
 *   - the effective and the given-only jsonb forms (algo_hyperparams_jsonb,
 *     what galaxy.models stores) resolve again to the same values and flags;
 *   - the model value's copy (algo_write/read_hyperparams) reads back equal;
 *   - the algorithm fits with them on a tiny data set of every task it
 *     supports, with a validation split (ensemble sizes and iteration counts
 *     capped to keep inputs fast), predicts valid class indexes, and its
 *     state serialises stably.
 * An ERROR with an unexpected SQLSTATE is a finding (fuzz_common.c).
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fmgr.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"

#include "algo/algo.h"
#include "fuzz_common.h"
#include "model/modelio.h"
#include "pg_shim.h"

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Costly hyperparameters are capped at these values before fitting. */
#define FIT_MAX_ROUNDS 50
#define FIT_MAX_ITER 200
#define FIT_MAX_EPOCHS 20
#define FIT_MAX_UNITS 32		/* per hidden layer */
#define FIT_MAX_INITS 3			/* kmeans restarts */

#define FIT_ROWS 24
#define FIT_VAL_ROWS 6			/* the last rows double as a validation split */
#define FIT_FEATURES 3

static double fit_X[FIT_ROWS * FIT_FEATURES];
static double fit_y_reg[FIT_ROWS];
static double fit_y_cls[FIT_ROWS];

/* Check resolved values against the spec. */
static void
check_values(const AlgorithmDef *algo, const HyperParams *hp)
{
	if (hp->n != algo->n_params)
		fuzz_finding("%s resolved %d values for %d hyperparameters", algo->name, hp->n, algo->n_params);
	for (int i = 0; i < algo->n_params; i++)
	{
		const HyperParamSpec *s = &algo->params[i];
		double		v = hp->values[i];
		char		buf[64];

		if (!isfinite(v))
			fuzz_finding("%s.%s resolved to %g", algo->name, s->name, v);
		switch (s->type)
		{
			case HP_INT:
			case HP_FLOAT:
				if ((s->type == HP_INT && v != floor(v)) || v < s->min || v > s->max ||
					(s->min_exclusive && v <= s->min))
					fuzz_finding("%s.%s resolved to %.17g, outside its spec", algo->name, s->name, v);
				break;
			case HP_BOOL:
				if (v != 0 && v != 1)
					fuzz_finding("%s.%s (bool) resolved to %g", algo->name, s->name, v);
				break;
			case HP_ENUM:
				if (v != floor(v) || v < 0 ||
					algo_hp_choice(algo, hp, i, buf, sizeof(buf)) == NULL)
					fuzz_finding("%s.%s (enum) resolved to %g", algo->name, s->name, v);
				break;
			case HP_SPEC_LIST:
				if (v != floor(v) || v < 0 || v > GALAXY_MAX_HP_SPEC || !s->codec->valid(hp->list[i], (int) v))
					fuzz_finding("%s.%s (spec list) resolved to an invalid encoding of %g integers",
								 algo->name, s->name, v);
				break;
			case HP_INT_LIST:
				if (v != floor(v) || v < 0 || v > GALAXY_MAX_HP_LIST)
					fuzz_finding("%s.%s (list) has length %g", algo->name, s->name, v);
				for (int e = 0; e < (int) v; e++)
					if (hp->list[i][e] < s->min || hp->list[i][e] > s->max)
						fuzz_finding("%s.%s[%d] resolved to %d, outside its spec", algo->name, s->name,
									 e, hp->list[i][e]);
				break;
		}
	}
}

/* Two resolutions agree (floats to the 15 digits jsonb keeps). */
static void
check_same(const AlgorithmDef *algo, const HyperParams *a, const HyperParams *b,
		   bool flags, const char *what)
{
	for (int i = 0; i < algo->n_params; i++)
	{
		double		x = a->values[i];
		double		y = b->values[i];
		bool		same = algo->params[i].type == HP_FLOAT ?
			fabs(x - y) <= 1e-14 * Max(fabs(x), fabs(y)) : x == y;

		if (!same)
			fuzz_finding("%s.%s is %.17g, but %.17g after %s", algo->name,
						 algo->params[i].name, x, y, what);
		if (algo->params[i].type == HP_INT_LIST || algo->params[i].type == HP_SPEC_LIST)
			for (int e = 0; e < (int) x; e++)
				if (a->list[i][e] != b->list[i][e])
					fuzz_finding("%s.%s[%d] is %d, but %d after %s", algo->name, algo->params[i].name,
								 e, a->list[i][e], b->list[i][e], what);
		if (flags && a->given[i] != b->given[i])
			fuzz_finding("%s.%s given flag changes after %s", algo->name, algo->params[i].name, what);
	}
}

/* The stored forms of accepted values resolve and read back the same. */
static void
round_trips(const AlgorithmDef *algo, const HyperParams *hp)
{
	HyperParams again;
	ModelWriter w;
	ModelReader r;

	PG_TRY();
	{
		algo_resolve_hyperparams(algo, algo_hyperparams_jsonb(algo, hp, false), &again);
		check_same(algo, hp, &again, false, "the effective jsonb");
		algo_resolve_hyperparams(algo, algo_hyperparams_jsonb(algo, hp, true), &again);
		check_same(algo, hp, &again, true, "the given-only jsonb");

		mw_init(&w);
		algo_write_hyperparams(algo, hp, &w);
		mr_init(&r, w.buf.data, w.buf.len);
		algo_read_hyperparams(algo, &r, &again);
		mr_finish(&r);
		check_same(algo, hp, &again, true, "the model's copy");
	}
	PG_CATCH();
	{
		fuzz_finding("%s: stored forms of accepted hyperparameters fail: %s (%s)", algo->name,
					 shim_last_message(), unpack_sql_state(shim_last_sqlstate()));
	}
	PG_END_TRY();
}

/* Fit, predict and serialise with accepted values on every task. */
static void
fit_all_tasks(const AlgorithmDef *algo, const HyperParams *given)
{
	HyperParams hp = *given;

	for (int i = 0; i < algo->n_params; i++)
	{
		const char *n = algo->params[i].name;

		if (strcmp(n, "n_estimators") == 0 || strcmp(n, "early_stopping_rounds") == 0)
			hp.values[i] = Min(hp.values[i], FIT_MAX_ROUNDS);
		else if (strcmp(n, "max_iter") == 0)
			hp.values[i] = Min(hp.values[i], FIT_MAX_ITER);
		else if (strcmp(n, "epochs") == 0)
			hp.values[i] = Min(hp.values[i], FIT_MAX_EPOCHS);
		else if (strcmp(n, "n_init") == 0)
			hp.values[i] = Min(hp.values[i], FIT_MAX_INITS);
		else if (algo->params[i].type == HP_INT_LIST)
			for (int e = 0; e < (int) hp.values[i]; e++)
				hp.list[i][e] = Min(hp.list[i][e], FIT_MAX_UNITS);
	}
	for (int t = TASK_REGRESSION; t <= TASK_CLUSTERING; t++)
	{
		TrainData d;
		FitContext ctx;
		void	   *state;
		double		pred[FIT_ROWS];
		int			nclasses = t == TASK_CLASSIFICATION ? 3 : 0;

		if (!(algo->tasks & TASK_BIT(t)))
			continue;
		memset(&d, 0, sizeof(d));
		memset(&ctx, 0, sizeof(ctx));
		d.n_rows = FIT_ROWS;
		d.n_features = FIT_FEATURES;
		d.X = fit_X;
		d.y = t == TASK_CLASSIFICATION ? fit_y_cls : (t == TASK_REGRESSION ? fit_y_reg : NULL);
		d.n_classes = nclasses;
		d.task = (GalaxyTask) t;
		if (t != TASK_CLUSTERING)
		{
			d.n_val = FIT_VAL_ROWS;
			d.X_val = fit_X + (FIT_ROWS - FIT_VAL_ROWS) * FIT_FEATURES;
			d.y_val = d.y + (FIT_ROWS - FIT_VAL_ROWS);
		}
		ctx.seed = 42;
		ctx.threads = 1;
		PG_TRY();
		{
			ModelWriter w1,
						w2;
			ModelReader r;
			void	   *state2;

			state = algo->fit(&d, &hp, &ctx);
			algo->predict(state, fit_X, FIT_ROWS, pred);
			if (t == TASK_CLASSIFICATION)
				for (int i = 0; i < FIT_ROWS; i++)
					if (!(pred[i] >= 0 && pred[i] < nclasses && pred[i] == floor(pred[i])))
						fuzz_finding("%s fitted with accepted hyperparameters predicts class %g",
									 algo->name, pred[i]);
			mw_init(&w1);
			algo->serialize(state, &w1);
			mr_init(&r, w1.buf.data, w1.buf.len);
			state2 = algo->deserialize(&r, FIT_FEATURES, nclasses, (GalaxyTask) t);
			mr_finish(&r);
			mw_init(&w2);
			algo->serialize(state2, &w2);
			if (w1.buf.len != w2.buf.len || memcmp(w1.buf.data, w2.buf.data, w1.buf.len) != 0)
				fuzz_finding("%s state fitted with accepted hyperparameters changes when serialised again",
							 algo->name);
		}
		PG_CATCH();
		{
			fuzz_check_error(psprintf("fitting %s (%s)", algo->name, galaxy_task_name((GalaxyTask) t)));
		}
		PG_END_TRY();
	}
}

/* Resolve the jsonb against one algorithm and check what it accepts. */
static void
resolve_one(const AlgorithmDef *algo, Jsonb *jb)
{
	HyperParams hp;
	volatile bool ok = false;

	PG_TRY();
	{
		algo_resolve_hyperparams(algo, jb, &hp);
		ok = true;
	}
	PG_CATCH();
	{
		fuzz_check_error(psprintf("algo_resolve_hyperparams (%s)", algo->name));
	}
	PG_END_TRY();
	if (!ok)
		return;
	check_values(algo, &hp);
	round_trips(algo, &hp);
	fit_all_tasks(algo, &hp);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_setup("fuzz_params");
	/* three separable blobs: y is a noisy line, the class its blob */
	for (int i = 0; i < FIT_ROWS; i++)
	{
		int			c = i % 3;

		for (int j = 0; j < FIT_FEATURES; j++)
			fit_X[i * FIT_FEATURES + j] = c * 4.0 + j + 0.1 * ((i * 7 + j * 3) % 5);
		fit_y_cls[i] = c;
		fit_y_reg[i] = 2.0 * fit_X[i * FIT_FEATURES] - fit_X[i * FIT_FEATURES + 2] + 0.01 * (i % 4);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = malloc(size + 1);
	Jsonb	   *volatile jb = NULL;

	memcpy(text, data, size);
	text[size] = '\0';
	PG_TRY();
	{
		jb = DatumGetJsonbP(fuzz_call1(jsonb_in, CStringGetDatum(text)));
	}
	PG_CATCH();
	{
		fuzz_check_error("jsonb_in");
		jb = NULL;
	}
	PG_END_TRY();
	if (jb != NULL)
		for (int i = 0; i < algo_count(); i++)
			resolve_one(algo_at(i), jb);
	shim_free_all();
	free(text);
	return 0;
}
