"""Contact sheets of the shared avatars for docs/avatars.md: each avatar at rest, with
jawOpen, mouthPucker and a blink, rendered by the real CLI (``face3d snapshot``) and put
side by side (palette PNG, 4 x 240 x 240).

    .venv/bin/python scripts/avatar_sheets.py [--out docs/avatars]

Only the avatars whose licence allows it are drawn: the MIT VALID avatars and
cryptovoxels.vrm (not brunette-t.glb, which is non-commercial).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AVATARS = ROOT.parent / "shared" / "heads" / "avatars"
FILES = ("derived_VALID_Asian_F_1_Casual.glb", "derived_VALID_White_M_1_Casual_vrm1.vrm",
         "derived_VALID_White_M_1_Casual_vrm0.vrm", "cryptovoxels.vrm")
POSES = (("neutral", None), ("jawOpen", "jawOpen=1"), ("pucker", "mouthPucker=1"),
         ("blink", "eyeBlinkLeft=1,eyeBlinkRight=1"))
SIZE = 240


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "avatars"))
    ap.add_argument("--avatars", default=str(AVATARS), help="folder of the avatars (default ../shared/heads/avatars)")
    args = ap.parse_args()
    from PIL import Image

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        src = Path(args.avatars) / name
        if not src.is_file():
            print(f"avatar_sheets: {src} is missing, skipped", file=sys.stderr)
            continue
        tiles = []
        with tempfile.TemporaryDirectory() as tmp:
            for pose, weights in POSES:
                png = Path(tmp) / f"{pose}.png"
                cmd = [sys.executable, "-m", "face3d", "snapshot", "--head", str(src), "-o", str(png),
                       "--size", f"{SIZE}x{SIZE}"]
                r = subprocess.run(cmd + (["--weights", weights] if weights else []), cwd=ROOT,
                                   capture_output=True, text=True)
                if r.returncode != 0 and weights and "unknown shape" in r.stderr:
                    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)  # no such shape: at rest
                if r.returncode != 0:
                    print(r.stderr, file=sys.stderr)
                    return 1
                if pose == "neutral":
                    print(r.stderr.strip().splitlines()[0], file=sys.stderr)
                tiles.append(Image.open(png).convert("RGB"))
        sheet = Image.new("RGB", (SIZE * len(tiles), SIZE))
        for i, t in enumerate(tiles):
            sheet.paste(t, (SIZE * i, 0))
        dst = out / (name.rsplit(".", 1)[0] + ".png")
        sheet.quantize(160).save(dst, optimize=True)
        print(dst)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
