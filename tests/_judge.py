"""The face tracker that judges how a head talks: dlib's 68-point landmark model.

Test-only (the ``test`` extra installs ``dlib-bin`` and ``face-recognition-models``, which
ships ``shape_predictor_68_face_landmarks.dat``); face3d never needs it at run time.

Snapshots are rendered with face3d's own offscreen renderer at 512x512. Every measure is in
inter-ocular distances (IOD, between the centres of the two eyes' landmark rings, taken at
rest so that every pose of a head is measured with the same ruler):

* ``gap``: mean inner-lip gap over the pairs 61-67, 62-66, 63-65;
* ``width``: mouth width 48-54;
* ``chin``: height of point 8 (the chin), for the chin drop;
* upright: a face is found, and the detector scores the image higher than the image turned
  upside down.

The face box found at rest is reused for every pose of the same view, so the landmarks of
an open mouth are read in the same frame as the closed one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SIZE = (512, 512)
ANGLES = (0.0, 30.0)
INNER_PAIRS = ((61, 67), (62, 66), (63, 65))


def judge_missing() -> str | None:
    """None when the tracker can run, else why not (for a skip reason)."""
    try:
        import dlib  # noqa: F401
        import face_recognition_models  # noqa: F401
    except ImportError as exc:
        return (f"the face tracker is not installed ({exc.name}); install the test extra: "
                "pip install -e '.[test]' (dlib-bin, face-recognition-models)")
    return None


class Tracker:
    """dlib's HOG face detector and 68-point shape predictor."""

    def __init__(self):
        import dlib
        import face_recognition_models

        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())
        self._dlib = dlib

    def detect(self, img: np.ndarray):
        """(best box or None, its score). Upsampled once; a low threshold finds grey renders."""
        dets, scores, _ = self.detector.run(np.ascontiguousarray(img), 1, -0.6)
        if not len(dets):
            return None, -np.inf
        i = int(np.argmax(scores))
        return dets[i], float(scores[i])

    def landmarks(self, img: np.ndarray, box) -> np.ndarray:
        shape = self.predictor(np.ascontiguousarray(img), box)
        return np.array([[shape.part(i).x, shape.part(i).y] for i in range(68)], np.float64)


@dataclass
class View:
    """What the tracker reads in one view (one camera yaw) of a head."""

    yaw: float
    found: bool = False
    upright: bool = False
    score: float = -np.inf
    flipped_score: float = -np.inf
    iod: float = float("nan")
    poses: dict = field(default_factory=dict)  # pose name -> (68, 2) landmarks

    def gap(self, pose: str) -> float:
        pts = self.poses[pose]
        return float(np.mean([pts[b, 1] - pts[a, 1] for a, b in INNER_PAIRS]) / self.iod)

    def width(self, pose: str) -> float:
        pts = self.poses[pose]
        return float(np.linalg.norm(pts[54] - pts[48]) / self.iod)

    def chin(self, pose: str) -> float:
        """How far the chin is below where it is at rest (IOD, positive: lower)."""
        return float((self.poses[pose][8, 1] - self.poses["rest"][8, 1]) / self.iod)


POSES = {
    "rest": {},
    "jawOpen": {"jawOpen": 1.0},
    "mouthWide": {"mouthWide": 1.0},
    "mouthPucker": {"mouthPucker": 1.0},
    "mouthClose": {"jawOpen": 0.0, "mouthClose": 1.0},
}


def render(rig, weights: dict, yaw: float, ctx, size=SIZE) -> np.ndarray:
    from face3d.render.offscreen import render_snapshot

    vec = rig.weight_vector({k: v for k, v in weights.items() if k in rig.names}) if weights else None
    return render_snapshot(rig, vec, yaw=yaw, size=size, ctx=ctx)


def read_view(tracker: Tracker, rig, yaw: float, ctx, poses=POSES, images: dict | None = None) -> View:
    view = View(yaw=yaw)
    rest = render(rig, {}, yaw, ctx)
    if images is not None:
        images[("rest", yaw)] = rest
    box, score = tracker.detect(rest)
    _, flipped = tracker.detect(rest[::-1, ::-1])
    view.score, view.flipped_score = score, flipped
    view.found = box is not None
    view.upright = view.found and score > flipped
    if not view.found:
        return view
    pts = tracker.landmarks(rest, box)
    view.iod = float(np.linalg.norm(pts[36:42].mean(0) - pts[42:48].mean(0)))
    view.poses["rest"] = pts
    for name, w in poses.items():
        if name == "rest":
            continue
        img = render(rig, w, yaw, ctx)
        if images is not None:
            images[(name, yaw)] = img
        view.poses[name] = tracker.landmarks(img, box)
    return view


def judge_head(tracker: Tracker, rig, ctx, angles=ANGLES) -> dict:
    """{yaw: View} for a rig at the given camera angles."""
    return {yaw: read_view(tracker, rig, yaw, ctx) for yaw in angles}


def summary(views: dict) -> dict:
    """The issue's measures for one head (IOD; NaN where no face was found)."""
    front = views[0.0]
    nan = float("nan")
    out = {"upright": all(v.upright for v in views.values())}
    for yaw, v in views.items():
        tag = "front" if yaw == 0 else f"{int(yaw)}deg"
        if not v.found:
            out[f"rest_gap_{tag}"] = out[f"jaw_gap_{tag}"] = out[f"chin_{tag}"] = nan
            continue
        out[f"rest_gap_{tag}"] = v.gap("rest")
        out[f"jaw_gap_{tag}"] = v.gap("jawOpen") - v.gap("rest")
        out[f"chin_{tag}"] = v.chin("jawOpen")
    if front.found:
        w0 = front.width("rest")
        out["wide"] = front.width("mouthWide") / w0 - 1.0
        out["pucker"] = front.width("mouthPucker") / w0 - 1.0
        out["close_gap"] = front.gap("mouthClose")
    else:
        out["wide"] = out["pucker"] = out["close_gap"] = nan
    return out


#: The issue's thresholds: (measure, test, limit).
CHECKS = (
    ("upright", "is", True),
    ("rest_gap_front", "<=", 0.08),
    ("rest_gap_30deg", "<=", 0.08),
    ("jaw_gap_front", ">=", 0.25),
    ("jaw_gap_30deg", ">=", 0.25),
    ("chin_front", ">", 0.0),
    ("chin_30deg", ">", 0.0),
    ("wide", ">=", 0.06),
    ("pucker", "<=", -0.06),
    ("close_gap", "<=", 0.06),
)


def failures(s: dict, synthesised=None) -> list[str]:
    """The checks a head's summary fails, as readable lines. mouthClose is judged only where
    it was synthesised (a head's own mouthClose is the artist's)."""
    bad = []
    for key, op, limit in CHECKS:
        if key == "close_gap" and synthesised is not None and "mouthClose" not in synthesised:
            continue
        val = s.get(key)
        if op == "is":
            ok = val is limit
        elif val is None or not np.isfinite(val):
            ok = False
        else:
            ok = {"<=": val <= limit, ">=": val >= limit, ">": val > limit}[op]
        if not ok:
            bad.append(f"{key} = {val if isinstance(val, bool) else round(float(val), 3)} (want {op} {limit})")
    return bad
