/*
 * tree_threads.c — the thread runner of the tree models: pure numeric
 * kernels split over up to galaxy.threads threads with every signal blocked.
 * See tree_core.h.
 */
#include "postgres.h"

#include "algo/tree_core.h"
#include "util/threads.h"

typedef struct TreeThreadArg
{
	TreeKernel	kernel;
	void	   *arg;
	int			w;
	int			nw;
} TreeThreadArg;

/* Entry point of a worker thread: run its share of the kernel. */
static void *
tree_thread_main(void *p)
{
	TreeThreadArg *a = (TreeThreadArg *) p;

	a->kernel(a->arg, a->w, a->nw);
	return NULL;
}

/* Run a pure numeric kernel on nw workers (worker 0 is the calling thread). */
void
tree_parallel(int nw, TreeKernel kernel, void *arg)
{
	GalaxyThread threads[TREE_MAX_THREADS];
	TreeThreadArg args[TREE_MAX_THREADS];

	if (nw <= 1)
	{
		kernel(arg, 0, 1);
		return;
	}
	if (nw > TREE_MAX_THREADS)
		nw = TREE_MAX_THREADS;

	for (int w = 1; w < nw; w++)
	{
		args[w].kernel = kernel;
		args[w].arg = arg;
		args[w].w = w;
		args[w].nw = nw;
		(void) galaxy_thread_start(&threads[w], tree_thread_main, &args[w]);
	}

	kernel(arg, 0, nw);
	for (int w = 1; w < nw; w++)
	{
		if (threads[w].running)
			galaxy_thread_join(&threads[w]);
		else
			kernel(arg, w, nw); /* could not start: do its share here */
	}
}

/* Threads worth starting for 'work' elementary operations. */
int
tree_threads_for(int threads, double work)
{
	if (threads <= 1 || work < 200000.0)
		return 1;
	if (threads > TREE_MAX_THREADS)
		threads = TREE_MAX_THREADS;
	return threads;
}
