#!/bin/sh
# What runs in the Pod of a `kubectl meshlink demo verify` Job (POSIX sh; needs curl, sed, tr, cut, head,
# mktemp, sleep: Cilium's alpine-curl image has them). Embedded in the plugin at build time; the tests run this
# very file against HTTP servers answering like rebel-base.
#
# It sends REQUESTS requests to the global Service, each its own connection (Connection: close, one curl per
# request, so Cilium picks a backend per request), then POD_REQUESTS requests to each address in POD_IPS, and
# prints one JSON line per attempt:
#   {"v":1,"kind":"service|pod","target":"...","i":N,"rc":CURL_EXIT,"http":CODE,"cluster":"NAME",
#    "time":"SECONDS","error":"CURL_MESSAGE"}
# "cluster" is what the answer's "Cluster" field says (empty when there was no such answer), and a last line
#   {"v":1,"kind":"done","attempts":N}
# says the run is complete. The verdict is meshlink's (plugin/demo/attempts.cpp): the script always exits 0.
#
# Environment: SERVICE (host name of the global Service), POD_IPS (space-separated), PORT (80), REQUESTS (20),
# POD_REQUESTS (2), CONNECT_TIMEOUT (2), MAX_TIME (5), PAUSE (seconds between requests, 0.2), TMPDIR (/tmp).
set -u

port=${PORT:-80}
requests=${REQUESTS:-20}
pod_requests=${POD_REQUESTS:-2}
connect_timeout=${CONNECT_TIMEOUT:-2}
max_time=${MAX_TIME:-5}
pause=${PAUSE:-0.2}
service=${SERVICE:-}
pod_ips=${POD_IPS:-}

work=$(mktemp -d "${TMPDIR:-/tmp}/meshlink-verify.XXXXXX") || {
  printf '{"v":1,"kind":"done","attempts":0,"error":"mktemp failed"}\n'
  exit 0
}
trap 'rm -rf "$work"' EXIT

# Only what is safe inside a JSON string and on a terminal survives.
printable() {
  tr -d '\000-\037\042\134\177' | cut -c1-"$1"
}

number() {
  case "$1" in
    '' | *[!0-9]*) echo 0 ;;
    *) echo "$1" ;;
  esac
}

attempts=0

# attempt KIND TARGET INDEX URL
attempt() {
  out=$(curl -sS -o "$work/body" -H 'Connection: close' --connect-timeout "$connect_timeout" \
    --max-time "$max_time" -w '%{http_code} %{time_total}' "$4" 2>"$work/err")
  rc=$?
  code=$(number "${out%% *}")
  time=$(printf '%s' "${out#* }" | tr -cd '0-9.' | cut -c1-16)
  cluster=""
  if [ -s "$work/body" ]; then
    cluster=$(head -c 4096 "$work/body" | sed -n 's/.*"Cluster": *"\([^"]*\)".*/\1/p' | head -n 1 |
      tr -cd 'a-zA-Z0-9.-' | cut -c1-63)
  fi
  error=""
  if [ -s "$work/err" ]; then
    error=$(head -c 400 "$work/err" | tr '\n\r\t' '   ' | printable 200)
  fi
  target=$(printf '%s' "$2" | tr -cd 'a-zA-Z0-9.:-' | cut -c1-253)
  printf '{"v":1,"kind":"%s","target":"%s","i":%d,"rc":%d,"http":%d,"cluster":"%s","time":"%s","error":"%s"}\n' \
    "$1" "$target" "$3" "$rc" "$code" "$cluster" "$time" "$error"
  rm -f "$work/body" "$work/err"
  attempts=$((attempts + 1))
}

if [ -n "$service" ]; then
  i=1
  while [ "$i" -le "$requests" ]; do
    attempt service "$service" "$i" "http://$service:$port/"
    i=$((i + 1))
    sleep "$pause"
  done
fi

for ip in $pod_ips; do
  case "$ip" in
    *:*) url="http://[$ip]:$port/" ;;
    *) url="http://$ip:$port/" ;;
  esac
  i=1
  while [ "$i" -le "$pod_requests" ]; do
    attempt pod "$ip" "$i" "$url"
    i=$((i + 1))
    sleep "$pause"
  done
done

printf '{"v":1,"kind":"done","attempts":%d}\n' "$attempts"
exit 0
