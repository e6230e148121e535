/*
 * progress.c — training progress reporting.
 *
 * This first version reports through NOTICEs (galaxy.progress_notices, at
 * most one per second); the background-work subsystem adds the
 * shared-memory slots behind galaxy.training_progress.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/timestamp.h"

#include "galaxy.h"
#include "jobs/progress.h"

struct ProgressRun
{
	int64		job_id;
	char		project[NAMEDATALEN];
	char		algorithm[NAMEDATALEN];
	char		phase[32];
	int64		rows;
	TimestampTz started;
	TimestampTz last_notice;
};

/* Start reporting for a run. */
ProgressRun *
progress_begin(int64 job_id, const char *project, const char *algorithm, int64 rows)
{
	ProgressRun *run = palloc0(sizeof(ProgressRun));

	run->job_id = job_id;
	strlcpy(run->project, project, sizeof(run->project));
	strlcpy(run->algorithm, algorithm, sizeof(run->algorithm));
	strlcpy(run->phase, "load", sizeof(run->phase));
	run->rows = rows;
	run->started = GetCurrentTimestamp();
	return run;
}

/* Set the current phase. */
void
progress_phase(ProgressRun *run, const char *phase)
{
	if (run)
		strlcpy(run->phase, phase, sizeof(run->phase));
}

/* ProgressFn for algorithms: throttled NOTICE when galaxy.progress_notices is on. */
void
progress_callback(const ProgressInfo *info, void *arg)
{
	ProgressRun *run = (ProgressRun *) arg;
	TimestampTz now;

	CHECK_FOR_INTERRUPTS();
	if (run == NULL || !galaxy_progress_notices)
		return;
	now = GetCurrentTimestamp();
	if (run->last_notice != 0 && !TimestampDifferenceExceeds(run->last_notice, now, 1000))
		return;
	run->last_notice = now;
	if (info->total > 0)
		ereport(NOTICE,
				(errmsg("galaxy: %s %s iteration %d/%d loss %.6g",
						run->project, run->algorithm, info->iteration, info->total, info->loss)));
	else
		ereport(NOTICE,
				(errmsg("galaxy: %s %s iteration %d loss %.6g",
						run->project, run->algorithm, info->iteration, info->loss)));
}

/* Release the run. */
void
progress_end(ProgressRun *run)
{
	if (run)
		pfree(run);
}
