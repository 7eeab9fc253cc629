"""The microphone path end to end, with no sound card.

A private PulseAudio daemon with a null sink stands in for the sound card: ``paplay``
plays espeak-ng speech into the sink, and ``face3d record`` captures the sink's monitor
through PortAudio's ALSA ``default`` device (the ALSA pulse plugin), paced like a real
card. The recorded weights must match the file path for the same audio after
alignment. Device errors use an ALSA config with an output-only device. A server killed
mid-stream stands in for a device that fails: face3d's one line, none of PortAudio's own.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from face3d.audio.files import load_audio
from face3d.track import ALIVE_NAMES, MOUTH_NAMES, WeightTrack, read_csv

from _audio_helpers import ROOT, run_cli, speak, start_pulse, stop_pulse

# the mouth columns, then blinks, brows, gaze and head angles (issue 12; --mouth-only: the first four)
HEADER = ",".join(["frame", "time_s", *MOUTH_NAMES, *ALIVE_NAMES])

pytestmark = pytest.mark.skipif(
    shutil.which("pulseaudio") is None or shutil.which("paplay") is None,
    reason="needs pulseaudio and paplay (apt-get install pulseaudio pulseaudio-utils libasound2-plugins)",
)
pytestmark = [pytestmark, pytest.mark.realtime]  # sound heard back through a null sink: see conftest


def _start_record(env, *args):
    e = dict(env)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    p = subprocess.Popen(
        [sys.executable, "-m", "face3d", "record", *map(str, args)],
        env=e, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    line = p.stderr.readline()  # "recording from ..." once the stream runs
    if not line.startswith("recording from"):
        out, err = p.communicate(timeout=20)
        pytest.fail(f"record did not start: {line}{err}")
    return p


def _align(take: np.ndarray, orig: np.ndarray) -> int:
    """Offset (samples) of ``orig`` inside ``take`` maximising their cross-correlation."""
    n = len(take) + len(orig)
    nf = 1 << (n - 1).bit_length()
    c = np.fft.irfft(np.fft.rfft(take, nf) * np.conj(np.fft.rfft(orig, nf)), nf)
    lag = int(np.argmax(c))
    return lag if lag < nf - len(orig) else lag - nf


def _compare(take_wav: Path, csv: Path, speech: Path):
    take, r = load_audio(take_wav, rate=16000)
    orig, _ = load_audio(speech, rate=16000)
    lag = _align(take, orig)
    seg = np.zeros_like(take)  # the original, placed where the recording heard it
    src0, dst0 = max(0, -lag), max(0, lag)
    n = min(len(orig) - src0, len(take) - dst0)
    seg[dst0 : dst0 + n] = orig[src0 : src0 + n]
    k = np.dot(take[dst0 : dst0 + n], seg[dst0 : dst0 + n]) / np.sqrt(
        np.dot(take[dst0 : dst0 + n], take[dst0 : dst0 + n]) * np.dot(seg[dst0 : dst0 + n], seg[dst0 : dst0 + n])
    )
    assert k > 0.95, f"recording does not contain the played speech (normalised correlation {k:.3f})"
    import face3d

    rec = read_csv(csv)
    assert rec.names == MOUTH_NAMES + ALIVE_NAMES
    rec = WeightTrack(rec.times, MOUTH_NAMES, rec.values[:, :4])   # the mouth, compared below
    ref = face3d.analyze(seg, rate=r, fps=60)
    own = face3d.analyze(take_wav, fps=60, live=True)  # the microphone path's model
    assert abs(len(rec) - len(ref)) <= 1
    m = min(len(rec), len(ref))
    # the CSV is the live analysis of exactly what was captured (16-bit WAV rounding aside)
    np.testing.assert_allclose(rec.values[:m], own.values[:m], atol=0.02)
    # and matches the file path on the same speech
    jr, jf = rec.column("jawOpen")[:m], ref.column("jawOpen")[:m]
    assert np.corrcoef(jr, jf)[0, 1] > 0.9
    assert np.mean(np.abs(rec.values[:m] - ref.values[:m])) < 0.03
    assert jr.max() > 0.6
    return lag / r


def test_record_hears_speech_played_into_the_loopback(pulse, tmp_path):
    speech = tmp_path / "speech.wav"
    speak("Father saw a large dark barn, and Bob made me a map.", speech)
    csv, wav = tmp_path / "rec.csv", tmp_path / "take.wav"
    p = _start_record(pulse, "-o", csv, "--seconds", "4.5", "--wav", wav)
    time.sleep(0.4)
    subprocess.run(["paplay", str(speech)], env=pulse, check=True, timeout=30)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert "Traceback" not in err
    lines = csv.read_text().splitlines()
    assert lines[0] == HEADER
    assert len(lines) - 1 == 270  # 4.5 s at 60 fps
    lag = _compare(wav, csv, speech)
    # an idle null sink may deliver nothing until playback starts, so the lag can be ~0
    assert -0.05 < lag < 2.0




@pytest.mark.parametrize("sig, said", [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "stopped by SIGTERM")])
def test_stopping_keeps_everything_captured(pulse, tmp_path, sig, said):
    """Ctrl-C, or SIGTERM from a service manager or 'timeout': record keeps the whole take."""
    speech = tmp_path / "speech.wav"
    speak("Open the door and look at the moon.", speech)
    csv, wav = tmp_path / "rec.csv", tmp_path / "take.wav"
    p = _start_record(pulse, "-o", csv, "--wav", wav)
    time.sleep(0.3)
    subprocess.run(["paplay", str(speech)], env=pulse, check=True, timeout=30)
    time.sleep(0.3)
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert said in err and "Traceback" not in err
    lines = csv.read_text().splitlines()
    assert lines[0] == HEADER
    take, r = load_audio(wav, rate=16000)
    rec = read_csv(csv)
    dur = len(take) / r
    assert dur > 1.5
    assert len(rec) == len(lines) - 1 == int(np.floor((dur - 1e-9) * 60)) + 1
    _compare(wav, csv, speech)
    assert not [q for q in tmp_path.iterdir() if q.name.startswith(".")]


def test_sound_server_dying_mid_stream_is_one_line(tmp_path):
    """The input device fails while recording: record stops by itself (it used to wait forever),
    keeps what came before, and says so in one line, with none of PortAudio's own lines."""
    env, d = start_pulse()
    try:
        speech = tmp_path / "speech.wav"
        speak("Father saw a large dark barn, and Bob made me a map. Open the door and look at the moon.",
              speech)
        csv, wav = tmp_path / "rec.csv", tmp_path / "take.wav"
        p = _start_record(env, "-o", csv, "--wav", wav, "--seconds", "30")
        time.sleep(0.3)
        player = subprocess.Popen(["paplay", str(speech)], env=env, stderr=subprocess.DEVNULL)
        time.sleep(2.0)
        subprocess.run(["pulseaudio", "-k"], env=env, capture_output=True, timeout=10)
        try:
            out, err = p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            player.wait(timeout=10)
    finally:
        stop_pulse(env, d)
    assert p.returncode == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err            # "recording from ..." was read already: nothing else
    assert lines[0].startswith("face3d record: error: input device") and "stopped" in lines[0], err
    # the monitor delivers late and in chunks: what came before the failure may be little
    if "kept the" in lines[0]:
        assert csv.read_text().splitlines()[0] == HEADER
        assert len(load_audio(wav, rate=16000)[0]) > 0
    else:
        assert "nothing was captured before it" in lines[0] and not csv.exists() and not wav.exists()


def test_viewer_output_dying_mid_stream_is_one_line(tmp_path):
    """The sound server dies while the viewer plays: face3d's one notice, none of PortAudio's or
    ALSA's own lines (headless EGL window, no display needed)."""
    env, d = start_pulse()
    e = dict(env, PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    try:
        p = subprocess.Popen(
            [sys.executable, "-m", "face3d", "view", str(ROOT / "models" / "demo_speech.wav"), "--loop",
             "--window", "headless", "--size", "160x120", "--seconds", "7"],
            env=e, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        time.sleep(4.0)
        subprocess.run(["pulseaudio", "-k"], env=env, capture_output=True, timeout=10)
        try:
            out, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    finally:
        stop_pulse(env, d)
    if p.returncode != 0 and "headless EGL" in err:
        pytest.skip(err.strip())
    assert p.returncode == 0, err
    assert err.strip().splitlines() == [
        "face3d view: sound output stopped (device error); continuing silently on face3d's own clock"
    ], err


def test_devices_lists_the_loopback(pulse):
    r = run_cli("devices", env=pulse)
    assert r.returncode == 0, r.stderr
    assert "default" in r.stdout and "in" in r.stdout.splitlines()[0]


@pytest.fixture()
def alsa_env(tmp_path):
    raw = tmp_path / "in.raw"
    raw.write_bytes(bytes(64000))
    conf = tmp_path / "asound.conf"
    conf.write_text(
        'pcm.!default { type asym; playback.pcm "nullout"; capture.pcm "filein" }\n'
        "pcm.nullout { type null }\n"
        f'pcm.filein {{ type file; slave.pcm "nullout"; file "/dev/null"; infile "{raw}"; format "raw" }}\n'
        'pcm.speakeronly { type asym; playback.pcm "nullout"; hint { show on; description "speaker only" } }\n'
    )
    return {"ALSA_CONFIG_PATH": str(conf), "XDG_RUNTIME_DIR": str(tmp_path / "none")}


@pytest.mark.parametrize(
    "device, needle",
    [("99", "no such device"), ("nosuchdevice", "no device has that name"), ("speakeronly", "no input channels")],
)
def test_bad_device_is_one_line_exit_2(alsa_env, tmp_path, device, needle):
    out = tmp_path / "x.csv"
    r = run_cli("record", "--device", device, "-o", out, "--seconds", "1", env=alsa_env)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in r.stderr, r.stderr
    assert not out.exists()
