"""The fifteen Oculus/Meta visemes: their names, in the column order face3d writes them.

``VISEME_NAMES`` (defined in :mod:`face3d.track`, re-exported here) is the one list every stage uses (the model's softmax head, the mapper,
``face3d export --visemes``, ``record``, the VMC sender, the Rhubarb and ARKit exports).
A head's morph targets named ``viseme_sil`` ... ``viseme_U`` (Ready Player Me, OVRLipSync)
take these columns as they are. The weights of one frame are non-negative and sum to 1.

=============  ======================================  ========================================
column         phones (CMU / ARPAbet)                  mouth
=============  ======================================  ========================================
viseme_sil     pauses                                  at rest, lips together
viseme_PP      p b m                                   lips pressed together
viseme_FF      f v                                     lower lip under the upper teeth
viseme_TH      th dh                                   tongue tip between the teeth
viseme_DD      t d                                     tongue tip on the ridge, jaw a little open
viseme_kk      k g ng                                  back of the tongue up, jaw a little open
viseme_CH      ch jh sh zh                             lips pushed out, teeth together
viseme_SS      s z                                     teeth together, lips spread
viseme_nn      n l                                     tongue tip up, jaw a little open
viseme_RR      r er                                    lips a little rounded
viseme_aa      aa ae ah                                jaw wide open
viseme_E       eh                                      jaw half open, lips spread
viseme_I       ih iy y                                 jaw nearly closed, lips spread
viseme_O       ao                                      jaw open, lips rounded
viseme_U       uh uw w                                 lips rounded and pushed out
=============  ======================================  ========================================

Diphthongs are their two halves (ay: aa then I; aw: aa then U; ey: E then I; ow: O then U;
oy: O then I).
"""

from __future__ import annotations

# the names live in face3d.track beside MOUTH_NAMES and ALIVE_NAMES, so that every layer
# (formats, viewer, mesh) can take them from there
from face3d.track import VISEME_NAMES, VISEMES

__all__ = ["VISEMES", "VISEME_NAMES", "VISEME_INDEX"]
#: Column index of each short name.
VISEME_INDEX = {v: i for i, v in enumerate(VISEMES)}
