/*
 * model_type.c — SQL I/O for the galaxy.model type and galaxy.describe().
 *
 * Text form: "galaxy:" followed by the base64 of the binary value; it
 * round-trips through pg_dump/restore and COPY.  Input validates the whole
 * value (header, compression, checksum, every section), so a corrupted value
 * can never be stored through SQL.
 */
#include "postgres.h"

#include "common/base64.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "model/model.h"

#define MODEL_TEXT_PREFIX "galaxy:"

PG_FUNCTION_INFO_V1(galaxy_model_in);
PG_FUNCTION_INFO_V1(galaxy_model_out);
PG_FUNCTION_INFO_V1(galaxy_model_recv);
PG_FUNCTION_INFO_V1(galaxy_model_send);
PG_FUNCTION_INFO_V1(galaxy_describe);

/* Build a varlena from bytes after validating them as a model. */
static struct varlena *
model_from_bytes(const char *bytes, Size len)
{
	struct varlena *v;

	(void) model_parse(bytes, len, true);
	v = (struct varlena *) palloc(VARHDRSZ + len);
	SET_VARSIZE(v, VARHDRSZ + len);
	memcpy(VARDATA(v), bytes, len);
	return v;
}

/* Text input: "galaxy:<base64>". */
Datum
galaxy_model_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	size_t		plen = strlen(MODEL_TEXT_PREFIX);
	size_t		slen = strlen(str);
	const char *b64;
	int			b64len;
	int			maxlen;
	char	   *bytes;
	int			n;

	if (slen < plen || strncmp(str, MODEL_TEXT_PREFIX, plen) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type galaxy.model"),
				 errdetail("A galaxy.model text value starts with \"%s\".", MODEL_TEXT_PREFIX)));
	b64 = str + plen;
	b64len = (int) (slen - plen);
	if (slen - plen > (size_t) MODEL_MAX_PAYLOAD * 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("galaxy.model text value is too long")));
	maxlen = pg_b64_dec_len(b64len);
	bytes = palloc(maxlen + 1);
	n = pg_b64_decode(b64, b64len, bytes, maxlen);
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type galaxy.model"),
				 errdetail("The text after \"%s\" is not valid base64.", MODEL_TEXT_PREFIX)));
	PG_RETURN_POINTER(model_from_bytes(bytes, (Size) n));
}

/* Text output. */
Datum
galaxy_model_out(PG_FUNCTION_ARGS)
{
	struct varlena *v = DatumGetGalaxyModelP(PG_GETARG_DATUM(0));
	int			len = VARSIZE_ANY_EXHDR(v);
	int			enc = pg_b64_enc_len(len);
	size_t		plen = strlen(MODEL_TEXT_PREFIX);
	char	   *out = palloc(plen + enc + 1);
	int			n;

	memcpy(out, MODEL_TEXT_PREFIX, plen);
	n = pg_b64_encode(VARDATA_ANY(v), len, out + plen, enc);
	if (n < 0)
		elog(ERROR, "could not encode galaxy.model value");
	out[plen + n] = '\0';
	PG_RETURN_CSTRING(out);
}

/* Binary input: the raw value, validated. */
Datum
galaxy_model_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			len = buf->len - buf->cursor;
	const char *bytes = pq_getmsgbytes(buf, len);

	PG_RETURN_POINTER(model_from_bytes(bytes, (Size) len));
}

/* Binary output: the raw value. */
Datum
galaxy_model_send(PG_FUNCTION_ARGS)
{
	struct varlena *v = DatumGetGalaxyModelP(PG_GETARG_DATUM(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* galaxy.describe(model) → jsonb summary. */
Datum
galaxy_describe(PG_FUNCTION_ARGS)
{
	struct varlena *v = DatumGetGalaxyModelP(PG_GETARG_DATUM(0));
	GalaxyModelHeader h;
	GalaxyModel *m;

	model_read_header(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), &h);
	m = model_parse(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), true);
	PG_RETURN_JSONB_P(model_describe(m, &h));
}
