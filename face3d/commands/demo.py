"""``face3d demo``: the main job on the bundled head (or ``--head``: your own, framed on its face).

With a display, opens the viewer (``face3d view``) playing the bundled demo speech on the
default head. Without one (or with ``--no-window``), renders the head speaking the demo
speech to ``demo.mp4`` with its curves (``demo.csv``) and their plot (``demo.png``), and the
five poses (neutral, jaw open, wide, pucker, close) to PNG files, and prints their paths.
"""

from __future__ import annotations

HELP = ("the bundled head speaking the demo speech: in a window if there is a display, else to a video "
        "(out/demo.mp4) with its curves and plot (the default command)")

POSES = [
    ("neutral", {}),
    ("jawOpen", {"jawOpen": 1.0}),
    ("mouthWide", {"mouthWide": 1.0, "jawOpen": 0.25}),
    ("mouthPucker", {"mouthPucker": 1.0, "jawOpen": 0.15}),
    ("mouthClose", {"mouthClose": 1.0}),
]


def register(sub):
    from face3d.commands._common import parse_yaw

    p = sub.add_parser("demo", help=HELP, description=HELP)
    p.add_argument("-o", "--outdir", default="out", metavar="DIR", help="folder for the files (default: out/)")
    p.add_argument("--size", metavar="WxH", help="image and video size, even width and height (default: 640x640 images, "
                                                "1280x720 video)")
    p.add_argument("--yaw", type=parse_yaw, default=20.0, metavar="DEG", help="camera yaw in degrees, -360 to 360 (default 20)")
    p.add_argument("--no-window", action="store_true", help="render the files even when a display is available")
    from face3d.commands._common import add_head_options

    add_head_options(p)  # --head: the demo on your own head or avatar (framed on its face)
    return p


#: the head options a demo hands on to the viewer
_HEAD_OPTIONS = ("head", "up", "forward", "shape_map", "landmarks", "mouth", "mouth_width", "jaw_pivot",
                 "no_autorig", "allow_large", "frame")


def run(args) -> int:
    from face3d.viewer.display import display_configured

    if getattr(args, "no_window", False):
        return _run_files(args, "--no-window")
    if display_configured():
        return _run_viewer(args)
    return _run_files(args, "no display (DISPLAY is not set)")


def _run_viewer(args) -> int:
    """The viewer with the demo speech; falls back to the files if no window opens."""
    from face3d.commands import view
    from face3d.errors import NoDisplayError

    vargs = view.register_defaults()
    for name in _HEAD_OPTIONS:
        if hasattr(args, name):
            setattr(vargs, name, getattr(args, name))
    try:
        return view.run(vargs)
    except NoDisplayError as exc:
        return _run_files(args, str(exc).split(";")[0])


def _run_files(args, why: str) -> int:
    """The files instead of a window: the demo video, its curves and plot, the five poses."""
    import sys

    from face3d.commands._common import parse_video_size

    size = parse_video_size(args.size) if args.size else (1280, 720)   # the same rule as render's
    outdir = _prepare(args.outdir)
    print(f"face3d demo: {why}: rendering the head speaking the demo speech to {outdir / 'demo.mp4'} "
          "instead of a window (with its curves and their plot, and the poses as PNG files)", file=sys.stderr)
    rig = _load_rig(args)
    status = _run_snapshots(args, rig)
    from face3d.commands._demo_video import write_demo_video

    for path in write_demo_video(outdir, size=size, yaw=args.yaw, rig=rig):
        print(path)
    return status


def _prepare(outdir):
    """Make the output folder and check a file can be written there (before the slow steps)."""
    from pathlib import Path

    from face3d.errors import OutputError
    from face3d.fileio import check_writable

    outdir = Path(outdir)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {outdir}: {exc.strerror}; choose another --outdir") from None
    check_writable(outdir / f"head_{POSES[0][0]}.png")
    return outdir


def _load_rig(args):
    """The bundled head, or --head with its options (said in one line on stderr)."""
    if not getattr(args, "head", None):
        from face3d.mesh.heads import load_head

        return load_head()
    import sys

    from face3d.commands._common import alive_note, describe_head, head_options_from_args, load_head_from_args

    head_options_from_args(args)
    rig = load_head_from_args(args)
    print(describe_head(rig) + "; " + alive_note(rig), file=sys.stderr)
    return rig


def _run_snapshots(args, rig=None) -> int:
    from face3d.commands._common import parse_size
    from face3d.render.offscreen import Offscreen, create_context, save_png
    from face3d.render.camera import OrbitCamera
    from face3d.render.renderer import HeadRenderer

    size = parse_size(args.size or "640x640")
    outdir = _prepare(args.outdir)
    rig = _load_rig(args) if rig is None else rig
    ctx = create_context()
    renderer = HeadRenderer(ctx, rig)
    camera = OrbitCamera.for_rig(rig, yaw=args.yaw)
    target = Offscreen(ctx, size)
    for name, weights in POSES:
        renderer.set_weights({k: v for k, v in weights.items() if k in rig.names})
        img = target.render(lambda: renderer.draw_camera(camera, target.aspect))
        path = outdir / f"head_{name}.png"
        save_png(img, path)
        print(path)
    return 0
