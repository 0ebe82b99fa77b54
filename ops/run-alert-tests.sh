#!/usr/bin/env bash
# Checks the example Prometheus config and checks and unit-tests the alert rules (ops/prometheus/).
# Installs promtool from Debian's `prometheus` package when it is missing. Exits non-zero on failure.
set -euo pipefail

cd "$(dirname "$0")/prometheus"

if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool not found; installing Debian's prometheus package" >&2
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

promtool --version 2>&1 | head -n 1
promtool check config --syntax-only prometheus.yml
promtool check rules alerts.yml
promtool test rules alerts.test.yml alerts.billing.test.yml

# Every runbook_url must point at a section of docs/operations.md (anchor = heading in lower case).
doc=../../docs/operations.md
anchors=$(grep -E '^#+ ' "$doc" | sed -E 's/^#+ +//' | tr '[:upper:]' '[:lower:]' | sed -E 's/[^a-z0-9 _-]//g; s/ /-/g')
missing=0
for anchor in $(grep -oE 'operations\.md#[A-Za-z0-9_-]+' alerts.yml | cut -d'#' -f2 | sort -u); do
  if ! grep -qxF "$anchor" <<<"$anchors"; then
    echo "runbook_url anchor #$anchor has no section in docs/operations.md" >&2
    missing=1
  fi
done
[ "$missing" -eq 0 ] && echo "Runbook anchors: all $(grep -c 'runbook_url:' alerts.yml) found in docs/operations.md"
exit "$missing"
