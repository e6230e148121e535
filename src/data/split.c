/*
 * split.c — holdout and k-fold splits of a Dataset, deterministic by seed and
 * stratified by class for classification.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "data/dataset.h"
#include "util/rng.h"

/* rng streams, so the holdout and k-fold shuffles are independent */
#define SPLIT_STREAM_HOLDOUT	UINT64CONST(0x484F4C44)
#define SPLIT_STREAM_KFOLD		UINT64CONST(0x4B464F4C)

/* Huge-capable allocation in the current context. */
static void *
split_alloc(Size size)
{
	return MemoryContextAllocHuge(CurrentMemoryContext, Max(size, 1));
}

/*
 * Group row indexes by class: rows[] receives the row indexes ordered by class
 * (row order within a class), start[c]..start[c+1] delimits class c.
 */
static void
group_by_class(const Dataset *ds, int64 *rows, int64 *start)
{
	int			nc = ds->n_classes;
	int64	   *fill = palloc0(sizeof(int64) * (nc + 1));

	if (ds->y == NULL || nc < 1)
		elog(ERROR, "galaxy: classification dataset without labels");
	memset(start, 0, sizeof(int64) * (nc + 1));
	for (int64 i = 0; i < ds->n_rows; i++)
	{
		double		y = ds->y[i];

		if (!(y >= 0 && y < nc) || y != floor(y))
			elog(ERROR, "galaxy: class index %g of row " INT64_FORMAT " is outside [0, %d)",
				 y, i, nc);
		start[(int) y + 1]++;
	}
	for (int c = 0; c < nc; c++)
		start[c + 1] += start[c];
	for (int64 i = 0; i < ds->n_rows; i++)
	{
		int			c = (int) ds->y[i];

		rows[start[c] + fill[c]++] = i;
	}
	pfree(fill);
}

/* Round half away from zero, as int64. */
static int64
round_count(double x)
{
	return (int64) floor(x + 0.5);
}

/* Split rows into a training and a test set (stratified for classification). */
void
split_holdout(const Dataset *ds, double test_size, uint64 seed,
			  int64 **train_idx, int64 *n_train,
			  int64 **test_idx, int64 *n_test)
{
	int64		n = ds->n_rows;
	bool	   *is_test;
	int64		nt = 0;
	int64	   *tr,
			   *te;
	int64		a = 0,
				b = 0;
	GalaxyRng	rng;

	if (isnan(test_size) || test_size < 0.0 || test_size >= 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("test_size must be at least 0 and less than 1, not %g", test_size)));
	if (n <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot split an empty dataset")));

	galaxy_rng_seed(&rng, seed, SPLIT_STREAM_HOLDOUT);
	is_test = split_alloc(sizeof(bool) * n);
	memset(is_test, 0, sizeof(bool) * n);

	if (test_size > 0.0)
	{
		int64	   *rows = split_alloc(sizeof(int64) * n);

		if (ds->task == TASK_CLASSIFICATION)
		{
			int			nc = ds->n_classes;
			int64	   *start = palloc(sizeof(int64) * (nc + 1));
			int			largest = 0;

			group_by_class(ds, rows, start);
			for (int c = 0; c < nc; c++)
			{
				int64		cnt = start[c + 1] - start[c];
				int64		k = round_count(test_size * (double) cnt);

				CHECK_FOR_INTERRUPTS();
				if (k > cnt - 1)
					k = Max(cnt - 1, 0);	/* keep a training row per class */
				galaxy_rng_shuffle(&rng, rows + start[c], cnt);
				for (int64 j = 0; j < k; j++)
					is_test[rows[start[c] + j]] = true;
				nt += k;
				if (cnt > start[largest + 1] - start[largest])
					largest = c;
			}
			/* a positive test_size on tiny data still yields one test row */
			if (nt == 0 && start[largest + 1] - start[largest] >= 2)
			{
				is_test[rows[start[largest]]] = true;
				nt = 1;
			}
			pfree(start);
		}
		else
		{
			for (int64 i = 0; i < n; i++)
				rows[i] = i;
			galaxy_rng_shuffle(&rng, rows, n);
			nt = round_count(test_size * (double) n);
			if (nt > n - 1)
				nt = n - 1;
			if (nt == 0 && n >= 2)
				nt = 1;
			for (int64 j = 0; j < nt; j++)
				is_test[rows[j]] = true;
		}
		pfree(rows);
	}

	tr = split_alloc(sizeof(int64) * (n - nt));
	te = split_alloc(sizeof(int64) * nt);
	for (int64 i = 0; i < n; i++)
	{
		if (is_test[i])
			te[b++] = i;
		else
			tr[a++] = i;
	}
	Assert(a == n - nt && b == nt);
	pfree(is_test);

	*train_idx = tr;
	*n_train = a;
	*test_idx = te;
	*n_test = b;
}

/* Fold (0..k-1) of every row; stratified for classification. */
int *
split_kfold(const Dataset *ds, int k, uint64 seed)
{
	int64		n = ds->n_rows;
	int		   *fold;
	int64	   *rows;
	GalaxyRng	rng;

	if (k < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("folds must be at least 2, not %d", k)));
	if ((int64) k > n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("folds = %d exceeds the number of rows (" INT64_FORMAT ")", k, n)));

	galaxy_rng_seed(&rng, seed, SPLIT_STREAM_KFOLD);
	fold = split_alloc(sizeof(int) * n);
	rows = split_alloc(sizeof(int64) * n);

	if (ds->task == TASK_CLASSIFICATION)
	{
		int			nc = ds->n_classes;
		int64	   *start = palloc(sizeof(int64) * (nc + 1));
		int64		next = 0;

		group_by_class(ds, rows, start);
		for (int c = 0; c < nc; c++)
		{
			int64		cnt = start[c + 1] - start[c];

			if (cnt > 0 && cnt < k)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("folds = %d exceeds the " INT64_FORMAT " rows of class \"%s\" of target \"%s\"",
								k, cnt,
								ds->class_labels ? ds->class_labels[c] : "?",
								ds->target ? ds->target : "?"),
						 errhint("Stratified cross-validation needs at least as many rows of every class as folds; use fewer folds.")));
		}
		for (int c = 0; c < nc; c++)
		{
			int64		cnt = start[c + 1] - start[c];

			CHECK_FOR_INTERRUPTS();
			galaxy_rng_shuffle(&rng, rows + start[c], cnt);
			/* continue the round-robin across classes so fold sizes balance */
			for (int64 j = 0; j < cnt; j++)
				fold[rows[start[c] + j]] = (int) ((next + j) % k);
			next = (next + cnt) % k;
		}
		pfree(start);
	}
	else
	{
		for (int64 i = 0; i < n; i++)
			rows[i] = i;
		galaxy_rng_shuffle(&rng, rows, n);
		for (int64 j = 0; j < n; j++)
			fold[rows[j]] = (int) (j % k);
	}
	pfree(rows);
	return fold;
}
