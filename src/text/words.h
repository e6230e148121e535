/*
 * words.h — galaxy's own word scanner: the words of a text as
 * scikit-learn's CountVectorizer and TfidfVectorizer find them by default
 * (the regular expression (?u)\b\w\w+\b): maximal runs of two or more word
 * characters.  A word character is an ASCII letter, digit or underscore,
 * or any non-ASCII character but the spaces, punctuation and symbols of a
 * fixed table (words_is_separator: general punctuation, currency, arrows,
 * mathematical operators, box drawing, shapes, dingbats, CJK punctuation,
 * full-width punctuation, emoji, private use, ...).  In a server encoding
 * other than UTF-8 every non-ASCII character is a word character.  The
 * table does not depend on the locale, so a model reads a text the same on
 * every server.  Nothing is allocated and nothing is lower-cased here: the
 * text search configuration galaxy.words (parser galaxy_internal.words,
 * src/text/words.c) hands each word to the 'simple' dictionary, which
 * lower-cases it.
 *
 * Bytes that are not valid in the encoding (the scanner may be given any
 * bytes, see test/fuzz/fuzz_words.c) never make it read past the end: an
 * invalid or truncated UTF-8 sequence is one separator byte.
 *
 * Typical use:
 *
 *     int off = 0, wlen;
 *     const char *w;
 *     while ((w = words_next(s, len, &off, utf8, &wlen)) != NULL)
 *         ... the word w[0..wlen) ...
 */
#ifndef GALAXY_WORDS_H
#define GALAXY_WORDS_H

#include "fmgr.h"
#include "mb/pg_wchar.h"

/* The parser's token types (galaxy_internal.words_lextype). */
#define WORDS_TOKEN_WORD	1

/* The parser's entry points, compared by address by the tokenizer's fast path. */
extern Datum galaxy_words_start(PG_FUNCTION_ARGS);
extern Datum galaxy_words_token(PG_FUNCTION_ARGS);
extern Datum galaxy_words_end(PG_FUNCTION_ARGS);
extern Datum galaxy_words_lextype(PG_FUNCTION_ARGS);

/*
 * Whether the non-ASCII code point c separates words (a space, punctuation
 * or a symbol), rather than being a letter, digit or mark.
 */
static inline bool
words_is_separator(uint32 c)
{
	if (c < 0xC0)				/* Latin-1 punctuation, but ª ² ³ µ ¹ º ¼ ½ ¾ */
		return !(c == 0xAA || c == 0xB2 || c == 0xB3 || c == 0xB5 || c == 0xB9 || c == 0xBA ||
				 (c >= 0xBC && c <= 0xBE));
	if (c < 0x2000)
		return c == 0xD7 || c == 0xF7 ||	/* × ÷ */
			c == 0x37E || c == 0x387 || /* Greek question mark, ano teleia */
			(c >= 0x55A && c <= 0x55F) || c == 0x589 || c == 0x58A ||	/* Armenian */
			c == 0x5BE || c == 0x5C0 || c == 0x5C3 || c == 0x5C6 || c == 0x5F3 || c == 0x5F4 || /* Hebrew */
			c == 0x60C || c == 0x60D || c == 0x61B || c == 0x61F || (c >= 0x66A && c <= 0x66D) ||
			c == 0x6D4 ||		/* Arabic */
			c == 0x964 || c == 0x965 || c == 0x970 ||	/* Devanagari danda */
			c == 0xE4F || c == 0xE5A || c == 0xE5B ||	/* Thai */
			c == 0x1680 || c == 0x180E; /* Ogham space, Mongolian vowel separator */
	if (c < 0x2100)
		return c < 0x2070 || (c >= 0x20A0 && c <= 0x20CF);	/* general punctuation, currency */
	if (c < 0x3000)
		return (c >= 0x2190 && c <= 0x245F) ||	/* arrows, mathematical, technical */
			(c >= 0x2500 && c <= 0x2775) || /* box drawing ... dingbats */
			(c >= 0x2794 && c <= 0x2BFF) || /* dingbats ... miscellaneous arrows */
			(c >= 0x2E00 && c <= 0x2E7F);	/* supplemental punctuation */
	if (c < 0x3040)				/* CJK symbols and punctuation, but 々 〆 〇 and numerals */
		return c <= 0x3004 || (c >= 0x3008 && c <= 0x3020) || c == 0x3030 || c >= 0x303D;
	if (c < 0xE000)
		return false;
	if (c <= 0xF8FF)
		return true;			/* private use */
	if (c >= 0xFE10 && c <= 0xFE1F)
		return true;			/* vertical forms */
	if (c >= 0xFE30 && c <= 0xFE6F)
		return true;			/* CJK compatibility and small forms */
	if (c == 0xFEFF || (c >= 0xFFF0 && c <= 0xFFFF))
		return true;			/* byte order mark, specials */
	if (c >= 0xFF00 && c <= 0xFF65)
		return c <= 0xFF0F || (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40 && c != 0xFF3F) ||
			c >= 0xFF5B;		/* full-width punctuation */
	if (c >= 0x1F000 && c <= 0x1FAFF)
		return true;			/* mahjong, cards, emoji, symbols */
	return c >= 0xF0000;		/* supplementary private use */
}

/* Whether the ASCII byte c is a word character: [A-Za-z0-9_]. */
static inline bool
words_ascii_is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/*
 * The length of the character at s[0..len) (len >= 1), and whether it is a
 * word character.  utf8: the bytes are UTF-8; otherwise every byte of 0x80
 * or more starts a character of pg_encoding_mblen's length, a word
 * character.
 */
static inline int
words_char(const unsigned char *s, int len, bool utf8, bool *is_word)
{
	unsigned char c = s[0];
	uint32		cp;
	int			n;

	if (c < 0x80)
	{
		*is_word = words_ascii_is_word(c);
		return 1;
	}
	if (!utf8)
	{
		n = pg_mblen((const char *) s);
		*is_word = true;
		return (n < 1 || n > len) ? 1 : n;
	}
	if (c >= 0xC2 && c <= 0xDF)
	{
		n = 2;
		cp = c & 0x1F;
	}
	else if (c >= 0xE0 && c <= 0xEF)
	{
		n = 3;
		cp = c & 0x0F;
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		n = 4;
		cp = c & 0x07;
	}
	else
	{
		*is_word = false;		/* not a lead byte: a separator */
		return 1;
	}
	if (n > len)
	{
		*is_word = false;
		return 1;
	}
	for (int k = 1; k < n; k++)
	{
		if ((s[k] & 0xC0) != 0x80)
		{
			*is_word = false;	/* truncated sequence */
			return 1;
		}
		cp = (cp << 6) | (s[k] & 0x3F);
	}
	*is_word = !words_is_separator(cp);
	return n;
}

/*
 * The next word of s[0..len) from byte *off on: returns its first byte and
 * sets *wlen to its bytes, and *off past it; NULL at the end of the text.
 * A word is a maximal run of two or more word characters.
 */
static inline const char *
words_next(const char *s, int len, int *off, bool utf8, int *wlen)
{
	const unsigned char *u = (const unsigned char *) s;
	int			i = *off;

	while (i < len)
	{
		int			start,
					nchars = 0;
		bool		is_word;
		int			n;

		/* skip separators (ASCII ones at full speed) */
		if (u[i] < 0x80 && !words_ascii_is_word(u[i]))
		{
			i++;
			continue;
		}
		n = words_char(u + i, len - i, utf8, &is_word);
		if (!is_word)
		{
			i += n;
			continue;
		}
		start = i;
		i += n;
		nchars = 1;
		while (i < len)
		{
			if (u[i] < 0x80)
			{
				if (!words_ascii_is_word(u[i]))
					break;
				i++;
			}
			else
			{
				n = words_char(u + i, len - i, utf8, &is_word);
				if (!is_word)
					break;
				i += n;
			}
			nchars++;
		}
		if (nchars >= 2)
		{
			*off = i;
			*wlen = i - start;
			return s + start;
		}
	}
	*off = len;
	return NULL;
}

#endif							/* GALAXY_WORDS_H */
