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
	if (h->format_version < MODEL_FORMAT_VERSION || h->format_version > MODEL_FORMAT_QUANT)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("galaxy.model format version %u is not supported", h->format_version),
				 errdetail("This galaxy reads format versions %d to %d.",
						   MODEL_FORMAT_VERSION, MODEL_FORMAT_QUANT)));
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

/* Write the payload sections of a model. */
static void
payload_write(const GalaxyModel *m, ModelWriter *w)
{
	mw_tag(w, "PREP");
	preprocess_write(m->prep, w);
	mw_tag(w, "LABL");
	mw_str(w, m->label_typname);
	mw_u32(w, (uint32) m->n_classes);
	for (int i = 0; i < m->n_classes; i++)
		mw_str(w, m->labels[i]);
	mw_tag(w, "HPAR");
	algo_write_hyperparams(m->algo, &m->hp, w);
	mw_tag(w, "ALGO");
	m->algo->serialize(m->state, w);
	mw_flush(w);
}

/* Bytes the first pass collects before handing them to count_sink. */
#define MODEL_COUNT_CHUNK	(64 * 1024)

/* First pass: the payload's size and checksum, without keeping its bytes. */
typedef struct CountSink
{
	uint64		size;
	pg_crc32c	crc;
} CountSink;

static void
count_sink(void *arg, const char *data, Size len)
{
	CountSink  *cs = (CountSink *) arg;

	cs->size += len;
	if (cs->size > MODEL_MAX_PAYLOAD)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("model exceeds the galaxy.model limit of %zu bytes", MODEL_MAX_PAYLOAD),
				 errhint("Train a smaller model (fewer or shallower trees).")));
	COMP_CRC32C(cs->crc, data, len);
}

/* Second pass: the payload into its place in the value, stored or compressed. */
typedef struct BodySink
{
	char	   *out;			/* body of the value */
	Size		cap;			/* bytes available at out */
	Size		used;
	LZ4_stream_t *lz4;			/* NULL: store the bytes as they are */
	char	   *dict;			/* the last MODEL_LZ4_DICT bytes compressed */
} BodySink;

static void
body_sink(void *arg, const char *data, Size len)
{
	BodySink   *bs = (BodySink *) arg;

	if (bs->lz4 == NULL)
	{
		if (len > bs->cap - bs->used)
			elog(ERROR, "galaxy.model payload outgrew its first pass");
		memcpy(bs->out + bs->used, data, len);
		bs->used += len;
	}
	else
	{
		int			clen;

		if (len > MODEL_LZ4_BLOCK || bs->cap - bs->used < 4 + (Size) LZ4_COMPRESSBOUND(len))
			elog(ERROR, "galaxy.model payload outgrew its first pass");
		clen = LZ4_compress_fast_continue(bs->lz4, data, bs->out + bs->used + 4, (int) len,
										  LZ4_COMPRESSBOUND(len), 1);
		if (clen <= 0)
			elog(ERROR, "LZ4 compression of a galaxy.model block failed");
		for (int i = 0; i < 4; i++)
			bs->out[bs->used + i] = (char) (((uint32) clen >> (8 * i)) & 0xFF);
		bs->used += 4 + (Size) clen;
		/* the next block may refer back to this one: keep its tail */
		LZ4_saveDict(bs->lz4, bs->dict, MODEL_LZ4_DICT);
	}
}

/* Largest body a payload of raw bytes compresses to, framing included. */
static Size
lz4_body_bound(Size raw)
{
	Size		full = raw / MODEL_LZ4_BLOCK;
	Size		rest = raw % MODEL_LZ4_BLOCK;

	return full * (4 + (Size) LZ4_COMPRESSBOUND(MODEL_LZ4_BLOCK)) +
		(rest > 0 ? 4 + (Size) LZ4_COMPRESSBOUND(rest) : 0);
}

/* Write the payload once more into bs (stored or compressed). */
static void
body_write(const GalaxyModel *m, BodySink *bs)
{
	ModelWriter w;

	bs->used = 0;
	mw_init_sink(&w, MODEL_LZ4_BLOCK, body_sink, bs);
	payload_write(m, &w);
	pfree(w.buf.data);
}

/*
 * Serialise a model into a new varlena.
 *
 * The payload is written twice through streaming writers: once to learn its
 * size and checksum, once straight into the value (compressed block by block
 * when it is large).  Nothing but the finished value and a block-sized buffer
 * is allocated, so a large model exists only in its in-memory form and its
 * stored form while it is serialised.
 */
struct varlena *
model_serialize(const GalaxyModel *m)
{
	ModelWriter w;
	CountSink	cs;
	BodySink	bs;
	GalaxyModelHeader h;
	struct varlena *result;
	ModelWriter hdr;
	Size		room;

	cs.size = 0;
	INIT_CRC32C(cs.crc);
	/* counting needs no block-sized buffer: the bytes only pass through the CRC */
	mw_init_sink(&w, MODEL_COUNT_CHUNK, count_sink, &cs);
	payload_write(m, &w);
	pfree(w.buf.data);
	FIN_CRC32C(cs.crc);

	memset(&h, 0, sizeof(h));
	h.magic = MODEL_MAGIC;
	h.format_version = m->format == MODEL_FORMAT_QUANT ? MODEL_FORMAT_QUANT : MODEL_FORMAT_VERSION;
	h.algorithm = m->algo->id;
	h.task = (uint8) m->task;
	h.n_features = (uint32) m->n_features;
	h.n_inputs = (uint32) preprocess_n_inputs(m->prep);
	h.n_classes = (uint32) m->n_classes;
	h.raw_size = (uint32) cs.size;
	h.checksum = cs.crc;

	memset(&bs, 0, sizeof(bs));
	room = cs.size > MODEL_COMPRESS_THRESHOLD ? lz4_body_bound(cs.size) : cs.size;
	result = (struct varlena *) MemoryContextAllocHuge(CurrentMemoryContext,
													  VARHDRSZ + MODEL_HEADER_SIZE + room);
	bs.out = VARDATA(result) + MODEL_HEADER_SIZE;
	bs.cap = room;
	if (cs.size > MODEL_COMPRESS_THRESHOLD)
	{
		bs.lz4 = LZ4_initStream(palloc(sizeof(LZ4_stream_t)), sizeof(LZ4_stream_t));
		bs.dict = palloc(MODEL_LZ4_DICT);
		if (bs.lz4 == NULL)
			elog(ERROR, "could not initialise an LZ4 stream");
		body_write(m, &bs);
		pfree(bs.lz4);
		pfree(bs.dict);
		bs.lz4 = NULL;
		if (bs.used < cs.size)
			h.flags |= MODEL_FLAG_LZ4;
		else
			body_write(m, &bs); /* compression did not pay: store as is */
	}
	else
		body_write(m, &bs);
	if (!(h.flags & MODEL_FLAG_LZ4) && bs.used != cs.size)
		elog(ERROR, "galaxy.model payload changed between passes");

	mw_init(&hdr);
	header_write(&h, &hdr);
	Assert(hdr.buf.len == MODEL_HEADER_SIZE);
	memcpy(VARDATA(result), hdr.buf.data, MODEL_HEADER_SIZE);
	pfree(hdr.buf.data);
	SET_VARSIZE(result, VARHDRSZ + MODEL_HEADER_SIZE + bs.used);
	/* give back what compression saved */
	if (room > bs.used + 64 * 1024)
		result = repalloc_huge(result, VARHDRSZ + MODEL_HEADER_SIZE + bs.used);
	return result;
}

/*
 * Decompress a body of LZ4 blocks (u32 compressed length, then the block;
 * each block may refer back into the bytes before it) into raw_size bytes.
 */
static char *
lz4_body_read(const char *body, Size len, uint32 raw_size)
{
	char	   *raw;
	Size		pos = 0;
	Size		produced = 0;

	/* LZ4 expands at most ~255:1: reject before allocating raw_size */
	if (len < 5 || len > lz4_body_bound(raw_size) || (Size) raw_size > len * 255 + 16)
		mr_corrupt("compressed payload of %zu bytes is invalid for %u bytes", len, raw_size);
	raw = palloc(raw_size);
	while (pos < len)
	{
		uint32		clen;
		Size		back;
		int			got;

		if (len - pos < 4)
			mr_corrupt("LZ4 block header truncated at byte %zu", pos);
		clen = (uint32) (uint8) body[pos] |
			((uint32) (uint8) body[pos + 1] << 8) |
			((uint32) (uint8) body[pos + 2] << 16) |
			((uint32) (uint8) body[pos + 3] << 24);
		pos += 4;
		if (clen == 0 || clen > len - pos || clen > (uint32) LZ4_COMPRESSBOUND(MODEL_LZ4_BLOCK))
			mr_corrupt("LZ4 block of %u bytes at byte %zu is invalid", clen, pos - 4);
		if (produced == raw_size)
			mr_corrupt("LZ4 blocks continue past %u bytes", raw_size);
		back = Min(produced, (Size) MODEL_LZ4_DICT);
		got = LZ4_decompress_safe_usingDict(body + pos, raw + produced, (int) clen,
											(int) Min((Size) (raw_size - produced), (Size) MODEL_LZ4_BLOCK),
											raw + produced - back, (int) back);
		if (got <= 0)
			mr_corrupt("LZ4 block at byte %zu does not decompress", pos - 4);
		produced += (Size) got;
		pos += clen;
	}
	if (produced != raw_size)
		mr_corrupt("LZ4 payload decompresses to %zu bytes, header says %u", produced, raw_size);
	return raw;
}

/*
 * Parse and fully validate a model value.  'release', when not NULL, is the
 * palloc'd block that holds data: it is freed as soon as nothing needs it
 * (once a compressed value is decompressed, before the parse), so a large
 * model is never held compressed, decompressed and parsed at once.  The
 * parsed model never points into its input (every reader copies).
 */
static GalaxyModel *
model_parse_release(const char *data, Size len, bool verify_checksum, void *release)
{
	GalaxyModelHeader h;
	const char *payload;
	char	   *decompressed = NULL;
	ModelReader r;
	GalaxyModel *m;

	model_read_header(data, len, &h);

	if (h.flags & MODEL_FLAG_LZ4)
	{
		decompressed = lz4_body_read(data + MODEL_HEADER_SIZE, len - MODEL_HEADER_SIZE, h.raw_size);
		payload = decompressed;
		if (release)
		{
			pfree(release);
			release = NULL;
			data = NULL;
		}
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
	m->format = h.format_version;

	if (!(m->algo->tasks & TASK_BIT(m->task)))
		mr_corrupt("algorithm %s does not support task %s", m->algo->name, galaxy_task_name(m->task));

	mr_init(&r, payload, h.raw_size);
	r.format = h.format_version;
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
	if (release)
		pfree(release);
	return m;
}

/* Parse and fully validate a model value (data stays the caller's). */
GalaxyModel *
model_parse(const char *data, Size len, bool verify_checksum)
{
	return model_parse_release(data, len, verify_checksum, NULL);
}

/*
 * Parse from a (possibly toasted) datum.  A detoasted copy is freed as soon
 * as it is decompressed: it used to stay beside the parsed model, in the
 * cached model's memory, for as long as the backend kept the model.
 */
GalaxyModel *
model_from_datum(Datum d)
{
	struct varlena *v = DatumGetGalaxyModelP(d);

	return model_parse_release(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), true,
							   (Pointer) v != DatumGetPointer(d) ? v : NULL);
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
	if (m->algo->describe)
		m->algo->describe(m->state, m->prep, &st);
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}
