#!/usr/bin/env python3
"""Runs one integration test module with unittest and writes its counts to
$POSTCORE_RESULTS/<name>.json for scripts/count_results.py. Exit 0 if all passed, 77
(skipped) if every test was skipped, 1 otherwise."""
import importlib
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    module, name = sys.argv[1], sys.argv[2]
    suite = unittest.defaultTestLoader.loadTestsFromModule(importlib.import_module(module))
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    out_dir = os.environ.get('POSTCORE_RESULTS')
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, name + '.json'), 'w') as f:
            json.dump({'passed': passed, 'failed': failed, 'skipped': skipped}, f)
    if failed:
        return 1
    # Meson's "skipped": every test needed something this machine lacks (each says what).
    return 77 if skipped and not passed else 0


if __name__ == '__main__':
    sys.exit(main())
