"""The shape that every API token shares, checked before a request carries it in a header."""


def token_problem(token: str) -> str | None:
    """Return what makes `token` unusable in an Authorization header, or None when nothing does.

    The result completes a sentence about the token, such as "is empty", and never quotes it.
    """
    if not token:
        return "is empty"
    if any(character.isspace() for character in token):
        return "has whitespace inside"
    if not (token.isascii() and token.isprintable()):
        return "has characters other than printable ASCII"
    return None
