"""What a benchmark leaves behind: bench/results/NAME.json, with the time its figures were taken."""

import json
import time
from pathlib import Path


def save_results(path, **fields):
    """Write fields, and "when" (UTC), as JSON to path (its folder made if needed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fields["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path.write_text(json.dumps(fields, indent=2) + "\n")
