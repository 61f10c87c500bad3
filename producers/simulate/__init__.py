"""The district simulator: realistic reports of the demo district, posted to the intake at a steady rate.

    gridflow simulate --rate 20 --duration 60

The reports' phrases are the simulator's own and must never be used as the
classifier's training or evaluation data (see :mod:`producers.simulate.texts`).
"""

from producers.simulate.driver import SimulationStats, run_simulation
from producers.simulate.texts import ReportGenerator, SimulatedReport, generate

__all__ = ["ReportGenerator", "SimulatedReport", "SimulationStats", "generate", "run_simulation"]
