#!/usr/bin/python3
"""Helpers of scripts/selection_bias.

  selection_bias.py labels STUDY CURVE MAX_DROP   the curve's plans with a validation drop up to MAX_DROP
  selection_bias.py plan STUDY CURVE LABEL OUT   write the plan file of one curve point
  selection_bias.py table MEASURED OUT           merge measured test accuracies into OUT and summarise
  selection_bias.py rules OUT [CONFIDENCE...]    the study's selection at other selection confidences
  selection_bias.py check STUDY...               the plans it writes equal the study's exported plans
  selection_bias.py correct PREDICTIONS OUT      which test images each plan gets right, one hex row each
  selection_bias.py noise OUT CORRECT [RESAMPLES] is validation's optimism what 3,000 images' noise gives?
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
    """A capsim-plan of a curve point: its dims are (k:bits) per point in calibration order. Curve
    `reference`, plan `b8`: every point at full dimension and 8 bits (the 8-bit reference)."""
    points = []
    with open(f"{study}/explained_variance.csv") as f:
        for row in csv.DictReader(f):
            if not points or points[-1][0] != row["point"]:
                points.append((row["point"], int(row["channels"])))
    if (curve, label) == ("reference", "b8"):
        dims = [f"{channels}:8" for _, channels in points]
    else:
        dims = curve_row(study, curve, label)["dims"].split(";")
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


def correct(predictions, out):
    """One row per measured plan (and per network's 8-bit reference, curve `reference`): which of the
    test images it classifies correctly, as a bit string in hex (image i is the i-th binary digit,
    most significant first). Fresh predictions replace their rows of OUT; the other rows stay."""
    fields = ["network", "curve", "plan", "images", "correct_images", "correct_hex"]
    rows = {}
    if os.path.exists(out):
        with open(out) as f:
            rows = {(r["network"], r["curve"], r["plan"]): r for r in csv.DictReader(f)}
    labels = test_labels()
    for name in sorted(os.listdir(predictions)):
        network, curve, plan = name[:-len(".csv")].split(",")
        with open(os.path.join(predictions, name)) as f:
            r = list(csv.DictReader(f))
        if [int(x["label"]) for x in r] != labels:
            sys.exit(f"selection_bias: {name}: its labels are not those of {TEST_LABELS} in order")
        bits = "".join("1" if x["label"] == x["prediction"] else "0" for x in r)
        rows[(network, curve, plan)] = {"network": network, "curve": curve, "plan": plan, "images": len(bits),
                                        "correct_images": bits.count("1"), "correct_hex": bits_to_hex(bits)}
    with open(out + ".tmp", "w", newline="") as f:
        w = csv.DictWriter(f, fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows[k] for k in sorted(rows))
    os.replace(out + ".tmp", out)
    print(f"written {out} ({len(rows)} rows)")


def bits_to_hex(bits):
    padded = bits + "0" * (-len(bits) % 4)
    return "".join(f"{int(padded[i:i + 4], 2):x}" for i in range(0, len(padded), 4))


def hex_to_bits(text, images):
    return "".join(f"{int(c, 16):04b}" for c in text)[:images]


def load_correct(path):
    """{(network, curve, plan): numpy bool vector over the test images}."""
    import numpy as np
    table = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            bits = hex_to_bits(r["correct_hex"], int(r["images"]))
            v = np.frombuffer(bits.encode(), dtype=np.uint8) == ord("1")
            if int(v.sum()) != int(r["correct_images"]):
                sys.exit(f"selection_bias: {path}: {r['network']} {r['curve']} {r['plan']} decodes to "
                         f"{int(v.sum())} correct images, the row says {r['correct_images']}")
            table[(r["network"], r["curve"], r["plan"])] = v
    return table


TEST_LABELS = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"
VAL_PER_CLASS = 300  # configs/study/*.yaml validation.images_per_class (the same 3,000 images for all three)


def test_labels():
    import gzip
    with gzip.open(TEST_LABELS) as f:
        data = f.read()
    if int.from_bytes(data[:4], "big") != 2049:
        sys.exit(f"selection_bias: {TEST_LABELS} is not an IDX label file")
    return list(data[8:8 + int.from_bytes(data[4:8], "big")])


def noise(out, correct_path, resamples, seed=1):
    """Is the validation drops' optimism what sampling noise of 3,000 images gives? The null
    hypothesis: the validation set is a class-balanced sample of the population the test set samples.
    Resampling the test images gives, for every plan at once (the validation images are shared by
    all plans of all three networks, so their errors are correlated), pseudo-validation sets of 300
    images per class and bootstrap test sets of 1,000 per class; the observed mean (test drop -
    validation drop) is compared with its distribution. The same resamples replay the study's
    selection rule (largest reduction whose bound meets the budget; the bound from the normal
    approximation of the paired drop) and count selections missing their budget on test."""
    import numpy as np
    labels = np.array(test_labels())
    correct = load_correct(correct_path)
    with open(out) as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for key in ((r["network"], r["curve"], r["plan"]), (r["network"], "reference", "b8")):
            if key not in correct:
                sys.exit(f"selection_bias: {correct_path} has no test predictions of {' '.join(key)}")
    networks = sorted({r["network"] for r in rows})
    # Paired differences per image: +1 where the reference is right and the plan wrong, -1 reversed.
    diff = []
    for r in rows:
        ref = correct[(r["network"], "reference", "b8")].astype(np.int8)
        d = ref - correct[(r["network"], r["curve"], r["plan"])].astype(np.int8)
        if abs(100 * d.mean() - float(r["test_drop_points"])) > 0.006:
            sys.exit(f"selection_bias: {r['network']} {r['curve']} {r['plan']}: its predictions give a test drop "
                     f"of {100 * d.mean():+.2f} points, {out} says {r['test_drop_points']}")
        diff.append(d)
    diff = np.array(diff, dtype=np.float32)                      # plans x images
    discordant = np.abs(diff)
    val = np.array([float(r["val_drop_points"]) for r in rows])
    test = 100 * diff.mean(axis=1)
    observed = test - val
    rng = np.random.default_rng(seed)
    classes = [np.flatnonzero(labels == c) for c in range(10)]

    def weights(per_class):
        w = np.zeros((resamples, labels.size), dtype=np.float32)
        for members in classes:
            w[:, members] = rng.multinomial(per_class, np.full(members.size, 1 / members.size), size=resamples)
        return w

    n_val = VAL_PER_CLASS * len(classes)
    w_val, w_test = weights(VAL_PER_CLASS), weights(labels.size // len(classes))
    val_sim = 100 * (w_val @ diff.T) / n_val                     # resamples x plans, points
    test_sim = 100 * (w_test @ diff.T) / labels.size
    offset_sim = test_sim - val_sim
    # Scale check against the closed form: the offset of one plan has variance
    # (q - m^2) (1/n_val + 1/n_test), q its discordant fraction, m its drop (stratifying by class only
    # lowers it slightly). A wrong weighting or normalisation shows here.
    q, m = discordant.mean(axis=1), diff.mean(axis=1)
    analytic = 100 * np.sqrt((q - m ** 2) * (1 / n_val + 1 / labels.size))
    ratio = offset_sim.std(axis=0) / analytic
    if not 0.95 <= ratio.mean() <= 1.03:
        sys.exit(f"selection_bias: resampled offsets' sd is {ratio.mean():.3f}x the closed form")
    print(f"resampled sd of one plan's offset / closed form: {ratio.mean():.3f} (min {ratio.min():.3f}, "
          f"max {ratio.max():.3f}; class-balanced sampling only lowers it)")

    def summary(name, mask):
        o = observed[mask].mean()
        sim = offset_sim[:, mask].mean(axis=1)
        lo, hi = np.quantile(sim, [0.025, 0.975])
        print(f"{name}: {mask.sum()} plans, observed mean (test - validation drop) {o:+.2f} points; "
              f"noise alone {sim.mean():+.2f} [{lo:+.2f}, {hi:+.2f}], at least as large in "
              f"{100 * (sim >= o).mean():.1f}% of {resamples} resamples")

    summary("all plans", np.ones(len(rows), bool))
    for network in networks:
        summary(network, np.array([r["network"] == network for r in rows]))
    for kind in ("yes", "no"):
        summary("selected" if kind == "yes" else "not selected", np.array([r["selected"] == kind for r in rows]))
    positive_sim = (offset_sim > 0).sum(axis=1)
    print(f"plans with a positive offset: observed {(observed > 0).sum()} of {len(rows)}; noise alone "
          f"{np.median(positive_sim):.0f} (median), at least as many in "
          f"{100 * (positive_sim >= (observed > 0).sum()).mean():.1f}% of resamples")
    corr = np.corrcoef(offset_sim.T)
    print(f"one plan's offset: sd {offset_sim.std(axis=0).mean():.2f} points from noise; mean correlation "
          f"between two plans' offsets {corr[np.triu_indices(len(rows), 1)].mean():.2f} (shared images)")
    reference_gap(rows, correct, networks, w_val, w_test, n_val, labels.size, offset_sim, observed)
    replay_selection(rows, diff, discordant, w_val, n_val, val_sim, test_sim, test, val)


def reference_gap(rows, correct, networks, w_val, w_test, n_val, n_test, offset_sim, observed):
    """The 8-bit references are more accurate on test than on validation on all three networks. The
    same draw of validation images moves both: on a set where the reference errs more, a plan has
    more images it can only fix, so its drop is lower. The mean offset given the observed gap."""
    import numpy as np
    gap_sim = np.zeros(offset_sim.shape[0])
    gap = 0.0
    for network in networks:
        ref = correct[(network, "reference", "b8")].astype(np.float32)
        gap_sim += 100 * (w_test @ ref / n_test - w_val @ ref / n_val) / len(networks)
        with open(f"results/study/{network}/summary.json") as f:
            b8 = json.load(f)["references"]["b8"]
        gap += 100 * (b8["test_accuracy"] - b8["val_accuracy"]) / len(networks)
    mean_offset = offset_sim.mean(axis=1)
    slope, intercept = np.polyfit(gap_sim, mean_offset, 1)
    near = np.abs(gap_sim - gap) <= 0.1
    print(f"8-bit reference, test - validation accuracy averaged over the networks: {gap:+.2f} points (noise "
          f"alone: sd {gap_sim.std():.2f}); the mean offset rises {slope:+.2f} points per point of it, so noise "
          f"alone predicts {intercept + slope * gap:+.2f} at the observed gap; among the {near.sum()} resamples "
          f"within 0.1 points of it the observed {observed.mean():+.2f} is reached in "
          f"{100 * (mean_offset[near] >= observed.mean()).mean():.1f}%")


def replay_selection(rows, diff, discordant, w_val, n_val, val_sim, test_sim, test, val):
    """The selection rule on every pseudo-validation set, against the real sets' outcome: how many
    PCA selections miss their budget on test, how many have a test drop outside their validation
    95% interval (the table's *agree*), and how many miss the budget by more than the test's own 95%
    half-width (the issue's acceptance)."""
    import numpy as np
    groups = {}
    for i, r in enumerate(rows):
        groups.setdefault((r["network"], r["curve"]), []).append(i)
    summaries = {}
    for network in {r["network"] for r in rows}:
        with open(f"results/study/{network}/summary.json") as f:
            summaries[network] = json.load(f)
    n_test = diff.shape[1]

    def se(discordant_fraction, drop_points, n):  # paired normal approximation, points
        return 100 * np.sqrt(np.maximum(discordant_fraction - (drop_points / 100) ** 2, 0) / n)

    se_val_sim = se((w_val @ discordant.T) / n_val, val_sim, n_val)
    se_test = se(discordant.mean(axis=1), test, n_test)
    reduction = np.array([float(r["reduction_vs_b8"]) for r in rows])

    observed = [0, 0, 0]
    observed_offsets = []
    observed_chosen = np.zeros(len(rows), bool)  # plans the study chose against 8-bit at some budget
    for (network, curve), members in groups.items():
        rows_of_curve = {r["label"]: r for r in curve_rows(f"results/study/{network}", curve)}
        for budget in summaries[network]["budgets"]:
            label = summaries[network]["methods"][curve][f"{budget:g}"]["vs_b8"]["plan"]
            chosen = [i for i in members if rows[i]["plan"] == label]
            if not chosen:
                continue  # uncompressed: nothing to miss
            i, b = chosen[0], 100 * budget
            low, high = (100 * float(rows_of_curve[label][k]) for k in ("val_drop_low", "val_drop_high"))
            observed[0] += test[i] > b + 1e-9
            observed[1] += not low <= test[i] <= high
            observed[2] += test[i] > b + 1.96 * se_test[i] + 1e-9
            observed_offsets.append(test[i] - val[i])
            observed_chosen[i] = True
    for confidence in (0.75, 0.9):
        z = Z[confidence]
        counts = np.zeros((3, val_sim.shape[0]))
        offset_sum, offset_count = np.zeros(val_sim.shape[0]), np.zeros(val_sim.shape[0])
        chosen_sim = np.zeros(val_sim.shape, bool)  # resample x plan: chosen at some budget
        selections = 0
        for (network, _), members in groups.items():
            members = np.array(members)
            for budget in summaries[network]["budgets"]:
                b = 100 * budget
                selections += 1
                passing = val_sim[:, members] + z * se_val_sim[:, members] <= b + 1e-9
                chosen = members[np.where(passing, reduction[members], -1.0).argmax(axis=1)]
                some = passing.any(axis=1)
                at = np.arange(len(chosen))
                t, v, sv = test_sim[at, chosen], val_sim[at, chosen], se_val_sim[at, chosen]
                counts[0] += some & (t > b + 1e-9)
                counts[1] += some & (np.abs(t - v) > 1.96 * sv)
                counts[2] += some & (t > b + 1.96 * se_test[chosen] + 1e-9)
                offset_sum += np.where(some, t - v, 0.0)
                offset_count += some
                chosen_sim[at[some], chosen[some]] = True
        for c, what in enumerate(("miss their budget on test", "have a test drop outside the validation interval",
                                  "miss the budget by more than the test interval")):
            lo, hi = np.quantile(counts[c], [0.025, 0.975])
            real = f"; the study's own (0.75): {observed[c]}" if confidence == 0.75 else ""
            print(f"selection confidence {confidence}: {selections} selections, noise alone makes "
                  f"{counts[c].mean():.1f} [{lo:.0f}, {hi:.0f}] {what}{real}")
        # Selection's own bias (the winner's curse) on top of the noise: mean (test - validation drop)
        # of the compressed selections.
        mean_offset = offset_sum / np.maximum(offset_count, 1)
        lo, hi = np.quantile(mean_offset, [0.025, 0.975])
        real = (f"; the study's own (0.75): {np.mean(observed_offsets):+.2f} over {len(observed_offsets)}, "
                f"at least as large in {100 * (mean_offset >= np.mean(observed_offsets)).mean():.1f}% of resamples"
                if confidence == 0.75 else "")
        print(f"selection confidence {confidence}: compressed selections' mean (test - validation drop) from "
              f"noise and selection {mean_offset.mean():+.2f} [{lo:+.2f}, {hi:+.2f}]{real}")
        # Whether a plan is chosen depends on its validation noise, so plans never chosen are no clean
        # control: their offsets under noise and selection, against the chosen plans'.
        offset_sim = test_sim - val_sim
        chosen_mean = (offset_sim * chosen_sim).sum(axis=1) / np.maximum(chosen_sim.sum(axis=1), 1)
        other_mean = (offset_sim * ~chosen_sim).sum(axis=1) / np.maximum((~chosen_sim).sum(axis=1), 1)
        real = ""
        if confidence == 0.75:
            offsets = test - val
            real = (f"; the study's own: {offsets[observed_chosen].mean():+.2f} ({observed_chosen.sum()} plans) and "
                    f"{offsets[~observed_chosen].mean():+.2f} ({(~observed_chosen).sum()})")
        print(f"selection confidence {confidence}: mean offset of the distinct plans chosen against 8-bit and of the "
              f"rest, from noise and selection: {chosen_mean.mean():+.2f} and {other_mean.mean():+.2f}{real}")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "plan":
        write_plan(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "labels":
        labels(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "table":
        table(*sys.argv[2:])
    elif len(sys.argv) >= 3 and sys.argv[1] == "rules":
        rules(sys.argv[2], [float(c) for c in sys.argv[3:]] or sorted(Z))
    elif len(sys.argv) == 4 and sys.argv[1] == "correct":
        correct(*sys.argv[2:])
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "noise":
        noise(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) == 5 else 2000)
    elif len(sys.argv) >= 3 and sys.argv[1] == "check":
        check(sys.argv[2:])
    else:
        sys.exit(__doc__)
