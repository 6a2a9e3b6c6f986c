"""Transparent mode's fixture: `padconnect serve` (plain HTTP) with the
interop world, and the shell environment `padconnect env` prints for it, so
each test runs an unchanged tool under the cloud's own host names."""

import os
import pathlib
import shlex
import subprocess
import sys

from conftest import Certificate, binary, serve, world

ENV_URL = "37520647dbdf49faba016134c14680.c4"
ENV_HOST = f"{ENV_URL}.environment.api.powerplatform.com"
LOGIN = "login.microsoftonline.com"


class Transparent:
    def __init__(self, url: str, data: pathlib.Path, env: dict):
        self.url = url
        self.data = data
        self.ca = str(data / "tls" / "ca.pem")
        # The environment of a shell after `eval "$(padconnect env ...)"`,
        # without the other fixture's trust settings.
        base = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")}
        self.env = {**base, **env}

    def run(self, *args, extra=None, check=True, timeout=120):
        return subprocess.run(
            list(args), env={**self.env, **(extra or {})}, capture_output=True, text=True,
            check=check, timeout=timeout,
        )

    def python(self, code: str, extra=None):
        """Runs `code` in a fresh interpreter of this venv, as a script would."""
        done = self.run(sys.executable, "-c", code, extra=extra, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout


def env_lines(output: str) -> dict:
    """`export NAME='value'` lines into a dict."""
    values = {}
    for line in output.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        values[name] = shlex.split(value)[0]
    return values


def start(directory: pathlib.Path):
    certificate = Certificate(directory)
    (directory / "world.toml").write_text(world(certificate))
    data = directory / "data"
    process, url = serve("--data-dir", str(data), "--world", str(directory / "world.toml"))
    printed = subprocess.run(
        [binary(), "env", "--data-dir", str(data)], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    return process, Transparent(url, data, env_lines(printed))
