#!/bin/bash
# Merges the shard directories sweep_array.sh wrote (OUT/shard-*) into OUT/merged and, when
# /usr/bin/python3 has matplotlib, writes the report into OUT/merged/report.
#
#   sbatch --dependency=afterany:$jid scripts/slurm/merge.sh results/sweeps/default
#   scripts/slurm/merge.sh results/sweeps/default          # or directly, after GNU parallel
#
# Exits 3 when points failed or a shard is missing (the merged tables list them), 2 on bad input.
#SBATCH --job-name=capsim-merge
#SBATCH --cpus-per-task=1
#SBATCH --time=00:30:00
#SBATCH --output=capsim-merge-%j.out
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT_DIR (the directory holding shard-1, shard-2, ...)" >&2
  exit 2
fi
out=$1
capsim=${CAPSIM:-$(command -v capsim || echo build/bin/capsim)}
shopt -s nullglob
shards=("$out"/shard-*)
if [ ${#shards[@]} -eq 0 ]; then
  echo "error: no shard directories in $out (expected $out/shard-1, ...)" >&2
  exit 2
fi

"$capsim" merge "${shards[@]}" --out "$out/merged"
status=$?
if [ $status -eq 0 ] || [ $status -eq 3 ]; then
  if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
    "$capsim" report "$out/merged" || status=$?
  fi
fi
exit $status
