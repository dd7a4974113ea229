#!/usr/bin/env python3
"""Where a request's instructions go: the per-function difference between two callgrind runs of
one proxy (benches/instructions.sh keeps them: <name>.callgrind with WARMUP+REQUESTS requests,
<name>-warmup.callgrind with WARMUP), divided by REQUESTS.

    benches/per_request.py target/bench/pylon.callgrind target/bench/pylon-warmup.callgrind 2000 [TOP] [MATCH]

Exclusive costs (the function's own instructions); with MATCH (a substring, e.g. `pylon`), the
inclusive costs (callees counted) of the functions whose name contains it.
"""
import re
import subprocess
import sys

# "57,704,271 ( 6.92%)  file:function [object]"
LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)(?: \[[^\]]*\])?$")


def costs_of(path, inclusive):
    out = subprocess.run(
        ["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}", "--threshold=100", path],
        capture_output=True, text=True, check=True,
    ).stdout
    costs = {}
    for line in out.splitlines():
        m = LINE.match(line)
        if not m or m.group(2) == "PROGRAM TOTALS":
            continue
        name = m.group(2)
        costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return costs


def main():
    long_run, short_run, requests = sys.argv[1], sys.argv[2], int(sys.argv[3])
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    match = sys.argv[5] if len(sys.argv) > 5 else None
    a, b = costs_of(long_run, match is not None), costs_of(short_run, match is not None)
    diff = {k: (a.get(k, 0) - b.get(k, 0)) / requests for k in set(a) | set(b)}
    if match is None:
        print(f"{sum(diff.values()):10.0f}  instructions per request (all functions)")
    else:
        diff = {k: v for k, v in diff.items() if match in k}
    for name, cost in sorted(diff.items(), key=lambda kv: -kv[1])[:top]:
        print(f"{cost:10.0f}  {name}")


main()
