/* Fit of samples to the official MVoT trainer's fixed lengths (shards/trainer_layout.h). */
#include "shards/trainer_layout.h"

#include "shards/manifest.h"

void mvot_trainer_fit(const struct mvot_span *spans, size_t n_spans, size_t n_tokens,
                      struct mvot_trainer_fit *out)
{
    size_t input = n_tokens;
    for (size_t i = 0; i < n_spans; i++)
        if (spans[i].loss) {
            input = spans[i].start < n_tokens ? spans[i].start : n_tokens;
            break;
        }
    out->input = input;
    out->label = n_tokens - input;
    out->over_source = input > MVOT_TRAINER_SOURCE_LENGTH;
    out->over_target = out->label > MVOT_TRAINER_LABEL_BLOCK;
}

void mvot_trainer_fit_count(json_t *stats, const struct mvot_trainer_fit *fit)
{
    mvot_stats_add(stats, fit->over_source, (const char *const[]){"over_mvot_source", NULL});
    mvot_stats_add(stats, fit->over_target, (const char *const[]){"over_mvot_target", NULL});
    mvot_stats_add(stats, fit->over_source || fit->over_target,
                   (const char *const[]){"over_mvot_lengths", NULL});
}
