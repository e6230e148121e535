/*
 * words.c — the text search parser galaxy_internal.words: the words of
 * words.h (runs of two or more letters, digits or underscores, as
 * scikit-learn's default token pattern finds them) as tokens of one type,
 * "word".  The configuration galaxy.words maps them to the 'simple'
 * dictionary (lower-cased, no stemming, no stop words), so to_tsvector(),
 * ts_debug() and galaxy.tokenize() can use it like any configuration; the
 * tokenizer (tokenize.c) recognises this parser and runs words_next()
 * itself instead of calling it once per token.  White space and
 * punctuation are not returned as tokens (they take no position in
 * to_tsvector() with any parser), and there is no headline function.
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "tsearch/ts_public.h"

#include "text/words.h"

PG_FUNCTION_INFO_V1(galaxy_words_start);
PG_FUNCTION_INFO_V1(galaxy_words_token);
PG_FUNCTION_INFO_V1(galaxy_words_end);
PG_FUNCTION_INFO_V1(galaxy_words_lextype);

/* A parse in progress: the text and where the next word is looked for. */
typedef struct WordsParse
{
	const char *s;
	int			len;
	int			off;
	bool		utf8;
} WordsParse;

/* galaxy_internal.words_start(text internal, len int4) → internal: begin a parse. */
Datum
galaxy_words_start(PG_FUNCTION_ARGS)
{
	WordsParse *ps = palloc(sizeof(WordsParse));

	ps->s = (const char *) PG_GETARG_POINTER(0);
	ps->len = Max(PG_GETARG_INT32(1), 0);
	ps->off = 0;
	ps->utf8 = GetDatabaseEncoding() == PG_UTF8;
	PG_RETURN_POINTER(ps);
}

/*
 * galaxy_internal.words_token(state internal, token internal, len internal)
 * → internal (the token type, 0 at the end): the next word.
 */
Datum
galaxy_words_token(PG_FUNCTION_ARGS)
{
	WordsParse *ps = (WordsParse *) PG_GETARG_POINTER(0);
	char	  **t = (char **) PG_GETARG_POINTER(1);
	int		   *tlen = (int *) PG_GETARG_POINTER(2);
	int			wlen;
	const char *w = words_next(ps->s, ps->len, &ps->off, ps->utf8, &wlen);

	if (w == NULL)
		PG_RETURN_INT32(0);
	*t = (char *) w;
	*tlen = wlen;
	PG_RETURN_INT32(WORDS_TOKEN_WORD);
}

/* galaxy_internal.words_end(state internal) → void: end a parse. */
Datum
galaxy_words_end(PG_FUNCTION_ARGS)
{
	pfree(PG_GETARG_POINTER(0));
	PG_RETURN_VOID();
}

/* galaxy_internal.words_lextype(internal) → internal: the token types (one). */
Datum
galaxy_words_lextype(PG_FUNCTION_ARGS)
{
	LexDescr   *d = palloc0(sizeof(LexDescr) * 2);

	d[0].lexid = WORDS_TOKEN_WORD;
	d[0].alias = pstrdup("word");
	d[0].descr = pstrdup("Word of two or more letters, digits or underscores");
	d[1].lexid = 0;
	PG_RETURN_POINTER(d);
}
