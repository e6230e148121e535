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
 * index, or a round trip that changes the value (see fuzz_common.c).
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/base64.h"
#include "fmgr.h"
#include "lib/stringinfo.h"

#include "fuzz_common.h"
#include "model/model.h"
#include "pg_shim.h"

extern Datum galaxy_model_in(PG_FUNCTION_ARGS);
extern Datum galaxy_model_out(PG_FUNCTION_ARGS);
extern Datum galaxy_model_recv(PG_FUNCTION_ARGS);

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
		fuzz_check_error("model_parse");
		m = NULL;
	}
	PG_END_TRY();

	if (m != NULL)
		fuzz_use_model(m);
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
		(void) fuzz_call1(galaxy_model_recv, PointerGetDatum(&buf));
	}
	PG_CATCH();
	{
		fuzz_check_error("galaxy_model_recv");
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
		(void) fuzz_call1(galaxy_model_in, CStringGetDatum(cstr));
	}
	PG_CATCH();
	{
		fuzz_check_error("galaxy_model_in (raw text)");
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
		fuzz_finding("pg_b64_encode failed");
	text[7 + n] = '\0';
	PG_TRY();
	{
		Datum		v = fuzz_call1(galaxy_model_in, CStringGetDatum(text));
		char	   *out = DatumGetCString(fuzz_call1(galaxy_model_out, v));

		if (strcmp(out, text) != 0)
			fuzz_finding("galaxy.model text form does not round-trip");
	}
	PG_CATCH();
	{
		fuzz_check_error("galaxy_model_in (base64)");
	}
	PG_END_TRY();
	free(text);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_setup("fuzz_model");
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
	fuzz_repair_model_checksum(fixed, size);
	step_recv(fixed, size);
	shim_free_all();
	step_text(data, size, fixed);
	shim_free_all();
	free(fixed);
	return 0;
}
