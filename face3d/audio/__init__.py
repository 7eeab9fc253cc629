"""Audio input: files (:mod:`face3d.audio.files`) and the microphone (:mod:`face3d.audio.mic`).

Importing this package imports neither soundfile nor sounddevice; the submodules do.
"""
