/* Codebook kind names as written in the file metadata. */
#include "codebook/codebook.h"

const char *mvot_codebook_kind_name(enum mvot_codebook_kind k)
{
    return k == MVOT_CB_PATCH ? "patch" : k == MVOT_CB_VQGAN ? "vqgan" : "?";
}
