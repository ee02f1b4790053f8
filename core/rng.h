/* Deterministic, splittable random numbers.
 *
 * The generator is xoshiro256** seeded through splitmix64. Work item i never draws from a
 * shared stream: it derives its own generator from (seed, domain, i) with mvot_rng_derive,
 * so results are identical for any thread count or scheduling order. */
#ifndef MVOT_CORE_RNG_H
#define MVOT_CORE_RNG_H

#include <stdint.h>

struct mvot_rng {
    uint64_t s[4];
};

void mvot_rng_seed(struct mvot_rng *r, uint64_t seed);
/* Independent stream for item `index` within `domain` (a constant naming the use, so that
 * e.g. maze layouts and k-means init never share a stream). */
void mvot_rng_derive(struct mvot_rng *r, uint64_t seed, uint64_t domain, uint64_t index);
/* Hash-mix of seed, domain and index into one 64-bit value (splitmix64 finalizer chain). */
uint64_t mvot_rng_mix(uint64_t seed, uint64_t domain, uint64_t index);

uint64_t mvot_rng_next(struct mvot_rng *r);
/* Uniform in [0, n) without modulo bias; n == 0 returns 0. */
uint64_t mvot_rng_below(struct mvot_rng *r, uint64_t n);
/* Uniform double in [0, 1), 53 bits. */
double mvot_rng_unit(struct mvot_rng *r);
/* Fisher-Yates shuffle of n elements of `size` bytes each. */
void mvot_rng_shuffle(struct mvot_rng *r, void *base, uint64_t n, uint64_t size);

#endif
