"""The bundled head as a face detector sees it (dlib's frontal HOG detector, 512x512, the
judge of tests/_judge.py): found from the front with a confidence of at least 2.0 (real
scanned faces score 2.0-2.5 at this size), found at 30 degrees either side, upright, and it
talks for the 68-point tracker like the real heads do. Skips without the test extra."""

from __future__ import annotations

from _judge import failures, judge_head, render, summary

#: the issue's bar from the front (measured 2.28 on the committed head, README "The
#: default head"); at the sides the issue asks only "found", the test keeps a margin
FRONT_MIN = 2.0
SIDE_MIN = 1.5      # found at 30 degrees either side with a margin (measured 2.36 / 2.26)


def test_detector_finds_the_default_head_front_and_at_30_degrees(gl, tracker, default_rig):
    scores = {}
    for yaw in (0.0, 30.0, -30.0):
        img = render(default_rig, {}, yaw, gl)
        box, score = tracker.detect(img)
        _, flipped = tracker.detect(img[::-1, ::-1].copy())
        assert box is not None, f"no face found at {yaw:+.0f} degrees"
        # upright: the image scores higher than the image turned upside down, at every angle
        assert score > flipped, f"at {yaw:+.0f} degrees the head upside down scores higher ({flipped:.2f} >= {score:.2f})"
        # the box sits on the face: centred on the head horizontally (within a fifth of the image)
        assert abs((box.left() + box.right()) / 2 - img.shape[1] / 2) < img.shape[1] / 5, (yaw, box)
        scores[yaw] = score
    gl.detect_framebuffer(0).use()
    assert scores[0.0] >= FRONT_MIN, scores
    assert min(scores[30.0], scores[-30.0]) > SIDE_MIN, scores


def test_default_head_talks_for_the_tracker(gl, tracker, default_rig):
    s = summary(judge_head(tracker, default_rig, gl, angles=(0.0, 30.0)))
    gl.detect_framebuffer(0).use()
    bad = failures(s)
    assert not bad, bad
