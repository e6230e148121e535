/*
 * dict.c — a string → code dictionary (open addressing, grows by doubling);
 * see dict.h.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/memutils.h"

#include "util/dict.h"

/* Create an empty dictionary in cxt. */
Dict *
dict_create(MemoryContext cxt, bool with_datums, int limit, const char *what)
{
	Dict	   *d = MemoryContextAllocZero(cxt, sizeof(Dict));

	d->cxt = cxt;
	d->cap = 16;
	d->limit = limit;
	d->what = what;
	d->keys = MemoryContextAlloc(cxt, sizeof(char *) * d->cap);
	d->lens = MemoryContextAlloc(cxt, sizeof(int) * d->cap);
	d->hashes = MemoryContextAlloc(cxt, sizeof(uint32) * d->cap);
	d->counts = MemoryContextAlloc(cxt, sizeof(int64) * d->cap);
	d->datums = with_datums ? MemoryContextAlloc(cxt, sizeof(Datum) * d->cap) : NULL;
	d->nslots = 64;
	d->slots = MemoryContextAlloc(cxt, sizeof(int) * d->nslots);
	memset(d->slots, -1, sizeof(int) * d->nslots);
	return d;
}

/* Rebuild the slot table at twice the size. */
static void
dict_rehash(Dict *d)
{
	int			nslots = d->nslots * 2;
	int		   *slots = MemoryContextAllocHuge(d->cxt, sizeof(int) * nslots);

	memset(slots, -1, sizeof(int) * nslots);
	for (int e = 0; e < d->n; e++)
	{
		uint32		h = d->hashes[e] & (nslots - 1);

		while (slots[h] >= 0)
			h = (h + 1) & (nslots - 1);
		slots[h] = e;
	}
	pfree(d->slots);
	d->slots = slots;
	d->nslots = nslots;
}

/*
 * Code of key (s, len), adding it if new; *added tells whether it was new.
 * A new entry stores a copy of the key (and no datum; the caller sets it).
 */
int
dict_lookup(Dict *d, const char *s, int len, bool *added)
{
	uint32		hash = hash_bytes((const unsigned char *) s, len);
	uint32		h = hash & (d->nslots - 1);
	int			e;

	while ((e = d->slots[h]) >= 0)
	{
		if (d->hashes[e] == hash && d->lens[e] == len && memcmp(d->keys[e], s, len) == 0)
		{
			d->counts[e]++;
			*added = false;
			return e;
		}
		h = (h + 1) & (d->nslots - 1);
	}

	if (d->n >= d->limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("more than %d %s", d->limit, d->what)));
	if (d->n == d->cap)
	{
		d->cap *= 2;
		d->keys = repalloc_huge(d->keys, sizeof(char *) * d->cap);
		d->lens = repalloc_huge(d->lens, sizeof(int) * d->cap);
		d->hashes = repalloc_huge(d->hashes, sizeof(uint32) * d->cap);
		d->counts = repalloc_huge(d->counts, sizeof(int64) * d->cap);
		if (d->datums)
			d->datums = repalloc_huge(d->datums, sizeof(Datum) * d->cap);
	}
	e = d->n++;
	d->keys[e] = MemoryContextAlloc(d->cxt, len + 1);
	memcpy(d->keys[e], s, len);
	d->keys[e][len] = '\0';
	d->lens[e] = len;
	d->hashes[e] = hash;
	d->counts[e] = 1;
	d->slots[h] = e;
	if (d->n * 2 > d->nslots)
		dict_rehash(d);
	*added = true;
	return e;
}

/* Code of key (s, len), or -1 when absent. */
int
dict_find(const Dict *d, const char *s, int len)
{
	uint32		hash = hash_bytes((const unsigned char *) s, len);
	uint32		h = hash & (d->nslots - 1);
	int			e;

	while ((e = d->slots[h]) >= 0)
	{
		if (d->hashes[e] == hash && d->lens[e] == len && memcmp(d->keys[e], s, len) == 0)
			return e;
		h = (h + 1) & (d->nslots - 1);
	}
	return -1;
}
