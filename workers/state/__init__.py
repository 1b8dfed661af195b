"""What newsworkers keeps in Redis besides the broker's queues.

Feed registry and schedule, per-feed state, the seen and in-flight item
sets, dead letters and counters. Every key starts with the settings'
namespace (see :class:`Keys`), so several deployments or test runs can share
one Redis without touching each other's data.
"""

from workers.state.deadletters import DeadLetter, DeadLetters
from workers.state.keys import Keys
from workers.state.registry import FeedRegistry, FeedState
from workers.state.stats import Stats
from workers.state.tracking import ItemTracker

__all__ = ["DeadLetter", "DeadLetters", "FeedRegistry", "FeedState", "ItemTracker", "Keys", "Stats"]
