"""How every head talks, judged by a face tracker (dlib's 68-point landmarks).

For the default head, every human head in ../shared/heads and the avatars with a human face
in ../shared/heads/avatars (framed on the face as ``snapshot`` frames them): render 512x512 snapshots at
rest and with each shape at weight 1, from the front and from 30 degrees, read them with
dlib's landmark model (test-only: ``pip install -e '.[test]'``) and print, in inter-ocular
distances (IOD): whether an upright face is found, the inner-lip gap at rest, how much
jawOpen opens it (front / 30 degrees), how far the chin drops, the mouth-width change for
mouthWide and mouthPucker, and the gap left by mouthClose. See tests/_judge.py.

    .venv/bin/python bench/heads_judge.py [HEAD ...] [--snapshots DIR]

``--snapshots DIR`` also writes, for each head file, one PNG of its face at rest and with
the jaw open (256x256 each): ``python bench/heads_judge.py --snapshots docs/heads/`` makes
the ones shown in docs/heads.md.

``--busts`` adds the synthetic busts of tests/_busts.py: the tracker's table for MediaPipe's
face with the mouth smoothed until the lips are not sculpted (5 and 20 passes), and a
second table of how each ../shared head merged with a pedestal, an oblique base, a square
plinth, a hair volume larger than the face, a beard or a long body is oriented over all
24 axis conventions (right / wrong but said in the load line / silently wrong).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from _judge import Tracker, failures, judge_missing, read_view, summary  # noqa: E402

from face3d.errors import MeshError  # noqa: E402
from face3d.mesh.heads import load_head  # noqa: E402

SHARED = ROOT.parent / "shared" / "heads"
#: The human heads of ../shared/heads (suzanne is a monkey; bad/ are broken files).
HUMAN = ("LeePerrySmith.glb", "derived_LeePerrySmith.obj", "mediapipe_canonical_face_model.obj", "ict_facekit")
#: The avatars of ../shared/heads/avatars with a human face (full-body, framed on the face).
AVATARS = ("avatars/derived_VALID_Asian_F_1_Casual.glb", "avatars/derived_VALID_White_M_1_Casual_vrm1.vrm",
           "avatars/derived_VALID_White_M_1_Casual_vrm0.vrm", "avatars/brunette-t.glb")


def heads(names):
    if names:
        return [(Path(n).name, Path(n)) for n in names]
    out = [("default head", None)]
    out += [(n, SHARED / n) for n in HUMAN + AVATARS if (SHARED / n).exists()]
    return out


def fmt(v, pct=False):
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if v is None or not np.isfinite(v):
        return "-"
    return f"{100 * v:+.0f}%" if pct else f"{v:.2f}"


def snapshot_pair(rig, label, out: Path, ctx):
    """``<head>.png``: the head at rest and with jawOpen=1 side by side (256x256 each, from
    the front, cropped to the face the tracker found, palette PNG to stay small)."""
    from PIL import Image

    from _judge import Tracker, render
    from face3d.fileio import atomic_path

    rest, jaw = render(rig, {}, 0.0, ctx), render(rig, {"jawOpen": 1.0}, 0.0, ctx)
    box, _ = Tracker().detect(rest)
    if box is not None:  # frame the face: a bust's face is small in the full view
        cx, cy = (box.left() + box.right()) // 2, (box.top() + box.bottom()) // 2
        half = int(0.9 * max(box.right() - box.left(), box.bottom() - box.top()))
        lo_x, lo_y = max(cx - half, 0), max(cy - half, 0)
        crop = (lo_x, lo_y, min(lo_x + 2 * half, rest.shape[1]), min(lo_y + 2 * half, rest.shape[0]))
    else:
        crop = (0, 0, rest.shape[1], rest.shape[0])
    pair = Image.new("RGB", (512, 256))
    for i, img in enumerate((rest, jaw)):
        pair.paste(Image.fromarray(img).crop(crop).resize((256, 256), Image.LANCZOS), (256 * i, 0))
    stem = label.replace(" ", "_").replace("/", "_").rsplit(".", 1)[0]
    with atomic_path(out / f"{stem}.png", suffix=".png") as tmp:
        pair.quantize(128).save(tmp, format="PNG", optimize=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("heads", nargs="*", help="head files (default: the default head and ../shared/heads)")
    ap.add_argument("--snapshots", metavar="DIR", help="also write rest / jaw-open PNGs (256x256) here")
    ap.add_argument("--busts", action="store_true", help="also judge synthetic busts (tests/_busts.py)")
    args = ap.parse_args()
    why = judge_missing()
    if why:
        print(f"heads_judge: {why}", file=sys.stderr)
        return 2
    from face3d.render.offscreen import create_context

    ctx = create_context()
    tracker = Tracker()
    rows = []
    todo = heads(args.heads) + (smooth_busts() if args.busts else [])
    for label, path in todo:
        try:
            rig = load_head(path)
        except MeshError as exc:
            print(f"heads_judge: {exc}", file=sys.stderr)
            return 2
        views = {yaw: read_view(tracker, rig, yaw, ctx) for yaw in (0.0, 30.0)}
        s = summary(views)
        synth = rig.info.get("synthesised") if path is not None else []  # the default head's are its own
        bad = failures(s, synth)
        rows.append((label, s, bad, synth))
        if args.snapshots and path is not None and not label.startswith(("derived_", "smoothed ")):
            out = Path(args.snapshots)
            out.mkdir(parents=True, exist_ok=True)
            snapshot_pair(rig, label, out, ctx)
        print(f"  {label}: {'pass' if not bad else '; '.join(bad)}", file=sys.stderr)
    print("| head | upright | rest gap front / 30° | jawOpen gap front / 30° | chin drop front / 30° "
          "| mouthWide | mouthPucker | mouthClose gap | checks |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, s, bad, synth in rows:
        close = fmt(s["close_gap"]) if synth is None or "mouthClose" in synth else "own"
        print(f"| {label} | {fmt(s['upright'])} | {fmt(s['rest_gap_front'])} / {fmt(s['rest_gap_30deg'])} "
              f"| {fmt(s['jaw_gap_front'])} / {fmt(s['jaw_gap_30deg'])} | {fmt(s['chin_front'])} / {fmt(s['chin_30deg'])} "
              f"| {fmt(s['wide'], True)} | {fmt(s['pucker'], True)} | {close} "
              f"| {'pass' if not bad else f'{len(bad)} fail'} |")
    if args.busts:
        print()
        orientation_table()
    return 0


def smooth_busts():
    """MediaPipe's face with the mouth smoothed (5 and 20 passes), written to a temporary folder."""
    import tempfile

    from _busts import smooth_mouth

    from face3d.mesh.io.read import read_mesh
    from face3d.mesh.orient.normalize import detect_frame
    from face3d.mesh.io.obj import write_obj

    src = SHARED / "mediapipe_canonical_face_model.obj"
    if not src.exists():
        return []
    raw = read_mesh(src)
    head = (detect_frame(raw.positions, raw.faces).apply(raw.positions), raw.faces)
    out = []
    folder = Path(tempfile.mkdtemp(prefix="face3d_busts_"))
    for n in (5, 20):
        path = folder / f"smoothed_{n}.obj"
        write_obj(path, *smooth_mouth(head, n))
        out.append((f"smoothed {n}x mediapipe (no sculpted lips)", path))
    return out


def orientation_table():
    """Each ../shared head merged with a base, hair, a beard or a body, in all 24 axis
    conventions: how often up and forward are right, wrong but said, silently wrong."""
    from _busts import CASES, bust, rotations

    from face3d.mesh.io.read import read_mesh
    from face3d.mesh.orient.normalize import axis_name, detect_frame

    names = ("derived_LeePerrySmith.obj", "ict_facekit/generic_neutral_mesh.obj", "mediapipe_canonical_face_model.obj")
    print("| head | " + " | ".join(c.replace("_", " ") for c in CASES) + " |")
    print("|---|" + "---|" * len(CASES))
    for name in names:
        if not (SHARED / name).exists():
            continue
        raw = read_mesh(SHARED / name)
        head = (detect_frame(raw.positions, raw.faces).apply(raw.positions), raw.faces)
        cells = []
        for case in CASES:
            pos, faces = bust(head, case)
            right = said = wrong = 0
            for r in rotations():
                info = detect_frame(pos @ r, faces).info
                if (info["up"], info["forward"]) == (axis_name(r[1]), axis_name(r[2])):
                    right += 1
                elif "--up/--forward" in info.get("note", ""):
                    said += 1
                else:
                    wrong += 1
            cells.append(f"{right} / {said} / {wrong}")
        print(f"| {name.split('/')[0]} | " + " | ".join(cells) + " |")
    print("\n(right / wrong but said in the load line / silently wrong, of 24 axis conventions)")


if __name__ == "__main__":
    raise SystemExit(main())
