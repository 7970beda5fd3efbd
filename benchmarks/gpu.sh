#!/usr/bin/env bash
# The GPU measurements of decoding in one short run (a few minutes on one H100): decode ratios
# against HF generate, docs/s, FLOPs per document and the fraction of the measured bf16 matmul
# rate, for the default base (SmolLM2-135M, or the trained pipeline where one exists) and a
# randomly initialised 0.5B model; and hostile-input passes. JSON into benchmarks/results/.
#
#   bash benchmarks/gpu.sh            # on the GPU machine (the `device` tool runs it from the repo root)
#   bash benchmarks/gpu.sh --smoke    # on a CPU, tiny sizes: checks the script end to end in a minute or two
#
# Environment: PYTHON (default: python), BASE (default: assets/base), OUT (default: benchmarks/results),
# N_DOCS (default 32).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
BASE=${BASE:-assets/base}
OUT_DIR=${OUT:-benchmarks/results}
N=${N_DOCS:-32}
mkdir -p "$OUT_DIR"

if [[ "${1:-}" == "--smoke" ]]; then
    # CPU, tiny random model, two documents: every step of the GPU run, in seconds.
    $PY benchmarks/decode.py --random-model tiny --device cpu --n-docs 2 --repeat 1 --warmup 0 \
        --methods fast,generate_b1,generate_batched --no-presidio --json "$OUT_DIR/smoke_decode.json"
    if [[ -d "$BASE" ]]; then
        $PY benchmarks/hostile.py --base "$BASE" --names cdata_comment,control --json "$OUT_DIR/smoke_hostile.json"
    fi
    echo "smoke run done: $OUT_DIR/smoke_*.json"
    exit 0
fi

$PY - <<'EOF'
import torch
print("device:", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "NO GPU")
EOF

# 1. The default base (or the trained pipeline, where `spacy project run all` has made one).
if [[ -d training/pipeline ]]; then SRC=(--pipeline training/pipeline); else SRC=(--base "$BASE"); fi
timeout 240 $PY benchmarks/decode.py "${SRC[@]}" --device cuda --n-docs "$N" --repeat 1 --warmup 1 \
    --methods fast,fast_copy,generate_b1,generate_batched --no-presidio --json "$OUT_DIR/gpu_smollm2.json" \
    || echo "decode (default base) did not finish"

# 2. A 0.5B model, randomly initialised (bf16): the sizing run.
timeout 180 $PY benchmarks/decode.py --random-model Qwen2.5-0.5B --device cuda --n-docs "$N" --repeat 1 \
    --warmup 1 --methods fast,fast_copy,generate_b1,generate_batched --json "$OUT_DIR/gpu_qwen05b_random.json" \
    || echo "decode (0.5B) did not finish"

# 3. Hostile input: passes are the same on any device, so this only checks the GPU path runs.
timeout 90 $PY benchmarks/hostile.py --base "$BASE" --device cuda --json "$OUT_DIR/gpu_hostile.json" \
    || echo "hostile did not finish"
ls -l "$OUT_DIR"/gpu_*.json
