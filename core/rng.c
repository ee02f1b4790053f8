/* xoshiro256** with splitmix64 seeding (public-domain algorithms by Blackman and Vigna,
 * written here from their published definitions). */
#include "core/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void mvot_rng_seed(struct mvot_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t mvot_rng_mix(uint64_t seed, uint64_t domain, uint64_t index)
{
    /* Chain the inputs through splitmix64 so nearby (domain, index) pairs decorrelate. */
    uint64_t x = seed;
    uint64_t a = splitmix64(&x);
    x = a ^ domain;
    uint64_t b = splitmix64(&x);
    x = b ^ index;
    return splitmix64(&x);
}

void mvot_rng_derive(struct mvot_rng *r, uint64_t seed, uint64_t domain, uint64_t index)
{
    mvot_rng_seed(r, mvot_rng_mix(seed, domain, index));
}

uint64_t mvot_rng_next(struct mvot_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t mvot_rng_below(struct mvot_rng *r, uint64_t n)
{
    if (n == 0)
        return 0;
    /* Rejection sampling: discard the top partial bucket so every value is equally likely. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
    uint64_t v;
    do
        v = mvot_rng_next(r);
    while (v >= limit);
    return v % n;
}

double mvot_rng_unit(struct mvot_rng *r)
{
    return (double)(mvot_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

void mvot_rng_shuffle(struct mvot_rng *r, void *base, uint64_t n, uint64_t size)
{
    unsigned char *b = base;
    if (n < 2)
        return;
    for (uint64_t i = n - 1; i > 0; i--) {
        uint64_t j = mvot_rng_below(r, i + 1);
        for (uint64_t k = 0; j != i && k < size; k++) {
            unsigned char t = b[i * size + k];
            b[i * size + k] = b[j * size + k];
            b[j * size + k] = t;
        }
    }
}
