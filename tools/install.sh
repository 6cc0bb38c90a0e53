#!/usr/bin/env bash
# Install MMFuseNAS with its tested stack into the current Python environment.
# Idempotent: packages already at the right version are kept, and mmcv (the
# slow part: ~19 min from source on 2 cores) is only built when
# `import mmcv.ops` of version 2.1.0 fails.
#
# Environment variables:
#   PYTHON         interpreter to install into (default: python, else python3)
#   TORCH_SPEC     torch requirement installed when torch is missing
#                  (default: torch==2.13.0; any 2.1-2.13 build works)
#   MMCV_WHEELS    folder searched for a prebuilt mmcv wheel
#                  (default: ../shared/wheels when it exists)
#   MAX_JOBS       parallel compile jobs for the mmcv build (default: nproc)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=${PYTHON:-$(command -v python || command -v python3)}
PIP=("$PY" -m pip)

# 1. torch first: an unpinned torch requirement would pull a CUDA build.
if ! "$PY" -c 'import torch' 2>/dev/null; then
    "${PIP[@]}" install "${TORCH_SPEC:-torch==2.13.0}"
fi

# 2. mmcv 2.1.0 *full* (compiled ops), built against the torch present.
if "$PY" -c 'import mmcv, mmcv.ops, sys; sys.exit(mmcv.__version__ != "2.1.0")' 2>/dev/null; then
    echo "mmcv 2.1.0 with compiled ops is already installed"
else
    "${PIP[@]}" install "setuptools<70" wheel
    find_links=()
    wheels=${MMCV_WHEELS:-../shared/wheels}
    if [ -d "$wheels" ]; then
        find_links=(--find-links "$wheels")
    fi
    MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
        "${PIP[@]}" install --no-build-isolation "${find_links[@]}" mmcv==2.1.0
fi

# 3. the rest of the stack, the test tools and MMFuseNAS itself (editable).
"${PIP[@]}" install -r requirements/runtime.txt -r requirements/tests.txt
"${PIP[@]}" install --no-deps --no-build-isolation -e .
"$PY" -c 'import mmfusenas; print("mmfusenas", mmfusenas.__version__, "ready")'
