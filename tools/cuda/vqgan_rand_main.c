/* mvot-vqgan-rand: writes a random-weight VQGAN checkpoint (vqgan_rand.h) for benchmarks.
 * usage: mvot-vqgan-rand OUT.safetensors [--ch N] [--z N] [--K N] [--D N] [--seed S]
 *        [--dtype f32|bf16|f16] [--no-prefix] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cuda/vqgan_rand.h"

static int parse_u32(const char *s, uint32_t *out)
{
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    if (!s[0] || *end || v > 0xffffffffu)
        return 0;
    *out = (uint32_t)v;
    return 1;
}

int main(int argc, char **argv)
{
    struct mvot_vqgan_rand_opts o;
    struct mvot_error err = {0};
    const char *out = NULL;
    mvot_vqgan_rand_opts_default(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint32_t v = 0;
        int ok = 1;
        if (strcmp(a, "--no-prefix") == 0) {
            o.prefix = 0;
            continue;
        }
        if (a[0] != '-') {
            out = a;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "mvot-vqgan-rand: %s needs a value\n", a);
            return 2;
        }
        const char *val = argv[++i];
        if (strcmp(a, "--dtype") == 0) {
            if (strcmp(val, "f32") == 0)
                o.dtype = MVOT_DT_F32;
            else if (strcmp(val, "bf16") == 0)
                o.dtype = MVOT_DT_BF16;
            else if (strcmp(val, "f16") == 0)
                o.dtype = MVOT_DT_F16;
            else
                ok = 0;
        } else if (!parse_u32(val, &v)) {
            ok = 0;
        } else if (strcmp(a, "--ch") == 0) {
            o.ch = v;
        } else if (strcmp(a, "--z") == 0) {
            o.z_channels = v;
        } else if (strcmp(a, "--K") == 0) {
            o.K = v;
        } else if (strcmp(a, "--D") == 0) {
            o.D = v;
        } else if (strcmp(a, "--seed") == 0) {
            o.seed = v;
        } else {
            ok = 0;
        }
        if (!ok) {
            fprintf(stderr, "mvot-vqgan-rand: bad option %s %s\n", a, val);
            return 2;
        }
    }
    if (!out) {
        fprintf(stderr, "usage: mvot-vqgan-rand OUT.safetensors [--ch N] [--z N] [--K N] [--D N] "
                        "[--seed S] [--dtype f32|bf16|f16] [--no-prefix]\n");
        return 2;
    }
    if (mvot_vqgan_rand_write(out, &o, &err) != MVOT_OK) {
        fprintf(stderr, "mvot-vqgan-rand: %s\n", err.msg);
        return 1;
    }
    return 0;
}
