#!/usr/bin/env bash
# mvot bpe vs HF tokenizers, id for id (tests/hf/run.sh; skips loudly without network).
exec bash "$MVOT_SRC/tests/hf/run.sh"
