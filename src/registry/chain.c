/*
 * chain.c — the audit hash chain: canonical row encoding, SHA-256 links,
 * verification and the audited retention function.
 *
 * Every galaxy.audit_log row stores prev_hash (the hash of the row before it)
 * and hash = SHA-256(prev_hash || canonical(row)).  canonical(row) is
 *
 *   "galaxy-audit-v1" followed by, for each of the fields
 *     id, at, session_user_name, current_user_name, client_addr,
 *     application_name, action, object_type, object_id, details, txid
 *   in that order: one byte 0x00 if the field is NULL, else 0x01 and then
 *     - id, at, txid: 8 bytes, big-endian two's complement (at is the
 *       timestamptz as microseconds since 2000-01-01 00:00 UTC; txid is the
 *       64-bit xid8 value);
 *     - every other field: its text output (name, inet and jsonb output
 *       functions; details is details::text) as a 4-byte big-endian byte
 *       length and the bytes in the server encoding.
 *
 * The first row chains to 32 zero bytes, or after galaxy.purge_audit() to the
 * hash of the last purged row, kept in galaxy.audit_purges.anchor_hash.
 * Writers serialise on a transaction-level lock (audit_chain_lock) and read
 * the previous hash under it, so concurrent transactions cannot fork the
 * chain.  The lock's tag is in the advisory lock space but with a field SQL's
 * pg_advisory_* functions never set, so no role can take it from SQL and
 * stall every audited call.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "registry/audit.h"
#include "registry/chain.h"
#include "util/catalog.h"
#include "util/query.h"
#include "util/sha256.h"

/*
 * The audit chain's lock tag: "gala" / "xy" + 1 in the advisory space, with
 * field4 0x4741 ("GA"); pg_advisory_* use field4 1 and 2 only.
 */
#define AUDIT_CHAIN_LOCK_FIELD1 0x67616c61
#define AUDIT_CHAIN_LOCK_FIELD2 0x78790001
#define AUDIT_CHAIN_LOCK_FIELD4 0x4741

#define AUDIT_CANONICAL_PREFIX "galaxy-audit-v1"

/* The fields of the canonical encoding, in order. */
static const char *const canonical_fields[] = {
	"id", "at", "session_user_name", "current_user_name", "client_addr",
	"application_name", "action", "object_type", "object_id", "details", "txid"
};

#define N_CANONICAL_FIELDS lengthof(canonical_fields)

bool		audit_purge_active = false;

PG_FUNCTION_INFO_V1(galaxy_verify_audit);
PG_FUNCTION_INFO_V1(galaxy_purge_audit);
PG_FUNCTION_INFO_V1(galaxy_audit_canonical);
PG_FUNCTION_INFO_V1(galaxy_audit_head);

/* Attribute number (1-based) of a column of an audit tuple, or ERROR. */
static int
audit_attnum(TupleDesc tupdesc, const char *name)
{
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i + 1;
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("galaxy.audit_log has no column \"%s\"", name)));
	return 0;					/* keep compiler quiet */
}

/* Append an int64 in big-endian order. */
static void
append_be64(StringInfo buf, uint64 v)
{
	char		b[8];

	for (int i = 7; i >= 0; i--)
	{
		b[i] = (char) (v & 0xff);
		v >>= 8;
	}
	appendBinaryStringInfo(buf, b, 8);
}

/* Append a 4-byte big-endian length and the bytes. */
static void
append_text(StringInfo buf, const char *s)
{
	Size		len = strlen(s);
	char		b[4];

	if (len > PG_INT32_MAX)
		elog(ERROR, "audit field too long");
	b[0] = (char) ((len >> 24) & 0xff);
	b[1] = (char) ((len >> 16) & 0xff);
	b[2] = (char) ((len >> 8) & 0xff);
	b[3] = (char) (len & 0xff);
	appendBinaryStringInfo(buf, b, 4);
	appendBinaryStringInfo(buf, s, len);
}

/* Append the canonical encoding of an audit_log tuple to buf. */
void
audit_canonical_row(TupleDesc tupdesc, Datum *values, bool *nulls,
					StringInfo buf)
{
	appendBinaryStringInfo(buf, AUDIT_CANONICAL_PREFIX,
						   strlen(AUDIT_CANONICAL_PREFIX));

	for (int f = 0; f < N_CANONICAL_FIELDS; f++)
	{
		int			attno = audit_attnum(tupdesc, canonical_fields[f]);
		Form_pg_attribute att = TupleDescAttr(tupdesc, attno - 1);
		Datum		d = values[attno - 1];

		if (nulls[attno - 1])
		{
			appendStringInfoChar(buf, '\0');
			continue;
		}
		appendStringInfoChar(buf, '\1');

		switch (att->atttypid)
		{
			case INT8OID:
				append_be64(buf, (uint64) DatumGetInt64(d));
				break;
			case TIMESTAMPTZOID:
				append_be64(buf, (uint64) DatumGetTimestampTz(d));
				break;
			case XID8OID:
				append_be64(buf, DatumGetUInt64(d));
				break;
			default:
				{
					Oid			outfunc;
					bool		isvarlena;
					char	   *s;

					getTypeOutputInfo(att->atttypid, &outfunc, &isvarlena);
					s = OidOutputFunctionCall(outfunc, d);
					append_text(buf, s);
					pfree(s);
				}
				break;
		}
	}
}

/* hash = SHA-256(prev || canonical), with the registry's one SHA-256 (export_sha256). */
void
audit_chain_hash(const uint8 *prev, const char *canonical, Size len, uint8 *out)
{
	char	   *buf = palloc(AUDIT_HASH_LEN + len);

	StaticAssertStmt(AUDIT_HASH_LEN == GALAXY_SHA256_LEN, "audit and export hashes are both SHA-256");
	memcpy(buf, prev, AUDIT_HASH_LEN);
	memcpy(buf + AUDIT_HASH_LEN, canonical, len);
	galaxy_sha256(buf, AUDIT_HASH_LEN + len, out);
	pfree(buf);
}

/* Take the chain lock until the end of the transaction. */
void
audit_chain_lock(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, AUDIT_CHAIN_LOCK_FIELD1,
						 AUDIT_CHAIN_LOCK_FIELD2, AUDIT_CHAIN_LOCK_FIELD4);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/* Copy a bytea hash into out; false if it is not AUDIT_HASH_LEN bytes. */
static bool
copy_hash(Datum d, uint8 *out)
{
	bytea	   *b = DatumGetByteaPP(d);

	if (VARSIZE_ANY_EXHDR(b) != AUDIT_HASH_LEN)
		return false;
	memcpy(out, VARDATA_ANY(b), AUDIT_HASH_LEN);
	return true;
}

/*
 * Newest row of a galaxy table by its primary key, seen with SnapshotSelf
 * (committed rows plus this transaction's own, even from the current
 * command).  Copies the bytea column 'hashcol' into out; returns false if the
 * table is empty.  ERROR if the newest row's hash is missing or malformed.
 */
static bool
newest_hash(const char *relname, const char *indexname, const char *hashcol,
			uint8 *out)
{
	Relation	rel = table_open(galaxy_relation_oid(relname), AccessShareLock);
	Relation	idx = index_open(galaxy_relation_oid(indexname), AccessShareLock);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	IndexScanDesc scan;
	bool		found = false;
	int			hattno = audit_attnum(RelationGetDescr(rel), hashcol);

	scan = index_beginscan(rel, idx, SnapshotSelf, 0, 0);
	index_rescan(scan, NULL, 0, NULL, 0);
	if (index_getnext_slot(scan, BackwardScanDirection, slot))
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, hattno, &isnull);

		if (isnull || !copy_hash(d, out))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("the newest row of galaxy.%s has no valid %s", relname, hashcol),
					 errhint("Run SELECT * FROM galaxy.verify_audit() to find where the chain is broken.")));
		found = true;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	return found;
}

/* The hash the next audit row chains to (call under the chain lock). */
void
audit_chain_head(uint8 *out)
{
	if (newest_hash("audit_log", "audit_log_pkey", "hash", out))
		return;
	if (newest_hash("audit_purges", "audit_purges_pkey", "anchor_hash", out))
		return;
	memset(out, 0, AUDIT_HASH_LEN);
}


/*
 * The anchor the oldest remaining row chains to: the newest purge's
 * anchor_hash and anchor_id, else genesis (zeros, id 0).
 */
static void
chain_anchor(uint8 *hash, int64 *anchor_id)
{
	Relation	rel = table_open(galaxy_relation_oid("audit_purges"), AccessShareLock);
	Relation	idx = index_open(galaxy_relation_oid("audit_purges_pkey"), AccessShareLock);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	IndexScanDesc scan;
	TupleDesc	desc = RelationGetDescr(rel);

	memset(hash, 0, AUDIT_HASH_LEN);
	*anchor_id = 0;
	scan = index_beginscan(rel, idx, GetActiveSnapshot(), 0, 0);
	index_rescan(scan, NULL, 0, NULL, 0);
	if (index_getnext_slot(scan, BackwardScanDirection, slot))
	{
		bool		n1,
					n2;
		Datum		h = slot_getattr(slot, audit_attnum(desc, "anchor_hash"), &n1);
		Datum		i = slot_getattr(slot, audit_attnum(desc, "anchor_id"), &n2);

		if (n1 || n2 || !copy_hash(h, hash))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("the newest row of galaxy.audit_purges has no valid anchor")));
		*anchor_id = DatumGetInt64(i);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
}

/*
 * galaxy.verify_audit(): recompute the whole chain in id order and report the
 * first row whose link or hash does not hold.
 */
Datum
galaxy_verify_audit(PG_FUNCTION_ARGS)
{
	TupleDesc	rettupdesc;
	Relation	rel;
	Relation	idx;
	TupleTableSlot *slot;
	IndexScanDesc scan;
	TupleDesc	desc;
	uint8		expected_prev[AUDIT_HASH_LEN];
	int64		anchor_id;
	int64		checked = 0;
	int64		broken_id = 0;
	char	   *detail = NULL;
	int			id_att,
				prev_att,
				hash_att;
	MemoryContext rowcxt;
	MemoryContext oldcxt;
	StringInfoData buf;
	Datum	   *values;
	bool	   *nulls;
	Datum		result[4];
	bool		rnulls[4] = {false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &rettupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rettupdesc = BlessTupleDesc(rettupdesc);

	chain_anchor(expected_prev, &anchor_id);

	rel = table_open(galaxy_relation_oid("audit_log"), AccessShareLock);
	idx = index_open(galaxy_relation_oid("audit_log_pkey"), AccessShareLock);
	desc = RelationGetDescr(rel);
	id_att = audit_attnum(desc, "id");
	prev_att = audit_attnum(desc, "prev_hash");
	hash_att = audit_attnum(desc, "hash");
	slot = table_slot_create(rel, NULL);
	values = palloc(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);
	initStringInfo(&buf);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "galaxy verify_audit row",
								   ALLOCSET_DEFAULT_SIZES);

	scan = index_beginscan(rel, idx, GetActiveSnapshot(), 0, 0);
	index_rescan(scan, NULL, 0, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		int64		id;
		uint8		prev[AUDIT_HASH_LEN];
		uint8		stored[AUDIT_HASH_LEN];
		uint8		computed[AUDIT_HASH_LEN];

		CHECK_FOR_INTERRUPTS();
		checked++;
		if (broken_id != 0)
			continue;			/* only count the rest */

		oldcxt = MemoryContextSwitchTo(rowcxt);
		slot_getallattrs(slot);
		memcpy(values, slot->tts_values, sizeof(Datum) * desc->natts);
		memcpy(nulls, slot->tts_isnull, sizeof(bool) * desc->natts);
		id = DatumGetInt64(values[id_att - 1]);

		if (id <= anchor_id)
		{
			broken_id = id;
			detail = psprintf("row %lld is not newer than the purge anchor (row %lld)",
							  (long long) id, (long long) anchor_id);
		}
		else if (nulls[prev_att - 1] || !copy_hash(values[prev_att - 1], prev))
		{
			broken_id = id;
			detail = psprintf("row %lld has no valid prev_hash", (long long) id);
		}
		else if (memcmp(prev, expected_prev, AUDIT_HASH_LEN) != 0)
		{
			broken_id = id;
			detail = psprintf("row %lld: prev_hash %s does not match the hash of the row before it (%s): rows were removed or rewritten",
							  (long long) id, galaxy_hex(prev, AUDIT_HASH_LEN), galaxy_hex(expected_prev, AUDIT_HASH_LEN));
		}
		else if (nulls[hash_att - 1] || !copy_hash(values[hash_att - 1], stored))
		{
			broken_id = id;
			detail = psprintf("row %lld has no valid hash", (long long) id);
		}
		else
		{
			resetStringInfo(&buf);
			audit_canonical_row(desc, values, nulls, &buf);
			audit_chain_hash(prev, buf.data, buf.len, computed);
			if (memcmp(computed, stored, AUDIT_HASH_LEN) != 0)
			{
				broken_id = id;
				detail = psprintf("row %lld was modified: its content hashes to %s, the chain recorded %s",
								  (long long) id, galaxy_hex(computed, AUDIT_HASH_LEN), galaxy_hex(stored, AUDIT_HASH_LEN));
			}
			else
				memcpy(expected_prev, stored, AUDIT_HASH_LEN);
		}
		MemoryContextSwitchTo(oldcxt);
		if (detail)
			detail = pstrdup(detail);
		MemoryContextReset(rowcxt);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);

	result[0] = BoolGetDatum(broken_id == 0);
	result[1] = Int64GetDatum(checked);
	if (broken_id != 0)
	{
		result[2] = Int64GetDatum(broken_id);
		result[3] = CStringGetTextDatum(detail);
	}
	else
	{
		rnulls[2] = true;
		result[3] = CStringGetTextDatum(psprintf("%lld %s correctly%s",
												 (long long) checked,
												 checked == 1 ? "row chains" : "rows chain",
												 anchor_id > 0 ? " from the purge anchor" : ""));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(rettupdesc, result, rnulls)));
}

/*
 * galaxy.audit_canonical(galaxy.audit_log): the canonical bytes of a row, so
 * the chain can be checked in plain SQL:
 *   sha256(prev_hash || galaxy.audit_canonical(a)) = hash
 */
Datum
galaxy_audit_canonical(PG_FUNCTION_ARGS)
{
	HeapTupleHeader th = PG_GETARG_HEAPTUPLEHEADER(0);
	TupleDesc	desc;
	HeapTupleData tuple;
	Datum	   *values;
	bool	   *nulls;
	StringInfoData buf;
	bytea	   *result;

	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(th),
								  HeapTupleHeaderGetTypMod(th));
	tuple.t_len = HeapTupleHeaderGetDatumLength(th);
	ItemPointerSetInvalid(&(tuple.t_self));
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = th;
	values = palloc(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(&tuple, desc, values, nulls);

	initStringInfo(&buf);
	audit_canonical_row(desc, values, nulls, &buf);
	ReleaseTupleDesc(desc);

	result = palloc(VARHDRSZ + buf.len);
	SET_VARSIZE(result, VARHDRSZ + buf.len);
	memcpy(VARDATA(result), buf.data, buf.len);
	PG_RETURN_BYTEA_P(result);
}

/* galaxy.audit_head(): the newest row's id and hash, to record elsewhere. */
Datum
galaxy_audit_head(PG_FUNCTION_ARGS)
{
	TupleDesc	rettupdesc;
	Datum		result[2];
	bool		rnulls[2] = {true, true};
	Relation	rel;
	Relation	idx;
	TupleTableSlot *slot;
	IndexScanDesc scan;

	if (get_call_result_type(fcinfo, NULL, &rettupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rettupdesc = BlessTupleDesc(rettupdesc);

	rel = table_open(galaxy_relation_oid("audit_log"), AccessShareLock);
	idx = index_open(galaxy_relation_oid("audit_log_pkey"), AccessShareLock);
	slot = table_slot_create(rel, NULL);
	scan = index_beginscan(rel, idx, GetActiveSnapshot(), 0, 0);
	index_rescan(scan, NULL, 0, NULL, 0);
	if (index_getnext_slot(scan, BackwardScanDirection, slot))
	{
		TupleDesc	desc = RelationGetDescr(rel);

		result[0] = slot_getattr(slot, audit_attnum(desc, "id"), &rnulls[0]);
		result[1] = slot_getattr(slot, audit_attnum(desc, "hash"), &rnulls[1]);
		if (!rnulls[1])
			result[1] = PointerGetDatum(DatumGetByteaPCopy(result[1]));
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(rettupdesc, result, rnulls)));
}

/* DELETE audit rows with id <= last_id, with the guard's purge exception on. */
static int64
purge_delete_through(int64 last_id)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1];
	int64		deleted = 0;

	args[0] = Int64GetDatum(last_id);
	PG_TRY();
	{
		audit_purge_active = true;
		deleted = (int64) catalog_command("DELETE FROM galaxy.audit_log WHERE id <= $1",
										  1, argtypes, args, NULL,
										  SPI_OK_DELETE, "purge galaxy.audit_log");
	}
	PG_FINALLY();
	{
		audit_purge_active = false;
	}
	PG_END_TRY();
	return deleted;
}

/*
 * galaxy.purge_audit(before timestamptz): superuser-only retention.  Deletes
 * the oldest rows up to (not including) the first row at or after 'before',
 * records the last deleted row's hash as the new anchor in
 * galaxy.audit_purges, and audits itself.  Returns the rows deleted.
 */
Datum
galaxy_purge_audit(PG_FUNCTION_ARGS)
{
	TimestampTz before = PG_GETARG_TIMESTAMPTZ(0);
	Oid			argtypes[1] = {TIMESTAMPTZOID};
	Datum		args[1];
	int64		cutoff;
	int64		last_id = 0;
	Datum		last_hash = (Datum) 0;
	int64		deleted = 0;
	char	   *purger = GetUserNameFromId(GetUserId(), false);
	StringInfoData js;
	Jsonb	   *details;
	char	   *anchor_hex = NULL;
	QueryResult *r;

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only a superuser may purge galaxy.audit_log"),
				 errdetail("The audit log is append-only; galaxy.purge_audit() is its only retention path.")));

	audit_chain_lock();
	args[0] = TimestampTzGetDatum(before);

	/* rows strictly before the first row at or after 'before' */
	r = catalog_query("SELECT coalesce((SELECT min(id) FROM galaxy.audit_log WHERE at >= $1),"
					  " (SELECT max(id) + 1 FROM galaxy.audit_log), 0)",
					  1, argtypes, args, NULL, false, 1,
					  SPI_OK_SELECT, "read galaxy.audit_log");
	if (r->nrows != 1)
		elog(ERROR, "could not find the purge cut-off");
	cutoff = query_int64(r, 0, 1, 0);

	argtypes[0] = INT8OID;
	args[0] = Int64GetDatum(cutoff);
	r = catalog_query("SELECT id, hash FROM galaxy.audit_log WHERE id < $1 ORDER BY id DESC LIMIT 1",
					  1, argtypes, args, NULL, false, 1,
					  SPI_OK_SELECT, "read galaxy.audit_log");
	if (r->nrows == 1)
	{
		bool		hnull;

		last_id = query_int64(r, 0, 1, 0);
		last_hash = query_datum(r, 0, 2, &hnull);
		if (hnull || VARSIZE_ANY_EXHDR(DatumGetByteaPP(last_hash)) != AUDIT_HASH_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("audit row %lld has no valid hash; refusing to purge a broken chain",
							(long long) last_id),
					 errhint("Run SELECT * FROM galaxy.verify_audit().")));
		last_hash = PointerGetDatum(DatumGetByteaPCopy(last_hash));
		anchor_hex = galaxy_hex((const uint8 *) VARDATA_ANY(DatumGetByteaPP(last_hash)), AUDIT_HASH_LEN);
	}

	if (last_id > 0)
	{
		deleted = purge_delete_through(last_id);

		/* the new anchor: the hash of the last purged row */
		catalog_command("INSERT INTO galaxy.audit_purges (before, deleted_rows, anchor_id, anchor_hash, purged_by)"
						" VALUES ($1, $2, $3, $4, $5::name)",
						5, (Oid[]) {TIMESTAMPTZOID, INT8OID, INT8OID, BYTEAOID, TEXTOID},
						(Datum[]) {PG_GETARG_DATUM(0), Int64GetDatum(deleted), Int64GetDatum(last_id),
								   last_hash, CStringGetTextDatum(purger)},
						NULL, SPI_OK_INSERT, "record the audit purge anchor");
	}

	initStringInfo(&js);
	details_begin(&js);
	details_str(&js, "before",
				DatumGetCString(DirectFunctionCall1(timestamptz_out, PG_GETARG_DATUM(0))));
	details_int(&js, "deleted_rows", deleted);
	if (anchor_hex)
	{
		details_int(&js, "anchor_id", last_id);
		details_str(&js, "anchor_hash", anchor_hex);
	}
	details = details_end(&js);
	galaxy_audit("purge_audit", "audit_log", NULL, details);

	PG_RETURN_INT64(deleted);
}
