"""espeak-ng speech with phoneme timings, through libespeak-ng's phoneme events (ctypes).

``synthesize(text, speed=175, voice="en", pitch=50) -> (int16 samples, rate, events)`` where
``events`` is a list of ``(seconds, phoneme)`` in espeak-ng's ASCII phoneme mnemonics,
each phoneme lasting until the next event. Benchmark helper; not part of face3d.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np

_EV_LIST_TERMINATED = 0
_EV_PHONEME = 7
_AUDIO_OUTPUT_RETRIEVAL = 1
_INIT_PHONEME_EVENTS = 0x0001
_POS_CHARACTER = 1
_ESPEAK_RATE = 1
_ESPEAK_PITCH = 3


class _EvId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
        ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p), ("id", _EvId),
    ]


_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))
_lib = None
_rate = None
_state: dict = {}


@_CB
def _callback(wav, n, ev):
    if n > 0 and wav:
        _state["chunks"].append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
    i = 0
    while ev[i].type != _EV_LIST_TERMINATED:
        e = ev[i]
        if e.type == _EV_PHONEME:
            _state["events"].append((e.audio_position / 1000.0, e.id.string.decode("ascii", "replace")))
        i += 1
    return 0


def _init():
    global _lib, _rate
    if _lib is None:
        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        _lib = ctypes.CDLL(name)
        _rate = _lib.espeak_Initialize(_AUDIO_OUTPUT_RETRIEVAL, 0, None, _INIT_PHONEME_EVENTS)
        if _rate <= 0:
            raise RuntimeError("espeak_Initialize failed")
        _lib.espeak_SetSynthCallback(_callback)
    return _lib


def _synthesize_here(text, speed, voice, pitch):
    lib = _init()
    _state["chunks"], _state["events"] = [], []
    lib.espeak_SetVoiceByName(voice.encode())
    lib.espeak_SetParameter(_ESPEAK_RATE, int(speed), 0)
    lib.espeak_SetParameter(_ESPEAK_PITCH, int(pitch), 0)
    b = text.encode("utf-8")
    lib.espeak_Synth(b, len(b) + 1, 0, _POS_CHARACTER, 0, 0, None, None)
    lib.espeak_Synchronize()
    x = np.concatenate(_state["chunks"]) if _state["chunks"] else np.zeros(0, np.int16)
    return x.astype(np.int16), int(_rate), list(_state["events"])


def synthesize(text: str, speed: int = 175, voice: str = "en", pitch: int = 50):
    """Each utterance in a fresh forked process: in one process, libespeak-ng (1.51) lets
    an earlier text change the next one's pauses and put its phoneme events out of step
    with its audio (by 50 ms and more); a fresh engine reports them where the audio has them."""
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(_synthesize_here, (text, speed, voice, pitch))
