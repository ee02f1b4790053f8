/* Fuzz target for PNG decoding (core/png.c over libpng), which reads generated frames, the
 * frames stored in shards and user images. Checks: a failure explains itself (libpng's
 * longjmp error path included); a decoded image is RGB or RGBA within the size caps; and a
 * small decoded image encodes with mvot_png_encode and decodes back to the same pixels. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/png.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mvot_image img = {0}, back = {0};
    struct mvot_error err = {0};
    if (mvot_png_decode(data, size, "fuzz", &img, &err) != MVOT_OK) {
        if (!err.msg[0] || img.px)
            abort();
        return 0;
    }
    if (!img.px || img.w == 0 || img.h == 0 || img.w > MVOT_PNG_MAX_DIM ||
        img.h > MVOT_PNG_MAX_DIM || (uint64_t)img.w * img.h > MVOT_PNG_MAX_PIXELS ||
        (img.channels != 3 && img.channels != 4))
        abort();
    if ((uint64_t)img.w * img.h <= 128 * 128) {
        struct mvot_png_opts o;
        mvot_png_opts_default(&o);
        uint8_t *png = NULL;
        size_t len = 0;
        if (mvot_png_encode(&img, &o, &png, &len, &err) != MVOT_OK ||
            mvot_png_decode(png, len, "re-encoded", &back, &err) != MVOT_OK)
            abort();
        if (back.w != img.w || back.h != img.h || back.channels != img.channels ||
            memcmp(back.px, img.px, (size_t)img.w * img.h * img.channels) != 0)
            abort();
        free(png);
        mvot_image_free(&back);
    }
    mvot_image_free(&img);
    return 0;
}
