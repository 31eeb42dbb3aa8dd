#!/usr/bin/env bash
# Stops the cluster scripts/ceph-rgw-start.sh started (only the PIDs recorded in .ceph-rgw/run) and
# removes .ceph-rgw/ (KEEP=1 keeps it, with its logs). SIGTERM, then SIGKILL after 3 s: the data is
# thrown away anyway.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR="$ROOT/.ceph-rgw"
[ -d "$DIR" ] || exit 0
pids=()
for name in client.rgw.a osd.0 mon.a; do
  file="$DIR/run/$name.pid"
  [ -f "$file" ] || continue
  pid=$(cat "$file")
  kill "$pid" 2>/dev/null && pids+=("$pid")
done
for _ in $(seq 1 12); do
  alive=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  [ "$alive" = 0 ] && break
  sleep 0.25
done
for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
[ "${KEEP:-0}" = 1 ] || rm -rf "$DIR"
