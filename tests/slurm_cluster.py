"""A real single-node SLURM cluster for integration tests, as the pytest fixture ``slurm_cluster``.

The cluster is started by ``tests/slurm/cluster.sh`` (munged, slurmctld and slurmd from the Debian
packages, a fake GPU) once per test session, when a test first asks for it, and torn down at the
end. It is registered for every test module through ``pytest_plugins`` in ``conftest.py``::

    def test_training_on_slurm(slurm_cluster, tmp_path):
        res = slurm_cluster.snakemake(workdir, "results/demo/models/x.keras")
        assert res.returncode == 0, res.output

Tests using it are skipped, with the reason, where no cluster can run: not Linux, not root, or
the packages are missing (``sudo tests/slurm/cluster.sh install``; ``.ci/run`` installs them).
Set ``SEQ2FUNC_SKIP_SLURM=1`` to skip them on purpose.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CLUSTER_SH = REPO / "tests" / "slurm" / "cluster.sh"
SLURM_PROFILE = REPO / "profiles" / "slurm"

#: Test-only options added to every run through profiles/slurm on the test cluster.
TEST_OVERRIDES = (
    # the test cluster has no accounting database, hence no accounts
    "--slurm-no-account",
    # check job states at once instead of waiting 40 s after each submission
    "--slurm-init-seconds-before-status-checks", "1",
    # ... and every 2 s after that (default 10 s): most demo jobs take seconds, and each one's
    # end is otherwise noticed up to 10 s late along the whole chain of dependent jobs
    "--seconds-between-status-checks", "2",
    # keep every job's SLURM log: tests read what each job ran
    "--slurm-keep-successful-logs",
    # the node has few CPUs: cap each job's CPUs (threads, width of group jobs) at the node size
    "--cores", str(os.cpu_count() or 1),
)


@dataclass
class SnakemakeRun:
    """A finished Snakemake run on the cluster."""

    returncode: int
    output: str  # stdout + stderr, Snakemake's main log
    workdir: Path

    @property
    def run_id(self) -> str:
        """The plugin's run ID: the SLURM job name of every job of this run."""
        m = re.search(r"SLURM run ID: (\S+)", self.output)
        assert m, "no 'SLURM run ID' in the Snakemake log (did it use the slurm executor?)"
        return m.group(1)

    def submissions(self) -> dict[str, str]:
        """Snakemake job ID (a number, or a UUID for group jobs) -> last SLURM job ID."""
        return dict(re.findall(r"Job (\S+) has been submitted with SLURM jobid (\d+)",
                               self.output))

    def slurm_logs(self) -> list[Path]:
        return sorted((self.workdir / ".snakemake" / "slurm_logs").rglob("*.log"))


@dataclass
class SlurmCluster:
    """Handle on the running test cluster."""

    directory: Path
    env: dict[str, str]

    def run(self, *cmd: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess[str]:
        """Run a command (e.g. ``squeue``) as a client of this cluster."""
        return subprocess.run(list(cmd), env=self.env, capture_output=True, text=True,
                              timeout=timeout, **kwargs)

    def snakemake(self, workdir: Path, *args: str, snakefile: Path = REPO / "Snakefile",
                  configfile: Path | None = None, timeout: int = 900) -> SnakemakeRun:
        """Run ``snakefile`` in ``workdir`` through ``--workflow-profile profiles/slurm``.

        Adds :data:`TEST_OVERRIDES`, and ``--configfile workdir/config/config.yaml`` when that
        file exists. Wrapped in ``timeout -k 10``: Snakemake ignores SIGTERM while jobs run, and
        a job that SLURM can never start would otherwise hang the test.
        """
        if configfile is None and (workdir / "config" / "config.yaml").exists():
            configfile = workdir / "config" / "config.yaml"
        cmd = ["timeout", "-k", "10", str(timeout), sys.executable, "-m", "snakemake",
               "-s", str(snakefile), "-d", str(workdir),
               "--workflow-profile", str(SLURM_PROFILE), *TEST_OVERRIDES]
        if configfile is not None:
            cmd += ["--configfile", str(configfile)]
        res = subprocess.run([*cmd, *args], env=self.env, cwd=workdir, capture_output=True,
                             text=True, timeout=timeout + 30)
        output = res.stdout + res.stderr
        if res.returncode == 124:
            output += f"\n[slurm_cluster] killed after {timeout} s\n{self.diagnostics()}"
        return SnakemakeRun(res.returncode, output, workdir)

    def job_states(self, run_id: str) -> dict[str, tuple[str, str]]:
        """SLURM job ID -> (state, partition) of every job named ``run_id`` still known."""
        res = self.run("squeue", "--states=all", "--noheader", "--name", run_id,
                       "--format=%i|%T|%P")
        assert res.returncode == 0, res.stderr
        out = {}
        for line in res.stdout.split():
            job, state, partition = line.split("|")
            out[job] = (state, partition)
        return out

    def show_job(self, job_id: str) -> dict[str, str]:
        """``scontrol show job`` as key -> value."""
        res = self.run("scontrol", "show", "job", "--oneliner", job_id)
        assert res.returncode == 0, res.stderr
        return dict(re.findall(r"(\S+?)=(\S*)", res.stdout))

    def diagnostics(self) -> str:
        """Queue, node state and daemon log tails, for failure messages."""
        parts = []
        for cmd in (["squeue", "--states=all"], ["sinfo", "-N", "-l"]):
            res = self.run(*cmd)
            parts.append(f"$ {' '.join(cmd)}\n{res.stdout}{res.stderr}")
        for log in ("slurmctld.log", "slurmd.log"):
            path = self.directory / "log" / log
            if path.exists():
                parts.append(f"--- {log} (tail)\n" + "\n".join(
                    path.read_text(errors="replace").splitlines()[-15:]))
        return "\n".join(parts)


def _skip_reason() -> str | None:
    if os.environ.get("SEQ2FUNC_SKIP_SLURM"):
        return "SEQ2FUNC_SKIP_SLURM is set"
    if not sys.platform.startswith("linux"):
        return "a SLURM test cluster needs Linux"
    if shutil.which("timeout") is None:
        return "coreutils 'timeout' is missing"
    res = subprocess.run(["bash", str(CLUSTER_SH), "check"], capture_output=True, text=True,
                         timeout=30)
    if res.returncode != 0:
        return f"no SLURM test cluster possible here: {res.stdout.strip() or res.stderr.strip()}"
    return None


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    """A running single-node SLURM cluster (partitions cpu and gpu, one fake GPU)."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    # not under pytest's tmp dirs: those are private to root, and munged runs as user munge
    directory = Path(tempfile.mkdtemp(prefix="seq2func-slurm-", dir="/tmp"))
    try:
        res = subprocess.run(["bash", str(CLUSTER_SH), "start", str(directory)],
                             capture_output=True, text=True, timeout=120)
        if res.returncode != 0:
            pytest.fail(f"the SLURM test cluster did not start:\n{res.stdout}\n{res.stderr}",
                        pytrace=False)
        env = dict(os.environ)
        for line in (directory / "env").read_text().splitlines():
            key, value = line.removeprefix("export ").split("=", 1)
            env[key] = value.replace("$PATH", os.environ.get("PATH", ""))
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        # jobs must not inherit an enclosing allocation's identity (pytest run inside a job)
        for key in [k for k in env if k.startswith("SLURM_") and k != "SLURM_CONF"]:
            del env[key]
        yield SlurmCluster(directory, env)
    finally:
        subprocess.run(["bash", str(CLUSTER_SH), "stop", str(directory)], capture_output=True,
                       text=True, timeout=120)
        shutil.rmtree(directory, ignore_errors=True)
