/*
 * pg_shim.c — the few PostgreSQL backend services that galaxy's model reader
 * needs, for running the real reader code outside a server under libFuzzer.
 *
 *   memory:  palloc and friends are malloc-backed and tracked in one list, so
 *            the harness frees everything an input allocated (shim_free_all);
 *            MaxAllocSize is enforced exactly as in the backend.
 *   errors:  ereport/elog(ERROR) record the SQLSTATE and message and
 *            siglongjmp to PG_exception_stack, like the backend's PG_TRY;
 *            FATAL and PANIC abort (a reader must never raise them).
 *   misc:    CurrentMemoryContext, interrupts (never pending), detoasting
 *            (values are never toasted here), pq_getmsgbytes,
 *            DirectFunctionCallN.
 *
 * jsonb and numeric (jsonb_in, iterators, numeric_float8...) are in
 * jsonb_shim.c.
 *
 * CRC-32C, base64, StringInfo and snprintf come from PostgreSQL's own
 * libpgport.a / libpgcommon.a.  Every other backend function the compiled
 * files reference gets a generated stub (gen_stubs.sh) that aborts with its
 * name if it is ever reached.
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "pg_shim.h"

/* ---------------------------------------------------------------------
 * Memory
 * --------------------------------------------------------------------- */

typedef struct ShimChunk
{
	struct ShimChunk *prev;
	struct ShimChunk *next;
	Size		size;
	Size		pad;			/* keeps the user pointer 16-byte aligned */
} ShimChunk;

static ShimChunk shim_chunks = {&shim_chunks, &shim_chunks, 0, 0};
static Size shim_live_bytes = 0;

/* A dummy context: every allocation goes to the one tracked list. */
static MemoryContextData shim_context;
MemoryContext CurrentMemoryContext = &shim_context;
MemoryContext TopMemoryContext = &shim_context;
MemoryContext ErrorContext = &shim_context;

/* Link a fresh chunk into the list. */
static void *
shim_link(ShimChunk *c, Size size)
{
	c->size = size;
	c->next = shim_chunks.next;
	c->prev = &shim_chunks;
	shim_chunks.next->prev = c;
	shim_chunks.next = c;
	shim_live_bytes += size;
	return (char *) c + sizeof(ShimChunk);
}

/* Unlink a chunk from the list. */
static ShimChunk *
shim_unlink(void *pointer)
{
	ShimChunk  *c = (ShimChunk *) ((char *) pointer - sizeof(ShimChunk));

	c->prev->next = c->next;
	c->next->prev = c->prev;
	shim_live_bytes -= c->size;
	return c;
}

/* The allocator behind every palloc variant. */
static void *
shim_alloc(Size size, int flags)
{
	ShimChunk  *c;

	if (!(flags & MCXT_ALLOC_HUGE) ? !AllocSizeIsValid(size) : !AllocHugeSizeIsValid(size))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	c = malloc(sizeof(ShimChunk) + size);
	if (c == NULL)
	{
		if (flags & MCXT_ALLOC_NO_OOM)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Failed on request of size %zu.", size)));
	}
	if (flags & MCXT_ALLOC_ZERO)
		memset((char *) c + sizeof(ShimChunk), 0, size);
	return shim_link(c, size);
}

/* Free every allocation still live (end of one fuzz input). */
void
shim_free_all(void)
{
	while (shim_chunks.next != &shim_chunks)
	{
		ShimChunk  *c = shim_chunks.next;

		shim_unlink((char *) c + sizeof(ShimChunk));
		free(c);
	}
	shim_live_bytes = 0;
}

/* Bytes currently allocated through palloc. */
Size
shim_allocated_bytes(void)
{
	return shim_live_bytes;
}

void *
palloc(Size size)
{
	return shim_alloc(size, 0);
}

void *
palloc0(Size size)
{
	return shim_alloc(size, MCXT_ALLOC_ZERO);
}

void *
palloc_extended(Size size, int flags)
{
	return shim_alloc(size, flags);
}

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return shim_alloc(size, 0);
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return shim_alloc(size, MCXT_ALLOC_ZERO);
}

void *
MemoryContextAllocZeroAligned(MemoryContext context, Size size)
{
	return shim_alloc(size, MCXT_ALLOC_ZERO);
}

void *
MemoryContextAllocExtended(MemoryContext context, Size size, int flags)
{
	return shim_alloc(size, flags);
}

void *
MemoryContextAllocHuge(MemoryContext context, Size size)
{
	return shim_alloc(size, MCXT_ALLOC_HUGE);
}

/* repalloc with the backend's size rules. */
static void *
shim_realloc(void *pointer, Size size, int flags)
{
	ShimChunk  *c;
	ShimChunk  *n;

	if (!(flags & MCXT_ALLOC_HUGE) ? !AllocSizeIsValid(size) : !AllocHugeSizeIsValid(size))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	c = shim_unlink(pointer);
	n = realloc(c, sizeof(ShimChunk) + size);
	if (n == NULL)
	{
		shim_link(c, c->size);
		if (flags & MCXT_ALLOC_NO_OOM)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	}
	return shim_link(n, size);
}

void *
repalloc(void *pointer, Size size)
{
	return shim_realloc(pointer, size, 0);
}

void *
repalloc_extended(void *pointer, Size size, int flags)
{
	return shim_realloc(pointer, size, flags);
}

void *
repalloc_huge(void *pointer, Size size)
{
	return shim_realloc(pointer, size, MCXT_ALLOC_HUGE);
}

void
pfree(void *pointer)
{
	free(shim_unlink(pointer));
}

/* Size arithmetic that errors on overflow, as in the backend. */
Size
add_size(Size s1, Size s2)
{
	Size		result = s1 + s2;

	if (result < s1 || result < s2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("requested shared memory size overflows size_t")));
	return result;
}

Size
mul_size(Size s1, Size s2)
{
	Size		result;

	if (s1 == 0 || s2 == 0)
		return 0;
	result = s1 * s2;
	if (result / s2 != s1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("requested shared memory size overflows size_t")));
	return result;
}

void *
palloc_mul(Size s1, Size s2)
{
	return shim_alloc(mul_size(s1, s2), 0);
}

void *
palloc0_mul(Size s1, Size s2)
{
	return shim_alloc(mul_size(s1, s2), MCXT_ALLOC_ZERO);
}

void *
palloc_mul_extended(Size s1, Size s2, int flags)
{
	return shim_alloc(mul_size(s1, s2), flags);
}

void *
repalloc_mul(void *p, Size s1, Size s2)
{
	return shim_realloc(p, mul_size(s1, s2), 0);
}

void *
repalloc_mul_extended(void *p, Size s1, Size s2, int flags)
{
	return shim_realloc(p, mul_size(s1, s2), flags);
}

char *
pstrdup(const char *in)
{
	return pnstrdup(in, strlen(in));
}

char *
pnstrdup(const char *in, Size len)
{
	char	   *out;

	len = strnlen(in, len);
	out = shim_alloc(len + 1, 0);
	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

char *
MemoryContextStrdup(MemoryContext context, const char *string)
{
	return pstrdup(string);
}

/* Contexts: one flat pool, so creating/resetting/deleting is bookkeeping only. */
MemoryContext
AllocSetContextCreateInternal(MemoryContext parent, const char *name,
							  Size minContextSize, Size initBlockSize, Size maxBlockSize)
{
	return &shim_context;
}

void
MemoryContextReset(MemoryContext context)
{
}

void
MemoryContextDelete(MemoryContext context)
{
}

void
MemoryContextResetOnly(MemoryContext context)
{
}

/* ---------------------------------------------------------------------
 * Errors
 * --------------------------------------------------------------------- */

sigjmp_buf *PG_exception_stack = NULL;
ErrorContextCallback *error_context_stack = NULL;

static int	shim_elevel;
static int	shim_sqlstate;
static char shim_message[1024];
static char shim_detail[1024];
static int	shim_error_count;

/* Start an error report; only ERROR and above are kept. */
bool
errstart(int elevel, const char *domain)
{
	if (elevel < ERROR)
		return false;
	shim_elevel = elevel;
	shim_sqlstate = (elevel >= ERROR) ? ERRCODE_INTERNAL_ERROR : 0;
	shim_message[0] = '\0';
	shim_detail[0] = '\0';
	return true;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

/* Finish an error report: jump back to the harness. */
void
errfinish(const char *filename, int lineno, const char *funcname)
{
	if (shim_elevel >= FATAL)
	{
		fprintf(stderr, "pg_shim: %s raised from %s:%d (%s): %s\n",
				shim_elevel == FATAL ? "FATAL" : "PANIC", filename, lineno, funcname, shim_message);
		abort();
	}
	if (PG_exception_stack == NULL)
	{
		fprintf(stderr, "pg_shim: ERROR outside of the harness at %s:%d: %s\n",
				filename, lineno, shim_message);
		abort();
	}
	shim_error_count++;
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "ERROR %s: %s (%s:%d)\n", unpack_sql_state(shim_sqlstate),
				shim_message, filename, lineno);
	siglongjmp(*PG_exception_stack, 1);
}

void
pg_re_throw(void)
{
	if (PG_exception_stack == NULL)
		abort();
	siglongjmp(*PG_exception_stack, 1);
}

/* Forget the current error (after PG_CATCH). */
void
FlushErrorState(void)
{
	shim_sqlstate = 0;
	shim_message[0] = '\0';
}

int
errcode(int sqlerrcode)
{
	shim_sqlstate = sqlerrcode;
	return 0;
}

/* Format into one of the message buffers. */
static void
shim_format(char *buf, Size size, const char *fmt, va_list ap)
{
	vsnprintf(buf, size, fmt, ap);
}

int
errmsg(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	shim_format(shim_message, sizeof(shim_message), fmt, ap);
	va_end(ap);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	shim_format(shim_message, sizeof(shim_message), fmt, ap);
	va_end(ap);
	return 0;
}

int
errmsg_plural(const char *fmt_singular, const char *fmt_plural, unsigned long n,...)
{
	va_list		ap;

	va_start(ap, n);
	shim_format(shim_message, sizeof(shim_message), n == 1 ? fmt_singular : fmt_plural, ap);
	va_end(ap);
	return 0;
}

int
errdetail(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	shim_format(shim_detail, sizeof(shim_detail), fmt, ap);
	va_end(ap);
	return 0;
}

int
errdetail_internal(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	shim_format(shim_detail, sizeof(shim_detail), fmt, ap);
	va_end(ap);
	return 0;
}

int
errdetail_plural(const char *fmt_singular, const char *fmt_plural, unsigned long n,...)
{
	va_list		ap;

	va_start(ap, n);
	shim_format(shim_detail, sizeof(shim_detail), n == 1 ? fmt_singular : fmt_plural, ap);
	va_end(ap);
	return 0;
}

int
errhint(const char *fmt,...)
{
	char		buf[1024];
	va_list		ap;

	va_start(ap, fmt);
	shim_format(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return 0;
}

int
errcontext_msg(const char *fmt,...)
{
	char		buf[1024];
	va_list		ap;

	va_start(ap, fmt);
	shim_format(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return 0;
}

int
set_errcontext_domain(const char *domain)
{
	return 0;
}

int
errhidestmt(bool hide_stmt)
{
	return 0;
}

int
errhidecontext(bool hide_ctx)
{
	return 0;
}

/* Five-character text of a SQLSTATE (the backend's, in elog.c). */
char *
unpack_sql_state(int sql_state)
{
	static char buf[12];

	for (int i = 0; i < 5; i++)
	{
		buf[i] = PGUNSIXBIT(sql_state);
		sql_state >>= 6;
	}
	buf[5] = '\0';
	return buf;
}

/* SQLSTATE of the last ERROR. */
int
shim_last_sqlstate(void)
{
	return shim_sqlstate;
}

/* Message of the last ERROR. */
const char *
shim_last_message(void)
{
	return shim_message;
}

/* ---------------------------------------------------------------------
 * Everything else the reader touches
 * --------------------------------------------------------------------- */

volatile sig_atomic_t InterruptPending = false;
volatile sig_atomic_t QueryCancelPending = false;
volatile uint32 InterruptHoldoffCount = 0;
volatile uint32 QueryCancelHoldoffCount = 0;
volatile uint32 CritSectionCount = 0;
bool		process_shared_preload_libraries_in_progress = false;

/* Interrupts are never pending here. */
void
ProcessInterrupts(void)
{
}

/* Values built by the harness are plain 4-byte-header varlenas. */
struct varlena *
pg_detoast_datum(struct varlena *datum)
{
	if (VARATT_IS_EXTENDED(datum))
	{
		fprintf(stderr, "pg_shim: unexpected toasted or short-header value\n");
		abort();
	}
	return datum;
}

struct varlena *
pg_detoast_datum_packed(struct varlena *datum)
{
	return datum;
}

/* The backend's pq_getmsgbytes: bounds-checked read from a message. */
const char *
pq_getmsgbytes(StringInfo msg, int datalen)
{
	const char *result;

	if (datalen < 0 || datalen > (msg->len - msg->cursor))
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("insufficient data left in message")));
	result = &msg->data[msg->cursor];
	msg->cursor += datalen;
	return result;
}

/* Direct calls of fmgr functions (numeric and jsonb I/O in jsonb_shim.c). */
static Datum
shim_direct_call(PGFunction func, Oid collation, int nargs, Datum a1, Datum a2, Datum a3)
{
	LOCAL_FCINFO(fcinfo, 3);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, NULL, nargs, collation, NULL, NULL);
	fcinfo->args[0].value = a1;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = a2;
	fcinfo->args[1].isnull = false;
	fcinfo->args[2].value = a3;
	fcinfo->args[2].isnull = false;
	result = (*func) (fcinfo);
	if (fcinfo->isnull)
		elog(ERROR, "function %p returned NULL", (void *) func);
	return result;
}

Datum
DirectFunctionCall1Coll(PGFunction func, Oid collation, Datum arg1)
{
	return shim_direct_call(func, collation, 1, arg1, (Datum) 0, (Datum) 0);
}

Datum
DirectFunctionCall2Coll(PGFunction func, Oid collation, Datum arg1, Datum arg2)
{
	return shim_direct_call(func, collation, 2, arg1, arg2, (Datum) 0);
}

Datum
DirectFunctionCall3Coll(PGFunction func, Oid collation, Datum arg1, Datum arg2, Datum arg3)
{
	return shim_direct_call(func, collation, 3, arg1, arg2, arg3);
}

/* Called by the generated stubs: a backend function was reached. */
void
shim_unreachable(const char *name)
{
	fprintf(stderr, "pg_shim: the reader called %s(), which the fuzz shim does not provide\n", name);
	abort();
}
