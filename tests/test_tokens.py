"""The token shape shared by verify and the DigitalOcean client."""

import pytest

from scripts.tokens import token_problem


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("", "is empty"),
        ("abc def", "has whitespace inside"),
        ("abc\tdef", "has whitespace inside"),
        ("abc€", "has characters other than printable ASCII"),
        ("abc\x00", "has characters other than printable ASCII"),
        ("dop_v1_abc.def-123", None),
    ],
)
def test_token_problem(token, expected):
    assert token_problem(token) == expected
