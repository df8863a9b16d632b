"""A clinic policy or formulary an admin installs in the records database changes the app's
next screening of the same form, without restarting; signed out, or with the sign-in
cancelled, the app still screens with the clinic's policy (the policy is the clinic's, not the
user's); the shipped policy applies only without a records database."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from ketascreen.records.settings import install_clinic_file
from ketascreen.ui.main_window import MainWindow
from ketascreen.ui.settings import AppSettings
from tests.ui.helpers import FakeDialogs
from tests.ui.signing_support import Clinic, clear_case_file, clinic, signed_in

__all__ = ["clinic"]  # the records fixture

POLICY = Path(__file__).resolve().parents[2] / "ketascreen" / "knowledge" / "data" / "policy.toml"
SHIPPED_LIMIT = 'hypertension_elevated_systolic = "140 mmHg"'
CLINIC_LIMIT = 'hypertension_elevated_systolic = "130 mmHg"'
FORMULARY = POLICY.with_name("formulary.toml")
SHIPPED_DOSE = 'dose = { value = "0.5 mg/kg", source = ["R4", "R7", "R2"] }'
CLINIC_DOSE = 'dose = { value = "0.4 mg/kg", source = ["R4", "R7", "R2"] }'
SHIPPED_SOFT_MAX = 'soft_max = { value = "0.75 mg/kg", source = ["R2"] }'
CLINIC_SOFT_MAX = 'soft_max = { value = "0.45 mg/kg", source = ["R2"] }'


def test_an_installed_clinic_policy_changes_the_next_screening_in_the_app(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path) -> None:
    """The example (BP 138/86, CLEAR) is re-screened after the admin lowers the elevated
    systolic limit to 130 mmHg: the finding appears in the panel with the clinic's limit and
    the banner asks for its acknowledgement, About names the clinic's policy; signed out, the
    shipped limit applies again."""
    window = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    assert window.open_path(clear_case_file(tmp_path), ask=False)
    before = window.rescreen_now()
    assert before.decision == "clear"
    assert window.findings.row("hypertension-elevated") is None
    assert window.decision.title.text().count("CLEAR") == 1

    shipped = POLICY.read_text(encoding="utf-8")
    assert SHIPPED_LIMIT in shipped
    clinic_policy = shipped.replace(SHIPPED_LIMIT, CLINIC_LIMIT)
    clinic_policy = clinic_policy.replace('version = "2026.11.0-default"',
                                          'version = "2026.11.1-riverside"')
    install_clinic_file(clinic.store, clinic.people.admin, "policy",
                        clinic_policy.encode("utf-8"))

    after = window.rescreen_now()  # the same form, the next screening
    assert after.document == before.document
    assert after.screening is not None
    assert after.screening.rules.policy.version == "2026.11.1-riverside"
    assert after.decision == "needs-review"
    row = window.findings.row("hypertension-elevated")
    assert row is not None and row.isVisibleTo(window)
    assert "130" in row.details.text() and "138/86" in row.details.text()
    assert row.finding.rule_id in after.acknowledgeable
    assert "1 finding(s) still need an acknowledgement" in window.decision.signing.text()
    assert window.actions_by_name["sign"].toolTip() == (
        "Each relative finding must be acknowledged with a reason before signing.")
    window.actions_by_name["about"].trigger()
    assert window.about is not None
    assert any(line.startswith("Clinic policy: 2026.11.1-riverside (sha256 ")
               for line in window.about.text().splitlines())
    window.about.close()

    assert window.sign_out()
    again = window.rescreen_now()
    assert again.screening is not None
    assert again.screening.rules.policy.version == "2026.11.1-riverside"
    assert again.decision == "needs-review"

    window.records_session.close_database()  # no records database: the shipped policy
    assert window.rescreen_now().decision == "clear"
    assert window.findings.row("hypertension-elevated") is None


def test_a_cancelled_sign_in_still_screens_with_the_clinic_policy(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path) -> None:
    """The app starts on a records database whose clinic policy lowers the elevated systolic
    limit, and the sign-in is cancelled: the form (opened before and after) is screened with the
    clinic's policy, not the shipped one, though nobody is signed in."""
    shipped = POLICY.read_text(encoding="utf-8")
    clinic_policy = shipped.replace(SHIPPED_LIMIT, CLINIC_LIMIT).replace(
        'version = "2026.11.0-default"', 'version = "2026.11.1-riverside"')
    install_clinic_file(clinic.store, clinic.people.admin, "policy",
                        clinic_policy.encode("utf-8"))
    window = MainWindow(settings, drafts=None, dialogs=dialogs,  # type: ignore[arg-type]
                        records=clinic.url)  # no credentials queued: the sign-in is cancelled
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.actor is None and window.store is None
    assert window.open_path(clear_case_file(tmp_path), ask=False)
    outcome = window.rescreen_now()
    assert outcome.screening is not None
    assert outcome.screening.rules.policy.version == "2026.11.1-riverside"
    assert outcome.decision == "needs-review"
    row = window.findings.row("hypertension-elevated")
    assert row is not None and "130" in row.details.text()

    window.records_session.close_database()
    assert window.rescreen_now().decision == "clear"
    window.open_records(url=clinic.url)  # Records > Sign in, cancelled again
    # The form on screen is screened again at once under the clinic's policy (no edit needed).
    row = window.findings.row("hypertension-elevated")
    assert row is not None and row.isVisibleTo(window)
    assert window.current_outcome().decision == "needs-review"


def test_a_clinic_policy_given_twice_stops_the_screening_in_the_app(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A policy installed in the records database and another named by $KETASCREEN_POLICY:
    the app screens under neither (no decision, no dose, not signable) and names both."""
    shipped = POLICY.read_bytes()
    install_clinic_file(clinic.store, clinic.people.admin, "policy", shipped)
    environment = tmp_path / "env-policy.toml"
    environment.write_bytes(shipped)
    monkeypatch.setenv("KETASCREEN_POLICY", str(environment))
    window = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    assert window.open_path(clear_case_file(tmp_path), ask=False)
    outcome = window.rescreen_now()
    assert outcome.screening is None and outcome.decision is None
    assert outcome.dose_rows == ()
    errors = window.findings.form_errors.text()
    assert "KETASCREEN_POLICY" in errors and str(environment) in errors
    assert window.actions_by_name["sign"].toolTip().startswith("The form is incomplete")
    monkeypatch.delenv("KETASCREEN_POLICY")
    assert window.rescreen_now().decision == "clear"


def test_an_installed_clinic_formulary_changes_the_next_screening_in_the_app(
        qtbot: QtBot, settings: AppSettings, dialogs: FakeDialogs, clinic: Clinic,
        tmp_path: Path) -> None:
    """The clinic's formulary lowers the depression default to 0.4 mg/kg and its soft maximum
    to 0.45 mg/kg: the next screening of the same form (0.5 mg/kg ordered) finds the dose above
    the soft limit, and the protocol section states the clinic's default."""
    window = signed_in(qtbot, settings, dialogs, clinic, "drsmith")
    assert window.open_path(clear_case_file(tmp_path), ask=False)
    assert window.rescreen_now().decision == "clear"
    defaults = window.form.protocol.defaults
    assert "Formulary default for depression: 0.5 mg/kg over 40 min" in defaults.text()
    assert window.findings.row("dose-above-soft-limit") is None

    shipped = FORMULARY.read_text(encoding="utf-8")
    assert SHIPPED_DOSE in shipped and SHIPPED_SOFT_MAX in shipped
    clinic_formulary = shipped.replace(SHIPPED_DOSE, CLINIC_DOSE, 1).replace(
        SHIPPED_SOFT_MAX, CLINIC_SOFT_MAX, 1)  # the first protocol: depression
    install_clinic_file(clinic.store, clinic.people.admin, "formulary",
                        clinic_formulary.encode("utf-8"))

    after = window.rescreen_now()
    assert "Formulary default for depression: 0.4 mg/kg over 40 min" in defaults.text()
    row = window.findings.row("dose-above-soft-limit")
    assert row is not None and "0.45" in row.details.text()
    assert after.decision == "needs-review"
    assert "0.5 mg/kg x 84.82 kg" in dict(after.dose_rows)["Intended dose"]
