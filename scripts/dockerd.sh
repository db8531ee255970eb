#!/usr/bin/env bash
# Start dockerd in the background if it is installed and not already answering; wait until it answers.
set -uo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
command -v dockerd >/dev/null 2>&1 || { echo "dockerd not installed" >&2; exit 1; }
mkdir -p /var/log
nohup dockerd >/var/log/dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then exit 0; fi
  sleep 0.5
done
echo "dockerd did not answer within 30 s; see /var/log/dockerd.log" >&2
exit 1
