from dns_fixtures import loopback_only, start_knot, start_responder, start_unbound  # noqa: F401
