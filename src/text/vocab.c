/*
 * vocab.c — text vocabularies and the hashing trick (see vocab.h).
 *
 * Stored form (modelio): u32 term count; i64 documents; then per term the
 * term (mw_str) and its document frequency (i64).
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "utils/memutils.h"

#include "text/vocab.h"

/* Seed of the hashing trick: fixed forever, or stored models change meaning. */
#define TEXT_HASH_SEED	UINT64CONST(0x67616C6178790002)

/* Candidates ordered for max_features: more frequent first, then by term. */
typedef struct VocabSortCtx
{
	char	   *const *terms;
	const int64 *tf;
} VocabSortCtx;

/* qsort_arg comparator: descending tf, then ascending term bytes. */
static int
cmp_by_frequency(const void *a, const void *b, void *arg)
{
	const VocabSortCtx *ctx = (const VocabSortCtx *) arg;
	int			i = *(const int *) a;
	int			j = *(const int *) b;

	if (ctx->tf[i] != ctx->tf[j])
		return ctx->tf[i] > ctx->tf[j] ? -1 : 1;
	return strcmp(ctx->terms[i], ctx->terms[j]);
}

/* A term to sort by its bytes: its first 8 bytes as a number (strcmp order), then the rest. */
typedef struct TermKey
{
	uint64		prefix;
	int			idx;
	const char *term;
} TermKey;

/* Comparison of term keys: ascending term bytes, most decided by the prefixes alone. */
static inline int
cmp_term_keys(const TermKey *x, const TermKey *y)
{
	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	return strcmp(x->term, y->term);
}

/* sort_term_keys(keys, n): PostgreSQL's quicksort specialised for term keys. */
#define ST_SORT sort_term_keys
#define ST_ELEMENT_TYPE TermKey
#define ST_COMPARE(a, b) cmp_term_keys(a, b)
#define ST_SCOPE static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

/* Sort candidate indexes by their terms' bytes (strcmp order). */
static void
sort_by_term(int *idx, int n, char *const *terms)
{
	TermKey    *keys = palloc(sizeof(TermKey) * Max(n, 1));

	for (int i = 0; i < n; i++)
	{
		const unsigned char *t = (const unsigned char *) terms[idx[i]];
		uint64		p = 0;

		for (int b = 0; b < 8 && t[b]; b++)
			p |= (uint64) t[b] << (56 - 8 * b);
		keys[i].prefix = p;
		keys[i].idx = idx[i];
		keys[i].term = terms[idx[i]];
	}
	sort_term_keys(keys, n);
	for (int i = 0; i < n; i++)
		idx[i] = keys[i].idx;
	pfree(keys);
}

/*
 * Build the term index of a vocabulary, in the vocabulary's own memory
 * context (it is built at a lookup, which may run in a shorter-lived one).
 * The terms are distinct (sorted strictly, as text_vocab_build makes them
 * and text_vocab_read checks).
 */
static void
vocab_index(TextVocab *v)
{
	Dict	   *index = dict_create(v->cxt, false, Max(v->n, 1), "vocabulary terms");

	for (int i = 0; i < v->n; i++)
	{
		bool		added;

		(void) dict_lookup(index, v->terms[i], strlen(v->terms[i]), &added);
		Assert(added);
	}
	v->index = index;
}

/* Index of the term (s, len) by binary search in the sorted terms, or -1. */
static int
vocab_bsearch(const TextVocab *v, const char *s, int len)
{
	int			lo = 0,
				hi = v->n - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		const char *t = v->terms[mid];
		int			tlen = strlen(t);
		int			c = memcmp(s, t, Min(len, tlen));

		if (c == 0)
			c = (len > tlen) - (len < tlen);
		if (c == 0)
			return mid;
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

/* Choose a vocabulary among candidate terms. */
TextVocab *
text_vocab_build(int n, char *const *terms, const int64 *df, const int64 *tf,
				 int64 n_docs, int64 min_df, int64 max_df, int max_features, int *map)
{
	TextVocab  *v = palloc0(sizeof(TextVocab));
	int		   *keep = palloc(sizeof(int) * Max(n, 1));
	int			k = 0;

	v->cxt = CurrentMemoryContext;

	for (int i = 0; i < n; i++)
	{
		map[i] = -1;
		if (df[i] >= Max(min_df, 1) && df[i] <= max_df)
			keep[k++] = i;
	}
	if (max_features > 0 && k > max_features)
	{
		VocabSortCtx ctx = {terms, tf};

		qsort_arg(keep, k, sizeof(int), cmp_by_frequency, &ctx);
		k = max_features;
	}
	sort_by_term(keep, k, terms);

	v->n = k;
	v->n_docs = n_docs;
	v->terms = palloc(sizeof(char *) * Max(k, 1));
	v->df = palloc(sizeof(int64) * Max(k, 1));
	for (int j = 0; j < k; j++)
	{
		v->terms[j] = pstrdup(terms[keep[j]]);
		v->df[j] = df[keep[j]];
		map[keep[j]] = j;
	}
	pfree(keep);
	return v;
}

/*
 * Index of a term, or -1.  The hash index is built only when the
 * vocabulary is looked up a lot: the first lookups (a 32nd of the terms'
 * number) search the sorted terms, so a model parsed to predict a few rows
 * (or only to be registered) does not hash its whole vocabulary.
 */
int
text_vocab_lookup(const TextVocab *v, const char *s, int len)
{
	TextVocab  *mv = (TextVocab *) v;	/* the index is a cache, built lazily */

	if (v->index == NULL)
	{
		if (mv->n_searches < (int64) v->n / 32 + 16)
		{
			mv->n_searches++;
			return vocab_bsearch(v, s, len);
		}
		vocab_index(mv);
	}
	return dict_find(v->index, s, len);
}

/* Inverse document frequency of term i (scikit-learn's, smoothed or not). */
double
text_vocab_idf(const TextVocab *v, int i, bool smooth)
{
	double		s = smooth ? 1.0 : 0.0;

	return log((s + (double) v->n_docs) / (s + (double) v->df[i])) + 1.0;
}

/* Serialise a vocabulary. */
void
text_vocab_write(const TextVocab *v, ModelWriter *w)
{
	mw_u32(w, (uint32) v->n);
	mw_i64(w, v->n_docs);
	for (int i = 0; i < v->n; i++)
	{
		mw_str(w, v->terms[i]);
		mw_i64(w, v->df[i]);
	}
}

/* Read and validate a vocabulary. */
TextVocab *
text_vocab_read(ModelReader *r, int max_terms)
{
	TextVocab  *v = palloc0(sizeof(TextVocab));

	v->cxt = CurrentMemoryContext;
	/* a term takes at least 4 + 1 + 8 bytes */
	v->n = (int) mr_count(r, (uint32) max_terms, 13, "vocabulary term");
	v->n_docs = mr_i64(r);
	if (v->n_docs < 1)
		mr_corrupt("vocabulary of " INT64_FORMAT " documents", v->n_docs);
	v->terms = palloc(sizeof(char *) * Max(v->n, 1));
	v->df = palloc(sizeof(int64) * Max(v->n, 1));
	for (int i = 0; i < v->n; i++)
	{
		v->terms[i] = mr_str(r, TEXT_MAX_TERM_BYTES);
		if (v->terms[i] == NULL || v->terms[i][0] == '\0')
			mr_corrupt("vocabulary term %d is empty", i);
		if (i > 0 && strcmp(v->terms[i - 1], v->terms[i]) >= 0)
			mr_corrupt("vocabulary terms are not sorted and distinct at term %d", i);
		v->df[i] = mr_i64(r);
		if (v->df[i] < 1 || v->df[i] > v->n_docs)
			mr_corrupt("document frequency " INT64_FORMAT " of vocabulary term %d is outside [1, " INT64_FORMAT "]",
					   v->df[i], i, v->n_docs);
	}
	return v;
}

/* Hash bucket of a term. */
int
text_hash_bucket(const char *s, int len, int n_buckets)
{
	return (int) (hash_bytes_extended((const unsigned char *) s, len, TEXT_HASH_SEED) % (uint64) n_buckets);
}

/* What text_vocab_sequence's callback fills. */
typedef struct SequenceState
{
	const TextVocab *v;
	int32	   *ids;
	int			max_length;
	int			n;
} SequenceState;

/* One lexeme of a sequence. */
static void
sequence_lexeme(void *arg, const char *lexeme, int len, int position, int id)
{
	SequenceState *st = (SequenceState *) arg;

	if (st->n < st->max_length)
	{
		int			i = text_vocab_lookup(st->v, lexeme, len);

		st->ids[st->n] = i >= 0 ? TEXT_SEQ_FIRST + i : TEXT_SEQ_OOV;
	}
	st->n++;
}

/* A text as padded or truncated token ids. */
int
text_vocab_sequence(TextTokenizer *tk, const TextVocab *v, const char *s, int len,
					int max_length, int32 *ids)
{
	SequenceState st = {v, ids, max_length, 0};

	(void) text_tokenize(tk, s, len, sequence_lexeme, &st);
	for (int i = st.n; i < max_length; i++)
		ids[i] = TEXT_SEQ_PAD;
	return st.n;
}
