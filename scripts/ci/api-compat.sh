#!/usr/bin/env bash
# The API never breaks its clients: `buf breaking` (buf.yaml's FILE rules: a field renumbered,
# removed or retyped, a package or go_package changed, ...) between proto/ as it is here and
#   1. the commit on main this change starts from: on a branch, where it left main; on main
#      itself, the previous commit;
#   2. the last release tag (v*), once there is one.
# Additions pass. The base's proto/ and buf.yaml are taken with `git archive`, so a work tree
# that is not the repository's first one works too. In a shallow clone without that commit the
# script fetches it (--deepen) and, when it still cannot, says so and skips that comparison
# rather than failing.
#
# Usage: scripts/ci/api-compat.sh           (needs node_modules/.bin/buf: npm ci)
#   MODEL_CATALOG_MAIN_REF   the main branch's ref (default: main, else origin/main)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
buf="$repo/node_modules/.bin/buf"
[[ -x "$buf" ]] || { echo "api-compat: $buf missing: npm ci" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
skipped=0

# has_commit REV: whether REV names a commit present here.
has_commit() { git rev-parse -q --verify "$1^{commit}" >/dev/null 2>&1; }

# The commit on main this tree starts from.
base_on_main() {
  local main=${MODEL_CATALOG_MAIN_REF:-}
  if [[ -z "$main" ]]; then
    for ref in main origin/main; do has_commit "$ref" && { main=$ref; break; }; done
  fi
  if [[ -n "$main" ]]; then
    local fork
    fork=$(git merge-base HEAD "$main" 2>/dev/null || true)
    if [[ -n "$fork" && "$fork" != "$(git rev-parse HEAD)" ]]; then
      echo "$fork"
      return
    fi
  fi
  # On main (or no main here): the previous commit, fetched when the clone is shallow.
  if ! has_commit HEAD~1 && [[ "$(git rev-parse --is-shallow-repository)" == true ]]; then
    git fetch -q --deepen=1 2>/dev/null || true
  fi
  has_commit HEAD~1 && git rev-parse HEAD~1
}

# against NAME COMMIT: buf breaking between proto/ here and COMMIT's.
against() {
  local name=$1 commit=$2 dir="$work/$2"
  if ! git cat-file -e "$commit:proto" 2>/dev/null; then
    echo "api-compat: $name ($commit) has no proto/: nothing to compare"
    skipped=$((skipped + 1))
    return
  fi
  mkdir -p "$dir"
  git archive "$commit" proto buf.yaml | tar -x -C "$dir"
  echo "api-compat: buf breaking against $name ($(git log -1 --format='%h %s' "$commit" | cut -c1-72))"
  if "$buf" breaking --against "$dir"; then
    passed=$((passed + 1))
  else
    echo "api-compat: proto/ breaks clients built against $name: add fields and methods, never renumber, remove or retype them" >&2
    failed=$((failed + 1))
  fi
}

if base=$(base_on_main) && [[ -n "$base" ]]; then
  against "the base on main" "$base"
else
  echo "api-compat: no previous commit here (a shallow clone that could not be deepened): skipping the comparison with main"
  skipped=$((skipped + 1))
fi
if tag=$(git describe --tags --abbrev=0 --match 'v*' HEAD 2>/dev/null); then
  against "release $tag" "$tag"
else
  echo "api-compat: no release tag (v*) yet: nothing to compare with"
fi

echo "api-compat: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
