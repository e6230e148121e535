/*
 * vocab.h — how a lexeme becomes a feature or token index: a vocabulary
 * (term → index, with each term's document frequency, chosen from the
 * training texts and stored in the model) or the hashing trick.
 *
 * A vocabulary's terms are distinct and sorted by their bytes (strcmp
 * order), so index i is the i-th term alphabetically, as in scikit-learn's
 * CountVectorizer.  text_vocab_read() validates everything it reads (count,
 * every term's length and order, every document frequency) and raises
 * ERROR, never crashes, on a corrupted or hostile value.
 *
 * For sequence models (a token id per word, padded or truncated),
 * text_vocab_sequence() maps a text straight to ids: 0 is padding, 1 a word
 * out of the vocabulary, 2 + i the vocabulary's term i.
 */
#ifndef GALAXY_VOCAB_H
#define GALAXY_VOCAB_H

#include "model/modelio.h"
#include "text/tokenize.h"
#include "util/dict.h"

/* The longest lexeme kept (tsvector's limit); longer ones are skipped when training. */
#define TEXT_MAX_TERM_BYTES 2047

/* Ids of text_vocab_sequence() below the vocabulary's. */
#define TEXT_SEQ_PAD	0
#define TEXT_SEQ_OOV	1
#define TEXT_SEQ_FIRST	2

typedef struct TextVocab
{
	int			n;				/* terms */
	char	  **terms;			/* NUL-terminated, distinct, sorted by bytes */
	int64	   *df;				/* documents (of n_docs) that contain each term */
	int64		n_docs;			/* documents the vocabulary was chosen from */
	Dict	   *index;			/* term → index; NULL until text_vocab_lookup builds it */
	int64		n_searches;		/* lookups by binary search so far */
	MemoryContext cxt;			/* the vocabulary's context (its index goes there) */
} TextVocab;

/*
 * Choose a vocabulary among n candidate terms seen in n_docs documents
 * (df[i]: documents containing candidate i, tf[i]: its occurrences; tf may
 * be NULL when max_features is 0): the candidates in at least min_df and at
 * most max_df documents, then, when max_features > 0 and more remain, the
 * max_features most frequent by tf (ties: the smaller term first).  map[i]
 * receives candidate i's index in the vocabulary, or -1.  The result may be
 * empty.  Allocated in CurrentMemoryContext.
 */
extern TextVocab *text_vocab_build(int n, char *const *terms, const int64 *df, const int64 *tf,
								   int64 n_docs, int64 min_df, int64 max_df, int max_features,
								   int *map);

/* Index of the term (s, len), or -1 when it is not in the vocabulary. */
extern int	text_vocab_lookup(const TextVocab *v, const char *s, int len);

/* Smoothed inverse document frequency of term i: ln((1 + n_docs) / (1 + df)) + 1. */
extern double text_vocab_idf(const TextVocab *v, int i, bool smooth);

/* Serialise; read and validate (at most max_terms terms). */
extern void text_vocab_write(const TextVocab *v, ModelWriter *w);
extern TextVocab *text_vocab_read(ModelReader *r, int max_terms);

/* Bucket 0..n_buckets-1 of a term for the hashing trick (stable across versions). */
extern int	text_hash_bucket(const char *s, int len, int n_buckets);

/*
 * A text as token ids: up to max_length ids written to ids[] (TEXT_SEQ_OOV
 * for words outside v, TEXT_SEQ_FIRST + i for term i), the rest TEXT_SEQ_PAD.
 * Returns the number of lexemes of the text (which may exceed max_length:
 * the rest are cut off).
 */
extern int	text_vocab_sequence(TextTokenizer *tk, const TextVocab *v, const char *s, int len,
								int max_length, int32 *ids);

#endif							/* GALAXY_VOCAB_H */
