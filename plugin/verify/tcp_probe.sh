#!/bin/sh
# What runs on each node for `kubectl meshlink verify` (POSIX sh and curl: Cilium's alpine-curl image has
# them). Embedded in the plugin at build time; the tests run this very file against loopback listeners.
#
# For every entry of TARGETS ("NAME=HOST:PORT ...") it opens ATTEMPTS TCP connections (HTTPS, certificate not
# checked: the point is the TCP connection, and a TLS server that then refuses the handshake for lack of a
# client certificate was still reached) and prints one JSON line per attempt:
#   {"v":1,"kind":"tcp","target":"NAME","address":"HOST:PORT","i":N,"rc":CURL_EXIT,"connect":"SECONDS",
#    "error":"CURL_MESSAGE"}
# "connect" is curl's time_connect (zero when curl failed, even after connecting). Whether the TCP connection
# was made is read from curl's exit code: 7 (could not connect), 6 (name not resolved) and 28 with
# "Connection timed out" (curl 8: "Failed to connect ... Timeout was reached") mean it was not; a TLS
# failure, an HTTP answer, or 28 with "SSL connection timeout" or "Operation timed out" (the server accepted and
# then stayed silent) mean it was.
# A last line {"v":1,"kind":"done","attempts":N} says the run is complete. Always exits 0: the verdict is
# meshlink's (plugin/verify/mesh_verify.cpp).
#
# Environment: TARGETS, ATTEMPTS (3), TIMEOUT (connect timeout in seconds, 3), TMPDIR (/tmp).
set -u

attempts_each=${ATTEMPTS:-3}
timeout=${TIMEOUT:-3}
targets=${TARGETS:-}
err=$(mktemp "${TMPDIR:-/tmp}/meshlink-probe.XXXXXX") || {
  printf '{"v":1,"kind":"done","attempts":0,"error":"mktemp failed"}\n'
  exit 0
}
trap 'rm -f "$err"' EXIT

attempts=0
for entry in $targets; do
  name=$(printf '%s' "${entry%%=*}" | tr -cd 'a-zA-Z0-9./-' | cut -c1-80)
  address=$(printf '%s' "${entry#*=}" | tr -cd 'a-zA-Z0-9.:[]-' | cut -c1-80)
  i=1
  while [ "$i" -le "$attempts_each" ]; do
    connect=$(curl -sSk -o /dev/null --connect-timeout "$timeout" --max-time $((timeout + 2)) \
      -w '%{time_connect}' "https://$address/" 2>"$err")
    rc=$?
    connect=$(printf '%s' "$connect" | tr -cd '0-9.' | cut -c1-16)
    error=$(head -c 400 "$err" | tr '\n\r\t' '   ' | tr -d '\000-\037\042\134\177' | cut -c1-200)
    printf '{"v":1,"kind":"tcp","target":"%s","address":"%s","i":%d,"rc":%d,"connect":"%s","error":"%s"}\n' \
      "$name" "$address" "$i" "$rc" "${connect:-0}" "$error"
    attempts=$((attempts + 1))
    i=$((i + 1))
  done
done

printf '{"v":1,"kind":"done","attempts":%d}\n' "$attempts"
exit 0
