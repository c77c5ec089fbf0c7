#!/usr/bin/env python3
"""ctest bench_smoke_json: the JSON that bench_smoke wrote parses, every name is
<op>/<isa>/<n>, <library>/<op>/<n> (onednn, xnnpack, pytorch), memcpy/<m>,
ceiling/<kind>/<n> or overhead/<op>/<n>, and every row has its counters
(overhead rows: time per call only; memcpy and ceiling rows: no roofline).
No timings are asserted."""
import json
import re
import sys

with open(sys.argv[1]) as f:
    runs = json.load(f)["benchmarks"]
assert runs, "no benchmarks ran"
for run in runs:
    name = run["name"]
    assert re.fullmatch(r"(memcpy/\d+|[a-z0-9_]+/[a-z0-9_]+/\d+)(/real_time)?", name), name
    assert not run.get("error_occurred"), name + ": " + run.get("error_message", "")
    if name.startswith("overhead/"):
        assert run["real_time"] > 0, name
        continue
    assert "bytes_per_second" in run, name
    assert "roofline" in run or name.startswith(("memcpy/", "ceiling/")), name
print(len(runs), "benchmarks, valid JSON")
