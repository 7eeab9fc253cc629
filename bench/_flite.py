"""Flite speech with phone timings, through libflite (ctypes): benchmark and training helper.

``synthesize(text, voice="awb") -> (int16 samples, rate, events)`` where ``events`` is a
list of ``(seconds, phone)`` in Flite's (CMU) phone set, each phone lasting until the
next event, ``pau`` for silence. Needs Debian's ``flite`` libraries (``libflite1``).
Flite's ``kal`` and ``slt`` voices are kept for independent checks: the training script
refuses them (see ``scripts/train_visemes.py``).
"""

from __future__ import annotations

import ctypes

import numpy as np


class _Wave(ctypes.Structure):
    _fields_ = [("type", ctypes.c_char_p), ("sample_rate", ctypes.c_int), ("num_samples", ctypes.c_int),
                ("num_channels", ctypes.c_int), ("samples", ctypes.POINTER(ctypes.c_short))]


_lib = None
_voices: dict = {}


def _init():
    global _lib
    if _lib is None:
        mode = ctypes.RTLD_GLOBAL
        for dep in ("libflite.so.1", "libflite_usenglish.so.1", "libflite_cmulex.so.1"):
            ctypes.CDLL(dep, mode=mode)
        _lib = ctypes.CDLL("libflite.so.1", mode=mode)
        _lib.flite_init()
        vp = ctypes.c_void_p
        _lib.flite_synth_text.restype = vp
        _lib.flite_synth_text.argtypes = [ctypes.c_char_p, vp]
        _lib.utt_wave.restype = ctypes.POINTER(_Wave)
        _lib.utt_wave.argtypes = [vp]
        _lib.utt_relation.restype = vp
        _lib.utt_relation.argtypes = [vp, ctypes.c_char_p]
        _lib.relation_head.restype = vp
        _lib.relation_head.argtypes = [vp]
        _lib.item_next.restype = vp
        _lib.item_next.argtypes = [vp]
        _lib.item_feat_string.restype = ctypes.c_char_p
        _lib.item_feat_string.argtypes = [vp, ctypes.c_char_p]
        _lib.item_feat_float.restype = ctypes.c_float
        _lib.item_feat_float.argtypes = [vp, ctypes.c_char_p]
        _lib.delete_utterance.argtypes = [vp]
    return _lib


def _voice(name: str):
    lib = _init()
    if name not in _voices:
        vl = ctypes.CDLL(f"libflite_cmu_us_{name}.so.1", mode=ctypes.RTLD_GLOBAL)
        reg = getattr(vl, f"register_cmu_us_{name}")
        reg.restype = ctypes.c_void_p
        reg.argtypes = [ctypes.c_char_p]
        _voices[name] = (vl, reg(None))
    return lib, _voices[name][1]


def synthesize(text: str, voice: str = "awb"):
    lib, v = _voice(voice)
    u = lib.flite_synth_text(text.encode("utf-8"), v)
    w = lib.utt_wave(u).contents
    n = w.num_samples * w.num_channels
    x = np.ctypeslib.as_array(w.samples, shape=(n,)).copy().astype(np.int16)
    if w.num_channels > 1:
        x = x.reshape(-1, w.num_channels)[:, 0].copy()
    rate = int(w.sample_rate)
    events = []
    it = lib.relation_head(lib.utt_relation(u, b"Segment"))
    start = 0.0
    while it:
        name = lib.item_feat_string(it, b"name").decode("ascii", "replace")
        end = float(lib.item_feat_float(it, b"end"))
        events.append((start, name))
        start = end
        it = lib.item_next(it)
    lib.delete_utterance(u)
    return x, rate, events
