/* Fuzz target for the episode record parser (gen/episode.c mvot_episode_from_json and
 * gen/record.c mvot_record_to_draft): any bytes either parse into an episode whose fields are
 * mutually consistent (frames = steps + 1, every cell box inside the frame, state rows sized
 * grid^2) or fail with a status and a message. A parsed draft is replayed, which must either
 * succeed or fail cleanly, so what the reader accepts is safe for later stages.
 * Replayed without libFuzzer by tests/test_gen_format.c (corpus + deterministic mutations). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "gen/episode.h"
#include "gen/internal.h"
#include "gen/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *rec = NULL;
    struct mvot_error err = {0};
    if (mvot_json_load_buf((const char *)data, size, "fuzz", &rec, &err) != MVOT_OK) {
        if (err.msg[0] == 0)
            abort();
        return 0;
    }
    struct mvot_episode ep;
    if (mvot_episode_from_json(rec, "fuzz", &ep, &err) == MVOT_OK) {
        if (ep.n_frames != ep.n_steps + 1 || !ep.cells || !ep.cell_state || !ep.frame_png)
            abort();
        for (uint32_t i = 0; i < ep.grid * ep.grid; i++)
            if (ep.cells[i].x1 > ep.image_size || ep.cells[i].y1 > ep.image_size ||
                ep.cells[i].x0 >= ep.cells[i].x1 || ep.cells[i].y0 >= ep.cells[i].y1)
                abort();
        for (uint32_t k = 0; k < ep.n_steps; k++)
            if (!ep.step_text[k] || !ep.rationale[k])
                abort();
        mvot_episode_free(&ep);
    } else if (err.msg[0] == 0) {
        abort();
    }
    struct mvot_draft d;
    mvot_error_clear(&err);
    if (mvot_record_to_draft(rec, "fuzz", &d, &err) == MVOT_OK) {
        struct mvot_trace t;
        if (mvot_draft_simulate(&d, &t, &err) == MVOT_OK && t.n_frames != d.n_actions + 1)
            abort();
    } else if (err.msg[0] == 0) {
        abort();
    }
    json_decref(rec);
    return 0;
}
