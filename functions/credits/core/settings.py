"""The host's configuration file, ``functions/credits.config.yaml``: everything a host app decides.

Credit types and their labels, the generation jobs' collection and kinds (which balance a job's
``source`` spends and what its price counts), the default price table, the credit packs and
plans with their Stripe price ids, lifetimes and rollover, and the alert defaults. The code
reads these from :data:`SETTINGS` only; no Python names a pack, a plan or a price id.

The file is read and validated once, when the functions start (this module's import), by the
pydantic models below and the checks of :func:`load`. A file that does not validate stops
the functions with a :class:`ConfigError` that names each wrong field and says what is wrong;
nothing falls back to a default. ``scripts/check_config.py`` runs the same validation before a
deploy. ``CREDITS_CONFIG`` names another file (tests, and tools run against another project).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, ValidationError

CONFIG_FILE_ENV = "CREDITS_CONFIG"
DEFAULT_FILE = Path(__file__).resolve().parents[2] / "credits.config.yaml"

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
"""A credit type, job source or quality: 1-32 lower-case letters, digits or ``_``, from a letter."""
Positive = Annotated[StrictInt, Field(gt=0)]
NotNegative = Annotated[StrictInt, Field(ge=0)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
PriceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,200}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[a-z]{3}$")]


class ConfigError(ValueError):
    """The configuration file cannot be used; the message names each wrong field."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CreditTypeSettings(_Section):
    label: Text
    """Shown on the balance cards and in exports: ``Image credits``."""
    hint: str = ""
    """What the type pays for, under its balance: ``for text-to-image and image-to-image``."""


class JobsSettings(_Section):
    collection: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,100}$")] = "generation_jobs"
    """The collection the generation pipeline writes its jobs to (the trigger listens on it)."""


class JobKindSettings(_Section):
    credit_type: Name
    """The balance a job of this source spends."""
    unit: Literal["numImages", "durationSec"]
    """What the price counts: the job field that holds the count."""
    max_units: Positive
    """The most units one job may have."""


class PriceSettings(_Section):
    version: Text
    """Recorded on every debit as ``meta.priceVersion``."""
    units: dict[Name, dict[Name, Positive]]
    """Per credit type, the credits one unit costs, by the job's ``quality``."""


class PackSettings(_Section):
    name: Text
    credit_type: Name
    credits: Positive
    unit_amount: Positive
    """The price the Top up page shows, in the currency's minor unit (display only)."""
    currency: Currency
    lasts_days: Positive | None = None
    """Days until a purchase's credits expire; None: never."""


class PlanSettings(_Section):
    name: Text
    credit_type: Name
    credits: Positive
    """Credits granted for each paid period."""
    unit_amount: Positive
    currency: Currency
    rollover_days: NotNegative | None = None
    """Days after the end of its period that a grant expires (0: at the end); None: never."""


class AlertSettings(_Section):
    low_balance: dict[Name, NotNegative]
    """Per credit type, the balance under which a user is warned by default."""
    expiring_soon_days: Positive
    """How many days before a block with credits left expires its owner is told."""


class Settings(_Section):
    credit_types: dict[Name, CreditTypeSettings] = Field(min_length=1)
    jobs: JobsSettings = JobsSettings()
    job_kinds: dict[Name, JobKindSettings] = Field(min_length=1)
    prices: PriceSettings
    packs: dict[PriceId, PackSettings]
    plans: dict[PriceId, PlanSettings]
    alerts: AlertSettings

    def lasts(self, price_id: str) -> timedelta | None:
        days = self.packs[price_id].lasts_days
        return None if days is None else timedelta(days=days)

    def rollover(self, price_id: str) -> timedelta | None:
        days = self.plans[price_id].rollover_days
        return None if days is None else timedelta(days=days)


def load(path: Path) -> Settings:
    """The settings in ``path``; :class:`ConfigError` naming every wrong field when they are not usable."""
    try:
        data = yaml.load(path.read_text(), Loader=_UniqueKeyLoader)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems = [f"{_where(error['loc'])}: {error['msg']}" for error in exc.errors(include_url=False)]
        raise ConfigError(_report(path, problems)) from None
    problems = _cross_checks(settings)
    if problems:
        raise ConfigError(_report(path, problems))
    return settings


def _cross_checks(settings: Settings) -> list[str]:
    """What one field says of another: every credit type named is defined, no price id twice."""
    types = settings.credit_types
    problems = []

    def known(where: str, credit_type: str) -> None:
        if credit_type not in types:
            problems.append(f"{where}: unknown credit type {credit_type!r} (credit_types: {', '.join(types)})")

    for source, kind in settings.job_kinds.items():
        known(f"job_kinds.{source}.credit_type", kind.credit_type)
        if kind.credit_type in types and kind.credit_type not in settings.prices.units:
            problems.append(f"prices.units: no prices for {kind.credit_type!r}, which job kind {source!r} spends")
    for credit_type in settings.prices.units:
        known(f"prices.units.{credit_type}", credit_type)
    for section, items in (("packs", settings.packs), ("plans", settings.plans)):
        for price_id, item in items.items():
            known(f"{section}.{price_id}.credit_type", item.credit_type)
    for price_id in settings.packs.keys() & settings.plans.keys():
        problems.append(f"plans.{price_id}: price id used twice (also in packs)")
    for credit_type in settings.alerts.low_balance:
        known(f"alerts.low_balance.{credit_type}", credit_type)
    return problems


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(the file)"


def _report(path: Path, problems: list[str]) -> str:
    return f"{path} is not a valid credits configuration:\n" + "\n".join(f"  {p}" for p in problems)


class _UniqueKeyLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML has no type hints
    """A SafeLoader that refuses a key twice in one mapping (YAML would silently keep the last):
    a price id or a credit type written twice is a mistake to name, not to guess."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise yaml.constructor.ConstructorError(None, None, f"{key!r} is used twice (line {line})")
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


SETTINGS = load(Path(os.environ.get(CONFIG_FILE_ENV) or DEFAULT_FILE))
"""The settings the functions run with."""
