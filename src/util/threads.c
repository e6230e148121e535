/*
 * threads.c — threads for pure numeric work inside a backend (threads.h).
 */
#include "postgres.h"

#include <signal.h>

#include "util/threads.h"

/*
 * Start fn(arg) on a new thread with every signal blocked (a new thread
 * inherits the mask of its creator, which gets its own back at once).
 * false when no thread could be started: then run fn(arg) yourself.
 */
bool
galaxy_thread_start(GalaxyThread *t, void *(*fn) (void *), void *arg)
{
	sigset_t	all,
				old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	t->running = pthread_create(&t->tid, NULL, fn, arg) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return t->running;
}

/* Wait for a thread started by galaxy_thread_start, if it is running. */
void
galaxy_thread_join(GalaxyThread *t)
{
	if (t->running)
	{
		pthread_join(t->tid, NULL);
		t->running = false;
	}
}
