import json
import os
import signal
import subprocess
import sys
import time

when, sig = sys.argv[1], getattr(signal, sys.argv[2])
p = subprocess.Popen(sys.argv[3:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
if when == "training":
    for line in p.stdout:
        if line.startswith("Step 0:"):  # training has begun: bottlenecks cached, model being made
            break
elif when.startswith("/"):  # a feature cache folder: its first file written, extraction under way
    while not any(n.endswith(".npy") for _, _, names in os.walk(when) for n in names):
        time.sleep(0.02)
else:
    time.sleep(float(when))
sent = time.monotonic()
os.killpg(p.pid, sig)  # to every process of the run, as Ctrl-C in a terminal (and tini -g) does
out, err = p.communicate(timeout=120)
seconds = time.monotonic() - sent


def left():  # processes of the run (its session) still there
    def of_the_run(pid):
        try:
            return os.getsid(pid) == p.pid
        except OSError:
            return False

    return [pid for pid in map(int, filter(str.isdigit, os.listdir("/proc"))) if of_the_run(pid)]


for _ in range(50):
    if not left():
        break
    time.sleep(0.1)
print(json.dumps({"status": p.returncode, "stderr": err, "left": len(left()), "seconds": seconds}))
