#!/usr/bin/python3
"""Helpers of scripts/selection_bias.

  selection_bias.py labels STUDY CURVE MAX_DROP   the curve's plans with a validation drop up to MAX_DROP
  selection_bias.py plan STUDY CURVE LABEL OUT   write the plan file of one curve point
  selection_bias.py table MEASURED OUT           merge measured test accuracies into OUT and summarise
  selection_bias.py rules OUT [CONFIDENCE...]    the study's selection at other selection confidences
  selection_bias.py check STUDY...               the plans it writes equal the study's exported plans
"""
import csv
import json
import os
import statistics
import sys
import tempfile


def curve_row(study, curve, label):
    with open(f"{study}/curve_{curve}.csv") as f:
        for row in csv.DictReader(f):
            if row["label"] == label:
                return row
    sys.exit(f"selection_bias: {study}/curve_{curve}.csv has no plan '{label}'")


def labels(study, curve, max_val_drop):
    """The curve's plans whose validation drop is at most max_val_drop (a fraction), one per line."""
    with open(f"{study}/curve_{curve}.csv") as f:
        for row in csv.DictReader(f):
            if float(row["val_drop"]) <= float(max_val_drop):
                print(row["label"])


def write_plan(study, curve, label, out):
    """A capsim-plan of a curve point: its dims are (k:bits) per point in calibration order."""
    points = []
    with open(f"{study}/explained_variance.csv") as f:
        for row in csv.DictReader(f):
            if not points or points[-1][0] != row["point"]:
                points.append((row["point"], int(row["channels"])))
    row = curve_row(study, curve, label)
    dims = row["dims"].split(";")
    if len(dims) != len(points):
        sys.exit(f"selection_bias: {curve} {label} has {len(dims)} points, the calibration {len(points)}")
    network = os.path.basename(study.rstrip("/"))
    lines = ["format: capsim-plan", "version: 1", f'name: "{network}_{curve}_{label}"', f"model: {network}",
             f"method: {curve}", "bits: 8"]
    if curve.endswith("_components"):
        lines.append("component_bits: variance")
    lines.append("layers:")
    for (name, channels), d in zip(points, dims):
        k, bits = d.split(":") if ":" in d else (d, "8")  # k-only curves store every point at 8 bits
        lines.append(f"  {name}: {{channels: {channels}, k: {k}, bits: {bits}}}")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


def selected_plans(summary, curve):
    """Plans the study selected at any budget and measure (against 8 or 16 bits, with side data or not)."""
    plans = set()
    for budget in summary["methods"].get(curve, {}).values():
        plans.update(entry["plan"] for entry in budget.values())
    return plans


FIELDS = ["network", "curve", "plan", "reduction_vs_b8", "selected", "val_drop_points", "test_accuracy",
          "study_test_accuracy", "test_drop_points", "test_minus_val_points"]


def table(measured, out):
    rows = {}
    if os.path.exists(out):
        with open(out) as f:
            for r in csv.DictReader(f):
                rows[(r["network"], r["curve"], r["plan"])] = r
    with open(measured) as f:
        fresh = [line.strip().split(",") for line in f if line.strip()]
    # Fresh measurements replace their rows; rows whose plan is no longer on its curve (a
    # regenerated study) are dropped.
    current = {}
    for network, curve in {(n, c) for n, c, *_ in rows}:
        study = f"results/study/{network}"
        if os.path.exists(f"{study}/curve_{curve}.csv"):
            current[(network, curve)] = {r["label"] for r in curve_rows(study, curve)}
    rows = {k: v for k, v in rows.items() if k[2] in current.get(k[:2], ())}
    for network, curve, label, accuracy in fresh:
        study = f"results/study/{network}"
        with open(f"{study}/summary.json") as f:
            summary = json.load(f)
        reference = 100 * summary["references"]["b8"]["test_accuracy"]
        row = curve_row(study, curve, label)
        val = 100 * float(row["val_drop"])
        test = reference - float(accuracy)
        tested = row.get("test_accuracy", "") not in ("", "nan")
        rows[(network, curve, label)] = {
            "network": network, "curve": curve, "plan": label,
            "reduction_vs_b8": f"{float(row['reduction_vs_b8']):.2f}",
            "selected": "yes" if label in selected_plans(summary, curve) else "no",
            "val_drop_points": f"{val:+.2f}", "test_accuracy": accuracy,
            "study_test_accuracy": f"{100 * float(row['test_accuracy']):.2f}" if tested else "",
            "test_drop_points": f"{test:+.2f}",
            "test_minus_val_points": f"{test - val:+.2f}"}
    order = {"resnet18": 0, "vgg16": 1, "mobilenetv2": 2}
    keys = sorted(rows, key=lambda k: (order.get(k[0], 9), k[1], float(rows[k]["reduction_vs_b8"])))
    with open(out + ".tmp", "w", newline="") as f:
        w = csv.DictWriter(f, FIELDS, lineterminator="\n")
        w.writeheader()
        for k in keys:
            w.writerow(rows[k])
    os.replace(out + ".tmp", out)
    checked = [abs(float(rows[k]["test_accuracy"]) - float(rows[k]["study_test_accuracy"])) for k in keys
               if rows[k].get("study_test_accuracy")]
    if checked:
        print(f"tool check: {len(checked)} plans the study also tested, test accuracy differs by at most "
              f"{max(checked):.2f} points")
    # All plans, and those whose validation drop lies where selected ones do (up to 1.5 points):
    # selection bias shows as a gap between selected and unselected plans at comparable drops.
    for scope, within in (("all", 100.0), ("validation drop <= 1.5 points", 1.5)):
        for kind in ("yes", "no"):
            d = [float(rows[k]["test_minus_val_points"]) for k in keys
                 if rows[k]["selected"] == kind and float(rows[k]["val_drop_points"]) <= within]
            if d:
                sd = statistics.stdev(d) if len(d) > 1 else 0.0
                positive = sum(1 for x in d if x > 0)
                print(f"{scope}, {'selected' if kind == 'yes' else 'not selected'}: {len(d)} plans, test drop - "
                      f"validation drop {statistics.mean(d):+.2f} points on average (sd {sd:.2f}, "
                      f"{positive} positive)")
    print(f"written {out}")


def curve_rows(study, curve):
    with open(f"{study}/curve_{curve}.csv") as f:
        return list(csv.DictReader(f))


Z = {0.75: 0.6745, 0.9: 1.2816, 0.95: 1.6449, 0.975: 1.96}  # standard normal quantiles


def bound(row, confidence):
    """The validation drop's `confidence` quantile in points: the study's bootstrap bound at its own
    confidence (0.75), else the normal approximation drop + z * se, se from the 95% interval."""
    if confidence == 0.75:
        return 100 * float(row["val_drop_bound"])
    se = 100 * (float(row["val_drop_high"]) - float(row["val_drop_low"])) / (2 * 1.96)
    return 100 * float(row["val_drop"]) + Z[confidence] * se


def rules(out, confidences):
    """Counterfactual selections on the PCA curves: the study's rule (the largest reduction whose
    validation bound meets the budget) at other selection confidences, each selected plan's test
    drop taken from OUT. At the study's confidence it must reproduce the study's selections."""
    with open(out) as f:
        test_drop = {(r["network"], r["curve"], r["plan"]): float(r["test_drop_points"]) for r in csv.DictReader(f)}
    studies = sorted({k[0] for k in test_drop})
    curves = sorted({k[1] for k in test_drop})
    for confidence in confidences:
        selected, met, reductions = 0, 0, []
        for network in studies:
            study = f"results/study/{network}"
            with open(f"{study}/summary.json") as f:
                summary = json.load(f)
            for curve in curves:
                if not os.path.exists(f"{study}/curve_{curve}.csv"):
                    continue
                for budget in summary["budgets"]:
                    passing = [r for r in curve_rows(study, curve) if bound(r, confidence) <= 100 * budget + 1e-9]
                    best = max(passing, key=lambda r: float(r["reduction_vs_b8"]), default=None)
                    label = best["label"] if best else "uncompressed"
                    chosen = summary["methods"][curve][f"{budget:g}"]["vs_b8"]["plan"]
                    if confidence == 0.75 and label != chosen:
                        sys.exit(f"selection_bias: {network} {curve} {budget:g}: rule picks {label}, the study {chosen}")
                    if best and (network, curve, label) not in test_drop:
                        sys.exit(f"selection_bias: {network} {curve} {label} was not measured on test")
                    drop = test_drop[(network, curve, label)] if best else 0.0
                    selected += 1
                    met += drop <= 100 * budget + 1e-9
                    reductions.append(float(best["reduction_vs_b8"]) if best else 1.0)
        print(f"selection confidence {confidence}: {met} of {selected} selections meet their budget on test, "
              f"geometric mean reduction {statistics.geometric_mean(reductions):.3f}x against 8-bit")


def layers_of(text):
    """(k, bits) per layer of a plan file's text (layers at full k and 8 bits are omitted by exports)."""
    layers = {}
    for line in text.splitlines():
        if line.startswith("  ") and "{" in line:
            name, fields = line.strip().split(": ", 1)
            f = dict(item.split(": ") for item in fields.strip("{}").split(", "))
            if int(f["k"]) < int(f["channels"]) or int(f["bits"]) != 8:
                layers[name] = (int(f["k"]), int(f["bits"]))
    return layers


def check(studies):
    """Each PCA mixed plan the study exported, rewritten from its curve row, holds the same (k, bits)."""
    compared = 0
    for study in studies:
        network = os.path.basename(study.rstrip("/"))
        with open(f"{study}/summary.json") as f:
            summary = json.load(f)
        for curve in ("pca_uniform", "pca_variance", "pca_greedy", "pca_mixed", "pca_mixed_components"):
            for budget, entry in summary["methods"].get(curve, {}).items():
                exported = f"{study}/plans/{network}_{curve}_drop{100 * float(budget):g}.yaml"
                if not os.path.exists(exported):
                    continue  # nothing selected at that budget
                with tempfile.TemporaryDirectory() as tmp:
                    out = os.path.join(tmp, "plan.yaml")
                    write_plan(study, curve, entry["vs_b8"]["plan"], out)
                    with open(out) as f:
                        mine = layers_of(f.read())
                with open(exported) as f:
                    theirs = layers_of(f.read())
                if mine != theirs:
                    sys.exit(f"selection_bias: {exported} differs from the plan written from its curve row")
                compared += 1
    if compared == 0:
        sys.exit("selection_bias: no exported plan to compare")
    print(f"{compared} exported plans equal the plans written from their curve rows")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "plan":
        write_plan(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "labels":
        labels(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "table":
        table(*sys.argv[2:])
    elif len(sys.argv) >= 3 and sys.argv[1] == "rules":
        rules(sys.argv[2], [float(c) for c in sys.argv[3:]] or sorted(Z))
    elif len(sys.argv) >= 3 and sys.argv[1] == "check":
        check(sys.argv[2:])
    else:
        sys.exit(__doc__)
