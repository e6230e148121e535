/*
 * text_api.c — galaxy.tokenize(): the lexemes galaxy's text features see in
 * a text (src/text/tokenize.h), for checking a configuration or building
 * one's own features in SQL.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "text/tokenize.h"

PG_FUNCTION_INFO_V1(galaxy_tokenize);

/* The tokenizer of a call site, kept for its statement's rows. */
typedef struct TokenizeCall
{
	Oid			cfg;
	TextTokenizer *tk;
} TokenizeCall;

/* What the callback collects. */
typedef struct TokenizeResult
{
	ArrayBuildState *astate;
} TokenizeResult;

/* Collect one lexeme. */
static void
collect_lexeme(void *arg, const char *lexeme, int len, int position, int id)
{
	TokenizeResult *res = (TokenizeResult *) arg;

	res->astate = accumArrayResult(res->astate, PointerGetDatum(cstring_to_text_with_len(lexeme, len)),
								   false, TEXTOID, CurrentMemoryContext);
}

/* galaxy.tokenize(document text, config regconfig) → text[] */
Datum
galaxy_tokenize(PG_FUNCTION_ARGS)
{
	text	   *doc = PG_GETARG_TEXT_PP(0);
	Oid			cfg = PG_GETARG_OID(1);
	TokenizeCall *call = (TokenizeCall *) fcinfo->flinfo->fn_extra;
	TokenizeResult res = {NULL};

	if (call == NULL || call->cfg != cfg)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (call == NULL)
			call = palloc0(sizeof(TokenizeCall));
		else
			text_tokenizer_free(call->tk);
		call->tk = text_tokenizer_create(cfg);
		call->cfg = cfg;
		fcinfo->flinfo->fn_extra = call;
		MemoryContextSwitchTo(old);
	}
	text_tokenize(call->tk, VARDATA_ANY(doc), VARSIZE_ANY_EXHDR(doc), collect_lexeme, &res);
	if (res.astate == NULL)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(TEXTOID));
	PG_RETURN_DATUM(makeArrayResult(res.astate, CurrentMemoryContext));
}
