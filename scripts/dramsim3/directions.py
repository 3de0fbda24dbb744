#!/usr/bin/python3
"""Do queue depths and page policy move `capsim dram` the way they move DRAMsim3? (issue 12)

On DDR4-3200 (capsim: results/validation/ddr4-3200-dramsim3.yaml; DRAMsim3: configs/DDR4_8Gb_x16_3200.ini
of commit 29817593b3389f1337235d63cac515024ab8fd6e, copied with one key changed per setting), replays a
saturating (interval 0), a middle (7 cycles) and a light (20 cycles) random-read stream of gen_stream.py (--count
requests, seed 1, 1 GiB span) in both tools for each setting below, and writes a Markdown table of
bandwidth and average read latency (queue entry to data, DRAMsim3's definition) with each change against
the baseline and its direction (+, -, or = when within 1 %); "same direction" needs both bandwidth and
latency directions to match. A middle stream (interval 7 cycles, 95 % of the saturated random-read bandwidth)
is added: the light stream never fills a queue.

  setting          DRAMsim3 ini               capsim --set
  baseline         (stock)                    (spec as committed)
  trans_queue 8    trans_queue_size = 8       read_queue_depth=8, write_queue_depth=8
  trans_queue 128  trans_queue_size = 128     read_queue_depth=128, write_queue_depth=128
  cmd_queue 4      cmd_queue_size = 4         bank_queue_depth=4
  cmd_queue 16     cmd_queue_size = 16        bank_queue_depth=16
  close page       row_buf_policy = CLOSE_PAGE  page_policy=closed

Usage: scripts/dramsim3/directions.py --dramsim3 /work/dramsim3-build/dramsim3_replay \
           --src /work/dramsim3-src [--capsim build/bin/capsim] [--count 200000] [--out FILE.md] [--work DIR]
The DRAMsim3 driver is scripts/dramsim3/replay.cc built as run_reference.py builds it.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from run_reference import measure  # noqa: E402

SPEC = os.path.join(ROOT, "results", "validation", "ddr4-3200-dramsim3.yaml")
# name, {ini key: value}, [capsim --set]
SETTINGS = [
    ("baseline", {}, []),
    ("trans_queue 8", {"trans_queue_size": "8"}, ["controller.read_queue_depth=8", "controller.write_queue_depth=8"]),
    ("trans_queue 128", {"trans_queue_size": "128"},
     ["controller.read_queue_depth=128", "controller.write_queue_depth=128"]),
    ("cmd_queue 4", {"cmd_queue_size": "4"}, ["controller.bank_queue_depth=4"]),
    ("cmd_queue 16", {"cmd_queue_size": "16"}, ["controller.bank_queue_depth=16"]),
    ("close page", {"row_buf_policy": "CLOSE_PAGE"}, ["controller.page_policy=closed"]),
]
STREAMS = [("rand_read", "0"), ("rand_read_mid", "7"), ("rand_read_light", "20")]


def write_ini(stock, changes, path):
    text = open(stock).read()
    for k, v in changes.items():
        text, n = re.subn(r"(?m)^{}\s*=.*$".format(k), "{} = {}".format(k, v), text)
        assert n == 1, k
    with open(path, "w") as f:
        f.write(text)


def run_dramsim3(args, ini, trace, out):
    end, latency, _, _ = measure(args.dramsim3, ini, trace, out)
    return args.count * 64 / (end["ticks"] * end["tck_ns"]), latency * end["tck_ns"]


def run_capsim(args, sets, trace, out):
    cmd = [args.capsim, "dram", "--quiet", "--preset", SPEC, "--trace", trace, "--out", out]
    for s in sets:
        cmd += ["--set", s]
    subprocess.run(cmd, check=True)
    with open(os.path.join(out, "summary.json")) as f:
        s = json.load(f)
    return s["bandwidth_bytes_per_s"] / 1e9, s["avg_read_latency_from_accept_ns"]


EPS = 0.01  # a change below 1 % counts as none ("="), on either side


def change(new, base):
    d = (new - base) / base
    return d, "=" if abs(d) < EPS else ("+" if d > 0 else "-")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dramsim3", required=True, help="dramsim3_replay built from scripts/dramsim3/replay.cc")
    ap.add_argument("--src", required=True, help="DRAMsim3 source tree (for configs/)")
    ap.add_argument("--capsim", default=os.path.join(ROOT, "build", "bin", "capsim"))
    ap.add_argument("--count", type=int, default=200000)
    ap.add_argument("--gen-stream", default="/work/shared/reference/dramsim3/gen_stream.py")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=None)
    ap.add_argument("--work", default=None)
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="dirn_")
    os.makedirs(work, exist_ok=True)
    stock = os.path.join(args.src, "configs", "DDR4_8Gb_x16_3200.ini")
    traces = {}
    for name, interval in STREAMS:
        traces[name] = os.path.join(work, name + ".trace")
        subprocess.run([sys.executable, args.gen_stream, "--kind", "rand_read",
                        "--count", str(args.count), "--seed", "1", "--span-bytes", str(1 << 30), "--interval",
                        interval, "--no-sentinel", "--out", traces[name]], check=True)
    jobs = {}
    with ThreadPoolExecutor(args.jobs) as pool:
        for i, (setting, changes, sets) in enumerate(SETTINGS):
            ini = os.path.join(work, "s{}.ini".format(i))
            write_ini(stock, changes, ini)
            for name, _ in STREAMS:
                jobs[(setting, name, "d")] = pool.submit(run_dramsim3, args, ini, traces[name],
                                                         os.path.join(work, "d{}_{}".format(i, name)))
                jobs[(setting, name, "c")] = pool.submit(run_capsim, args, sets, traces[name],
                                                         os.path.join(work, "c{}_{}".format(i, name)))
    res = {k: v.result() for k, v in jobs.items()}
    lines = ["| stream | setting | BW GB/s DRAMsim3 | capsim | BW change DRAMsim3 | capsim | "
             "latency ns DRAMsim3 | capsim | latency change DRAMsim3 | capsim | same direction |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, interval in STREAMS:
        base_d = res[("baseline", name, "d")]
        base_c = res[("baseline", name, "c")]
        for setting, _, _ in SETTINGS:
            d = res[(setting, name, "d")]
            c = res[(setting, name, "c")]
            cells = []
            agree = []
            for k in (0, 1):
                if setting == "baseline":
                    cells.append(("", ""))
                    continue
                (dd, sd), (dc, sc) = change(d[k], base_d[k]), change(c[k], base_c[k])
                cells.append(("{:+.1f}% {}".format(100 * dd, sd), "{:+.1f}% {}".format(100 * dc, sc)))
                agree.append(sd == sc)
            verdict = "" if setting == "baseline" else ("yes" if all(agree) else "no")
            label = "{} (interval {})".format(name, interval) if setting == "baseline" else ""
            lines.append("| {} | {} | {:.2f} | {:.2f} | {} | {} | {:.1f} | {:.1f} | {} | {} | {} |".format(
                label, setting, d[0], c[0], cells[0][0], cells[0][1], d[1], c[1], cells[1][0], cells[1][1], verdict))
    table = "\n".join(lines) + "\n"
    sys.stdout.write(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table)
    json.dump({"|".join(k): v for k, v in res.items()}, open(os.path.join(work, "results.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
