"""The per-step conda environments (envs/*.yaml) are complete, pinned and consistent.

conda cannot run here, so the environments are checked statically: they parse, every rule names
one, every pin lies inside pyproject.toml's range and matches the versions the tests run with, and
every package a rule's ``seq2func`` subcommand imports is in that rule's environment.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import inspect
import re
import sys
import tomllib
from functools import cache
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from conftest import REPO

ENV_DIR = REPO / "envs"
STEPS = ("download", "preprocess", "train", "evaluate", "interpret", "report")
CHANNELS = ["conda-forge", "bioconda", "nodefaults"]

#: conda package name -> PyPI distribution name, where they differ
CONDA_TO_PYPI = {"pybigwig": "pyBigWig", "pyyaml": "PyYAML", "matplotlib-base": "matplotlib"}
#: distribution (conda or PyPI name, lower case) -> the top-level modules it provides
PROVIDES = {
    "pybigwig": {"pyBigWig"}, "pyyaml": {"yaml"}, "scikit-learn": {"sklearn"},
    "matplotlib-base": {"matplotlib", "mpl_toolkits"}, "biopython": {"Bio"},
    "tensorflow": {"tensorflow", "keras"},  # keras 3 is a dependency of tensorflow >= 2.16
    "modisco-lite": {"modiscolite"},
}
#: packages an environment may pin although pyproject.toml does not list them, and why
NOT_IN_PYPROJECT = {
    "python": "the interpreter (pyproject: requires-python)",
    "pip": "installs the pip section",
    "urllib3": "comes with requests; imported directly by the download step",
}
#: pins whose minor release differs from the one installed for the tests, and why
CONDA_LAGS_PYPI = {
    "pandas": "conda-forge had pandas 3.0.x, not yet 3.1 (tests: 3.1)",
    "tqdm": "conda-forge had tqdm 4.68.x, not yet 4.70 (tests: 4.70)",
    "biopython": "conda-forge had biopython 1.87, not yet 1.88 (tests: 1.88); pin =1.87",
}


def _env_files() -> list[Path]:
    return sorted(ENV_DIR.glob("*.yaml"))


@cache
def _env(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _pins(path: Path) -> dict[str, tuple[str, str]]:
    """package (lower case) -> (specifier, 'conda' or 'pip') of one environment."""
    out: dict[str, tuple[str, str]] = {}
    for dep in _env(path)["dependencies"]:
        if isinstance(dep, dict):
            for req in dep["pip"]:
                r = Requirement(req)
                out[r.name.lower()] = (str(r.specifier), "pip")
        else:
            m = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", dep.strip())
            assert m, f"{path.name}: cannot parse {dep!r}"
            out[m.group(1).lower()] = (m.group(2).replace(" ", ""), "conda")
    return out


def _conda_spec(spec: str) -> SpecifierSet:
    """A conda version constraint as a PEP 440 specifier set ('=2.4' means 2.4.*)."""
    if re.fullmatch(r"=\d+(\.\d+)*", spec):
        return SpecifierSet(f"=={spec[1:]}.*")
    return SpecifierSet(spec)


def _spec(package: str) -> tuple[SpecifierSet, str]:
    """The pin of ``package`` in every environment that has it (all equal: checked below)."""
    found = {(spec, kind) for p in _env_files() for name, (spec, kind) in _pins(p).items()
             if name == package}
    spec, kind = sorted(found)[0]
    return (_conda_spec(spec) if kind == "conda" else SpecifierSet(spec)), kind


def _pyproject_requirements() -> dict[str, Requirement]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    reqs = [Requirement(r) for r in data["project"]["dependencies"]]
    return {r.name.lower(): r for r in reqs}


def _pypi_name(package: str) -> str:
    return CONDA_TO_PYPI.get(package, package).lower()


def _edge_versions(spec: SpecifierSet) -> list[str]:
    """The lowest and a high version a pin allows, e.g. '==2.4.*' -> 2.4.0 and 2.4.999."""
    out = []
    for s in spec:
        if s.operator == "==" and s.version.endswith(".*"):
            base = s.version[:-2]
            out += [f"{base}.0", f"{base}.999"]
        elif s.operator in ("==", ">=", "~="):
            out.append(s.version.removesuffix(".*"))
    return out


def test_one_environment_per_step() -> None:
    assert {p.stem for p in _env_files()} >= set(STEPS)


@pytest.mark.parametrize("path", _env_files(), ids=lambda p: p.name)
def test_environment_is_pinned(path: Path) -> None:
    env = _env(path)
    assert env["channels"] == CHANNELS, "conda-forge, then bioconda, never Anaconda defaults"
    pins = _pins(path)
    assert pins["python"] == ("=3.11", "conda")
    for name, (spec, kind) in pins.items():
        if kind == "conda":
            # transitive packages may be pinned to a major release only
            ok = re.fullmatch(r"=\d+\.\d+(\.\d+)*", spec) or (
                name in NOT_IN_PYPROJECT and re.fullmatch(r"=\d+|>=[\d.]+(,<[\d.]+)?", spec))
        else:
            ok = re.fullmatch(r"==\d+\.\d+\.\*", spec)
        assert ok, f"{path.name}: {name} {spec!r} is not pinned to a minor release"


def test_shared_packages_have_one_version() -> None:
    seen: dict[str, set[str]] = {}
    for path in _env_files():
        for name, (spec, _) in _pins(path).items():
            seen.setdefault(name, set()).add(spec)
    # tensorflow is pinned with and without the and-cuda extra: same version
    clashes = {n: s for n, s in seen.items() if len(s) > 1}
    assert not clashes, clashes


def _cuda_tensorflow(path: Path) -> bool:
    """Whether an environment installs TensorFlow with its CUDA wheels."""
    return any(isinstance(dep, dict) and any(re.match(r"tensorflow\[and-cuda\]==", req)
                                             for req in dep["pip"])
               for dep in _env(path)["dependencies"])


def test_training_gets_gpu_capable_tensorflow() -> None:
    assert _cuda_tensorflow(ENV_DIR / "train.yaml"), "train.yaml: TensorFlow without CUDA"


def test_pins_satisfy_pyproject() -> None:
    requirements = _pyproject_requirements()
    problems = []
    for path in _env_files():
        for name, (spec, kind) in _pins(path).items():
            pypi = _pypi_name(name)
            if pypi not in requirements:
                if name not in NOT_IN_PYPROJECT:
                    problems.append(f"{path.name}: {name} is not a dependency in pyproject.toml")
                continue
            pin = _conda_spec(spec) if kind == "conda" else SpecifierSet(spec)
            for version in _edge_versions(pin):
                if not requirements[pypi].specifier.contains(version, prereleases=True):
                    problems.append(f"{path.name}: {name} {spec} allows {version}, outside "
                                    f"pyproject's {requirements[pypi]}")
    assert not problems, "\n".join(problems)


def test_pins_match_the_tested_versions() -> None:
    """The pins are the minor releases the test suite runs with (or a documented lag)."""
    problems = []
    names = sorted({n for p in _env_files() for n in _pins(p)} - {"python", "pip"})
    for name in names:
        try:
            installed = Version(importlib.metadata.version(_pypi_name(name)))
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed with the package (optional for the tests)
        spec, _ = _spec(name)
        minor = f"{installed.major}.{installed.minor}"
        same_minor = any(e.startswith(f"{minor}.") or e == minor for e in _edge_versions(spec))
        if name in CONDA_LAGS_PYPI:
            if same_minor:
                problems.append(f"{name}: pinned to the tested {minor} now; drop it from "
                                "CONDA_LAGS_PYPI")
            elif not any(Version(e).major == installed.major for e in _edge_versions(spec)):
                problems.append(f"{name}: pin {spec} is a different major release than {installed}")
        elif not same_minor and not spec.contains(installed):
            problems.append(f"{name}: tests run {installed}, environments pin {spec}")
    assert not problems, "\n".join(problems)


def test_tests_run_the_pinned_python() -> None:
    pinned = {_pins(p)["python"][0] for p in _env_files()}
    assert pinned == {f"={sys.version_info.major}.{sys.version_info.minor}"}, pinned


# --------------------------------------------------------------------------- rules and imports

def _rules() -> list[tuple[str, str, str]]:
    """(file, rule name, body) of every rule in the workflow."""
    from rule_bodies import rule_bodies

    files = [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]
    return [(path.name, name, body) for path, name, body in rule_bodies(files)]


def _rule_env(body: str) -> str | None:
    m = re.search(r'conda:\n\s+"([^"]+)"', body)
    return m.group(1) if m else None


def test_every_rule_names_an_existing_environment() -> None:
    problems = []
    for file, name, body in _rules():
        if name == "all" or re.search(r"^\s+localrule: True", body, flags=re.M):
            continue
        env = _rule_env(body)
        if env is None:
            problems.append(f"{file}: rule {name} has no conda: env")
            continue
        path = (REPO / "workflow" / "rules" / env).resolve()
        if path.parent != ENV_DIR or not path.is_file():
            problems.append(f"{file}: rule {name}: {env} is not a file in envs/")
    assert not problems, "\n".join(problems)


def _requests_gpu(body: str) -> bool:
    return re.search(r"^\s+gpu=", body, flags=re.M) is not None


def test_gpu_jobs_and_cuda_environments_go_together() -> None:
    """A job that requests a GPU gets CUDA-enabled TensorFlow (else it holds a GPU and runs on
    the CPU); a job in a CUDA environment requests a GPU (else the CUDA wheels are dead weight,
    or the job uses a GPU the scheduler did not give it)."""
    problems, gpu_rules = [], 0
    for file, name, body in _rules():
        env = _rule_env(body)
        if env is None:
            continue
        cuda = _cuda_tensorflow((REPO / "workflow" / "rules" / env).resolve())
        gpu = _requests_gpu(body)
        gpu_rules += gpu
        if gpu and not cuda:
            problems.append(f"{file}: rule {name} requests a GPU, {env} has no CUDA TensorFlow")
        if cuda and not gpu:
            problems.append(f"{file}: rule {name} runs in {env} (CUDA) but requests no GPU")
    assert gpu_rules >= 6, "training, tracks, attributions, variants, expression: GPU jobs"
    assert not problems, "\n".join(problems)


def _module_path(module: str) -> Path | None:
    """The source file of a seq2func module (None for other modules and for attributes)."""
    if module != "seq2func" and not module.startswith("seq2func."):
        return None
    base = REPO / "src" / Path(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imports(tree: ast.AST, *, top_level_only: bool) -> set[str]:
    """Modules imported in ``tree`` (relative imports are not used in the package)."""
    nodes = tree.body if top_level_only and isinstance(tree, ast.Module) else ast.walk(tree)
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            # `from seq2func.simulate import demo` may import a submodule
            out |= {f"{node.module}.{a.name}" for a in node.names
                    if _module_path(f"{node.module}.{a.name}") is not None}
    return out


@cache
def _module_tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text())


#: lazy imports (module, package) that no rule reaches through that module, and why; all other
#: imports of every seq2func module a subcommand can reach must be in the rule's environment
LAZY_IMPORTS_NOT_NEEDED = {
    ("seq2func.core.motifs", "pyjaspar"): "only to rebuild the motif set from the JASPAR database",
    ("seq2func.dataset.tf", "tensorflow"): "tf.data pipeline, used by training (train env)",
}


def _third_party_imports(handler) -> set[str]:
    """Top-level third-party modules a CLI handler may import at run time.

    The handler's own imports and cli.py's module-level ones, then every import (module-level
    or inside functions: TensorFlow and h5py are imported lazily) of every seq2func module
    reachable from them, except the documented :data:`LAZY_IMPORTS_NOT_NEEDED`.
    """
    cli_path = Path(inspect.getsourcefile(handler))
    cli_tree = _module_tree(cli_path)
    start = _imports(cli_tree, top_level_only=True)
    # the handler and the cli.py helper functions it calls, recursively
    functions = {n.name: n for n in cli_tree.body if isinstance(n, ast.FunctionDef)}
    todo, done = [handler.__name__], set()
    while todo:
        name = todo.pop()
        if name in done or name not in functions:
            continue
        done.add(name)
        start |= _imports(functions[name], top_level_only=False)
        todo += [c.func.id for c in ast.walk(functions[name])
                 if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)]
    third_party: set[str] = set()
    queue, seen = list(start), set()
    while queue:
        mod = queue.pop()
        if mod in seen:
            continue
        seen.add(mod)
        path = _module_path(mod)
        if path is None:
            third_party.add(mod)
            continue
        queue += _parents(mod)
        for sub in _imports(_module_tree(path), top_level_only=path == cli_path):
            top = sub.split(".")[0]
            if (mod, top) not in LAZY_IMPORTS_NOT_NEEDED:
                queue.append(sub)
    tops = {m.split(".")[0] for m in third_party}
    return {t for t in tops if t not in sys.stdlib_module_names and t not in ("seq2func",
                                                                              "__future__")}


def _parents(module: str) -> list[str]:
    """Importing a.b.c runs a/__init__ and a/b/__init__ first."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(2, len(parts))]


def _handlers() -> dict[str, object]:
    from seq2func.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name: p.get_default("func") for name, p in sub.choices.items()}


def _provided(env: Path) -> set[str]:
    out = set()
    for name in _pins(env):
        out |= PROVIDES.get(name, {CONDA_TO_PYPI.get(name, name)})
    return out


def test_each_rule_environment_has_what_its_subcommand_imports() -> None:
    handlers = _handlers()
    problems, checked = [], 0
    for file, name, body in _rules():
        env = _rule_env(body)
        commands = re.findall(r"\bseq2func ([a-z][a-z0-9-]*)", body)
        if env is None or not commands:
            continue
        env_path = (REPO / "workflow" / "rules" / env).resolve()
        provided = _provided(env_path)
        for command in commands:
            assert command in handlers, f"{file}: rule {name} calls unknown `seq2func {command}`"
            missing = _third_party_imports(handlers[command]) - provided
            checked += 1
            if missing:
                problems.append(f"{file}: rule {name} runs `seq2func {command}`, which imports "
                                f"{sorted(missing)}, not in {env_path.name}")
    assert checked, "no rule runs a seq2func subcommand"
    assert not problems, "\n".join(problems)


def test_import_analysis_sees_lazy_imports() -> None:
    """The analysis above finds imports inside functions of the modules a handler imports."""
    from seq2func.cli.simulate import _run_simulate

    needed = _third_party_imports(_run_simulate)
    assert {"numpy", "pandas", "scipy", "pyBigWig"} <= needed, needed
    assert "pyjaspar" not in needed  # only imported to rebuild the motif set, never by a rule
