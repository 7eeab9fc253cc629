"""Orientation: which way is up and forward, the scale, and where the face is (framing).

Plain numpy on positions and faces; imports only :mod:`face3d.mesh.geometry`.
"""
