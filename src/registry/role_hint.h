/*
 * role_hint.h — a HINT naming the galaxy role to grant when PostgreSQL
 * refuses one of galaxy's functions, tables or views (role_hint.c).
 */
#ifndef GALAXY_ROLE_HINT_H
#define GALAXY_ROLE_HINT_H

/* Install the planner and ExecutorStart hooks that add the hint; called once from _PG_init. */
extern void role_hint_init(void);

#endif							/* GALAXY_ROLE_HINT_H */
