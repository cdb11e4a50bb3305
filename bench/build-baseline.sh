#!/usr/bin/env bash
# The baseline for bench/build, as the original's docker/build.sh did it: every NNN-name folder in
# order, one after another, `docker build` then `docker push`. Runs on init, in the synced project.
# Inputs: DOCKER_DIR, PREFIX (repository prefix, so its pushes do not meet pcc's).
set -euo pipefail
cd "$DOCKER_DIR"
for dir in $(ls -d [0-9]*-*/ | sort -n); do
  name=${dir#*-}; name=${name%/}
  docker build -q --build-arg REGISTRY_HOST=localhost:5000 -t "localhost:5000/$PREFIX$name" "$dir" >/dev/null
  docker push -q "localhost:5000/$PREFIX$name" >/dev/null
done
