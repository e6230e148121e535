/*
 * predict.h — inference entry points.
 */
#ifndef GALAXY_PREDICT_H
#define GALAXY_PREDICT_H

#include "postgres.h"

typedef enum PredictTarget
{
	PREDICT_BY_PROJECT = 1,
	PREDICT_BY_MODEL
} PredictTarget;

#endif							/* GALAXY_PREDICT_H */
