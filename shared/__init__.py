"""Course helpers shared by every assignment notebook and its autograder tests.

Submodules (import the ones you need; only the first three are loaded by ``import shared``):

- ``shared.devices``   -- :func:`device`: pick CPU / CUDA / MPS, overridable with ``DL_DEVICE``.
- ``shared.seeding``   -- :func:`seed_everything`, :func:`deterministic`, :func:`generator`.
- ``shared.checks``    -- :func:`assert_close`, :func:`assert_shape`, ...
- ``shared.data``      -- offline data generated in code (logic gates, Gaussian blobs).
- ``shared.forbid``    -- :func:`forbid`: run code with named library functions disabled.
- ``shared.plotting``  -- decision boundaries, curves, image grids, attention maps,
  reconstruction grids, latent scatters, score histograms (matplotlib is imported only when a
  plotting function is called).
- ``shared.digits``    -- scikit-learn's 8x8 digits, centred or pasted at random places on a
  larger canvas or enlarged to 28x28 (``load_digits_upsampled``), with fixed train / test
  splits (and a held-out one only the autograder loads).
- ``shared.sequences`` -- seeded sequence data (oscillators, memory tasks), padding, sequence plots.
- ``shared.seq2seq``   -- seeded toy sequence-to-sequence tasks with known alignments, plots.
- ``shared.french_numbers`` -- French and English words for 0-999, their tokens and fixed splits.
- ``shared.tokens``    -- word-level :class:`Vocab` (``<pad>``, ``<bos>``, ``<eos>`` first) and
  padded batches of token ids.
- ``shared.training``  -- seeded loaders (labelled or not), a progress bar that can be switched
  off, and batched predictions.
- ``shared.notebook``  -- :func:`explain_stub_errors`: cells broken by an unfinished stub say so.
- ``shared.testing``   -- each assignment's test logic (what public and hidden tests call).
- ``shared.timing``    -- :func:`stopwatch`, a context manager that measures wall time.
"""

from shared.checks import assert_close
from shared.devices import device
from shared.seeding import seed_everything

__all__ = ["assert_close", "device", "seed_everything"]
