#!/usr/bin/env bash
# Builds the Python reference adapter (all three roles) into target/python_reference.wasm with componentize-py
# (plugins/componentize-py.sh).
#
#   plugins/python-reference/build.sh            # build the component
#   plugins/python-reference/build.sh --bindings # also write the generated Python bindings to bindings/
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/../componentize-py.sh" "$here" python_reference "$@"
