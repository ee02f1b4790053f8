/* FrozenLake sprites from a user's Gymnasium installation (gen/internal.h, struct
 * mvot_sprites). We ship no sprite files: the user points --sprites at the folder that holds
 * Gymnasium's FrozenLake images (gymnasium/envs/toy_text/img/), and we read the files by the
 * names Gymnasium gives them. The decoded images are read-only after loading, so the render
 * workers share one set. */
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "gen/internal.h"

/* In the order of the MVOT_SPRITE_* values; the elves in direction-code order. */
static const char *const sprite_files[MVOT_SPRITE_COUNT] = {
    "ice.png",      "hole.png",     "cracked_hole.png", "goal.png",   "stool.png",
    "elf_left.png", "elf_down.png", "elf_right.png",    "elf_up.png",
};

enum mvot_status mvot_sprites_load(const char *dir, struct mvot_sprites *s, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    memset(s, 0, sizeof *s);
    for (int i = 0; i < MVOT_SPRITE_COUNT && st == MVOT_OK; i++) {
        char *path = mvot_strdupf("%s/%s", dir, sprite_files[i]);
        if (!path)
            st = mvot_error_set(err, MVOT_ERR_NOMEM, "sprites", "out of memory");
        else
            st = mvot_png_read_file(path, &s->img[i], err);
        free(path);
    }
    if (st != MVOT_OK)
        mvot_sprites_free(s);
    return st;
}

void mvot_sprites_free(struct mvot_sprites *s)
{
    if (!s)
        return;
    for (int i = 0; i < MVOT_SPRITE_COUNT; i++)
        mvot_image_free(&s->img[i]);
}
