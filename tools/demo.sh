#!/usr/bin/env bash
# The main job on the embedded default: make the procedural IR/VIS toy data
# (deterministic, seed 0) and train + validate the baseline fusion network.
# Outputs: work_dirs/fusion_toy/{iter_*.pth, <timestamp>/{*.log, vis_data,
# fused_val/iter_*/*.png}}.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-$(command -v python || command -v python3)}

"$PY" tools/misc/make_toy_data.py data/toy --num 300 --seed 0
"$PY" tools/train.py configs/baselines/fusion_toy.py \
    --work-dir work_dirs/fusion_toy "$@"
