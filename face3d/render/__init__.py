"""Drawing heads with moderngl.

``HeadRenderer`` is handed a GL context and never creates one; ``offscreen`` is the one
module that creates a standalone (EGL) context, for snapshots and tests.
"""
