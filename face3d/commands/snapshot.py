"""``face3d snapshot``: render the head to a PNG, headless (EGL, no display needed)."""

from __future__ import annotations

from face3d.commands._common import add_head_options, number_option

HELP = "render the head with given shape weights to a PNG (no display needed)"


def register(sub):
    p = sub.add_parser("snapshot", help=HELP, description=HELP)
    p.add_argument("--weights", metavar="NAME=W,...", help="shape weights in [0, 1], e.g. jawOpen=1,mouthWide=0.5")
    p.add_argument("--yaw", type=number_option("--yaw", unit="degrees"), default=0.0, metavar="DEG", help="turn the camera around the head (degrees)")
    p.add_argument("--pitch", type=number_option("--pitch", unit="degrees"), default=0.0, metavar="DEG", help="raise the camera (degrees)")
    p.add_argument("--pose", metavar="NAME=DEG,...",
                   help="head and eye angles in degrees: headPitch, headYaw, headRoll, eyeYaw, eyePitch "
                        "(e.g. headYaw=10,eyePitch=5; positive: chin up, toward the head's left, tilt to its right)")
    p.add_argument("--size", default="800x800", metavar="WxH", help="image size (default 800x800)")
    p.add_argument("-o", "--output", required=True, metavar="PNG", help="output PNG file")
    p.add_argument("--background", metavar="COLOR",
                   help="a colour (green, blue, black, white, #RRGGBB) or transparent (an RGBA PNG)")
    add_head_options(p)
    return p


def run(args) -> int:
    from face3d.commands._common import (
        head_options_from_args, load_head_from_args, parse_pose, parse_size, parse_weights)
    from face3d.fileio import check_writable

    from face3d.commands.render import parse_background

    size = parse_size(args.size)
    weights = parse_weights(args.weights)
    background = parse_background(getattr(args, "background", None))
    pose = parse_pose(args.pose)
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
                                                  samples=4, dirty_box=False), batch=1)
        if pose:
            fr.renderer.set_pose(pose)
        img = next(iter(fr.frames([vector])))
        fr.release()
        ctx.release()
    save_png(img, args.output)
    print(args.output)
    return 0
