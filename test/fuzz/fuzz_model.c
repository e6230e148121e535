/*
 * fuzz_model.c — libFuzzer target for the galaxy.model reader.
 *
 * Each input goes through every way a value enters galaxy:
 *   1. model_parse(bytes, len, false): the binary reader with the checksum
 *      skipped, so mutations reach the preprocessor, label, hyperparameter
 *      and algorithm sections;
 *   2. galaxy_model_recv() on the bytes with their checksum repaired (the
 *      binary COPY / protocol path, checksum verified);
 *   3. galaxy_model_in() on the bytes as a C string (text syntax checks);
 *   4. galaxy_model_in() on "galaxy:" + base64(bytes with checksum repaired),
 *      and, when accepted, galaxy_model_out() must give back the same text.
 *
 * A value the reader accepts is then used the way the server would use it:
 * preprocess a raw row, predict (class indexes must be valid), predict
 * probabilities, feature importances, and serialise again: the re-serialised
 * value must parse with its checksum and serialise to the same bytes.
 *
 * Findings are crashes and sanitizer reports, plus explicit aborts for
 * broken invariants: an ERROR with a SQLSTATE a bad value must not produce
 * (e.g. XX000 from an unvalidated allocation size), an out-of-range class
 * index, or a round trip that changes the value.
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <lz4.h>

#include "common/base64.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "port/pg_crc32c.h"
#include "utils/float.h"

#include "model/model.h"
#include "pg_shim.h"

extern Datum galaxy_model_in(PG_FUNCTION_ARGS);
extern Datum galaxy_model_out(PG_FUNCTION_ARGS);
extern Datum galaxy_model_recv(PG_FUNCTION_ARGS);
extern void openblas_set_num_threads(int num_threads);

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Largest feature count for which accepted models are also exercised. */
#define EXERCISE_MAX_FEATURES 100000

/* Stop the fuzzer with a message: a broken invariant is a finding. */
static void
finding(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz_model: FINDING: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

/* SQLSTATEs a hostile or corrupted value may produce. */
static bool
expected_sqlstate(int sqlstate)
{
	return ERRCODE_TO_CATEGORY(sqlstate) == ERRCODE_DATA_EXCEPTION ||	/* class 22 */
		sqlstate == ERRCODE_DATA_CORRUPTED ||
		sqlstate == ERRCODE_FEATURE_NOT_SUPPORTED ||
		sqlstate == ERRCODE_PROGRAM_LIMIT_EXCEEDED ||
		sqlstate == ERRCODE_OUT_OF_MEMORY;
}

/* After a caught ERROR: check its SQLSTATE and forget it. */
static void
check_error(const char *where)
{
	int			sqlstate = shim_last_sqlstate();

	if (!expected_sqlstate(sqlstate))
		finding("%s raised SQLSTATE %s: %s", where, unpack_sql_state(sqlstate),
				shim_last_message());
	FlushErrorState();
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

/*
 * Store the right CRC-32C in a copy of the value, when the header's size
 * fields make the payload computable; otherwise leave it as it is.
 */
static void
repair_checksum(uint8 *buf, size_t len)
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

/* Call a one-argument fmgr function directly. */
static Datum
call1(PGFunction fn, Datum arg)
{
	LOCAL_FCINFO(fcinfo, 1);

	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = arg;
	fcinfo->args[0].isnull = false;
	return fn(fcinfo);
}

/* Use an accepted model the way the server does. */
static void
exercise(GalaxyModel *m)
{
	int			nf = m->n_features;
	int			nraw;
	double	   *raw;
	double	   *X;
	double	   *pred;
	int			nrows = 0;

	if (nf <= 0 || nf > EXERCISE_MAX_FEATURES)
		return;
	nraw = preprocess_n_raw(m->prep);
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
	if (m->task == TASK_CLASSIFICATION)
	{
		for (int i = 0; i < nrows; i++)
			if (!(pred[i] >= 0 && pred[i] < m->n_classes && pred[i] == floor(pred[i])))
				finding("%s predicted class %g for a model with %d classes",
						m->algo->name, pred[i], m->n_classes);
		if (m->algo->predict_proba && m->n_classes <= 100000)
		{
			double	   *proba = palloc0(sizeof(double) * nrows * m->n_classes);

			m->algo->predict_proba(m->state, X, nrows, proba);
		}
	}
	if (m->algo->feature_importance)
	{
		double	   *imp = palloc0(sizeof(double) * nf);

		m->algo->feature_importance(m->state, imp);
	}
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
		finding("re-serialising an accepted %s model failed: %s (%s)", m->algo->name,
				shim_last_message(), unpack_sql_state(shim_last_sqlstate()));
	}
	PG_END_TRY();
	if (VARSIZE(v1) != VARSIZE(v2) || memcmp(v1, v2, VARSIZE(v1)) != 0)
		finding("%s model changes when serialised again (%u vs %u bytes)",
				m->algo->name, VARSIZE(v1), VARSIZE(v2));
}

/* 1: the binary reader, checksum skipped. */
static void
step_parse(const uint8_t *data, size_t size)
{
	GalaxyModel *volatile m = NULL;

	PG_TRY();
	{
		m = model_parse((const char *) data, size, false);
	}
	PG_CATCH();
	{
		check_error("model_parse");
		m = NULL;
	}
	PG_END_TRY();

	if (m != NULL)
	{
		PG_TRY();
		{
			exercise(m);
		}
		PG_CATCH();
		{
			check_error("using an accepted model");
		}
		PG_END_TRY();
		round_trip(m);
	}
}

/* 2: binary input (recv) on the checksum-repaired bytes. */
static void
step_recv(const uint8 *fixed, size_t size)
{
	StringInfoData buf;

	buf.data = (char *) fixed;
	buf.len = (int) size;
	buf.maxlen = (int) size;
	buf.cursor = 0;
	PG_TRY();
	{
		(void) call1(galaxy_model_recv, PointerGetDatum(&buf));
	}
	PG_CATCH();
	{
		check_error("galaxy_model_recv");
	}
	PG_END_TRY();
}

/* 3 and 4: text input. */
static void
step_text(const uint8_t *data, size_t size, const uint8 *fixed)
{
	char	   *cstr;
	char	   *text;
	int			enc;
	int			n;

	/* the raw bytes as a C string */
	cstr = malloc(size + 1);
	memcpy(cstr, data, size);
	cstr[size] = '\0';
	PG_TRY();
	{
		(void) call1(galaxy_model_in, CStringGetDatum(cstr));
	}
	PG_CATCH();
	{
		check_error("galaxy_model_in (raw text)");
	}
	PG_END_TRY();
	free(cstr);

	/* the canonical text form of the repaired bytes */
	if (size > 4 * 1024 * 1024)
		return;
	enc = pg_b64_enc_len((int) size);
	text = malloc(7 + enc + 1);
	memcpy(text, "galaxy:", 7);
	n = pg_b64_encode((const char *) fixed, (int) size, text + 7, enc);
	if (n < 0)
		finding("pg_b64_encode failed");
	text[7 + n] = '\0';
	PG_TRY();
	{
		Datum		v = call1(galaxy_model_in, CStringGetDatum(text));
		char	   *out = DatumGetCString(call1(galaxy_model_out, v));

		if (strcmp(out, text) != 0)
			finding("galaxy.model text form does not round-trip");
	}
	PG_CATCH();
	{
		check_error("galaxy_model_in (base64)");
	}
	PG_END_TRY();
	free(text);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* OpenBLAS must not start a thread per core for every prediction */
	openblas_set_num_threads(1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8	   *fixed;

	step_parse(data, size);
	shim_free_all();

	fixed = malloc(size > 0 ? size : 1);
	memcpy(fixed, data, size);
	repair_checksum(fixed, size);
	step_recv(fixed, size);
	shim_free_all();
	step_text(data, size, fixed);
	shim_free_all();
	free(fixed);
	return 0;
}
