"""Audit profiles: which checks run, at what severity, with which thresholds (YAML data)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pathsec.audit.models import FindingSeverity
from pathsec.errors import InputError, InputProblem
from pathsec.ident import ShortText
from pathsec.yamlfile import load_yaml_file, load_yaml_text, validate_located

BUILTIN = ("reference", "hardened")


class Profile(BaseModel):
    """A profile: check id -> severity, plus the thresholds the checks use."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ShortText = Field(min_length=1)
    description: str = ""
    min_tls_version: Literal["TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"] = "TLSv1.0"
    min_rsa_bits: int = Field(default=1024, ge=512, le=16384)
    min_ec_bits: int = Field(default=160, ge=128, le=1024)
    min_dh_bits: int = Field(default=1024, ge=512, le=16384)
    weak_signature_hashes: tuple[str, ...] = ("md5", "sha1")
    checks: dict[str, FindingSeverity] = Field(min_length=1)


def _validate(doc_file: str, doc: object) -> Profile:
    from pathsec.audit.checks.registry import CHECKS
    from pathsec.yamlfile import LocatedYaml

    assert isinstance(doc, LocatedYaml)
    profile = validate_located(Profile, doc)
    for key in profile.checks:
        if key not in CHECKS:
            raise InputError(
                InputProblem(
                    doc_file,
                    doc.line_of(("checks", key)),
                    f"checks.{key}",
                    f"unknown check id (known: {', '.join(sorted(CHECKS))})",
                )
            )
    return profile


def load_profile(name_or_path: str) -> Profile:
    """A built-in profile by name, or a profile YAML file by path."""
    if name_or_path in BUILTIN:
        text = (
            resources.files("pathsec.audit")
            .joinpath(f"profiles/{name_or_path}.yaml")
            .read_text(encoding="utf-8")
        )
        return _validate(f"{name_or_path}.yaml", load_yaml_text(text, f"{name_or_path}.yaml"))
    path = Path(name_or_path)
    if not path.exists():
        raise InputError(
            InputProblem(
                name_or_path, None, None, f"no such profile (built-in: {', '.join(BUILTIN)})"
            )
        )
    return _validate(str(path), load_yaml_file(path))
