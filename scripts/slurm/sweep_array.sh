#!/bin/bash
# capsim sweep as a Slurm job array: each array task runs one shard of a sweep file into its own
# directory, OUT/shard-I; merge.sh combines them (docs/sweeps.md, "Sharding").
#
#   jid=$(sbatch --parsable --array=1-8 scripts/slurm/sweep_array.sh configs/sweeps/default.yaml results/sweeps/default)
#   sbatch --dependency=afterany:$jid scripts/slurm/merge.sh results/sweeps/default
#
# The array must be contiguous (1-8, or 0-7); its size is the shard count. Tasks that are rerun
# (requeued, or the whole array submitted again) skip the points their shard already finished.
# A task exits 3 when some of its points failed (their errors are in OUT/shard-I/points.csv);
# `afterany` lets the merge run anyway.
#
# Environment: CAPSIM (the capsim executable; default: capsim on PATH, else build/bin/capsim),
# SHARDS (shard count when Slurm does not export SLURM_ARRAY_TASK_COUNT).
#
# Without Slurm, the same script runs under GNU parallel, one shard per job:
#   parallel -j 4 SLURM_ARRAY_TASK_ID={} SHARDS=4 SLURM_CPUS_PER_TASK=1 \
#     scripts/slurm/sweep_array.sh configs/sweeps/default.yaml results/sweeps/default ::: 1 2 3 4
#   scripts/slurm/merge.sh results/sweeps/default
#
#SBATCH --job-name=capsim-sweep
#SBATCH --cpus-per-task=4
#SBATCH --mem-per-cpu=1G
#SBATCH --time=02:00:00
#SBATCH --output=capsim-sweep-%A_%a.out
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: sbatch --array=1-N $0 SWEEP.yaml OUT_DIR" >&2
  exit 2
fi
spec=$1
out=$2
capsim=${CAPSIM:-$(command -v capsim || echo build/bin/capsim)}

: "${SLURM_ARRAY_TASK_ID:?run this script as a Slurm array task (sbatch --array=1-N) or set SLURM_ARRAY_TASK_ID}"
first=${SLURM_ARRAY_TASK_MIN:-1}
count=${SLURM_ARRAY_TASK_COUNT:-${SHARDS:?set SHARDS to the number of shards}}
index=$((SLURM_ARRAY_TASK_ID - first + 1))   # capsim shards are 1-based
jobs=${SLURM_CPUS_PER_TASK:-1}

echo "capsim sweep $spec: shard $index/$count into $out/shard-$index with $jobs jobs on $(hostname)"
exec "$capsim" sweep "$spec" --out "$out/shard-$index" --shard "$index/$count" --jobs "$jobs" --no-progress
