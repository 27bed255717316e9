"""Installed dbt packages: what ``packages.yml`` asks for and what ``dbt_packages/`` holds.

The app never downloads: ``dbt deps`` installs packages, and the runner reads them from the
project's ``packages-install-path`` (default ``dbt_packages/``). A ``local:`` package is read from its
own folder. A package the project asks for that is not installed is refused by name, with the
command that installs it; a package's macros and generic tests join their own namespace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from desktop_app.core.errors import ModelError


@dataclass(frozen=True)
class Package:
    name: str
    root: Path
    config: dict = field(default_factory=dict, compare=False)

    def paths(self, key: str, default: str) -> list[Path]:
        return [self.root / p for p in self.config.get(key) or [default]]


def installed_packages(project_root: Path, project_config: dict) -> list[Package]:
    """Every package the project depends on, each found installed; refused by name when it is not."""
    wanted = _requested(project_root)
    install_dir = project_root / project_config.get("packages-install-path", "dbt_packages")
    found: dict[str, Package] = {}
    for folder in sorted(install_dir.iterdir()) if install_dir.is_dir() else []:
        package = _read_package(folder)
        if package is not None:
            found[package.name] = package
    for entry in wanted:
        if "local" in entry:
            local = (project_root / str(entry["local"])).resolve()
            package = _read_package(local)
            if package is None:
                raise ModelError(f"packages.yml names the local package {entry['local']}, which has no "
                                 "dbt_project.yml.", "Check the path in packages.yml.")
            found.setdefault(package.name, package)
            continue
        name = _requested_name(entry)
        if name and name not in found:
            raise ModelError(f"packages.yml asks for {name}, which is not installed in {install_dir.name}/.",
                             f"Run `dbt deps` in {project_root} to install it (the app never downloads packages).")
    return list(found.values())


def _requested(project_root: Path) -> list[dict]:
    for name in ("packages.yml", "dependencies.yml"):
        path = project_root / name
        if path.is_file():
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as err:
                raise ModelError(f"Invalid YAML in {path}: {err}.") from None
            return [p for p in data.get("packages") or [] if isinstance(p, dict)]
    return []


def _requested_name(entry: dict[str, Any]) -> str | None:
    """The package name an entry installs as: ``dbt-labs/dbt_utils`` → ``dbt_utils``; a git URL's last part."""
    if "package" in entry:
        return str(entry["package"]).rsplit("/", 1)[-1]
    if "git" in entry:
        return str(entry["git"]).rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    return None


def _read_package(folder: Path) -> Package | None:
    project_file = folder / "dbt_project.yml"
    if not project_file.is_file():
        return None
    try:
        config = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ModelError(f"Invalid YAML in {project_file}: {err}.") from None
    name = config.get("name")
    return Package(str(name), folder, config) if name else None
