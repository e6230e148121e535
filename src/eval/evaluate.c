/*
 * evaluate.c — galaxy.evaluate (a model's metrics on any relation, scanned
 * with the caller's privileges) and galaxy.feature_importance.
 *
 * Both read the model through the per-backend model cache
 * (model/model_cache.h); evaluate scores the relation batch by batch
 * through query_scan and computes the same metrics as training
 * (eval/metrics.h).  evaluate_relation (evaluate.h) hands the scored rows
 * to others: the model card draws its curves from them.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "algo/sparse.h"
#include "eval/evaluate.h"
#include "eval/metrics.h"
#include "model/model_cache.h"
#include "registry/access.h"
#include "registry/audit.h"
#include "registry/deploy.h"
#include "registry/versions.h"
#include "util/query.h"

PG_FUNCTION_INFO_V1(galaxy_evaluate_model);
PG_FUNCTION_INFO_V1(galaxy_evaluate_project);
PG_FUNCTION_INFO_V1(galaxy_feature_importance);

/* Id of the model a project serves as primary. */
static int64
project_primary(const char *project)
{
	int64		pid = registry_project_id(project, false);
	int64		mid = registry_primary_model(pid);

	if (mid == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("project \"%s\" has no deployed model", project)));
	return mid;
}

/* What evaluate accumulates while it scans the relation. */
typedef struct EvalScan
{
	CachedModel *cm;
	GalaxyModel *m;
	int			n_in;
	Oid			target_type;
	Oid			target_out;		/* output function of the target (classification) */
	bool		numeric_target; /* compare labels by value: 1 and 1.0 are one class */
	PrepDatumConv *conv;
	Datum	   *vals;
	bool	   *nulls;
	/* grown across batches with repalloc: allocated before the scan */
	int64		n;
	int64		cap;
	double	   *y;
	double	   *pred;
	double	   *proba;
	int64		unknown;		/* rows whose label the model does not know */
	int64		non_finite;		/* rows whose numeric target is NaN or infinite */
} EvalScan;

/* evaluate: classify the inputs' types once, from the cursor's row type. */
static void
eval_scan_start(void *arg, TupleDesc td)
{
	EvalScan   *es = (EvalScan *) arg;
	Oid		   *types = palloc(sizeof(Oid) * es->n_in);
	bool		isvarlena;

	for (int i = 0; i < es->n_in; i++)
		types[i] = TupleDescAttr(td, i)->atttypid;
	es->conv = preprocess_datum_conv(es->m->prep, types);
	es->target_type = TupleDescAttr(td, es->n_in)->atttypid;
	getTypeOutputInfo(es->target_type, &es->target_out, &isvarlena);
	switch (getBaseType(es->target_type))
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			es->numeric_target = true;
			break;
		default:
			es->numeric_target = false;
	}
	if (es->m->task == TASK_REGRESSION && !es->numeric_target)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("regression model needs a numeric target, but column \"%s\" is of type %s",
						NameStr(TupleDescAttr(td, es->n_in)->attname),
						format_type_be(es->target_type))));
}

/* Rows whose features evaluate predicts in one call. */
#define EVAL_BLOCK 256

/* Predict the last nb rows added (their features in block, or in csr for text features). */
static void
eval_predict_block(EvalScan *es, const double *block, SparseBuilder *csr, int64 nb)
{
	GalaxyModel *m = es->m;
	int64		first = es->n - nb;
	double	   *proba = es->proba && m->algo->predict_proba ? es->proba + first * m->n_classes : NULL;

	if (nb == 0)
		return;
	if (csr)
	{
		SparseMatrix X = sparse_builder_rows(csr, 0, nb);

		algo_predict_scores_sparse(m->algo, m->state, &X, m->n_classes, &es->pred[first], proba);
		sparse_builder_reset(csr);
	}
	else
		algo_predict_scores(m->algo, m->state, block, nb, m->n_classes, &es->pred[first], proba);
}

/* evaluate: score one batch of rows. */
static void
eval_scan_batch(void *arg, HeapTuple *rows, uint64 nrows, TupleDesc td)
{
	EvalScan   *es = (EvalScan *) arg;
	GalaxyModel *m = es->m;
	CachedModel *cm = es->cm;
	int			p = m->n_features;
	/* up to EVAL_BLOCK rows' features, predicted in one call (in the batch's context) */
	int64		block_rows = Min((int64) Max(nrows, 1), EVAL_BLOCK);
	double	   *block = NULL;
	SparseBuilder csr;
	int64		nb = 0;

	/* text features are sparse: a block of CSR rows instead of dense ones */
	if (cm->has_text)
		sparse_builder_init(&csr, p, block_rows, block_rows * 64, "evaluation rows");
	else
		block = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * block_rows * Max(p, 1));

	for (uint64 r = 0; r < nrows; r++)
	{
		bool		ynull;
		Datum		yd = heap_getattr(rows[r], es->n_in + 1, td, &ynull);
		double		yv;

		if (ynull)
			continue;
		if (m->task == TASK_CLASSIFICATION)
		{
			char	   *lab = OidOutputFunctionCall(es->target_out, yd);
			double		labv = es->numeric_target ? float8in_internal(lab, NULL, "double precision", lab) : NAN;
			int			k;

			/* numbers by value (as training and predict do), others by text */
			for (k = 0; k < m->n_classes; k++)
				if (es->numeric_target && !isnan(cm->label_value[k]) ?
					cm->label_value[k] == labv : strcmp(m->labels[k], lab) == 0)
					break;
			pfree(lab);
			if (k == m->n_classes)
			{
				es->unknown++;
				continue;
			}
			yv = k;
		}
		else
		{
			if (es->target_type == FLOAT8OID)
				yv = DatumGetFloat8(yd);
			else
			{
				char	   *txt = OidOutputFunctionCall(es->target_out, yd);

				yv = float8in_internal(txt, NULL, "double precision", txt);
				pfree(txt);
			}
			if (!isfinite(yv))
			{
				es->non_finite++;
				continue;
			}
		}
		for (int i = 0; i < es->n_in; i++)
			es->vals[i] = heap_getattr(rows[r], i + 1, td, &es->nulls[i]);
		if (es->n == es->cap)
		{
			es->cap *= 2;
			es->y = repalloc_huge(es->y, sizeof(double) * es->cap);
			es->pred = repalloc_huge(es->pred, sizeof(double) * es->cap);
			if (es->proba)
				es->proba = repalloc_huge(es->proba, sizeof(double) * es->cap * m->n_classes);
		}
		preprocess_datums_to_raw_conv(m->prep, es->conv, es->vals, es->nulls, cm->raw);
		if (cm->has_text)
		{
			preprocess_apply_sparse(m->prep, cm->raw, preprocess_datum_conv_terms(es->conv), &cm->row);
			sparse_builder_add(&csr, &cm->row);
		}
		else
			preprocess_apply_raw(m->prep, cm->raw, block + nb * p);
		nb++;
		es->y[es->n] = yv;
		es->n++;
		if (nb == block_rows)
		{
			eval_predict_block(es, block, cm->has_text ? &csr : NULL, nb);
			nb = 0;
		}
	}
	eval_predict_block(es, block, cm->has_text ? &csr : NULL, nb);
}

/*
 * The column of relid a model needs, by name; ERROR 42703 when it is missing
 * and 42501 when the caller may not read it (table or column privilege).
 */
static void
evaluate_check_column(Oid relid, const char *column, int64 model_id, const char *what)
{
	AttrNumber	att = get_attnum(relid, column);

	if (att == InvalidAttrNumber || att < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("relation \"%s\" has no column \"%s\"", get_rel_name(relid), column),
				 errdetail("Model " INT64_FORMAT " needs it as its %s.", model_id, what)));
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK &&
		pg_attribute_aclcheck(relid, att, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for column \"%s\" of relation \"%s\"",
						column, get_rel_name(relid))));
}

/*
 * Score the rows of a relation with a model (inputs matched by name, target
 * by the model's target), as the caller: see evaluate.h.
 */
void
evaluate_relation(int64 model_id, Oid relid, EvaluatedRows *out)
{
	EvalScan	es = {0};
	GalaxyModel *m;
	char	   *target;
	StringInfoData sql;
	QueryResult *r;

	if (!OidIsValid(relid) || get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	switch (get_rel_relkind(relid))
	{
		case RELKIND_RELATION:
		case RELKIND_VIEW:
		case RELKIND_MATVIEW:
		case RELKIND_PARTITIONED_TABLE:
		case RELKIND_FOREIGN_TABLE:
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("\"%s\" is not a table, view, materialized view or foreign table",
							get_rel_name(relid))));
	}
	model_cache_ensure();
	es.cm = model_cache_get(model_id);
	registry_check_model_access(es.cm->project_id, model_id, "evaluate");
	m = es.m = es.cm->m;
	es.n_in = preprocess_n_inputs(m->prep);

	r = catalog_query("SELECT target FROM galaxy.models WHERE id = $1", 1, (Oid[]) {INT8OID},
					  (Datum[]) {Int64GetDatum(model_id)}, NULL, true, 1,
					  SPI_OK_SELECT, "read galaxy.models");
	target = r->nrows == 1 ? query_text(r, 0, 1) : NULL;
	if (target == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model " INT64_FORMAT " has no target column to evaluate against", model_id)));

	/* resolve every column first: clear errors instead of the query's */
	for (int i = 0; i < es.n_in; i++)
		evaluate_check_column(relid, preprocess_input(m->prep, i)->name, model_id, "input");
	evaluate_check_column(relid, target, model_id, "target");

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (int i = 0; i < es.n_in; i++)
		appendStringInfo(&sql, "%s, ", quote_identifier(preprocess_input(m->prep, i)->name));
	appendStringInfo(&sql, "%s FROM %s", quote_identifier(target),
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid)));

	/* everything the scan fills lives here, in the caller's context */
	es.vals = palloc(sizeof(Datum) * Max(es.n_in, 1));
	es.nulls = palloc(sizeof(bool) * Max(es.n_in, 1));
	es.cap = 1024;
	es.y = palloc(sizeof(double) * es.cap);
	es.pred = palloc(sizeof(double) * es.cap);
	if (m->task == TASK_CLASSIFICATION)
		es.proba = palloc(sizeof(double) * es.cap * m->n_classes);

	query_scan(sql.data, 0, NULL, NULL, NULL, 10000, eval_scan_start, eval_scan_batch, &es);

	if (es.n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("relation %s has no rows with a known target to evaluate", get_rel_name(relid)),
				 (es.unknown + es.non_finite) > 0 ?
				 errdetail("Skipped " INT64_FORMAT " rows with a label the model does not know and "
						   INT64_FORMAT " rows with a NaN or infinite target.", es.unknown, es.non_finite) : 0));
	out->model_id = model_id;
	out->task = m->task;
	out->n_classes = m->n_classes;
	out->n = es.n;
	out->y = es.y;
	out->pred = es.pred;
	out->proba = m->algo->predict_proba ? es.proba : NULL;
	out->unknown = es.unknown;
	out->non_finite = es.non_finite;
}

/* Metrics of a model on a relation; see evaluate.h. */
Jsonb *
evaluate_model_metrics(int64 model_id, Oid relid)
{
	EvaluatedRows ev;
	MetricSet	ms;
	StringInfoData extra;

	evaluate_relation(model_id, relid, &ev);
	metrics_init(&ms);
	if (ev.task == TASK_REGRESSION)
		metrics_regression(ev.y, ev.pred, ev.n, &ms);
	else if (ev.task == TASK_CLASSIFICATION)
		metrics_classification(ev.y, ev.pred, ev.proba, ev.n, ev.n_classes, &ms);

	initStringInfo(&extra);
	details_begin(&extra);
	details_int(&extra, "rows", ev.n);
	details_int(&extra, "model_id", model_id);
	if (ev.unknown > 0)
		details_int(&extra, "rows_with_unknown_label", ev.unknown);
	if (ev.non_finite > 0)
		details_int(&extra, "rows_with_non_finite_target", ev.non_finite);
	return metrics_to_jsonb(&ms, details_end(&extra));
}

/* galaxy.evaluate(model bigint, relation regclass) → jsonb */
Datum
galaxy_evaluate_model(PG_FUNCTION_ARGS)
{
	PG_RETURN_JSONB_P(evaluate_model_metrics(PG_GETARG_INT64(0), PG_GETARG_OID(1)));
}

/* galaxy.evaluate(project text, relation regclass) → jsonb */
Datum
galaxy_evaluate_project(PG_FUNCTION_ARGS)
{
	char	   *project = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_JSONB_P(evaluate_model_metrics(project_primary(project), PG_GETARG_OID(1)));
}

/* galaxy.feature_importance(model bigint) → (feature, importance) */
Datum
galaxy_feature_importance(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CachedModel *cm;
	GalaxyModel *m;
	double	   *imp;

	model_cache_ensure();
	cm = model_cache_get(PG_GETARG_INT64(0));
	registry_check_model_access(cm->project_id, PG_GETARG_INT64(0), "read");
	m = cm->m;
	InitMaterializedSRF(fcinfo, 0);
	if (m->algo->feature_importance == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("algorithm %s does not report feature importance", m->algo->name)));
	imp = palloc0(sizeof(double) * m->n_features);
	m->algo->feature_importance(m->state, imp);
	for (int j = 0; j < m->n_features; j++)
	{
		Datum		v[2];
		bool		nl[2] = {false, false};

		v[0] = CStringGetTextDatum(preprocess_feature_name(m->prep, j));
		v[1] = Float8GetDatum(imp[j]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nl);
	}
	return (Datum) 0;
}
