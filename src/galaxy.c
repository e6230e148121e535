/*
 * galaxy.c — module start-up: every GUC, then each subsystem's init
 * (callbacks, shared-memory hooks, background workers).
 *
 * All of galaxy's settings are defined here, in _PG_init, and declared in
 * galaxy.h (the pg_stat_statements way): one place lists them all.  Each
 * subsystem exposes a *_init() that _PG_init calls; those that need shared
 * memory or background workers only do that part when the library is
 * loaded through shared_preload_libraries.
 */
#include "postgres.h"

#include <limits.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "galaxy.h"
#include "algo/algo.h"
#include "jobs/shmem.h"
#include "monitor/inference_log.h"
#include "monitor/inference_stats.h"
#include "registry/access.h"
#include "registry/role_hint.h"

PG_MODULE_MAGIC;

int			galaxy_max_workers = 2;
int			galaxy_max_training_memory_mb = 4096;
int			galaxy_blas_threads = 1;
int			galaxy_threads = 1;
bool		galaxy_progress_notices = false;
bool		galaxy_preloaded = false;
bool		galaxy_allow_drop_with_data = false;
bool		galaxy_require_approval = false;
int			galaxy_approval_ttl_min = 7 * 24 * 60;
int			galaxy_job_timeout_ms = 0;
bool		galaxy_track_inference = true;
int			galaxy_inference_stats_max = 1000;

extern void openblas_set_num_threads(int num_threads);

void		_PG_init(void);

/* Define every GUC and call each subsystem's init. */
void
_PG_init(void)
{
	galaxy_preloaded = process_shared_preload_libraries_in_progress;
	algo_check_registry();

	DefineCustomIntVariable("galaxy.max_workers",
							"Maximum number of training jobs run at once by background workers.",
							NULL,
							&galaxy_max_workers,
							2, 0, 64,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("galaxy.max_training_memory",
							"Largest training matrix galaxy will allocate.",
							"Checked before loading; training fails with an error saying how much is needed.",
							&galaxy_max_training_memory_mb,
							4096, 1, INT_MAX / 2,
							PGC_SUSET,
							GUC_UNIT_MB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("galaxy.blas_threads",
							"Number of OpenBLAS threads used by linear algebra during training.",
							NULL,
							&galaxy_blas_threads,
							1, 1, 64,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("galaxy.threads",
							"Number of threads for numeric kernels (tree histograms, batch prediction).",
							"Results do not depend on this setting.",
							&galaxy_threads,
							1, 1, 64,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("galaxy.progress_notices",
							 "Emit at most one progress NOTICE per second during synchronous training.",
							 NULL,
							 &galaxy_progress_notices,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("galaxy.allow_drop_with_data",
							 "Let DROP EXTENSION galaxy delete models and the audit trail.",
							 "Off: dropping galaxy while it holds models or audit rows is refused.",
							 &galaxy_allow_drop_with_data,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("galaxy.require_approval",
							 "Deploying a model needs an approved galaxy.request_deployment() request.",
							 "A project's require_approval setting, when not NULL, overrides this.",
							 &galaxy_require_approval,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("galaxy.approval_ttl",
							"How long a deployment request, and then its approval, stays valid.",
							"A pending request expires this long after it was made; an approval this long after it was given.",
							&galaxy_approval_ttl_min,
							7 * 24 * 60, 1, INT_MAX / 60,
							PGC_SUSET,
							GUC_UNIT_MIN,
							NULL, NULL, NULL);

	DefineCustomIntVariable("galaxy.job_timeout",
							"Time limit of a background training job (0 = none).",
							"A job's own timeout (galaxy.submit(..., timeout => ...)) takes precedence.",
							&galaxy_job_timeout_ms,
							0, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("galaxy.track_inference",
							 "Collects predict calls, errors and latency per model (galaxy.inference_stats).",
							 NULL,
							 &galaxy_track_inference,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/* sizes shared memory: only when preloading (a later LOAD cannot define it) */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("galaxy.inference_stats_max",
								"Maximum number of models galaxy.inference_stats tracks; beyond it the least recently used entry is evicted.",
								NULL,
								&galaxy_inference_stats_max,
								1000, 100, 100000,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);

	registry_access_init();
	role_hint_init();
	galaxy_jobs_init();
	inference_stats_init();
	inference_log_init();
	MarkGUCPrefixReserved("galaxy");

	/* OpenBLAS must not spawn a thread per core inside every backend. */
	galaxy_set_blas_threads(1);
}

/* Raise a clear error when a feature needs shared_preload_libraries. */
void
galaxy_require_preload(const char *feature)
{
	if (!galaxy_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s requires galaxy to be loaded through shared_preload_libraries", feature),
				 errhint("Add 'galaxy' to shared_preload_libraries in postgresql.conf and restart the server.")));
}

/*
 * The thread count OpenBLAS was last given, by this process or by the
 * postmaster before it forked this one (0: never).
 */
static int	blas_threads_applied = 0;

/*
 * Give OpenBLAS a thread count, only when it changes.  Every call to
 * openblas_set_num_threads in a forked process starts OpenBLAS's thread
 * pool again (its fork handler stopped the postmaster's), even for one
 * thread, and the idle pool thread then spins on sched_yield for a tenth
 * of a second or more: a core taken from parallel workers and from other
 * backends.  Set to 1 in _PG_init (in the postmaster when preloaded), the
 * count survives fork, and a backend that stays at 1 never starts a pool.
 */
void
galaxy_set_blas_threads(int n)
{
	if (n == blas_threads_applied)
		return;
	openblas_set_num_threads(n);
	blas_threads_applied = n;
}

/* galaxy.blas_threads for big work, one thread for small (see galaxy.h). */
void
galaxy_apply_blas_threads_for(double macs)
{
	galaxy_set_blas_threads(macs < GALAXY_BLAS_PARALLEL_MACS ? 1 : galaxy_blas_threads);
}

/* Bytes allowed for one training matrix. */
Size
galaxy_training_memory_limit(void)
{
	return (Size) galaxy_max_training_memory_mb * 1024 * 1024;
}

/* Error out, naming the need, when 'bytes' exceeds galaxy.max_training_memory. */
void
galaxy_check_training_memory(Size bytes, const char *what)
{
	Size		limit = galaxy_training_memory_limit();

	if (bytes > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s needs %zu MB, more than galaxy.max_training_memory (%d MB)",
						what, (bytes + 1024 * 1024 - 1) / (1024 * 1024),
						galaxy_max_training_memory_mb),
				 errhint("Raise galaxy.max_training_memory, or train on fewer rows or features.")));
}

/*
 * Fault in the pages of a freshly allocated buffer of len bytes that is
 * about to be filled, with one madvise(MADV_POPULATE_WRITE) call (Linux
 * 5.14 and later) instead of one page fault per 4 kB page.  On a virtual
 * machine a fault costs an exit to the hypervisor: filling a new 160 MB
 * matrix took 3.6-5.4 s touched page by page and 1.8-2.3 s prefaulted
 * (2-core VM, busy; 28 MB: 25-40 ms against 450 ms).  Below 256 kB it is
 * not worth a system call; where the call is not supported, nothing
 * happens and the pages fault as before.
 *
 * A buffer of GALAXY_HUGEPAGE_MIN or more asks for transparent huge pages
 * first (MADV_HUGEPAGE; the kernel's default, transparent_hugepage =
 * madvise, gives them only to who asks).  Populated in 4 kB pages, a
 * buffer still paid about 5 µs per page at its first write on this
 * project's virtual machines (a 160 MB matrix: 24 ms to populate, then
 * 215 ms to write once; in 2 MB pages 8 ms and 5 ms), and its later passes
 * miss the TLB page by page.  Only whole, aligned 2 MB blocks inside the
 * range become huge pages: the buffer takes no more memory.
 */
#define GALAXY_HUGEPAGE_MIN ((Size) 4 << 20)

void
galaxy_prefault(void *p, Size len)
{
#ifdef MADV_POPULATE_WRITE
	long		page = sysconf(_SC_PAGESIZE);
	uintptr_t	start,
				end;

	if (p == NULL || len < ((Size) 256 << 10) || page <= 0)
		return;
	start = ((uintptr_t) p + page - 1) & ~((uintptr_t) page - 1);
	end = ((uintptr_t) p + len) & ~((uintptr_t) page - 1);
	if (end > start)
	{
#ifdef MADV_HUGEPAGE
		if (end - start >= GALAXY_HUGEPAGE_MIN)
			(void) madvise((void *) start, end - start, MADV_HUGEPAGE);
#endif
		(void) madvise((void *) start, end - start, MADV_POPULATE_WRITE);
	}
#endif
}

/* A huge allocation in the current context, mapped in at once: it is about to be filled. */
void *
galaxy_alloc_filled(Size len)
{
	void	   *p = MemoryContextAllocHuge(CurrentMemoryContext, Max(len, 1));

	galaxy_prefault(p, len);
	return p;
}

/*
 * A zeroed huge allocation in the current context.  A large one is
 * prefaulted before it is zeroed: memset would otherwise fault it in page by
 * page (k-means++ zeroing its four 8 MB potential arrays in a new backend:
 * about 100 ms page by page on this project's virtual machines).
 */
void *
galaxy_alloc_zeroed(Size len)
{
	void	   *p = galaxy_alloc_filled(len);

	memset(p, 0, Max(len, 1));
	return p;
}

/*
 * Prepare this process's memory for a training (the in-memory fit calls it
 * with GALAXY_TRAINING_ARENA_MB, the moments pass's first sample, in the
 * leader or a parallel worker, with less; the first call in a process does
 * it).  glibc maps every block of 128 kB
 * or more afresh and unmaps it when freed, so each training's buffers
 * (rows, features, model) fault their pages in again one by one: about a
 * third of a small training in a new backend, more on a virtual machine
 * where a page fault costs 10 µs or more.  glibc itself raises these
 * thresholds after the first large block is freed, up to 32 MB mapped /
 * 64 MB kept at the top of the heap; this sets them to that same ceiling at
 * once.  Then it maps in arena_mb of heap in one call (galaxy_prefault) and
 * frees it: the first allocations reuse those pages instead of faulting
 * each in (a text naive Bayes training in a new backend: about 3,200 page
 * faults, 115 ms, before; 100 ms after).  The arena stays in the process as
 * glibc's free memory, as memory a large training frees does.  A failure is
 * ignored (a hint, as galaxy_prefault).
 */
/* glibc's own ceilings for its dynamic thresholds: blocks mapped apart / free memory kept */
#define GALAXY_MMAP_THRESHOLD_MB 32
#define GALAXY_TRIM_THRESHOLD_MB 64

void
galaxy_prepare_memory(int arena_mb)
{
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
	static bool done = false;
	void	   *arena;

	if (done)
		return;
	done = true;
	(void) mallopt(M_MMAP_THRESHOLD, GALAXY_MMAP_THRESHOLD_MB << 20);
	(void) mallopt(M_TRIM_THRESHOLD, GALAXY_TRIM_THRESHOLD_MB << 20);
	/* the arena comes from the heap, below the mmap threshold */
	Assert(arena_mb > 0 && arena_mb < GALAXY_MMAP_THRESHOLD_MB);
	arena = malloc((Size) arena_mb << 20);
	if (arena != NULL)
	{
		galaxy_prefault(arena, (Size) arena_mb << 20);
		free(arena);
	}
#endif
}

/* A user-supplied name for a message: itself, or its first 64 bytes and "...". */
const char *
galaxy_short(const char *s)
{
	if (s == NULL || strlen(s) <= 64)
		return s;
	return psprintf("%.64s...", s);
}
