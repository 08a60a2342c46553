"""environment.yml (Binder, conda) and pyproject.toml (pip, make) must list the same packages."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"pytorch": "torch"}          # conda-forge name -> PyPI name
NOT_PACKAGES = {"python", "pip"}


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[; ]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject_names() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + project["optional-dependencies"]["dev"]
    return {requirement_name(s) for s in specs}


def conda_names() -> set[str]:
    names = set()
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        match = re.match(r"  - ([A-Za-z0-9_.-]+)", line)
        if match:
            name = match.group(1).lower()
            names.add(CONDA_NAMES.get(name, name))
    return names - NOT_PACKAGES


def test_environment_yml_and_pyproject_list_the_same_packages():
    assert pyproject_names() == conda_names(), (
        f"only in pyproject.toml: {sorted(pyproject_names() - conda_names())}; "
        f"only in environment.yml: {sorted(conda_names() - pyproject_names())}")


def test_binder_gets_the_cpu_build_of_pytorch_and_installs_fedlite():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"pytorch=\S*=cpu\*", text), "Binder needs the CPU build; a CUDA build does not fit"
    assert "pip install --no-deps -e ." in (ROOT / "postBuild").read_text()
