#!/usr/bin/python3
"""Measures DRAMsim3's reference numbers for scripts/validate_dram.py (not a capsim dependency).

Builds replay.cc (this directory) against an out-of-tree DRAMsim3 build, generates the standard
streams with gen_stream.py (200,000 64-byte requests, seed 1, 1 GiB span; interval 0 = saturating,
20 = light load), replays each on a DRAMsim3 .ini until every request is served, and writes a CSV
in the format of shared/reference/dramsim3/ddr4-3200-reference.csv:

  sim_cycles            cycles simulated until DRAMsim3 called back for every request (a read at its
                        data return, a write when its write buffer accepted it), as in the DDR4
                        reference; DRAMsim3's stats cover the same cycles
  bandwidth_gbps        count x 64 bytes / (sim_cycles x tCK)
  avg_read_latency_*    DRAMsim3's average_read_latency (queue entry to data return), averaged
                        over channels weighted by their reads
  row_hit_rate          (read + write row hits) / (read + write commands), all channels
  energy_pj_per_bit     sum of DRAMsim3's total_energy (V x mA x cycles) x tCK / (count x 512 bits)

Usage:
  scripts/dramsim3/run_reference.py --src DRAMSIM3_SRC --build DRAMSIM3_BUILD --ini configs/X.ini \
      --label LABEL --out results/validation/reference/X.csv [--work DIR]
Reproducing the committed numbers: results/validation/reference/README.md.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
# (stream name, gen_stream kind, interval in cycles)
STREAMS = [("seq_read", "seq_read", "0"), ("seq_write", "seq_write", "0"), ("rand_read", "rand_read", "0"),
           ("rand_mix", "rand_mix", "0"), ("rand_read_light", "rand_read", "20"), ("stride", "stride", "0")]
COUNT, SEED, SPAN = 200000, 1, 1 << 30


def build_driver(src, build, work):
    exe = os.path.join(work, "dramsim3_replay")
    subprocess.run(["g++", "-O2", "-std=c++14", "-I", os.path.join(src, "src"), "-I", os.path.join(src, "ext", "headers"),
                    "-I", os.path.join(src, "ext", "fmt", "include"), "-DFMT_HEADER_ONLY=1",
                    os.path.join(HERE, "replay.cc"), "-o", exe, "-L", build, "-ldramsim3", "-Wl,-rpath," + build],
                   check=True)
    return exe


def measure(exe, ini, trace, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    run = subprocess.run([exe, ini, trace, out_dir], check=True, capture_output=True, text=True)
    end = json.loads(run.stdout.strip().splitlines()[-1])
    with open(os.path.join(out_dir, "dramsim3.json")) as f:
        channels = list(json.load(f).values())
    reads = sum(c["num_reads_done"] for c in channels)
    latency = sum(c["average_read_latency"] * c["num_reads_done"] for c in channels) / reads if reads else None
    cmds = sum(c["num_read_cmds"] + c["num_write_cmds"] for c in channels)
    hits = sum(c["num_read_row_hits"] + c["num_write_row_hits"] for c in channels)
    energy = sum(c["total_energy"] for c in channels)
    return end, latency, hits / cmds, energy


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", required=True, help="DRAMsim3 source tree")
    ap.add_argument("--build", required=True, help="DRAMsim3 build directory holding libdramsim3.so")
    ap.add_argument("--ini", required=True, help="DRAMsim3 config, relative to --src or absolute")
    ap.add_argument("--label", required=True, help="preset_guess column, e.g. LPDDR4-2400")
    ap.add_argument("--out", required=True)
    ap.add_argument("--gen-stream", default="/work/shared/reference/dramsim3/gen_stream.py")
    ap.add_argument("--work", default=None)
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="dramsim3_ref_")
    os.makedirs(work, exist_ok=True)
    ini = args.ini if os.path.isabs(args.ini) else os.path.join(args.src, args.ini)
    exe = build_driver(args.src, args.build, work)
    rows = []
    for name, kind, interval in STREAMS:
        trace = os.path.join(work, name + ".trace")
        subprocess.run([sys.executable, args.gen_stream, "--kind", kind, "--count", str(COUNT), "--seed", str(SEED),
                        "--span-bytes", str(SPAN), "--interval", interval, "--no-sentinel", "--out", trace], check=True)
        end, latency, hit_rate, energy = measure(exe, ini, trace, os.path.join(work, name))
        tck = end["tck_ns"]
        cycles = end["ticks"]
        rows.append({
            "config_file": os.path.basename(ini), "preset_guess": args.label, "stream": name, "count": COUNT,
            "seed": SEED, "span_bytes": SPAN, "interval_cycles": interval, "tck_ns": "{:g}".format(tck),
            "completed": end["reads_done"] + end["writes_done"], "sim_cycles": cycles,
            "bandwidth_gbps": "{:.6g}".format(COUNT * 64 / (cycles * tck)),
            "avg_read_latency_cycles": "" if latency is None else "{:.6g}".format(latency),
            "avg_read_latency_ns": "" if latency is None else "{:.6g}".format(latency * tck),
            "row_hit_rate": "{:.6g}".format(hit_rate),
            "energy_pj_per_bit": "{:.6g}".format(energy * tck / (COUNT * 64 * 8)),
        })
        sys.stderr.write("{}: {}\n".format(name, rows[-1]))
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    main()
