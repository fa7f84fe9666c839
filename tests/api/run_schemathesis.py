"""schemathesis' command line, with one guard against a CPython 3.11 bug.

To describe a lambda (only for a strategy's repr), hypothesis parses the source file the lambda is
in with `ast.parse`. On CPython 3.11 that parse can fail with `SystemError: AST constructor
recursion depth mismatch` when it runs deep in the stack, as it does inside schemathesis' coverage
phase; hypothesis then reports the test case as flaky and schemathesis counts a runtime error, in
about one run of three here (3.11.7). The guard gives such a lambda the description hypothesis
itself gives when it cannot find the source. Nothing a check judges depends on it.

    python run_schemathesis.py ARGS...   # as `schemathesis ARGS...`
"""

import sys

from hypothesis.internal import lambda_sources

_describe = lambda_sources._lambda_description


def _guarded(f, *args, **kwargs):
    try:
        return _describe(f, *args, **kwargs)
    except SystemError:
        return "lambda: <unknown>"


lambda_sources._lambda_description = _guarded

from schemathesis.cli import schemathesis  # noqa: E402 (after the guard)

if __name__ == "__main__":
    sys.argv[0] = "schemathesis"
    sys.exit(schemathesis())
