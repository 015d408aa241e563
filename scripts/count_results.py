#!/usr/bin/env python3
"""Prints "N passed, N failed[, N skipped]" over one or more meson build directories.

A GoogleTest executable counts each of its test cases (from its XML report); an
integration test counts each of its cases (from the JSON its runner writes); any other
meson test counts once. A test whose report is missing counts as failed.
Exit status: 0 when nothing failed.
"""
import glob
import json
import os
import sys
import xml.etree.ElementTree as ET


def count_dir(build):
    passed = failed = skipped = 0
    log = os.path.join(build, 'meson-logs', 'testlog.json')
    if not os.path.exists(log):
        return 0, 1, 0
    results = os.path.join(build, 'test-results')
    with open(log) as f:
        entries = [json.loads(line) for line in f if line.strip()]
    for e in entries:
        name = e['name'].split(' / ')[-1]
        ok = e['result'] in ('OK', 'EXPECTEDFAIL')
        skip = e['result'] == 'SKIP'
        report_xml = os.path.join(results, name + '.xml')
        report_json = os.path.join(results, name + '.json')
        if os.path.exists(report_xml):
            root = ET.parse(report_xml).getroot()
            for case in root.iter('testcase'):
                if case.find('failure') is not None or case.find('error') is not None:
                    failed += 1
                elif case.get('result') == 'skipped' or case.find('skipped') is not None:
                    skipped += 1
                else:
                    passed += 1
            if not ok and not skip and root.find('.//failure') is None:
                failed += 1  # crashed or timed out outside any case
        elif os.path.exists(report_json):
            with open(report_json) as f:
                r = json.load(f)
            passed += r['passed']
            failed += r['failed']
            skipped += r.get('skipped', 0)
            if not ok and not skip and r['failed'] == 0:
                failed += 1
        elif skip:
            skipped += 1
        elif ok:
            passed += 1
        else:
            failed += 1
    return passed, failed, skipped


def main():
    totals = [0, 0, 0]
    for build in sys.argv[1:]:
        p, f, s = count_dir(build)
        print(f'{build}: {p} passed, {f} failed, {s} skipped')
        totals = [totals[0] + p, totals[1] + f, totals[2] + s]
    line = f'{totals[0]} passed, {totals[1]} failed'
    if totals[2]:
        line += f', {totals[2]} skipped'
    print(line)
    return 0 if totals[1] == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
