#!/usr/bin/env bash
# Starts a throwaway single-node Ceph cluster (1 mon + 1 memstore OSD + radosgw, no systemd) on
# 127.0.0.1 for the strict S3 test pass, in the git-ignored folder .ceph-rgw/ of this repository.
#
#   eval "$(scripts/ceph-rgw-start.sh | sed 's/^/export /')"; trap scripts/ceph-rgw-stop.sh EXIT
#   S3_STRICT=1 npx jest --selectProjects storages
#
# Prints S3_ENDPOINT=, S3_ACCESS_KEY=, S3_SECRET_KEY= and CEPH_CONF= lines. Installs the Debian packages
# (ceph-mon ceph-osd radosgw, Ceph 16) only when missing (needs root). Environment: RGW_PORT (7480),
# MON_PORT (6789; msgr2 uses MON_PORT+1), S3_ACCESS_KEY / S3_SECRET_KEY (test-only keys below).
# Why each setting is there: shared/research/s3-servers.md §4.2.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR="$ROOT/.ceph-rgw"
RGW_PORT=${RGW_PORT:-7480}
MON_PORT=${MON_PORT:-6789}
AK=${S3_ACCESS_KEY:-TESTACCESSKEY}
SK=${S3_SECRET_KEY:-TESTSECRETKEY}

if ! command -v radosgw >/dev/null || ! command -v ceph-osd >/dev/null || ! command -v ceph-mon >/dev/null; then
  echo "installing ceph-mon ceph-osd radosgw (Debian packages)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends ceph-mon ceph-osd radosgw >/dev/null
fi

# An earlier cluster of this repository: stop it first (only the PIDs it recorded).
"$ROOT/scripts/ceph-rgw-stop.sh" >/dev/null 2>&1 || true
mkdir -p "$DIR"/{mon.a,osd.0,run,log}
FSID=$(cat /proc/sys/kernel/random/uuid)
MON_ADDR="[v2:127.0.0.1:$((MON_PORT + 1)),v1:127.0.0.1:$MON_PORT]"
export CEPH_CONF="$DIR/ceph.conf"
cat > "$CEPH_CONF" <<CONF
[global]
fsid = $FSID
mon host = $MON_ADDR
mon initial members = a
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
mon warn on insecure global id reclaim allowed = false
keyring = $DIR/keyring
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
ms bind ipv6 = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 1
osd pool default pgp num = 1
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
[mon]
mon data = $DIR/\$name
# one mon: commit map changes at once instead of batching them for a second (bootstrap 15 s -> 2 s)
paxos propose interval = 0.05
paxos min wait = 0.01
[osd]
osd data = $DIR/\$name
osd objectstore = memstore
memstore device bytes = 4294967296
osd max object name len = 460
osd max object namespace len = 64
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
# radosgw wants a secure msgr2 mon session, which auth = none cannot give
ms mon client mode = crc secure
rgw dns name = localhost
# SSE-C over plain HTTP: RGW refuses customer keys without TLS unless told otherwise (test server only)
rgw crypt require ssl = false
CONF
: > "$DIR/keyring"

wait_for() {
  local what=$1; shift
  for _ in $(seq 1 120); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "timed out waiting for $what; logs in $DIR/log" >&2
  exit 1
}

monmaptool --create --addv a "$MON_ADDR" --fsid "$FSID" "$DIR/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$DIR/monmap" 2>>"$DIR/log/setup.log"
ceph-mon -i a 2>>"$DIR/log/setup.log"
wait_for "ceph-mon" ceph -s --connect-timeout 2

OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_ID=$(ceph osd new "$OSD_UUID")
ceph-osd -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" 2>>"$DIR/log/setup.log"
ceph-osd -i "$OSD_ID" 2>>"$DIR/log/setup.log"
wait_for "ceph-osd" sh -c "ceph osd stat | grep -q '1 up'"

radosgw -n client.rgw.a 2>>"$DIR/log/setup.log"
wait_for "radosgw on port $RGW_PORT" curl -sf -o /dev/null "http://127.0.0.1:$RGW_PORT/"
radosgw-admin user create --uid=tester --display-name=Tester \
  --access-key="$AK" --secret-key="$SK" >/dev/null 2>>"$DIR/log/setup.log"

echo "S3_ENDPOINT=http://127.0.0.1:$RGW_PORT"
echo "S3_ACCESS_KEY=$AK"
echo "S3_SECRET_KEY=$SK"
echo "CEPH_CONF=$CEPH_CONF"
