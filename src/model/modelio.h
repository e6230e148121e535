/*
 * modelio.h — ModelWriter / ModelReader: the one byte format every part of a
 * model (schema, preprocessor, labels, algorithm state) serialises through.
 *
 * All values are little-endian, fixed width.  Every read is bounds-checked:
 * a short, corrupted or hostile buffer raises
 * ERRCODE_DATA_CORRUPTED ("corrupted galaxy.model: ..."), never reads out of
 * bounds.  Counts read from the buffer must be validated with
 * mr_count(), which rejects counts that cannot fit in the bytes left.
 */
#ifndef GALAXY_MODELIO_H
#define GALAXY_MODELIO_H

#include "lib/stringinfo.h"

/*
 * Where a streaming writer hands its bytes: called with every full chunk, in
 * order, and with the last partial chunk by mw_flush().
 */
typedef void (*ModelSinkFn) (void *arg, const char *data, Size len);

typedef struct ModelWriter
{
	StringInfoData buf;			/* every byte; with a sink, the unflushed ones */
	ModelSinkFn sink;			/* NULL: keep everything in buf */
	void	   *sink_arg;
	Size		chunk;			/* with a sink: bytes handed over at a time */
	uint64		flushed;		/* bytes already handed to the sink */
} ModelWriter;

typedef struct ModelReader
{
	const char *data;
	Size		len;
	Size		pos;
	uint16		format;			/* the model's format version (mr_init: 1) */
} ModelReader;

extern void mw_init(ModelWriter *w);

/*
 * A streaming writer: bytes are collected in a buffer of 'chunk' bytes and
 * handed to 'sink' whenever it fills, so a large model is never held twice.
 * Call mw_flush() after the last write.
 */
extern void mw_init_sink(ModelWriter *w, Size chunk, ModelSinkFn sink, void *arg);
extern void mw_flush(ModelWriter *w);
/* Bytes written so far (flushed or not). */
static inline uint64
mw_size(const ModelWriter *w)
{
	return w->flushed + (uint64) w->buf.len;
}
extern void mw_u8(ModelWriter *w, uint8 v);
extern void mw_u16(ModelWriter *w, uint16 v);
extern void mw_u32(ModelWriter *w, uint32 v);
extern void mw_i32(ModelWriter *w, int32 v);
extern void mw_u64(ModelWriter *w, uint64 v);
extern void mw_i64(ModelWriter *w, int64 v);
extern void mw_f64(ModelWriter *w, double v);
extern void mw_f64s(ModelWriter *w, const double *v, Size n);	/* raw, no count */
extern void mw_f32s(ModelWriter *w, const float *v, Size n);	/* raw, no count */
extern void mw_i32s(ModelWriter *w, const int32 *v, Size n); /* raw, no count */
extern void mw_bytes(ModelWriter *w, const void *v, Size n); /* raw, no count */
extern void mw_str(ModelWriter *w, const char *s);	/* u32 length + bytes, NULL allowed */
/* Section tag: a 4-byte marker the reader checks, to catch misaligned readers early. */
extern void mw_tag(ModelWriter *w, const char tag[4]);

extern void mr_init(ModelReader *r, const char *data, Size len);
extern void mr_corrupt(const char *fmt,...) pg_attribute_printf(1, 2) pg_attribute_noreturn();
extern uint8 mr_u8(ModelReader *r);
extern uint16 mr_u16(ModelReader *r);
extern uint32 mr_u32(ModelReader *r);
extern int32 mr_i32(ModelReader *r);
extern uint64 mr_u64(ModelReader *r);
extern int64 mr_i64(ModelReader *r);
extern double mr_f64(ModelReader *r);
/* A finite double (rejects NaN/Inf). */
extern double mr_f64_finite(ModelReader *r, const char *what);
/* Read a count, check 0 <= count <= max and that count*elem_size bytes remain. */
extern uint32 mr_count(ModelReader *r, uint32 max, Size elem_size, const char *what);
/* An int32 that must lie in [lo, hi]. */
extern int32 mr_i32_range(ModelReader *r, int32 lo, int32 hi, const char *what);
extern void mr_f64s(ModelReader *r, double *dst, Size n);
extern void mr_f32s(ModelReader *r, float *dst, Size n);
extern void mr_i32s(ModelReader *r, int32 *dst, Size n);
extern void mr_bytes(ModelReader *r, void *dst, Size n);
/* palloc'd NUL-terminated string (NULL if written as NULL); max bytes enforced. */
extern char *mr_str(ModelReader *r, Size max_len);
extern void mr_tag(ModelReader *r, const char tag[4]);
/* Whether the next bytes are the section tag 'tag' (nothing is consumed). */
extern bool mr_peek_tag(const ModelReader *r, const char tag[4]);
/* Bytes not yet read. */
static inline Size
mr_remaining(const ModelReader *r)
{
	return r->len - r->pos;
}
/* Require that the whole buffer was consumed. */
extern void mr_finish(ModelReader *r);

#endif							/* GALAXY_MODELIO_H */
