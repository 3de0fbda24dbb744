#!/usr/bin/env bash
# scripts/check_includes on a tiny tree: clean, then with an upward include, then with two modules
# that include each other. Usage: check_includes_test.sh <path of scripts/check_includes>
set -euo pipefail
check=$1
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mk() { mkdir -p "$(dirname "$tree/$1")"; printf '%s\n' "${@:2}" >"$tree/$1"; }
mk foundation/common/include/capsim/common/error.hpp '#pragma once'
mk rtl_models/dram/include/capsim/rtl/dram/dram.hpp '#pragma once' '#include "capsim/common/error.hpp"'
mk sim/include/capsim/sim/a.hpp '#pragma once' '#include "capsim/rtl/dram/dram.hpp"'
mk sim/include/capsim/sim/b.hpp '#pragma once' '#include "capsim/sim/a.hpp"'
mk tests/sim/b_test.cpp '#include "capsim/sim/b.hpp"'
"$check" --root "$tree" >/dev/null || { echo "FAIL: a clean tree was rejected"; "$check" --root "$tree"; exit 1; }

mk foundation/common/src/error.cpp '#include "capsim/common/error.hpp"' '#include "capsim/sim/a.hpp"'
out=$("$check" --root "$tree") && { echo "FAIL: an upward include passed"; exit 1; }
grep -q 'foundation/common/src/error.cpp:2: #include "capsim/sim/a.hpp": room foundation includes the higher room sim' \
  <<<"$out" || { echo "FAIL: upward include not named: $out"; exit 1; }
rm "$tree/foundation/common/src/error.cpp"

mk sim/src/a.cpp '#include "capsim/sim/a.hpp"' '#include "capsim/sim/b.hpp"'
out=$("$check" --root "$tree") && { echo "FAIL: a module cycle passed"; exit 1; }
grep -q 'include cycle between modules sim:a, sim:b' <<<"$out" || { echo "FAIL: cycle not named: $out"; exit 1; }
echo "check_includes_test: ok"
