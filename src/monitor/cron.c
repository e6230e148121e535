/*
 * cron.c — parse a schedule's text (five cron fields, a macro or an
 * interval) and find its next run.  Pure computation, no server calls:
 * the SQL wrappers (schedule.c) turn a false return into ERROR 22023, and
 * test/fuzz/fuzz_cron.c fuzzes both functions.
 *
 * Cron fields are read in UTC.  As in Vixie cron, when both the day of
 * month and the day of week are restricted a day matching either fires;
 * when one is '*' only the other counts.
 */
#include "c.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include "monitor/cron.h"

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"
};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* One cron field's bounds, names and label (for messages). */
typedef struct CronField
{
	const char *label;
	int			lo;
	int			hi;				/* highest value accepted (7 for day of week) */
	const char *const *names;	/* lower-case, three letters; NULL: none */
	int			name_base;		/* value of names[0] */
} CronField;

static const CronField fields[5] = {
	{"minute", 0, 59, NULL, 0},
	{"hour", 0, 23, NULL, 0},
	{"day of month", 1, 31, NULL, 0},
	{"month", 1, 12, month_names, 1},
	{"day of week", 0, 7, day_names, 0},
};

/* Format an error into err; always returns false. */
static bool
cron_error(char *err, size_t errlen, const char *fmt,...) pg_attribute_printf(3, 4);

static bool
cron_error(char *err, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	if (err != NULL && errlen > 0)
	{
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return false;
}

/*
 * Read one value of a field (a number or a name) from *p into *val;
 * advances *p.  False if there is none.
 */
static bool
cron_value(const char **p, const CronField *f, int *val)
{
	const char *s = *p;

	if (isdigit((unsigned char) *s))
	{
		int			v = 0;

		while (isdigit((unsigned char) *s))
		{
			v = v * 10 + (*s - '0');
			if (v > 1000)
				return false;
			s++;
		}
		*val = v;
		*p = s;
		return true;
	}
	if (f->names != NULL && isalpha((unsigned char) s[0]) &&
		isalpha((unsigned char) s[1]) && isalpha((unsigned char) s[2]) &&
		!isalpha((unsigned char) s[3]))
	{
		int			n = f->names == month_names ? 12 : 7;

		for (int i = 0; i < n; i++)
			if (tolower((unsigned char) s[0]) == f->names[i][0] &&
				tolower((unsigned char) s[1]) == f->names[i][1] &&
				tolower((unsigned char) s[2]) == f->names[i][2])
			{
				*val = f->name_base + i;
				*p = s + 3;
				return true;
			}
	}
	return false;
}

/*
 * Parse one field (text between spaces, 'len' bytes at s) into a bit set.
 * Element: '*' | v | v-w, each optionally followed by /step; elements are
 * separated by commas.
 */
static bool
cron_field(const char *s, size_t len, const CronField *f, uint64 *bits, bool *any,
		   char *err, size_t errlen)
{
	const char *end = s + len;
	const char *p = s;

	*bits = 0;
	*any = (len == 1 && s[0] == '*');
	for (;;)
	{
		int			lo,
					hi,
					step = 1;
		const char *elem = p;

		if (p < end && *p == '*')
		{
			lo = f->lo;
			hi = f == &fields[4] ? 6 : f->hi;
			p++;
		}
		else
		{
			if (p >= end || !cron_value(&p, f, &lo))
				return cron_error(err, errlen, "bad %s field \"%.*s\": expected a number%s, '*', a range a-b, a step x/n or a list",
								  f->label, (int) len, s, f->names ? " or a name" : "");
			hi = lo;
			if (p < end && *p == '-')
			{
				p++;
				if (p >= end || !cron_value(&p, f, &hi))
					return cron_error(err, errlen, "bad %s field \"%.*s\": a range needs an upper bound",
									  f->label, (int) len, s);
			}
			if (lo < f->lo || lo > f->hi || hi < f->lo || hi > f->hi)
				return cron_error(err, errlen, "%s %d is out of range %d-%d in \"%.*s\"",
								  f->label, lo < f->lo || lo > f->hi ? lo : hi, f->lo, f->hi, (int) len, s);
			if (hi < lo)
				return cron_error(err, errlen, "%s range %d-%d is backwards in \"%.*s\"",
								  f->label, lo, hi, (int) len, s);
			/* Sunday as 7 alone is Sunday as 0 */
			if (f == &fields[4] && lo == 7 && hi == 7)
				lo = hi = 0;
			/* "5/15": from 5 to the end of the field */
			if (p < end && *p == '/' && hi == lo && p - elem > 0)
				hi = f == &fields[4] ? 6 : f->hi;
		}
		if (p < end && *p == '/')
		{
			p++;
			if (p >= end || !isdigit((unsigned char) *p) || !cron_value(&p, &fields[0], &step) ||
				step < 1 || step > f->hi)
				return cron_error(err, errlen, "bad step in %s field \"%.*s\": expected /n with n from 1 to %d",
								  f->label, (int) len, s, f->hi);
			*any = false;
		}
		if (lo > hi)
			return cron_error(err, errlen, "%s element \"%.*s\" selects no value",
							  f->label, (int) (p - elem), elem);
		for (int v = lo; v <= hi; v += step)
			*bits |= (uint64) 1 << (f == &fields[4] && v == 7 ? 0 : v);
		if (p == end)
			break;
		if (*p != ',')
			return cron_error(err, errlen, "bad %s field \"%.*s\": unexpected \"%c\"",
							  f->label, (int) len, s, *p);
		p++;
		if (p == end)
			return cron_error(err, errlen, "bad %s field \"%.*s\": a list ends with a comma",
							  f->label, (int) len, s);
	}
	return true;
}

/* Is the word at s (len bytes) equal to w, ignoring case? */
static bool
word_is(const char *s, size_t len, const char *w)
{
	if (strlen(w) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (tolower((unsigned char) s[i]) != w[i])
			return false;
	return true;
}

/* "every [N] unit": the interval form. */
static bool
cron_interval(const char *words[], const size_t lens[], int nwords, CronSpec *spec,
			  char *err, size_t errlen)
{
	static const struct
	{
		const char *unit;
		int64		secs;
	}			units[] = {
		{"second", 1}, {"seconds", 1}, {"sec", 1}, {"secs", 1}, {"s", 1},
		{"minute", 60}, {"minutes", 60}, {"min", 60}, {"mins", 60},
		{"hour", 3600}, {"hours", 3600}, {"h", 3600},
		{"day", 86400}, {"days", 86400}, {"d", 86400},
	};
	int64		n = 1;
	int			u = nwords - 1;

	if (nwords < 2 || nwords > 3)
		return cron_error(err, errlen, "an interval reads \"every N seconds\" (or minutes, hours, days)");
	if (nwords == 3)
	{
		n = 0;
		if (lens[1] == 0 || lens[1] > 9)
			return cron_error(err, errlen, "the interval count \"%.*s\" must be a whole number from 1 to 999999999",
							  (int) lens[1], words[1]);
		for (size_t i = 0; i < lens[1]; i++)
		{
			if (!isdigit((unsigned char) words[1][i]))
				return cron_error(err, errlen, "the interval count \"%.*s\" must be a whole number from 1 to 999999999",
								  (int) lens[1], words[1]);
			n = n * 10 + (words[1][i] - '0');
		}
		if (n < 1)
			return cron_error(err, errlen, "the interval count must be at least 1");
	}
	for (size_t i = 0; i < lengthof(units); i++)
		if (word_is(words[u], lens[u], units[i].unit))
		{
			spec->is_interval = true;
			spec->interval_secs = n * units[i].secs;
			return true;
		}
	return cron_error(err, errlen, "unknown interval unit \"%.*s\": use seconds, minutes, hours or days",
					  (int) lens[u], words[u]);
}

/* Parse schedule text (see cron.h). */
bool
cron_parse(const char *text, CronSpec *spec, char *err, size_t errlen)
{
	static const struct
	{
		const char *name;
		const char *expansion;
	}			macros[] = {
		{"@hourly", "0 * * * *"}, {"@daily", "0 0 * * *"}, {"@midnight", "0 0 * * *"},
		{"@weekly", "0 0 * * 0"}, {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
		{"@annually", "0 0 1 1 *"},
	};
	const char *words[6];
	size_t		lens[6];
	int			nwords = 0;
	const char *p;

	memset(spec, 0, sizeof(CronSpec));
	if (text == NULL)
		return cron_error(err, errlen, "the schedule text is empty");
	if (strlen(text) > CRON_MAX_TEXT)
		return cron_error(err, errlen, "the schedule text is longer than %d bytes", CRON_MAX_TEXT);
	for (p = text; *p;)
	{
		if (isspace((unsigned char) *p))
		{
			p++;
			continue;
		}
		if (nwords == 6)
			return cron_error(err, errlen, "too many fields in \"%s\": a cron schedule has five (minute hour day-of-month month day-of-week)", text);
		words[nwords] = p;
		while (*p && !isspace((unsigned char) *p))
			p++;
		lens[nwords] = p - words[nwords];
		nwords++;
	}
	if (nwords == 0)
		return cron_error(err, errlen, "the schedule text is empty");
	if (word_is(words[0], lens[0], "every"))
		return cron_interval(words, lens, nwords, spec, err, errlen);
	if (words[0][0] == '@')
	{
		if (nwords != 1)
			return cron_error(err, errlen, "a macro such as @daily stands alone");
		for (size_t i = 0; i < lengthof(macros); i++)
			if (word_is(words[0], lens[0], macros[i].name))
				return cron_parse(macros[i].expansion, spec, err, errlen);
		return cron_error(err, errlen, "unknown macro \"%s\": use @hourly, @daily, @weekly, @monthly or @yearly", text);
	}
	if (nwords != 5)
		return cron_error(err, errlen, "\"%s\" has %d field%s: a cron schedule has five (minute hour day-of-month month day-of-week), or write \"every N seconds\"",
						  text, nwords, nwords == 1 ? "" : "s");
	for (int i = 0; i < 5; i++)
	{
		uint64		bits;
		bool		any;

		if (!cron_field(words[i], lens[i], &fields[i], &bits, &any, err, errlen))
			return false;
		switch (i)
		{
			case 0:
				spec->minutes = bits;
				break;
			case 1:
				spec->hours = (uint32) bits;
				break;
			case 2:
				spec->mdays = (uint32) bits;
				spec->mday_any = any;
				break;
			case 3:
				spec->months = (uint32) bits;
				break;
			default:
				spec->wdays = (uint32) bits;
				spec->wday_any = any;
				break;
		}
	}
	return true;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64
days_from_civil(int64 y, int m, int d)
{
	int64		era;
	int64		yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The civil date of a day number (inverse of days_from_civil). */
static void
civil_from_days(int64 z, int64 *y, int *m, int *d)
{
	int64		era,
				doe,
				yoe,
				doy,
				mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y += *m <= 2;
}

/* Floor division for possibly negative times. */
static int64
floor_div(int64 a, int64 b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* The next run strictly after 'after' (see cron.h). */
int64
cron_next(const CronSpec *spec, int64 after)
{
	int64		t;
	int64		limit;

	if (spec->is_interval)
		return after + Max(spec->interval_secs, 1);
	if (spec->minutes == 0 || spec->hours == 0 || spec->months == 0 ||
		(spec->mdays == 0 && spec->wdays == 0))
		return -1;
	t = floor_div(after, 60) * 60 + 60;
	limit = after + CRON_HORIZON_SECS;
	while (t <= limit)
	{
		int64		day = floor_div(t, 86400);
		int64		sod = t - day * 86400;
		int64		y;
		int			mon,
					mday,
					wday,
					hour = (int) (sod / 3600),
					minute = (int) ((sod % 3600) / 60);
		bool		day_ok;

		civil_from_days(day, &y, &mon, &mday);
		wday = (int) ((day % 7 + 7 + 4) % 7);	/* 1970-01-01 was a Thursday */
		if (!(spec->months & ((uint32) 1 << mon)))
		{
			/* first day of the next month */
			t = days_from_civil(mon == 12 ? y + 1 : y, mon == 12 ? 1 : mon + 1, 1) * 86400;
			continue;
		}
		if (spec->mday_any && spec->wday_any)
			day_ok = true;
		else if (spec->mday_any)
			day_ok = (spec->wdays & ((uint32) 1 << wday)) != 0;
		else if (spec->wday_any)
			day_ok = (spec->mdays & ((uint32) 1 << mday)) != 0;
		else
			day_ok = (spec->wdays & ((uint32) 1 << wday)) != 0 ||
				(spec->mdays & ((uint32) 1 << mday)) != 0;
		if (!day_ok)
		{
			t = (day + 1) * 86400;
			continue;
		}
		if (!(spec->hours & ((uint32) 1 << hour)))
		{
			t = day * 86400 + (int64) (hour + 1) * 3600;
			continue;
		}
		if (!(spec->minutes & ((uint64) 1 << minute)))
		{
			t += 60;
			continue;
		}
		return t;
	}
	return -1;
}
