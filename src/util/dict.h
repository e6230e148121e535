/*
 * dict.h — a string → code dictionary (open addressing, grows by doubling):
 * categorical values and labels while loading, column profiles, the terms
 * of text columns and the index of a text vocabulary.  Codes are dense,
 * 0..n-1, in order of first appearance.
 */
#ifndef GALAXY_DICT_H
#define GALAXY_DICT_H

#include "utils/palloc.h"

typedef struct Dict
{
	int			n;				/* entries */
	int			cap;			/* allocated entries */
	int			limit;			/* most entries allowed (ERROR beyond) */
	const char *what;			/* what the entries are, for that ERROR */
	char	  **keys;			/* NUL-terminated copies */
	int		   *lens;
	uint32	   *hashes;
	int64	   *counts;			/* occurrences of each entry */
	Datum	   *datums;			/* representative value (optional) */
	int		   *slots;			/* -1 = empty, else entry */
	int			nslots;			/* power of two */
	MemoryContext cxt;
} Dict;

/*
 * Create an empty dictionary in cxt (with a datum per entry if asked) that
 * holds at most 'limit' entries: one more is an ERROR (54000) naming 'what'
 * ("distinct values in one column").
 */
extern Dict *dict_create(MemoryContext cxt, bool with_datums, int limit, const char *what);

/* Code of (s, len), counting it; a new key is copied and *added set. */
extern int	dict_lookup(Dict *d, const char *s, int len, bool *added);

/* Code of (s, len), or -1 when it is not in the dictionary (nothing counted). */
extern int	dict_find(const Dict *d, const char *s, int len);

#endif							/* GALAXY_DICT_H */
