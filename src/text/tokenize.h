/*
 * tokenize.h — text into lexemes with PostgreSQL's own text search: the
 * parser and dictionaries of a text search configuration ('english':
 * stemming and stop words; 'simple': every word lower-cased), the lexemes
 * to_tsvector() would index, in the order of the text.
 *
 * A TextTokenizer serves one configuration for many texts (a training scan,
 * one predict call site, one evaluate scan).  It runs the configuration's
 * parser on the text and looks every token up in the configuration's
 * dictionaries the way parsetext() does, remembering what the dictionaries
 * said about each distinct token for the rest of the statement, so a word
 * seen before costs a hash lookup instead of a stemmer call.  A
 * configuration with a dictionary that reads several tokens at once (a
 * thesaurus) is tokenized by parsetext() itself, without that cache.
 *
 * Texts of any length are read in slices of about 16 kB cut at white space
 * (memory stays bounded; interrupts are checked between slices).  Words of
 * 2047 bytes or more are skipped, as to_tsvector() skips them (without its
 * NOTICE).  Positions count words as to_tsvector() does (a stop word takes a
 * position, white space does not), but are not capped at 16383.
 *
 * Typical use (e.g. a sequence model mapping tokens to ids):
 *
 *     TextTokenizer *tk = text_tokenizer_create(text_config_oid("english"));
 *     for each row:
 *         text_tokenize(tk, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), my_callback, my_state);
 *     text_tokenizer_free(tk);
 *
 * and text/vocab.h maps the lexemes to vocabulary indexes or hash buckets.
 * The callback may allocate; what the tokenizer allocates per text is freed
 * before text_tokenize() returns.  Nothing here is thread-safe (it calls the
 * backend's parser and dictionaries).
 */
#ifndef GALAXY_TOKENIZE_H
#define GALAXY_TOKENIZE_H

/*
 * Called once per lexeme, in text order: the lexeme's bytes (NUL-terminated;
 * valid only during the call), their length, the 1-based position of the
 * word it came from (several lexemes of one word share it), and an id: the
 * same lexeme of the same word comes with the same id, 0, 1, 2, ..., until
 * text_tokenizer_generation() changes, so a caller may remember what it made
 * of an id instead of looking the lexeme up again (-1: no id, with
 * multi-word dictionaries).  Different words may give the same lexeme under
 * different ids.
 */
typedef void (*TextLexemeFn) (void *arg, const char *lexeme, int len, int position, int id);

typedef struct TextTokenizer TextTokenizer;

/*
 * The OID of a text search configuration by name ('english',
 * 'pg_catalog.simple', ...); ERROR 42704 naming it when there is none.
 */
extern Oid	text_config_oid(const char *name);

/* Schema-qualified name of a text search configuration (palloc'd), for storing. */
extern char *text_config_name(Oid cfg);

/* A tokenizer for one configuration, allocated in CurrentMemoryContext. */
extern TextTokenizer *text_tokenizer_create(Oid cfg);

/*
 * Tokenize s[0..len) (the server encoding; no NUL needed): fn(arg, ...) for
 * every lexeme.  Returns the number of lexemes.
 */
extern int	text_tokenize(TextTokenizer *tk, const char *s, int len, TextLexemeFn fn, void *arg);

/* Changes whenever the tokenizer forgets its cache: lexeme ids start again. */
extern uint64 text_tokenizer_generation(const TextTokenizer *tk);

/* Free a tokenizer and everything it keeps. */
extern void text_tokenizer_free(TextTokenizer *tk);

#endif							/* GALAXY_TOKENIZE_H */
