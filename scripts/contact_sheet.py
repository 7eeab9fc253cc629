"""The README's picture: the default head in six poses, each drawn by the real
``face3d snapshot`` command, tiled with Pillow under a label naming its ``--weights``.

    .venv/bin/python scripts/contact_sheet.py -o docs/contact_sheet.png

Extra arguments after ``--`` go to every snapshot (e.g. ``-- --head scan.obj``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

POSES = [
    ("neutral", []),
    ("jawOpen=1", ["--weights", "jawOpen=1"]),
    ("mouthWide=1", ["--weights", "mouthWide=1"]),
    ("mouthPucker=1", ["--weights", "mouthPucker=1"]),
    ("eyeBlink L+R=1", ["--weights", "eyeBlinkLeft=1,eyeBlinkRight=1"]),
    ("jawOpen=0.5, brows up, --yaw 30", ["--weights", "jawOpen=0.5,browInnerUp=1,browOuterUpLeft=1,browOuterUpRight=1",
                                         "--yaw", "30"]),
]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", required=True, help="PNG to write")
    ap.add_argument("--tile", type=int, default=320, help="tile size in pixels (default 320)")
    ap.add_argument("--columns", type=int, default=3)
    ap.add_argument("extra", nargs="*", help="options passed to every face3d snapshot")
    args = ap.parse_args(argv)
    from PIL import Image, ImageDraw

    label_h = 26
    rows = -(-len(POSES) // args.columns)
    sheet = Image.new("RGB", (args.columns * args.tile, rows * (args.tile + label_h)), "white")
    draw = ImageDraw.Draw(sheet)
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, opts) in enumerate(POSES):
            png = Path(tmp) / f"{i}.png"
            cmd = [sys.executable, "-m", "face3d", "snapshot", *opts, "--size", f"{args.tile}x{args.tile}",
                   "-o", str(png), *args.extra]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print(f"contact_sheet: {' '.join(cmd[2:])} failed: {r.stderr.strip()}", file=sys.stderr)
                return 1
            x, y = (i % args.columns) * args.tile, (i // args.columns) * (args.tile + label_h)
            with Image.open(png) as im:
                sheet.paste(im.convert("RGB"), (x, y))
            draw.text((x + 8, y + args.tile + 6), label, fill=(30, 30, 30))
    tmp_out = Path(args.output).with_name(Path(args.output).name + ".tmp.png")
    sheet.save(tmp_out, optimize=True)
    tmp_out.replace(args.output)
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
