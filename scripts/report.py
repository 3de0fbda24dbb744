#!/usr/bin/python3
"""Figures and tables of a capsim sweep directory (docs/reports.md).

Run through `capsim report DIR [--out REPORT_DIR]`, or directly with Debian's Python, which has
matplotlib and numpy:

    /usr/bin/python3 scripts/report.py DIR [--out REPORT_DIR] [--at KEY=VALUE ...]

Reads DIR/manifest.json, DIR/points.csv, DIR/results.csv and the accuracy curves the sweep listed
(copied into DIR/accuracy/), and writes into REPORT_DIR (default DIR/report):

    accuracy_vs_reduction.{pdf,png}  accuracy against activation memory-access reduction
    layer_traffic.{pdf,png}          per-layer DRAM traffic, baseline against the plans
    energy_breakdown.{pdf,png}       energy by component (DRAM, SRAM, PE, projection, quantization)
    energy_reduction[__...].{pdf,png}  energy saving over buffer size x DRAM type, one file per
                                     combination of the other axes
    report.md                        the tables, the figures, and where compression buys nothing

PDFs embed TrueType fonts (pdf.fonttype 42) and carry no creation date, so equal inputs give
equal files. Exit codes: 0 done, 2 bad input (not a sweep directory, unreadable tables).
"""

import argparse
import csv
import json
import math
import os
import shutil
import sys
import tempfile
from collections import OrderedDict, defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.patches  # noqa: E402
import matplotlib.ticker  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

matplotlib.rcParams.update({
    "pdf.fonttype": 42,      # TrueType, not Type 3: editable text and accepted by paper systems
    "ps.fonttype": 42,
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "svg.hashsalt": "capsim",
})

ENERGY_COMPONENTS = [("dram", "DRAM"), ("sram", "SRAM"), ("pe", "PE array"),
                     ("projection", "projection"), ("quantization", "quantization")]
MIB = 1024.0 * 1024.0
UJ_PER_PJ = 1e-6


class BadInput(Exception):
    """An input the report cannot use; the message names the file."""


# ---- reading ---------------------------------------------------------------------------------

def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror})") from e
    except json.JSONDecodeError as e:
        raise BadInput(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from e


def read_csv(path, required):
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise BadInput(f"{path}:1: missing column(s) {', '.join(missing)}")
            return list(reader)
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror}); run capsim sweep or capsim merge first") from e


def number(text):
    return float(text) if text not in ("", None) else math.nan


class Sweep:
    """The sweep directory: manifest, per-point rows, axes."""

    def __init__(self, directory):
        self.dir = directory
        manifest_path = os.path.join(directory, "manifest.json")
        if not os.path.isfile(manifest_path):
            raise BadInput(f"{directory}: not a sweep directory (no manifest.json)")
        self.manifest = read_json(manifest_path)
        if self.manifest.get("format") != "capsim-sweep-manifest":
            raise BadInput(f"{manifest_path}: not a capsim sweep manifest")
        self.axes = list(self.manifest["axes"])
        self.points = read_csv(os.path.join(directory, "points.csv"),
                               ["point", "status", "network", "plan", "plan_effect", "energy_pj"] + self.axes)
        self.finished = [p for p in self.points if p["status"] == "finished"]
        self.networks = list(OrderedDict.fromkeys(p["network"] for p in self.points))
        self.plans = {n: list(OrderedDict.fromkeys(p["plan"] for p in self.points if p["network"] == n))
                      for n in self.networks}
        # Axis values in the order the sweep file gave them (the manifest's point order).
        self.axis_values = {a: list(OrderedDict.fromkeys(p[a] for p in self.points)) for a in self.axes}
        self.plan_args = {}
        for p in self.manifest["points"]:
            self.plan_args[(p["network"], p["plan"])] = p["plan_arg"]

    def is_baseline(self, network, plan):
        return self.plan_args.get((network, plan)) == "none"

    def row(self, network, plan, at):
        for p in self.finished:
            if p["network"] == network and p["plan"] == plan and all(p[a] == v for a, v in at.items()):
                return p
        return None


def reference_point(sweep, overrides):
    """The axis values figures without an axis dimension are drawn at: the first value of each
    axis, unless --at KEY=VALUE says otherwise."""
    at = {a: values[0] for a, values in sweep.axis_values.items()}
    for assignment in overrides:
        key, sep, value = assignment.partition("=")
        if not sep or key not in at:
            raise BadInput(f"--at {assignment}: expected KEY=VALUE with KEY one of {', '.join(sweep.axes) or '(no axes)'}")
        if value not in sweep.axis_values[key]:
            raise BadInput(f"--at {assignment}: {key} takes {', '.join(sweep.axis_values[key])} in this sweep")
        at[key] = value
    return at


def describe(at):
    return ", ".join(f"{k} = {v}" for k, v in at.items()) if at else "the base architecture"


# ---- figures ---------------------------------------------------------------------------------

def save(fig, out_dir, name):
    try:
        for ext in ("pdf", "png"):
            fig.savefig(os.path.join(out_dir, f"{name}.{ext}"),
                        metadata={"CreationDate": None} if ext == "pdf" else None)
    except Exception as e:  # noqa: BLE001
        # matplotlib's PDF backend turns a failed write (a full disk) into an AttributeError while
        # cleaning up: report the OSError behind it, as any other failed write.
        cause = e
        while cause is not None and not isinstance(cause, OSError):
            cause = cause.__context__
        if cause is None:
            raise
        raise cause from None
    finally:
        plt.close(fig)
    return f"{name}.png"


def plan_colors(plans):
    cmap = plt.get_cmap("tab10")
    return {plan: cmap(i % 10) for i, plan in enumerate(plans)}


def grid(count, width=3.6, height=2.8, max_cols=3):
    cols = min(max_cols, max(1, count))
    rows = int(math.ceil(count / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[count:]:
        ax.axis("off")
    return fig, list(axes.flat[:count])


def accuracy_figure(curves, out_dir):
    networks = list(OrderedDict.fromkeys(r["network"] for r in curves))
    fig, axes = grid(len(networks))
    methods = list(OrderedDict.fromkeys(r["method"] for r in curves))
    colors = plan_colors(methods)
    for ax, network in zip(axes, networks):
        # Zoom on the 15 points below the best accuracy: the budgets the paper cares about are a
        # point or two, and collapsed plans (10 %) would flatten everything else.
        best = max(100 * number(r["val_accuracy"]) for r in curves if r["network"] == network)
        ax.set_ylim(best - 15, best + 1.5)
        for method in methods:
            rows = sorted((r for r in curves if r["network"] == network and r["method"] == method),
                          key=lambda r: number(r["reduction_vs_b8"]))
            if not rows:
                continue
            x = [number(r["reduction_vs_b8"]) for r in rows]
            x_overhead = [number(r["reduction_vs_b8_with_overhead"]) for r in rows]
            val = [100 * number(r["val_accuracy"]) for r in rows]
            test = [100 * number(r["test_accuracy"]) for r in rows]
            ax.plot(x, val, "o-", color=colors[method], label=f"{method} (validation)")
            ax.plot(x_overhead, val, "o--", color=colors[method], alpha=0.45, markersize=3,
                    label=f"{method}, with projection overhead")
            if any(not math.isnan(t) for t in test):
                ax.plot(x, test, "s", color=colors[method], markerfacecolor="none", label=f"{method} (test)")
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}×"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(network)
        ax.set_xlabel("activation memory-access reduction vs. 8 bit")
        ax.set_ylabel("accuracy (%)")
        ax.text(0.02, 0.02, "collapsed plans lie below the axis", transform=ax.transAxes, fontsize=7, color="0.4")
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, frameon=False)
    return save(fig, out_dir, "accuracy_vs_reduction")


def curves_table(curves):
    header = ["network", "method", "plan", "reduction vs b8", "with overhead", "reduction vs b16", "with overhead",
              "val accuracy %", "test accuracy %"]

    def pct(text):
        value = number(text)
        return "" if math.isnan(value) else f"{100 * value:.2f}"

    rows = [[r["network"], r["method"], r["plan"], f"{number(r['reduction_vs_b8']):.2f}",
             f"{number(r['reduction_vs_b8_with_overhead']):.2f}", f"{number(r['reduction_vs_b16']):.2f}",
             f"{number(r['reduction_vs_b16_with_overhead']):.2f}", pct(r["val_accuracy"]), pct(r["test_accuracy"])]
            for r in curves]
    return markdown_table(header, rows)


def layer_traffic(sweep, at):
    """network -> plan -> (layer names, bytes per layer), read from results.csv at `at`."""
    wanted = {}
    for network in sweep.networks:
        for plan in sweep.plans[network]:
            row = sweep.row(network, plan, at)
            if row:
                wanted[row["point"]] = (network, plan)
    traffic = defaultdict(lambda: defaultdict(lambda: OrderedDict()))
    path = os.path.join(sweep.dir, "results.csv")
    try:
        with open(path, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                key = wanted.get(r["point"])
                if key is None or r["layer"] == "total" or r["metric"] not in ("dram_read_bytes", "dram_write_bytes"):
                    continue
                layers = traffic[key[0]][key[1]]
                layers[r["layer"]] = layers.get(r["layer"], 0.0) + float(r["value"])
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror})") from e
    return traffic


def layer_traffic_figure(sweep, at, out_dir):
    traffic = layer_traffic(sweep, at)
    networks = [n for n in sweep.networks if traffic.get(n)]
    if not networks:
        return None
    fig, axes = plt.subplots(len(networks), 1, figsize=(11, 2.9 * len(networks)), squeeze=False)
    for ax, network in zip(axes[:, 0], networks):
        plans = [p for p in sweep.plans[network] if p in traffic[network]]
        colors = plan_colors(plans)
        layer_names = list(next(iter(traffic[network].values())).keys())
        x = np.arange(len(layer_names))
        for plan in plans:
            values = [traffic[network][plan].get(name, 0.0) / MIB for name in layer_names]
            if sweep.is_baseline(network, plan):
                ax.bar(x, values, color="0.8", edgecolor="0.55", linewidth=0.4, label=f"{plan} (baseline)")
            else:
                ax.step(x, values, where="mid", color=colors[plan], linewidth=1.2, label=plan)
        ax.set_yscale("log")
        ax.set_xlim(-0.6, len(layer_names) - 0.4)
        ax.set_xticks(x)
        ax.set_xticklabels(layer_names, rotation=90, fontsize=5 if len(layer_names) > 40 else 6)
        ax.set_ylabel("DRAM read + write (MiB)")
        ax.set_title(f"{network}: DRAM traffic per layer ({describe(at)})")
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), borderaxespad=0)
    fig.tight_layout()
    return save(fig, out_dir, "layer_traffic")


def energy_breakdown_figure(sweep, at, out_dir):
    networks = [n for n in sweep.networks if any(sweep.row(n, p, at) for p in sweep.plans[n])]
    if not networks:
        return None
    fig, axes = grid(len(networks), width=4.2, height=3.2)
    colors = plt.get_cmap("Set2")
    for ax, network in zip(axes, networks):
        rows = [(p, sweep.row(network, p, at)) for p in sweep.plans[network]]
        rows = [(p, r) for p, r in rows if r]
        x = np.arange(len(rows))
        bottom = np.zeros(len(rows))
        for i, (component, label) in enumerate(ENERGY_COMPONENTS):
            values = np.array([number(r[f"{component}_energy_pj"]) * UJ_PER_PJ for _, r in rows])
            ax.bar(x, values, bottom=bottom, color=colors(i), label=label, width=0.7)
            bottom += values
        for xi, (plan, r) in zip(x, rows):
            ratio = number(r.get("energy_vs_none", ""))
            if not math.isnan(ratio) and not sweep.is_baseline(network, plan):
                ax.annotate(f"{ratio:.2f}x", (xi, bottom[xi]), ha="center", va="bottom", fontsize=7)
        ax.set_xticks(x)
        ax.set_xticklabels([p for p, _ in rows], rotation=30, ha="right")
        ax.set_ylabel("energy (µJ)")
        ax.set_title(network)
        ax.set_ylim(0, max(bottom) * 1.15 if len(bottom) else 1)
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle(f"Energy by component ({describe(at)}); labels: energy relative to 'none'", fontsize=9)
    fig.tight_layout()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(ENERGY_COMPONENTS),
               frameon=False)
    return save(fig, out_dir, "energy_breakdown")


def heatmap_axes(sweep):
    """(x axis, y axis) of the energy-reduction figure: buffer size and DRAM type when swept,
    otherwise the swept axes with the most values."""
    varied = [a for a in sweep.axes if len(sweep.axis_values[a]) > 1]
    x = next((a for a in varied if a.startswith("buffer.")), None)
    y = next((a for a in varied if a.startswith("dram.") and a != x), None)
    rest = [a for a in sorted(varied, key=lambda a: -len(sweep.axis_values[a])) if a not in (x, y)]
    if x is None and rest:
        x = rest.pop(0)
    if y is None and rest:
        y = rest.pop(0)
    return x, y


def energy_reduction_figures(sweep, at, out_dir):
    """One figure per combination of the axes other than the two plotted: rows networks, columns
    plans, each cell the energy saving of the plan over 'none' at that buffer size and DRAM."""
    x_axis, y_axis = heatmap_axes(sweep)
    if x_axis is None:
        return []
    others = [a for a in sweep.axes if a not in (x_axis, y_axis)]
    combos = [{}]
    for a in others:
        combos = [dict(c, **{a: v}) for c in combos for v in sweep.axis_values[a]]
    # The reference combination first, under the plain name.
    combos.sort(key=lambda c: 0 if all(c[a] == at[a] for a in others) else 1)
    figures = []
    for index, fixed in enumerate(combos):
        name = "energy_reduction" if index == 0 else "energy_reduction__" + "__".join(
            f"{k}={v}" for k, v in fixed.items()).replace("/", "_")
        figure = energy_reduction_figure(sweep, x_axis, y_axis, fixed, out_dir, name)
        if figure:
            figures.append((fixed, figure))
    return figures


def energy_reduction_figure(sweep, x_axis, y_axis, fixed, out_dir, name):
    xs = sweep.axis_values[x_axis]
    ys = sweep.axis_values[y_axis] if y_axis else [""]
    panels = [(n, p) for n in sweep.networks for p in sweep.plans[n] if not sweep.is_baseline(n, p)]
    if not panels:
        return None
    columns = max(len([p for p in sweep.plans[n] if not sweep.is_baseline(n, p)]) for n in sweep.networks)
    rows = len(sweep.networks)
    fig, axes = plt.subplots(rows, columns, squeeze=False,
                             figsize=(0.55 * len(xs) * columns + 2.0, 0.42 * len(ys) * rows + 1.2 * rows))
    fig.subplots_adjust(wspace=0.08, hspace=0.45)
    limit = 1.0
    cells = {}
    for n, p in panels:
        grid_values = np.full((len(ys), len(xs)), np.nan)
        no_effect = np.zeros((len(ys), len(xs)), dtype=bool)
        for j, yv in enumerate(ys):
            for i, xv in enumerate(xs):
                at = dict(fixed, **{x_axis: xv})
                if y_axis:
                    at[y_axis] = yv
                r = sweep.row(n, p, at)
                if r is None:
                    continue
                ratio = number(r.get("energy_vs_none", ""))
                grid_values[j, i] = 100.0 * (1.0 - ratio)
                no_effect[j, i] = r["plan_effect"] == "no_effect"
        cells[(n, p)] = (grid_values, no_effect)
        finite = grid_values[np.isfinite(grid_values)]
        if finite.size:
            limit = max(limit, float(np.max(np.abs(finite))))
    # Colours saturate at +-50 %: an outlier must not wash out the differences that matter; the
    # numbers in the cells stay exact.
    limit = min(limit, 50.0)
    image = None
    for row, network in enumerate(sweep.networks):
        plans = [p for p in sweep.plans[network] if not sweep.is_baseline(network, p)]
        for col in range(columns):
            ax = axes[row, col]
            if col >= len(plans):
                ax.axis("off")
                continue
            values, no_effect = cells[(network, plans[col])]
            image = ax.imshow(values, cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
            for j in range(len(ys)):
                for i in range(len(xs)):
                    if no_effect[j, i]:
                        text = "n/e"       # the plan changed nothing: every compressed tensor stayed on chip
                        ax.add_patch(matplotlib.patches.Rectangle((i - 0.5, j - 0.5), 1, 1, facecolor="0.88",
                                                                  edgecolor="0.6", hatch="///", linewidth=0))
                    elif np.isfinite(values[j, i]):
                        text = f"{round(values[j, i]):.0f}".replace("-0", "0") if abs(values[j, i]) < 0.5 \
                            else f"{values[j, i]:.0f}"
                    else:
                        text = "-"
                    ax.text(i, j, text, ha="center", va="center", fontsize=6,
                            color="black" if not np.isfinite(values[j, i]) or abs(values[j, i]) < 0.6 * limit else "white")
            ax.set_xticks(range(len(xs)))
            ax.set_xticklabels(xs, fontsize=6)
            ax.set_yticks(range(len(ys)))
            ax.set_yticklabels(ys if col == 0 else [], fontsize=6)
            # A pipeline plan is named <network>_<method>_<budget>: the panel's network need not repeat.
            ax.set_title(f"{network}: {plans[col].removeprefix(network + '_')}", fontsize=8)
            if row == rows - 1:
                ax.set_xlabel(x_axis, fontsize=7)
            if col == 0 and y_axis:
                ax.set_ylabel(y_axis, fontsize=7)
    if image is not None:
        bar = fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, extend="both")
        bar.set_label("energy saving vs. 'none' (%); negative: compression costs energy")
    title = "Energy saving of each plan over 'none'"
    if fixed:
        title += f" ({describe(fixed)})"
    fig.suptitle(title + "; n/e: the plan changes nothing (activations stay on chip)", fontsize=9)
    return save(fig, out_dir, name)


# ---- report.md -------------------------------------------------------------------------------

def fmt_ratio(text):
    value = number(text)
    return "" if math.isnan(value) else f"{value:.3f}"


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def totals_table(sweep, at):
    rows = []
    for network in sweep.networks:
        for plan in sweep.plans[network]:
            r = sweep.row(network, plan, at)
            if not r:
                continue
            activation = number(r["activation_read_bytes"]) + number(r["activation_write_bytes"])
            rows.append([network, plan,
                         f"{number(r['dram_bytes']) / MIB:.2f}", fmt_ratio(r["dram_bytes_vs_none"]),
                         f"{activation / MIB:.2f}", fmt_ratio(r["activation_bytes_vs_none"]),
                         f"{number(r['projection_matrix_read_bytes']) / MIB:.2f}",
                         f"{number(r['energy_pj']) * UJ_PER_PJ:.1f}", fmt_ratio(r["energy_vs_none"]),
                         f"{number(r['cycles']) / 1e6:.2f}", fmt_ratio(r["cycles_vs_none"]),
                         f"{r['layers_spilled']}/{r['layers']}", r["plan_effect"]])
    header = ["network", "plan", "DRAM MiB", "vs none", "activation MiB", "vs none", "projection-matrix MiB",
              "energy µJ", "vs none", "Mcycles", "vs none", "layers spilled", "plan effect"]
    return markdown_table(header, rows)


def no_effect_section(sweep):
    compressed = [p for p in sweep.finished if not sweep.is_baseline(p["network"], p["plan"])]
    idle = [p for p in compressed if p["plan_effect"] == "no_effect"]
    lines = ["## Where compression buys nothing", ""]
    if not compressed:
        return lines + ["The sweep has no compressed plans.", ""]
    if not idle:
        return lines + [f"Every compressed point ({len(compressed)}) stored at least one compressed activation in "
                        "DRAM: no plan was idle at any swept setting.", ""]
    lines += [f"**{len(idle)} of {len(compressed)} compressed points change nothing**: every activation the plan "
              "compresses stays in the on-chip buffer (`spill_when_needed`), so DRAM traffic and energy equal the "
              "`none` plan's. This is a result, not a failure: at these settings the buffer already removes the "
              "activation traffic compression targets.", ""]
    header = ["network", "plan"] + sweep.axes + ["layers spilled", "energy vs none"]
    rows = [[p["network"], p["plan"]] + [p[a] for a in sweep.axes] + [f"{p['layers_spilled']}/{p['layers']}",
                                                                      fmt_ratio(p["energy_vs_none"])] for p in idle]
    return lines + [markdown_table(header, rows), ""]


def costlier_section(sweep):
    worse = [p for p in sweep.finished if number(p.get("energy_vs_none", "")) > 1.0]
    if not worse:
        return []
    worse.sort(key=lambda p: -number(p["energy_vs_none"]))
    header = ["network", "plan"] + sweep.axes + ["energy vs none", "DRAM bytes vs none", "projection-matrix MiB"]
    rows = [[p["network"], p["plan"]] + [p[a] for a in sweep.axes] +
            [fmt_ratio(p["energy_vs_none"]), fmt_ratio(p["dram_bytes_vs_none"]),
             f"{number(p['projection_matrix_read_bytes']) / MIB:.2f}"] for p in worse[:15]]
    return ["## Where compression costs energy", "",
            f"{len(worse)} points use more energy than their `none` plan. What can outweigh the activation "
            "traffic saved: the projection matrices (16-bit where `datatypes.matrix_bits` is 16) and their "
            "re-fetches when they do not fit `projection.matrix_buffer_kib`; decoders where folding is off; "
            "weights re-read per row tile when the encoder's partial sums force rows outside; the projection and "
            "quantization work and the time it adds. The 15 largest:", "", markdown_table(header, rows), ""]


def layer_metrics(sweep, point_id, metrics):
    """layer -> metric -> value for one point, read from results.csv."""
    out = OrderedDict()
    path = os.path.join(sweep.dir, "results.csv")
    try:
        with open(path, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                if r["point"] != point_id or r["layer"] == "total" or r["metric"] not in metrics:
                    continue
                out.setdefault(r["layer"], {})[r["metric"]] = float(r["value"])
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror})") from e
    return out


def pays(p):
    return number(p.get("energy_vs_none", "")) < 1.0 and number(p.get("dram_bytes_vs_none", "")) < 1.0


def ideal_realised(sweep, p):
    """Share of the ideal energy saving a point realises. Ideal: compressed activations cost only
    their coefficient bits (the plan's activation bytes at the `none` run's DRAM energy per byte),
    with no side data, projection work, or tiling change."""
    base = baseline_row(sweep, p)
    if base is None:
        return math.nan
    act = lambda r: number(r["activation_read_bytes"]) + number(r["activation_write_bytes"])
    pj_per_byte = number(base["dram_energy_pj"]) / max(1.0, number(base["dram_bytes"]))
    ideal = pj_per_byte * (act(base) - act(p))
    realised = number(base["energy_pj"]) - number(p["energy_pj"])
    return realised / ideal if ideal > 0 else math.nan


def baseline_row(sweep, p):
    for q in sweep.finished:
        if q["network"] == p["network"] and sweep.is_baseline(q["network"], q["plan"]) and \
                all(q[a] == p[a] for a in sweep.axes):
            return q
    return None


def pays_section(sweep, at):
    compressed = [p for p in sweep.finished if not sweep.is_baseline(p["network"], p["plan"])]
    if not compressed:
        return []
    paying = [p for p in compressed if pays(p)]
    lines = ["## Where compression pays", "",
             f"**{len(paying)} of {len(compressed)} compressed points spend less energy and move fewer DRAM bytes "
             "than `none`** at the same network and axis values. Per plan over every swept design point (ratios "
             "to `none`; below 1: compression pays):", ""]
    rows = []
    for network in sweep.networks:
        for plan in sweep.plans[network]:
            ps = [p for p in compressed if p["network"] == network and p["plan"] == plan]
            if not ps:
                continue
            e = sorted(number(p["energy_vs_none"]) for p in ps)
            d = sorted(number(p["dram_bytes_vs_none"]) for p in ps)
            best = min(ps, key=lambda p: number(p["energy_vs_none"]))
            ref = sweep.row(network, plan, at)
            rows.append([network, plan, f"{sum(pays(p) for p in ps)}/{len(ps)}",
                         fmt_ratio(ref["energy_vs_none"]) if ref else "", fmt_ratio(ref["dram_bytes_vs_none"]) if ref else "",
                         f"{ideal_realised(sweep, ref) * 100:.0f}%" if ref else "",
                         f"{e[0]:.3f} .. {e[len(e) // 2]:.3f} .. {e[-1]:.3f}",
                         f"{d[0]:.3f} .. {d[len(d) // 2]:.3f} .. {d[-1]:.3f}",
                         ", ".join(f"{a}={best[a]}" for a in sweep.axes)])
    lines += [markdown_table(["network", "plan", "points that pay", "energy at reference", "DRAM at reference",
                              "ideal saving realised at reference", "energy min .. median .. max",
                              "DRAM min .. median .. max", "lowest energy at"], rows), ""]
    lines += [f"Reference: {describe(at)}. *Ideal saving realised*: the plan's energy saving over the saving it "
              "would have if compressed activations cost only their coefficient bits at the `none` run's DRAM "
              "energy per byte (no side data, projection work or tiling change); above 100% the plan also saves "
              "weights and MACs (folded consumers).", ""]
    # Break-even: which design parameters make the saving positive.
    lines += ["### Break-even: which design parameters make compression pay", "",
              "Share of compressed points that pay, and the median energy ratio, per value of each axis (all "
              "other axes and plans pooled):", ""]
    rows = []
    for axis in sweep.axes:
        for value in sweep.axis_values[axis]:
            ps = [p for p in compressed if p[axis] == value]
            if not ps:
                continue
            e = sorted(number(p["energy_vs_none"]) for p in ps)
            rows.append([axis, value, f"{sum(pays(p) for p in ps)}/{len(ps)}", f"{e[len(e) // 2]:.3f}"])
    lines += [markdown_table(["axis", "value", "points that pay", "median energy vs none"], rows), ""]
    estimates = [number(p.get("estimate_energy_ratio", "")) for p in sweep.finished]
    estimates = [x for x in estimates if x > 0]
    if estimates:
        worst = max(abs(x - 1.0) for x in estimates)
        dram = [number(p.get("estimate_dram_bytes_ratio", "")) for p in sweep.finished]
        worst_dram = max((abs(x - 1.0) for x in dram if x > 0), default=math.nan)
        lines += [f"The fast cost model (the hardware-aware greedy's cost function) against the simulation over all "
                  f"{len(estimates)} points: energy within {worst * 100:.2f}%, DRAM bytes within "
                  f"{worst_dram * 100:.3f}% (summary.json `estimate` of every point).", ""]
    return lines


# The saving a deployment aims for (issue 9): at most these ratios to `none`.
AIM_DRAM_RATIO, AIM_ENERGY_RATIO = 0.80, 0.95


def activation_bytes(r):
    return number(r["activation_read_bytes"]) + number(r["activation_write_bytes"])


def needed_activation_ratio(share, aim):
    """Activation bytes (as a ratio to `none`) that reach `aim` if nothing else changes, for an
    activation share `share` of the quantity; nan when even removing every activation cannot."""
    return 1.0 - (1.0 - aim) / share if share > (1.0 - aim) else math.nan


def limiting_term(ratio, aim, needed, reached):
    """The term that keeps a plan from its aim: none when met; the weights (and PE work) when
    removing every activation could not reach it; the accuracy frontier when the plan's
    activations shrink less than needed; otherwise what the plan adds back (side data, projection
    work, tiling changes)."""
    if ratio <= aim:
        return "met"
    if math.isnan(needed):
        return "weights and compute (activations too small a share)"
    if reached > needed:
        return "accuracy frontier (activations shrink too little)"
    return "side data, projection work and tiling"


def meets_aims(p):
    return number(p["dram_bytes_vs_none"]) <= AIM_DRAM_RATIO and number(p["energy_vs_none"]) <= AIM_ENERGY_RATIO


def bounds_section(sweep, at):
    """Why a plan stops where it does: the activations' share of the `none` run's DRAM bytes and
    energy bounds any saving that only shrinks activations; folding's weight and MAC savings are
    the only way past it. Also where in the swept space each plan does reach the aims."""
    rows, reach = [], []
    for network in sweep.networks:
        base = next((sweep.row(network, pl, at) for pl in sweep.plans[network] if sweep.is_baseline(network, pl)), None)
        if base is None:
            continue
        byte_share = activation_bytes(base) / max(1.0, number(base["dram_bytes"]))
        pj_per_byte = number(base["dram_energy_pj"]) / max(1.0, number(base["dram_bytes"]))
        energy_share = activation_bytes(base) * pj_per_byte / max(1.0, number(base["energy_pj"]))
        need_dram = needed_activation_ratio(byte_share, AIM_DRAM_RATIO)
        need_energy = needed_activation_ratio(energy_share, AIM_ENERGY_RATIO)
        for plan in sweep.plans[network]:
            r = sweep.row(network, plan, at)
            if r is None or sweep.is_baseline(network, plan):
                continue
            fmt = lambda v: "unreachable" if math.isnan(v) else f"{v:.3f}"
            reached = number(r["activation_bytes_vs_none"])
            rows.append([network, plan, f"{byte_share * 100:.0f}%", f"{energy_share * 100:.0f}%",
                         fmt(need_dram), fmt(need_energy), fmt_ratio(r["activation_bytes_vs_none"]),
                         f"{number(r['projection_matrix_read_bytes']) / MIB:.2f}",
                         fmt_ratio(r["dram_bytes_vs_none"]), fmt_ratio(r["energy_vs_none"]),
                         limiting_term(number(r["dram_bytes_vs_none"]), AIM_DRAM_RATIO, need_dram, reached),
                         limiting_term(number(r["energy_vs_none"]), AIM_ENERGY_RATIO, need_energy, reached)])
            hits = [p for p in sweep.finished if p["network"] == network and p["plan"] == plan and meets_aims(p)]
            where = "; ".join(", ".join(f"{a}={p[a]}" for a in sweep.axes if p[a] != at.get(a)) or "reference"
                              for p in hits[:4])
            reach.append([network, plan, f"{len(hits)}/{sum(1 for p in sweep.finished if p['network'] == network and p['plan'] == plan)}",
                          where + (" ..." if len(hits) > 4 else "")])
    if not rows:
        return []
    header = ["network", "plan", "activations' share of none's DRAM bytes", "their share of none's energy",
              f"activation ratio needed for {AIM_DRAM_RATIO} DRAM", f"for {AIM_ENERGY_RATIO} energy",
              "activation ratio reached", "side data MiB", "DRAM vs none", "energy vs none",
              f"what stops {AIM_DRAM_RATIO}x DRAM", f"what stops {AIM_ENERGY_RATIO}x energy"]
    return ["### What bounds the saving", "",
            f"At {describe(at)}. A plan that only shrinks activations can cut at most their share of the `none` "
            f"run's DRAM bytes and energy. The *needed* columns give the activation bytes (ratio to `none`) that "
            f"reach {AIM_DRAM_RATIO}x DRAM bytes or {AIM_ENERGY_RATIO}x energy if nothing else changed; the plan's "
            "side data (projection matrices, means, scales) and projection work must be paid on top, and only "
            "folded consumers (fewer weight bytes and MACs) save beyond the activations. The last two columns "
            "name the term that forbids each aim: the accuracy frontier when the plan's activations shrink less "
            "than needed (how far they shrink within the accuracy budget), what the plan adds back when they "
            "shrink enough, the weights when even removing every activation could not reach the aim.", "",
            markdown_table(header, rows), "",
            f"Where in the swept space each plan reaches both aims (DRAM <= {AIM_DRAM_RATIO}x and energy <= "
            f"{AIM_ENERGY_RATIO}x of `none`; axis values that differ from the reference):", "",
            markdown_table(["network", "plan", "points reaching both aims", "at"], reach), ""]


def waterfall_section(sweep, at, out_dir):
    """Per layer, for one network: what its hardware-aware plan saves and adds against `none`."""
    plans = [(n, pl) for n in sweep.networks for pl in sweep.plans[n] if "energy" in pl]
    if not plans:
        return []
    network, plan = plans[0]
    row, base = sweep.row(network, plan, at), None
    if row is not None:
        base = baseline_row(sweep, row)
    if row is None or base is None:
        return []
    metrics = ["activation_read_bytes", "activation_write_bytes", "projection_matrix_read_bytes",
               "projection_energy_pj", "quantization_energy_pj", "energy_pj", "macs", "weight_read_bytes"]
    mine, none = layer_metrics(sweep, row["point"], metrics), layer_metrics(sweep, base["point"], metrics)
    table, names, saved_act, added_side, added_proj, saved_macs = [], [], [], [], [], []
    for layer, m in mine.items():
        n = none.get(layer, {})
        act = (n.get("activation_read_bytes", 0) + n.get("activation_write_bytes", 0)) - \
              (m.get("activation_read_bytes", 0) + m.get("activation_write_bytes", 0))
        side = m.get("projection_matrix_read_bytes", 0)
        proj = m.get("projection_energy_pj", 0) + m.get("quantization_energy_pj", 0) - \
            n.get("projection_energy_pj", 0) - n.get("quantization_energy_pj", 0)
        macs = n.get("macs", 0) - m.get("macs", 0)
        energy = n.get("energy_pj", 0) - m.get("energy_pj", 0)
        if act == 0 and side == 0 and proj == 0 and macs == 0:
            continue
        names.append(layer)
        saved_act.append(act / 1024)
        added_side.append(side / 1024)
        added_proj.append(proj * 1e-6)
        saved_macs.append(macs / 1e6)
        table.append([layer, f"{act / 1024:.1f}", f"{side / 1024:.1f}", f"{(n.get('weight_read_bytes', 0) - m.get('weight_read_bytes', 0)) / 1024:.1f}",
                      f"{proj * 1e-6:.2f}", f"{macs / 1e6:.2f}", f"{energy * 1e-6:.2f}"])
    if not table:
        return []
    fig, axes = plt.subplots(3, 1, figsize=(max(6.0, 0.16 * len(names) + 2), 6.0), sharex=True)
    x = np.arange(len(names))
    axes[0].bar(x, saved_act, color="tab:green", label="activation KiB saved")
    axes[0].bar(x, [-v for v in added_side], color="tab:red", label="side data KiB added")
    axes[0].set_ylabel("DRAM KiB")
    axes[1].bar(x, [-v for v in added_proj], color="tab:orange", label="projection + quantization µJ added")
    axes[1].set_ylabel("µJ")
    axes[2].bar(x, saved_macs, color="tab:blue", label="MMACs saved by folding")
    axes[2].set_ylabel("MMACs")
    for ax in axes:
        ax.axhline(0, color="black", linewidth=0.5)
        ax.legend(loc="best")
    axes[2].set_xticks(x)
    axes[2].set_xticklabels(names, rotation=90, fontsize=6)
    fig.suptitle(f"{network}, {plan} against none ({describe(at)})", fontsize=8)
    name = save(fig, out_dir, "waterfall")
    header = ["layer", "activation KiB saved", "side data KiB added", "weight KiB saved", "projection + quantization µJ added",
              "MMACs saved", "energy µJ saved"]
    return ["### Per layer: where the saving comes from", "",
            f"{network} with `{plan}` against `none` at {describe(at)}: activation bytes saved, side data "
            "(matrices, means, scales) added, projection and quantization energy added, and weights and MACs "
            "saved where a consumer folds its decoder. Layers the plan leaves alone are omitted.", "",
            f"![Per-layer waterfall]({name})", "", markdown_table(header, table), ""]


def failures_section(sweep):
    failed = [p for p in sweep.points if p["status"] != "finished"]
    if not failed:
        return []
    header = ["point", "status", "network", "plan"] + sweep.axes + ["error"]
    rows = [[p["point"], p["status"], p["network"], p["plan"]] + [p[a] for a in sweep.axes] +
            [p["error"].splitlines()[0][:160].replace("|", "\\|") if p["error"] else ""] for p in failed]
    return ["## Points without results", "", f"{len(failed)} points failed or are missing (failed points keep "
            "their error in `points/<id>/point.json` and `stderr.log`).", "", markdown_table(header, rows), ""]


def write_report(sweep, at, figures, curves_note, out_dir):
    m = sweep.manifest
    counts = defaultdict(int)
    for p in sweep.points:
        counts[p["status"]] += 1
    axes_lines = [f"- `{a}`: {', '.join(sweep.axis_values[a])}" for a in sweep.axes] or ["- (no axes)"]
    fixed = m.get("set") or {}
    lines = [f"# Sweep report: {m['sweep']['name']}", "",
             f"- sweep file `{m['sweep']['file']}`, base architecture `{m['arch']}`",
             f"- capsim {m['capsim_version']}" + (f", commit `{m['git_commit']}`" if m.get("git_commit") else ""),
             f"- {len(sweep.points)} points: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())),
             "- networks and plans: " + "; ".join(f"{n} ({', '.join(sweep.plans[n])})" for n in sweep.networks)]
    if fixed:
        lines.append("- fixed for every point: " + ", ".join(f"`{k}` = {v}" for k, v in fixed.items()))
    lines += ["- axes:"] + ["  " + line for line in axes_lines] + [""]
    lines += ["Ratios are a plan's value over the `none` plan's at the same network and axis values (below 1: "
              "compression helps). Regenerate with `capsim report " + sweep.dir + "`.", ""]

    lines += pays_section(sweep, at)
    lines += bounds_section(sweep, at)
    lines += waterfall_section(sweep, at, out_dir)
    lines += [f"## Totals at {describe(at)}", "", totals_table(sweep, at), ""]
    lines += no_effect_section(sweep)
    lines += costlier_section(sweep)

    lines += ["## Accuracy versus activation memory-access reduction", ""]
    if figures.get("accuracy"):
        lines += [curves_note, "", f"![Accuracy versus reduction]({figures['accuracy']})", "",
                  curves_table(figures["curves"]), ""]
    else:
        lines += [curves_note, ""]
    if figures.get("layers"):
        lines += ["## DRAM traffic per layer", "", f"At {describe(at)}; the grey bars are the `none` baseline.", "",
                  f"![DRAM traffic per layer]({figures['layers']})", ""]
    if figures.get("energy"):
        lines += ["## Energy breakdown", "", f"At {describe(at)}.", "", f"![Energy breakdown]({figures['energy']})", ""]
    if figures.get("reduction"):
        lines += ["## Energy saving over the swept hardware", "",
                  "Each cell: energy saving of the plan over `none` in percent (negative: compression costs "
                  "energy); `n/e`: the plan changes nothing at that point.", ""]
        for fixed_axes, name in figures["reduction"]:
            caption = f"Energy saving ({describe(fixed_axes)})" if fixed_axes else "Energy saving"
            lines += [f"![{caption}]({name})", ""]
    lines += failures_section(sweep)
    lines += ["## Files", "", "Every figure is written as PDF (TrueType fonts embedded) and PNG. The tables come from "
              "`points.csv` (one row per point) and `results.csv` (tidy, one row per metric per layer); see "
              "docs/reports.md.", ""]
    with open(os.path.join(out_dir, "report.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


# ---- main ------------------------------------------------------------------------------------

def load_curves(sweep):
    rows = []
    required = ["network", "method", "plan", "reduction_vs_b8", "reduction_vs_b16", "reduction_vs_b8_with_overhead",
                "reduction_vs_b16_with_overhead", "val_accuracy", "test_accuracy"]
    for relative in sweep.manifest.get("accuracy_curves", []):
        rows += read_csv(os.path.join(sweep.dir, relative), required)
    return rows


def install(staging, out_dir):
    """Moves the files drawn in staging into out_dir (created when missing), report.md last."""
    created = not os.path.isdir(out_dir)
    try:
        os.makedirs(out_dir, exist_ok=True)
        names = sorted(os.listdir(staging), key=lambda n: (n == "report.md", n))
        for name in names:
            with open(os.path.join(staging, name), "rb") as f:
                os.fsync(f.fileno())
        for name in names:
            os.replace(os.path.join(staging, name), os.path.join(out_dir, name))
        os.rmdir(staging)
    except OSError:
        if created and os.path.isdir(out_dir) and not os.listdir(out_dir):
            os.rmdir(out_dir)
        raise


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sweep_dir")
    parser.add_argument("--out", help="report directory (default: SWEEP_DIR/report)")
    parser.add_argument("--at", action="append", default=[], metavar="KEY=VALUE",
                        help="axis value for the figures drawn at one point (default: each axis's first value)")
    args = parser.parse_args(argv)
    out_dir = None
    staging = None
    try:
        sweep = Sweep(args.sweep_dir)
        at = reference_point(sweep, args.at)
        out_dir = args.out or os.path.join(args.sweep_dir, "report")
        # Everything is drawn into a staging directory beside OUT and moved in when complete
        # (report.md last): a full or read-only disk leaves the previous report as it was, or none.
        parent = os.path.dirname(os.path.abspath(out_dir))
        os.makedirs(parent, exist_ok=True)
        staging = tempfile.mkdtemp(prefix="." + os.path.basename(os.path.abspath(out_dir)) + ".tmp.", dir=parent)
        curves = load_curves(sweep)
        figures = {}
        if curves:
            figures["accuracy"] = accuracy_figure(curves, staging)
            figures["curves"] = curves
            curves_note = ("From the compression pipeline's accuracy curves (" +
                           ", ".join(f"`{c}`" for c in sweep.manifest["accuracy_curves"]) + "). Solid: reduction "
                           "of activation memory accesses against 8-bit activations; dashed: the same with the "
                           "projection matrices' traffic counted.")
        else:
            curves_note = "No accuracy curves: list the compression pipeline's CSVs under `accuracy_curves:` in " \
                          "the sweep file."
        if sweep.finished:
            figures["layers"] = layer_traffic_figure(sweep, at, staging)
            figures["energy"] = energy_breakdown_figure(sweep, at, staging)
            figures["reduction"] = energy_reduction_figures(sweep, at, staging)
        write_report(sweep, at, figures, curves_note, staging)
        install(staging, out_dir)
    except BadInput as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        if staging:
            shutil.rmtree(staging, ignore_errors=True)
        print(f"error: --out {out_dir}: cannot write the report: {e.strerror or e}"
              f"{' (' + e.filename + ')' if e.filename else ''} (nothing was written; expected a writable "
              f"directory with free space)", file=sys.stderr)
        return 2
    written = sorted(f for f in os.listdir(out_dir) if f.endswith((".md", ".pdf", ".png")))
    print(f"capsim report: wrote {len(written)} files to {out_dir} (report.md and "
          f"{sum(f.endswith('.pdf') for f in written)} figures as PDF and PNG)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
