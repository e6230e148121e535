/*
 * dataset_api.c — galaxy.create_dataset(): register a relation as a dataset
 * after validating it as the calling role, with its column profile (the
 * baseline for data-quality checks and drift) and schema fingerprint.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "galaxy.h"
#include "data/data_internal.h"
#include "data/dataset.h"
#include "data/profile.h"
#include "registry/access.h"
#include "registry/audit.h"
#include "util/catalog.h"
#include "util/query.h"

PG_FUNCTION_INFO_V1(galaxy_create_dataset);
PG_FUNCTION_INFO_V1(galaxy_drop_dataset);

/* ERROR 22023 unless name is a valid dataset name. */
static void
check_dataset_name(const char *name)
{
	if (name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dataset name must not be empty")));
	if (strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dataset name is %zu bytes long; at most %d are allowed", strlen(name), NAMEDATALEN - 1)));
	for (const char *c = name; *c; c++)
		if ((unsigned char) *c < 0x20 || *c == 0x7f)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("dataset name must not contain control characters such as newlines")));
}

/*
 * The feature columns of a new dataset: the given ones (features, a text[]
 * Datum, or NULL) or every column but the target.  Fills atts and feat (of
 * the relation's width + 1 or more); returns how many.
 */
static int
resolve_dataset_features(Relation rel, ArrayType *features, AttrNumber target_att,
						 AttrNumber **atts_out, char ***feat_out)
{
	TupleDesc	desc = RelationGetDescr(rel);
	const char *relname = RelationGetRelationName(rel);
	AttrNumber *atts = palloc(sizeof(AttrNumber) * (desc->natts + 1));
	char	  **feat = palloc(sizeof(char *) * (desc->natts + 1));
	int			nfeat = 0;

	if (features != NULL)
	{
		ArrayType  *arr = features;
		Datum	   *elems;
		bool	   *enulls;
		int			n;

		if (ARR_NDIM(arr) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("features must be a one-dimensional text array")));
		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &enulls, &n);
		if (n == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("features must not be empty"),
					 errhint("Pass NULL (the default) to use every column but the target.")));
		atts = repalloc(atts, sizeof(AttrNumber) * (n + 1));
		feat = repalloc(feat, sizeof(char *) * (n + 1));
		for (int i = 0; i < n; i++)
		{
			char	   *f;
			AttrNumber	att;

			if (enulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("features must not contain NULL")));
			f = TextDatumGetCString(elems[i]);
			att = data_column_attnum(rel, f, "feature");
			if (att == target_att)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("target column \"%s\" is also listed as a feature", f)));
			for (int j = 0; j < nfeat; j++)
				if (atts[j] == att)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("feature column \"%s\" is listed twice", f)));
			atts[nfeat] = att;
			feat[nfeat++] = pstrdup(NameStr(TupleDescAttr(desc, att - 1)->attname));
		}
	}
	else
	{
		StringInfoData keys;

		initStringInfo(&keys);
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute a = TupleDescAttr(desc, i);

			if (a->attisdropped || a->attnum == target_att)
				continue;
			if (data_column_is_key(rel, a->attnum))
			{
				/* ids are not features (name them to use them) */
				appendStringInfo(&keys, "%s%s", keys.len > 0 ? ", " : "",
								 quote_identifier(NameStr(a->attname)));
				continue;
			}
			atts[nfeat] = a->attnum;
			feat[nfeat++] = pstrdup(NameStr(a->attname));
		}
		data_notice_keys_left_out(relname, keys.data);
		pfree(keys.data);
		if (nfeat == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("relation \"%s\" has no feature columns besides the target", relname)));
	}

	*atts_out = atts;
	*feat_out = feat;
	return nfeat;
}

/*
 * Every feature column has a supported type, and the caller may read every
 * column (table or column privilege).
 */
static void
check_dataset_columns(Relation rel, const AttrNumber *atts, char **feat, int nfeat,
					  AttrNumber target_att)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Oid			relid = RelationGetRelid(rel);
	const char *relname = RelationGetRelationName(rel);
	Oid			user = GetUserId();

	for (int i = 0; i < nfeat; i++)
	{
		Oid			typ = TupleDescAttr(desc, atts[i] - 1)->atttypid;
		ScalarConv	conv;
		CategoryConv cat;

		if (data_classify_type(typ, &conv, &cat) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of relation \"%s\" has unsupported type %s",
							feat[i], relname, format_type_be(typ)),
					 errhint("Features may be smallint, integer, bigint, real, double precision, numeric, boolean, "
							 "text, varchar, char, name, an enum, or a one-dimensional array of numbers; "
							 "cast other columns in a view, or list the features explicitly.")));
	}


	/* the caller must be able to read every column */
	if (pg_class_aclcheck(relid, user, ACL_SELECT) != ACLCHECK_OK)
	{
		for (int i = 0; i < nfeat; i++)
			if (pg_attribute_aclcheck(relid, atts[i], user, ACL_SELECT) != ACLCHECK_OK)
				aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(rel->rd_rel->relkind), relname);
		if (target_att != InvalidAttrNumber &&
			pg_attribute_aclcheck(relid, target_att, user, ACL_SELECT) != ACLCHECK_OK)
			aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(rel->rd_rel->relkind), relname);
	}

}

/* Each feature's type name and width (arrays: from the profile), for the schema. */
static void
schema_columns(const ProfileState *prof, int nfeat, const char ***typnames_out, int **widths_out)
{
	const char **typnames = palloc(sizeof(char *) * nfeat);
	int		   *widths = palloc(sizeof(int) * nfeat);

	for (int i = 0; i < nfeat; i++)
	{
		const ColumnProfile *c = &prof->cols[i];

		typnames[i] = c->typname;
		widths[i] = 1;
		if (c->kind == INPUT_ARRAY)
		{
			if (c->ragged)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("column \"%s\" contains arrays of differing lengths", c->name),
						 errhint("Every array of a feature column must have the same length and one dimension.")));
			if (c->width < 1)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("array column \"%s\" has no non-empty value, so its length is unknown", c->name)));
			widths[i] = c->width;
		}
	}
	*typnames_out = typnames;
	*widths_out = widths;
}

/* The audit row of a new dataset. */
static void
audit_create_dataset(int64 id, const char *name, Oid relid, const char *relname, const char *target,
					 char **feat, int nfeat, int64 rows, const char *fingerprint)
{
	StringInfoData details;

	StringInfoData fj;

	initStringInfo(&fj);
	appendStringInfoChar(&fj, '[');
	for (int i = 0; i < nfeat; i++)
	{
		if (i > 0)
			appendStringInfoString(&fj, ", ");
		escape_json(&fj, feat[i]);
	}
	appendStringInfoChar(&fj, ']');
	initStringInfo(&details);
	details_begin(&details);
	details_str(&details, "name", name);
	details_str(&details, "relation",
				quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), relname));
	details_str(&details, "target", target);
	details_json(&details, "features", fj.data);
	details_int(&details, "row_count", rows);
	details_str(&details, "schema_fingerprint", fingerprint);
	galaxy_audit("create_dataset", "dataset", psprintf(INT64_FORMAT, id), details_end(&details));
}

/*
 * galaxy.create_dataset(name, relation, target, features, description)
 * → galaxy.datasets
 */
Datum
galaxy_create_dataset(PG_FUNCTION_ARGS)
{
	char	   *name;
	Oid			relid;
	char	   *target = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *description = PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4));
	Relation	rel;
	TupleDesc	desc;
	AttrNumber	target_att = InvalidAttrNumber;
	AttrNumber *atts;
	char	  **feat;
	int			nfeat = 0;
	List	   *profile_cols = NIL;
	ProfileState *prof;
	Jsonb	   *profile;
	const char **typnames;
	int		   *widths;
	char	   *fingerprint;
	char	   *relname;
	Oid			user = GetUserId();
	char	   *owner = GetUserNameFromId(user, false);
	TupleDesc	result_desc;
	Datum	   *feat_datums;
	Oid			argtypes[9] = {TEXTOID, REGCLASSOID, TEXTOID, TEXTARRAYOID, TEXTOID,
	INT8OID, JSONBOID, TEXTOID, NAMEOID};
	Datum		args[9];
	char		nulls[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	NameData	ownername;
	HeapTuple	result;
	int64		id;
	QueryResult *r;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("dataset name must not be NULL")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("relation must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	relid = PG_GETARG_OID(1);
	check_dataset_name(name);
	if (get_call_result_type(fcinfo, NULL, &result_desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "galaxy.create_dataset must return a composite type");

	/* the relation */
	rel = data_open_relation(relid);
	relname = pstrdup(RelationGetRelationName(rel));
	desc = RelationGetDescr(rel);
	if (rel->rd_rel->relkind != RELKIND_RELATION && rel->rd_rel->relkind != RELKIND_VIEW &&
		rel->rd_rel->relkind != RELKIND_MATVIEW && rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE &&
		rel->rd_rel->relkind != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table, view, materialized view or foreign table", relname)));
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot register temporary relation \"%s\" as a dataset", relname),
				 errdetail("A dataset outlives the session; a temporary relation does not.")));

	/* target */
	if (target != NULL)
	{
		Oid			ttyp;
		ScalarConv	conv;
		CategoryConv cat;
		int			kind;
		char		typtype;

		target_att = data_column_attnum(rel, target, "target");
		ttyp = TupleDescAttr(desc, target_att - 1)->atttypid;
		kind = data_classify_type(ttyp, &conv, &cat);
		typtype = get_typtype(getBaseType(ttyp));
		if (kind == INPUT_ARRAY || OidIsValid(get_element_type(getBaseType(ttyp))) ||
			typtype == TYPTYPE_COMPOSITE || typtype == TYPTYPE_PSEUDO)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("target column \"%s\" has unsupported type %s", target, format_type_be(ttyp)),
					 errhint("The target must be a scalar: a number, boolean, text or enum.")));
	}

	/* features */
	nfeat = resolve_dataset_features(rel, PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P(3),
									 target_att, &atts, &feat);

	check_dataset_columns(rel, atts, feat, nfeat, target_att);

	/* profile (read as the caller) */
	for (int i = 0; i < nfeat; i++)
		profile_cols = lappend(profile_cols, makeString(feat[i]));
	if (target)
		profile_cols = lappend(profile_cols, makeString(target));
	prof = profile_compute(relid, profile_cols);
	if (prof->rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("relation \"%s\" has no rows", relname),
				 errdetail("A dataset's profile is the baseline for drift checks; register the relation once it holds data.")));

	schema_columns(prof, nfeat, &typnames, &widths);
	fingerprint = data_schema_fingerprint(nfeat, (const char *const *) feat, typnames, widths);
	profile = profile_to_jsonb(prof);
	relation_close(rel, AccessShareLock);

	/* the catalog row, written as the extension owner */
	feat_datums = palloc(sizeof(Datum) * nfeat);
	for (int i = 0; i < nfeat; i++)
		feat_datums[i] = CStringGetTextDatum(feat[i]);
	namestrcpy(&ownername, owner);
	args[0] = CStringGetTextDatum(name);
	args[1] = ObjectIdGetDatum(relid);
	args[2] = target ? CStringGetTextDatum(target) : (Datum) 0;
	nulls[2] = target ? ' ' : 'n';
	args[3] = PointerGetDatum(construct_array(feat_datums, nfeat, TEXTOID, -1, false, TYPALIGN_INT));
	args[4] = description ? CStringGetTextDatum(description) : (Datum) 0;
	nulls[4] = description ? ' ' : 'n';
	args[5] = Int64GetDatum(prof->rows);
	args[6] = JsonbPGetDatum(profile);
	args[7] = CStringGetTextDatum(fingerprint);
	args[8] = NameGetDatum(&ownername);

	if (catalog_query("SELECT 1 FROM galaxy.datasets WHERE name = $1",
					  1, argtypes, args, nulls, false, 1,
					  SPI_OK_SELECT, "read galaxy.datasets")->nrows > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("dataset \"%s\" already exists", name)));
	r = catalog_query("INSERT INTO galaxy.datasets"
					  " (name, relation, target, features, description, row_count, profile,"
					  "  schema_fingerprint, owner)"
					  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
					  " RETURNING *",
					  9, argtypes, args, nulls, false, 0,
					  SPI_OK_INSERT_RETURNING, "write galaxy.datasets");
	if (r->nrows != 1)
		elog(ERROR, "could not write galaxy.datasets: no row returned");
	{
		Datum	   *vals = palloc(sizeof(Datum) * result_desc->natts);
		bool	   *isnull = palloc(sizeof(bool) * result_desc->natts);

		if (r->tupdesc->natts != result_desc->natts)
			elog(ERROR, "galaxy.datasets has %d columns, its row type %d",
				 r->tupdesc->natts, result_desc->natts);
		heap_deform_tuple(r->rows[0], r->tupdesc, vals, isnull);
		id = DatumGetInt64(vals[0]);
		result_desc = BlessTupleDesc(result_desc);
		result = heap_form_tuple(result_desc, vals, isnull);
	}

	audit_create_dataset(id, name, relid, relname, target, feat, nfeat, prof->rows, fingerprint);

	PG_RETURN_DATUM(HeapTupleGetDatum(result));
}

/* galaxy.drop_dataset(name): remove a dataset no model was trained on. */
Datum
galaxy_drop_dataset(PG_FUNCTION_ARGS)
{
	char	   *name;
	Oid			user = GetUserId();
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		isnull;
	int64		id;
	char	   *owner;
	Oid			relid;
	int64		n_models;
	char	   *model_ids;
	Oid			owner_oid;
	QueryResult *r;
	StringInfoData details;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("dataset name must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	args[0] = CStringGetTextDatum(name);

	r = catalog_query("SELECT d.id, d.owner::text, d.relation::oid,"
					  " (SELECT count(*) FROM galaxy.models m WHERE m.dataset_id = d.id),"
					  " (SELECT string_agg(s.id::text, ', ' ORDER BY s.id) FROM"
					  "   (SELECT m.id FROM galaxy.models m WHERE m.dataset_id = d.id"
					  "    ORDER BY m.id LIMIT 10) s)"
					  " FROM galaxy.datasets d WHERE d.name = $1 FOR UPDATE",
					  1, argtypes, args, NULL, false, 1,
					  SPI_OK_SELECT, "read galaxy.datasets");
	if (r->nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("dataset \"%s\" does not exist", galaxy_short(name))));
	id = query_int64(r, 0, 1, 0);
	owner = query_text(r, 0, 2);
	relid = DatumGetObjectId(query_datum(r, 0, 3, &isnull));
	n_models = query_int64(r, 0, 4, 0);
	model_ids = query_text(r, 0, 5);

	owner_oid = get_role_oid(owner, true);
	if (!registry_is_admin(user) &&
		!(OidIsValid(owner_oid) && has_privs_of_role(user, owner_oid)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be the owner of dataset \"%s\" to drop it", name),
				 errdetail("The dataset belongs to role \"%s\".", owner)));
	if (n_models > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop dataset \"%s\" because " INT64_FORMAT " model%s trained on it",
						name, n_models, n_models == 1 ? " was" : "s were"),
				 errdetail("Model ids: %s%s.", model_ids ? model_ids : "", n_models > 10 ? ", ..." : ""),
				 errhint("A model keeps the dataset it was trained on as its provenance.")));

	if (catalog_command("DELETE FROM galaxy.datasets WHERE id = $1",
						1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(id)},
						NULL, SPI_OK_DELETE, "delete from galaxy.datasets") != 1)
		elog(ERROR, "could not delete from galaxy.datasets: no row deleted");

	initStringInfo(&details);
	details_begin(&details);
	details_str(&details, "name", name);
	details_int(&details, "relation_oid", (int64) relid);
	details_str(&details, "owner", owner);
	galaxy_audit("drop_dataset", "dataset", psprintf(INT64_FORMAT, id), details_end(&details));
	PG_RETURN_VOID();
}
