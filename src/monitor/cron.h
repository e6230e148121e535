/*
 * cron.h — the schedule text of galaxy.schedule_drift() (cron.c): five cron
 * fields or an interval, parsed without the server (also fuzzed,
 * test/fuzz/fuzz_cron.c).
 */
#ifndef GALAXY_CRON_H
#define GALAXY_CRON_H

#include "c.h"

/* Longest schedule text accepted. */
#define CRON_MAX_TEXT		256
/* The next run is looked for this far ahead at most (cron_next). */
#define CRON_HORIZON_SECS	((int64) 5 * 366 * 86400)

/* A parsed schedule: cron fields (UTC) or a fixed interval. */
typedef struct CronSpec
{
	bool		is_interval;
	int64		interval_secs;	/* is_interval: seconds between runs (>= 1) */
	uint64		minutes;		/* bit m: minute m (0-59) */
	uint32		hours;			/* bit h: hour h (0-23) */
	uint32		mdays;			/* bit d: day of month d (1-31) */
	uint32		months;			/* bit m: month m (1-12) */
	uint32		wdays;			/* bit d: day of week d (0-6, 0 = Sunday) */
	bool		mday_any;		/* the day-of-month field was '*' */
	bool		wday_any;		/* the day-of-week field was '*' */
} CronSpec;

/*
 * Parse schedule text: five cron fields "minute hour day-of-month month
 * day-of-week" (numbers, names JAN-DEC and SUN-SAT, '*', ranges a-b, steps
 * x/n, lists x,y; 7 is Sunday), a macro (@hourly, @daily, @midnight,
 * @weekly, @monthly, @yearly, @annually) or an interval "every N
 * seconds|minutes|hours|days" ("every second" and the like for N = 1).
 * Returns false with a message in err (errlen bytes) for bad text.
 */
extern bool cron_parse(const char *text, CronSpec *spec, char *err, size_t errlen);

/*
 * The first time (Unix seconds, UTC) strictly after 'after' that the
 * schedule fires; -1 when a cron schedule never fires within
 * CRON_HORIZON_SECS (e.g. "0 0 31 2 *").
 */
extern int64 cron_next(const CronSpec *spec, int64 after);

#endif							/* GALAXY_CRON_H */
