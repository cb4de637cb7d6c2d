"""Flask commands: checklist loading and user creation."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from compliance.extensions import db
from compliance.models import ChecklistVersion, User

from . import factories

ROOT = Path(__file__).resolve().parent.parent
AFCON = str(ROOT / "checklists" / "afcon-2025.toml")


def versions() -> int:
    return db.session.scalar(select(func.count(ChecklistVersion.id)))


def test_load_checklist_stores_a_version(runner):
    result = runner.invoke(args=["checklist", "load", AFCON])
    assert result.exit_code == 0, result.output
    assert "loaded as afcon-2025 v1" in result.output
    assert versions() == 1


def test_loading_the_same_content_twice_is_a_no_op(runner):
    runner.invoke(args=["checklist", "load", AFCON])
    result = runner.invoke(args=["checklist", "load", AFCON])
    assert result.exit_code == 0 and "unchanged" in result.output
    assert versions() == 1


def test_changed_content_makes_a_new_version_and_keeps_the_old(runner, tmp_path):
    runner.invoke(args=["checklist", "load", AFCON])
    changed = tmp_path / "afcon.toml"
    changed.write_text(Path(AFCON).read_text().replace("weight = 3", "weight = 2", 1))
    result = runner.invoke(args=["checklist", "load", str(changed)])
    assert "v2" in result.output
    rows = db.session.scalars(select(ChecklistVersion).order_by(ChecklistVersion.version)).all()
    assert [r.version for r in rows] == [1, 2] and rows[0].content_hash != rows[1].content_hash


def test_broken_checklist_names_the_key_and_stores_nothing(runner, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text(Path(AFCON).read_text().replace("weight = 3", "weight = -3", 1))
    result = runner.invoke(args=["checklist", "load", str(broken)])
    assert result.exit_code != 0
    assert "weight" in result.output and "positive" in result.output
    assert versions() == 0


def test_load_without_arguments_loads_the_checklist_folder(runner):
    result = runner.invoke(args=["checklist", "load"])
    assert result.exit_code == 0 and "afcon-2025" in result.output


def test_create_inspector_needs_a_region(runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "ali",
            "--name",
            "Ali",
            "--role",
            "inspector",
            "--password",
            "a long password",
        ]
    )
    assert result.exit_code != 0 and "--region" in result.output


def test_create_user(runner, region):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Ali",
            "--name",
            "Ali Tazi",
            "--role",
            "inspector",
            "--region",
            "MA-04",
            "--password",
            "a long password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "ali"))
    assert user.region_id == region.id and user.check_password("a long password")


def test_create_user_twice_is_refused(runner):
    factories.user("admin", username="root")
    result = runner.invoke(
        args=["users", "create", "root", "--name", "R", "--role", "admin", "--password", "pw"]
    )
    assert result.exit_code != 0 and "already exists" in result.output
