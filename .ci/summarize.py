#!/usr/bin/env python3
"""Counts test cases across meson test logs and prints "N passed, N failed".

Each libcheck suite prints "NN%: Checks: C, Failures: F, Errors: E"; a suite
that died before printing it (crash, timeout, sanitizer abort) counts as one
failure, as does a missing log (the build failed before any test ran).
"""
import json
import re
import sys

SUMMARY = re.compile(r"\d+%: Checks: (\d+), Failures: (\d+), Errors: (\d+)")


def main(paths):
    passed = failed = 0
    for path in paths:
        try:
            with open(path, encoding="utf-8") as log:
                lines = [json.loads(line) for line in log if line.strip()]
        except OSError as error:
            print(f"{path}: {error.strerror}: counted as one failure", file=sys.stderr)
            failed += 1
            continue
        for test in lines:
            if test.get("is_parallel") is None and "name" not in test:
                continue
            sums = SUMMARY.findall(test.get("stdout", "") or "")
            ok = test.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
            if sums:
                checks = sum(int(c) for c, _, _ in sums)
                bad = sum(int(f) + int(e) for _, f, e in sums)
                passed += checks - bad
                failed += bad
                if not ok and bad == 0:
                    failed += 1
            elif ok:
                passed += 1
            else:
                failed += 1
            if not ok:
                print(f"FAILED: {path}: {test.get('name')} ({test.get('result')})", file=sys.stderr)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
