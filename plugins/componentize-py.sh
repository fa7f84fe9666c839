#!/usr/bin/env bash
# Builds a Python adapter of the world `kommune:sandkasse/adapter` with componentize-py: every
# `*.py` of ADAPTER_DIR (the entry module is `app`) into ADAPTER_DIR/target/OUTPUT_NAME.wasm.
# Called by each Python adapter's build.sh.
#
#   plugins/componentize-py.sh ADAPTER_DIR OUTPUT_NAME [--bindings]
#
# --bindings also writes the generated Python bindings to ADAPTER_DIR/bindings/ (for an editor;
# the build does not need them).
set -euo pipefail

CPY_VERSION="0.25.1"
here="$(cd "${1:?usage: componentize-py.sh ADAPTER_DIR OUTPUT_NAME [--bindings]}" && pwd)"
name="${2:?usage: componentize-py.sh ADAPTER_DIR OUTPUT_NAME [--bindings]}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
wit="$root/conformance/wit"
world="kommune:sandkasse/adapter"
out="$here/target/$name.wasm"

if ! command -v componentize-py >/dev/null 2>&1; then
    echo "componentize-py is not installed; install it with:" >&2
    echo "    pip install componentize-py==$CPY_VERSION" >&2
    exit 1
fi
found="$(componentize-py --version 2>/dev/null | awk '{print $2}')"
if [[ "$found" != "$CPY_VERSION" ]]; then
    echo "warning: componentize-py $found found, $CPY_VERSION expected (pip install componentize-py==$CPY_VERSION)" >&2
fi

if [[ "${3:-}" == "--bindings" ]]; then
    rm -rf "$here/bindings"
    componentize-py -d "$wit" -w "$world" bindings "$here/bindings"
    echo "bindings written to $here/bindings"
fi

mkdir -p "$here/target"
# componentize-py generates the bindings itself while componentizing; run from a scratch copy of
# the modules so no __pycache__ lands in the source tree.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here"/*.py "$work/"

start=$(date +%s.%N)
(cd "$work" && PYTHONDONTWRITEBYTECODE=1 componentize-py -d "$wit" -w "$world" componentize app -o "$out")
end=$(date +%s.%N)

size=$(stat -c %s "$out")
awk -v f="${out#"$root"/}" -v s="$size" -v a="$start" -v b="$end" \
    'BEGIN { printf "wrote %s: %d bytes (%.1f MiB) in %.1f s\n", f, s, s / 1048576, b - a }'
