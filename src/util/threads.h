/*
 * threads.h — threads for pure numeric work inside a backend.
 *
 * A thread started here runs with every signal blocked, so PostgreSQL's
 * signal handlers keep running in the backend's own thread only.  Its
 * function must not call PostgreSQL (no palloc, no elog, no locks): it
 * reads and writes plain memory that its starter keeps alive until
 * galaxy_thread_join() returns — also on the way out of an ERROR.
 */
#ifndef GALAXY_THREADS_H
#define GALAXY_THREADS_H

#include <pthread.h>

typedef struct GalaxyThread
{
	pthread_t	tid;
	bool		running;
} GalaxyThread;

extern bool galaxy_thread_start(GalaxyThread *t, void *(*fn) (void *), void *arg);
extern void galaxy_thread_join(GalaxyThread *t);

#endif							/* GALAXY_THREADS_H */
