#!/usr/bin/env bash
# Set up face3d on a fresh machine: system libraries (when we can install them), a
# virtual environment in .venv, and face3d installed into it in editable mode.
#
#   scripts/setup.sh          what running face3d needs (PortAudio, Mesa EGL)
#   scripts/setup.sh --test   plus what the test suite needs (Xvfb, xdotool, espeak-ng, flite,
#                             sox, PulseAudio for the loopback audio tests)
#
# On Debian/Ubuntu as root the missing packages are installed with apt-get; otherwise the
# exact command to run is printed and setup carries on.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

runtime_pkgs=(libportaudio2 libegl1 libgl1-mesa-dri libgles2)
test_pkgs=(xvfb xdotool espeak-ng flite sox pulseaudio pulseaudio-utils libasound2-plugins)
pkgs=("${runtime_pkgs[@]}")
[ $want_test = 1 ] && pkgs+=("${test_pkgs[@]}")

if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "setup: installing system packages: ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "setup: missing system packages; run:  sudo apt-get install -y ${missing[*]}" >&2
    fi
  fi
else
  echo "setup: not a Debian/Ubuntu system; install PortAudio and an OpenGL 3.3 driver with EGL" >&2
  [ $want_test = 1 ] && echo "setup: for the tests also install Xvfb, xdotool, espeak-ng, flite, sox and PulseAudio" >&2
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.face3d-installed
sig=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sig" ]; then
  echo "setup: installing face3d and its Python packages into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
  echo "$sig" > "$stamp"
fi
