"""Simulator of the embedded demo study (see :func:`seq2func.simulate.demo.simulate_demo`)."""

from seq2func.simulate.demo import DemoPaths, SimulationConfig, simulate_demo

__all__ = ["DemoPaths", "SimulationConfig", "simulate_demo"]
