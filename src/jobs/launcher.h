/*
 * launcher.h — the job launcher (launcher.c), registered from _PG_init.
 */
#ifndef GALAXY_LAUNCHER_H
#define GALAXY_LAUNCHER_H

/* Register the static launcher background worker (preload only). */
extern void jobs_register_launcher(void);

#endif							/* GALAXY_LAUNCHER_H */
