#!/usr/bin/env bash
# System packages the test suites need, from Debian/Ubuntu: PostgreSQL 15 (server binaries for the
# throwaway test cluster), pgTAP + pg_prove, plpgsql_check (the SQL lint suite), Chromium (end-to-end tests) and ffmpeg (HLS tests).
# Does nothing when everything is present; otherwise installs with apt (needs root).
set -euo pipefail

missing=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15 postgresql-client-15)
ls /usr/share/postgresql/15/extension/pgtap.control >/dev/null 2>&1 || missing+=(postgresql-15-pgtap)
command -v pg_prove >/dev/null 2>&1 || missing+=(libtap-parser-sourcehandler-pgtap-perl)
ls /usr/share/postgresql/15/extension/plpgsql_check.control >/dev/null 2>&1 || missing+=(postgresql-15-plpgsql-check)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
getent passwd postgres >/dev/null 2>&1 || missing+=(postgresql-15)

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
echo "system packages: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "error: these packages are missing and installing them needs root: ${missing[*]}" >&2
  echo "run: sudo bash scripts/system-packages.sh" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts a `main` cluster on install; the tests never use it.
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters -h 2>/dev/null | awk '{print $1, $2}' | while read -r v c; do pg_ctlcluster "$v" "$c" stop 2>/dev/null || true; done
fi
echo "system packages: done"
