/*
 * algorithms_api.c — the algorithm registry as SQL rows
 * (behind the galaxy.algorithms and galaxy.algorithm_hyperparameters views).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "algo/algo.h"

PG_FUNCTION_INFO_V1(galaxy_algorithm_list);
PG_FUNCTION_INFO_V1(galaxy_algorithm_hyperparameter_list);

/* Name of a hyperparameter type. */
static const char *
hp_type_name(HpType t)
{
	switch (t)
	{
		case HP_INT:
			return "integer";
		case HP_FLOAT:
			return "float";
		case HP_BOOL:
			return "boolean";
		case HP_ENUM:
			return "choice";
		case HP_INT_LIST:
			return "integer[]";
		case HP_SPEC_LIST:
			return "jsonb";
	}
	return "unknown";
}

/* Default of a hyperparameter as text. */
static char *
hp_default_text(const HyperParamSpec *spec)
{
	switch (spec->type)
	{
		case HP_INT:
			return psprintf("%.0f", spec->def);
		case HP_FLOAT:
			return psprintf("%g", spec->def);
		case HP_BOOL:
			return pstrdup(spec->def != 0 ? "true" : "false");
		case HP_ENUM:
			{
				const char *p = spec->choices;

				for (int i = 0; i < (int) spec->def && p; i++)
				{
					p = strchr(p, ',');
					if (p)
						p++;
				}
				if (!p)
					return pstrdup("");
				return pnstrdup(p, strchr(p, ',') ? (Size) (strchr(p, ',') - p) : strlen(p));
			}
		case HP_INT_LIST:
			return psprintf("[%s]", spec->list_default ? spec->list_default : "");
		case HP_SPEC_LIST:
			return pstrdup("[]");
	}
	return pstrdup("");
}

/* galaxy.algorithm_list() → (name, tasks, description, default_scaling) */
Datum
galaxy_algorithm_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < algo_count(); i++)
	{
		const AlgorithmDef *a = algo_at(i);
		Datum		tasks[3];
		int			nt = 0;
		Datum		v[5];
		bool		nl[5] = {false, false, false, false, false};

		for (int t = TASK_REGRESSION; t <= TASK_CLUSTERING; t++)
			if (a->tasks & TASK_BIT(t))
				tasks[nt++] = CStringGetTextDatum(galaxy_task_name((GalaxyTask) t));
		v[0] = CStringGetTextDatum(a->name);
		v[1] = PointerGetDatum(construct_array(tasks, nt, TEXTOID, -1, false, TYPALIGN_INT));
		v[2] = CStringGetTextDatum(a->description ? a->description : "");
		v[3] = BoolGetDatum(a->default_scaling);
		v[4] = Int32GetDatum(a->n_params);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nl);
	}
	return (Datum) 0;
}

/* galaxy.algorithm_hyperparameter_list() → one row per algorithm and hyperparameter */
Datum
galaxy_algorithm_hyperparameter_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < algo_count(); i++)
	{
		const AlgorithmDef *a = algo_at(i);

		for (int k = 0; k < a->n_params; k++)
		{
			const HyperParamSpec *s = &a->params[k];
			Datum		v[9];
			bool		nl[9] = {false, false, false, false, false, false, false, false, false};
			bool		numeric = (s->type == HP_INT || s->type == HP_FLOAT || s->type == HP_INT_LIST);

			v[0] = CStringGetTextDatum(a->name);
			v[1] = CStringGetTextDatum(s->name);
			v[2] = CStringGetTextDatum(hp_type_name(s->type));
			v[3] = CStringGetTextDatum(hp_default_text(s));
			v[4] = Float8GetDatum(s->min);
			nl[4] = !numeric;
			v[5] = Float8GetDatum(s->max);
			nl[5] = !numeric;
			v[6] = BoolGetDatum(s->min_exclusive);
			nl[6] = !numeric;
			if (s->type == HP_ENUM && s->choices)
				v[7] = CStringGetTextDatum(s->choices);
			else
				nl[7] = true;
			v[8] = CStringGetTextDatum(s->description ? s->description : "");
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nl);
		}
	}
	return (Datum) 0;
}
