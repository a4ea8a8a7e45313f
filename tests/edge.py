"""The production topology on this machine, for tests and the benchmark:
granian (WSGI) and daphne (ASGI) behind nginx, with the repo's config
(deploy/nginx.conf.template; granian's command and settings are read from the
Dockerfile, so the tests and the image cannot drift apart).

nginx comes from the system (Debian: `apt-get install nginx`) and runs as
`nginx -p <folder> -c <folder>/nginx.conf` in the foreground, with everything
it writes (pid, temp files, cache) inside that folder.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tests.utils import BASE_DIR, free_port, wait_for_http

NGINX_TEMPLATE = BASE_DIR / "deploy" / "nginx.conf.template"
DOCKERFILE = BASE_DIR / "Dockerfile"
_PLACEHOLDER = re.compile(r"\$\{(EDGE_[A-Z0-9_]+)\}")


def nginx_binary() -> str | None:
    """The nginx executable; Debian installs it in /usr/sbin, which is not on
    every user's PATH."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return shutil.which("nginx", path=path)


def template_variables(template: str | None = None) -> set[str]:
    """The EDGE_* names the nginx template uses."""
    text = NGINX_TEMPLATE.read_text() if template is None else template
    return set(_PLACEHOLDER.findall(text))


def render_nginx_conf(values: dict[str, str]) -> str:
    """The template with every ${EDGE_*} filled in, as the nginx image's
    envsubst does; a name without a value is an error, not an empty string."""
    missing = template_variables() - set(values)
    if missing:
        raise KeyError(f"no value for {', '.join(sorted(missing))}")
    return _PLACEHOLDER.sub(
        lambda match: values[match.group(1)], NGINX_TEMPLATE.read_text()
    )


class Process:
    """A server in a subprocess, its output in a log file."""

    def __init__(self, command: list[str], *, env: dict, log_path: Path, **popen):
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            **popen,
        )

    @property
    def pids(self) -> list[int]:
        """The process and its children (granian's and nginx's workers)."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        except OSError:
            children = ""
        return [pid, *(int(child) for child in children.split())]

    def wait_ready(self, url: str, timeout: float = 90) -> None:
        try:
            wait_for_http(url, process=self.process, timeout=timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.log()}") from None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def dockerfile_instructions(text: str | None = None) -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined
    and comments dropped."""
    text = DOCKERFILE.read_text() if text is None else text
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    instructions = []
    for line in joined.splitlines():
        if line.strip():
            name, _, arguments = line.strip().partition(" ")
            instructions.append((name.upper(), arguments.strip()))
    return instructions


def image_environment() -> dict[str, str]:
    """The image's ENV (KEY=value pairs; no quoting is used)."""
    environment = {}
    for name, arguments in dockerfile_instructions():
        if name == "ENV":
            for pair in arguments.split():
                key, _, value = pair.partition("=")
                environment[key] = value
    return environment


def image_granian_settings() -> dict[str, str]:
    """The GRANIAN_* variables of the image's ENV: the web server's settings."""
    return {k: v for k, v in image_environment().items() if k.startswith("GRANIAN_")}


def image_command() -> list[str]:
    """The image's default command (the last CMD, exec form)."""
    commands = [json.loads(a) for name, a in dockerfile_instructions() if name == "CMD"]
    return commands[-1]


# The test's access log: a prefix to find its lines among granian's own
# messages (both go to stdout), the path and the query apart.
GRANIAN_ACCESS_LOG_FORMAT = 'access "%(method)s %(path)s" "%(query_string)s" %(status)d'


def granian_settings(
    env: dict, *, port: int, workers: int | None = None, access_log: bool = False
) -> dict[str, str]:
    """The GRANIAN_* variables granian gets: the image's, overridden by those
    in `env` (as a container's environment overrides them), then the address
    127.0.0.1:`port`, `workers` when given, and the access log when asked."""
    settings = image_granian_settings()
    settings.update({k: v for k, v in env.items() if k.startswith("GRANIAN_")})
    settings.update(GRANIAN_HOST="127.0.0.1", GRANIAN_PORT=str(port))
    if workers is not None:
        settings["GRANIAN_WORKERS"] = str(workers)
    if access_log:
        settings.update(
            GRANIAN_LOG_ACCESS_ENABLED="true",
            GRANIAN_LOG_ACCESS_FMT=GRANIAN_ACCESS_LOG_FORMAT,
        )
    return settings


def start_granian(
    env: dict,
    folder: Path,
    *,
    port: int,
    workers: int | None = None,
    access_log: bool = True,
) -> Process:
    """granian as the image runs it (its CMD and GRANIAN_* settings:
    granian_settings), on 127.0.0.1:`port`. Its output, the access log
    (GRANIAN_ACCESS_LOG_FORMAT) unless told not, in the folder's granian.log."""
    program, *arguments = image_command()
    assert program == "granian", program
    command = [sys.executable, "-m", "granian", *arguments]
    settings = granian_settings(env, port=port, workers=workers, access_log=access_log)
    return Process(command, env={**env, **settings}, log_path=folder / "granian.log")


def start_daphne(env: dict, folder: Path, *, port: int) -> Process:
    """daphne as the `ws` service runs it (--proxy-headers); access log in the
    folder."""
    command = [
        sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
        "--proxy-headers", "--access-log", str(folder / "daphne-access.log"),
        "marketplace.asgi:application",
    ]  # fmt: skip
    return Process(command, env=env, log_path=folder / "daphne.log")


class Nginx(Process):
    """nginx with the repo's template, listening on 127.0.0.1:`port`."""

    def __init__(
        self,
        folder: Path,
        *,
        web: str,
        ws: str,
        port: int | None = None,
        cache: bool = True,
        real_ip_from: str = "127.0.0.1",
    ):
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed (apt-get install nginx)")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        state = folder / "nginx"
        state.mkdir(parents=True, exist_ok=True)
        self.config = state / "nginx.conf"
        self.config.write_text(
            render_nginx_conf(
                {
                    "EDGE_LISTEN": f"127.0.0.1:{self.port}",
                    "EDGE_WEB_UPSTREAM": web,
                    "EDGE_WS_UPSTREAM": ws,
                    "EDGE_STATE_DIR": str(state),
                    "EDGE_API_CACHE": "api_cache" if cache else "off",
                    "EDGE_REAL_IP_FROM": real_ip_from,
                    "EDGE_MAX_BODY_SIZE": "120m",
                }
            )
        )
        # As root, nginx would hand the workers to `nobody`, who cannot write
        # this private folder.
        user = "user root;" if os.geteuid() == 0 else ""
        command = [
            binary, "-p", str(state), "-c", str(self.config), "-e", "stderr",
            "-g", f"daemon off; {user}",
        ]  # fmt: skip
        super().__init__(command, env=dict(os.environ), log_path=folder / "nginx.log")

    def access_log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()


def get(url: str, headers: dict | None = None, method: str = "GET"):
    """(status, headers, body) of a plain request; HTTP errors are answers."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()
