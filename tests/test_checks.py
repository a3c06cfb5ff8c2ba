"""Rendering check results as lines."""

from scripts.checks import CheckResult, Status, render_lines


def test_render_lines_escapes_control_characters():
    result = CheckResult(
        "existing records",
        Status.FAIL,
        "A at scim points at 1.2.3.4\x1b]52;c;cHduZWQ=\x07\nok    forged line\r",
        "delete the record",
    )

    rendered = render_lines([result])

    assert "\n" not in rendered
    assert "\x1b" not in rendered
    assert "\\x1b]52" in rendered
    assert "\\nok    forged line\\r" in rendered
