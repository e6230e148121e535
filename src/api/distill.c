/*
 * distill.c — galaxy.compress(model, 'distill', options): knowledge
 * distillation.  A student (by default a gradient boosting model of 8
 * trees of depth 8, learning rate 1: DISTILL_DEFAULT_HYPERPARAMS; any
 * algorithm of the teacher's task) learns what the teacher predicts, not
 * the labels: the teacher's training relation is copied into a temporary
 * table whose target column holds the teacher's prediction of every row
 * (its label for a classifier, its value for a regressor), and
 * the one training pipeline (train_run) fits the student on it.  The rows
 * need no labels of their own, so the teacher's held-out rows teach too.
 *
 * The student is registered in the teacher's project as the teacher's next
 * patch version, with parent_id the teacher and the teacher's relation
 * recorded as its relation; compress_api.c then measures both models on the
 * same rows, with the true labels, and applies the accuracy guard as for
 * every compression.
 *
 * The student learns the teacher's hard decisions (labels), not its
 * probabilities: a classifier student stays a classifier with the same
 * labels, and its probabilities are its own.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/snapmgr.h"

#include "algo/algo.h"
#include "api/distill.h"
#include "api/train.h"
#include "util/query.h"

/* Temporary tables made in this backend (their names stay unique). */
static int	distill_counter = 0;

/* The student's hyperparameters: the caller's, else a small default for the default student. */
static Jsonb *
student_hyperparams(const DistillOptions *opt, const char *student)
{
	if (opt->hyperparams != NULL)
		return opt->hyperparams;
	if (strcmp(student, DISTILL_DEFAULT_STUDENT) == 0)
		return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(DISTILL_DEFAULT_HYPERPARAMS)));
	return NULL;
}

/* Train the student of a model; see distill.h. */
int64
distill_run(int64 parent_id, int64 project_id, const DistillOptions *opt)
{
	QueryResult *r;
	bool		isnull;
	char	   *project;
	char	   *task;
	char	   *target;
	char	   *relation;
	char	   *preprocess;
	int			seed;
	Datum	   *elems;
	bool	   *enulls;
	int			n_features;
	Oid			relid;
	AttrNumber	attnum;
	char	   *target_type;
	const char *student = opt->student ? opt->student : DISTILL_DEFAULT_STUDENT;
	const AlgorithmDef *algo;
	char		tmpname[NAMEDATALEN];
	StringInfoData sql;
	List	   *features = NIL;
	TrainRequest *req;
	int64		model_id;

	r = catalog_query("SELECT p.name, m.task, m.target, m.relation, m.features, m.seed, m.preprocess::text "
					  "FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id WHERE m.id = $1",
					  1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(parent_id)},
					  NULL, true, 1, SPI_OK_SELECT, "read galaxy.models");
	if (r->nrows != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("galaxy model %lld does not exist", (long long) parent_id)));
	project = query_text(r, 0, 1);
	task = query_text(r, 0, 2);
	target = query_text(r, 0, 3);
	relation = query_text(r, 0, 4);
	seed = query_int32(r, 0, 6, 42);
	preprocess = query_text(r, 0, 7);
	if (strcmp(task, "clustering") == 0 || target == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("galaxy model %lld is a %s model: distill needs a classifier or a regressor as the teacher",
						(long long) parent_id, task)));
	if (relation == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("galaxy model %lld has no training relation to distill it on", (long long) parent_id)));

	/* the student: an algorithm of the teacher's task */
	algo = algo_by_name(student);
	if (!(algo->tasks & TASK_BIT(galaxy_task_from_name(task))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("galaxy.compress option \"student\": algorithm %s does not support %s, the teacher's task",
						algo->name, task)));

	/* the teacher's inputs and the type of its target column */
	deconstruct_array(DatumGetArrayTypeP(query_datum(r, 0, 5, &isnull)), TEXTOID, -1, false,
					  TYPALIGN_INT, &elems, &enulls, &n_features);
	relid = DatumGetObjectId(DirectFunctionCall1(regclassin, CStringGetDatum(relation)));
	attnum = get_attnum(relid, target);
	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("relation %s has no column \"%s\" (the target of galaxy model %lld) any more",
						relation, target, (long long) parent_id)));
	target_type = format_type_be(get_atttype(relid, attnum));
	/* the relation as galaxy names it, from its OID (not the stored text) */
	relation = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));

	/* the transfer set: the teacher's inputs, its prediction as the target */
	snprintf(tmpname, sizeof(tmpname), "galaxy_distill_%lld_%d", (long long) parent_id, ++distill_counter);
	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TEMPORARY TABLE %s AS SELECT ", quote_identifier(tmpname));
	for (int i = 0; i < n_features; i++)
	{
		char	   *name = TextDatumGetCString(elems[i]);

		appendStringInfo(&sql, "t.%s, ", quote_identifier(name));
		features = lappend(features, makeString(name));
	}
	appendStringInfo(&sql, "galaxy.%s(" INT64_FORMAT "::bigint, t)::%s AS %s FROM %s t",
					 strcmp(task, "classification") == 0 ? "predict_label" : "predict",
					 parent_id, target_type, quote_identifier(target), relation);
	(void) user_query(sql.data, 0, NULL, NULL, NULL, false, 0, SPI_OK_UTILITY,
					  "label the transfer rows with the teacher's predictions");

	req = palloc0(sizeof(TrainRequest));
	req->project = project;
	req->relid = DatumGetObjectId(DirectFunctionCall1(regclassin,
													  CStringGetDatum(psprintf("pg_temp.%s", quote_identifier(tmpname)))));
	req->target = target;
	req->features = features;
	req->algorithm = pstrdup(algo->name);
	req->task = task;
	req->hyperparams = student_hyperparams(opt, algo->name);
	req->preprocess = preprocess ? DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(preprocess))) : NULL;
	req->test_size = opt->test_size;
	req->deploy = pstrdup("never");
	req->seed = seed;
	req->parent_id = parent_id;
	req->relation_name = relation;

	/*
	 * The pipeline reads the rows with the active snapshot: one that sees the
	 * table just filled.
	 */
	CommandCounterIncrement();
	PushCopiedSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
	model_id = train_run(req, NULL);
	PopActiveSnapshot();

	(void) user_query(psprintf("DROP TABLE pg_temp.%s", quote_identifier(tmpname)), 0, NULL, NULL, NULL,
					  false, 0, SPI_OK_UTILITY, "drop the transfer rows");
	(void) project_id;
	return model_id;
}
