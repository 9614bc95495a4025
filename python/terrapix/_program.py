"""Training through the ``terrapix`` program: training needs libtorch, which the wheel does not
carry, so it runs where the program is built with the trainer (cargo feature ``train``). Found,
in order: ``TERRAPIX_BIN``, then ``terrapix`` on PATH. Training reports its folds as JSON lines
(``--progress-json``), shown as a tqdm bar. Everything else runs in the library."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tempfile
from typing import Any, Iterable

from ._capi import PROGRESS_COMMANDS, CancelledError, TerrapixError, event_fraction, progress_event
from .model import PathLike, Progress


#: Commands only the program built with the trainer (libtorch) has.
_TRAINER = ("train", "pretrain")


def find_program(command: str = "train") -> str:
    """The terrapix program that knows ``command``; raises TerrapixError saying what to build."""
    return _find(command, os.environ.get("TERRAPIX_BIN", ""), os.environ.get("PATH", ""))


@functools.lru_cache(maxsize=32)
def _find(command: str, named: str, _path: str) -> str:
    tried = []
    for candidate in (named, shutil.which("terrapix") or ""):
        if not candidate:
            continue
        if not os.access(candidate, os.X_OK):
            tried.append(f"{candidate} (not an executable)")
            continue
        if subprocess.run([candidate, command, "--help"], capture_output=True).returncode == 0:
            return candidate
        tried.append(f"{candidate} (it has no '{command}')")
    needs = "built with the trainer (cargo build --release --features train" if command in _TRAINER else "(cargo build --release"
    raise TerrapixError(
        f"'{command}' needs the terrapix program {needs} in the terrapix repository, see its README), named in "
        "TERRAPIX_BIN or on PATH." + (" Tried: " + "; ".join(tried) if tried else "")
    )


def flags(options: dict[str, Any]) -> list[str]:
    """Keyword options as command-line flags: ``by_order=True`` -> ``--by-order``, a list ->
    the flag once per value, None or False -> nothing."""
    out: list[str] = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            out.append(flag)
        elif isinstance(value, (list, tuple)):
            for v in value:
                out += [flag, os.fspath(v) if isinstance(v, os.PathLike) else str(v)]
        else:
            out += [flag, os.fspath(value) if isinstance(value, os.PathLike) else str(value)]
    return out


def run(command: str, arguments: Iterable[str], progress: Progress = True) -> list[str]:
    """Runs ``terrapix COMMAND ARGUMENTS``; returns its output lines, raises TerrapixError with
    its last lines when it fails."""
    program = find_program(command)
    json_progress = command in PROGRESS_COMMANDS
    args = [program, command, *(["--progress-json"] if json_progress else []), *arguments]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    bar, lines = None, []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.rstrip("\n")
            event = progress_event(line) if json_progress else None
            if event is None:
                lines.append(line)
                continue
            folds = event["event"] == "fold"
            if progress is True:
                if bar is None:
                    from tqdm.auto import tqdm

                    desc, unit = (f"{command} (folds, then the final model)", "fold") if folds else (command, "epoch")
                    bar = tqdm(total=event["total"] + (1 if folds else 0), desc=desc, unit=unit)
                bar.update(event["done"] - bar.n)
                m = event.get("metrics", {})
                if folds:
                    bar.set_postfix(rmse=f"{m.get('rmse', float('nan')):.4g}", r2=f"{m.get('r2', float('nan')):.3f}")
                else:
                    bar.set_postfix(nt_xent=f"{m.get('loss', float('nan')):.4f}")
            elif callable(progress) and progress(event_fraction(event)) is False:
                raise CancelledError(f"{command} cancelled: the program was stopped (it writes its outputs only when complete)")
    finally:
        if process.poll() is None:  # cancelled, or an exception here: stop the program too
            process.terminate()
        status = process.wait()
        if bar is not None:
            bar.close()
    if status != 0:
        tail = "\n".join(line for line in lines[-8:] if line.strip())
        raise TerrapixError(f"terrapix {command} failed (exit {status}): {tail}")
    return lines


def train(
    samples: PathLike,
    output: PathLike | None = None,
    *,
    config: PathLike | None = None,
    progress: Progress = True,
    **options: Any,
) -> dict:
    """Trains with cross-validation (``terrapix train``) on a samples folder, writes the ensemble
    bundle ``output`` (without it, only cross-validates) and returns the cross-validation report.
    Options as for the command line: ``name``, ``unit``, ``card``, ``report``, ``figures``..."""
    with tempfile.TemporaryDirectory() as tmp:
        report = options.pop("report", None) or os.path.join(tmp, "report.json")
        arguments = ["--samples", os.fspath(samples), *flags({"config": config, "output": output, "report": report, **options})]
        run("train", arguments, progress)
        with open(report) as f:
            return json.load(f)


def pretrain(
    covariates: Iterable[PathLike],
    inputs: Iterable[str],
    output: PathLike,
    *,
    config: PathLike,
    progress: Progress = True,
    **options: Any,
) -> dict:
    """Pretrains a SoilNet's image and climate branches without labels (``terrapix pretrain``):
    unlabelled locations drawn from ``covariates``, ``inputs`` as NAME:LAYOUT:COVARIATES specs,
    ``config`` with the [model] and [pretrain] sections. Writes the weights ``output`` and returns
    their sidecar (inputs, normalisation, loss per epoch); fine-tune with ``[fit] init = output``."""
    arguments = flags(
        {"covariates": [os.fspath(c) for c in covariates], "input": list(inputs), "config": config, "output": output, **options}
    )
    run("pretrain", arguments, progress)
    with open(os.fspath(output) + ".json") as f:
        return json.load(f)
