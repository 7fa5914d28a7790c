"""`helpline simulate`: a discrete-event contact-centre simulator on Helpline's own routing.

Scenarios (TOML) describe agents, customers and traffic; the engine replays them
with the domain's routing, SLA and rule functions on a simulated clock, and the
comparison runs several strategies on the same customers with confidence intervals.
"""

from helpline.simulation.compare import Comparison, run_comparison
from helpline.simulation.engine import RunResult, simulate
from helpline.simulation.scenario import Model, ScenarioError, load_scenario
from helpline.simulation.staffing import find_staffing

__all__ = [
    "Comparison",
    "Model",
    "RunResult",
    "ScenarioError",
    "find_staffing",
    "load_scenario",
    "run_comparison",
    "simulate",
]
