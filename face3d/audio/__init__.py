"""Sound in and out, knowing nothing of the analysis: files (:mod:`face3d.audio.files`),
the microphone (:mod:`face3d.audio.mic`), playback (:mod:`face3d.audio.player`), media
clocks (:mod:`face3d.audio.clock`) and keeping PortAudio's own diagnostics off the
terminal (:mod:`face3d.audio.quiet`).

Importing this package imports neither soundfile nor sounddevice; the submodules do, inside
the functions that need them.
"""
