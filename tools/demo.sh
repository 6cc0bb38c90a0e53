#!/usr/bin/env bash
# The main job on the embedded default: make the procedural IR/VIS toy data
# (deterministic, seed 0) and train TIM's fusion network together with a real
# MMDetection RetinaNet whose neck the project's own search found
# (task-guided fusion; configs/tim/retinanet_ivif_toy.py), validating
# detection mAP and fusion metrics together.
# Outputs: work_dirs/retinanet_ivif_toy/{iter_*.pth, <timestamp>/{*.log,
# vis_data, fused_val/iter_*/*.png}}.
set -euo pipefail
# one intra-op thread: on a shared 2-core machine torch threads fight and
# training slows by an order of magnitude
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-$(command -v python || command -v python3)}

"$PY" tools/misc/make_toy_data.py data/toy --num 300 --seed 0
"$PY" tools/train.py configs/tim/retinanet_ivif_toy.py \
    --work-dir work_dirs/retinanet_ivif_toy "$@"
