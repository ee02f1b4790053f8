#!/usr/bin/env bash
# The repository stands alone: no tracked file cites a document outside it (the old design
# notes, ../shared/...) or an absolute path of a development machine, and no third-party
# reference file is copied in. The one place that names the reference data's default
# location is the MVOT_REFERENCE_DIR setting (CMakeLists.txt), documented in README.md and
# CONTRIBUTING.md.
set -u
. "$MVOT_SRC/tests/cli/lib.bash"
cd "$MVOT_SRC"
git rev-parse --git-dir >/dev/null 2>&1 || { echo "skip: not a git checkout"; exit 77; }
allowed='^(CMakeLists.txt|README.md|CONTRIBUTING.md|tests/cli/lint_standalone.sh):'
T_CHECKS=$((T_CHECKS + 1))
hits=$(git grep -nE 'DESIGN\.md|CONTRACTS\.md|STYLE\.md|\.\./shared|shared/reference|/work/|/root/|/home/' |
       grep -vE "$allowed")
[ -z "$hits" ] || fail "files cite something outside the repository:
$(printf '%s\n' "$hits" | head -20)"
T_CHECKS=$((T_CHECKS + 1))
copies=$(git ls-files | grep -E '(^|/)(chameleon-vq-tensors\.txt|official-prompts\.md|evaluator\.py|indexed_dataset\.py)$')
[ -z "$copies" ] || fail "third-party reference files copied into the repository: $copies"
finish
