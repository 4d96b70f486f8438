"""Preprocessing: genome + bigWigs + peaks -> a training set, scattered over jobs.

Three steps, each a CLI subcommand and a rule of ``workflow/rules/preprocess.smk``:

``plan`` (:mod:`~seq2func.preprocess.plan`, one job, seconds)
    Checks every input without reading data and writes the scatter plan.
``job`` (:mod:`~seq2func.preprocess.chrom`, one job per large chromosome or group of small
    ones, :mod:`~seq2func.preprocess.jobs`)
    Selects regions (:mod:`~seq2func.preprocess.regions`), cuts windows in numpy and streams
    them into each chromosome's HDF5 shard.
``gather`` (:mod:`~seq2func.preprocess.gather`, one job)
    Writes ``regions.tsv.gz``, ``dataset.json`` (the contract of :mod:`seq2func.dataset`) and
    the QC table (:mod:`~seq2func.preprocess.qc`).

:func:`~seq2func.preprocess.run.run_all` runs them in one process. Beside them, ``library-qc``
(:mod:`~seq2func.preprocess.library_qc`, one job after the plan) measures every library's FRiP
and TSS enrichment, which quality gates can check before any training.
"""

from seq2func.preprocess.chrom import process_chromosome, process_job
from seq2func.preprocess.gather import gather
from seq2func.preprocess.plan import load_plan, make_plan
from seq2func.preprocess.run import draw_qc, gather_dataset, run_all
from seq2func.preprocess.samples import SampleInput, samples_from_table
from seq2func.preprocess.settings import PreprocessSettings

__all__ = ["PreprocessSettings", "SampleInput", "draw_qc", "gather", "gather_dataset",
           "load_plan", "make_plan", "process_chromosome", "process_job", "run_all",
           "samples_from_table"]
