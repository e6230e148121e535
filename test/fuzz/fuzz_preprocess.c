/*
 * fuzz_preprocess.c — libFuzzer target for the preprocessing options parser
 * (galaxy.train's preprocess => jsonb), parse_config() in
 * src/data/preprocess.c, reached through preprocess_fit().
 *
 * The input is JSON text, turned into jsonb by jsonb_in (jsonb_shim.c), and
 * used to fit a preprocessor on a small fixed Dataset with one input of every
 * kind: "x" numeric (with NULLs), "flag" boolean, "color" categorical (few
 * categories, one empty string, NULLs), "pixels" a float8[3] array, "city"
 * categorical with many categories (one-hot caps and hashing) and "notes",
 * which is text when the options make it text (preprocess_text_columns, as
 * the loader reads them: each row's terms with counts, or hash buckets; a
 * NULL and an empty text among them) and categorical otherwise.  Both
 * defaults of the algorithm's scaling preference are tried.  A preprocessor
 * the options produce must work: every training row without NULLs turns into
 * finite features (sparse rows, columns ascending, with text), every feature
 * has a name, rows of unseen categories and missing values transform, and the
 * serialised preprocessor reads back and serialises to the same bytes.  An
 * ERROR with an unexpected SQLSTATE is a finding (fuzz_common.c).
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fmgr.h"
#include "utils/float.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"

#include "data/dataset.h"
#include "fuzz_common.h"
#include "model/modelio.h"
#include "pg_shim.h"
#include "text/vocab.h"

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_ROWS 40
#define N_INPUTS 6
#define N_RAW 8
#define N_CITIES 30
#define N_WORDS 12

/*
 * Above this many features (hash_buckets and max_categories allow about a
 * million) only the cheap checks run: naming and transforming every feature
 * of every row takes seconds under the sanitizers and is no different code.
 */
#define CHECK_ALL_MAX_FEATURES 20000

static const char *const colors[] = {"red", "green", "blue", ""};

/*
 * "notes" as the loader stores a text column: each row's distinct terms
 * (dictionary codes, or hash buckets of hash_buckets > 0) with their counts;
 * row 5 is NULL, row 6 empty.
 */
static void
make_text_column(InputColumn *in, double *raw, int hash_buckets)
{
	char	  **words = palloc(sizeof(char *) * N_WORDS);
	int64		nnz = 0;

	for (int w = 0; w < N_WORDS; w++)
		words[w] = psprintf("w%d", w);
	in->kind = INPUT_TEXT;
	in->text_config = pstrdup("pg_catalog.english");
	in->text_buckets = hash_buckets;
	in->doc_start = palloc(sizeof(int64) * (N_ROWS + 1));
	in->doc_terms = palloc(sizeof(int32) * N_ROWS * 3);
	in->doc_counts = palloc(sizeof(int32) * N_ROWS * 3);
	if (hash_buckets == 0)
	{
		in->n_categories = N_WORDS;
		in->categories = words;
		in->category_counts = palloc0(sizeof(int64) * N_WORDS);
	}
	else
		in->n_categories = 0;
	in->doc_start[0] = 0;
	for (int r = 0; r < N_ROWS; r++)
	{
		raw[r * N_RAW + in->raw_offset] = r == 5 ? get_float8_nan() : (double) r;
		for (int t = 0; r != 5 && r != 6 && t < 1 + r % 3; t++)
		{
			int			w = (r + 4 * t) % N_WORDS;	/* distinct for t < 3 */
			int32		term = hash_buckets ? text_hash_bucket(words[w], strlen(words[w]), hash_buckets) : w;
			bool		seen = false;

			for (int64 k = in->doc_start[r]; k < nnz; k++)
				if (in->doc_terms[k] == term)
				{
					in->doc_counts[k] += 1;
					seen = true;
				}
			if (!seen)
			{
				in->doc_terms[nnz] = term;
				in->doc_counts[nnz] = 1 + (r + t) % 4;
				nnz++;
			}
		}
		in->doc_start[r + 1] = nnz;
	}
}

/*
 * Build the fixed Dataset (in the shim's memory; rebuilt for every input);
 * "notes" is text when the options' text columns name it.
 */
static Dataset *
make_dataset(const TextColumnSpec *text, int n_text)
{
	Dataset    *ds = palloc0(sizeof(Dataset));
	InputColumn *in = palloc0(sizeof(InputColumn) * N_INPUTS);
	double	   *raw = palloc(sizeof(double) * N_ROWS * N_RAW);
	static const struct
	{
		const char *name;
		InputKind	kind;
		const char *typname;
		int			width;
	}			cols[N_INPUTS] = {
		{"x", INPUT_NUMERIC, "double precision", 1},
		{"flag", INPUT_BOOLEAN, "boolean", 1},
		{"color", INPUT_CATEGORICAL, "text", 1},
		{"pixels", INPUT_ARRAY, "double precision[]", 3},
		{"city", INPUT_CATEGORICAL, "text", 1},
		{"notes", INPUT_CATEGORICAL, "text", 1},
	};
	int			off = 0;
	const TextColumnSpec *notes = NULL;

	for (int t = 0; t < n_text; t++)
		if (strcmp(text[t].name, "notes") == 0)
			notes = &text[t];

	for (int i = 0; i < N_INPUTS; i++)
	{
		in[i].name = pstrdup(cols[i].name);
		in[i].kind = cols[i].kind;
		in[i].typid = InvalidOid;
		in[i].typname = pstrdup(cols[i].typname);
		in[i].width = cols[i].width;
		in[i].raw_offset = off;
		off += cols[i].width;
	}
	in[2].n_categories = lengthof(colors);
	in[2].categories = palloc(sizeof(char *) * lengthof(colors));
	in[2].category_counts = palloc0(sizeof(int64) * lengthof(colors));
	for (int c = 0; c < (int) lengthof(colors); c++)
		in[2].categories[c] = pstrdup(colors[c]);
	in[4].n_categories = N_CITIES;
	in[4].categories = palloc(sizeof(char *) * N_CITIES);
	in[4].category_counts = palloc0(sizeof(int64) * N_CITIES);
	for (int c = 0; c < N_CITIES; c++)
		in[4].categories[c] = psprintf("city%02d", c);

	for (int r = 0; r < N_ROWS; r++)
	{
		double	   *row = raw + r * N_RAW;

		row[0] = (r % 9 == 4) ? get_float8_nan() : r * 0.5 - 3;
		row[1] = r % 3 == 0;
		row[2] = (r % 11 == 7) ? get_float8_nan() : (double) (r % lengthof(colors));
		row[3] = r;
		row[4] = -r * 2.0;
		row[5] = 7.0;			/* constant: a zero-width range */
		row[6] = (double) ((r * 7) % N_CITIES);
		row[7] = (double) (r % N_WORDS);
		if (!isnan(row[2]))
			in[2].category_counts[(int) row[2]]++;
		in[4].category_counts[(int) row[6]]++;
	}
	if (notes)
		make_text_column(&in[5], raw, notes->hash_buckets);
	else
	{
		in[5].n_categories = N_WORDS;
		in[5].categories = palloc(sizeof(char *) * N_WORDS);
		in[5].category_counts = palloc0(sizeof(int64) * N_WORDS);
		for (int c = 0; c < N_WORDS; c++)
			in[5].categories[c] = psprintf("w%d", c);
	}
	ds->n_inputs = N_INPUTS;
	ds->inputs = in;
	ds->n_raw = N_RAW;
	ds->n_rows = N_ROWS;
	ds->raw = raw;
	ds->task = TASK_REGRESSION;
	return ds;
}

/* Check a preprocessor the options produced. */
static void
check_preprocessor(const Preprocessor *p, const Dataset *ds, const int64 *rows)
{
	int			nf = preprocess_n_features(p);
	double	   *out = palloc(sizeof(double) * Max(nf, 1));
	double		raw[N_RAW];
	ModelWriter w1,
				w2;
	ModelReader r;
	Preprocessor *p2;

	if (nf <= 0 || preprocess_n_inputs(p) != N_INPUTS || preprocess_n_raw(p) != N_RAW)
		fuzz_finding("fitted preprocessor has %d features, %d inputs, %d raw slots",
					 nf, preprocess_n_inputs(p), preprocess_n_raw(p));
	for (int j = 0; nf <= CHECK_ALL_MAX_FEATURES && j < nf; j++)
		if (preprocess_feature_name(p, j) == NULL)
			fuzz_finding("feature %d has no name", j);

	if (preprocess_is_sparse(p))
	{
		/* text: sparse rows, well formed; unseen categories and missing inputs too */
		SparseRow	sr;

		sparse_row_init(&sr, 8);
		for (int i = 0; i < N_ROWS + 2; i++)
		{
			const double *row = ds->raw + (int64) Min(i, N_ROWS - 1) * N_RAW;

			if (i < N_ROWS)
				preprocess_apply_sparse_dataset(p, ds, row, &sr);
			else
			{
				for (int s = 0; s < N_RAW; s++)
					raw[s] = i == N_ROWS ? -1.0 : get_float8_nan();
				preprocess_apply_sparse(p, raw, NULL, &sr);
			}
			for (int q = 0; q < sr.nnz; q++)
				if (sr.idx[q] < 0 || sr.idx[q] >= nf || (q > 0 && sr.idx[q] <= sr.idx[q - 1]) ||
					!isfinite(sr.val[q]))
					fuzz_finding("row %d gives sparse entry %d: column %d of %d, value %g",
								 i, q, sr.idx[q], nf, sr.val[q]);
		}
	}
	else
	{
		for (int i = 0; i < (nf <= CHECK_ALL_MAX_FEATURES ? N_ROWS : 1); i++)
		{
			const double *row = ds->raw + (int64) i * N_RAW;
			bool		complete = true;

			for (int s = 0; s < N_RAW; s++)
				if (isnan(row[s]))
					complete = false;
			preprocess_apply_raw(p, row, out);
			for (int j = 0; complete && j < nf; j++)
				if (!isfinite(out[j]))
					fuzz_finding("training row %d without NULLs gives feature %s = %g",
								 i, preprocess_feature_name(p, j), out[j]);
		}
		/* unseen categories, every input missing */
		for (int k = 0; k < 2; k++)
		{
			for (int s = 0; s < N_RAW; s++)
				raw[s] = k == 0 ? -1.0 : get_float8_nan();
			preprocess_apply_raw(p, raw, out);
		}
	}
	if (nf <= CHECK_ALL_MAX_FEATURES && !preprocess_is_sparse(p))
	{
		double	   *all = palloc(sizeof(double) * N_ROWS * Max(nf, 1));

		preprocess_transform(p, ds, rows, N_ROWS, all);
	}

	PG_TRY();
	{
		mw_init(&w1);
		preprocess_write(p, &w1);
		mr_init(&r, w1.buf.data, w1.buf.len);
		p2 = preprocess_read(&r);
		mr_finish(&r);
		mw_init(&w2);
		preprocess_write(p2, &w2);
	}
	PG_CATCH();
	{
		fuzz_finding("a fitted preprocessor does not read back: %s (%s)", shim_last_message(),
					 unpack_sql_state(shim_last_sqlstate()));
	}
	PG_END_TRY();
	if (w1.buf.len != w2.buf.len || memcmp(w1.buf.data, w2.buf.data, w1.buf.len) != 0)
		fuzz_finding("a fitted preprocessor changes when serialised again (%d vs %d bytes)",
					 w1.buf.len, w2.buf.len);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_setup("fuzz_preprocess");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = malloc(size + 1);
	Jsonb	   *volatile jb = NULL;

	memcpy(text, data, size);
	text[size] = '\0';
	PG_TRY();
	{
		jb = DatumGetJsonbP(fuzz_call1(jsonb_in, CStringGetDatum(text)));
	}
	PG_CATCH();
	{
		fuzz_check_error("jsonb_in");
		jb = NULL;
	}
	PG_END_TRY();
	for (int scale = 0; jb != NULL && scale < 2; scale++)
	{
		TextColumnSpec *volatile text = NULL;
		volatile int n_text = 0;
		Dataset    *ds;
		int64		rows[N_ROWS];
		Preprocessor *volatile p = NULL;

		for (int i = 0; i < N_ROWS; i++)
			rows[i] = i;
		/* the text columns, as train reads them before loading */
		PG_TRY();
		{
			int			n;

			text = preprocess_text_columns(jb, &n);
			n_text = n;
		}
		PG_CATCH();
		{
			fuzz_check_error("preprocess_text_columns");
			break;
		}
		PG_END_TRY();
		ds = make_dataset(text, n_text);
		PG_TRY();
		{
			p = preprocess_fit(ds, rows, N_ROWS, jb, scale == 1);
		}
		PG_CATCH();
		{
			fuzz_check_error("preprocess_fit");
			p = NULL;
		}
		PG_END_TRY();
		if (p == NULL)
			continue;
		PG_TRY();
		{
			check_preprocessor(p, ds, rows);
		}
		PG_CATCH();
		{
			fuzz_check_error("using a fitted preprocessor");
		}
		PG_END_TRY();
	}
	shim_free_all();
	free(text);
	return 0;
}
