"""``face3d render``: speech -> a talking-head video (MP4, WebM) or PNG frames, no display needed.

The glue of the video path: read the sound (:mod:`face3d.audio`), analyse it or read
curves (:mod:`face3d.pipeline`, :mod:`face3d.track`), sample the weights at ``i / fps``,
draw the frames (:mod:`face3d.render.video`) and encode them in a thread
(:mod:`face3d.render.encode`), into a temporary file renamed onto the output at the end.
"""

from __future__ import annotations

import sys
import time

from face3d.commands._common import (add_alive_options, add_head_options, alive_from_args, background_help,
                                     number_option, parse_background, parse_pitch, parse_yaw)
from face3d.commands._jobs import add_batch_options

HELP = "render the head speaking a sound file to a video (MP4/WebM) or PNG frames, no display needed"

DESCRIPTION = """\
Render the head speaking AUDIO to a video file: H.264 video (yuv420p, plays in browsers;
index at the front for the web) with the sound as AAC, lasting exactly as long as the
sound; frame i shows the head at time i / fps. Offscreen (EGL): no display or GPU needed.
AUDIO: WAV, FLAC, OGG, MP3, M4A, Opus, or a video (MP4, MOV, MKV, WebM) with sound.
--background transparent writes a WebM (VP9 with alpha) or, with --frames, RGBA PNGs.
"""

PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow")
parse_fps = number_option("--fps", 1.0, 240.0, unit="frames per second")
parse_crf = number_option("--crf", 0.0, 63.0, unit="(lower is better quality; 18-28 is usual)")


def register(sub):
    import argparse

    p = sub.add_parser("render", help=HELP, description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("audio", nargs="*", metavar="AUDIO",
                   help="speech: an audio file or a video with sound (optional with --curves); several, or folders, "
                        "make a batch: one video each in -o OUTDIR/ (in/a/b.wav -> OUTDIR/a/b.mp4)")
    p.add_argument("-o", "--output", metavar="VIDEO",
                   help="output video: .mp4, .mov, .m4v, .mkv (H.264) or .webm (VP9); a folder for a batch")
    p.add_argument("--frames", metavar="DIR", help="write a PNG sequence into this new folder instead of a video")
    p.add_argument("--curves", metavar="CSV", help="drive the head from a weight CSV instead of analysing AUDIO")
    p.add_argument("--size", default="1280x720", metavar="WxH", help="frame size, even width and height for video (default 1280x720)")
    p.add_argument("--fps", type=parse_fps, default=30.0, help="frames per second (default 30)")
    p.add_argument("--yaw", type=parse_yaw, default=0.0, metavar="DEG", help="turn the camera around the head (degrees, -360 to 360)")
    p.add_argument("--pitch", type=parse_pitch, default=0.0, metavar="DEG", help="raise the camera (degrees, -89 to 89)")
    p.add_argument("--turntable", action="store_true", help="orbit the camera slowly around the head (one turn in 12 s)")
    p.add_argument("--background", metavar="COLOR", help=background_help("a WebM with alpha, or RGBA PNG frames"))
    p.add_argument("--codec", metavar="NAME", help="video codec: h264 (default) or vp9 (.webm)")
    p.add_argument("--crf", type=parse_crf, metavar="Q", help="quality: 0 (best) to 63 (default 20 for H.264, 32 for VP9)")
    p.add_argument("--samples", type=int, choices=(0, 2, 4), default=0, help="antialiasing samples: 0 (default, fastest), 2 or 4 (smoother edges, about half the speed)")
    p.add_argument("--preset", choices=PRESETS, help="x264 speed preset (default ultrafast, the least CPU per frame; slower presets make smaller files)")
    p.add_argument("--threads", type=int, choices=range(1, 17), metavar="N", help="encoder threads (default 2)")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    add_head_options(p)
    add_alive_options(p)
    add_batch_options(p)
    return p


def check_names(names, rig, label: str, *, given: bool = False) -> None:
    """FormatError if none of the curve ``names`` drives the head; a line for those it lacks.
    ``given``: the names are a user's curves file, so a line also says which of its mouth
    curves the head's visemes replace (not said when face3d chose to analyse with visemes)."""
    from face3d.errors import FormatError
    from face3d.render.pose import POSE_NAMES

    known = [n for n in names if n in rig.names or n in POSE_NAMES]
    if not known:
        raise FormatError(f"{label}: none of its shapes ({', '.join(names)}) is on the head "
                          f"(the head has {', '.join(rig.names) or 'no shapes'}); rename the columns or use another head")
    lacking = [n for n in names if n not in rig.names and n not in POSE_NAMES]
    if lacking:
        print(f"face3d render: {label}: the head has no {', '.join(lacking)}; those curves are ignored", file=sys.stderr)
    from face3d.mesh.rig.visemes import muted_curves

    muted = muted_curves(rig, names) if given else []
    if muted:
        print(f"face3d render: {label}: the head's visemes drive its mouth; {', '.join(muted)} are left to them",
              file=sys.stderr)


def track_weights(track, rig, times, label: str, *, given: bool = False):
    """(N, K) weights of ``rig``'s shapes at ``times`` from ``track``; FormatError if it drives none.
    ``given``: ``track`` is a user's curves file (see :func:`check_names`)."""
    import numpy as np

    check_names(track.names, rig, label, given=given)
    from face3d.mesh.rig.visemes import shape_columns

    values = track.sample(times)
    out = np.zeros((len(times), rig.n_shapes), np.float32)
    for j, k in shape_columns(rig, track.names):
        out[:, k] = values[:, j]
    return out


def track_poses(track, times):
    """(N, 5) head and eye angles (degrees) of ``track`` at ``times``, or None if it has none."""
    import numpy as np

    from face3d.render.pose import POSE_NAMES

    cols = [j for j, n in enumerate(track.names) if n in POSE_NAMES]
    if not cols:
        return None
    values = track.sample(times)
    out = np.zeros((len(times), len(POSE_NAMES)), np.float64)
    for j in cols:
        out[:, POSE_NAMES.index(track.names[j])] = values[:, j]
    return out


def render_video(rig, weights, *, output=None, frames_dir=None, fps=30.0, size=(1280, 720), yaw=0.0, pitch=0.0,
                 turntable=False, background=None, codec=None, crf=None, samples=0, audio=None, progress=True,
                 preset=None, threads=None, poses=None, interrupts=None, active=None, total=None):
    """Draw ``weights`` (N, K), or an iterable of (K,) rows read one frame at a time, on
    ``rig`` and write them to ``output`` (a video) or ``frames_dir``.

    ``audio``: (mono float samples or an iterable of blocks, rate) to mux, or None.
    ``poses``: per frame head and eye angles ((N, 5), an iterable of rows, or None);
    ``active``: the shapes that may move (see :meth:`FrameRenderer.frames`); ``total``:
    the number of frames for the progress bar when ``weights`` has no length. Nothing is
    left at the output path if this fails or is interrupted. Returns the seconds it took.
    ``interrupts``: an :class:`_Interrupts` whose noted signal stops the frame loop and
    the final rename.
    """
    from face3d.fileio import atomic_path
    from face3d.render.encode import (EncodeOptions, EncoderThread, PngSink, VideoSink, atomic_dir,
                                      check_video_size, container_for, output_error)
    from face3d.render.offscreen import create_context
    from face3d.render.video import FrameOptions, FrameRenderer

    transparent = background == "transparent"
    if frames_dir is None:
        fmt, codec = container_for(output, codec, transparent)
        check_video_size(size)
    ctx = create_context()
    fr = FrameRenderer(ctx, rig, FrameOptions(size=size, fps=fps, yaw=yaw, pitch=pitch, turntable=turntable,
                                              background=background, samples=samples))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(weights) if hasattr(weights, "__len__") else total, unit="frame", file=sys.stderr, leave=False, dynamic_ncols=True,
                   desc="render", bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]")
    target = frames_dir if frames_dir is not None else output
    t0 = time.perf_counter()
    try:
        with (atomic_dir(frames_dir) if frames_dir is not None else atomic_path(output)) as tmp:
            try:
                if frames_dir is not None:
                    sink = PngSink(tmp)
                else:
                    opts = EncodeOptions(codec=codec, crf=crf, alpha=transparent)
                    opts.preset = preset or opts.preset
                    opts.threads = threads or opts.threads
                    sink = VideoSink(tmp, fmt, size, fps, opts, audio=audio)
            except OSError as exc:
                raise output_error(target, exc) from None
            enc = EncoderThread(sink)
            try:
                for item in fr.frames(weights, boxes=True, poses=poses, active=active):  # (frame, where it changed)
                    if interrupts is not None:
                        interrupts.check()
                    enc.put(item)
                    if bar is not None:
                        bar.update(1)
                enc.finish()
                if interrupts is not None:
                    interrupts.check()
            except OSError as exc:
                enc.abort()
                raise output_error(target, exc) from None
            except BaseException:
                enc.abort()
                raise
    finally:
        if bar is not None:
            bar.close()
        fr.release()
        ctx.release()
    return time.perf_counter() - t0


class _Interrupts:
    """While rendering, SIGINT and SIGTERM raise KeyboardInterrupt in the main thread (so
    the temporary output is removed) and stay noted: a KeyboardInterrupt can be lost when
    it lands inside a finaliser (Python only prints "Exception ignored"), so the frame loop
    also checks :attr:`requested` and stops then. The old handlers come back after.
    SIGINT is left alone when it is not Python's default: a batch decides what Ctrl-C
    does to the files it runs (see :mod:`face3d.batch`)."""

    def __init__(self):
        self.requested = False
        self.old = {}

    def __enter__(self):
        import signal

        for sig in (signal.SIGINT, signal.SIGTERM):
            if sig == signal.SIGINT and signal.getsignal(sig) is not signal.default_int_handler:
                continue  # Ctrl-C is someone else's: ignored (a batch's worker) or counted by a batch
            try:
                self.old[sig] = signal.signal(sig, self._handler)
            except ValueError:  # not the main thread
                pass
        return self

    def _handler(self, signum, frame):
        self.requested = True
        raise KeyboardInterrupt

    def check(self) -> None:
        if self.requested:
            raise KeyboardInterrupt

    def __exit__(self, *exc):
        import signal

        for sig, old in self.old.items():
            signal.signal(sig, old)
        return False


def load_speech_and_track(audio_path, curves_path, rig, alive: dict | None = None):
    """(audio (samples, rate) or None, track, duration) for the command's inputs; ``alive``:
    the ``alive``/``seed`` keywords of the analysis (blinks, brows, gaze, head motion)."""
    from face3d.errors import UsageError

    audio = track = None
    duration = None
    if audio_path is not None:
        from face3d.audio.files import load_audio

        samples, rate = load_audio(audio_path, rate=None)
        audio = (samples, rate)
        duration = samples.shape[0] / rate
    if curves_path is not None:
        from face3d.track import read_csv

        track = read_csv(curves_path)
        from face3d.commands._common import check_curve_weights

        check_curve_weights(track, curves_path)       # the rule of --weights: each weight 0 to 1
        if duration is None:
            duration = track.duration
    elif audio is not None:
        from face3d.pipeline import analyze_samples

        track = analyze_samples(*audio, **(alive or {}))
    else:
        raise UsageError("give AUDIO (a sound file), or --curves CSV, or both")
    return audio, track, duration


def render_file(src: str, dst: str, *, options: dict) -> str:
    """One input of a batch -> one video, by this command with the batch's options; what it
    would print becomes the report's message."""
    import argparse
    import contextlib
    import io

    ns = argparse.Namespace(**options)
    ns.audio, ns.output, ns.frames, ns.no_progress = [src], dst, None, True
    ns.jobs = ns.scheduler = None
    ns.skip_existing = False
    said = io.StringIO()
    with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
        run(ns)
    return " ".join(line.strip() for line in said.getvalue().splitlines() if line.strip() not in ("", dst))


def _run_batch(args, inputs) -> int:
    import os
    from functools import partial

    from face3d.commands import _jobs
    from face3d.commands._common import load_head_from_args, parse_size
    from face3d.errors import UsageError

    _jobs.check_batch_output(inputs, args.output)
    if args.frames is not None or args.curves is not None:
        raise UsageError("a batch renders each input's own sound to a video in -o OUTDIR/; "
                         "--frames and --curves take one AUDIO")
    parse_size(args.size)
    background = parse_background(args.background)
    load_head_from_args(args)  # a bad head is said once, before anything runs
    options = {k: v for k, v in vars(args).items() if not k.startswith("_")}
    if args.scheduler:  # the workers run in their own folders
        options.update({k: os.path.abspath(options[k]) for k in ("head", "shape_map", "landmarks") if options.get(k)})
    suffix = ".webm" if background == "transparent" or args.codec == "vp9" else ".mp4"
    return _jobs.run_batch_command(args, inputs, partial(render_file, options=options), suffix)


def run(args) -> int:
    from pathlib import Path

    from face3d.commands import _jobs
    from face3d.commands._common import head_options_from_args, load_head_from_args, parse_size
    from face3d.errors import UsageError
    from face3d.fileio import check_writable
    from face3d.render.encode import check_video_size, container_for
    from face3d.audio.blocks import AudioBlocks
    from face3d.commands._speech_frames import SpeechFrames, split_pairs
    from face3d.render.video import frame_count, frame_times

    inputs = [args.audio] if isinstance(args.audio, str) else list(args.audio or [])
    if args.output is not None and inputs and _jobs.is_batch(inputs, args.output):
        return _run_batch(args, inputs)
    if len(inputs) > 1:
        raise UsageError("several AUDIO make a batch: give -o a folder (ending in /) for the videos")
    _jobs.check_single(args)
    args.audio = inputs[0] if inputs else None
    if (args.output is None) == (args.frames is None):
        raise UsageError("give either -o VIDEO or --frames DIR")
    if args.audio is None and args.curves is None:
        raise UsageError("give AUDIO (a sound file), or --curves CSV, or both")
    size = parse_size(args.size)
    background = parse_background(args.background)
    if args.output is not None:
        container_for(args.output, args.codec, background == "transparent")
        check_video_size(size)
        check_writable(args.output)
    elif args.codec or args.crf is not None:
        raise UsageError("--codec and --crf are for video files; --frames writes PNG files")
    head_options_from_args(args)  # option errors before the slow steps
    for path in (args.audio, args.curves):
        if path is not None and not Path(path).exists():
            raise UsageError(f"{path}: no such file; check the path")

    rig = load_head_from_args(args)
    if getattr(args, "head", None) and rig.info.get("source"):
        from face3d.commands._common import describe_head

        print(describe_head(rig), file=sys.stderr)
    from face3d.commands._common import head_wants_visemes

    alive = alive_from_args(args)
    if args.curves is None and head_wants_visemes(rig):   # the head shows them: analyse with them
        alive["visemes"] = True
    stream = {}
    if args.curves is None:
        # the sound streams: read, analysed and drawn a block at a time, so that memory
        # does not grow with its length
        speech = SpeechFrames(args.audio, rig, args.fps, **alive)
        check_names(speech.names, rig, args.audio)
        weights, poses = split_pairs(speech, speech.has_poses)
        audio = (AudioBlocks(args.audio), speech.blocks.rate) if args.output is not None else None
        stream = {"active": speech.active, "total": speech.estimate}
    else:
        audio, track, duration = load_speech_and_track(args.audio, args.curves, rig, alive)
        n = frame_count(duration, args.fps)
        times = frame_times(n, args.fps)
        weights = track_weights(track, rig, times, args.curves, given=True)
        poses = track_poses(track, times)
    show = not args.no_progress and sys.stderr.isatty()
    with _Interrupts() as interrupts:
        took = render_video(rig, weights, output=args.output, frames_dir=args.frames, fps=args.fps, size=size,
                            yaw=args.yaw, pitch=args.pitch, turntable=args.turntable, background=background,
                            codec=args.codec, crf=args.crf, samples=args.samples, preset=args.preset, threads=args.threads,
                            poses=poses, interrupts=interrupts,
                            audio=audio if args.output is not None else None, progress=show, **stream)
    if args.curves is None:
        n = speech.count
    seconds = n / args.fps
    print(f"face3d render: {n} frames ({seconds:.2f} s at {args.fps:g} fps, {size[0]}x{size[1]}) in {took:.1f} s, "
          f"{seconds / max(took, 1e-9):.2f}x real time", file=sys.stderr)
    print(args.output or args.frames)
    return 0
