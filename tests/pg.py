"""A throwaway PostgreSQL cluster for tests: Debian's ``postgresql`` binaries, a temp dir, 127.0.0.1 only.

``initdb`` refuses to run as root, so as root (CI, the dev machines) the
cluster is made and run by the ``postgres`` user that Debian's package creates.
``throwaway_cluster`` yields a URL, or raises ``Unavailable`` with the reason a
test should skip with.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator


class Unavailable(Exception):
    pass


def _bin(name: str) -> str:
    # Debian keeps the server's tools out of PATH, under /usr/lib/postgresql/<major>/bin
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path:
        return path
    raise Unavailable(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[str]:
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    prefix: list[str] = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable("running as root and there is no 'postgres' user to run the server as") from None
        prefix = ["runuser", "-u", "postgres", "--"]
    tmp = tempfile.mkdtemp(prefix="gkllm-pg-")
    data, sock, log = Path(tmp) / "data", Path(tmp) / "sock", Path(tmp) / "log"
    sock.mkdir()
    if owner is not None:
        for p in (Path(tmp), sock):
            os.chown(p, owner.pw_uid, owner.pw_gid)
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    try:
        r = subprocess.run([*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "gkllm", "-E", "UTF8",
                            "--no-sync"], capture_output=True, text=True, env=env, timeout=120)
        if r.returncode != 0:
            raise Unavailable(f"initdb failed: {r.stderr.strip()[-300:]}")
        opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        r = subprocess.run([*prefix, pg_ctl, "-D", str(data), "-o", opts, "-l", str(log), "-w", "-t", "60", "start"],
                           capture_output=True, text=True, env=env, timeout=90)
        if r.returncode != 0:
            raise Unavailable(f"the server did not start: {r.stderr.strip()[-300:]}")
        try:
            yield f"postgresql://gkllm@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True,
                           env=env, timeout=60)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
