"""Driving the trainer: the `terrapix` program built with the cargo feature `train` (libtorch).

Found, in order: the QGIS setting ``terrapix/trainer``, the environment variable
``TERRAPIX_BIN``, a copy bundled in the plugin's ``bin/`` folder, then ``terrapix`` on PATH.
It runs with ``--progress-json``: each fold's (training) or epoch's (pretraining) JSON line moves
the progress bar and is shown as a sentence in the log; other lines stream to the log as they are.
"""

import os
import queue
import shutil
import subprocess
import threading

from .capi import PROGRESS_COMMANDS, event_fraction, event_words, progress_event
from .library import PLUGIN_DIR, setting

INSTALL_HINT = (
    "Training needs the terrapix program built with the trainer: in the terrapix repository, "
    "scripts/setup.sh --torch, then cargo build --release --features train (see the README), and "
    "name target/release/terrapix in Settings > Options > Advanced > terrapix/trainer or in the "
    "environment variable TERRAPIX_BIN."
)


class TrainerMissingError(Exception):
    pass


def find():
    """The trainer program; raises TrainerMissingError saying what to install."""
    tried = []
    for candidate in (
        setting("terrapix/trainer"),
        os.environ.get("TERRAPIX_BIN", ""),
        os.path.join(PLUGIN_DIR, "bin", "terrapix"),
        shutil.which("terrapix") or "",
    ):
        if not candidate:
            continue
        if not os.access(candidate, os.X_OK):
            tried.append(f"{candidate} (not an executable)")
            continue
        probe = subprocess.run([candidate, "train", "--help"], capture_output=True, text=True)
        if probe.returncode == 0:
            return candidate
        tried.append(f"{candidate} (built without the trainer)")
    raise TrainerMissingError(INSTALL_HINT + (" Tried: " + "; ".join(tried) if tried else ""))


def run(arguments, feedback, command="train"):
    """Runs `terrapix COMMAND ARGUMENTS` (train or pretrain, with JSON progress, or validate), streaming
    its output to `feedback`; returns the exit status, or None when cancelled (the process is
    stopped; it writes outputs only when done)."""
    program = find()
    progress = ["--progress-json"] if command in PROGRESS_COMMANDS else []
    process = subprocess.Popen(
        [program, command, *progress, *arguments], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    lines = queue.Queue()

    def pump():
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    output = []
    while True:
        if feedback.isCanceled():
            process.terminate()
            process.wait()
            process.stdout.close()
            return None, output
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            break
        event = progress_event(line)
        if event is not None:
            line = event_words(event)
            feedback.setProgress(100.0 * event_fraction(event))
        output.append(line)
        feedback.pushInfo(line)
    status = process.wait()
    process.stdout.close()
    return status, output


def last_line(lines):
    """The last non-empty line of a run's output: what a failure says."""
    return next((line for line in reversed(lines) if line.strip()), "")
