#!/usr/bin/env python3
"""ctest bench_smoke_json: the JSON that bench_smoke wrote parses, every name is
<op>/<isa>/<n>, onednn/<op>/<n> or memcpy/<m>, and every row has its counters.
No timings are asserted."""
import json
import re
import sys

with open(sys.argv[1]) as f:
    runs = json.load(f)["benchmarks"]
assert runs, "no benchmarks ran"
for run in runs:
    name = run["name"]
    assert re.fullmatch(r"(memcpy/\d+|[a-z0-9_]+/[a-z0-9_]+/\d+)", name), name
    assert not run.get("error_occurred"), name + ": " + run.get("error_message", "")
    assert "bytes_per_second" in run, name
    assert "roofline" in run or name.startswith("memcpy/"), name
print(len(runs), "benchmarks, valid JSON")
