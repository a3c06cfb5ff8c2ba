from dns_fixtures import start_knot, start_responder, start_unbound  # noqa: F401
