# Run CODE (argv[1]) in a new Jupyter kernel of the image, as a notebook cell would, and print what
# the cell printed on its stdout, then the error's name if it raised.
import sys

from jupyter_client.manager import start_new_kernel

manager, client = start_new_kernel(kernel_name="python3")
try:
    reply = client.execute_interactive(
        sys.argv[1],
        timeout=240,
        output_hook=lambda msg: (
            print(msg["content"]["text"], end="") if msg["content"].get("name") == "stdout" else None
        ),
    )
    if reply["content"]["status"] != "ok":
        print(reply["content"]["ename"])
finally:
    client.stop_channels()
    manager.shutdown_kernel(now=True)
