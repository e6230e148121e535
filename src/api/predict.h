/*
 * predict.h — what the predict entry points (predict.c) and their planner
 * support (predict_support.c) share.
 */
#ifndef GALAXY_PREDICT_H
#define GALAXY_PREDICT_H

#include "catalog/pg_type.h"

typedef enum PredictTarget
{
	PREDICT_BY_PROJECT = 1,
	PREDICT_BY_MODEL,
	PREDICT_BY_VALUE			/* a galaxy.model value: no catalog (Citus workers) */
} PredictTarget;

/*
 * Arguments of galaxy.predict*_columns before the columns: target, row_id,
 * key, names (see predict_support.c).
 */
#define PREDICT_COLUMNS_FIXED_ARGS 4
/* Arguments of galaxy.predict*_values before the values: target, key. */
#define PREDICT_VALUES_FIXED_ARGS 2

/* The number types a positional feature (array element or value) may have. */
static inline bool
predict_positional_type(Oid type)
{
	return type == FLOAT8OID || type == FLOAT4OID || type == INT2OID ||
		type == INT4OID || type == INT8OID || type == NUMERICOID;
}

#endif							/* GALAXY_PREDICT_H */
