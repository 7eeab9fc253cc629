"""The interactive 3D viewer (``face3d view``).

* :mod:`face3d.viewer.session`: the pure frame-loop logic: which weights for which clock,
  pause, seek, loop, and the recording of the session's weight track.
* :mod:`face3d.viewer.osd`: the on-screen display (Dear ImGui through imgui-bundle).
* :mod:`face3d.viewer.app`: the moderngl-window ``WindowConfig`` and the main loop.

Only ``app`` and ``osd`` import GL and window libraries; ``session`` is pure
and testable without a window.
"""
