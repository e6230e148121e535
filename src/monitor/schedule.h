/*
 * schedule.h — schedules, alerts and the monitor worker (schedule.c).
 */
#ifndef GALAXY_SCHEDULE_H
#define GALAXY_SCHEDULE_H

/* dboid's schedules or logging settings changed: the launcher visits it soon. */
extern void monitor_note_db(Oid dboid);

#endif							/* GALAXY_SCHEDULE_H */
