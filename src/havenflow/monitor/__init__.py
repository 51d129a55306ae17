"""The monitor: watched notes, scheduled checks and alerts (``havenflow watch``).

Alerts come when a claim's verdict, a watched trigger or the phase of the cycle changes.

Layers: it reads the data layer and the claims layer and writes its state to the store; the
command line and the dashboard are its shells.
"""

from havenflow.monitor.deliver import EmailChannel, FileChannel, WebhookChannel
from havenflow.monitor.run import RunOutcome, run_every, run_watches
from havenflow.monitor.state import Alert, Watch, WatchStore

__all__ = [
    "Alert",
    "EmailChannel",
    "FileChannel",
    "RunOutcome",
    "Watch",
    "WatchStore",
    "WebhookChannel",
    "run_every",
    "run_watches",
]
