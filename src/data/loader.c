/*
 * loader.c — read a relation, as the calling role, into a Dataset: a dense
 * row-major float64 matrix of raw input slots plus a label vector.
 *
 * Plain tables and materialised views without row-level security are read
 * with a direct table scan (no executor, no SPI); views, partitioned tables,
 * foreign tables and tables with RLS go through SPI with a cursor, so the
 * planner applies policies, security barriers and partition pruning.  Both
 * paths feed the same per-row code.  Memory is checked against
 * galaxy.max_training_memory before every allocation of the matrix.
 *
 * For an algorithm that bins its features (LoadOptions.max_bins), a large
 * plain heap table with numeric features only is loaded as bin codes
 * instead, one byte per value: a first pass reads a seeded sample of its
 * blocks, keeps their rows' raw values and places every raw slot's bin
 * edges on them, then the scan codes every value, a chunk of rows at a
 * time (on a second thread, while it reads the next chunk, when
 * galaxy.threads allows; see DatasetBins in dataset.h).
 */
#include "postgres.h"

#include <math.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "port/pg_crc32c.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"

#include "galaxy.h"
#include "data/data_internal.h"
#include "data/dataset.h"
#include "util/shared_pages.h"
#include "util/threads.h"
#include "model/model.h"
#include "text/tokenize.h"
#include "text/vocab.h"
#include "util/query.h"
#include "util/rng.h"

#define LOADER_SPI_BATCH	10000
#define LOADER_ROWCXT_RESET 1024	/* rows between resets of the per-row context */
#define LOADER_MIN_ROWS		1024
/* First capacity when the relation was never analyzed: the guess may be far off */
#define LOADER_GUESS_ROWS	65536
#define INFER_MAX_CLASSES	20		/* integer targets with more values → regression */
/* Distinct terms of one text column (a term id is an int32) */
#define LOADER_MAX_TERMS	(1 << 26)
/* Bin codes: sampled rows per bin for the edges, and at most this many bytes of sample */
#define LOADER_BIN_SAMPLE_PER_BIN	200
#define LOADER_BIN_SAMPLE_BYTES		((Size) 16 << 20)
/* Cells between a slot's first and last edge, each knowing the code it starts with */
#define LOADER_BIN_CELLS	4096
/* Bin codes: rows read before they are coded, a slot at a time */
#define LOADER_BIN_CHUNK	4096
/* The random stream of the sampled blocks ("BLKS") */
#define LOADER_BIN_SEED		UINT64CONST(0x424C4B53)

/* ---------------------------------------------------------------------
 * load state
 * --------------------------------------------------------------------- */

typedef enum TargetMode
{
	TARGET_NONE = 0,
	TARGET_NUMBER,				/* int/float/numeric: the value as a double */
	TARGET_DICT					/* any other scalar: a class code via a Dict */
} TargetMode;

typedef struct LoadCol
{
	char	   *name;
	AttrNumber	attnum;
	Oid			typid;
	InputKind	kind;
	ScalarConv	conv;
	CategoryConv cat;
	int			raw_offset;
	int			width;
	int			pos;			/* index into the values array of the scan */
	Dict	   *dict;			/* categorical; text: the terms (without text_buckets) */
	/* text: the tokenizer, and per row the distinct terms with their counts */
	const TextColumnSpec *text;
	char	   *text_config;	/* schema-qualified configuration name */
	Oid			text_cfg;
	TextTokenizer *tk;
	int64	   *doc_start;		/* rows + 1 */
	int32	   *doc_terms;
	int32	   *doc_counts;
	int64		nnz;
	int64		cap_nnz;
	/* the term of each lexeme id of the tokenizer's current generation (-1: not yet known, -2: none) */
	int32	   *memo;
	int			memo_cap;
	uint64		memo_gen;
} LoadCol;

typedef struct LoadState
{
	const char *relname;
	int			ncols;
	LoadCol    *cols;
	int			n_raw;
	bool		impute_error;
	bool		float32;		/* keep the rows in float32 */
	bool		schema_only;	/* LoadOptions.schema: a Dataset without rows */

	/* bin codes (LoadOptions.max_bins): planned when bins != NULL */
	DatasetBins *bins;
	double	   *bin_tab;		/* per raw slot: -inf, its edges, padded with +inf: 257 each */
	double	   *bin_lo;			/* per raw slot: the first edge */
	double	   *bin_scale;		/* per raw slot: cells per unit between the first and last edge */
	uint8	   *bin_cell;		/* per raw slot: the code at the start of each of LOADER_BIN_CELLS cells */
	BlockNumber *sample_blocks; /* ascending */
	int64		n_sample_blocks;
	int64		sample_want;	/* rows expected in them */
	int64		sample_cap;		/* sample rows allocated */
	BlockNumber last_block;		/* block of the last row read, and whether it is sampled */
	bool		in_sample;

	/* target */
	TargetMode	tmode;
	char	   *tname;
	AttrNumber	tattnum;
	Oid			ttypid;
	int			tpos;
	ScalarConv	tconv;
	CategoryConv tcat;			/* text-like labels: key = bytes */
	int16		ttyplen;
	bool		ttypbyval;
	Oid			toutfunc;
	Dict	   *labels;
	bool		track_distinct;
	int			n_small;
	double		small[INFER_MAX_CLASSES + 1];

	/* storage */
	int64		n_rows;
	int64		cap;
	double	   *raw;			/* float64 rows, or NULL */
	float	   *raw32;			/* float32 rows (LoadOptions.float32), or NULL */
	double	   *rowbuf;			/* with raw32: the row being loaded, in float64;
								 * with bin codes: the rows from chunk_start on,
								 * not yet coded (LOADER_BIN_CHUNK of them) */
	int64		chunk_start;
	double	   *chunks[2];		/* with bin codes: rowbuf is one of them */
	GalaxyThread coder;			/* coding the other one, while rows are read */
	struct CodeJob *job;
	double	   *y;
	Size		row_bytes;
	pg_crc32c	crc_x;			/* CRC-32C of the rows as float64, so far */
	int64		skipped;

	MemoryContext cxt;			/* where the result lives */
	MemoryContext rowcxt;		/* reset every LOADER_ROWCXT_RESET rows */
	int			since_reset;

	/* text columns: the terms of the value being read, and its detoasted copy */
	MemoryContext textcxt;		/* reset after every text value */
	int32	   *row_terms;
	int			row_n;
	int			row_cap;
	LoadCol    *text_col;		/* the text column being read */
	Size		text_bytes;		/* bytes of every text column's store of terms */
} LoadState;

/* Bytes of the matrix and label vector for 'rows' rows, and of the text columns' terms. */
static Size
load_bytes(const LoadState *ls, int64 rows)
{
	return (Size) rows * ls->row_bytes + ls->text_bytes;
}

/* Make room for one more row, checking galaxy.max_training_memory. */
static void
load_grow(LoadState *ls)
{
	Size		limit = galaxy_training_memory_limit();
	int64		limit_rows = ls->row_bytes > 0 ? (int64) (limit / ls->row_bytes) : PG_INT64_MAX;
	int64		newcap = Max(ls->cap + ls->cap / 2, ls->cap + LOADER_MIN_ROWS);
	char	   *what;

	if (newcap > limit_rows)
		newcap = limit_rows;
	what = psprintf("loading relation \"%s\" (at least " INT64_FORMAT " rows of %d values)",
					ls->relname, ls->n_rows + 1, ls->n_raw + (ls->y ? 1 : 0));
	if (newcap <= ls->n_rows)
		galaxy_check_training_memory(load_bytes(ls, ls->n_rows + 1), what);
	galaxy_check_training_memory(load_bytes(ls, newcap), what);
	pfree(what);
	if (ls->bins)
	{
		uint8	   *codes;

		/* no thread writes codes while they move */
		galaxy_thread_join(&ls->coder);
		codes = repalloc_huge(ls->bins->codes, (Size) Max(ls->n_raw, 1) * newcap);

		/* column-major: move every column but the first to its new place, last first */
		for (int s = ls->n_raw - 1; s > 0; s--)
			memmove(codes + (Size) s * newcap, codes + (Size) s * ls->cap, ls->n_rows);
		ls->bins->codes = codes;
	}
	else if (ls->raw32)
		ls->raw32 = repalloc_huge(ls->raw32, sizeof(float) * Max(ls->n_raw, 1) * newcap);
	else
		ls->raw = repalloc_huge(ls->raw, sizeof(double) * Max(ls->n_raw, 1) * newcap);
	if (ls->y)
		ls->y = repalloc_huge(ls->y, sizeof(double) * newcap);
	for (int c = 0; c < ls->ncols; c++)
		if (ls->cols[c].kind == INPUT_TEXT)
			ls->cols[c].doc_start = repalloc_huge(ls->cols[c].doc_start, sizeof(int64) * (newcap + 1));
	ls->cap = newcap;
}

/* 1-based position, in scan order, of the row being loaded (for messages). */
#define LOAD_ROW(ls) ((ls)->n_rows + (ls)->skipped + 1)

/* ERROR: a non-finite value in a column. */
static void
load_nonfinite(const char *col, double v, int64 row)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("column \"%s\" contains %s", col,
					isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity")),
			 errdetail("In row " INT64_FORMAT " of the relation, in scan order.", row),
			 errhint("Replace NaN/Infinity with NULL (imputed) or a finite value, or filter those rows out with a view.")));
}

/* Class code of a label value (TARGET_DICT). */
static int
load_label_code(LoadState *ls, Datum d)
{
	const char *s;
	int			len;
	char		buf[NAMEDATALEN];
	bool		added;
	int			code;

	if (ls->ttypbyval)
	{
		s = (const char *) &d;
		len = sizeof(Datum);
	}
	else if (ls->tcat != CAT_NONE)
		s = data_category_bytes(d, ls->tcat, buf, &len);
	else
	{
		s = OidOutputFunctionCall(ls->toutfunc, d);
		len = strlen(s);
	}
	code = dict_lookup(ls->labels, s, len, &added);
	if (added)
	{
		if (ls->labels->n > MODEL_MAX_CLASSES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("target column \"%s\" has more than %d classes", ls->tname, MODEL_MAX_CLASSES)));
		if (ls->ttypbyval)
			ls->labels->datums[code] = d;
		else
		{
			MemoryContext old = MemoryContextSwitchTo(ls->labels->cxt);

			ls->labels->datums[code] = datumCopy(d, false, ls->ttyplen);
			MemoryContextSwitchTo(old);
		}
	}
	return code;
}

/*
 * The term of a lexeme of text column col: its dictionary code (added when
 * new) or hash bucket, -1 for a lexeme too long to keep.
 */
static int32
load_term(LoadState *ls, LoadCol *col, const char *lexeme, int len)
{
	bool		added;
	int32		term;

	if (len > TEXT_MAX_TERM_BYTES)
		return -1;				/* no vocabulary could keep it */
	if (col->text->hash_buckets > 0)
		return text_hash_bucket(lexeme, len, col->text->hash_buckets);
	term = dict_lookup(col->dict, lexeme, len, &added);
	if (added)
		ls->text_bytes += len + 1 + sizeof(char *) + 2 * sizeof(int) + sizeof(int64);
	return term;
}

/* One lexeme of the text value being read: its term into ls->row_terms. */
static void
load_text_lexeme(void *arg, const char *lexeme, int len, int position, int id)
{
	LoadState  *ls = (LoadState *) arg;
	LoadCol    *col = ls->text_col;
	int32		term;

	/* past a sequence's length, a word is not even added to the terms */
	if (col->text->sequence_length > 0 && ls->row_n >= col->text->sequence_length)
		return;
	if (id < 0)
		term = load_term(ls, col, lexeme, len);
	else
	{
		/* a lexeme id seen before names the same term */
		if (col->memo_gen != text_tokenizer_generation(col->tk))
		{
			memset(col->memo, 0xFF, sizeof(int32) * col->memo_cap);	/* -1 */
			col->memo_gen = text_tokenizer_generation(col->tk);
		}
		if (id >= col->memo_cap)
		{
			int			cap = Max(col->memo_cap * 2, id + 1);

			col->memo = repalloc_huge(col->memo, sizeof(int32) * cap);
			memset(col->memo + col->memo_cap, 0xFF, sizeof(int32) * (cap - col->memo_cap));
			col->memo_cap = cap;
		}
		if (col->memo[id] == -1)
		{
			term = load_term(ls, col, lexeme, len);
			col->memo[id] = term < 0 ? -2 : term;
		}
		term = col->memo[id];
	}
	if (term < 0)
		return;
	if (ls->row_n == ls->row_cap)
	{
		ls->row_cap *= 2;
		ls->row_terms = repalloc_huge(ls->row_terms, sizeof(int32) * ls->row_cap);
	}
	ls->row_terms[ls->row_n++] = term;
}

/*
 * A text value of row ls->n_rows: tokenise it, and store its distinct terms
 * with their counts in the column's store (none for NULL), or, for a
 * sequence, its first terms in text order, each with count 1.
 */
static void
load_text_value(LoadState *ls, LoadCol *col, Datum d, bool isnull)
{
	int64		row = ls->n_rows;
	int			n = 0;

	if (!isnull)
	{
		MemoryContext old = MemoryContextSwitchTo(ls->textcxt);
		text	   *t = DatumGetTextPP(d);

		/* the text itself goes into the data fingerprint */
		COMP_CRC32C(ls->crc_x, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
		ls->text_col = col;
		ls->row_n = 0;
		text_tokenize(col->tk, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), load_text_lexeme, ls);
		MemoryContextSwitchTo(old);
		MemoryContextReset(ls->textcxt);

		/* distinct terms and their counts (a sequence: every term, in order) */
		if (col->text->sequence_length > 0)
			n = ls->row_n;
		else
		{
			if (ls->row_n > 1)
				data_sort_int32(ls->row_terms, ls->row_n);
			for (int k = 0; k < ls->row_n; k++)
				if (k == 0 || ls->row_terms[k] != ls->row_terms[k - 1])
					n++;
		}
	}
	if (col->nnz + n > col->cap_nnz)
	{
		int64		cap = Max(col->cap_nnz * 2, col->nnz + n);
		Size		more = (Size) (cap - col->cap_nnz) * 2 * sizeof(int32);

		galaxy_check_training_memory(load_bytes(ls, ls->cap) + more,
									 psprintf("the words of text column \"%s\"", col->name));
		col->doc_terms = repalloc_huge(col->doc_terms, sizeof(int32) * cap);
		col->doc_counts = repalloc_huge(col->doc_counts, sizeof(int32) * cap);
		ls->text_bytes += more;
		col->cap_nnz = cap;
	}
	for (int k = 0; k < (isnull ? 0 : ls->row_n); k++)
	{
		if (k == 0 || ls->row_terms[k] != ls->row_terms[k - 1] || col->text->sequence_length > 0)
		{
			col->doc_terms[col->nnz] = ls->row_terms[k];
			col->doc_counts[col->nnz] = 0;
			col->nnz++;
		}
		if (col->doc_counts[col->nnz - 1] < PG_INT32_MAX)
			col->doc_counts[col->nnz - 1]++;
	}
	col->doc_start[row + 1] = col->nnz;
}

/* The code of x (not NaN) stepping from pos, where two steps up were not enough. */
static pg_noinline int
load_code_slow(const double *tab, double x, int pos)
{
	while (tab[pos - 1] >= x)
		pos--;
	while (tab[pos] < x)
		pos++;
	return pos;
}

/* Rows to code: n rows of raw values from row number r0 on. */
typedef struct CodeJob
{
	const LoadState *ls;
	const double *rows;
	int64		r0;
	int			n;
} CodeJob;

/*
 * Code a chunk of rows, a raw slot at a time: code = the number of edges
 * below x.  The cell of x (evenly spaced between the first and last edge)
 * gives the code at its start; x is at most two edges above it in all but
 * skewed columns, so two branch-free steps find its code and one test,
 * nearly always false, checks it (tab[-1] is -inf, and the test is true
 * for NaN, which is NULL).  Pure numeric work: it runs on a thread too.
 */
static void
load_code_rows(const CodeJob *job)
{
	const LoadState *ls = job->ls;
	DatasetBins *b = ls->bins;
	int			n_raw = ls->n_raw;

	for (int s = 0; s < n_raw; s++)
	{
		const double *tab = ls->bin_tab + (Size) s * 257 + 1;
		const uint8 *cell = ls->bin_cell + (Size) s * (LOADER_BIN_CELLS + 1);
		const double *src = job->rows + s;
		uint8	   *dst = b->codes + (Size) s * ls->cap + job->r0;
		double		lo = ls->bin_lo[s];
		double		scale = ls->bin_scale[s];

		for (int i = 0; i < job->n; i++)
		{
			double		x = src[(Size) i * n_raw];
			double		c = (x - lo) * scale;
			int			pos;

			c = c > 0.0 ? c : 0.0;
			c = c < (double) LOADER_BIN_CELLS ? c : (double) LOADER_BIN_CELLS;
			pos = cell[(int) c];
			pos += tab[pos] < x;
			pos += tab[pos] < x;
			if (unlikely(!(tab[pos] >= x) || tab[pos - 1] >= x))
			{
				if (isnan(x))
				{
					pos = DATASET_BIN_NULL;
					b->has_null[s] = true;
				}
				else
					pos = load_code_slow(tab, x, pos);
			}
			dst[i] = (uint8) pos;
		}
	}
}

/* Thread entry point: code a chunk. */
static void *
load_code_thread(void *arg)
{
	load_code_rows((const CodeJob *) arg);
	return NULL;
}

/*
 * Code the rows read since chunk_start.  With galaxy.threads > 1 and more
 * rows to come, a thread codes them while the scan fills the other buffer
 * (after the thread coding the previous chunk has finished); otherwise they
 * are coded here.
 */
static void
load_code_chunk(LoadState *ls, bool last)
{
	int			n = (int) (ls->n_rows - ls->chunk_start);

	galaxy_thread_join(&ls->coder);
	if (n == 0)
		return;
	ls->job->ls = ls;
	ls->job->rows = ls->rowbuf;
	ls->job->r0 = ls->chunk_start;
	ls->job->n = n;
	ls->chunk_start = ls->n_rows;
	if (!last && galaxy_threads > 1 &&
		galaxy_thread_start(&ls->coder, load_code_thread, ls->job))
		ls->rowbuf = ls->rowbuf == ls->chunks[0] ? ls->chunks[1] : ls->chunks[0];
	else
		load_code_rows(ls->job);
}

/* Process one row: values/isnull are indexed by each column's pos. */
static void
load_row(LoadState *ls, const Datum *values, const bool *isnull)
{
	double	   *raw;
	double		yv = 0.0;

	/* the label first: rows with a NULL label are skipped */
	if (ls->tmode != TARGET_NONE)
	{
		if (isnull[ls->tpos])
		{
			ls->skipped++;
			return;
		}
		if (ls->tmode == TARGET_NUMBER)
		{
			yv = data_scalar_to_double(values[ls->tpos], ls->tconv);
			if (!isfinite(yv))
				load_nonfinite(ls->tname, yv, LOAD_ROW(ls));
			if (ls->track_distinct)
			{
				int			k;

				for (k = 0; k < ls->n_small; k++)
					if (ls->small[k] == yv)
						break;
				if (k == ls->n_small)
				{
					if (ls->n_small < INFER_MAX_CLASSES + 1)
						ls->small[ls->n_small++] = yv;
					if (ls->n_small > INFER_MAX_CLASSES)
						ls->track_distinct = false;
				}
			}
		}
		else
			yv = (double) load_label_code(ls, values[ls->tpos]);
	}

	if (ls->n_rows >= ls->cap)
		load_grow(ls);
	if (ls->bins)
		raw = ls->rowbuf + (ls->n_rows - ls->chunk_start) * (int64) ls->n_raw;
	else
		raw = ls->rowbuf ? ls->rowbuf : ls->raw + ls->n_rows * (int64) ls->n_raw;

	for (int c = 0; c < ls->ncols; c++)
	{
		LoadCol    *col = &ls->cols[c];
		double	   *dst = raw + col->raw_offset;

		if (isnull[col->pos])
		{
			if (ls->impute_error)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("column \"%s\" contains NULL and preprocess option \"impute\" is \"error\"",
								col->name)));
			for (int j = 0; j < col->width; j++)
				dst[j] = get_float8_nan();
			if (col->kind == INPUT_TEXT)
				load_text_value(ls, col, (Datum) 0, true);
			continue;
		}
		switch (col->kind)
		{
			case INPUT_NUMERIC:
			case INPUT_BOOLEAN:
				{
					Datum		d = values[col->pos];
					double		v;

					switch (col->conv)
					{
						case CONV_FLOAT8:
							v = DatumGetFloat8(d);
							break;
						case CONV_INT4:
							v = (double) DatumGetInt32(d);
							break;
						case CONV_FLOAT4:
							v = (double) DatumGetFloat4(d);
							break;
						case CONV_INT8:
							v = (double) DatumGetInt64(d);
							break;
						case CONV_INT2:
							v = (double) DatumGetInt16(d);
							break;
						case CONV_BOOL:
							v = DatumGetBool(d) ? 1.0 : 0.0;
							break;
						default:
							v = data_scalar_to_double(d, col->conv);
							break;
					}
					if (unlikely(!isfinite(v)))
						load_nonfinite(col->name, v, LOAD_ROW(ls));
					dst[0] = v;
					break;
				}
			case INPUT_ARRAY:
				{
					int			nitems;
					ArrayFillResult res = data_array_fill(values[col->pos], dst, col->width, &nitems);

					if (res == ARRAYFILL_OK)
						break;
					if (res == ARRAYFILL_MULTIDIM)
						ereport(ERROR,
								(errcode(ERRCODE_DATA_EXCEPTION),
								 errmsg("column \"%s\" contains a multidimensional array", col->name),
								 errdetail("In row " INT64_FORMAT " of the relation, in scan order.", LOAD_ROW(ls)),
								 errhint("Array features must be one-dimensional.")));
					if (res == ARRAYFILL_BAD_LENGTH)
						ereport(ERROR,
								(errcode(ERRCODE_DATA_EXCEPTION),
								 errmsg("column \"%s\" contains arrays of differing lengths (%d and %d)",
										col->name, col->width, nitems),
								 errdetail("Row " INT64_FORMAT " of the relation, in scan order, has %d element%s.",
										   LOAD_ROW(ls), nitems, nitems == 1 ? "" : "s"),
								 errhint("Every array of a feature column must have the same length.")));
					for (int j = 0; j < col->width; j++)
						if (isinf(dst[j]))
							load_nonfinite(col->name, dst[j], LOAD_ROW(ls));
					load_nonfinite(col->name, get_float8_nan(), LOAD_ROW(ls));
					break;
				}
			case INPUT_CATEGORICAL:
				{
					char		buf[NAMEDATALEN];
					const char *s;
					int			len;
					bool		added;

					s = data_category_bytes(values[col->pos], col->cat, buf, &len);
					dst[0] = (double) dict_lookup(col->dict, s, len, &added);
					break;
				}
			case INPUT_TEXT:
				/* the raw slot holds the row's document number */
				load_text_value(ls, col, values[col->pos], false);
				dst[0] = (double) ls->n_rows;
				break;
		}
	}
	/* the fingerprint hashes the float64 values whichever way they are kept */
	COMP_CRC32C(ls->crc_x, raw, sizeof(double) * ls->n_raw);
	if (ls->raw32)
	{
		float	   *dst = ls->raw32 + ls->n_rows * (int64) ls->n_raw;

		for (int j = 0; j < ls->n_raw; j++)
			dst[j] = (float) raw[j];
	}
	else if (ls->bins && ls->in_sample)
	{
		/* a row of a sampled block: the sample has its values, note its number */
		if (ls->bins->n_sample >= ls->sample_cap)
			elog(ERROR, "galaxy: the scan of relation \"%s\" met more rows in its sampled blocks than their first reading",
				 ls->relname);
		ls->bins->sample_row[ls->bins->n_sample++] = ls->n_rows;
	}
	if (ls->y)
		ls->y[ls->n_rows] = yv;
	ls->n_rows++;
	if (ls->bins && ls->n_rows - ls->chunk_start >= LOADER_BIN_CHUNK)
		load_code_chunk(ls, false);

	if (++ls->since_reset >= LOADER_ROWCXT_RESET)
	{
		MemoryContextReset(ls->rowcxt);
		ls->since_reset = 0;
		CHECK_FOR_INTERRUPTS();
	}
}

/* ---------------------------------------------------------------------
 * scans
 * --------------------------------------------------------------------- */

/* bsearch comparator for block numbers. */
static int
cmp_block(const void *a, const void *b)
{
	BlockNumber x = *(const BlockNumber *) a;
	BlockNumber y = *(const BlockNumber *) b;

	return (x > y) - (x < y);
}

/*
 * The raw values of one row of a sampled block, for the bin edges only: NaN
 * for NULL and for what the scan will refuse (with its error) anyway.
 */
static void
load_sample_values(LoadState *ls, const Datum *values, const bool *isnull, double *dst)
{
	for (int c = 0; c < ls->ncols; c++)
	{
		LoadCol    *col = &ls->cols[c];
		double	   *d = dst + col->raw_offset;
		int			nitems;

		if (isnull[col->pos])
		{
			for (int j = 0; j < col->width; j++)
				d[j] = get_float8_nan();
		}
		else if (col->kind == INPUT_ARRAY)
		{
			if (data_array_fill(values[col->pos], d, col->width, &nitems) != ARRAYFILL_OK)
				for (int j = 0; j < col->width; j++)
					d[j] = get_float8_nan();
		}
		else
			d[0] = data_scalar_to_double(values[col->pos], col->conv);
	}
}

/*
 * The first pass of a load as bin codes: read the rows of the sampled
 * blocks, place every raw slot's edges on them, and size the sample of raw
 * rows the scan keeps (the same rows: the same snapshot reads them again).
 */
static void
load_bins_edges(LoadState *ls, Relation rel, Snapshot snap, int maxatt)
{
	DatasetBins *b = ls->bins;
	int			n_raw = ls->n_raw;
	int			max_bins = Min(b->max_bins, DATASET_BIN_NULL);
	int64		cap = Max(ls->sample_want + ls->sample_want / 4, 1024);
	int64		m = 0;
	double	   *rows;
	TableScanDesc scan = table_beginscan_strat(rel, snap, 0, NULL, true, false);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	MemoryContext old;

	galaxy_check_training_memory(sizeof(double) * cap * n_raw,
								 psprintf("the sample of relation \"%s\" for its bin edges", ls->relname));
	rows = MemoryContextAllocHuge(ls->cxt, sizeof(double) * cap * n_raw);
	galaxy_prefault(rows, sizeof(double) * cap * n_raw);
	for (int64 k = 0; k < ls->n_sample_blocks; k++)
	{
		table_rescan(scan, NULL);
		heap_setscanlimits(scan, ls->sample_blocks[k], 1);
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			slot_getsomeattrs(slot, maxatt);
			/* rows with a NULL label are not loaded */
			if (ls->tmode != TARGET_NONE && slot->tts_isnull[ls->tpos])
				continue;
			if (m >= cap)
			{
				galaxy_check_training_memory(sizeof(double) * 2 * cap * n_raw,
											 psprintf("the sample of relation \"%s\" for its bin edges", ls->relname));
				cap *= 2;
				rows = repalloc_huge(rows, sizeof(double) * cap * n_raw);
			}
			old = MemoryContextSwitchTo(ls->rowcxt);
			load_sample_values(ls, slot->tts_values, slot->tts_isnull, rows + m * n_raw);
			MemoryContextSwitchTo(old);
			m++;
		}
		MemoryContextReset(ls->rowcxt);
		CHECK_FOR_INTERRUPTS();
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);

	/* each slot's edges, and its padded table and cells for the scan's coding */
	algo_bin_edges_rows(rows, m, n_raw, max_bins, b->edges, b->n_edges, galaxy_threads);
	ls->bin_tab = palloc(sizeof(double) * 257 * Max(n_raw, 1));
	ls->bin_lo = palloc(sizeof(double) * Max(n_raw, 1));
	ls->bin_scale = palloc(sizeof(double) * Max(n_raw, 1));
	ls->bin_cell = palloc0((Size) (LOADER_BIN_CELLS + 1) * Max(n_raw, 1));
	for (int s = 0; s < n_raw; s++)
	{
		double	   *e = b->edges + (Size) s * ALGO_MAX_BIN_EDGES;
		double	   *tab = ls->bin_tab + (Size) s * 257 + 1;
		uint8	   *cell = ls->bin_cell + (Size) s * (LOADER_BIN_CELLS + 1);
		int			E = b->n_edges[s];

		tab[-1] = -get_float8_infinity();
		for (int k = 0; k < 256; k++)
			tab[k] = k < E ? e[k] : get_float8_infinity();
		/* the cells: only a guess to start from, so rounding does not matter */
		ls->bin_lo[s] = E > 0 ? e[0] : 0.0;
		ls->bin_scale[s] = 0.0;
		if (E > 1 && isfinite(LOADER_BIN_CELLS / (e[E - 1] - e[0])))
		{
			int			code = 0;

			ls->bin_scale[s] = LOADER_BIN_CELLS / (e[E - 1] - e[0]);
			for (int k = 0; k <= LOADER_BIN_CELLS; k++)
			{
				double		start = e[0] + k / ls->bin_scale[s];

				while (code < E && e[code] < start)
					code++;
				cell[k] = (uint8) code;
			}
		}
		CHECK_FOR_INTERRUPTS();
	}

	/*
	 * These rows are the sample of raw rows (dataset.h): the scan reads them
	 * again (the same snapshot, in the same order, with the same values: a
	 * value the sample holds as NaN but is not NULL makes the scan fail),
	 * and notes their row numbers.
	 */
	ls->sample_cap = m;
	b->sample = m < cap ? repalloc_huge(rows, sizeof(double) * Max(m, 1) * n_raw) : rows;
	b->n_sample = 0;
	b->sample_row = MemoryContextAllocHuge(ls->cxt, sizeof(int64) * Max(m, 1));
}

/* Read a plain table or materialised view with a direct table scan. */
static void
scan_direct(LoadState *ls, Relation rel)
{
	Snapshot	snap = RegisterSnapshot(ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot());
	TableScanDesc scan;
	TupleTableSlot *slot;
	int			maxatt = 0;
	MemoryContext old;
	SharedPageMapper *volatile mapper;

	for (int c = 0; c < ls->ncols; c++)
	{
		ls->cols[c].pos = ls->cols[c].attnum - 1;
		maxatt = Max(maxatt, ls->cols[c].attnum);
	}
	if (ls->tmode != TARGET_NONE)
	{
		ls->tpos = ls->tattnum - 1;
		maxatt = Max(maxatt, ls->tattnum);
	}

	if (ls->bins)
		load_bins_edges(ls, rel, snap, maxatt);

	/* with bin codes the rows are read from the first block on: row numbers follow blocks */
	scan = ls->bins ? table_beginscan_strat(rel, snap, 0, NULL, true, false) :
		table_beginscan(rel, snap, 0, NULL);
	slot = table_slot_create(rel, NULL);
	ls->last_block = InvalidBlockNumber;
	/* the relation's pages in the shared buffers, mapped in from the other end */
	mapper = shared_pages_map_start(rel);
	/* a thread coding a chunk of rows, and the mapper, are done before an ERROR leaves */
	PG_TRY();
	{
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			slot_getsomeattrs(slot, maxatt);
			if (ls->bins && ItemPointerGetBlockNumber(&slot->tts_tid) != ls->last_block)
			{
				ls->last_block = ItemPointerGetBlockNumber(&slot->tts_tid);
				ls->in_sample = bsearch(&ls->last_block, ls->sample_blocks, ls->n_sample_blocks,
										sizeof(BlockNumber), cmp_block) != NULL;
			}
			old = MemoryContextSwitchTo(ls->rowcxt);
			load_row(ls, slot->tts_values, slot->tts_isnull);
			MemoryContextSwitchTo(old);
		}
		if (ls->bins)
		{
			load_code_chunk(ls, true);
			if (ls->bins->n_sample != ls->sample_cap)
				elog(ERROR, "galaxy: the scan of relation \"%s\" met " INT64_FORMAT " rows in its sampled blocks, their first reading " INT64_FORMAT,
					 ls->relname, ls->bins->n_sample, ls->sample_cap);
		}
	}
	PG_CATCH();
	{
		galaxy_thread_join(&ls->coder);
		shared_pages_map_stop(mapper);
		PG_RE_THROW();
	}
	PG_END_TRY();
	shared_pages_map_stop(mapper);
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snap);
}

/* The SELECT list for the SPI path (names from the catalog, quoted). */
static char *
select_query(LoadState *ls, Relation rel)
{
	StringInfoData q;
	int			pos = 0;

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	for (int c = 0; c < ls->ncols; c++)
	{
		appendStringInfo(&q, "%s%s", pos > 0 ? ", " : "", quote_identifier(ls->cols[c].name));
		ls->cols[c].pos = pos++;
	}
	if (ls->tmode != TARGET_NONE)
	{
		appendStringInfo(&q, "%s%s", pos > 0 ? ", " : "", quote_identifier(ls->tname));
		ls->tpos = pos++;
	}
	appendStringInfo(&q, " FROM %s",
					 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												RelationGetRelationName(rel)));
	return q.data;
}

/* What scan_spi's batches need. */
typedef struct LoaderScan
{
	LoadState  *ls;
	Datum	   *values;
	bool	   *isnull;
} LoaderScan;

/* One batch of the SPI path: every row into the matrix. */
static void
loader_scan_batch(void *arg, HeapTuple *rows, uint64 nrows, TupleDesc td)
{
	LoaderScan *sc = (LoaderScan *) arg;

	for (uint64 i = 0; i < nrows; i++)
	{
		heap_deform_tuple(rows[i], td, sc->values, sc->isnull);
		load_row(sc->ls, sc->values, sc->isnull);
	}
}

/* Read any relation through a cursor, in batches (query_scan owns SPI). */
static void
scan_spi(LoadState *ls, Relation rel)
{
	char	   *query = select_query(ls, rel);
	int			natts = ls->ncols + (ls->tmode != TARGET_NONE ? 1 : 0);
	LoaderScan	sc;

	sc.ls = ls;
	sc.values = palloc(sizeof(Datum) * natts);
	sc.isnull = palloc(sizeof(bool) * natts);
	query_scan(query, 0, NULL, NULL, NULL, LOADER_SPI_BATCH, NULL, loader_scan_batch, &sc);
	pfree(sc.values);
	pfree(sc.isnull);
	pfree(query);
}

/* Length of the first non-NULL array of each array column. */
static void
array_widths(LoadState *ls, Relation rel)
{
	char	   *relq = NULL;

	for (int c = 0; c < ls->ncols; c++)
	{
		LoadCol    *col = &ls->cols[c];
		const char *qc;
		QueryResult *r;
		int32		w;

		if (col->kind != INPUT_ARRAY)
			continue;
		if (relq == NULL)
			relq = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
											  RelationGetRelationName(rel));
		qc = quote_identifier(col->name);
		r = user_query(psprintf("SELECT pg_catalog.cardinality(%s) FROM %s WHERE %s IS NOT NULL LIMIT 1",
								qc, relq, qc),
					   0, NULL, NULL, NULL, true, 1, SPI_OK_SELECT,
					   psprintf("read the array length of \"%s\"", col->name));
		if (r->nrows == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("array column \"%s\" has no non-NULL value, so its length is unknown", col->name)));
		w = query_int32(r, 0, 1, 0);
		if (w < 1 || w > MODEL_MAX_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("array column \"%s\" has arrays of length %d; lengths from 1 to %d are supported",
							col->name, w, MODEL_MAX_FEATURES)));
		col->width = w;
	}
}

/* ---------------------------------------------------------------------
 * setup: relation, privileges, columns
 * --------------------------------------------------------------------- */

/* ERROR for a column of a type galaxy cannot use. */
static void
unsupported_type(const char *col, Oid typid, const char *relname)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("column \"%s\" of relation \"%s\" has unsupported type %s",
					col, relname, format_type_be(typid)),
			 errhint("Features may be smallint, integer, bigint, real, double precision, numeric, boolean, "
					 "text, varchar, char, name, an enum, or a one-dimensional array of numbers; "
					 "cast other columns in a view, or list the features explicitly.")));
}

/*
 * Estimate the rows of a relation with storage (current size × density).
 * *from_stats says whether the density comes from ANALYZE; without it the
 * guess assumes narrow rows and is far too high for, e.g., arrays stored
 * compressed in the heap (60,000 784-pixel images: 16 times too many).
 */
static int64
estimate_rows(Relation rel, bool *from_stats)
{
	BlockNumber blocks;
	double		density;

	*from_stats = false;
	if (!RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
		return LOADER_MIN_ROWS;
	blocks = RelationGetNumberOfBlocks(rel);
	if (rel->rd_rel->relpages > 0 && rel->rd_rel->reltuples >= 0)
	{
		density = rel->rd_rel->reltuples / rel->rd_rel->relpages;
		*from_stats = true;
	}
	else
	{
		int			width = 32;

		for (int i = 0; i < RelationGetDescr(rel)->natts; i++)
		{
			Form_pg_attribute a = TupleDescAttr(RelationGetDescr(rel), i);

			if (!a->attisdropped)
				width += a->attlen > 0 ? a->attlen : 32;
		}
		density = (double) (BLCKSZ - 24) / width;
	}
	return Max((int64) ceil(density * blocks), LOADER_MIN_ROWS);
}

/* ---------------------------------------------------------------------
 * post-processing
 * --------------------------------------------------------------------- */

typedef struct LabelSortCtx
{
	FmgrInfo   *cmp;
	Oid			collation;
	Datum	   *datums;
	char	  **texts;
} LabelSortCtx;

/* Compare two label codes in the type's order (text order without one). */
static int
cmp_label(const void *a, const void *b, void *arg)
{
	LabelSortCtx *ctx = (LabelSortCtx *) arg;
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	if (ctx->cmp)
		return DatumGetInt32(FunctionCall2Coll(ctx->cmp, ctx->collation,
											   ctx->datums[x], ctx->datums[y]));
	return strcmp(ctx->texts[x], ctx->texts[y]);
}

/* Sort the label dictionary in the type's order and renumber y. */
static void
finish_dict_labels(LoadState *ls, Dataset *ds)
{
	Dict	   *d = ls->labels;
	int			n = d->n;
	int		   *order = palloc(sizeof(int) * n);
	int		   *rank = palloc(sizeof(int) * n);
	char	  **texts = palloc(sizeof(char *) * n);
	TypeCacheEntry *tce = lookup_type_cache(ls->ttypid, TYPECACHE_CMP_PROC_FINFO);
	LabelSortCtx ctx;

	for (int i = 0; i < n; i++)
	{
		order[i] = i;
		texts[i] = OidOutputFunctionCall(ls->toutfunc, d->datums[i]);
	}
	ctx.cmp = OidIsValid(tce->cmp_proc_finfo.fn_oid) ? &tce->cmp_proc_finfo : NULL;
	ctx.collation = type_is_collatable(ls->ttypid) ? DEFAULT_COLLATION_OID : InvalidOid;
	ctx.datums = d->datums;
	ctx.texts = texts;
	qsort_arg(order, n, sizeof(int), cmp_label, &ctx);

	ds->n_classes = n;
	ds->class_labels = palloc(sizeof(char *) * n);
	for (int i = 0; i < n; i++)
	{
		rank[order[i]] = i;
		ds->class_labels[i] = texts[order[i]];
	}
	for (int64 r = 0; r < ds->n_rows; r++)
		ds->y[r] = (double) rank[(int) ds->y[r]];
	pfree(order);
	pfree(rank);
	pfree(texts);
}


/* Turn numeric target values into class indexes (sorted by value). */
static void
finish_number_labels(LoadState *ls, Dataset *ds)
{
	int64		n = ds->n_rows;
	double	   *v;
	int64		k = 0;
	int64		m = n;
	bool		integral = true;

	/* the distinct values, sorted: those the scan tracked, when it could, else every label */
	if (ls->track_distinct)
		m = ls->n_small;
	v = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(m, 1));
	memcpy(v, ls->track_distinct ? ls->small : ds->y, sizeof(double) * m);
	qsort(v, m, sizeof(double), data_cmp_double);
	for (int64 i = 0; i < m; i++)
		if (k == 0 || v[i] != v[k - 1])
		{
			v[k++] = v[i];
			if (k > MODEL_MAX_CLASSES)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("target column \"%s\" has more than %d classes", ls->tname, MODEL_MAX_CLASSES),
						 errhint("Use task => 'regression' for a continuous target.")));
		}
	for (int64 i = 0; i < k; i++)
		if (v[i] != floor(v[i]) || fabs(v[i]) > 9e15)
			integral = false;

	ds->n_classes = (int) k;
	ds->class_labels = palloc(sizeof(char *) * Max(k, 1));
	for (int64 i = 0; i < k; i++)
		ds->class_labels[i] = integral ? psprintf(INT64_FORMAT, (int64) v[i]) : float8out_internal(v[i]);
	for (int64 r = 0; r < n; r++)
	{
		double		x = ds->y[r];
		int64		lo = 0,
					hi = k - 1;

		while (lo < hi)
		{
			int64		mid = (lo + hi) / 2;

			if (v[mid] < x)
				lo = mid + 1;
			else
				hi = mid;
		}
		ds->y[r] = (double) lo;
	}
	pfree(v);
}

/* Hex SHA-256 of the input schema. */
static char *
schema_fingerprint(const Dataset *ds)
{
	const char **names = palloc(sizeof(char *) * ds->n_inputs);
	const char **types = palloc(sizeof(char *) * ds->n_inputs);
	int		   *widths = palloc(sizeof(int) * ds->n_inputs);

	for (int i = 0; i < ds->n_inputs; i++)
	{
		names[i] = ds->inputs[i].name;
		types[i] = ds->inputs[i].typname;
		widths[i] = ds->inputs[i].width;
	}
	return data_schema_fingerprint(ds->n_inputs, names, types, widths);
}

/*
 * Fast fingerprint of the values: CRC-32C of the matrix (as float64, hashed
 * row by row while loading: crc_x), labels and dictionaries.
 */
static char *
data_fingerprint(const Dataset *ds, pg_crc32c crc_x)
{
	pg_crc32c	crc_y;

	for (int i = 0; i < ds->n_inputs; i++)
		for (int c = 0; c < ds->inputs[i].n_categories; c++)
			COMP_CRC32C(crc_x, ds->inputs[i].categories[c], strlen(ds->inputs[i].categories[c]) + 1);
	FIN_CRC32C(crc_x);
	INIT_CRC32C(crc_y);
	if (ds->y)
		COMP_CRC32C(crc_y, ds->y, sizeof(double) * ds->n_rows);
	for (int c = 0; c < ds->n_classes; c++)
		COMP_CRC32C(crc_y, ds->class_labels[c], strlen(ds->class_labels[c]) + 1);
	FIN_CRC32C(crc_y);
	return psprintf("%08x%08x-" INT64_FORMAT, crc_x, crc_y, ds->n_rows);
}

/* ---------------------------------------------------------------------
 * entry points
 * --------------------------------------------------------------------- */

/* Infer the task from the target's type and number of distinct values. */
GalaxyTask
dataset_infer_task(Oid target_type, int64 n_distinct, int64 n_rows)
{
	switch (getBaseType(target_type))
	{
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			return TASK_REGRESSION;
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return n_distinct <= INFER_MAX_CLASSES ? TASK_CLASSIFICATION : TASK_REGRESSION;
		default:
			return TASK_CLASSIFICATION;
	}
}

/* Resolve and classify the target column; returns the task (inferred later when 0). */
static GalaxyTask
load_resolve_target(LoadState *ls, Relation rel, const LoadOptions *opts, GalaxyTask task)
{
	TupleDesc	desc = RelationGetDescr(rel);

	if (opts->target != NULL && task != TASK_CLUSTERING)
	{
		ScalarConv	conv;
		CategoryConv cat;
		int			kind;

		ls->tname = pstrdup(opts->target);
		ls->tattnum = data_column_attnum(rel, opts->target, "target");
		ls->ttypid = TupleDescAttr(desc, ls->tattnum - 1)->atttypid;
		kind = data_classify_type(ls->ttypid, &conv, &cat);
		if (kind == INPUT_NUMERIC)
		{
			/* numbers: the value (regression) or classes by value */
			ls->tmode = TARGET_NUMBER;
			ls->tconv = conv;
			ls->track_distinct = (task == 0 &&
								 (conv == CONV_INT2 || conv == CONV_INT4 || conv == CONV_INT8));
		}
		else
		{
			Oid			base = getBaseType(ls->ttypid);
			bool		isvarlena;
			char		typtype = get_typtype(base);

			if (task == TASK_REGRESSION)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("regression needs a numeric target, but column \"%s\" is of type %s",
								ls->tname, format_type_be(ls->ttypid)),
						 errhint("Use task => 'classification', or cast the target to a number in a view.")));
			if (kind == INPUT_ARRAY || OidIsValid(get_element_type(base)) ||
				typtype == TYPTYPE_COMPOSITE || typtype == TYPTYPE_PSEUDO)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("target column \"%s\" has unsupported type %s",
								ls->tname, format_type_be(ls->ttypid)),
						 errhint("The target must be a scalar: a number, boolean, text or enum.")));
			ls->tmode = TARGET_DICT;
			ls->tcat = cat;
			get_typlenbyval(ls->ttypid, &ls->ttyplen, &ls->ttypbyval);
			getTypeOutputInfo(ls->ttypid, &ls->toutfunc, &isvarlena);
			task = TASK_CLASSIFICATION;
		}
	}
	else if (task == TASK_REGRESSION || task == TASK_CLASSIFICATION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs a target column", galaxy_task_name(task))));
	else
		task = TASK_CLUSTERING;

	return task;
}

/*
 * The feature columns the preprocess options make text: of a text type,
 * with an existing text search configuration.
 */
static void
load_resolve_text(LoadState *ls, const LoadOptions *opts)
{
	for (int t = 0; t < opts->n_text; t++)
	{
		const TextColumnSpec *spec = &opts->text[t];
		LoadCol    *col = NULL;

		for (int c = 0; c < ls->ncols; c++)
			if (strcmp(ls->cols[c].name, spec->name) == 0)
				col = &ls->cols[c];
		if (col == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("preprocess names column \"%s\", which is not a feature of this training run",
							spec->name)));
		if (col->kind != INPUT_CATEGORICAL || col->cat != CAT_TEXT)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" is of type %s, but preprocess option \"text\" needs a text, varchar or char column",
							col->name, format_type_be(col->typid)),
					 errhint("Cast it to text in a view, or leave \"text\" out for this column.")));
		col->kind = INPUT_TEXT;
		col->text = spec;
		col->text_cfg = text_config_oid(spec->config);
		col->text_config = text_config_name(col->text_cfg);
	}
}

/*
 * Resolve the feature columns (the given ones, or every column but the
 * target), classify their types and check the caller may read them.
 */
static void
load_resolve_features(LoadState *ls, Relation rel, const LoadOptions *opts)
{
	TupleDesc	desc = RelationGetDescr(rel);
	AttrNumber *attnums;
	int			n_att = 0;

	attnums = palloc(sizeof(AttrNumber) * (desc->natts + 1));
	if (opts->features != NIL)
	{
		ListCell   *lc;

		ls->cols = palloc0(sizeof(LoadCol) * list_length(opts->features));
		foreach(lc, opts->features)
		{
			char	   *name = strVal(lfirst(lc));
			AttrNumber	att = data_column_attnum(rel, name, "feature");

			if (ls->tmode != TARGET_NONE && att == ls->tattnum)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("target column \"%s\" is also listed as a feature", name)));
			for (int c = 0; c < ls->ncols; c++)
				if (ls->cols[c].attnum == att)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("feature column \"%s\" is listed twice", name)));
			ls->cols[ls->ncols].attnum = att;
			ls->cols[ls->ncols].name = pstrdup(NameStr(TupleDescAttr(desc, att - 1)->attname));
			ls->ncols++;
		}
	}
	else
	{
		StringInfoData keys;

		initStringInfo(&keys);
		ls->cols = palloc0(sizeof(LoadCol) * Max(desc->natts, 1));
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute a = TupleDescAttr(desc, i);

			if (a->attisdropped || (opts->target != NULL &&
									strcmp(NameStr(a->attname), opts->target) == 0))
				continue;
			if (data_column_is_key(rel, a->attnum))
			{
				/* ids are not features (name them to use them) */
				appendStringInfo(&keys, "%s%s", keys.len > 0 ? ", " : "",
								 quote_identifier(NameStr(a->attname)));
				continue;
			}
			ls->cols[ls->ncols].attnum = a->attnum;
			ls->cols[ls->ncols].name = pstrdup(NameStr(a->attname));
			ls->ncols++;
		}
		/* said once, by the load that follows (or, streaming, by stream_fit's second look) */
		if (opts->text_typed == NULL && opts->schema == NULL)
			data_notice_keys_left_out(ls->relname, keys.data);
		pfree(keys.data);
	}
	if (ls->ncols == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation \"%s\" has no feature columns besides the target", ls->relname)));

	for (int c = 0; c < ls->ncols; c++)
	{
		LoadCol    *col = &ls->cols[c];
		int			kind;

		col->typid = TupleDescAttr(desc, col->attnum - 1)->atttypid;
		kind = data_classify_type(col->typid, &col->conv, &col->cat);
		if (kind == 0)
			unsupported_type(col->name, col->typid, ls->relname);
		col->kind = (InputKind) kind;
		col->width = 1;
		attnums[n_att++] = col->attnum;
	}
	load_resolve_text(ls, opts);
	if (ls->tmode != TARGET_NONE)
		attnums[n_att++] = ls->tattnum;
	data_check_select_privilege(rel, attnums, n_att);

	pfree(attnums);
}

/*
 * Whether to load as bin codes (LoadOptions.max_bins), and which blocks the
 * edges are placed on: a plain heap table read directly, with numeric,
 * boolean and array features only, large enough that the sample of its
 * blocks is a small part of it.  Otherwise ls->bins stays NULL and the
 * values are loaded as usual.
 */
static void
load_bins_plan(LoadState *ls, Relation rel, const LoadOptions *opts)
{
	BlockNumber blocks;
	bool		from_stats;
	int64		est;
	int64		target;
	int64		want;
	int64		taken = 0;
	GalaxyRng	rng;
	DatasetBins *b;

	if (opts->max_bins < 2 || rel->rd_rel->relam != HEAP_TABLE_AM_OID || ls->n_raw < 1)
		return;
	for (int c = 0; c < ls->ncols; c++)
		if (ls->cols[c].kind != INPUT_NUMERIC && ls->cols[c].kind != INPUT_BOOLEAN &&
			ls->cols[c].kind != INPUT_ARRAY)
			return;
	blocks = RelationGetNumberOfBlocks(rel);
	est = estimate_rows(rel, &from_stats);
	target = Min((int64) LOADER_BIN_SAMPLE_PER_BIN * opts->max_bins,
				 (int64) (LOADER_BIN_SAMPLE_BYTES / (sizeof(double) * ls->n_raw)));
	want = (int64) ceil((double) target * blocks / Max(est, 1));
	want = Max(want, 1);
	if (blocks < 2 || want * 2 > (int64) blocks)
		return;

	/* selection sampling: want of the blocks, ascending, from the seed */
	ls->sample_blocks = palloc(sizeof(BlockNumber) * want);
	galaxy_rng_seed(&rng, opts->seed, LOADER_BIN_SEED);
	for (BlockNumber blk = 0; blk < blocks && taken < want; blk++)
		if (galaxy_rng_uniform(&rng) * (double) (blocks - blk) < (double) (want - taken))
			ls->sample_blocks[taken++] = blk;
	ls->n_sample_blocks = taken;
	ls->sample_want = target;

	b = palloc0(sizeof(DatasetBins));
	b->max_bins = Min(opts->max_bins, 256);
	b->n_edges = palloc0(sizeof(int) * ls->n_raw);
	b->edges = palloc(sizeof(double) * ALGO_MAX_BIN_EDGES * ls->n_raw);
	b->has_null = palloc0(sizeof(bool) * ls->n_raw);
	ls->bins = b;
}

/*
 * The raw layout (array widths come from the data) and the initial matrix,
 * sized from the row estimate and checked against galaxy.max_training_memory
 * before it is allocated.
 */
static void
load_allocate(LoadState *ls, Relation rel, const LoadOptions *opts, bool direct)
{
	int64		est;
	bool		from_stats;

	array_widths(ls, rel);
	for (int c = 0; c < ls->ncols; c++)
	{
		if ((int64) ls->n_raw + ls->cols[c].width > MODEL_MAX_FEATURES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the feature columns expand to more than %d values per row", MODEL_MAX_FEATURES)));
		ls->cols[c].raw_offset = ls->n_raw;
		ls->n_raw += ls->cols[c].width;
	}

	/* bin codes: a large heap table read directly, for an algorithm that bins */
	if (direct && opts->max_bins > 0)
		load_bins_plan(ls, rel, opts);

	/* initial allocation from the size estimate, checked before allocating */
	ls->row_bytes = (ls->bins ? sizeof(uint8) : ls->float32 ? sizeof(float) : sizeof(double)) * ls->n_raw +
		(ls->tmode != TARGET_NONE ? sizeof(double) : 0);
	est = estimate_rows(rel, &from_stats);
	if (from_stats)
	{
		char	   *what = psprintf("loading relation \"%s\" (about " INT64_FORMAT " rows of %d values)",
									ls->relname, est, ls->n_raw + (ls->tmode != TARGET_NONE ? 1 : 0));

		galaxy_check_training_memory(load_bytes(ls, est), what);
		pfree(what);
	}
	else
	{
		/* a guess only: start smaller and let load_grow check what is really read */
		est = Min(est, LOADER_GUESS_ROWS);
		est = Min(est, Max((int64) (galaxy_training_memory_limit() / Max(ls->row_bytes, 1)), 1));
	}
	ls->cap = est;
	/*
	 * No transparent-huge-page advice on the matrix: with the usual "defrag =
	 * madvise" setting, faults in an advised region compact memory
	 * synchronously, and loading 1M x 20 rows took 0.21 to 0.84 s instead of
	 * a steady 0.28 s without advice (2-core Debian 12 machine).
	 */
	if (ls->bins)
	{
		ls->bins->codes = MemoryContextAllocHuge(ls->cxt, (Size) Max(ls->n_raw, 1) * ls->cap);
		for (int k = 0; k < 2; k++)
		{
			ls->chunks[k] = MemoryContextAllocHuge(ls->cxt, sizeof(double) * Max(ls->n_raw, 1) * LOADER_BIN_CHUNK);
			galaxy_prefault(ls->chunks[k], sizeof(double) * Max(ls->n_raw, 1) * LOADER_BIN_CHUNK);
		}
		ls->rowbuf = ls->chunks[0];
		ls->job = MemoryContextAllocZero(ls->cxt, sizeof(CodeJob));
	}
	else if (ls->float32)
	{
		ls->raw32 = MemoryContextAllocHuge(ls->cxt, sizeof(float) * Max(ls->n_raw, 1) * ls->cap);
		ls->rowbuf = MemoryContextAlloc(ls->cxt, sizeof(double) * Max(ls->n_raw, 1));
	}
	else
		ls->raw = MemoryContextAllocHuge(ls->cxt, sizeof(double) * Max(ls->n_raw, 1) * ls->cap);
	if (ls->tmode != TARGET_NONE)
		ls->y = MemoryContextAllocHuge(ls->cxt, sizeof(double) * ls->cap);
	/* an estimate from the statistics is about to be filled: map it in at once */
	if (from_stats)
	{
		if (ls->bins)
			galaxy_prefault(ls->bins->codes, (Size) Max(ls->n_raw, 1) * ls->cap);
		else if (ls->raw32)
			galaxy_prefault(ls->raw32, sizeof(float) * Max(ls->n_raw, 1) * ls->cap);
		else
			galaxy_prefault(ls->raw, sizeof(double) * Max(ls->n_raw, 1) * ls->cap);
		if (ls->y)
			galaxy_prefault(ls->y, sizeof(double) * ls->cap);
	}
	INIT_CRC32C(ls->crc_x);

	/* text columns: their tokenizers and stores of terms, grown while loading */
	for (int c = 0; c < ls->ncols; c++)
	{
		LoadCol    *col = &ls->cols[c];

		if (col->kind != INPUT_TEXT)
			continue;
		col->tk = text_tokenizer_create(col->text_cfg);
		col->memo_cap = 4096;
		col->memo = MemoryContextAlloc(ls->cxt, sizeof(int32) * col->memo_cap);
		memset(col->memo, 0xFF, sizeof(int32) * col->memo_cap);
		col->memo_gen = text_tokenizer_generation(col->tk);
		if (col->text->hash_buckets == 0)
			col->dict = dict_create(ls->cxt, false, LOADER_MAX_TERMS, "distinct words in one text column");
		col->doc_start = MemoryContextAllocHuge(ls->cxt, sizeof(int64) * (ls->cap + 1));
		col->doc_start[0] = 0;
		col->cap_nnz = 1024;
		col->doc_terms = MemoryContextAllocHuge(ls->cxt, sizeof(int32) * col->cap_nnz);
		col->doc_counts = MemoryContextAllocHuge(ls->cxt, sizeof(int32) * col->cap_nnz);
		ls->text_bytes += (Size) col->cap_nnz * 2 * sizeof(int32);
		ls->row_bytes += sizeof(int64);
	}
	if (ls->text_bytes > 0)
	{
		ls->row_cap = 256;
		ls->row_terms = MemoryContextAlloc(ls->cxt, sizeof(int32) * ls->row_cap);
		ls->textcxt = AllocSetContextCreate(ls->cxt, "galaxy loader text", ALLOCSET_DEFAULT_SIZES);
	}
}

/* The Dataset of a loaded relation: its inputs, rows, target and labels. */
static Dataset *
load_build_dataset(LoadState *ls, Relation rel, GalaxyTask task)
{
	Dataset    *ds;

	ds = palloc0(sizeof(Dataset));
	ds->relid = RelationGetRelid(rel);
	ds->n_inputs = ls->ncols;
	ds->inputs = palloc0(sizeof(InputColumn) * ls->ncols);
	ds->n_raw = ls->n_raw;
	ds->n_rows = ls->n_rows;
	ds->raw = ls->raw;
	ds->raw32 = ls->raw32;
	if (ls->bins)
	{
		pfree(ls->chunks[0]);
		pfree(ls->chunks[1]);
		pfree(ls->job);
	}
	else if (ls->rowbuf)
		pfree(ls->rowbuf);
	if (ls->bins)
	{
		uint8	   *codes = ls->bins->codes;

		/* columns of n_rows codes, one after the other */
		for (int s = 1; s < ls->n_raw; s++)
			memmove(codes + (Size) s * ls->n_rows, codes + (Size) s * ls->cap, ls->n_rows);
		if (ls->cap > ls->n_rows)
			ls->bins->codes = repalloc_huge(codes, (Size) Max(ls->n_raw, 1) * Max(ls->n_rows, 1));
		ds->bins = ls->bins;
		pfree(ls->bin_tab);
		pfree(ls->bin_lo);
		pfree(ls->bin_scale);
		pfree(ls->bin_cell);
		pfree(ls->sample_blocks);
	}
	ds->skipped_null_labels = ls->skipped;
	for (int c = 0; c < ls->ncols; c++)
	{
		LoadCol    *col = &ls->cols[c];
		InputColumn *in = &ds->inputs[c];

		in->name = col->name;
		in->kind = col->kind;
		in->typid = col->typid;
		in->typname = format_type_be(col->typid);
		in->width = col->width;
		in->raw_offset = col->raw_offset;
		if (col->dict)
		{
			in->n_categories = col->dict->n;
			in->categories = col->dict->keys;
			in->category_counts = col->dict->counts;
		}
		if (col->kind == INPUT_TEXT)
		{
			in->text_config = col->text_config;
			in->text_buckets = col->text->hash_buckets;
			in->text_sequence = col->text->sequence_length;
			in->doc_start = col->doc_start;
			in->doc_terms = col->doc_terms;
			in->doc_counts = col->doc_counts;
			/* a schema-only Dataset never set up the tokenizer */
			if (col->tk)
				text_tokenizer_free(col->tk);
			col->tk = NULL;
			if (col->memo)
				pfree(col->memo);
			col->memo = NULL;
		}
	}
	if (ls->row_terms)
		pfree(ls->row_terms);

	if (ls->tmode != TARGET_NONE)
	{
		ds->target = ls->tname;
		ds->target_type = ls->ttypid;
		ds->target_typname = format_type_be(ls->ttypid);
		ds->y = ls->y;
		if (task == 0)
			task = dataset_infer_task(ls->ttypid, ls->track_distinct ? ls->n_small : INFER_MAX_CLASSES + 1,
									  ls->n_rows);
		if (task == TASK_CLASSIFICATION && !ls->schema_only)
		{
			if (ls->tmode == TARGET_DICT)
				finish_dict_labels(ls, ds);
			else
				finish_number_labels(ls, ds);
			if (ds->n_classes < 2)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("target column \"%s\" has only one class (\"%s\")",
								ls->tname, ds->class_labels[0]),
						 errhint("Classification needs at least two distinct target values.")));
		}
	}
	ds->task = task;
	ds->schema_fingerprint = schema_fingerprint(ds);
	ds->data_fingerprint = data_fingerprint(ds, ls->crc_x);

	return ds;
}

/*
 * Whether relid is a Citus table.  galaxy does not link to Citus: when the
 * citus extension is installed, its metadata table pg_dist_partition (one row
 * per distributed, reference or Citus-managed local table) is read through
 * SQL.
 */
bool
dataset_is_distributed(Oid relid)
{
	QueryResult *r;

	if (!OidIsValid(get_extension_oid("citus", true)))
		return false;
	r = catalog_query("SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1",
					  1, (Oid[]) {REGCLASSOID}, (Datum[]) {ObjectIdGetDatum(relid)},
					  NULL, true, 1, SPI_OK_SELECT, "read pg_dist_partition");
	return r->nrows > 0;
}

/* Load a relation into a Dataset as the calling role. */
Dataset *
dataset_load(const LoadOptions *opts)
{
	Relation	rel;
	LoadState	ls;
	Dataset    *ds;
	char		relkind;
	bool		direct;
	GalaxyTask	task = opts->task;

	memset(&ls, 0, sizeof(ls));
	ls.cxt = CurrentMemoryContext;
	ls.impute_error = opts->impute_error;
	ls.float32 = opts->float32;

	rel = data_open_relation(opts->relid);
	relkind = rel->rd_rel->relkind;
	ls.relname = pstrdup(RelationGetRelationName(rel));
	if (relkind != RELKIND_RELATION && relkind != RELKIND_VIEW &&
		relkind != RELKIND_MATVIEW && relkind != RELKIND_PARTITIONED_TABLE &&
		relkind != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table, view, materialized view or foreign table", ls.relname)));

	task = load_resolve_target(&ls, rel, opts, task);
	load_resolve_features(&ls, rel, opts);

	/* dictionaries live with the result; per-row garbage in its own context */
	for (int c = 0; c < ls.ncols; c++)
		if (ls.cols[c].kind == INPUT_CATEGORICAL)
			ls.cols[c].dict = dict_create(ls.cxt, false, MODEL_MAX_FEATURES, "distinct values in one column");
	if (ls.tmode == TARGET_DICT)
		ls.labels = dict_create(ls.cxt, true, MODEL_MAX_FEATURES, "distinct values in one column");
	ls.rowcxt = AllocSetContextCreate(ls.cxt, "galaxy loader rows", ALLOCSET_DEFAULT_SIZES);

	if (relkind == RELKIND_MATVIEW && !RelationIsPopulated(rel))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("materialized view \"%s\" has not been populated", ls.relname),
				 errhint("Use the REFRESH MATERIALIZED VIEW command.")));
	if (opts->check_only)
	{
		/* the features of a text type, for task 'nlp' (train.c) */
		if (opts->text_typed)
		{
			*opts->text_typed = NIL;
			for (int c = 0; c < ls.ncols; c++)
				if (ls.cols[c].kind == INPUT_TEXT ||
					(ls.cols[c].kind == INPUT_CATEGORICAL && ls.cols[c].cat == CAT_TEXT))
					*opts->text_typed = lappend(*opts->text_typed, makeString(pstrdup(ls.cols[c].name)));
		}
		if (opts->schema)
		{
			bool		from_stats;

			/* no rows: the task comes from the target's type alone */
			if (ls.tmode != TARGET_NONE && task == 0)
				task = dataset_infer_task(ls.ttypid, INFER_MAX_CLASSES + 1, 0);
			ls.track_distinct = false;
			ls.schema_only = true;
			for (int c = 0; c < ls.ncols; c++)
			{
				ls.cols[c].raw_offset = ls.n_raw;
				ls.n_raw += Max(ls.cols[c].width, 1);
			}
			*opts->schema = load_build_dataset(&ls, rel, task);
			(*opts->schema)->estimated_rows = RELKIND_HAS_STORAGE(relkind) ? estimate_rows(rel, &from_stats) : -1;
		}
		relation_close(rel, AccessShareLock);
		return NULL;
	}

	/*
	 * Inheritance children and RLS need the executor, and so does a Citus
	 * table (its rows are on the worker nodes: a cursor over a SELECT of the
	 * needed columns fetches them); the rest is scanned directly.
	 */
	direct = data_scan_directly(rel);
	load_allocate(&ls, rel, opts, direct);

	/* scan */
	if (direct)
		scan_direct(&ls, rel);
	else
		scan_spi(&ls, rel);
	MemoryContextDelete(ls.rowcxt);

	if (ls.skipped > 0)
		ereport(NOTICE,
				(errmsg("skipped " INT64_FORMAT " rows with NULL target \"%s\"", ls.skipped, ls.tname)));
	if (ls.n_rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 ls.skipped > 0 ?
				 errmsg("relation \"%s\" has no rows with a non-NULL target \"%s\"", ls.relname, ls.tname) :
				 errmsg("relation \"%s\" has no rows", ls.relname)));

	ds = load_build_dataset(&ls, rel, task);

	relation_close(rel, AccessShareLock);
	return ds;
}
