"""The contact sheet of the default head's fifteen visemes (docs/visemes_contact_sheet.png).

Each tile is the real CLI, ``face3d snapshot --weights viseme_X=1`` (front view, and a
three-quarter view below it), cropped to the mouth and labelled; Pillow composites them.

    python scripts/visemes_contact_sheet.py [-o docs/visemes_contact_sheet.png] [--head PATH]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

VISEMES = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "I", "O", "U")
PHONES = {"sil": "rest", "PP": "p b m", "FF": "f v", "TH": "th", "DD": "t d", "kk": "k g ng", "CH": "ch sh j",
          "SS": "s z", "nn": "n l", "RR": "r", "aa": "ah", "E": "eh", "I": "ee ih", "O": "aw", "U": "oo w"}
SIZE = 800
# the mouth in an 800x800 snapshot of the default head (front; three-quarter at yaw 35)
CROPS = {0: (280, 350, 520, 500), 35: (195, 345, 435, 495)}


def snapshot(out: Path, weights: str, yaw: float, head: str | None) -> None:
    cmd = [sys.executable, "-m", "face3d", "snapshot", "--size", f"{SIZE}x{SIZE}", "--yaw", str(yaw), "-o", str(out)]
    if weights:
        cmd += ["--weights", weights]
    if head:
        cmd += ["--head", head]
    subprocess.run(cmd, check=True, capture_output=True)


def main(argv=None) -> int:
    from PIL import Image, ImageDraw

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default="docs/visemes_contact_sheet.png")
    ap.add_argument("--head", help="another head (default: the bundled one)")
    ap.add_argument("--cols", type=int, default=5)
    args = ap.parse_args(argv)
    tiles = []
    with tempfile.TemporaryDirectory() as tmp:
        for v in VISEMES:
            views = []
            for yaw, box in CROPS.items():
                png = Path(tmp) / f"{v}_{yaw}.png"
                snapshot(png, "" if v == "sil" else f"viseme_{v}=1", yaw, args.head)
                views.append(Image.open(png).convert("RGB").crop(box))
            w, h = views[0].size
            tile = Image.new("RGB", (w, 2 * h + 24), (24, 26, 30))
            for i, im in enumerate(views):
                tile.paste(im, (0, 24 + i * h))
            ImageDraw.Draw(tile).text((8, 5), f"viseme_{v}  ({PHONES[v]})", fill=(235, 235, 235))
            tiles.append(tile)
    w, h = tiles[0].size
    rows = -(-len(tiles) // args.cols)
    sheet = Image.new("RGB", (args.cols * (w + 4) + 4, rows * (h + 4) + 4), (12, 12, 14))
    for i, t in enumerate(tiles):
        sheet.paste(t, (4 + (i % args.cols) * (w + 4), 4 + (i // args.cols) * (h + 4)))
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_name(out.name + ".tmp.png")
    sheet.save(tmp_out, optimize=True)
    tmp_out.replace(out)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
