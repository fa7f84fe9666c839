#!/usr/bin/env bash
# Builds the Python-minimal adapter into target/python_minimal.wasm with componentize-py
# (plugins/componentize-py.sh).
#
#   plugins/python-minimal/build.sh            # build the component
#   plugins/python-minimal/build.sh --bindings # also write the generated Python bindings to bindings/
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/../componentize-py.sh" "$here" python_minimal "$@"
