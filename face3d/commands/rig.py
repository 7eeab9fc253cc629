"""``face3d rig``: load any head, map or synthesise its shapes, write an editable target set."""

from __future__ import annotations

from face3d.commands._common import add_head_options

HELP = "rig a head mesh (map its blendshapes or synthesise them) and write an OBJ target set"


def register(sub):
    p = sub.add_parser(
        "rig", help=HELP, description=HELP + ". The folder holds neutral.obj and one OBJ per shape "
        "(open them in Blender as shape keys); --head FOLDER loads it back unchanged. An output ending "
        "in .npz writes a face3d rig file instead.",
    )
    p.add_argument("input", metavar="HEAD", help="head mesh: .obj (alone), .glb/.gltf, .vrm, .ply, .stl, or a target-set folder")
    p.add_argument("-o", "--output", required=True, metavar="FOLDER", help="output folder (or FILE.npz)")
    add_head_options(p, head=False)
    return p


def run(args) -> int:
    import sys
    from pathlib import Path

    from face3d.commands._common import describe_head, head_options_from_args, load_head_from_args
    from face3d.fileio import check_writable

    out = Path(args.output)
    if out.suffix.lower() not in ("", ".npz") and not out.is_dir():
        from face3d.errors import UsageError

        raise UsageError(f"-o {args.output}: rig writes a folder of OBJ targets (a name without an extension) "
                         "or a face3d rig (.npz); give one of these")
    head_options_from_args(args)  # option errors before the (slow) load
    if out.suffix.lower() == ".npz":
        check_writable(out)
    rig = load_head_from_args(args, path=args.input)
    if out.suffix.lower() == ".npz":
        rig.save(out)
        written = [out]
    else:
        from face3d.mesh.io.targetset import write_target_set

        written = write_target_set(rig, out, source=str(args.input))
    print(describe_head(rig), file=sys.stderr)
    for w in rig.info.get("warnings", []):
        print(f"warning: {w}", file=sys.stderr)
    print(out)
    return 0 if written else 1
