"""The viewer with real sound, no sound card: a private PulseAudio whose null sink 'spk'
is the default output and whose monitor 'spk.monitor' is the default input.

* --mic: speech played into the sink opens the mouth (record and window pixels), silence rests it;
* file mode: the sound the viewer plays is recorded back from the monitor, and --record
  lines up with 'face3d export' with the clock of the heard sound;
* the sound server dying mid-stream is reported and the window stays up.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest

from face3d.render.renderer import BACKGROUND
from face3d.track import read_csv

from _audio_helpers import start_pulse, stop_pulse
from _viewer_helpers import ROOT, best_lag, head_args, mask, running_viewer, viewer_env, xvfb_display

pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("pulseaudio", "pactl", "paplay", "parec", "xdotool", "espeak-ng")),
    reason="needs pulseaudio, pulseaudio-utils, xdotool and espeak-ng",
)
pytestmark = [pytestmark, pytest.mark.realtime]  # sound heard back through a null sink: see conftest

SPEECH = ROOT / "models" / "demo_speech.wav"


@pytest.fixture(scope="module")
def xvfb():
    yield from xvfb_display("800x600x24")


def _pulse_env(pulse):
    """What the viewer needs to find the private sound server."""
    return {k: pulse[k] for k in ("XDG_RUNTIME_DIR", "HOME", "PULSE_RUNTIME_PATH")}


def _quit(v):
    v.key("q")
    return v.finish(0)


def test_mic_mouth_opens_with_speech_and_rests(xvfb, pulse, tmp_path):
    clip = tmp_path / "papa.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(clip), "Papa, Mama, ah ah ah."], check=True, capture_output=True)
    rec = tmp_path / "mic.csv"
    # --mouth-only: the face at rest is still (no blinks or sway to tell apart from the lips)
    args = ["--mic", *head_args(tmp_path), "--size", "400x300", "--record", rec, "--no-osd", "--stats", "--mouth-only"]
    with running_viewer(xvfb, args, title="microphone", env=_pulse_env(pulse)) as v:
        v.wait_for("first frame drawn")
        time.sleep(2.5)                                   # the stream warms up; room silence
        rest = v.grab((400, 300))
        t_play = time.monotonic()
        player = subprocess.Popen(["paplay", str(clip)], env=pulse)
        speaking = []
        while player.poll() is None and time.monotonic() - t_play < 15:
            speaking.append(v.grab((400, 300)))
            time.sleep(0.05)
        time.sleep(1.5)                                   # silence again
        after = v.grab((400, 300))
        err = _quit(v)
    assert "recorded" in err
    head = mask(rest, BACKGROUND)
    moved = max(np.abs(s.astype(int) - rest)[head].mean() for s in speaking)
    assert moved > 1.0, f"the mouth did not move on screen while speech played ({moved:.2f})"
    assert np.abs(after.astype(int) - rest)[head].mean() < 0.3, "the face did not come back to rest"
    tr = read_csv(rec)
    jaw = tr.column("jawOpen")
    assert jaw.max() > 0.5, "the mouth never opened"
    assert jaw[-30:].max() < 0.05, "the mouth did not rest after the speech"
    assert (jaw > 0.3).mean() > 0.05


def _heard_scores(heard: np.ndarray, speech: np.ndarray, rate: int) -> list[float]:
    """How exactly each quarter second of seconds 1 to 3 of ``speech`` is in ``heard``
    (normalised cross-correlation at the best offset)."""
    scores = []
    for k in range(8):
        ref = speech[rate + k * rate // 4: rate + (k + 1) * rate // 4]
        if len(heard) < len(ref):
            return [0.0] * 8
        c = np.correlate(heard, ref, "valid")
        i = int(np.argmax(c))
        seg = heard[i: i + len(ref)]
        scores.append(float(c[i] / (np.linalg.norm(ref) * np.linalg.norm(seg) + 1e-12)))
    return scores


def test_file_mode_sound_is_heard_and_record_lines_up(xvfb, pulse, tmp_path):
    import soundfile as sf

    back = tmp_path / "back.raw"
    rec = tmp_path / "rec.csv"
    speech, rate = sf.read(str(SPEECH), dtype="float32")
    assert rate == 16000
    # Seconds 1 to 3 of the speech must be in what the monitor hears, sample for sample (the
    # monitor stream may start a little after the viewer's sound does). Matched in quarter-
    # second pieces: on a loaded machine the null sink drops a block now and then, which
    # shifts or cuts what follows; at least half of the pieces must match exactly (a viewer
    # that plays nothing, or plays at the wrong rate, matches none). The viewer runs until
    # they are heard (sound can start seconds late on a loaded machine), 20 s at most.
    with open(back, "wb") as raw:
        parec = subprocess.Popen(["parec", "-d", "spk.monitor", "--rate=16000", "--channels=1",
                                  "--format=s16le", "--raw"], env=pulse, stdout=raw)
        try:
            args = [SPEECH, *head_args(tmp_path), "--size", "400x300", "--record", rec, "--stats"]
            with running_viewer(xvfb, args, title="demo_speech", env=_pulse_env(pulse)) as v:
                v.wait_for("first frame drawn")
                t0 = time.monotonic()
                while True:
                    time.sleep(1.0)
                    heard = np.frombuffer(back.read_bytes(), "<i2").astype(np.float32) / 32768.0
                    scores = _heard_scores(heard, speech, rate)
                    if sorted(scores)[4] > 0.9 and time.monotonic() - t0 > 4.0 or time.monotonic() - t0 > 20.0:
                        break
                err = _quit(v)
        finally:
            parec.send_signal(signal.SIGINT)
            parec.wait(timeout=10)
    assert "playing silently" not in err
    assert sorted(scores)[4] > 0.9, f"the speech was not heard back from the loopback (correlations {scores})"

    r = subprocess.run([os.sys.executable, "-m", "face3d", "export", str(SPEECH), "-o", str(tmp_path / "ex.csv")],
                       cwd=ROOT, env=viewer_env(None), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    ex = read_csv(tmp_path / "ex.csv")
    tr = read_csv(rec)
    assert tr.duration > 2.0
    n = min(len(tr), len(ex))
    a, b = ex.column("jawOpen")[:n], tr.column("jawOpen")[:n]
    assert np.corrcoef(a, b)[0, 1] > 0.95
    lag, corr = best_lag(a, b)
    assert abs(lag) <= 1 and corr > 0.95, (lag, corr)


def test_sound_server_dies_mid_stream(xvfb, tmp_path):
    env, d = start_pulse()
    try:
        args = [SPEECH, *head_args(tmp_path), "--size", "320x240", "--loop", "--stats"]
        with running_viewer(xvfb, args, title="demo_speech", env=_pulse_env(env)) as v:
            v.wait_for("first frame drawn")
            time.sleep(3.0)
            subprocess.run(["pulseaudio", "-k"], env=env, capture_output=True, timeout=10)
            time.sleep(2.0)
            assert v.proc.poll() is None, "the viewer died with the sound server"
            a = v.grab((320, 240))
            time.sleep(0.5)
            b = v.grab((320, 240))
            assert np.abs(a.astype(int) - b).max() > 0, "the window froze"   # the overlay's clock keeps moving
            err = _quit(v)
        assert "sound output stopped" in err
    finally:
        stop_pulse(env, d)
