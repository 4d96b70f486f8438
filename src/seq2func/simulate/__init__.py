"""The simulate stage: the embedded demo study, with known truth (``seq2func simulate``).

:func:`simulate_demo` writes a genome, signal, peaks, genes, expression, variants and the truth
behind them (:class:`DemoPaths`) from the parameters of :class:`SimulationConfig`.

Modules
-------
settings
    :class:`SimulationConfig`, the config's ``simulate`` section.
demo
    :func:`simulate_demo`, one chromosome at a time, and :class:`DemoPaths`.
chromosome
    A chromosome being built, the models it is drawn from, and its DNA.
elements
    Its genes with their promoters, distal CREs, and their accessibility in each cell type.
assays
    Each sample's signal and the genes' expression.
summary
    The truth summary (``truth/simulation.json``).
markov, genome, grammar, regulatory, signal, genes, variants
    The models: background sequence, repeats, motif grammar, CRE recipes, cut profiles and
    peak calling, gene models and expression, variants.
"""

from seq2func.simulate.demo import DemoPaths, simulate_demo
from seq2func.simulate.settings import SimulationConfig

__all__ = ["DemoPaths", "SimulationConfig", "simulate_demo"]
