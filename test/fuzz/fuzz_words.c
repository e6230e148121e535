/*
 * fuzz_words.c — libFuzzer target for galaxy's word scanner, words_next()
 * in src/text/words.h (the parser galaxy_internal.words and the tokenizer's
 * fast path read every text of a galaxy.words column with it).
 *
 * The input is the text, as UTF-8 (the server validates its texts; the
 * scanner must not trust that either).  What the scanner must satisfy,
 * checked against a plain reference written independently here (decode
 * every character first, then find the runs):
 *   - it never reads outside the input (the sanitizers watch) and ends;
 *   - its words are the reference's: the maximal runs of two or more word
 *     characters, in order, each inside the input, none overlapping;
 *   - a word neither starts nor ends inside a UTF-8 sequence.
 * The input is also scanned from a few offsets into it (as after a slice
 * cut), which must stay within it.
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include "text/words.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The most words a text of the fuzzer's size may have. */
#define MAX_WORDS 65536

/*
 * One character at s[0..len) by the reference rules: its length in bytes
 * and whether it is a word character.  A byte that does not start a
 * complete, well-formed sequence is a separator of one byte.
 */
static int
ref_char(const unsigned char *s, int len, bool *word)
{
	int			n;
	uint32		cp;

	*word = false;
	if (s[0] < 0x80)
	{
		*word = (s[0] >= '0' && s[0] <= '9') || (s[0] >= 'a' && s[0] <= 'z') ||
			(s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_';
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4;
	else
		return 1;
	if (n > len)
		return 1;
	cp = s[0] & (0xFF >> (n + 1));
	for (int k = 1; k < n; k++)
	{
		if ((s[k] & 0xC0) != 0x80)
			return 1;
		cp = (cp << 6) | (s[k] & 0x3F);
	}
	*word = !words_is_separator(cp);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	ref_start[MAX_WORDS],
				ref_len[MAX_WORDS];
	int			len = (int) Min(size, (size_t) 3 * (MAX_WORDS - 1));	/* a word and its separator: 3 bytes or more */
	char	   *buf = malloc(Max(len, 1));	/* exactly len bytes: ASan catches a read past them */
	int			n_ref = 0;
	int			i = 0;
	int			off;
	int			k;
	const char *w;
	int			wlen;

	memcpy(buf, data, len);

	/* the reference: characters first, then the runs of two or more */
	while (i < len)
	{
		bool		word;
		int			n = ref_char((const unsigned char *) buf + i, len - i, &word);
		int			start = i,
					chars = 0;

		if (!word)
		{
			i += n;
			continue;
		}
		while (i < len)
		{
			n = ref_char((const unsigned char *) buf + i, len - i, &word);
			if (!word)
				break;
			i += n;
			chars++;
		}
		if (chars >= 2)
		{
			if (n_ref == MAX_WORDS)
				abort();		/* cannot happen: a word takes 2 bytes and a separator */
			ref_start[n_ref] = start;
			ref_len[n_ref] = i - start;
			n_ref++;
		}
	}

	/* the scanner must find exactly those */
	off = 0;
	k = 0;
	while ((w = words_next(buf, len, &off, true, &wlen)) != NULL)
	{
		if (k >= n_ref || w - buf != ref_start[k] || wlen != ref_len[k])
		{
			fprintf(stderr, "fuzz_words: FINDING: word %d at %d (%d bytes) is not the reference's (%d words)\n",
					k, (int) (w - buf), wlen, n_ref);
			abort();
		}
		if (off != ref_start[k] + ref_len[k] || off > len)
		{
			fprintf(stderr, "fuzz_words: FINDING: offset %d after word %d\n", off, k);
			abort();
		}
		k++;
	}
	if (k != n_ref || off != len)
	{
		fprintf(stderr, "fuzz_words: FINDING: %d words of the reference's %d, end at %d of %d\n", k, n_ref, off, len);
		abort();
	}

	/* from offsets inside the text (a slice may start anywhere): words stay inside it */
	for (int start = 1; start < len && start < 8; start++)
	{
		off = start;
		while ((w = words_next(buf, len, &off, true, &wlen)) != NULL)
		{
			if (w < buf + start || wlen < 2 || w + wlen > buf + len || off != (w - buf) + wlen)
			{
				fprintf(stderr, "fuzz_words: FINDING: from %d, a word at %d of %d bytes\n", start, (int) (w - buf), wlen);
				abort();
			}
		}
	}
	free(buf);
	return 0;
}
