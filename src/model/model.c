/*
 * model.c — galaxy.model serialisation: header, LZ4 compression, checksum,
 * and validation of every field before use.
 */
#include "postgres.h"

#include <lz4.h>

#include "common/base64.h"
#include "port/pg_crc32c.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "model/model.h"
#include "util/jsonb_build.h"

/* Write the header fields little-endian into dst (MODEL_HEADER_SIZE bytes). */
static void
header_write(const GalaxyModelHeader *h, ModelWriter *w)
{
	mw_u32(w, h->magic);
	mw_u16(w, h->format_version);
	mw_u16(w, h->algorithm);
	mw_u8(w, h->task);
	mw_u8(w, h->flags);
	mw_u16(w, h->reserved);
	mw_u32(w, h->n_features);
	mw_u32(w, h->n_inputs);
	mw_u32(w, h->n_classes);
	mw_u32(w, h->raw_size);
	mw_u32(w, h->checksum);
}

/* Read and validate the fixed header. */
void
model_read_header(const char *data, Size len, GalaxyModelHeader *h)
{
	ModelReader r;

	if (len < MODEL_HEADER_SIZE)
		mr_corrupt("value of %zu bytes is shorter than the %d-byte header", len, MODEL_HEADER_SIZE);
	mr_init(&r, data, MODEL_HEADER_SIZE);
	h->magic = mr_u32(&r);
	h->format_version = mr_u16(&r);
	h->algorithm = mr_u16(&r);
	h->task = mr_u8(&r);
	h->flags = mr_u8(&r);
	h->reserved = mr_u16(&r);
	h->n_features = mr_u32(&r);
	h->n_inputs = mr_u32(&r);
	h->n_classes = mr_u32(&r);
	h->raw_size = mr_u32(&r);
	h->checksum = mr_u32(&r);

	if (h->magic != MODEL_MAGIC)
		mr_corrupt("bad magic number 0x%08X", h->magic);
	if (h->format_version != MODEL_FORMAT_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("galaxy.model format version %u is not supported", h->format_version),
				 errdetail("This galaxy reads format version %d.", MODEL_FORMAT_VERSION)));
	if (algo_by_id(h->algorithm) == NULL)
		mr_corrupt("unknown algorithm id %u", h->algorithm);
	if (h->task < TASK_REGRESSION || h->task > TASK_CLUSTERING)
		mr_corrupt("unknown task %u", h->task);
	if ((h->flags & ~MODEL_KNOWN_FLAGS) != 0)
		mr_corrupt("unknown flags 0x%02X", h->flags);
	if (h->reserved != 0)
		mr_corrupt("reserved header bytes are not zero");
	if (h->n_features == 0 || h->n_features > MODEL_MAX_FEATURES)
		mr_corrupt("feature count %u is outside [1, %d]", h->n_features, MODEL_MAX_FEATURES);
	if (h->n_inputs == 0 || h->n_inputs > MODEL_MAX_FEATURES)
		mr_corrupt("input count %u is outside [1, %d]", h->n_inputs, MODEL_MAX_FEATURES);
	if (h->n_classes > MODEL_MAX_CLASSES ||
		(h->task == TASK_CLASSIFICATION && h->n_classes < 2))
		mr_corrupt("class count %u is invalid for the task", h->n_classes);
	if (h->raw_size == 0 || h->raw_size > MODEL_MAX_PAYLOAD)
		mr_corrupt("payload size %u is invalid", h->raw_size);
	if (!(h->flags & MODEL_FLAG_LZ4) && h->raw_size != len - MODEL_HEADER_SIZE)
		mr_corrupt("payload size %u does not match the %zu bytes stored",
				   h->raw_size, len - MODEL_HEADER_SIZE);
}

/* Serialise a model into a new varlena. */
struct varlena *
model_serialize(const GalaxyModel *m)
{
	ModelWriter payload;
	GalaxyModelHeader h;
	int			body_len;
	struct varlena *result;
	pg_crc32c	crc;

	mw_init(&payload);
	mw_tag(&payload, "PREP");
	preprocess_write(m->prep, &payload);
	mw_tag(&payload, "LABL");
	mw_str(&payload, m->label_typname);
	mw_u32(&payload, (uint32) m->n_classes);
	for (int i = 0; i < m->n_classes; i++)
		mw_str(&payload, m->labels[i]);
	mw_tag(&payload, "HPAR");
	algo_write_hyperparams(m->algo, &m->hp, &payload);
	mw_tag(&payload, "ALGO");
	m->algo->serialize(m->state, &payload);

	if ((Size) payload.buf.len > MODEL_MAX_PAYLOAD)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("model of %d bytes exceeds the galaxy.model limit of %zu bytes",
						payload.buf.len, MODEL_MAX_PAYLOAD)));

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, payload.buf.data, payload.buf.len);
	FIN_CRC32C(crc);

	memset(&h, 0, sizeof(h));
	h.magic = MODEL_MAGIC;
	h.format_version = MODEL_FORMAT_VERSION;
	h.algorithm = m->algo->id;
	h.task = (uint8) m->task;
	h.n_features = (uint32) m->n_features;
	h.n_inputs = (uint32) preprocess_n_inputs(m->prep);
	h.n_classes = (uint32) m->n_classes;
	h.raw_size = (uint32) payload.buf.len;
	h.checksum = crc;

	/*
	 * Build the value in place: header, then the payload compressed straight
	 * into the result (or copied, if compression does not pay), so a large
	 * model exists at most twice in memory while it is serialised.
	 */
	{
		int			bound = payload.buf.len > MODEL_COMPRESS_THRESHOLD ?
			LZ4_compressBound(payload.buf.len) : 0;
		Size		room = (Size) Max(bound, payload.buf.len);
		ModelWriter hdr;
		int			clen = 0;

		result = (struct varlena *) MemoryContextAllocHuge(CurrentMemoryContext,
														  VARHDRSZ + MODEL_HEADER_SIZE + room);
		if (bound > 0)
			clen = LZ4_compress_default(payload.buf.data, VARDATA(result) + MODEL_HEADER_SIZE,
										payload.buf.len, bound);
		if (clen > 0 && clen < payload.buf.len)
		{
			h.flags |= MODEL_FLAG_LZ4;
			body_len = clen;
		}
		else
		{
			memcpy(VARDATA(result) + MODEL_HEADER_SIZE, payload.buf.data, payload.buf.len);
			body_len = payload.buf.len;
		}
		pfree(payload.buf.data);

		mw_init(&hdr);
		header_write(&h, &hdr);
		Assert(hdr.buf.len == MODEL_HEADER_SIZE);
		memcpy(VARDATA(result), hdr.buf.data, MODEL_HEADER_SIZE);
		pfree(hdr.buf.data);
		SET_VARSIZE(result, VARHDRSZ + MODEL_HEADER_SIZE + body_len);
		/* give back what compression saved */
		if (room > (Size) body_len + 64 * 1024)
			result = repalloc_huge(result, VARHDRSZ + MODEL_HEADER_SIZE + body_len);
	}
	return result;
}

/* Parse and fully validate a model value. */
GalaxyModel *
model_parse(const char *data, Size len, bool verify_checksum)
{
	GalaxyModelHeader h;
	const char *payload;
	char	   *decompressed = NULL;
	ModelReader r;
	GalaxyModel *m;

	model_read_header(data, len, &h);

	if (h.flags & MODEL_FLAG_LZ4)
	{
		Size		clen = len - MODEL_HEADER_SIZE;
		int			got;

		/* LZ4 expands at most ~255:1: reject before allocating raw_size */
		if (clen == 0 || clen > (Size) LZ4_compressBound((int) h.raw_size) ||
			(Size) h.raw_size > clen * 255 + 16)
			mr_corrupt("compressed payload of %zu bytes is invalid for %u bytes", clen, h.raw_size);
		decompressed = palloc(h.raw_size);
		got = LZ4_decompress_safe(data + MODEL_HEADER_SIZE, decompressed, (int) clen, (int) h.raw_size);
		if (got != (int) h.raw_size)
			mr_corrupt("LZ4 payload does not decompress to %u bytes", h.raw_size);
		payload = decompressed;
	}
	else
		payload = data + MODEL_HEADER_SIZE;

	if (verify_checksum)
	{
		pg_crc32c	crc;

		INIT_CRC32C(crc);
		COMP_CRC32C(crc, payload, h.raw_size);
		FIN_CRC32C(crc);
		if (crc != h.checksum)
			mr_corrupt("checksum mismatch (stored %08X, computed %08X)", h.checksum, crc);
	}

	m = palloc0(sizeof(GalaxyModel));
	m->algo = algo_by_id(h.algorithm);
	m->task = (GalaxyTask) h.task;
	m->n_features = (int) h.n_features;
	m->n_classes = (int) h.n_classes;
	m->stored_size = len + VARHDRSZ;
	m->compressed = (h.flags & MODEL_FLAG_LZ4) != 0;

	if (!(m->algo->tasks & TASK_BIT(m->task)))
		mr_corrupt("algorithm %s does not support task %s", m->algo->name, galaxy_task_name(m->task));

	mr_init(&r, payload, h.raw_size);
	mr_tag(&r, "PREP");
	m->prep = preprocess_read(&r);
	if (preprocess_n_features(m->prep) != m->n_features)
		mr_corrupt("preprocessor yields %d features, header says %d",
				   preprocess_n_features(m->prep), m->n_features);
	if (preprocess_n_inputs(m->prep) != (int) h.n_inputs)
		mr_corrupt("preprocessor has %d inputs, header says %u",
				   preprocess_n_inputs(m->prep), h.n_inputs);

	mr_tag(&r, "LABL");
	m->label_typname = mr_str(&r, NAMEDATALEN * 4);
	{
		uint32		nl = mr_count(&r, MODEL_MAX_CLASSES, 4, "label");

		if ((int) nl != m->n_classes)
			mr_corrupt("%u labels stored for %d classes", nl, m->n_classes);
		m->labels = palloc0(sizeof(char *) * Max(nl, 1));
		for (uint32 i = 0; i < nl; i++)
		{
			m->labels[i] = mr_str(&r, 1024 * 1024);
			if (m->labels[i] == NULL)
				mr_corrupt("label %u is missing", i);
		}
	}

	mr_tag(&r, "HPAR");
	algo_read_hyperparams(m->algo, &r, &m->hp);

	mr_tag(&r, "ALGO");
	m->state = m->algo->deserialize(&r, m->n_features, m->n_classes, m->task);
	mr_finish(&r);

	if (decompressed)
		pfree(decompressed);
	return m;
}

/* Parse from a (possibly toasted) datum. */
GalaxyModel *
model_from_datum(Datum d)
{
	struct varlena *v = DatumGetGalaxyModelP(d);

	return model_parse(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), true);
}

/* Predict n preprocessed rows. */
void
model_predict_features(const GalaxyModel *m, const double *X, int64 n, double *out)
{
	m->algo->predict(m->state, X, n, out);
}

/* jsonb summary of a model. */
Jsonb *
model_describe(const GalaxyModel *m, const GalaxyModelHeader *h)
{
	JsonbParseState *st = NULL;
	JsonbValue *res;
	JsonbValue	k;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_kv_str(&st, "algorithm", m->algo->name);
	jb_kv_str(&st, "task", galaxy_task_name(m->task));
	jb_kv_int(&st, "format_version", h->format_version);
	jb_kv_int(&st, "n_inputs", preprocess_n_inputs(m->prep));
	jb_kv_int(&st, "n_features", m->n_features);
	jb_kv_int(&st, "n_classes", m->n_classes);
	jb_kv_int(&st, "stored_bytes", (int64) m->stored_size);
	jb_kv_int(&st, "payload_bytes", h->raw_size);
	jb_kv_str(&st, "compression", m->compressed ? "lz4" : "none");
	jb_kv_str(&st, "label_type", m->label_typname);

	k.type = jbvString;
	k.val.string.val = "labels";
	k.val.string.len = 6;
	pushJsonbValue(&st, WJB_KEY, &k);
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < m->n_classes; i++)
	{
		JsonbValue	v;

		v.type = jbvString;
		v.val.string.val = m->labels[i];
		v.val.string.len = strlen(m->labels[i]);
		pushJsonbValue(&st, WJB_ELEM, &v);
	}
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);

	jb_kv_jsonb(&st, "hyperparams", algo_hyperparams_jsonb(m->algo, &m->hp, false));
	jb_kv_jsonb(&st, "preprocess", preprocess_describe(m->prep));
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}
