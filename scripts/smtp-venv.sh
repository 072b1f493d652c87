#!/usr/bin/env bash
# Makes (once) the Python venv with aiosmtpd that the SMTP tests run their
# mail server from, and prints the path of its python. Idempotent, and safe
# when several tests call it at once (a lock). pip/PyPI only.
#   scripts/smtp-venv.sh            -> /…/target/smtp-venv/bin/python
# HEARTH_SMTP_VENV chooses another directory.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${HEARTH_SMTP_VENV:-$PWD/target/smtp-venv}"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if ! "$venv/bin/python" -c "import aiosmtpd" 2>/dev/null; then
  if ! python3 -m venv --help >/dev/null 2>&1; then
    echo "smtp-venv: python3 has no venv module: run scripts/bootstrap.sh (it installs python3-venv)" >&2
    exit 1
  fi
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==1.4.6" >&2
fi
echo "$venv/bin/python"
