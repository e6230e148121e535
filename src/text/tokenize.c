/*
 * tokenize.c — text into lexemes with a text search configuration's parser
 * and dictionaries (see tokenize.h).
 *
 * parsetext() hands every token to the configuration's dictionaries in turn
 * (LexizeExec in tsearch/ts_parse.c): the first dictionary that recognises
 * the token gives its lexemes (none for a stop word), a filtering dictionary
 * (TSL_FILTER, e.g. unaccent) passes its output on to the next one, and a
 * token no dictionary recognises is dropped.  text_tokenize() does the same
 * for each token, and remembers the answer per (token type, token) in a
 * cache that lives for the statement: dictionaries answer the same for the
 * same token (ALTER TEXT SEARCH DICTIONARY takes effect at the next
 * statement), and natural text repeats its words, so most tokens skip the
 * stemmer.  A dictionary that asks for the following tokens too (getnext: a
 * thesaurus) cannot be answered token by token: the text is then handed to
 * parsetext() itself, and so is every later text of the tokenizer.
 *
 * A configuration whose parser is galaxy's own (galaxy_internal.words, as
 * galaxy.words has) is read without calling the parser per token: its
 * scanner (words.h) runs inline and each word goes straight to the cache.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_ts_config.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "tsearch/ts_cache.h"
#include "tsearch/ts_public.h"
#include "tsearch/ts_type.h"
#include "tsearch/ts_utils.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/regproc.h"

#include "common/hashfn.h"
#include "text/tokenize.h"
#include "text/words.h"

/* Bytes of text given to the parser at a time (cut at white space). */
#define TEXT_SLICE			(16 * 1024)
/* Distinct tokens the cache keeps before it starts afresh. */
#define TEXT_CACHE_TOKENS	(256 * 1024)
/* Lexeme bytes the cache keeps before it starts afresh. */
#define TEXT_CACHE_BYTES	(32 * 1024 * 1024)

/* Bytes of a token kept in its slot; longer ones are kept in 'tokens'. */
#define TOKEN_INLINE		16

/*
 * A token the tokenizer has seen, in its slot of the open-addressing table:
 * all a lookup reads is in one 32-byte slot (half a cache line) for tokens of
 * up to TOKEN_INLINE bytes, so a word seen before costs one cache miss.
 */
typedef struct TokenSlot
{
	uint32		hash;			/* 0: an empty slot */
	uint16		type;			/* the parser's token type */
	uint16		len;			/* the token's bytes (< MAXSTRLEN) */
	int32		first;			/* its first lexeme */
	int32		nlex;			/* its lexemes; -1: no dictionary recognised it */
	union
	{
		char		bytes[TOKEN_INLINE];	/* len <= TOKEN_INLINE */
		int32		off;		/* else: its bytes in 'tokens' */
	}			key;
} TokenSlot;

StaticAssertDecl(sizeof(TokenSlot) == 32, "a token's slot is half a cache line");

/* A token of the slice being read: its lexemes. */
typedef struct PendingToken
{
	int32		first;
	int32		nlex;
} PendingToken;

struct TextTokenizer
{
	Oid			cfg;
	MemoryContext cxt;			/* the tokenizer and its cache */
	MemoryContext slicecxt;		/* the parser's and dictionaries' work on one slice */
	bool		multiword;		/* a dictionary reads several tokens: use parsetext() */
	bool		words;			/* the parser is galaxy_internal.words: scan inline */
	bool		utf8;			/* the server encoding is UTF-8 (for the scanner) */
	TimestampTz stmt;			/* the statement the cache belongs to */
	uint64		generation;		/* changes whenever the cache starts afresh */
	/* the cache: open addressing by (type, token bytes) */
	TokenSlot  *slots;			/* aligned to a cache line, in slots_mem */
	void	   *slots_mem;
	int			nslots;			/* a power of two, at least 4/3 of the tokens */
	int			n_entries;		/* tokens cached */
	StringInfoData tokens;		/* the bytes of tokens longer than TOKEN_INLINE */
	/* the cached lexemes: NUL-terminated in 'bytes'; index = lexeme id */
	StringInfoData bytes;
	int		   *lex_off;
	int		   *lex_len;
	bool	   *lex_addpos;		/* TSL_ADDPOS: the lexeme takes a position of its own */
	int			n_lex;
	int			cap_lex;
	/* the tokens of the slice being read, in order */
	PendingToken *pending;
	int			n_pending;
	int			cap_pending;
};

/* A text search configuration's OID by name; ERROR 42704 when it does not exist. */
Oid
text_config_oid(const char *name)
{
	Oid			cfg = get_ts_config_oid(stringToQualifiedNameList(name), true);

	if (!OidIsValid(cfg))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("text search configuration \"%s\" does not exist", name),
				 errhint("SELECT cfgname FROM pg_ts_config lists the configurations; 'english' and 'simple' are built in.")));
	return cfg;
}

/* Schema-qualified name of a text search configuration. */
char *
text_config_name(Oid cfg)
{
	HeapTuple	tup = SearchSysCache1(TSCONFIGOID, ObjectIdGetDatum(cfg));
	Form_pg_ts_config form;
	char	   *name;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("text search configuration with OID %u does not exist", cfg)));
	form = (Form_pg_ts_config) GETSTRUCT(tup);
	name = quote_qualified_identifier(get_namespace_name(form->cfgnamespace), NameStr(form->cfgname));
	ReleaseSysCache(tup);
	return name;
}

/* A zeroed slot table of nslots aligned to a cache line (*mem: what to pfree). */
static TokenSlot *
slots_alloc(MemoryContext cxt, int nslots, void **mem)
{
	char	   *m = MemoryContextAllocExtended(cxt, sizeof(TokenSlot) * nslots + PG_CACHE_LINE_SIZE,
											   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);

	*mem = m;
	return (TokenSlot *) TYPEALIGN(PG_CACHE_LINE_SIZE, m);
}

/* A tokenizer for configuration cfg. */
TextTokenizer *
text_tokenizer_create(Oid cfg)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "galaxy tokenizer",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	TextTokenizer *tk = palloc0(sizeof(TextTokenizer));
	TSParserCacheEntry *prs;

	tk->cfg = cfg;
	tk->cxt = cxt;
	tk->slicecxt = AllocSetContextCreate(cxt, "galaxy tokenizer slice", ALLOCSET_DEFAULT_SIZES);
	tk->nslots = 256;			/* grows with the words seen: small for a one-row call */
	tk->slots = slots_alloc(cxt, tk->nslots, &tk->slots_mem);
	/* the cache is empty: it belongs to this statement already (ids of generation 1) */
	tk->stmt = GetCurrentStatementStartTimestamp();
	tk->generation = 1;
	initStringInfo(&tk->tokens);
	initStringInfo(&tk->bytes);
	tk->cap_lex = 1024;
	tk->lex_off = palloc(sizeof(int) * tk->cap_lex);
	tk->lex_len = palloc(sizeof(int) * tk->cap_lex);
	tk->lex_addpos = palloc(sizeof(bool) * tk->cap_lex);
	tk->cap_pending = 1024;
	tk->pending = palloc(sizeof(PendingToken) * tk->cap_pending);
	MemoryContextSwitchTo(old);
	/* the configuration must exist now, not at the first text */
	prs = lookup_ts_parser_cache(lookup_ts_config_cache(cfg)->prsId);
	tk->words = prs->prstoken.fn_addr == galaxy_words_token;
	tk->utf8 = GetDatabaseEncoding() == PG_UTF8;
	return tk;
}

/* Free a tokenizer. */
void
text_tokenizer_free(TextTokenizer *tk)
{
	MemoryContextDelete(tk->cxt);
}

/* Forget the cached tokens (their lexeme ids are given anew). */
static void
cache_reset(TextTokenizer *tk)
{
	memset(tk->slots, 0, sizeof(TokenSlot) * tk->nslots);
	tk->n_entries = 0;
	resetStringInfo(&tk->tokens);
	resetStringInfo(&tk->bytes);
	tk->n_lex = 0;
	tk->generation++;
}

/* The generation of the lexeme ids (see tokenize.h). */
uint64
text_tokenizer_generation(const TextTokenizer *tk)
{
	return tk->generation;
}

/* Double the slot table. */
static void
cache_grow_slots(TextTokenizer *tk)
{
	int			nslots = tk->nslots * 2;
	void	   *mem;
	TokenSlot  *slots = slots_alloc(tk->cxt, nslots, &mem);

	for (int k = 0; k < tk->nslots; k++)
	{
		uint32		h;

		if (tk->slots[k].hash == 0)
			continue;
		h = tk->slots[k].hash & (nslots - 1);
		while (slots[h].hash != 0)
			h = (h + 1) & (nslots - 1);
		slots[h] = tk->slots[k];
	}
	pfree(tk->slots_mem);
	tk->slots = slots;
	tk->slots_mem = mem;
	tk->nslots = nslots;
}

/* Keep one lexeme of the cache entry being built. */
static void
cache_add_lexeme(TextTokenizer *tk, const char *lexeme, bool addpos)
{
	int			len = strlen(lexeme);

	if (tk->n_lex == tk->cap_lex)
	{
		tk->cap_lex *= 2;
		tk->lex_off = repalloc_huge(tk->lex_off, sizeof(int) * tk->cap_lex);
		tk->lex_len = repalloc_huge(tk->lex_len, sizeof(int) * tk->cap_lex);
		tk->lex_addpos = repalloc_huge(tk->lex_addpos, sizeof(bool) * tk->cap_lex);
	}
	tk->lex_off[tk->n_lex] = tk->bytes.len;
	tk->lex_len[tk->n_lex] = len;
	tk->lex_addpos[tk->n_lex] = addpos;
	tk->n_lex++;
	appendBinaryStringInfo(&tk->bytes, lexeme, len + 1);
}

/*
 * What the configuration's dictionaries make of one token, as LexizeExec's
 * single-token mode does, into its slot te.  Returns false when a
 * dictionary wants the following tokens too (multi-word mode).
 */
static bool
lexize_token(TextTokenizer *tk, TSConfigCacheEntry *cfg, int type, char *lemm, int lenlemm, TokenSlot *te)
{
	ListDictionary *map = cfg->map + type;
	char	   *cur = lemm;
	int			curlen = lenlemm;

	te->first = tk->n_lex;
	te->nlex = -1;
	if (type <= 0 || type >= cfg->lenmap || map->len == 0)
		return true;			/* a token type the configuration skips */
	for (int i = 0; i < map->len; i++)
	{
		TSDictionaryCacheEntry *dict = lookup_ts_dictionary_cache(map->dictIds[i]);
		DictSubState state;
		TSLexeme   *res;

		state.isend = state.getnext = false;
		state.private_state = NULL;
		res = (TSLexeme *) DatumGetPointer(FunctionCall4(&dict->lexize,
														 PointerGetDatum(dict->dictData),
														 PointerGetDatum(cur),
														 Int32GetDatum(curlen),
														 PointerGetDatum(&state)));
		if (state.getnext)
			return false;
		if (res == NULL)
			continue;			/* this dictionary does not know the token */
		if (res->flags & TSL_FILTER)
		{
			cur = res->lexeme;
			curlen = strlen(res->lexeme);
			continue;
		}
		te->nlex = 0;			/* recognised: a stop word has no lexeme */
		for (TSLexeme *ptr = res; ptr->lexeme; ptr++)
		{
			cache_add_lexeme(tk, ptr->lexeme, (ptr->flags & TSL_ADDPOS) != 0);
			te->nlex++;
		}
		return true;
	}
	return true;
}

/* The hash of a token in the cache (never 0). */
static inline uint32
token_hash(int type, const char *lemm, int lenlemm)
{
	uint32		hash = hash_bytes((const unsigned char *) lemm, lenlemm) ^ ((uint32) type * 0x9E3779B9);

	return hash == 0 ? 1 : hash;	/* 0 marks an empty slot */
}

/*
 * The cache slot of a token (hash: token_hash's), lexizing it on first
 * sight; NULL when a dictionary wants several tokens.  The slot is valid
 * until the next call.
 */
static const TokenSlot *
token_slot(TextTokenizer *tk, TSConfigCacheEntry *cfg, int type, char *lemm, int lenlemm, uint32 hash)
{
	uint32		h;
	TokenSlot  *te;

	/* room for one more token first: the slot returned stays where it is */
	if ((tk->n_entries + 1) * 4 > tk->nslots * 3)
		cache_grow_slots(tk);
	h = hash & (tk->nslots - 1);
	for (;;)
	{
		te = &tk->slots[h];
		if (te->hash == 0)
			break;
		if (te->hash == hash && te->type == type && te->len == lenlemm &&
			memcmp(lenlemm <= TOKEN_INLINE ? te->key.bytes : tk->tokens.data + te->key.off,
				   lemm, lenlemm) == 0)
			return te;
		h = (h + 1) & (tk->nslots - 1);
	}
	/* first sight: what do the dictionaries say? */
	if (!lexize_token(tk, cfg, type, lemm, lenlemm, te))
		return NULL;			/* the slot stays empty */
	te->hash = hash;
	te->type = (uint16) type;
	te->len = (uint16) lenlemm;
	if (lenlemm <= TOKEN_INLINE)
		memcpy(te->key.bytes, lemm, lenlemm);
	else
	{
		te->key.off = tk->tokens.len;
		appendBinaryStringInfo(&tk->tokens, lemm, lenlemm);
	}
	tk->n_entries++;
	return te;
}

/* Note a token of the slice being read (its lexemes are in the cache). */
static inline void
push_pending(TextTokenizer *tk, const TokenSlot *te)
{
	if (tk->n_pending == tk->cap_pending)
	{
		tk->cap_pending *= 2;
		tk->pending = repalloc_huge(tk->pending, sizeof(PendingToken) * tk->cap_pending);
	}
	tk->pending[tk->n_pending].first = te->first;
	tk->pending[tk->n_pending].nlex = te->nlex;
	tk->n_pending++;
}

/* Words the scanner looks ahead of the one looked up (a power of two). */
#define WORDS_AHEAD		4

/* A hint to load the cache line at p (nothing where the compiler has no such builtin). */
#if defined(__GNUC__) || defined(__clang__)
#define prefetch_line(p)	__builtin_prefetch(p)
#else
#define prefetch_line(p)	((void) (p))
#endif

/*
 * One slice with galaxy's word scanner (the parser galaxy_internal.words,
 * inline) and the cache; as slice_cached.  The scanner runs WORDS_AHEAD
 * words ahead of the lookups and prefetches their slots, so the memory
 * latency of a slot is hidden behind the scanning of the next words.
 */
static bool
slice_words(TextTokenizer *tk, TSConfigCacheEntry *cfg, char *buf, int len)
{
	const char *word[WORDS_AHEAD];
	int			wlen[WORDS_AHEAD];
	uint32		whash[WORDS_AHEAD];
	int			off = 0;
	int			head = 0,		/* words scanned */
				tail = 0;		/* words looked up */
	bool		more = true;

	if (WORDS_TOKEN_WORD >= cfg->lenmap || cfg->map[WORDS_TOKEN_WORD].len == 0)
		return true;			/* the configuration maps no words: no lexemes */
	for (;;)
	{
		const TokenSlot *te;
		int			k;

		/* scan up to WORDS_AHEAD words ahead, prefetching their slots */
		while (more && head - tail < WORDS_AHEAD)
		{
			int			n;
			const char *w = words_next(buf, len, &off, tk->utf8, &n);

			if (w == NULL)
			{
				more = false;
				break;
			}
			if (n >= MAXSTRLEN)
				continue;		/* too long a word: to_tsvector skips it too */
			k = head & (WORDS_AHEAD - 1);
			word[k] = w;
			wlen[k] = n;
			whash[k] = token_hash(WORDS_TOKEN_WORD, w, n);
			prefetch_line(&tk->slots[whash[k] & (tk->nslots - 1)]);
			head++;
		}
		if (tail == head)
			break;
		k = tail & (WORDS_AHEAD - 1);
		te = token_slot(tk, cfg, WORDS_TOKEN_WORD, (char *) word[k], wlen[k], whash[k]);
		if (te == NULL)
			return false;
		push_pending(tk, te);
		tail++;
	}
	return true;
}

/*
 * One slice with the configuration's parser and the cache: the lexemes of
 * its tokens into tk->pending.  Returns false when a dictionary wants
 * several tokens (nothing of the slice is used then).
 */
static bool
slice_cached(TextTokenizer *tk, char *buf, int len)
{
	TSConfigCacheEntry *cfg = lookup_ts_config_cache(tk->cfg);
	TSParserCacheEntry *prs = lookup_ts_parser_cache(cfg->prsId);
	void	   *state;
	int			type;
	bool		ok = true;

	tk->n_pending = 0;
	if (tk->words)
		return slice_words(tk, cfg, buf, len);
	state = DatumGetPointer(FunctionCall2(&prs->prsstart, PointerGetDatum(buf), Int32GetDatum(len)));
	for (;;)
	{
		char	   *lemm = NULL;
		int			lenlemm = 0;
		const TokenSlot *te;

		type = DatumGetInt32(FunctionCall3(&prs->prstoken, PointerGetDatum(state),
										   PointerGetDatum(&lemm), PointerGetDatum(&lenlemm)));
		if (type <= 0)
			break;
		if (lenlemm >= MAXSTRLEN)
			continue;			/* too long a word: to_tsvector skips it too */
		if (type >= cfg->lenmap || cfg->map[type].len == 0)
			continue;			/* a token type the configuration skips (white space): no position */
		te = token_slot(tk, cfg, type, lemm, lenlemm, token_hash(type, lemm, lenlemm));
		if (te == NULL)
		{
			ok = false;
			break;
		}
		push_pending(tk, te);
	}
	FunctionCall1(&prs->prsend, PointerGetDatum(state));
	return ok;
}

/* Hand out the lexemes of the pending tokens; returns how many. */
static int
emit_pending(TextTokenizer *tk, int *pos, TextLexemeFn fn, void *arg)
{
	int			n = 0;

	for (int k = 0; k < tk->n_pending; k++)
	{
		const PendingToken *te = &tk->pending[k];

		if (te->nlex < 0)
			continue;			/* no dictionary knew it: no position either */
		(*pos)++;
		for (int l = te->first; l < te->first + te->nlex; l++)
		{
			if (tk->lex_addpos[l])
				(*pos)++;
			fn(arg, tk->bytes.data + tk->lex_off[l], tk->lex_len[l], *pos, l);
			n++;
		}
	}
	return n;
}

/*
 * One slice through parsetext() (multi-word dictionaries): its work in the
 * slice context, the callback in the caller's.
 */
static int
slice_parsetext(TextTokenizer *tk, char *buf, int len, int *pos, TextLexemeFn fn, void *arg)
{
	ParsedText	prs;
	int			base = *pos;
	MemoryContext old = MemoryContextSwitchTo(tk->slicecxt);

	prs.lenwords = Max(len / 6, 16);
	prs.curwords = 0;
	prs.pos = 0;
	prs.words = palloc(sizeof(ParsedWord) * prs.lenwords);
	parsetext(tk->cfg, &prs, buf, len);
	MemoryContextSwitchTo(old);
	for (int i = 0; i < prs.curwords; i++)
		fn(arg, prs.words[i].word, prs.words[i].len, base + prs.words[i].pos.pos, -1);
	*pos = base + prs.pos;
	return prs.curwords;
}

/* Bytes of the next slice of s[0..len): at most TEXT_SLICE, ending after white space when it can. */
static int
slice_length(const char *s, int len)
{
	if (len <= TEXT_SLICE)
		return len;
	for (int k = TEXT_SLICE; k > TEXT_SLICE / 2; k--)
	{
		char		c = s[k - 1];

		/* ASCII white space never occurs inside a character of a server encoding */
		if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v')
			return k;
	}
	return pg_mbcliplen(s, len, TEXT_SLICE);
}

/* Tokenize a text; fn gets every lexeme. */
int
text_tokenize(TextTokenizer *tk, const char *s, int len, TextLexemeFn fn, void *arg)
{
	TimestampTz stmt = GetCurrentStatementStartTimestamp();
	int			pos = 0;
	int			n = 0;
	int			off = 0;

	/* dictionaries may have changed since the cache was filled */
	if (stmt != tk->stmt)
	{
		cache_reset(tk);
		tk->stmt = stmt;
	}
	while (off < len)
	{
		int			sl = slice_length(s + off, len - off);
		MemoryContext old;

		if (sl <= 0)
			break;
		if (tk->n_entries > TEXT_CACHE_TOKENS || tk->bytes.len + tk->tokens.len > TEXT_CACHE_BYTES)
			cache_reset(tk);
		if (!tk->multiword)
		{
			bool		ok;

			old = MemoryContextSwitchTo(tk->slicecxt);
			ok = slice_cached(tk, (char *) s + off, sl);
			MemoryContextSwitchTo(old);
			if (!ok)
			{
				/* a token of this slice opened multi-word mode: parsetext() from now on */
				tk->multiword = true;
				cache_reset(tk);
			}
		}
		/* the lexemes are handed out in the caller's memory context */
		if (tk->multiword)
			n += slice_parsetext(tk, (char *) s + off, sl, &pos, fn, arg);
		else
			n += emit_pending(tk, &pos, fn, arg);
		MemoryContextReset(tk->slicecxt);
		off += sl;
		CHECK_FOR_INTERRUPTS();
	}
	return n;
}
