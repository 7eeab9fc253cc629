"""face3d: make a 3D head talk from sound.

Importing the package imports nothing heavy (no GL, no sound devices).
"""

__version__ = "0.1.0"

__all__ = ["__version__", "analyze"]


def analyze(source, rate=None, fps=60.0, **kwargs):
    """Analyse audio into a viseme weight track (see :func:`face3d.pipeline.analyze`).

    Imported lazily so ``import face3d`` stays light.
    """
    from face3d.pipeline import analyze as _analyze

    return _analyze(source, rate=rate, fps=fps, **kwargs)
