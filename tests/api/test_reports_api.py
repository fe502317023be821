"""The reports over the API are the CLI's reports (same code), scoped to the caller."""

from __future__ import annotations

from click.testing import CliRunner

from api.cli import main


def test_green_share_of_the_producers_facility_equals_the_cli(client, world, monkeypatch):
    got = client.get("/api/v1/reports/green-share?facility=f-smelter&year=2025",
                     headers=world.headers("producer"))
    assert got.status_code == 200
    data = got.get_json()
    assert [f["facility_id"] for f in data["facilities"]] == ["f-smelter"]
    monkeypatch.setenv("GREENLEDGER_HOME", str(world.folder))
    monkeypatch.setenv("GREENLEDGER_DATABASE_URL", f"sqlite:///{world.db}")
    monkeypatch.setenv("GREENLEDGER_KEY_PASSPHRASE", world.settings.key_passphrase or "")
    cli = CliRunner().invoke(main, ["report", "green-share", "--facility", "f-smelter",
                                    "--year", "2025", "--json"])
    assert cli.exit_code == 0, cli.output
    import json

    assert json.loads(cli.output)["facilities"] == data["facilities"]


def test_a_producer_cannot_read_another_producers_report(client, world):
    for report in ("green-share", "efficiency", "recycled"):
        got = client.get(f"/api/v1/reports/{report}?facility=f-copper",
                         headers=world.headers("producer"))
        assert got.status_code == 404
        assert "f-copper" in got.get_json()["detail"]  # the id the caller sent, nothing more
        assert "Chuxiong" not in got.get_data(as_text=True)


def test_certifiers_see_every_facility(client, world):
    got = client.get("/api/v1/reports/efficiency?year=2025", headers=world.headers("certifier"))
    assert got.status_code == 200
    assert {f["facility_id"] for f in got.get_json()["facilities"]} >= {"f-smelter", "f-copper"}
