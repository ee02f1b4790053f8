/* mvot cat: prints one sample of a shard directory: metadata, spans, and the decoded text
 * with a placeholder per image; --json gives input_ids and labels for exact comparisons. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/json.h"
#include "shards/reader.h"
#include "tokenize/bpe.h"
#include "tools/commands.h"

static const char HELP[] =
    "usage: mvot cat SHARDS KEY|INDEX\n"
    "\n"
    "Prints a sample: its json metadata, its spans (start, length, modality, loss) and the\n"
    "decoded token sequence, images shown as [image j: frame F, N codes]. With --json prints\n"
    "{key, index, input_ids, labels (-100 masked), spans, meta, text} on one line.\n"
    "\n" MVOT_CLI_COMMON_HELP;

static const char *MOD[] = {"text", "image", "special"};

/* Decoded text of the sample: text runs through the tokenizer, specials by name, images as
 * placeholders. Caller frees. */
static char *render(const struct mvot_bpe *tok, const struct mvot_sample *s)
{
    struct mvot_buf b;
    mvot_buf_init(&b, 0);
    json_t *images = json_object_get(s->meta, "images");
    size_t img = 0;
    for (size_t k = 0; k < s->n_spans; k++) {
        const struct mvot_span *sp = &s->spans[k];
        if (k == 0 || s->spans[k - 1].loss != sp->loss)
            mvot_buf_printf(&b, "%s", sp->loss ? "\n[label] " : "[input] ");
        if ((uint64_t)sp->start + sp->length > s->n_tokens)
            break;
        if (sp->modality == 1) {
            json_t *f = json_array_get(images, img);
            mvot_buf_printf(&b, "[image %zu: frame %lld, %u codes]", img,
                            f ? (long long)json_integer_value(f) : -1LL, sp->length);
            img++;
        } else if (sp->modality == 2) {
            for (uint32_t i = 0; i < sp->length; i++) {
                const char *name =
                    tok ? mvot_bpe_id_to_token(tok, (int32_t)s->tokens[sp->start + i]) : NULL;
                if (name)
                    mvot_buf_printf(&b, "%s", name);
                else
                    mvot_buf_printf(&b, "<%u>", s->tokens[sp->start + i]);
            }
        } else {
            int32_t *ids = malloc(sp->length * sizeof *ids);
            char *txt = NULL;
            for (uint32_t i = 0; ids && i < sp->length; i++)
                ids[i] = (int32_t)s->tokens[sp->start + i];
            if (ids && tok && mvot_bpe_decode(tok, ids, sp->length, 0, &txt, NULL) == MVOT_OK)
                mvot_buf_printf(&b, "%s", txt);
            else
                mvot_buf_printf(&b, "<%u text tokens>", sp->length);
            free(txt);
            free(ids);
        }
    }
    mvot_buf_printf(&b, "%s", "");
    return (char *)b.data;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One line per metadata field, sorted, each value as compact JSON (a pretty dump put every
 * number of the cell lists on its own line). */
static void print_meta(const json_t *meta)
{
    size_t n = json_object_size(meta), k = 0;
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    const char *key;
    json_t *v;
    if (!keys)
        return;
    json_object_foreach((json_t *)meta, key, v) keys[k++] = key;
    qsort(keys, k, sizeof *keys, cmp_str);
    for (size_t i = 0; i < k; i++) {
        char *d = mvot_json_dumps(json_object_get(meta, keys[i]));
        printf("  %s: %s\n", keys[i], d ? d : "?");
        free(d);
    }
    free(keys);
}

int mvot_cmd_cat(int argc, char **argv, struct mvot_cli *cli)
{
    int r = mvot_cli_parse_plain(cli, argc, argv, HELP);
    if (r >= 0)
        return r;
    if (argc - optind != 2)
        return mvot_cli_usage(cli, "want SHARDS and a KEY or INDEX");
    mvot_cli_ready(cli);
    const char *dir = argv[optind], *which = argv[optind + 1];
    struct mvot_error err = {0};
    struct mvot_shard_set *set = NULL;
    struct mvot_sample s = {0};
    struct mvot_bpe *tok = NULL;
    int rc = MVOT_EXIT_OK;
    size_t index = 0;
    enum mvot_status st = mvot_shard_set_open(dir, &set, &err);
    if (st != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    int digits = *which != 0;
    for (const char *p = which; *p; p++)
        digits &= isdigit((unsigned char)*p) != 0;
    if (digits) {
        uint64_t v;
        if (!mvot_cli_parse_u64(cli, "INDEX", which, 0, SIZE_MAX, &v)) {
            mvot_shard_set_close(set);
            return MVOT_EXIT_USAGE;
        }
        index = (size_t)v;
    } else {
        st = mvot_shard_set_lookup(set, which, &index, &err);
    }
    if (st == MVOT_OK)
        st = mvot_shard_set_get(set, index, &s, &err);
    if (st != MVOT_OK) {
        rc = mvot_cli_fail(cli, &err);
        goto done;
    }
    const char *tf = json_string_value(
        json_object_get(json_object_get(mvot_shard_set_manifest(set), "tokenizer"), "file"));
    char *tp = tf ? mvot_io_join(dir, tf) : NULL;
    if (!tp || mvot_bpe_load_file(tp, &tok, &err) != MVOT_OK) {
        free(tp);
        rc = mvot_cli_fail(cli, &err);
        goto done;
    }
    free(tp);
    char *text = render(tok, &s);
    if (cli->json) {
        json_t *o = json_object(), *ids = json_array(), *lab = json_array(), *sp = json_array();
        int32_t *labels = malloc((s.n_tokens ? s.n_tokens : 1) * sizeof *labels);
        if (labels)
            mvot_sample_labels(&s, labels);
        for (size_t i = 0; i < s.n_tokens; i++) {
            json_array_append_new(ids, json_integer(s.tokens[i]));
            json_array_append_new(lab, json_integer(labels ? labels[i] : -100));
        }
        for (size_t i = 0; i < s.n_spans; i++)
            json_array_append_new(sp, json_pack("[iiii]", s.spans[i].start, s.spans[i].length,
                                                s.spans[i].modality, s.spans[i].loss));
        json_object_set_new(o, "key", json_string(s.key));
        json_object_set_new(o, "index", json_integer((json_int_t)index));
        json_object_set_new(o, "input_ids", ids);
        json_object_set_new(o, "labels", lab);
        json_object_set_new(o, "spans", sp);
        json_object_set(o, "meta", s.meta);
        json_object_set_new(o, "text", json_string(text ? text : ""));
        char *d = mvot_json_dumps(o);
        if (d)
            printf("%s\n", d);
        free(d);
        free(labels);
        json_decref(o);
    } else {
        printf("key: %s (sample %zu, %zu tokens)\nmeta:\n", s.key, index, s.n_tokens);
        print_meta(s.meta);
        printf("spans:\n");
        for (size_t i = 0; i < s.n_spans; i++)
            printf("  %6u %6u %-7s loss=%u\n", s.spans[i].start, s.spans[i].length,
                   MOD[s.spans[i].modality < 3 ? s.spans[i].modality : 0], s.spans[i].loss);
        printf("text:\n%s\n", text ? text : "");
    }
    free(text);
done:
    mvot_bpe_free(tok);
    mvot_sample_free(&s);
    mvot_shard_set_close(set);
    return rc;
}
