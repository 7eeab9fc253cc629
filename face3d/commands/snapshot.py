"""``face3d snapshot``: render the head to a PNG, headless (EGL, no display needed)."""

from __future__ import annotations

from face3d.commands._common import add_head_options, background_help, parse_pitch, parse_yaw

HELP = "render the head with given shape weights to a PNG or JPEG (no display needed)"


def register(sub):
    p = sub.add_parser("snapshot", help=HELP, description=HELP)
    p.add_argument("--weights", metavar="NAME=W,...", help="shape weights in [0, 1], e.g. jawOpen=1,mouthWide=0.5")
    p.add_argument("--yaw", type=parse_yaw, default=0.0, metavar="DEG", help="turn the camera around the head (degrees, -360 to 360)")
    p.add_argument("--pitch", type=parse_pitch, default=0.0, metavar="DEG", help="raise the camera (degrees, -89 to 89)")
    p.add_argument("--pose", metavar="NAME=DEG,...",
                   help="head and eye angles in degrees: headPitch, headYaw, headRoll, eyeYaw, eyePitch "
                        "(e.g. headYaw=10,eyePitch=5; positive: chin up, toward the head's left, tilt to its right)")
    p.add_argument("--size", default="800x800", metavar="WxH", help="image size (default 800x800)")
    p.add_argument("-o", "--output", required=True, metavar="IMAGE", help="output picture: .png, or .jpg/.jpeg for a JPEG")
    p.add_argument("--background", metavar="COLOR", help=background_help("an RGBA PNG"))
    add_head_options(p)
    return p


#: What -o may name: the picture's type comes from its extension (PNG without one).
IMAGE_TYPES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


def save_jpeg(img, path) -> None:
    """An (H, W, 3) uint8 picture as a JPEG (quality 95, no chroma subsampling), atomically."""
    from PIL import Image

    from face3d.fileio import atomic_path

    with atomic_path(path, suffix=".jpg") as tmp:
        Image.fromarray(img[..., :3]).save(tmp, format="JPEG", quality=95, subsampling=0)


def run(args) -> int:
    from face3d.commands._common import (
        head_options_from_args, load_head_from_args, parse_pose, parse_size, parse_weights)
    from face3d.errors import UsageError
    from face3d.fileio import check_writable, output_format

    from face3d.commands._common import parse_background

    size = parse_size(args.size)
    weights = parse_weights(args.weights)
    background = parse_background(getattr(args, "background", None))
    pose = parse_pose(args.pose)
    kind = output_format(args.output, IMAGE_TYPES, "snapshot", default="PNG")
    if kind == "JPEG" and background == "transparent":
        raise UsageError(f"-o {args.output}: JPEG has no transparency; write a .png for --background transparent")
    check_writable(args.output)
    head_options_from_args(args)  # option errors before the (slow) load
    rig = load_head_from_args(args)
    if getattr(args, "head", None):
        import sys

        from face3d.commands._common import alive_note, describe_head

        print(describe_head(rig) + "; " + alive_note(rig), file=sys.stderr)
    vector = rig.weight_vector(weights)  # unknown names: error listing the available shapes

    from face3d.render.offscreen import render_snapshot, save_png

    if background is None:
        img = render_snapshot(rig, vector, yaw=args.yaw, pitch=args.pitch, size=size, pose=pose)
    else:  # one frame of the video renderer: a colour, or alpha 0 around the head
        from face3d.render.offscreen import create_context
        from face3d.render.video import FrameOptions, FrameRenderer

        ctx = create_context()
        fr = FrameRenderer(ctx, rig, FrameOptions(size=size, yaw=args.yaw, pitch=args.pitch, background=background,
                                                  samples=4, dirty_box=False))
        if pose:
            fr.renderer.set_pose(pose)
        img = next(iter(fr.frames([vector])))
        fr.release()
        ctx.release()
    if kind == "PNG":
        save_png(img, args.output)
    else:
        save_jpeg(img, args.output)
    print(args.output)
    return 0
