"""The process's global random generators, left as the caller had them by every explanation.

shap and Captum sample from numpy's and torch's global generators, the models they call may
draw from those or from Python's `random`, and importing shap draws from `random`. A caller's
seeded program must draw the same numbers after an explanation as without it, so the code
that runs any of those does so under `isolated_rng`: the three generators are saved, seeded
(so that the explanation itself is deterministic) and restored.

Threads: GLOBAL_RNG lets one explanation at a time hold the generators, so explanations in
different threads neither interleave their draws nor restore each other's states. Nothing
can isolate other code that uses the global generators at the same time: a thread drawing
from one while an explanation runs draws from the explanation's seeded sequence, and its
draws are undone when the explanation restores the state. Code running alongside
explanations should draw from generators of its own (np.random.default_rng(), random.Random(),
torch.Generator()). Only torch's CPU generator is saved and seeded; CUDA generators are left
alone (neither seeded nor restored), so sampling on a GPU is neither seeded nor isolated.
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

# Held while an explanation has seeded the global generators (re-entrant: nested uses).
GLOBAL_RNG = threading.RLock()


@contextmanager
def isolated_rng(seed: int | None = None) -> Iterator[None]:
    """Run the block with numpy's, Python's and torch's CPU global generators seeded with
    `seed` (None: as they are), and put back the states they had before it."""
    torch = sys.modules.get("torch")
    with GLOBAL_RNG:
        saved_np, saved_py = np.random.get_state(), random.getstate()
        saved_torch = None if torch is None else torch.get_rng_state()
        try:
            if seed is not None:
                np.random.seed(seed)
                random.seed(seed)
                if torch is not None:
                    # Not torch.manual_seed: it also re-seeds every CUDA device's generator.
                    torch.default_generator.manual_seed(seed)
            yield
        finally:
            np.random.set_state(saved_np)
            random.setstate(saved_py)
            if torch is not None and saved_torch is not None:
                torch.set_rng_state(saved_torch)
