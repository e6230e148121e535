/*
 * audit.c — writes galaxy.audit_log rows in the caller's transaction, chains
 * them (see chain.c for the hash format) and keeps the log append-only.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "registry/audit.h"
#include "registry/chain.h"
#include "util/catalog.h"
#include "util/query.h"
#include "util/sha256.h"

PG_FUNCTION_INFO_V1(galaxy_audit_log_chain);
PG_FUNCTION_INFO_V1(galaxy_append_only_guard);

/*
 * Details above this size are not copied into the append-only log: the row
 * keeps their size and SHA-256 instead (and the top-level keys whose values
 * are short), so a caller cannot grow the log by megabytes per call.
 */
#define AUDIT_MAX_DETAILS (8 * 1024)

/* A stand-in for oversized details: their size, SHA-256 and short members. */
static Jsonb *
audit_details_digest(Jsonb *details)
{
	char	   *text = JsonbToCString(NULL, &details->root, VARSIZE(details));
	uint8		digest[GALAXY_SHA256_LEN];
	StringInfoData s;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	galaxy_sha256(text, strlen(text), digest);
	initStringInfo(&s);
	details_begin(&s);
	details_bool(&s, "details_truncated", true);
	details_int(&s, "details_bytes", (int64) strlen(text));
	details_str(&s, "details_sha256", galaxy_hex(digest, GALAXY_SHA256_LEN));
	/* keep the top-level scalars that are short (names, ids, versions) */
	if (JB_ROOT_IS_OBJECT(details))
	{
		it = JsonbIteratorInit(&details->root);
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			if (tok == WJB_KEY)
				key = pnstrdup(v.val.string.val, v.val.string.len);
			else if (tok == WJB_VALUE && key != NULL)
			{
				if (v.type == jbvString && v.val.string.len <= 256)
					details_str(&s, key, pnstrdup(v.val.string.val, v.val.string.len));
				else if (v.type == jbvNumeric)
					details_json(&s, key, DatumGetCString(DirectFunctionCall1(numeric_out,
																			  NumericGetDatum(v.val.numeric))));
				else if (v.type == jbvBool)
					details_bool(&s, key, v.val.boolean);
				key = NULL;
			}
		}
	}
	return details_end(&s);
}

/*
 * Append one audit row through SPI as the extension owner.  The acting role
 * is captured first; the chain trigger (galaxy_audit_log_chain) fills in the
 * id, time, session identity, transaction id and the hash link.
 */
void
galaxy_audit(const char *action, const char *object_type,
			 const char *object_id, Jsonb *details)
{
	Oid			argtypes[5] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID, NAMEOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	char	   *actor = GetUserNameFromId(GetUserId(), false);
	NameData	actorname;

	namestrcpy(&actorname, actor);
	values[0] = CStringGetTextDatum(action);
	values[1] = CStringGetTextDatum(object_type);
	if (object_id)
		values[2] = CStringGetTextDatum(object_id);
	else
		nulls[2] = 'n';
	if (details && VARSIZE(details) > AUDIT_MAX_DETAILS)
		details = audit_details_digest(details);
	if (details)
		values[3] = JsonbPGetDatum(details);
	else
		nulls[3] = 'n';
	values[4] = NameGetDatum(&actorname);

	catalog_command("INSERT INTO galaxy.audit_log "
					"(action, object_type, object_id, details, current_user_name) "
					"VALUES ($1, $2, $3, coalesce($4, '{}'::jsonb), $5)",
					5, argtypes, values, nulls,
					SPI_OK_INSERT, "write galaxy.audit_log");
}

/* Attribute index (0-based) of a column, or ERROR. */
static int
att_index(TupleDesc tupdesc, const char *name)
{
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i;
	}
	elog(ERROR, "galaxy.audit_log has no column \"%s\"", name);
	return -1;					/* keep compiler quiet */
}

/* The client's address as inet, or NULL (local socket, background worker). */
static Datum
client_addr_datum(bool *isnull)
{
	LOCAL_FCINFO(fcinfo, 0);
	Datum		d;

	InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
	fcinfo->isnull = false;
	d = inet_client_addr(fcinfo);
	*isnull = fcinfo->isnull;
	return d;
}

/* A bytea datum holding a hash. */
static Datum
hash_datum(const uint8 *h)
{
	bytea	   *b = palloc(VARHDRSZ + AUDIT_HASH_LEN);

	SET_VARSIZE(b, VARHDRSZ + AUDIT_HASH_LEN);
	memcpy(VARDATA(b), h, AUDIT_HASH_LEN);
	return PointerGetDatum(b);
}

/*
 * BEFORE INSERT trigger on galaxy.audit_log: under the chain lock, assign
 * the id, take the time and the session's identity, and link the row to the
 * chain.  Rows that arrive with a hash already (a pg_dump restore) are kept
 * verbatim; galaxy.verify_audit() judges them like any other row.
 */
Datum
galaxy_audit_log_chain(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	HeapTuple	tuple;
	int			natts;
	Datum	   *values;
	bool	   *nulls;
	bool	   *repl;
	uint8		prev[AUDIT_HASH_LEN];
	uint8		hash[AUDIT_HASH_LEN];
	StringInfoData buf;
	int			i;
	const char *appname;
	NameData   *sessname;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		elog(ERROR, "galaxy_audit_log_chain must be a BEFORE INSERT FOR EACH ROW trigger");

	tupdesc = RelationGetDescr(trigdata->tg_relation);
	tuple = trigdata->tg_trigtuple;
	natts = tupdesc->natts;
	values = palloc(sizeof(Datum) * natts);
	nulls = palloc(sizeof(bool) * natts);
	repl = palloc0(sizeof(bool) * natts);
	heap_deform_tuple(tuple, tupdesc, values, nulls);

	/* restore path: keep rows that were chained elsewhere */
	if (!nulls[att_index(tupdesc, "hash")])
		return PointerGetDatum(tuple);

	audit_chain_lock();
	audit_chain_head(prev);

	i = att_index(tupdesc, "id");
	values[i] = Int64GetDatum(nextval_internal(galaxy_relation_oid("audit_log_id_seq"), false));
	nulls[i] = false;
	repl[i] = true;

	i = att_index(tupdesc, "at");
	values[i] = TimestampTzGetDatum(GetCurrentTimestamp());
	nulls[i] = false;
	repl[i] = true;

	i = att_index(tupdesc, "session_user_name");
	sessname = palloc0(sizeof(NameData));
	namestrcpy(sessname, GetUserNameFromId(GetSessionUserId(), false));
	values[i] = NameGetDatum(sessname);
	nulls[i] = false;
	repl[i] = true;

	i = att_index(tupdesc, "current_user_name");
	if (nulls[i])
	{
		NameData   *curname = palloc0(sizeof(NameData));

		namestrcpy(curname, GetUserNameFromId(GetUserId(), false));
		values[i] = NameGetDatum(curname);
		nulls[i] = false;
		repl[i] = true;
	}

	i = att_index(tupdesc, "client_addr");
	values[i] = client_addr_datum(&nulls[i]);
	repl[i] = true;

	i = att_index(tupdesc, "application_name");
	appname = GetConfigOption("application_name", true, false);
	if (appname && appname[0] != '\0')
	{
		values[i] = CStringGetTextDatum(appname);
		nulls[i] = false;
	}
	else
		nulls[i] = true;
	repl[i] = true;

	i = att_index(tupdesc, "details");
	if (nulls[i])
	{
		values[i] = DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
		nulls[i] = false;
		repl[i] = true;
	}

	i = att_index(tupdesc, "txid");
	values[i] = FullTransactionIdGetDatum(GetTopFullTransactionId());
	nulls[i] = false;
	repl[i] = true;

	initStringInfo(&buf);
	audit_canonical_row(tupdesc, values, nulls, &buf);
	audit_chain_hash(prev, buf.data, buf.len, hash);

	i = att_index(tupdesc, "prev_hash");
	values[i] = hash_datum(prev);
	nulls[i] = false;
	repl[i] = true;

	i = att_index(tupdesc, "hash");
	values[i] = hash_datum(hash);
	nulls[i] = false;
	repl[i] = true;

	return PointerGetDatum(heap_modify_tuple(tuple, tupdesc, values, nulls, repl));
}

/*
 * BEFORE UPDATE/DELETE (row) and TRUNCATE (statement) trigger that keeps a
 * table append-only for everyone, owner and superusers included.  The one
 * exception is DELETE on galaxy.audit_log while galaxy.purge_audit() runs.
 */
Datum
galaxy_append_only_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *relname;
	const char *op;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "galaxy_append_only_guard must be called as a trigger");

	relname = RelationGetRelationName(trigdata->tg_relation);

	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) &&
		audit_purge_active && superuser() &&
		strcmp(relname, "audit_log") == 0)
		return PointerGetDatum(trigdata->tg_trigtuple);

	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		op = "UPDATE";
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		op = "DELETE";
	else if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		op = "TRUNCATE";
	else
		op = "this operation";

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("galaxy.%s is append-only: %s is not allowed", relname, op),
			 errdetail("Audit rows are hash-chained; changing or removing one breaks galaxy.verify_audit()."),
			 errhint("A superuser can remove old rows with galaxy.purge_audit(before timestamptz).")));
	PG_RETURN_NULL();			/* keep compiler quiet */
}

/* Start a details object. */
void
details_begin(StringInfo buf)
{
	appendStringInfoChar(buf, '{');
}

/* Separator and quoted key. */
static void
details_key(StringInfo buf, const char *key)
{
	if (buf->len > 1)
		appendStringInfoChar(buf, ',');
	escape_json(buf, key);
	appendStringInfoChar(buf, ':');
}

/* A string member (NULL → JSON null). */
void
details_str(StringInfo buf, const char *key, const char *val)
{
	details_key(buf, key);
	if (val)
		escape_json(buf, val);
	else
		appendStringInfoString(buf, "null");
}

/* An integer member. */
void
details_int(StringInfo buf, const char *key, int64 val)
{
	details_key(buf, key);
	appendStringInfo(buf, INT64_FORMAT, val);
}

/* A float member (non-finite → null). */
void
details_float(StringInfo buf, const char *key, double val)
{
	details_key(buf, key);
	if (isfinite(val))
		appendStringInfo(buf, "%.17g", val);
	else
		appendStringInfoString(buf, "null");
}

/* A boolean member. */
void
details_bool(StringInfo buf, const char *key, bool val)
{
	details_key(buf, key);
	appendStringInfoString(buf, val ? "true" : "false");
}

/* A member whose value is already JSON text (NULL → null). */
void
details_json(StringInfo buf, const char *key, const char *json)
{
	details_key(buf, key);
	appendStringInfoString(buf, json ? json : "null");
}

/* Close the object and parse it into a Jsonb. */
Jsonb *
details_end(StringInfo buf)
{
	appendStringInfoChar(buf, '}');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf->data)));
}
