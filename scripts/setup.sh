#!/usr/bin/env bash
# Set up face3d on a fresh machine: system libraries (when we can install them), a
# virtual environment in .venv, and face3d installed into it in editable mode.
#
#   scripts/setup.sh          what running face3d needs (PortAudio, Mesa EGL)
#   scripts/setup.sh --test   plus what the test suite needs (Xvfb, xdotool, espeak-ng, flite,
#                             sox, PulseAudio for the loopback audio tests; the `test` extra,
#                             which includes the `docs` one: the suite builds the docs)
#   scripts/setup.sh --docs   plus what building the documentation site needs (the `docs` extra)
#
# Without options only face3d's runtime Python packages are installed (`pip install -e .`),
# no test or docs packages.
#
# On Debian/Ubuntu as root the missing packages are installed with apt-get; otherwise the
# exact command to run is printed and setup carries on.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
want_docs=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --docs) want_docs=1 ;;
    *) echo "setup: unknown option $arg (use --test and/or --docs)" >&2; exit 2 ;;
  esac
done

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
# The stamp holds pyproject.toml's hash and the extras installed with it. Install again when
# pyproject.toml changed, or when an extra is wanted that is not installed yet (make demo, then
# make test); an extra already there is kept in the list (make test, then make demo: nothing to do).
extras=()
[ $want_test = 1 ] && extras+=(test)
[ $want_docs = 1 ] && extras+=(docs)
stamp=.venv/.face3d-installed
sig=$(sha256sum pyproject.toml | cut -c1-16)
have_sig=""
have_extras=""
if [ -f "$stamp" ]; then
  read -r have_sig have_extras < "$stamp" || true
fi
need=0
[ "$have_sig" = "$sig" ] || { need=1; have_extras=""; }
for e in "${extras[@]}"; do
  case ",$have_extras," in *",$e,"*) ;; *) need=1 ;; esac
done
if [ $need = 1 ]; then
  all=$(printf '%s\n' ${have_extras//,/ } "${extras[@]}" | sort -u | paste -sd, -)
  spec="."
  [ -n "$all" ] && spec=".[$all]"
  echo "setup: installing face3d and its Python packages into .venv (pip install -e '$spec')"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
  echo "$sig $all" > "$stamp"
fi
