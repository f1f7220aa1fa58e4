"""The configuration file: the shipped one is valid, and each kind of bad file is refused with
an error that names the field, by the functions at start and by ``scripts/check_config.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT

from credits.core import settings
from credits.core.settings import ConfigError
from credits.flows.payments import CATALOG, ItemKind

SHIPPED = ROOT / "functions" / "credits.config.yaml"


def shipped() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SHIPPED.read_text())
    return data


def write(tmp_path: Path, change: Callable[[dict[str, Any]], object]) -> Path:
    config = shipped()
    change(config)
    path = tmp_path / "credits.config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_the_shipped_file_is_what_the_code_runs_with():
    loaded = settings.load(SHIPPED)
    assert loaded == settings.SETTINGS
    assert list(loaded.credit_types) == ["image", "video"]
    pro = CATALOG["price_plan_pro_monthly"]
    assert (pro.kind, pro.credits, pro.rollover and pro.rollover.days) == (ItemKind.PLAN, 300, 30)
    assert CATALOG["price_pack_image_100"].lasts is None


BAD = {
    "an unknown key": (
        lambda c: c["packs"]["price_pack_image_100"].update(colour="blue"),
        "packs.price_pack_image_100.colour: Extra inputs are not permitted",
    ),
    "an unknown section": (lambda c: c.update(discounts={}), "discounts: Extra inputs are not permitted"),
    "a price id used twice": (
        lambda c: c["plans"].update(price_pack_image_100=c["plans"]["price_plan_pro_monthly"]),
        "plans.price_pack_image_100: price id used twice (also in packs)",
    ),
    "a zero amount": (
        lambda c: c["packs"]["price_pack_video_60"].update(credits=0),
        "packs.price_pack_video_60.credits: Input should be greater than 0",
    ),
    "a negative amount": (
        lambda c: c["plans"]["price_plan_video_monthly"].update(credits=-120),
        "plans.price_plan_video_monthly.credits: Input should be greater than 0",
    ),
    "an amount that is not an integer": (
        lambda c: c["prices"]["units"]["image"].update(hq=2.5),
        "prices.units.image.hq: Input should be a valid integer",
    ),
    "an amount written as text": (
        lambda c: c["packs"]["price_pack_image_500"].update(unit_amount="3999"),
        "packs.price_pack_image_500.unit_amount: Input should be a valid integer",
    ),
    "a job kind of an unknown credit type": (
        lambda c: c["job_kinds"].update(text2audio={"credit_type": "audio", "unit": "durationSec", "max_units": 9}),
        "job_kinds.text2audio.credit_type: unknown credit type 'audio' (credit_types: image, video)",
    ),
    "a pack of an unknown credit type": (
        lambda c: c["packs"]["price_pack_video_60"].update(credit_type="videos"),
        "packs.price_pack_video_60.credit_type: unknown credit type 'videos'",
    ),
    "a unit the job document has no field for": (
        lambda c: c["job_kinds"]["text2image"].update(unit="pixels"),
        "job_kinds.text2image.unit: Input should be 'numImages' or 'durationSec'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_file_is_refused_naming_the_field(tmp_path: Path, case: str):
    change, message = BAD[case]
    with pytest.raises(ConfigError) as refused:
        settings.load(write(tmp_path, change))
    assert message in str(refused.value)


def test_a_key_written_twice_is_refused_with_its_line(tmp_path: Path):
    path = tmp_path / "credits.config.yaml"
    path.write_text(SHIPPED.read_text().replace("  price_pack_image_500:", "  price_pack_image_100:"))
    with pytest.raises(ConfigError, match=r"'price_pack_image_100' is used twice \(line \d+\)"):
        settings.load(path)


def run_with(path: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *command],
        cwd=ROOT / "functions",
        env={**os.environ, "CREDITS_CONFIG": str(path)},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["packs"]["price_pack_video_60"].update(credits=0), "packs.price_pack_video_60.credits"),
        (lambda c: c["credit_types"].update(seq={"label": "Seq"}), "credit_types.seq: credit type 'seq' is named"),
    ],
)
def test_a_bad_file_stops_the_functions_from_starting(tmp_path: Path, change, message):
    started = run_with(write(tmp_path, change), "-c", "import main")
    assert started.returncode != 0
    assert message in started.stderr


def test_check_config_says_what_is_wrong_or_what_is_configured(tmp_path: Path):
    script = str(ROOT / "scripts" / "check_config.py")
    path = write(tmp_path, lambda c: c["alerts"].update(expiring_soon_days=0))
    bad = run_with(SHIPPED, script, str(path))  # the file named on the command line wins
    good = run_with(SHIPPED, script)

    assert bad.returncode == 1 and "alerts.expiring_soon_days: Input should be greater than 0" in bad.stderr
    assert good.returncode == 0 and good.stdout.startswith("valid: credit types image, video; job kinds text2image")
