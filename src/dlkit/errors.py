"""Command-line errors: a problem with the input is one line and an exit status, never a traceback.

`UserError` is raised for anything the user can fix; `main_guard` runs an example's main() and
turns user errors, full disks, Ctrl-C and `docker stop` into one line each (and warns first when
the container has less memory than the example needs: the kernel would kill it without a word).
"""

import errno
import gc
import multiprocessing
import os
import signal
import sys

from .machine import warn_if_short


class UserError(Exception):
    """A problem with what the user asked for: printed as one line, exit status 1."""


class Killed(UserError):
    """A process of ours was killed by SIGKILL (in a container, most often by its memory limit):
    printed as one line, exit status 137, as if this process had been killed itself."""


def warn_skipped(path, why):
    """The one warning line for anything in the input that is left out."""
    print(f"warning: skipped {path}: {why}", file=sys.stderr)


def main_guard(prog, main):
    """Run main(); turn user errors, full disks and Ctrl-C into one line and an exit status."""

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)  # `docker stop` cleans up like Ctrl-C
    stderr = os.dup(2)  # the real stderr, for a Ctrl-C that comes while an import has it muted
    sys.stdout.reconfigure(line_buffering=True)  # progress shows at once, also through a pipe or a log
    warn_if_short(prog)
    try:
        try:
            sys.exit(main())
        except Exception as e:
            if isinstance(e.__cause__, KeyboardInterrupt):  # Ctrl-C inside an import can come out wrapped
                raise e.__cause__
            raise
    except UserError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(137 if isinstance(e, Killed) else 1)
    except KeyboardInterrupt:
        sys.stderr.flush()
        os.dup2(stderr, 2)  # an import in a thread (dlkit.session) may still have it muted
        print(f"{prog}: interrupted; nothing half-written was kept", file=sys.stderr)
        # TensorFlow's threads (an import, the backbone's build) may still be running: the
        # interpreter's shutdown, or TensorFlow's own exit handlers, can crash under them
        # ("Fatal Python error: PyThreadState_Get", "corrupted size vs. prev_size": status -6, not
        # 130). So: stop the helper processes, say the one line, and leave without either.
        for child in multiprocessing.active_children():
            child.terminate()
        for child in multiprocessing.active_children():
            child.join(5)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except OSError:
                pass
        os._exit(130)
    except BrokenPipeError:  # `... | head`: the reader has gone; stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    except OSError as e:  # a full disk, a read-only folder...
        where = f" ({e.filename})" if e.filename else ""
        hint = "; free some space, or write somewhere else" if e.errno == errno.ENOSPC else ""
        print(f"{prog}: error: {e.strerror or e}{where}{hint}", file=sys.stderr)
        sys.exit(1)
    finally:
        # On exit Python would walk every object TensorFlow and Keras made (about a second),
        # just before the system frees them all at once; frozen objects are left to the system.
        gc.freeze()
