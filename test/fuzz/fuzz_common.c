/*
 * fuzz_common.c — helpers shared by the fuzz targets (see fuzz_common.h).
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <lz4.h>

#include "port/pg_crc32c.h"
#include "utils/float.h"

#include "algo/sparse.h"
#include "data/dataset.h"
#include "fuzz_common.h"
#include "model/model.h"
#include "pg_shim.h"

extern void openblas_set_num_threads(int num_threads);

/* Largest feature count for which accepted models are also exercised with dense rows. */
#define EXERCISE_MAX_FEATURES 100000

const char *fuzz_target_name = "fuzz";

void
fuzz_finding(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: FINDING: ", fuzz_target_name);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

bool
fuzz_expected_sqlstate(int sqlstate)
{
	return ERRCODE_TO_CATEGORY(sqlstate) == ERRCODE_DATA_EXCEPTION ||	/* class 22 */
		ERRCODE_TO_CATEGORY(sqlstate) == ERRCODE_PROGRAM_LIMIT_EXCEEDED ||	/* class 54 */
		sqlstate == ERRCODE_DATA_CORRUPTED ||
		sqlstate == ERRCODE_FEATURE_NOT_SUPPORTED ||
		sqlstate == ERRCODE_OUT_OF_MEMORY;
}

void
fuzz_check_error(const char *where)
{
	int			sqlstate = shim_last_sqlstate();

	if (!fuzz_expected_sqlstate(sqlstate))
		fuzz_finding("%s raised SQLSTATE %s: %s", where, unpack_sql_state(sqlstate),
					 shim_last_message());
	FlushErrorState();
}

Datum
fuzz_call1(PGFunction fn, Datum arg)
{
	LOCAL_FCINFO(fcinfo, 1);

	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = arg;
	fcinfo->args[0].isnull = false;
	return fn(fcinfo);
}

/* Little-endian helpers for the fixed header. */
static uint32
get_le32(const uint8 *p)
{
	return (uint32) p[0] | ((uint32) p[1] << 8) | ((uint32) p[2] << 16) | ((uint32) p[3] << 24);
}

static void
put_le32(uint8 *p, uint32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8) (v >> (8 * i));
}

void
fuzz_repair_model_checksum(uint8 *buf, size_t len)
{
	uint8		flags;
	uint32		raw_size;
	const char *payload;
	char	   *tmp = NULL;
	pg_crc32c	crc;

	if (len < MODEL_HEADER_SIZE)
		return;
	flags = buf[9];
	raw_size = get_le32(buf + 24);
	if (flags & MODEL_FLAG_LZ4)
	{
		if (raw_size == 0 || raw_size > (1u << 24))
			return;
		tmp = malloc(raw_size);
		if (LZ4_decompress_safe((const char *) buf + MODEL_HEADER_SIZE, tmp,
								(int) (len - MODEL_HEADER_SIZE), (int) raw_size) != (int) raw_size)
		{
			free(tmp);
			return;
		}
		payload = tmp;
	}
	else
	{
		if (raw_size != len - MODEL_HEADER_SIZE)
			return;
		payload = (const char *) buf + MODEL_HEADER_SIZE;
	}
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, payload, raw_size);
	FIN_CRC32C(crc);
	put_le32(buf + 28, crc);
	free(tmp);
}

/* The checks of predictions and probabilities of nrows rows. */
static void
check_predictions(GalaxyModel *m, const double *pred, int nrows)
{
	if (m->task == TASK_CLASSIFICATION)
		for (int i = 0; i < nrows; i++)
			if (!(pred[i] >= 0 && pred[i] < m->n_classes && pred[i] == floor(pred[i])))
				fuzz_finding("%s predicted class %g for a model with %d classes",
							 m->algo->name, pred[i], m->n_classes);
	if (m->task == TASK_CLUSTERING)
		for (int i = 0; i < nrows; i++)
			if (!(pred[i] >= 0 && pred[i] == floor(pred[i])))
				fuzz_finding("%s predicted cluster %g", m->algo->name, pred[i]);
}

/*
 * A model with text inputs (sparse features), used as predict and evaluate
 * do: raw rows with every input missing, with unseen values, and with
 * hand-made terms for every text input (in and out of range, unsorted,
 * repeated), made sparse, then predicted.
 */
static void
exercise_sparse(GalaxyModel *m)
{
	int			nf = m->n_features;
	int			nraw = preprocess_n_raw(m->prep);
	int			n_in = preprocess_n_inputs(m->prep);
	double	   *raw = palloc(sizeof(double) * nraw);
	TextTerms  *terms = palloc0(sizeof(TextTerms) * n_in);
	int32		ids[6];
	int32		counts[6] = {1, 2, 3, 1, 7, 2};
	SparseBuilder b;
	SparseRow	row;
	SparseMatrix X;
	double	   *pred = palloc0(sizeof(double) * 3);
	double	   *proba = NULL;

	sparse_builder_init(&b, nf, 3, 64, "fuzz rows");
	sparse_row_init(&row, 16);
	for (int k = 0; k < 3; k++)
	{
		for (int i = 0; i < nraw; i++)
			raw[i] = (k == 0) ? get_float8_nan() : -1.0;	/* missing, or unseen (categorical) */
		for (int i = 0; i < n_in; i++)
		{
			int			first,
						n;

			preprocess_input_features(m->prep, i, &first, &n);
			ids[0] = n - 1;
			ids[1] = 0;
			ids[2] = n / 2;
			ids[3] = n;			/* out of range */
			ids[4] = -1;		/* out of range */
			ids[5] = 0;			/* repeated */
			terms[i].n = k == 2 ? 6 : 0;
			terms[i].ids = ids;
			terms[i].counts = counts;
		}
		preprocess_apply_sparse(m->prep, raw, terms, &row);
		for (int q = 0; q < row.nnz; q++)
			if (row.idx[q] < 0 || row.idx[q] >= nf || (q > 0 && row.idx[q] <= row.idx[q - 1]) ||
				!isfinite(row.val[q]))
				fuzz_finding("sparse row has entry %d = %g at column %d of %d (out of order or range)",
							 q, row.val[q], row.idx[q], nf);
		sparse_builder_add(&b, &row);
	}
	X = sparse_builder_rows(&b, 0, 3);
	if (m->task == TASK_CLASSIFICATION && m->algo->predict_proba && m->n_classes <= 100000)
		proba = palloc0(sizeof(double) * 3 * m->n_classes);
	algo_predict_scores_sparse(m->algo, m->state, &X, m->task == TASK_CLASSIFICATION ? m->n_classes : 0,
							   pred, proba);
	check_predictions(m, pred, 3);
}

/* Dense rows (a model without text inputs) preprocessed and predicted as the server does. */
static void
exercise_dense(GalaxyModel *m)
{
	int			nf = m->n_features;
	int			nraw = preprocess_n_raw(m->prep);
	double	   *raw;
	double	   *X;
	double	   *pred;
	int			nrows = 0;

	if (nraw <= 0 || nraw > EXERCISE_MAX_FEATURES * 16)
		return;
	raw = palloc(sizeof(double) * nraw);
	X = palloc0(sizeof(double) * 3 * nf);
	pred = palloc0(sizeof(double) * 3);

	/* a row with every input missing, and a row of -1 (unseen categories) */
	for (int k = 0; k < 2; k++)
	{
		double	   *row = X + (Size) nrows * nf;
		bool		finite = true;

		for (int i = 0; i < nraw; i++)
			raw[i] = (k == 0) ? get_float8_nan() : -1.0;
		preprocess_apply_raw(m->prep, raw, row);
		for (int j = 0; j < nf; j++)
			if (!isfinite(row[j]))
				finite = false;
		if (finite)
			nrows++;
	}
	/* and the origin of feature space */
	memset(X + (Size) nrows * nf, 0, sizeof(double) * nf);
	nrows++;

	model_predict_features(m, X, nrows, pred);
	check_predictions(m, pred, nrows);
	if (m->task == TASK_CLASSIFICATION && m->algo->predict_proba && m->n_classes <= 100000)
	{
		double	   *proba = palloc0(sizeof(double) * nrows * m->n_classes);

		m->algo->predict_proba(m->state, X, nrows, proba);
	}
}

/* Use an accepted model the way the server does. */
static void
exercise(GalaxyModel *m)
{
	int			nf = m->n_features;
	bool		sparse = preprocess_is_sparse(m->prep);

	/* sparse rows cost their non-zeros: any width; dense ones theirs */
	if (nf <= 0 || (!sparse && nf > EXERCISE_MAX_FEATURES))
		return;
	if (sparse)
		exercise_sparse(m);
	else
		exercise_dense(m);
	if (m->algo->feature_importance)
	{
		double	   *imp = palloc0(sizeof(double) * nf);

		m->algo->feature_importance(m->state, imp);
	}
	/* the algorithm's keys of galaxy.describe() (e.g. centroids in input units) */
	if (m->algo->describe)
	{
		JsonbParseState *st = NULL;

		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		m->algo->describe(m->state, m->prep, &st);
		(void) pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	}
	/* the preprocessor's keys of galaxy.describe() (a text input's vocabulary) */
	(void) preprocess_describe(m->prep);
}

/* Serialise an accepted model twice: the value must be stable. */
static void
round_trip(GalaxyModel *m)
{
	struct varlena *v1;
	struct varlena *v2;
	GalaxyModel *m2;

	PG_TRY();
	{
		v1 = model_serialize(m);
		m2 = model_parse(VARDATA(v1), VARSIZE(v1) - VARHDRSZ, true);
		v2 = model_serialize(m2);
	}
	PG_CATCH();
	{
		fuzz_finding("re-serialising an accepted %s model failed: %s (%s)", m->algo->name,
					 shim_last_message(), unpack_sql_state(shim_last_sqlstate()));
	}
	PG_END_TRY();
	if (VARSIZE(v1) != VARSIZE(v2) || memcmp(v1, v2, VARSIZE(v1)) != 0)
		fuzz_finding("%s model changes when serialised again (%u vs %u bytes)",
					 m->algo->name, VARSIZE(v1), VARSIZE(v2));
}

void
fuzz_use_model(GalaxyModel *m)
{
	PG_TRY();
	{
		exercise(m);
	}
	PG_CATCH();
	{
		fuzz_check_error("using an accepted model");
	}
	PG_END_TRY();
	round_trip(m);
}

void
fuzz_setup(const char *target)
{
	fuzz_target_name = target;
	/* OpenBLAS must not start a thread per core for every prediction */
	openblas_set_num_threads(1);
}
