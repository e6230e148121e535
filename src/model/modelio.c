/*
 * modelio.c — bounds-checked binary writer/reader for model values.
 */
#include "postgres.h"

#include <math.h>

#include "utils/memutils.h"

#include "model/modelio.h"

/* Start an empty writer in the current memory context. */
void
mw_init(ModelWriter *w)
{
	initStringInfo(&w->buf);
	w->sink = NULL;
	w->sink_arg = NULL;
	w->chunk = 0;
	w->flushed = 0;
}

/* Start a streaming writer (see modelio.h). */
void
mw_init_sink(ModelWriter *w, Size chunk, ModelSinkFn sink, void *arg)
{
	Assert(sink != NULL && chunk > 0 && chunk < MaxAllocSize);
	mw_init(w);
	enlargeStringInfo(&w->buf, (int) chunk);
	w->sink = sink;
	w->sink_arg = arg;
	w->chunk = chunk;
}

/* Hand the buffered bytes of a streaming writer to its sink. */
void
mw_flush(ModelWriter *w)
{
	if (w->sink == NULL || w->buf.len == 0)
		return;
	w->sink(w->sink_arg, w->buf.data, (Size) w->buf.len);
	w->flushed += (uint64) w->buf.len;
	w->buf.len = 0;
}

/* Append raw bytes. */
void
mw_bytes(ModelWriter *w, const void *v, Size n)
{
	const char *src = (const char *) v;

	if (n == 0)
		return;
	if (w->sink == NULL)
	{
		if (n >= (Size) (MaxAllocSize - w->buf.len))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("model value does not fit in %zu bytes", (Size) MaxAllocSize)));
		appendBinaryStringInfo(&w->buf, src, (int) n);
		return;
	}
	/* streaming: fill the chunk buffer, hand it over each time it is full */
	while (n > 0)
	{
		Size		take = Min(n, w->chunk - (Size) w->buf.len);

		memcpy(w->buf.data + w->buf.len, src, take);
		w->buf.len += (int) take;
		src += take;
		n -= take;
		if ((Size) w->buf.len == w->chunk)
			mw_flush(w);
	}
}

void
mw_u8(ModelWriter *w, uint8 v)
{
	mw_bytes(w, &v, 1);
}

void
mw_u16(ModelWriter *w, uint16 v)
{
	uint8		b[2] = {(uint8) v, (uint8) (v >> 8)};

	mw_bytes(w, b, 2);
}

void
mw_u32(ModelWriter *w, uint32 v)
{
	uint8		b[4];

	for (int i = 0; i < 4; i++)
		b[i] = (uint8) (v >> (8 * i));
	mw_bytes(w, b, 4);
}

void
mw_i32(ModelWriter *w, int32 v)
{
	mw_u32(w, (uint32) v);
}

void
mw_u64(ModelWriter *w, uint64 v)
{
	uint8		b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8) (v >> (8 * i));
	mw_bytes(w, b, 8);
}

void
mw_i64(ModelWriter *w, int64 v)
{
	mw_u64(w, (uint64) v);
}

void
mw_f64(ModelWriter *w, double v)
{
	uint64		u;

	memcpy(&u, &v, 8);
	mw_u64(w, u);
}

/* Append n doubles (the reader must know n). */
void
mw_f64s(ModelWriter *w, const double *v, Size n)
{
#ifdef WORDS_BIGENDIAN
	for (Size i = 0; i < n; i++)
		mw_f64(w, v[i]);
#else
	mw_bytes(w, v, n * sizeof(double));
#endif
}

/* Append n floats (the reader must know n). */
void
mw_f32s(ModelWriter *w, const float *v, Size n)
{
#ifdef WORDS_BIGENDIAN
	for (Size i = 0; i < n; i++)
	{
		uint32		u;

		memcpy(&u, &v[i], 4);
		mw_u32(w, u);
	}
#else
	mw_bytes(w, v, n * sizeof(float));
#endif
}

/* Append n int32s (the reader must know n). */
void
mw_i32s(ModelWriter *w, const int32 *v, Size n)
{
#ifdef WORDS_BIGENDIAN
	for (Size i = 0; i < n; i++)
		mw_i32(w, v[i]);
#else
	mw_bytes(w, v, n * sizeof(int32));
#endif
}

/* Append a length-prefixed string; NULL is written as length 0xFFFFFFFF. */
void
mw_str(ModelWriter *w, const char *s)
{
	if (s == NULL)
	{
		mw_u32(w, PG_UINT32_MAX);
		return;
	}
	mw_u32(w, (uint32) strlen(s));
	mw_bytes(w, s, strlen(s));
}

void
mw_tag(ModelWriter *w, const char tag[4])
{
	mw_bytes(w, tag, 4);
}

/* Start reading 'len' bytes at 'data'. */
void
mr_init(ModelReader *r, const char *data, Size len)
{
	r->data = data;
	r->len = len;
	r->pos = 0;
	r->format = 1;
}

/* Raise the corrupted-model error. */
void
mr_corrupt(const char *fmt,...)
{
	char		msg[256];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("corrupted galaxy.model: %s", msg)));
	pg_unreachable();
}

/* Check that n more bytes can be read. */
static inline void
mr_need(ModelReader *r, Size n)
{
	if (n > r->len - r->pos)
		mr_corrupt("value truncated at byte %zu (needs %zu more, %zu left)",
				   r->pos, n, r->len - r->pos);
}

void
mr_bytes(ModelReader *r, void *dst, Size n)
{
	mr_need(r, n);
	if (n > 0)
		memcpy(dst, r->data + r->pos, n);
	r->pos += n;
}

uint8
mr_u8(ModelReader *r)
{
	uint8		v;

	mr_bytes(r, &v, 1);
	return v;
}

uint16
mr_u16(ModelReader *r)
{
	uint8		b[2];

	mr_bytes(r, b, 2);
	return (uint16) (b[0] | (b[1] << 8));
}

uint32
mr_u32(ModelReader *r)
{
	uint8		b[4];
	uint32		v = 0;

	mr_bytes(r, b, 4);
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

int32
mr_i32(ModelReader *r)
{
	return (int32) mr_u32(r);
}

uint64
mr_u64(ModelReader *r)
{
	uint8		b[8];
	uint64		v = 0;

	mr_bytes(r, b, 8);
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

int64
mr_i64(ModelReader *r)
{
	return (int64) mr_u64(r);
}

double
mr_f64(ModelReader *r)
{
	uint64		u = mr_u64(r);
	double		v;

	memcpy(&v, &u, 8);
	return v;
}

/* A finite double; NaN or infinity means corruption. */
double
mr_f64_finite(ModelReader *r, const char *what)
{
	double		v = mr_f64(r);

	if (!isfinite(v))
		mr_corrupt("%s is not finite", what);
	return v;
}

/* Read a count and check it against a maximum and the bytes left. */
uint32
mr_count(ModelReader *r, uint32 max, Size elem_size, const char *what)
{
	uint32		n = mr_u32(r);

	if (n > max)
		mr_corrupt("%s count %u exceeds the limit %u", what, n, max);
	if (elem_size > 0 && (Size) n > mr_remaining(r) / elem_size)
		mr_corrupt("%s count %u does not fit in the %zu bytes left", what, n, mr_remaining(r));
	return n;
}

/* An int32 within [lo, hi]. */
int32
mr_i32_range(ModelReader *r, int32 lo, int32 hi, const char *what)
{
	int32		v = mr_i32(r);

	if (v < lo || v > hi)
		mr_corrupt("%s %d is outside [%d, %d]", what, v, lo, hi);
	return v;
}

void
mr_f64s(ModelReader *r, double *dst, Size n)
{
	if (n > mr_remaining(r) / sizeof(double))
		mr_corrupt("array of %zu doubles truncated", n);
#ifdef WORDS_BIGENDIAN
	for (Size i = 0; i < n; i++)
		dst[i] = mr_f64(r);
#else
	mr_bytes(r, dst, n * sizeof(double));
#endif
}

void
mr_f32s(ModelReader *r, float *dst, Size n)
{
	if (n > mr_remaining(r) / sizeof(float))
		mr_corrupt("array of %zu floats truncated", n);
#ifdef WORDS_BIGENDIAN
	for (Size i = 0; i < n; i++)
	{
		uint32		u = mr_u32(r);

		memcpy(&dst[i], &u, 4);
	}
#else
	mr_bytes(r, dst, n * sizeof(float));
#endif
}

void
mr_i32s(ModelReader *r, int32 *dst, Size n)
{
	if (n > mr_remaining(r) / sizeof(int32))
		mr_corrupt("array of %zu integers truncated", n);
#ifdef WORDS_BIGENDIAN
	for (Size i = 0; i < n; i++)
		dst[i] = mr_i32(r);
#else
	mr_bytes(r, dst, n * sizeof(int32));
#endif
}

/* A length-prefixed string, at most max_len bytes, without embedded NULs. */
char *
mr_str(ModelReader *r, Size max_len)
{
	uint32		n = mr_u32(r);
	char	   *s;

	if (n == PG_UINT32_MAX)
		return NULL;
	if (n > max_len)
		mr_corrupt("string of %u bytes exceeds the limit %zu", n, max_len);
	mr_need(r, n);
	if (memchr(r->data + r->pos, '\0', n) != NULL)
		mr_corrupt("string contains a NUL byte");
	s = palloc(n + 1);
	mr_bytes(r, s, n);
	s[n] = '\0';
	return s;
}

void
mr_tag(ModelReader *r, const char tag[4])
{
	char		got[4];

	mr_bytes(r, got, 4);
	if (memcmp(got, tag, 4) != 0)
		mr_corrupt("expected section \"%.4s\" at byte %zu", tag, r->pos - 4);
}

/* Whether the next four bytes are a given tag; see modelio.h. */
bool
mr_peek_tag(const ModelReader *r, const char tag[4])
{
	return r->len - r->pos >= 4 && memcmp(r->data + r->pos, tag, 4) == 0;
}

/* Require that nothing is left unread. */
void
mr_finish(ModelReader *r)
{
	if (r->pos != r->len)
		mr_corrupt("%zu trailing bytes", r->len - r->pos);
}
