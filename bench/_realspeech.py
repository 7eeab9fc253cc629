"""Recorded speech with forced-aligned phones: ../shared/data/realspeech (see its README).

Whole speakers are held out of the viseme model's training (:data:`HELDOUT_SPEAKERS`:
four native or near-native English speakers and four of the Mandarin-accented learners,
women and men); ``bench/lipsync.py --realspeech`` scores them. Every schwa in these labels
is ``ah``, so ``ah`` is not scored as a viseme here (it would be ``aa`` half the time).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

#: Speakers never used for training or choosing (8 of 54).
HELDOUT_SPEAKERS = ("ljspeech", "cmuarctic-aew", "cmuarctic-axb", "librispeech-61",
                    "so762-0024", "so762-0461", "so762-1260", "so762-2061")


def root() -> Path | None:
    """The realspeech folder: $FACE3D_REALSPEECH, ../shared/data/realspeech from the repository, or /work/shared."""
    here = Path(__file__).resolve().parent.parent
    for p in (os.environ.get("FACE3D_REALSPEECH"), here.parent / "shared" / "data" / "realspeech",
              here.parent.parent / "shared" / "data" / "realspeech"):
        if p and (Path(p) / "manifest.csv").is_file():
            return Path(p)
    return None


def utterances(held_out: bool):
    """[(name, speaker, sex)] of the held-out speakers (``held_out``) or of the others."""
    r = root()
    if r is None:
        return []
    with open(r / "manifest.csv") as fh:
        rows = list(csv.DictReader(fh))
    return [(x["name"], x["speaker"], x["sex"]) for x in rows if (x["speaker"] in HELDOUT_SPEAKERS) == held_out]


def load(name: str):
    """-> (float32 samples at 16 kHz, events [(start s, CMU phone)])."""
    import soundfile as sf

    r = root()
    x, rate = sf.read(str(r / "corpus" / f"{name}.flac"), dtype="float32")
    assert rate == 16000, rate
    ev = []
    with open(r / "corpus" / f"{name}.phones.csv") as fh:
        for row in csv.reader(fh):
            if row and row[0] != "start_s":
                ev.append((float(row[0]), row[2]))
    return np.asarray(x, np.float32), ev
