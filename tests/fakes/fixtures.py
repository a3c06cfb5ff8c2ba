"""Pytest fixtures for the DigitalOcean API fake: registered from tests/conftest.py."""

import pytest

from tests.fakes.digitalocean import FakeDigitalOcean, load_openapi


@pytest.fixture(scope="session")
def digitalocean_openapi():
    """DigitalOcean's OpenAPI description, loaded once per session (it takes about 5 s)."""
    return load_openapi()


@pytest.fixture
def fake_digitalocean(digitalocean_openapi):
    """A running, empty DigitalOcean API fake; the test errors if any traffic broke the spec."""
    fake = FakeDigitalOcean(digitalocean_openapi).start()
    try:
        yield fake
    finally:
        fake.stop()
    if fake.violations:
        pytest.fail(
            "DigitalOcean API traffic does not match the OpenAPI description:\n"
            + "\n".join(fake.violations),
            pytrace=False,
        )


@pytest.fixture
def digitalocean_env(fake_digitalocean, monkeypatch):
    """Point DIGITALOCEAN_END_POINT and DIGITALOCEAN_TOKEN at the fake; return the fake."""
    monkeypatch.setenv("DIGITALOCEAN_END_POINT", fake_digitalocean.base_url)
    monkeypatch.setenv("DIGITALOCEAN_TOKEN", fake_digitalocean.token)
    monkeypatch.delenv("DIGITALOCEAN_ACCESS_TOKEN", raising=False)
    return fake_digitalocean
