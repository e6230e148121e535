/*
 * binned.c — a Dataset loaded as bin codes (DatasetBins, see dataset.h)
 * made into what training needs: the sample of raw rows as a Dataset of its
 * own (the preprocessor and the drift profile are fitted on its training
 * rows), then, once the preprocessor is fitted, the codes in the
 * preprocessed features' units for the fit (BinnedFeatures, algo.h) and the
 * test rows as float64 for scoring.
 *
 * Preprocessing a numeric slot is monotone (impute a NULL, then subtract a
 * center and divide by a positive scale), so a bin of raw values is a bin
 * of preprocessed values: the edges are preprocessed like values (two that
 * become equal merge their bins) and a NULL takes the code of its imputed
 * value's bin.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/float.h"
#include "utils/memutils.h"

#include "galaxy.h"
#include "data/dataset.h"

/* The sample of raw rows as a Dataset, and its training rows (see dataset.h). */
Dataset *
dataset_bins_sample(const Dataset *ds, const int64 *train_idx, int64 n_train,
					int64 **rows, int64 *n)
{
	const DatasetBins *b = ds->bins;
	Dataset    *sds = palloc(sizeof(Dataset));
	int64		k = 0;
	int64		j = 0;

	Assert(b != NULL);
	*sds = *ds;
	sds->bins = NULL;
	sds->raw = b->sample;
	sds->raw32 = NULL;
	sds->n_rows = b->n_sample;
	sds->y = NULL;
	if (ds->y)
	{
		sds->y = palloc(sizeof(double) * Max(b->n_sample, 1));
		for (int64 i = 0; i < b->n_sample; i++)
			sds->y[i] = ds->y[b->sample_row[i]];
	}

	/* both lists ascend: merge them */
	*rows = palloc(sizeof(int64) * Max(b->n_sample, 1));
	for (int64 i = 0; i < b->n_sample; i++)
	{
		while (j < n_train && train_idx[j] < b->sample_row[i])
			j++;
		if (j < n_train && train_idx[j] == b->sample_row[i])
			(*rows)[k++] = i;
	}
	*n = k;
	if (k == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the sample of the rows for the bin edges holds no training row"),
				 errhint("Train on more rows, or lower test_size.")));
	return sds;
}

/* The codes as preprocessed features, training rows first (see dataset.h). */
void
dataset_bins_split(Dataset *ds, const Preprocessor *prep,
				   const int64 *train_idx, int64 n_train,
				   const int64 *test_idx, int64 n_test,
				   BinnedFeatures *train, double **X_test, double **y_test)
{
	DatasetBins *b = ds->bins;
	int			r = ds->n_raw;
	int			p = preprocess_n_features(prep);
	int64		n = ds->n_rows;
	int			max_e = 0;
	double	   *row = palloc(sizeof(double) * r);
	double	   *out = palloc(sizeof(double) * Max(p, 1));
	double	   *te;
	double	   *fill = palloc(sizeof(double) * r);
	bool	   *is_test = memset(galaxy_alloc_filled(sizeof(bool) * Max(n, 1)), 0, sizeof(bool) * Max(n, 1));
	uint8	   *codes = b->codes;
	double	   *X = NULL;
	double	   *yt = NULL;

	/* numeric inputs only: raw slot s is feature s */
	if (p != r || preprocess_is_sparse(prep))
		elog(ERROR, "galaxy: bin codes need one feature per raw slot (%d features, %d slots)", p, r);
	for (int i = 0; i < preprocess_n_inputs(prep); i++)
	{
		int			first,
					cnt;

		preprocess_input_features(prep, i, &first, &cnt);
		if (first != ds->inputs[i].raw_offset || cnt != ds->inputs[i].width)
			elog(ERROR, "galaxy: input \"%s\" does not keep its raw slots as features", ds->inputs[i].name);
	}
	Assert(n_train + n_test == n);

	/* the edges in preprocessed units, edge k of every slot at once */
	for (int s = 0; s < r; s++)
		max_e = Max(max_e, b->n_edges[s]);
	te = palloc(sizeof(double) * (Size) r * Max(max_e, 1));
	for (int k = 0; k < max_e; k++)
	{
		for (int s = 0; s < r; s++)
			row[s] = k < b->n_edges[s] ? b->edges[(Size) s * ALGO_MAX_BIN_EDGES + k] : 0.0;
		preprocess_apply_raw(prep, row, out);
		for (int s = 0; s < r; s++)
			te[(Size) s * max_e + k] = out[s];
	}
	/* the imputed value of a NULL (ERROR where NULL is refused, as for any row) */
	for (int s = 0; s < r; s++)
		row[s] = b->has_null[s] ? get_float8_nan() : 0.0;
	preprocess_apply_raw(prep, row, out);
	for (int s = 0; s < r; s++)
		fill[s] = out[s];

	train->n_rows = n_train;
	train->n_features = p;
	train->max_bins = b->max_bins;
	train->n_edges = palloc(sizeof(int) * Max(p, 1));
	train->edges = palloc(sizeof(double) * (Size) Max(p, 1) * ALGO_MAX_BIN_EDGES);

	for (int64 i = 0; i < n_test; i++)
		is_test[test_idx[i]] = true;
	/* the scored rows: the test rows, or the training rows when there are none */
	galaxy_check_training_memory(sizeof(double) * (Size) (n_test > 0 ? n_test : n_train) * p,
								 "the rows scored after a fit on bin codes");
	X = galaxy_alloc_filled(sizeof(double) * (Size) Max(n_test > 0 ? n_test : n_train, 1) * p);
	if (n_test > 0 && ds->y)
		yt = galaxy_alloc_filled(sizeof(double) * n_test);

	for (int s = 0; s < r; s++)
	{
		double	   *kept = train->edges + (Size) s * ALGO_MAX_BIN_EDGES;
		const double *e = te + (Size) s * max_e;
		double		rep[256];
		uint8		map[256];
		int			E = 0;
		const uint8 *src = codes + (Size) s * n;
		uint8	   *dst = codes + (Size) s * n_train;
		int64		d = 0,
					t = 0;

		/*
		 * Keep the edges that still increase; old code c (edge c - 1 < x <=
		 * edge c) becomes the number of kept edges below it.
		 */
		map[0] = 0;
		for (int k = 0; k < b->n_edges[s]; k++)
		{
			if (isfinite(e[k]) && (E == 0 || e[k] > kept[E - 1]))
				kept[E++] = e[k];
			map[k + 1] = (uint8) E;
		}
		for (int c = b->n_edges[s] + 1; c < 256; c++)
			map[c] = (uint8) E;
		/* a NULL: the code of its imputed value */
		if (b->has_null[s])
		{
			int			c = 0;

			while (c < E && kept[c] < fill[s])
				c++;
			map[DATASET_BIN_NULL] = (uint8) c;
		}
		train->n_edges[s] = E;
		/* a value of each code's bin: its upper edge, just above the last edge for the last */
		for (int c = 0; c <= E; c++)
			rep[c] = c < E ? kept[c] : (E > 0 ? nextafter(kept[E - 1], get_float8_infinity()) : 0.0);

		/* training rows compacted in place (dst never passes src), test rows decoded */
		for (int64 i = 0; i < n; i++)
		{
			uint8		c = map[src[i]];

			if (is_test[i])
				X[(t++) * p + s] = rep[c];
			else
			{
				if (n_test == 0)
					X[d * p + s] = rep[c];
				dst[d++] = c;
			}
		}
		Assert(d == n_train && t == n_test);
		CHECK_FOR_INTERRUPTS();
	}

	/* labels: the training rows' to the front, the test rows' apart */
	if (ds->y)
	{
		int64		d = 0,
					t = 0;

		for (int64 i = 0; i < n; i++)
		{
			if (is_test[i])
			{
				if (yt)
					yt[t++] = ds->y[i];
			}
			else
				ds->y[d++] = ds->y[i];
		}
	}
	train->codes = repalloc_huge(codes, (Size) Max(p, 1) * Max(n_train, 1));
	b->codes = NULL;
	*X_test = X;
	*y_test = yt;

	/* the sample has served (the preprocessor and the profile are fitted) */
	pfree(b->sample);
	pfree(b->sample_row);
	b->sample = NULL;
	b->sample_row = NULL;
	b->n_sample = 0;
	pfree(te);
	pfree(row);
	pfree(out);
	pfree(fill);
	pfree(is_test);
}
