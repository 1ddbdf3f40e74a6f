"""Where shuffles draw from: a given numpy Generator, or tapegrad's global one, so that
tapegrad.manual_seed makes shuffling reproducible as torch.manual_seed does."""
import numpy as np

from tapegrad import creation


def rng(generator):
    """The numpy Generator to draw from: generator itself, or tapegrad's global one
    where it is None; TypeError for anything else."""
    if generator is None:
        return creation.generator()      # looked up each time: manual_seed replaces it
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator must be a numpy.random.Generator (as tapegrad.manual_seed "
                    f"returns) or None, not {type(generator).__name__}")
