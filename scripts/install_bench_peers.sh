#!/usr/bin/env bash
# Install the benchmark peers (Brian2 2.9, Cython, NEST) and spikec, editable,
# into a separate virtual environment, leaving the system environment untouched.
#
#   bash scripts/install_bench_peers.sh            # -> /work/benchenv
#   BENCHENV=/tmp/env bash scripts/install_bench_peers.sh
#
# Brian2 2.9 needs numpy < 2.4, which the "bench" extra of pyproject.toml pins.
# pymetis is for benchmarks/pipeline.py's scaling rows: without it the place pass
# falls back to networkx's Kernighan-Lin, far slower past 10^5 synapses.
# Brian2's Cython target and cpp_standalone device need a C++ compiler (g++).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
env_dir="${BENCHENV:-/work/benchenv}"
python="${PYTHON:-python3}"

if [ ! -x "$env_dir/bin/python" ]; then
    "$python" -m venv "$env_dir"
fi
"$env_dir/bin/pip" install --upgrade pip
"$env_dir/bin/pip" install -e "$here[bench]" pymetis
command -v g++ >/dev/null || echo "warning: no g++: brian2-cython and brian2-cpp will fail" >&2
"$env_dir/bin/python" - <<'EOF'
import importlib
for name in ("spikec", "numpy", "numba", "brian2", "Cython", "nest", "pymetis"):
    try:
        mod = importlib.import_module(name)
        print(f"{name:8s} {getattr(mod, '__version__', '?')}")
    except Exception as exc:  # report every missing peer, do not stop at the first
        print(f"{name:8s} NOT AVAILABLE: {exc!r}")
EOF
