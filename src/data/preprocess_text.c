/*
 * preprocess_text.c — the text inputs of the preprocessor (see
 * preprocess.c for the whole and data/preprocessor.h for the shared types).
 *
 * A column the options make text is tokenised while loading (text/
 * tokenize.h; the Dataset keeps each row's distinct terms with their
 * counts, and its raw slot holds the row's number).  Fitting chooses the
 * vocabulary on the training rows only (min_df, max_df, then the
 * max_features most frequent; text/vocab.h) and, for "tfidf", the smoothed
 * inverse document frequencies of scikit-learn's TfidfVectorizer; "hashing"
 * needs no fitting.  A row's text features are its term counts (1 for
 * "binary", 1 + ln(count) with sublinear_tf), times the idf ("tfidf"),
 * normalised ("norm": l2 by default for tfidf and hashing), at the input's
 * own feature offsets, ascending.  NULL and empty texts have no features.
 * "sequence" reads a text as its first max_length lexemes in order, for a
 * sequence model (text/vocab.h's token ids: 2 + the vocabulary index, 1 out
 * of the vocabulary, 0 = padding, left out of the sparse row): the loader
 * keeps each row's terms in order, and the features are the tokens,
 * right-aligned after the padding.
 * At prediction, a call site tokenises each row's text into its own terms
 * (PrepTextConv), remembering the vocabulary index of every lexeme id.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "data/data_internal.h"
#include "data/preprocessor.h"
#include "model/model.h"
#include "text/tokenize.h"
#include "text/vocab.h"
#include "util/jsonb_build.h"

const char *const prep_text_names[] = {"none", "tfidf", "counts", "binary", "hashing", "sequence"};
const char *const prep_norm_names[] = {"none", "l2", "l1"};

/* The text options of a column, checked against its "text" mode. */
void
prep_text_check_options(const PrepOptions *o, const char *where)
{
	const char *mode;

	if (!o->has_text)
	{
		if (o->has_config || o->has_min_df || o->has_max_df || o->has_max_features ||
			o->has_n_features || o->has_norm || o->has_sublinear_tf || o->has_smooth_idf ||
			o->has_max_length)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("preprocess options config, min_df, max_df, max_features, n_features, norm, sublinear_tf, smooth_idf and max_length%s need \"text\"",
							where),
					 errhint("Make the column text with \"text\": \"tfidf\", \"counts\", \"binary\", \"hashing\" or \"sequence\".")));
		return;
	}
	mode = prep_text_names[o->text];
	if ((o->has_scale && o->scale != SCALE_NONE) || o->has_max_categories || o->has_hash_buckets)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess options \"scale\", \"max_categories\" and \"hash_buckets\" do not apply to text%s", where),
				 errhint("The size of a text column's features is set by \"max_features\" (a vocabulary) or \"n_features\" (hashing).")));
	if (o->has_impute && o->impute != IMPUTE_ZERO && o->impute != IMPUTE_ERROR)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess option \"impute\" = \"%s\" does not apply to text%s", prep_impute_names[o->impute], where),
				 errhint("A NULL text has no words (\"zero\", the default), or is an error (\"error\").")));
	if (o->text == TEXT_HASHING && (o->has_min_df || o->has_max_df || o->has_max_features))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess options \"min_df\", \"max_df\" and \"max_features\" need a vocabulary, not \"text\": \"hashing\"%s", where),
				 errhint("Hashing has a fixed width: \"n_features\".")));
	if (o->text != TEXT_HASHING && o->has_n_features)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess option \"n_features\" applies to \"text\": \"hashing\", not \"%s\"%s", mode, where),
				 errhint("A vocabulary's size is limited by \"max_features\".")));
	if (o->text != TEXT_SEQUENCE && o->has_max_length)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess option \"max_length\" applies to \"text\": \"sequence\", not \"%s\"%s", mode, where),
				 errhint("A bag of words has no length; its size is limited by \"max_features\".")));
	if (o->text == TEXT_SEQUENCE && o->has_norm)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess option \"norm\" does not apply to \"text\": \"sequence\"%s", where),
				 errhint("A sequence's features are token ids, not weights.")));
	if (o->text != TEXT_TFIDF && (o->has_sublinear_tf || o->has_smooth_idf))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("preprocess options \"sublinear_tf\" and \"smooth_idf\" apply to \"text\": \"tfidf\", not \"%s\"%s", mode, where)));
}

/* Resolve the fitted settings of a text input from its (checked) options. */
void
prep_text_resolve(const PrepOptions *g, const PrepOptions *c, PrepColumn *pc)
{
	/* checked by prep_text_check_options: no scaling, NULL is no words or an error */
	pc->scale = SCALE_NONE;
	pc->impute = c->has_impute ? c->impute :
		(g->has_impute && g->impute == IMPUTE_ERROR) ? IMPUTE_ERROR : IMPUTE_ZERO;
	pc->text = c->text;
	pc->norm = c->has_norm ? c->norm :
		(c->text == TEXT_TFIDF || c->text == TEXT_HASHING) ? NORM_L2 : NORM_NONE;
	pc->sublinear_tf = c->has_sublinear_tf && c->sublinear_tf;
	pc->smooth_idf = !c->has_smooth_idf || c->smooth_idf;
	pc->min_df = c->has_min_df ? c->min_df : 1.0;
	pc->max_df = c->has_max_df ? c->max_df : 1.0;
	pc->max_features = c->has_max_features ? c->max_features :
		c->text == TEXT_SEQUENCE ? PREP_TEXT_DEFAULT_SEQ_VOCAB : 0;
	pc->n_out = c->text == TEXT_HASHING ? (c->has_n_features ? c->n_features : PREP_TEXT_DEFAULT_HASH) :
		c->text == TEXT_SEQUENCE ? (c->has_max_length ? c->max_length : PREP_TEXT_DEFAULT_LENGTH) : 0;
}

/* A document-frequency bound as a number of the n documents: a fraction (min: below 1, max: up to 1) or a count. */
static int64
df_bound(double v, int64 n, bool upper)
{
	if (upper)
		return v <= 1.0 ? (int64) floor(v * (double) n) : (int64) v;
	return v < 1.0 ? (int64) ceil(v * (double) n) : (int64) v;
}

/*
 * Fit one text input: hashing needs nothing; a vocabulary is chosen from
 * the terms of the training rows' texts (document frequencies, then the most
 * frequent), with the inverse document frequencies for tfidf.
 */
void
prep_text_fit(Preprocessor *p, int i, const Dataset *ds, const InputColumn *dsin,
		 const int64 *rows, int64 n_rows)
{
	InputColumn *in = &p->inputs[i];
	PrepColumn *pc = &p->cols[i];
	int			s = dsin->raw_offset;
	int			ncat = dsin->n_categories;
	int64		nulls = 0;
	int64	   *df;
	int64	   *tf;
	int		   *map;
	int64		min_docs,
				max_docs;
	int64	   *last = NULL;

	if (dsin->doc_start == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("text column \"%s\" has no words loaded", dsin->name)));
	pc->text_config = pstrdup(dsin->text_config ? dsin->text_config : PREP_TEXT_DEFAULT_CONFIG);
	pc->n_docs = n_rows;
	/* the fitted schema keeps a vocabulary, not the load-time terms */
	in->n_categories = 0;
	in->categories = NULL;
	in->category_counts = NULL;
	for (int64 r = 0; r < n_rows; r++)
		if (isnan(dataset_raw_value(ds, rows[r], s)))
			nulls++;
	if (nulls > 0 && pc->impute == IMPUTE_ERROR)
		prep_null_is_error(in->name);

	if (pc->text == TEXT_HASHING)
	{
		/* the loader stored hash buckets: nothing to learn */
		if (dsin->text_buckets != pc->n_out)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("text column \"%s\" was loaded into %d hash buckets, not n_features = %d",
							dsin->name, dsin->text_buckets, pc->n_out)));
		p->fit_map[i] = NULL;
		p->fit_ncodes[i] = 0;
		return;
	}
	if (dsin->text_buckets != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("text column \"%s\" was loaded hashed, but its options ask for a vocabulary", dsin->name)));
	if ((pc->text == TEXT_SEQUENCE) != (dsin->text_sequence > 0) ||
		(pc->text == TEXT_SEQUENCE && dsin->text_sequence != pc->n_out))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("text column \"%s\" was loaded %s, but its options ask for \"%s\"", dsin->name,
						dsin->text_sequence > 0 ? psprintf("as a sequence of %d words", dsin->text_sequence) :
						"as a bag of words", prep_text_names[pc->text])));

	/*
	 * document frequency and occurrences of every term over the training
	 * rows (a sequence repeats terms: a document counts once, by its last)
	 */
	df = palloc0(sizeof(int64) * Max(ncat, 1));
	tf = palloc0(sizeof(int64) * Max(ncat, 1));
	if (pc->text == TEXT_SEQUENCE)
	{
		last = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(ncat, 1));
		memset(last, 0xFF, sizeof(int64) * Max(ncat, 1));	/* -1 */
	}
	for (int64 r = 0; r < n_rows; r++)
	{
		double		x = dataset_raw_value(ds, rows[r], s);
		int64		doc;

		if ((r & 0x3FFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (isnan(x))
			continue;
		doc = (int64) x;
		if (doc < 0 || doc >= ds->n_rows)
			elog(ERROR, "galaxy: document %g of text column \"%s\" is not a row", x, dsin->name);
		for (int64 k = dsin->doc_start[doc]; k < dsin->doc_start[doc + 1]; k++)
		{
			int32		t = dsin->doc_terms[k];

			if (t < 0 || t >= ncat)
				elog(ERROR, "galaxy: term %d of text column \"%s\" is outside its %d terms", t, dsin->name, ncat);
			if (last == NULL || last[t] != doc)
				df[t]++;
			if (last)
				last[t] = doc;
			tf[t] += dsin->doc_counts[k];
		}
	}
	min_docs = df_bound(pc->min_df, n_rows, false);
	max_docs = df_bound(pc->max_df, n_rows, true);
	if (max_docs < min_docs)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("for text column \"%s\", max_df keeps terms of at most " INT64_FORMAT " documents, fewer than the " INT64_FORMAT " min_df asks for",
						in->name, max_docs, min_docs),
				 errdetail("The training split has " INT64_FORMAT " rows.", n_rows)));
	map = palloc(sizeof(int) * Max(ncat, 1));
	pc->vocab = text_vocab_build(ncat, dsin->categories, df, tf, n_rows,
								 Max(min_docs, 1), max_docs, pc->max_features, map);
	if (pc->vocab->n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("text column \"%s\" has no term for its vocabulary", in->name),
				 errdetail("The " INT64_FORMAT " training rows (" INT64_FORMAT " NULL) have %d distinct terms; none is in at least " INT64_FORMAT " and at most " INT64_FORMAT " documents.",
						   n_rows, nulls, ncat, Max(min_docs, 1), max_docs),
				 errhint("Lower \"min_df\" or raise \"max_df\"; with config 'english' a text of stop words only has no terms.")));
	if (pc->text != TEXT_SEQUENCE)
		pc->n_out = pc->vocab->n;
	if (pc->text == TEXT_TFIDF)
	{
		pc->idf = palloc(sizeof(double) * pc->n_out);
		for (int j = 0; j < pc->n_out; j++)
			pc->idf[j] = text_vocab_idf(pc->vocab, j, pc->smooth_idf);
	}
	p->fit_map[i] = map;
	p->fit_ncodes[i] = ncat;
	pfree(df);
	pfree(tf);
	if (last)
		pfree(last);
}

/* Sort n entries of a row by column (a quicksort for long rows, insertion below 16). */
static void
sort_entries(int32 *idx, double *val, int n)
{
	while (n > 16)
	{
		int32		a = idx[0],
					b = idx[n / 2],
					c = idx[n - 1];
		int32		pivot = (a < b) ? ((b < c) ? b : ((a < c) ? c : a)) : ((a < c) ? a : ((b < c) ? c : b));
		int			i = 0,
					j = n - 1;

		while (i <= j)
		{
			while (idx[i] < pivot)
				i++;
			while (idx[j] > pivot)
				j--;
			if (i <= j)
			{
				int32		ti = idx[i];
				double		tv = val[i];

				idx[i] = idx[j];
				val[i] = val[j];
				idx[j] = ti;
				val[j] = tv;
				i++;
				j--;
			}
		}
		/* recurse into the smaller part, loop on the larger */
		if (j + 1 < n - i)
		{
			sort_entries(idx, val, j + 1);
			idx += i;
			val += i;
			n -= i;
		}
		else
		{
			sort_entries(idx + i, val + i, n - i);
			n = j + 1;
		}
	}
	for (int k = 1; k < n; k++)
	{
		int32		ti = idx[k];
		double		tv = val[k];
		int			m = k - 1;

		while (m >= 0 && idx[m] > ti)
		{
			idx[m + 1] = idx[m];
			val[m + 1] = val[m];
			m--;
		}
		idx[m + 1] = ti;
		val[m + 1] = tv;
	}
}

/*
 * A sequence's features, appended to out: the token ids of its first n_out
 * words, right-aligned (the padding comes first, as in Keras'
 * pad_sequences, so a recurrent network's last step is the text's last
 * word), padding left out.  ids: the Dataset's terms in text order
 * mapped through map, or (map NULL) vocabulary indexes, -1 for a word out
 * of the vocabulary.
 */
static void
apply_sequence(const PrepColumn *pc, const int32 *ids, int64 n, const int *map, int map_n,
			   SparseRow *out)
{
	int			first;

	n = Min(n, (int64) pc->n_out);
	first = pc->out_offset + pc->n_out - (int) n;
	sparse_row_reserve(out, n);
	for (int64 k = 0; k < n; k++)
	{
		int32		t = ids[k];
		int			own;

		if (map)
			own = (t >= 0 && t < map_n) ? map[t] : -1;
		else
			own = (t >= 0 && t < pc->vocab->n) ? t : -1;
		sparse_row_push(out, first + (int) k,
						(double) (own >= 0 ? TEXT_SEQ_FIRST + own : TEXT_SEQ_OOV));
	}
}

/*
 * Text input i's features for raw slot value x, appended to out: its terms
 * from the fitted Dataset ds (x is the row's document), or from terms
 * (own ids).
 */
void
prep_text_apply(const Preprocessor *p, int i, double x, const Dataset *ds, const TextTerms *terms,
		   SparseRow *out)
{
	const PrepColumn *pc = &p->cols[i];
	const int32 *ids = NULL;
	const int32 *counts = NULL;
	const int  *map = NULL;
	int			map_n = 0;
	int64		n = 0;
	int			start = out->nnz;
	int			m;
	bool		sorted = true;
	double		norm = 0.0;

	if (isnan(x))
	{
		if (unlikely(pc->impute == IMPUTE_ERROR))
			prep_null_is_error(p->inputs[i].name);
		return;					/* no words */
	}
	if (ds != NULL)
	{
		const InputColumn *d = &ds->inputs[i];
		int64		doc = (int64) x;

		if (i >= ds->n_inputs || d->kind != INPUT_TEXT || d->doc_start == NULL ||
			!(x >= 0 && x < (double) ds->n_rows))
			elog(ERROR, "galaxy: text input \"%s\" does not match the Dataset row", p->inputs[i].name);
		ids = d->doc_terms + d->doc_start[doc];
		counts = d->doc_counts + d->doc_start[doc];
		n = d->doc_start[doc + 1] - d->doc_start[doc];
		if (pc->text != TEXT_HASHING)
		{
			if (p->fit_map == NULL || p->fit_map[i] == NULL)
				elog(ERROR, "galaxy: dataset terms need the preprocessor fitted on that dataset");
			map = p->fit_map[i];
			map_n = p->fit_ncodes[i];
		}
	}
	else if (terms != NULL)
	{
		ids = terms[i].ids;
		counts = terms[i].counts;
		n = terms[i].n;
	}
	if (pc->text == TEXT_SEQUENCE)
	{
		apply_sequence(pc, ids, n, map, map_n, out);
		return;
	}
	sparse_row_reserve(out, n);
	for (int64 k = 0; k < n; k++)
	{
		int32		t = ids[k];
		int			own;

		if (map)
			own = (t >= 0 && t < map_n) ? map[t] : -1;
		else
			own = (t >= 0 && t < pc->n_out) ? t : -1;
		if (own < 0 || counts[k] <= 0)
			continue;			/* out of the vocabulary */
		if (out->nnz > start && out->idx[out->nnz - 1] >= pc->out_offset + own)
			sorted = false;
		sparse_row_push(out, pc->out_offset + own, (double) counts[k]);
	}
	if (!sorted)
	{
		/* sort the terms by feature, and add up the counts of a feature seen twice */
		sort_entries(out->idx + start, out->val + start, out->nnz - start);
		m = start;
		for (int k = start; k < out->nnz; k++)
		{
			if (k > start && out->idx[k] == out->idx[m - 1])
				out->val[m - 1] += out->val[k];
			else
			{
				out->idx[m] = out->idx[k];
				out->val[m] = out->val[k];
				m++;
			}
		}
		out->nnz = m;
	}
	/* term frequency, times the idf, then the norm */
	for (int k = start; k < out->nnz; k++)
	{
		double		v = out->val[k];

		if (pc->text == TEXT_BINARY)
			v = 1.0;
		else if (pc->sublinear_tf)
			v = 1.0 + log(v);
		if (pc->text == TEXT_TFIDF)
			v *= pc->idf[out->idx[k] - pc->out_offset];
		out->val[k] = v;
		norm += pc->norm == NORM_L2 ? v * v : fabs(v);
	}
	if (pc->norm != NORM_NONE && norm > 0.0)
	{
		double		scale = pc->norm == NORM_L2 ? 1.0 / sqrt(norm) : 1.0 / norm;

		for (int k = start; k < out->nnz; k++)
			out->val[k] *= scale;
	}
}

/* Serialise a text input's fitted transform. */
void
prep_text_write(const PrepColumn *pc, ModelWriter *w)
{
	mw_u8(w, (uint8) pc->text);
	mw_u8(w, (uint8) pc->norm);
	mw_u8(w, (uint8) ((pc->sublinear_tf ? 1 : 0) | (pc->smooth_idf ? 2 : 0)));
	mw_str(w, pc->text_config);
	mw_i32(w, pc->n_out);
	mw_i64(w, pc->n_docs);
	mw_f64(w, pc->min_df);
	mw_f64(w, pc->max_df);
	mw_i32(w, pc->max_features);
	if (pc->text != TEXT_HASHING)
		text_vocab_write(pc->vocab, w);
}

/* Read and validate the fitted transform of a text input. */
void
prep_text_read(ModelReader *r, const InputColumn *in, PrepColumn *pc)
{
	uint8		mode = mr_u8(r);
	uint8		norm = mr_u8(r);
	uint8		flags = mr_u8(r);

	if (mode < TEXT_TFIDF || mode > TEXT_SEQUENCE)
		mr_corrupt("text input \"%s\" has unknown mode %u", in->name, mode);
	if (norm > NORM_L1)
		mr_corrupt("text input \"%s\" has unknown norm %u", in->name, norm);
	if (flags & ~3)
		mr_corrupt("text input \"%s\" has unknown flags 0x%02X", in->name, flags);
	if (pc->scale != SCALE_NONE || (pc->impute != IMPUTE_ZERO && pc->impute != IMPUTE_ERROR))
		mr_corrupt("text input \"%s\" is scaled or imputed", in->name);
	pc->enc = ENC_NONE;
	pc->missing_code = -1;
	pc->text = (TextMode) mode;
	pc->norm = (TextNorm) norm;
	pc->sublinear_tf = (flags & 1) != 0;
	pc->smooth_idf = (flags & 2) != 0;
	pc->text_config = mr_str(r, PREP_MAX_NAME);
	if (pc->text_config == NULL || pc->text_config[0] == '\0')
		mr_corrupt("text input \"%s\" has no text search configuration", in->name);
	pc->n_out = mr_i32_range(r, 1, mode == TEXT_HASHING ? PREP_TEXT_MAX_HASH :
							 mode == TEXT_SEQUENCE ? PREP_TEXT_MAX_LENGTH : MODEL_MAX_FEATURES,
							 "text feature count");
	pc->n_docs = mr_i64(r);
	if (pc->n_docs < 1)
		mr_corrupt("text input \"%s\" was fitted on " INT64_FORMAT " documents", in->name, pc->n_docs);
	pc->min_df = mr_f64_finite(r, "min_df");
	pc->max_df = mr_f64_finite(r, "max_df");
	pc->max_features = mr_i32_range(r, 0, MODEL_MAX_FEATURES, "max_features");
	if (mode == TEXT_HASHING)
		return;
	pc->vocab = text_vocab_read(r, MODEL_MAX_FEATURES);
	if ((pc->vocab->n != pc->n_out && mode != TEXT_SEQUENCE) || pc->vocab->n_docs != pc->n_docs)
		mr_corrupt("text input \"%s\" has a vocabulary of %d terms from " INT64_FORMAT " documents for %d features from " INT64_FORMAT,
				   in->name, pc->vocab->n, pc->vocab->n_docs, pc->n_out, pc->n_docs);
	if (mode == TEXT_TFIDF)
	{
		pc->idf = palloc(sizeof(double) * pc->n_out);
		for (int j = 0; j < pc->n_out; j++)
			pc->idf[j] = text_vocab_idf(pc->vocab, j, pc->smooth_idf);
	}
}

#define DESCRIBE_TOP_TERMS		20

/* qsort_arg comparator of vocabulary indexes: more documents first, then the term. */
static int
cmp_by_df(const void *a, const void *b, void *arg)
{
	const TextVocab *v = (const TextVocab *) arg;
	int			i = *(const int *) a;
	int			j = *(const int *) b;

	if (v->df[i] != v->df[j])
		return v->df[i] > v->df[j] ? -1 : 1;
	return (i > j) - (i < j);
}

/* The keys of a text input in galaxy.describe(). */
void
prep_text_describe(JsonbParseState **st, const PrepColumn *pc)
{
	jb_kv_str(st, "text", prep_text_names[pc->text]);
	jb_kv_str(st, "config", pc->text_config);
	jb_kv_str(st, "norm", prep_norm_names[pc->norm]);
	jb_kv_num(st, "training_documents", (double) pc->n_docs);
	if (pc->text == TEXT_HASHING)
	{
		jb_kv_num(st, "hash_features", pc->n_out);
		return;
	}
	if (pc->text == TEXT_SEQUENCE)
		jb_kv_num(st, "max_length", pc->n_out);
	jb_kv_num(st, "vocabulary_size", pc->vocab->n);
	jb_kv_num(st, "min_df", pc->min_df);
	jb_kv_num(st, "max_df", pc->max_df);
	if (pc->max_features > 0)
		jb_kv_num(st, "max_features", pc->max_features);
	if (pc->text == TEXT_TFIDF)
	{
		jb_kv_bool(st, "sublinear_tf", pc->sublinear_tf);
		jb_kv_bool(st, "smooth_idf", pc->smooth_idf);
	}
	{
		int			nv = pc->vocab->n;
		int		   *order = palloc(sizeof(int) * Max(nv, 1));
		int			n = Min(nv, DESCRIBE_TOP_TERMS);

		for (int j = 0; j < nv; j++)
			order[j] = j;
		qsort_arg(order, nv, sizeof(int), cmp_by_df, pc->vocab);
		jb_key(st, "most_frequent_terms");
		pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
		for (int j = 0; j < n; j++)
			jb_str(st, WJB_ELEM, pc->vocab->terms[order[j]]);
		pushJsonbValue(st, WJB_END_ARRAY, NULL);
		pfree(order);
	}
}

/* The text inputs of a call site: their tokenizers and the terms of the row converted last. */
struct PrepTextConv
{
	const Preprocessor *p;
	TextTokenizer **tk;			/* per input; NULL for an input that is not text */
	TextTerms  *terms;			/* per input */
	int32	  **ids;			/* per input: the buffers terms[i] points into */
	int32	  **counts;
	int		   *cap;
	int32	   *lexemes;		/* own ids of the lexemes of the text being read */
	int			n_lexemes;
	int			cap_lexemes;
	int			input;			/* the text input being read */
	/* per input: the own id of each lexeme id of its tokenizer (-1: not yet known, -2: none) */
	int32	  **memo;
	int		   *memo_cap;
	uint64	   *memo_gen;
};

/* Set up the tokenizers of the text inputs (their configurations must exist). */
PrepTextConv *
prep_text_conv_create(const Preprocessor *p)
{
	PrepTextConv *tc = palloc0(sizeof(PrepTextConv));
	int			n = Max(p->n_inputs, 1);

	tc->p = p;
	tc->tk = palloc0(sizeof(TextTokenizer *) * n);
	tc->terms = palloc0(sizeof(TextTerms) * n);
	tc->ids = palloc0(sizeof(int32 *) * n);
	tc->counts = palloc0(sizeof(int32 *) * n);
	tc->cap = palloc0(sizeof(int) * n);
	tc->memo = palloc0(sizeof(int32 *) * n);
	tc->memo_cap = palloc0(sizeof(int) * n);
	tc->memo_gen = palloc0(sizeof(uint64) * n);
	for (int i = 0; i < p->n_inputs; i++)
	{
		if (p->inputs[i].kind != INPUT_TEXT)
			continue;
		tc->tk[i] = text_tokenizer_create(text_config_oid(p->cols[i].text_config));
		tc->memo_cap[i] = 1024;
		tc->memo[i] = palloc(sizeof(int32) * tc->memo_cap[i]);
		memset(tc->memo[i], 0xFF, sizeof(int32) * tc->memo_cap[i]);	/* -1 */
		tc->memo_gen[i] = text_tokenizer_generation(tc->tk[i]);
		tc->cap[i] = 64;
		tc->ids[i] = palloc(sizeof(int32) * tc->cap[i]);
		tc->counts[i] = palloc(sizeof(int32) * tc->cap[i]);
	}
	tc->cap_lexemes = 256;
	tc->lexemes = palloc(sizeof(int32) * tc->cap_lexemes);
	return tc;
}

/* The own id of a lexeme of text input i: vocabulary index or bucket, -1 for none. */
static int32
text_own_id(const PrepColumn *pc, const char *lexeme, int len)
{
	if (pc->text == TEXT_HASHING)
		return len <= TEXT_MAX_TERM_BYTES ? text_hash_bucket(lexeme, len, pc->n_out) : -1;
	return text_vocab_lookup(pc->vocab, lexeme, len);
}

/* One lexeme of the text being converted: its own id (vocabulary index or bucket), if any. */
static void
text_conv_lexeme(void *arg, const char *lexeme, int len, int position, int lexeme_id)
{
	PrepTextConv *tc = (PrepTextConv *) arg;
	int			i = tc->input;
	const PrepColumn *pc = &tc->p->cols[i];
	int32		id;

	/* a word training skipped (too long for any vocabulary) is no token either */
	if (pc->text == TEXT_SEQUENCE && len > TEXT_MAX_TERM_BYTES)
		return;
	if (lexeme_id < 0)
		id = text_own_id(pc, lexeme, len);
	else
	{
		/* a lexeme id seen before has the same own id */
		if (tc->memo_gen[i] != text_tokenizer_generation(tc->tk[i]))
		{
			memset(tc->memo[i], 0xFF, sizeof(int32) * tc->memo_cap[i]);
			tc->memo_gen[i] = text_tokenizer_generation(tc->tk[i]);
		}
		if (lexeme_id >= tc->memo_cap[i])
		{
			int			cap = Max(tc->memo_cap[i] * 2, lexeme_id + 1);

			tc->memo[i] = repalloc_huge(tc->memo[i], sizeof(int32) * cap);
			memset(tc->memo[i] + tc->memo_cap[i], 0xFF, sizeof(int32) * (cap - tc->memo_cap[i]));
			tc->memo_cap[i] = cap;
		}
		if (tc->memo[i][lexeme_id] == -1)
		{
			id = text_own_id(pc, lexeme, len);
			tc->memo[i][lexeme_id] = id < 0 ? -2 : id;
		}
		id = tc->memo[i][lexeme_id];
	}
	if (pc->text == TEXT_SEQUENCE)
	{
		/* a sequence keeps words out of the vocabulary (-1), in order, up to its length */
		if (tc->n_lexemes >= pc->n_out)
			return;
	}
	else if (id < 0)
		return;					/* not in the vocabulary */
	if (tc->n_lexemes == tc->cap_lexemes)
	{
		tc->cap_lexemes *= 2;
		tc->lexemes = repalloc_huge(tc->lexemes, sizeof(int32) * tc->cap_lexemes);
	}
	tc->lexemes[tc->n_lexemes++] = id;
}

/*
 * Tokenise text input i's value into tc->terms[i]: distinct own ids,
 * ascending, with counts; for a sequence, its first own ids in text order
 * (-1: out of the vocabulary), each with count 1.
 */
void
prep_text_conv_value(PrepTextConv *tc, int i, Datum d)
{
	text	   *t = DatumGetTextPP(d);
	TextTerms  *tt = &tc->terms[i];
	int			n = 0;

	tc->input = i;
	tc->n_lexemes = 0;
	text_tokenize(tc->tk[i], VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), text_conv_lexeme, tc);
	if ((Pointer) t != DatumGetPointer(d))
		pfree(t);
	if (tc->n_lexemes > 1 && tc->p->cols[i].text != TEXT_SEQUENCE)
		data_sort_int32(tc->lexemes, tc->n_lexemes);
	if (tc->n_lexemes > tc->cap[i])
	{
		tc->cap[i] = tc->n_lexemes;
		tc->ids[i] = repalloc_huge(tc->ids[i], sizeof(int32) * tc->cap[i]);
		tc->counts[i] = repalloc_huge(tc->counts[i], sizeof(int32) * tc->cap[i]);
	}
	for (int k = 0; k < tc->n_lexemes; k++)
	{
		if (k == 0 || tc->lexemes[k] != tc->lexemes[k - 1] || tc->p->cols[i].text == TEXT_SEQUENCE)
		{
			tc->ids[i][n] = tc->lexemes[k];
			tc->counts[i][n] = 0;
			n++;
		}
		if (tc->counts[i][n - 1] < PG_INT32_MAX)
			tc->counts[i][n - 1]++;
	}
	tt->n = n;
	tt->ids = tc->ids[i];
	tt->counts = tc->counts[i];
}

/* Text input i is NULL in the row being converted. */
void
prep_text_conv_null(PrepTextConv *tc, int i)
{
	tc->terms[i].n = 0;
}

/* The terms of the row converted last. */
const TextTerms *
prep_text_conv_terms(const PrepTextConv *tc)
{
	return tc->terms;
}

/* Free the call site's tokenizers and buffers. */
void
prep_text_conv_free(PrepTextConv *tc)
{
	for (int i = 0; i < tc->p->n_inputs; i++)
		if (tc->tk[i])
		{
			text_tokenizer_free(tc->tk[i]);
			pfree(tc->ids[i]);
			pfree(tc->counts[i]);
			pfree(tc->memo[i]);
		}
	pfree(tc->tk);
	pfree(tc->terms);
	pfree(tc->ids);
	pfree(tc->counts);
	pfree(tc->cap);
	pfree(tc->memo);
	pfree(tc->memo_cap);
	pfree(tc->memo_gen);
	pfree(tc->lexemes);
	pfree(tc);
}
