#!/usr/bin/env bash
# Simulate the benchmark genomes into bench/out/preprocess/<name>/ (6 samples; a few seconds
# per Mb on one core). Usage: bash bench/preprocess/simulate.sh [name ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(g200_8x25 g100_4x25 g150_3x50)
mkdir -p bench/out/preprocess
for n in "${names[@]}"; do
  out=bench/out/preprocess/$n
  if [ -f "$out/truth/simulation.json" ]; then echo "$n: already simulated"; continue; fi
  /usr/bin/time -v "$PY" -m seq2func simulate --params "$(cat "bench/preprocess/$n.json")" \
    --samples bench/preprocess/samples.tsv --motifs resources/motifs/jaspar2024_demo.jaspar \
    --outdir "$out" --no-progress 2> "bench/out/preprocess/$n.simulate.log"
  grep -E "simulated|Elapsed|Maximum resident" "bench/out/preprocess/$n.simulate.log"
done
