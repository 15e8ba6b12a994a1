"""Must show (issue 8): the README's "Keeper and CLI" walkthrough, run
exactly as written, one subprocess per line, from an empty home directory
(no ``~/.config/solana``) against ``iopay localnet``; it must end with the
balances the README states and print no traceback anywhere.

The runner understands the little shell the walkthrough uses: ``NAME=$(cmd)``
captures stdout, ``$NAME`` expands, a trailing ``&`` starts a background
process, and a ``# => TEXT`` comment is the exact stdout that line must
print. Two substitutions keep parallel test runs apart, nothing else: the
``iopay localnet`` line gets ``--rpc-port 0 --ws-port 0`` (free ports), and
every other ``iopay`` line gets ``-u URL`` of that validator.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import httpx

from tests.cli.walk import PY_REPR
from tests.integration.readme import code_block, lines_of

IOPAY = str(Path(sys.executable).parent / "iopay")
ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=\$\((.*)\)$")
VAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def split_comment(line: str) -> Tuple[str, Optional[str]]:
    """(command, expected stdout or None) of a README line."""
    cmd, sep, comment = line.partition(" #")
    expected = None
    if sep and comment.strip().startswith("=>"):
        expected = comment.strip()[2:].strip()
    return cmd.strip(), expected


def wait_for_localnet(workdir: Path, proc: subprocess.Popen, timeout: float = 60) -> str:
    info_path = workdir / "test-ledger" / "localnet.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"iopay localnet exited with {proc.returncode}"
        try:
            info = json.loads(info_path.read_text())
            if info.get("pid") == proc.pid:
                url = info["rpc_url"]
                r = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "getHealth"}, timeout=2).json()
                if r.get("result") == "ok":
                    return url
        except (OSError, ValueError, httpx.HTTPError):
            pass
        time.sleep(0.1)
    raise AssertionError("iopay localnet did not come up")


def test_readme_walkthrough_from_an_empty_home(tmp_path: Path) -> None:
    block = code_block("## Keeper and CLI", "sh")
    lines = lines_of(block)
    assert lines[0].startswith("iopay localnet"), "the walkthrough starts the local validator"
    expectations = [e for _, e in map(split_comment, lines) if e is not None]
    assert len(expectations) >= 3, "the walkthrough ends with the balances it promises"

    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = {**os.environ, "HOME": str(home), "PATH": f"{Path(IOPAY).parent}:{os.environ.get('PATH', '')}"}
    env.pop("IOPAY_DEBUG", None)
    variables: Dict[str, str] = {}
    transcript: List[str] = []
    background: List[subprocess.Popen] = []
    url: Optional[str] = None
    checked = 0
    try:
        for line in lines:
            cmd, expected = split_comment(line)
            target = None
            m = ASSIGN.match(cmd)
            if m:
                target, cmd = m.group(1), m.group(2)
            bg = cmd.endswith("&")
            cmd = cmd.rstrip("&").strip()
            expanded = VAR.sub(lambda v: variables[v.group(1)], cmd)
            argv = shlex.split(expanded)
            assert argv[0] == "iopay", f"the walkthrough uses iopay alone: {line}"
            if argv[1] == "localnet":
                argv = [IOPAY, *argv[1:], "--rpc-port", "0", "--ws-port", "0"]
            else:
                assert url is not None, "iopay localnet must come first"
                argv = [IOPAY, "-u", url, *argv[1:]]
            if bg:
                log = open(tmp_path / "localnet.log", "wb")
                proc = subprocess.Popen(argv, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
                background.append(proc)
                url = wait_for_localnet(work, proc)
                transcript.append(f"$ {expanded} (background: {url})")
                continue
            r = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=180)
            transcript.append(f"$ {expanded}\n{r.stdout}{r.stderr}")
            where = f"{line}\n--- transcript ---\n" + "\n".join(transcript[-6:])
            assert "Traceback" not in r.stderr + r.stdout and "internal error" not in r.stderr, where
            assert r.returncode == 0, where
            assert not PY_REPR.search(r.stdout), f"Python repr in display output\n{where}"
            if target:
                value = r.stdout.strip()
                assert value and "\n" not in value and " " not in value, f"{target} captured {value!r}\n{where}"
                variables[target] = value
            if expected is not None:
                assert r.stdout.strip() == expected, where
                checked += 1
        assert checked == len(expectations)
        assert not (home / ".config" / "solana").exists(), "nothing wrote a Solana CLI config"
        # The job is gone (closed) and the vault emptied: every token is where the README says.
        show = subprocess.run([IOPAY, "-u", url, "job", "show", variables["JOB"]], cwd=work, env=env,
                              capture_output=True, text=True, timeout=60)
        assert show.returncode == 1 and show.stderr.strip() == f"error: job {variables['JOB']} not found", show.stderr
    finally:
        for p in background:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
