#!/bin/sh
# Make models/demo_speech.wav: the short speech clip 'face3d view' plays by default.
# Needs espeak-ng and sox. About 8 s, 16 kHz mono 16-bit: open and close vowels
# (ah, ee, oo, oh), lip closures (p, b, m), fricatives, and a pause in the middle.
set -eu
cd "$(dirname "$0")/.."
out=models/demo_speech.wav
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
espeak-ng -v en-us -s 150 -p 45 -w "$tmp/a.wav" \
  "Hello! Open wide for ah, smile for ee, and round it for oo."
espeak-ng -v en-us -s 150 -p 45 -w "$tmp/b.wav" \
  "Papa bought a big map for Mum."
# 0.8 s of silence between the two sentences, resampled to 16 kHz mono, peak at -3 dBFS.
sox -n -r 22050 -c 1 "$tmp/pause.wav" trim 0.0 0.8
sox "$tmp/a.wav" "$tmp/pause.wav" "$tmp/b.wav" -r 16000 -c 1 -b 16 "$tmp/speech.wav" norm -3
mv "$tmp/speech.wav" "$out"
soxi "$out" 2>/dev/null | grep -E 'Duration|Sample Rate|Channels' || true
