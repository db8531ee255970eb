#!/usr/bin/env bash
# Runs the whole test suite (the README's test command). Starts a Docker engine for the docker-marked
# tests when none is running and one can be started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/dockerd.sh || echo "test: no Docker engine could be started; docker tests will skip with a reason"
export HF_HUB_OFFLINE=1
python -m pytest "$@"
