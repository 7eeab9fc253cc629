"""A smooth bust without sculpted lips (MediaPipe's face with the mouth smoothed until
the lips are one bump, see tests/_busts.py): the lip line is still found (not the fold
above the chin), the cut-open lips leave no dark slot at rest, and the face tracker's
checks hold. Skips where ../shared/heads or the tracker is absent."""

from __future__ import annotations

import numpy as np
import pytest

from _busts import smooth_mouth
from _judge import failures, judge_head, summary
from conftest import SHARED_HEADS

NAME = "mediapipe_canonical_face_model.obj"


def _smoothed(tmp_path, iterations):
    path = SHARED_HEADS / NAME
    if not path.exists():
        pytest.skip(f"{path} not present (the real heads live in ../shared/heads)")
    from face3d.mesh.io.read import read_mesh
    from face3d.mesh.orient.normalize import detect_frame
    from face3d.mesh.io.obj import write_obj

    raw = read_mesh(path)
    pos, faces = smooth_mouth((detect_frame(raw.positions, raw.faces).apply(raw.positions), raw.faces), iterations)
    out = tmp_path / f"smooth{iterations}.obj"
    write_obj(out, pos, faces)
    return out


@pytest.mark.parametrize("iterations", [5, 20])
def test_smooth_bust_lips_cut_without_a_slot_and_judged(gl, tracker, tmp_path, iterations):
    from face3d.mesh.heads import load_head
    from face3d.render.offscreen import render_snapshot

    path = _smoothed(tmp_path, iterations)
    rig = load_head(path)
    plain = load_head(path, autorig=False)
    assert rig.info["lips"] == "fused" and "mouth_opened" in rig.info
    marks = rig.info["landmarks"]
    nose, chin, mouth = (np.asarray(marks[k]) for k in ("nose_tip", "chin", "mouth"))
    # the lip line lies in the upper half between the nose tip and the chin
    assert 0.2 < (nose[1] - mouth[1]) / (nose[1] - chin[1]) < 0.55, marks
    for yaw in (0.0, 30.0):
        a = render_snapshot(rig, None, yaw=yaw, size=(512, 512), ctx=gl).astype(int)
        b = render_snapshot(plain, None, yaw=yaw, size=(512, 512), ctx=gl).astype(int)
        assert (a.max(axis=2) < 45).sum() == 0  # no dark slot at rest
        assert ((b - a).max(axis=2) > 30).sum() < 20  # nothing darker than before the cut
    s = summary(judge_head(tracker, rig, gl))
    gl.detect_framebuffer(0).use()
    bad = failures(s, rig.info["synthesised"])
    if iterations >= 20:
        # no lips left at all: the tracker cannot find the mouth corners to measure a width
        bad = [b for b in bad if not b.startswith("wide")]
    assert not bad, f"smoothed {iterations}x: " + "; ".join(bad)
