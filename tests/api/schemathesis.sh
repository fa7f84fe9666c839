#!/usr/bin/env bash
# The OpenAPI document against the service that serves it, with schemathesis: a real
# `sandkasse serve` on a free loopback port with a fresh data directory, a vendor and an API token
# seeded with `sandkasse admin`, then `schemathesis run` on the served document, bounded in examples
# and time. Fails on any response the document does not describe (status code, content type,
# schema, headers) and on any 5xx.
#
#     bash tests/api/schemathesis.sh                  # the run
#     bash tests/api/schemathesis.sh --install        # install schemathesis (what .ci/run does)
#     bash tests/api/schemathesis.sh --check-install  # exit 2 with the install command if missing
#
# Environment:
#   SANDKASSE_BIN        the `sandkasse` binary (default: target/debug/sandkasse, built here)
#   SCHEMATHESIS_EXAMPLES  examples per operation and phase (default 20)
#   SCHEMATHESIS_SEED    the generator's seed (default: a fixed one, so a run can be repeated)
#   SCHEMATHESIS_REPORT  a folder for schemathesis' JUnit report and the server's log (default: none)
#
# schemathesis (version pinned below) lives in a virtualenv of its own under
# ${XDG_CACHE_HOME:-~/.cache}/sandkasse/; without it the run stops with the exact install command.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

version=4.32.5
venv="${XDG_CACHE_HOME:-$HOME/.cache}/sandkasse/schemathesis-$version"
st="$venv/bin/schemathesis"
# hypothesis is pinned too: it draws the cases, and run_schemathesis.py guards one of its functions.
hypothesis=6.170.17
install="python3 -m venv \"$venv\" && \"$venv/bin/pip\" install \"schemathesis==$version\" \"hypothesis==$hypothesis\""
case ${1:-} in
  --install)
    # For .ci/run: into a virtualenv of its own, so a Debian python3 (PEP 668) is left untouched.
    if [[ ! -x $st ]]; then
      python3 -m venv "$venv"
      "$venv/bin/pip" install --quiet "schemathesis==$version" "hypothesis==$hypothesis"
    fi
    "$st" --version
    exit 0
    ;;
  --check-install)
    [[ -x $st ]] && exit 0
    echo "schemathesis $version is not installed; run: $install" >&2
    exit 2
    ;;
  "") ;;
  *)
    echo "usage: $0 [--install | --check-install]" >&2
    exit 2
    ;;
esac
if [[ ! -x $st ]]; then
  echo "schemathesis $version is not installed; run: $install" >&2
  exit 2
fi

bin=${SANDKASSE_BIN:-}
if [[ -z $bin ]]; then
  # The same targets as `cargo test --workspace --all-targets`, so the features match and the
  # binary that `cargo xtask test` built just before is reused, not rebuilt.
  cargo build --quiet --workspace --all-targets
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/sandkasse"
fi

if [[ -n ${SCHEMATHESIS_REPORT:-} ]]; then
  SCHEMATHESIS_REPORT=$(realpath -m "$SCHEMATHESIS_REPORT")
fi
work=$(mktemp -d)
server=
cleanup() {
  if [[ -n $server ]]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  if [[ -n ${SCHEMATHESIS_REPORT:-} ]]; then
    mkdir -p "$SCHEMATHESIS_REPORT"
    cp "$work/serve.log" "$SCHEMATHESIS_REPORT/serve.log" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

data="$work/data"
admin() { "$bin" admin --data-dir "$data" "$@"; }
export SANDKASSE_PASSWORD='schemathesis korrekt hest batteri'
export SANDKASSE_LOG=${SANDKASSE_LOG:-warn}
admin create-org 'Leverandør A AS' >/dev/null
admin create-user --username kari@leverandor-a.no --role vendor --org 'Leverandør A AS' >/dev/null
token=$(admin create-token --username kari@leverandor-a.no --name schemathesis 2>/dev/null)
[[ $token == sk_* ]] || { echo "no API token from sandkasse admin create-token" >&2; exit 1; }

# Port 0: the server picks a free port and prints its address on its first line.
"$bin" serve --data-dir "$data" --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
server=$!
base=
for _ in $(seq 1 150); do
  base=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.log" | head -n 1 || true)
  [[ -n $base ]] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.2
done
[[ -n $base ]] || { echo "sandkasse serve did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
echo "schemathesis $version against $base (data: $data)"

# A session too: with both credentials sent, the document says the token wins, and schemathesis
# then probes each operation without them and with wrong ones.
cookie=$("$venv/bin/python" - "$base" <<'PY'
import json, os, sys, urllib.request
body = {"username": "kari@leverandor-a.no", "password": os.environ["SANDKASSE_PASSWORD"]}
request = urllib.request.Request(
    sys.argv[1] + "/api/v1/session",
    data=json.dumps(body).encode(),
    headers={"Content-Type": "application/json"},
    method="POST",
)
with urllib.request.urlopen(request) as response:
    print(response.headers["Set-Cookie"].split(";")[0])
PY
)
[[ $cookie == sandkasse_session=* ]] || { echo "could not log in: $cookie" >&2; exit 1; }

report=()
if [[ -n ${SCHEMATHESIS_REPORT:-} ]]; then
  report=(--report junit --report-junit-path "$SCHEMATHESIS_REPORT/schemathesis.xml")
fi

# A hard bound on top of the examples' bound: a run that takes longer has failed.
# From the temporary folder: schemathesis keeps a cache (.schemathesis/) in its working directory.
cd "$work"
# Through run_schemathesis.py: schemathesis' own command line with a guard against a CPython 3.11
# bug that otherwise fails about one run in three (the file says which).
timeout --signal=INT 150 "$venv/bin/python" "$root/tests/api/run_schemathesis.py" --config-file "$root/tests/api/schemathesis.toml" run "$base/api/v1/openapi.json" \
  --url "$base" \
  --header "Authorization: Bearer $token" \
  --header "Cookie: $cookie" \
  --checks all \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-20}" \
  --seed "${SCHEMATHESIS_SEED:-20261201}" \
  --request-timeout 10 \
  --workers 2 \
  --no-shrink \
  --suppress-health-check all \
  "${report[@]}"
