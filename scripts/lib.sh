# Shared by scripts/demo and scripts/test: a virtual environment with the project installed.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${TONGJIE_VENV:-$ROOT/.venv}

say() { printf '\n== %s\n' "$*" >&2; }

pick_python() {
  local candidate
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null &&
      "$candidate" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))'; then
      echo "$candidate"
      return
    fi
  done
  echo "no Python 3.11 or 3.12 found" >&2
  return 1
}

ensure_venv() {  # ensure_venv [extra]: create .venv and install the project into it
  local extra=${1:-}
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtual environment in $VENV"
    "$(pick_python)" -m venv "$VENV" || {
      echo "python venv failed; on Debian: apt-get install python3-venv" >&2
      return 1
    }
    "$VENV/bin/pip" install -q --upgrade pip >&2
  fi
  say "installing tongjie${extra:+[$extra]}"
  "$VENV/bin/pip" install -q -e "$ROOT${extra:+[$extra]}" >&2
  "$VENV/bin/pybabel" -q compile -d "$ROOT/app/translations" >&2
}
