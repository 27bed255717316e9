"""Real database servers from Debian's packages, started once per test session.

Skipped (with the reason) only where a server's binaries are missing; under CI (CI=true) a missing
server is a failure, because `.ci/run` installs it.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_server():
    """A throwaway PostgreSQL server (trust authentication) on a free port; yields its URL.

    Also used outside the tests (bench/models.py builds sql/ on it with real dbt-postgres)."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        raise FileNotFoundError("no PostgreSQL server binaries here (apt-get install postgresql)")
    bindir = os.path.dirname(bins[-1])
    data = tempfile.mkdtemp(prefix="oltp-olap-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(data, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run([*as_user, f"{bindir}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    subprocess.run([*as_user, f"{bindir}/pg_ctl", "-D", data, "-w", "-l", f"{data}/log", "-o",
                    f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


@contextmanager
def mariadb_server():
    """A throwaway MariaDB server on a free port (root without a password, utf8mb4); yields its URL."""
    mariadbd = shutil.which("mariadbd") or ("/usr/sbin/mariadbd" if os.path.exists("/usr/sbin/mariadbd") else None)
    install = shutil.which("mariadb-install-db")
    if not mariadbd or not install:
        raise FileNotFoundError("no MariaDB server binaries here (apt-get install mariadb-server)")
    data = tempfile.mkdtemp(prefix="oltp-olap-maria-")
    user = "mysql" if os.geteuid() == 0 else None
    if user:
        shutil.chown(data, user)
    subprocess.run([install, f"--datadir={data}/db", "--auth-root-authentication-method=normal",
                    "--skip-test-db", *([f"--user={user}"] if user else [])], check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([mariadbd, "--no-defaults", f"--datadir={data}/db", f"--port={port}",
                               "--bind-address=127.0.0.1", f"--socket={data}/mysqld.sock", f"--pid-file={data}/pid",
                               "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
                               "--skip-log-bin", "--innodb-buffer-pool-size=256M",
                               *([f"--user={user}"] if user else [])],
                              stdout=subprocess.DEVNULL, stderr=open(f"{data}/log", "w"))
    try:
        for _ in range(300):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if server.poll() is not None:
                raise RuntimeError(f"MariaDB did not start: {open(f'{data}/log').read()[-2000:]}")
            time.sleep(0.1)
        yield f"mysql+pymysql://root@127.0.0.1:{port}/mysql"
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(data, ignore_errors=True)


def _for_the_session(start, name: str):
    """A server for the whole test session; skipped only where its binaries are missing, never under CI."""
    try:
        server = start()
        url = server.__enter__()
    except FileNotFoundError as missing:
        if os.environ.get("CI"):
            pytest.fail(f"{name} server binaries are missing; .ci/run should have installed them")
        pytest.skip(str(missing))
    try:
        yield url
    finally:
        server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def postgres_url():
    yield from _for_the_session(postgres_server, "PostgreSQL")


@pytest.fixture(scope="session")
def mariadb_url():
    yield from _for_the_session(mariadb_server, "MariaDB")
