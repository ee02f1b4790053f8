/* Task and split names shared by every stage that reads episodes. */
#include <string.h>

#include "gen/episode.h"

const char *mvot_task_name(enum mvot_task t)
{
    switch (t) {
    case MVOT_TASK_MAZE: return "maze";
    case MVOT_TASK_FROZENLAKE: return "frozenlake";
    case MVOT_TASK_MINIBEHAVIOR: return "minibehavior";
    }
    return "?";
}

int mvot_task_parse(const char *s, enum mvot_task *out)
{
    for (int t = 0; t < MVOT_TASK_COUNT; t++)
        if (strcmp(s, mvot_task_name((enum mvot_task)t)) == 0) {
            *out = (enum mvot_task)t;
            return 0;
        }
    return -1;
}

const char *mvot_split_name(enum mvot_split s)
{
    switch (s) {
    case MVOT_SPLIT_TRAIN: return "train";
    case MVOT_SPLIT_DEV: return "dev";
    case MVOT_SPLIT_TEST: return "test";
    }
    return "?";
}
