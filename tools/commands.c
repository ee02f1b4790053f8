/* The one table of subcommands, in the order `mvot --help` lists them. */
#include "tools/commands.h"

const struct mvot_command mvot_commands[] = {
    {"build", "run the main job: gen, train codebook and BPE, pack, verify", mvot_cmd_build},
    {"gen", "synthesize MAZE, FROZENLAKE and MINIBEHAVIOR episodes", mvot_cmd_gen},
    {"merge", "join the parts of a split gen or pack run into one set", mvot_cmd_merge},
    {"export-mvot", "write episodes in the official MVoT data layout", mvot_cmd_export_mvot},
    {"import-mvot", "read official MVoT data into an episode archive", mvot_cmd_import_mvot},
    {"show", "draw a contact sheet PNG of one episode", mvot_cmd_show},
    {"stats", "text-only baselines: can the answer be read without the images?", mvot_cmd_stats},
    {"bpe", "text tokenizer: encode, decode, train, info", mvot_cmd_bpe},
    {"codebook", "VQ codebooks: train, collect, import, stats, distances", mvot_cmd_codebook},
    {"tokenize-image", "encode a PNG to VQ codes, or decode codes to PNG", mvot_cmd_tokenize_image},
    {"pack", "tokenize episodes and pack them into shards", mvot_cmd_pack},
    {"verify", "check shards against their manifest", mvot_cmd_verify},
    {"cat", "print a sample from shards", mvot_cmd_cat},
    {"inspect", "render a sample's images from its codes", mvot_cmd_inspect},
    {"export", "write shards as Megatron, JSON lines or plain WebDataset tars", mvot_cmd_export},
    {"retokenize", "rebuild shards with a new codebook or tokenizer", mvot_cmd_retokenize},
    {"eval", "score model predictions against the ground truth", mvot_cmd_eval},
    {"gpucheck", "recompute image codes on the GPU and compare", mvot_cmd_gpucheck},
};

const int mvot_command_count = (int)(sizeof mvot_commands / sizeof mvot_commands[0]);
