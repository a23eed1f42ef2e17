"""``accord account password NAME``: the password an account signs in to the console with."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from accord.cli import cli
from accord.config import Settings
from accord.services import passwords
from accord.store.repository import Store


def test_set_a_password_from_a_prompt_and_from_stdin(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path / "n")]
    runner = CliRunner()
    assert runner.invoke(cli, ["init", *d]).exit_code == 0
    asked = runner.invoke(cli, ["account", "password", "admin", *d], input="a long passphrase\na long passphrase\n")
    assert asked.exit_code == 0, asked.output
    assert "a long passphrase" not in asked.stdout  # not echoed
    piped = runner.invoke(cli, ["account", "password", "admin", "--password-stdin", "--json", *d],
                          input="another long passphrase\n")
    assert piped.exit_code == 0 and json.loads(piped.stdout)["password_set"] is True
    store = Store.open(Settings.from_env(str(tmp_path / "n")).store_url)
    try:
        with store.read() as tx:
            found = tx.password_of("admin")
        assert found is not None and found.password_hash is not None
        assert found.password_hash.startswith("scrypt$") and "passphrase" not in found.password_hash
        assert passwords.verify_password("another long passphrase", found.password_hash)
        assert not passwords.verify_password("a long passphrase", found.password_hash)
    finally:
        store.close()


def test_a_short_password_or_unknown_account_is_refused_with_a_message(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path / "n")]
    runner = CliRunner()
    runner.invoke(cli, ["init", *d])
    short = runner.invoke(cli, ["account", "password", "admin", "--password-stdin", *d], input="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    unknown = runner.invoke(cli, ["account", "password", "nobody", "--password-stdin", *d], input="x" * 20 + "\n")
    assert unknown.exit_code == 1 and "no account 'nobody'" in unknown.output
