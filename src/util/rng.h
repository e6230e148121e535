/*
 * rng.h — the one seeded random generator every random choice in galaxy uses
 * (xoshiro256** seeded through splitmix64), so the same seed gives the same model.
 */
#ifndef GALAXY_RNG_H
#define GALAXY_RNG_H

#include <stdint.h>

typedef struct GalaxyRng
{
	uint64_t	s[4];
} GalaxyRng;

static inline uint64_t
galaxy_splitmix64(uint64_t *x)
{
	uint64_t	z = (*x += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Seed the generator; distinct (seed, stream) pairs give independent streams. */
static inline void
galaxy_rng_seed(GalaxyRng *rng, uint64_t seed, uint64_t stream)
{
	uint64_t	x = seed ^ (stream * UINT64_C(0xD1342543DE82EF95));

	for (int i = 0; i < 4; i++)
		rng->s[i] = galaxy_splitmix64(&x);
}

static inline uint64_t
galaxy_rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Next 64 random bits. */
static inline uint64_t
galaxy_rng_next(GalaxyRng *rng)
{
	uint64_t   *s = rng->s;
	uint64_t	result = galaxy_rng_rotl(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = galaxy_rng_rotl(s[3], 45);
	return result;
}

/* Uniform double in [0, 1). */
static inline double
galaxy_rng_uniform(GalaxyRng *rng)
{
	return (galaxy_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n). */
static inline uint64_t
galaxy_rng_below(GalaxyRng *rng, uint64_t n)
{
	return n == 0 ? 0 : (uint64_t) (galaxy_rng_uniform(rng) * (double) n) % n;
}

/* Standard normal via Box-Muller. */
static inline double
galaxy_rng_normal(GalaxyRng *rng)
{
	double		u1 = galaxy_rng_uniform(rng);
	double		u2 = galaxy_rng_uniform(rng);

	if (u1 < 1e-300)
		u1 = 1e-300;
	return __builtin_sqrt(-2.0 * __builtin_log(u1)) * __builtin_cos(6.283185307179586 * u2);
}

/* Fisher-Yates shuffle of an int64 index array. */
static inline void
galaxy_rng_shuffle(GalaxyRng *rng, int64_t *a, int64_t n)
{
	for (int64_t i = n - 1; i > 0; i--)
	{
		int64_t		j = (int64_t) galaxy_rng_below(rng, (uint64_t) i + 1);
		int64_t		t = a[i];

		a[i] = a[j];
		a[j] = t;
	}
}

#endif							/* GALAXY_RNG_H */
