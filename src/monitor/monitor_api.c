/*
 * monitor_api.c — galaxy.health_runtime(): what only shared memory knows
 * about galaxy's health (launcher, training workers, inference statistics),
 * for galaxy.health() and the galaxy.health_status view.
 */
#include "postgres.h"

#include <signal.h>

#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lwlock.h"
#include "utils/builtins.h"

#include "galaxy.h"
#include "jobs/shmem.h"
#include "monitor/inference_stats.h"

#define HEALTH_NATTS 8

PG_FUNCTION_INFO_V1(galaxy_health_runtime);

/*
 * galaxy.health_runtime() → preloaded, launcher_pid, launcher_alive,
 * workers_busy, workers_max, inference_stats_models, inference_stats_max,
 * inference_stats_bytes.
 */
Datum
galaxy_health_runtime(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		v[HEALTH_NATTS];
	bool		n[HEALTH_NATTS];
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	int			pid = 0;
	int64		models = inference_stats_count();

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	memset(n, 0, sizeof(n));
	if (shared != NULL)
	{
		LWLockAcquire(shared->lock, LW_SHARED);
		pid = shared->launcher_pid;
		LWLockRelease(shared->lock);
	}
	v[0] = BoolGetDatum(galaxy_preloaded);
	v[1] = Int32GetDatum(pid);
	n[1] = pid == 0;
	/* the launcher records its pid while it runs; a signal 0 says the process is there */
	v[2] = BoolGetDatum(pid != 0 && kill(pid, 0) == 0);
	v[3] = Int32GetDatum(jobs_running_workers());
	v[4] = Int32GetDatum(galaxy_max_workers);
	v[5] = Int64GetDatum(models);
	n[5] = models < 0;
	v[6] = Int32GetDatum(galaxy_inference_stats_max);
	v[7] = Int64GetDatum((int64) inference_stats_memsize());
	n[7] = models < 0;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, v, n)));
}
