/*
 * fuzz_cron.c — libFuzzer target for the schedule text parser,
 * cron_parse() and cron_next() in src/monitor/cron.c (galaxy.schedule_drift's
 * and galaxy.next_run's schedule text).
 *
 * The input is the text.  What an accepted schedule must satisfy:
 *   - every field's bit set is within its range and not empty (a cron
 *     schedule), or the interval is at least one second;
 *   - for several starting times (around the Unix epoch, now-ish, far
 *     ahead, negative), cron_next() returns -1 (a cron schedule only) or a
 *     time strictly after the start and within CRON_HORIZON_SECS, on a
 *     whole minute for cron text, whose UTC fields (checked with gmtime_r,
 *     independently of cron.c's calendar arithmetic) match the schedule;
 *   - it is the first such time: cron_next() from one second before it
 *     gives it again.
 * A rejected text must come with a message.
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "monitor/cron.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether UTC time t matches a cron schedule (Vixie day semantics). */
static bool
matches(const CronSpec *s, int64 t)
{
	time_t		tt = (time_t) t;
	struct tm	tm;
	bool		dom,
				dow,
				day;

	if (gmtime_r(&tt, &tm) == NULL)
		abort();
	if (tm.tm_sec != 0)
		return false;
	dom = (s->mdays >> tm.tm_mday) & 1;
	dow = (s->wdays >> tm.tm_wday) & 1;
	if (s->mday_any && s->wday_any)
		day = true;
	else if (s->mday_any)
		day = dow;
	else if (s->wday_any)
		day = dom;
	else
		day = dom || dow;
	return ((s->minutes >> tm.tm_min) & 1) && ((s->hours >> tm.tm_hour) & 1) &&
		((s->months >> (tm.tm_mon + 1)) & 1) && day;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64 starts[] = {
		0, -1, 59, 951782399, 1767225599, 1798761600 + 12345, 4102444800, -86400 * 400
	};
	char		text[CRON_MAX_TEXT + 64];
	char		err[256];
	CronSpec	spec;

	if (size > CRON_MAX_TEXT + 16)
		size = CRON_MAX_TEXT + 16;
	memcpy(text, data, size);
	text[size] = '\0';
	err[0] = '\0';
	if (!cron_parse(text, &spec, err, sizeof(err)))
	{
		if (err[0] == '\0')
			abort();			/* a refusal says why */
		return 0;
	}
	if (spec.is_interval)
	{
		if (spec.interval_secs < 1)
			abort();
		for (size_t i = 0; i < lengthof(starts); i++)
			if (cron_next(&spec, starts[i]) != starts[i] + spec.interval_secs)
				abort();
		return 0;
	}
	if (spec.minutes == 0 || (spec.minutes >> 60) != 0 ||
		spec.hours == 0 || (spec.hours >> 24) != 0 ||
		(spec.mdays & 1) != 0 || (spec.months & 1) != 0 || (spec.months >> 13) != 0 ||
		(spec.wdays >> 7) != 0 ||
		(spec.mdays == 0 && !spec.wday_any) || (spec.wdays == 0 && !spec.mday_any))
		abort();
	for (size_t i = 0; i < lengthof(starts); i++)
	{
		int64		after = starts[i];
		int64		next = cron_next(&spec, after);

		if (next == -1)
			continue;
		if (next <= after || next > after + CRON_HORIZON_SECS || next % 60 != 0)
			abort();
		if (!matches(&spec, next))
			abort();
		if (cron_next(&spec, next - 1) != next)
			abort();
		/* the minutes between are no match: sample a few */
		for (int64 t = next - 60; t > after && t > next - 60 * 5; t -= 60)
			if (matches(&spec, t))
				abort();
	}
	return 0;
}
