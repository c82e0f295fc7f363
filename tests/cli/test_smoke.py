from tests.conftest import Cli


def test_help_lists_every_noun(cli: Cli) -> None:
    result = cli.ok("--help")
    for noun in (
        "patient",
        "doctor",
        "record",
        "opinion",
        "appointment",
        "question",
        "material",
        "checklist",
        "db",
        "init",
        "demo",
    ):
        assert noun in result.stdout


def test_doctor_add_and_list(binder: Cli) -> None:
    result = binder.ok("doctor", "add", "Dr. Wei Chen", "--specialty", "Oncology")
    assert result.stdout.strip() == "Added doctor #1: Dr. Wei Chen"
    listing = binder.ok("doctor", "list")
    assert "Dr. Wei Chen" in listing.stdout
