/*
 * shmem.h — background training: the shared memory of the job subsystem
 * and the functions of shmem.c that read and change it.
 *
 * One shared-memory segment (requested when galaxy is preloaded) holds
 *   - a progress slot per backend (indexed by MyBackendId), read by
 *     galaxy.progress_slots() behind galaxy.training_progress;
 *   - the training-worker table: one entry per running job, at most
 *     galaxy.max_workers in use, owned by the launcher;
 *   - the launcher's latch and a list of databases with fresh submissions;
 *   - the scanner mailbox through which the launcher tells a short-lived
 *     per-database scanner which failed starts to record and which jobs to
 *     skip, and the scanner hands queued jobs to the launcher.
 * All of it is protected by one LWLock; a progress slot's values are also
 * guarded by the slot's spinlock so the per-iteration update stays cheap.
 */
#ifndef GALAXY_SHMEM_H
#define GALAXY_SHMEM_H

#include "datatype/timestamp.h"
#include "storage/lwlock.h"
#include "storage/spin.h"

/* Upper bound of galaxy.max_workers (its GUC maximum). */
#define GALAXY_MAX_JOB_WORKERS	64
/* Databases with unprocessed submissions remembered at once. */
#define GALAXY_PENDING_DBS		32

#define GALAXY_PHASE_LEN		32
/* Bytes of a start failure's error message kept in shared memory. */
#define GALAXY_START_ERROR_LEN	256
/* Jobs in back-off after a failed start that one scanner is told to skip. */
#define GALAXY_MAX_HELD			64

/* Live progress of one training run (one per backend). */
typedef struct ProgressSlot
{
	slock_t		mutex;			/* guards the values below in_use */
	bool		in_use;
	int			pid;
	Oid			dboid;
	Oid			roleid;
	int64		job_id;			/* 0 for synchronous galaxy.train() */
	char		project[NAMEDATALEN];
	char		algorithm[NAMEDATALEN];
	char		phase[GALAXY_PHASE_LEN];
	int			iteration;
	int			total;
	int64		rows;
	double		loss;
	double		val_loss;
	double		metric;
	double		learning_rate;
	TimestampTz started_at;
	TimestampTz updated_at;
	TimestampTz loop_started_at;	/* start of the current iteration loop (ETA) */

	/* galaxy.wait(): the job this backend waits for, and its latch */
	Oid			wait_dboid;
	int64		wait_job_id;
	int			pgprocno;
} ProgressSlot;

/* One running (or starting) training worker. */
typedef struct JobWorkerSlot
{
	bool		in_use;
	uint64		generation;		/* changes whenever the entry is reused */
	int64		job_id;
	Oid			dboid;
	Oid			owner;
	int			pid;			/* set by the worker when it starts */
	bool		started;		/* the worker marked its job running (or found
								 * it no longer queued): its start step ended */
	bool		exited;			/* the worker process is exiting */
	bool		cancel_requested;	/* galaxy.cancel() asked it to stop */
	Oid			cancel_role;	/* ... on behalf of this role */
	/* the last ERROR/FATAL before 'started' (written by the worker itself) */
	char		start_sqlstate[6];
	char		start_error[GALAXY_START_ERROR_LEN];
} JobWorkerSlot;

/*
 * A worker that ended before it marked its job running: the launcher hands
 * it to the next scanner of the job's database, which counts the attempt.
 */
typedef struct JobStartFailure
{
	int64		job_id;
	char		sqlstate[6];
	char		message[GALAXY_START_ERROR_LEN];
} JobStartFailure;

/* A queued job the scanner found. */
typedef struct JobPick
{
	int64		job_id;
	Oid			owner;
} JobPick;

/* Launcher → scanner → launcher hand-over. */
typedef struct ScanMailbox
{
	bool		active;
	uint64		generation;
	Oid			dboid;
	/* filled by the launcher */
	int			capacity;		/* how many jobs the launcher can start */
	int			owner_cap;		/* running jobs per owner while others wait */
	int			nfailures;		/* start failures to record */
	JobStartFailure failures[GALAXY_MAX_JOB_WORKERS];
	int			nheld;			/* jobs in back-off: not to be picked */
	int64		held[GALAXY_MAX_HELD];
	int			nwaiting;		/* owners with jobs left queued elsewhere */
	Oid			waiting[GALAXY_MAX_JOB_WORKERS];
	/* filled by the scanner */
	bool		done;			/* the scanner finished and filled the result */
	bool		installed;		/* galaxy is installed in dboid */
	bool		more;			/* more queued jobs than capacity */
	int			npicks;
	JobPick		picks[GALAXY_MAX_JOB_WORKERS];
	int			nleft;			/* owners whose queued jobs were left here */
	Oid			left[GALAXY_MAX_JOB_WORKERS];
} ScanMailbox;

/*
 * Launcher → monitor worker → launcher hand-over (src/monitor/schedule.c):
 * one per-database worker at a time drains the inference log and runs the
 * due schedules, then says when the next schedule of its database is due.
 */
typedef struct MonitorMailbox
{
	bool		active;
	uint64		generation;
	Oid			dboid;
	/* filled by the monitor worker */
	bool		done;			/* it finished and filled the result */
	bool		installed;		/* galaxy is installed in dboid */
	TimestampTz next_run;		/* earliest next run of an enabled schedule, 0: none */
} MonitorMailbox;

typedef struct GalaxyJobsShared
{
	LWLock	   *lock;
	int			launcher_pid;	/* 0 when not running */
	int			launcher_procno;	/* for its latch; -1 when not running */
	uint64		next_generation;
	int			npending;
	bool		pending_overflow;	/* more databases than fit: rescan all */
	Oid			pending[GALAXY_PENDING_DBS];
	JobWorkerSlot workers[GALAXY_MAX_JOB_WORKERS];
	ScanMailbox scan;
	MonitorMailbox monitor;
	/* databases whose schedules or logging settings changed (monitor_note_db) */
	int			nmonitor_pending;
	bool		monitor_pending_overflow;
	Oid			monitor_pending[GALAXY_PENDING_DBS];
	int			nslots;
	ProgressSlot slots[FLEXIBLE_ARRAY_MEMBER];
} GalaxyJobsShared;

/* NULL unless galaxy is preloaded (and after shmem start-up). */
extern GalaxyJobsShared *galaxy_jobs_shared;

/* Called at the end of _PG_init: shmem hooks and the launcher (when preloaded). */
extern void galaxy_jobs_init(void);

/* This backend's progress slot (NULL without shared memory). */
extern ProgressSlot *jobs_my_slot(void);
/* Set the launcher's latch. */
extern void jobs_wake_launcher(void);
/* Remember a database with fresh submissions for the launcher. */
extern void jobs_note_pending_db(Oid dboid);
/* Wake the backends waiting in galaxy.wait() for a job. */
extern void jobs_wake_waiters(Oid dboid, int64 job_id);
/* Training workers in use. */
extern int	jobs_running_workers(void);
/* Ask the worker running a job to stop (false if none runs it). */
extern bool jobs_request_cancel(Oid dboid, int64 job_id, Oid role);
/* Whether a worker runs the job, and its pid (0 if none). */
extern bool jobs_worker_active(Oid dboid, int64 job_id);
extern int	jobs_worker_pid(Oid dboid, int64 job_id);

/* Wake the launcher and/or waiters when the current transaction commits. */
extern void jobs_wake_at_commit(bool launcher, bool waiters);

/* NOTIFY galaxy_jobs '<id>:<state>'. */
extern void jobs_notify(int64 job_id, const char *state);

#endif							/* GALAXY_SHMEM_H */
