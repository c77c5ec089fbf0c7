#!/usr/bin/env python3
"""Plot fastrelu-bench JSON: GB/s against n, one panel per op, one line per ISA.

    fastrelu-bench --benchmark_format=json > bench.json
    python3 scripts/plot_bench.py bench.json out.png

Columns are ops, the top row forward and the bottom row backward. oneDNN,
XNNPACK and PyTorch are drawn dashed, memcpy over the same footprint (the roofline's baseline)
dotted grey, and on forward panels the ceiling/{store,load} rows dotted red
and brown. With --benchmark_repetitions each point is the median.
"""
import json
import statistics
import sys
from collections import defaultdict

try:
    import matplotlib
except ImportError:
    sys.exit("plot_bench.py needs matplotlib (Debian: apt-get install python3-matplotlib)")

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullLocator  # noqa: E402

PEERS = ("onednn", "xnnpack", "pytorch")
ISA_ORDER = ["scalar", "sse2", "avx2", "avx512", "neon", *PEERS]
BACKWARD = "_backward_f32"


def parse(name):
    """(op, series, n) from '<op>/<isa>/<n>', '<peer>/<op>/<n>' (oneDNN, XNNPACK, PyTorch) or 'memcpy/<m>'
    (and ('ceiling', kind, n) from 'ceiling/<kind>/<n>')."""
    parts = name.split("/")
    if parts[0] == "memcpy" and len(parts) == 2:
        return "memcpy", "memcpy", int(parts[1])
    if len(parts) != 3:
        return None
    if parts[0] in PEERS:
        return parts[1], parts[0], int(parts[2])
    return parts[0], parts[1], int(parts[2])


def load(path):
    """{(op, series): {n: GB/s}} and the JSON context."""
    with open(path) as f:
        doc = json.load(f)
    samples = defaultdict(list)
    for run in doc["benchmarks"]:
        if run.get("run_type", "iteration") != "iteration" or run.get("error_occurred"):
            continue
        key = parse(run["name"])
        if key and "bytes_per_second" in run:
            samples[key].append(run["bytes_per_second"] / 1e9)
    series = defaultdict(dict)
    for (op, isa, n), values in samples.items():
        series[(op, isa)][n] = statistics.median(values)
    return series, doc.get("context", {})


def memcpy_line(series, backward):
    """memcpy/<m> as a function of the op's n: m = n forward, m = 3n/2 backward."""
    scale = 2 / 3 if backward else 1
    points = series.get(("memcpy", "memcpy"), {})
    return {m * scale: gbs for m, gbs in points.items()}


def size_label(n, _pos=None):
    for shift, unit in ((20, "Mi"), (10, "Ki")):
        if n >= 1 << shift and int(n) % (1 << shift) == 0:
            return f"{int(n) >> shift}{unit}"
    return f"{int(n)}"


def draw_panel(ax, op, series):
    isas = sorted({isa for (o, isa) in series if o == op}, key=ISA_ORDER.index)
    sizes = set()
    for isa in isas:
        points = sorted(series[(op, isa)].items())
        sizes.update(n for n, _ in points)
        style = "--" if isa in PEERS else "-"
        # One color per series in every panel, whichever series a panel lacks.
        ax.plot(*zip(*points), style, marker="o", markersize=3, label=isa,
                color=f"C{ISA_ORDER.index(isa)}")
    if not op.endswith(BACKWARD):  # what only storing n floats, or only loading 2n, reaches
        for kind, color in (("store", "tab:red"), ("load", "tab:brown")):
            points = sorted((n, v) for n, v in series.get(("ceiling", kind), {}).items()
                            if n in sizes)
            if points:
                ax.plot(*zip(*points), ":", color=color, label=kind + " only")
    baseline = sorted(memcpy_line(series, op.endswith(BACKWARD)).items())
    baseline = [(n, gbs) for n, gbs in baseline if n in sizes]
    if baseline:
        ax.plot(*zip(*baseline), ":", color="grey", label="memcpy")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(FixedLocator(sorted(sizes)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(size_label))
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda _v, _p: ""))
    ax.set_title(op, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: plot_bench.py bench.json out.png")
    series, context = load(argv[1])
    ops = [op for op in dict.fromkeys(op for op, _ in series) if op not in ("memcpy", "ceiling")]
    forward = [op for op in ops if not op.endswith(BACKWARD)]
    if not forward:
        sys.exit("plot_bench.py: no fastrelu-bench results in " + argv[1])
    fig, axes = plt.subplots(2, len(forward), figsize=(3.6 * len(forward), 7), squeeze=False)
    for col, op in enumerate(forward):
        draw_panel(axes[0][col], op, series)
        backward = op[: -len("_f32")] + BACKWARD
        if backward in ops:
            draw_panel(axes[1][col], backward, series)
        else:
            axes[1][col].set_visible(False)
    for row in axes:
        row[0].set_ylabel("GB/s (read + written)")
    axes[0][0].legend(fontsize=8)
    title = "fastrelu-bench: {}, libfastrelu {}, one thread".format(
        context.get("cpu_brand", "unknown CPU"), context.get("fastrelu_version", "?"))
    fig.suptitle(title)
    fig.supxlabel("n (floats)")
    fig.tight_layout()
    fig.savefig(argv[2], dpi=110)


if __name__ == "__main__":
    main(sys.argv)
