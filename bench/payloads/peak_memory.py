"""Runs a command, passes its output on, then prints its peak resident memory (MiB) last."""

import resource
import subprocess
import sys

p = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stdout.write(p.stdout)
sys.stderr.write(p.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
sys.exit(p.returncode)
