"""The production profile: cluster-wide locks, per-host leases, the crawl pool policy, and (slow)
the whole cluster of scripts/cluster-up.sh running the nightly DAG over the offline sites."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from quxian import cluster
from quxian.config import CHECKOUT

SCRIPTS = CHECKOUT / "scripts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _hold(code_env: dict[str, str], lock_code: str) -> subprocess.Popen:
    """A child process that takes a lock, prints 'held' and sleeps."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import time\nfrom quxian import cluster\n{lock_code}\n    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=code_env,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip(
            "redis-server is not installed (apt-get install redis-server; make cluster-demo installs it)"
        )
    port = _free_port()
    proc = subprocess.Popen(
        [
            server,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not listen"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_host_lease_on_one_machine_refuses_a_second_crawler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QUXIAN_LOCK_DIR", str(tmp_path))
    monkeypatch.delenv("QUXIAN_LOCK_URL", raising=False)
    holder = _hold(dict(os.environ), "with cluster.host_lease(['dpaper.sxcm.net']):")
    try:
        with pytest.raises(cluster.LockBusy, match=f"pid {holder.pid}"):
            with cluster.host_lease(["dpaper.sxcm.net"], wait=False):
                pass
        # Another host is free meanwhile.
        with cluster.host_lease(["www.bswxw.org.cn"], wait=False):
            pass
    finally:
        holder.kill()
        holder.wait()
    with cluster.host_lease(["dpaper.sxcm.net"], wait=False):
        pass


def test_outlets_sharing_a_host_share_its_lease(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # sxdsb and wzsb are two papers on dpaper.sxcm.net: a polite crawl of one blocks the other.
    monkeypatch.setenv("QUXIAN_LOCK_DIR", str(tmp_path))
    monkeypatch.delenv("QUXIAN_LOCK_URL", raising=False)
    holder = _hold(dict(os.environ), "with cluster.outlet_lease('sxdsb', True):")
    try:
        with pytest.raises(cluster.LockBusy):
            with cluster.host_lease(["dpaper.sxcm.net"], wait=False):
                pass
        with cluster.outlet_lease("wzsb", False):  # impolite (offline) crawls take no lease
            pass
    finally:
        holder.kill()
        holder.wait()


def test_a_polite_batch_leases_every_host_of_the_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QUXIAN_LOCK_DIR", str(tmp_path))
    monkeypatch.delenv("QUXIAN_LOCK_URL", raising=False)
    holder = _hold(dict(os.environ), "with cluster.outlet_lease(['xinyubao', 'sxdsb'], True):")
    try:
        for host in ("xyb.txdzw.com", "dpaper.sxcm.net"):
            with pytest.raises(cluster.LockBusy):
                with cluster.host_lease([host], wait=False):
                    pass
        with cluster.host_lease(["epaper.ccs.cn"], wait=False):  # not in the batch
            pass
    finally:
        holder.kill()
        holder.wait()


def test_redis_lock_is_cluster_wide_and_expires(redis_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QUXIAN_LOCK_URL", redis_url)
    holder = _hold(dict(os.environ), "with cluster.named_lock('lake:s3://b/lake', ttl=8):")
    try:
        with pytest.raises(cluster.LockBusy, match=f"pid {holder.pid} on {re.escape(socket.gethostname())}"):
            with cluster.named_lock("lake:s3://b/lake", wait=False):
                pass
    finally:
        holder.kill()
        holder.wait()
    # The holder died without releasing: the lock's expiry frees it (a dead machine cannot unlock).
    with pytest.raises(cluster.LockBusy):
        with cluster.named_lock("lake:s3://b/lake", wait=False):
            pass
    time.sleep(8.2)
    with cluster.named_lock("lake:s3://b/lake", wait=False):
        pass


def test_crawl_pool_policy_applies_to_the_mapped_crawl_only():
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(CHECKOUT / "dags")).dags["quxian_nightly"]
    for task in dag.tasks:
        cluster.task_policy(task)
    pools = {t.task_id: t.pool for t in dag.tasks}
    assert pools["crawl"] == cluster.CRAWL_POOL
    assert {p for tid, p in pools.items() if tid != "crawl"} == {"default_pool"}


def test_worker_hostname_names_the_worker(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QUXIAN_WORKER_NAME", "worker2")
    assert cluster.worker_hostname() == f"worker2@{socket.getfqdn()}"


def _listening_pgids() -> dict[int, list[str]]:
    """Listening TCP sockets by the process group of their owner: pgid → local addresses."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    found: dict[int, list[str]] = {}
    for line in out.splitlines():
        local = line.split()[3]
        for pid in re.findall(r"pid=(\d+)", line):
            try:
                found.setdefault(os.getpgid(int(pid)), []).append(local)
            except ProcessLookupError:
                continue
    return found


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_cluster_runs_the_nightly_dag_on_two_celery_workers(tmp_path: Path):
    work = tmp_path / "cluster"
    env = dict(os.environ, QUXIAN_CLUSTER_DIR=str(work), QUXIAN_CLUSTER_WORKERS="2")
    for k in ("QUXIAN_DATA", "QUXIAN_REGISTRY", "QUXIAN_OFFLINE_URL", "AIRFLOW_HOME"):
        env.pop(k, None)
    env = {k: v for k, v in env.items() if not k.startswith("AIRFLOW__")}
    up = subprocess.run([str(SCRIPTS / "cluster-up.sh")], env=env, capture_output=True, text=True)
    pids = (
        {p.stem: int(p.read_text()) for p in (work / "pids").glob("*.pid")}
        if (work / "pids").exists()
        else {}
    )
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert {
            "postgres",
            "redis",
            "sites",
            "api-server",
            "scheduler",
            "dag-processor",
            "worker1",
            "worker2",
        } <= set(pids)
        # Every socket the cluster's process groups listen on is on loopback.
        listening = _listening_pgids()
        ours = {name: listening.get(pid, []) for name, pid in pids.items()}
        assert ours["postgres"] and ours["redis"] and ours["api-server"] and ours["sites"]
        for name, addrs in ours.items():
            assert all(a.startswith("127.0.0.1:") for a in addrs), f"{name} listens on {addrs}"
        run = subprocess.run(
            [str(SCRIPTS / "cluster-run.sh"), "test-cluster", "2025-11-13", "2025-11-15", "[]", "1500"],
            env=env,
            capture_output=True,
            text=True,
        )
        result = json.loads(run.stdout.strip().splitlines()[-1])
        assert run.returncode == 0 and result["state"] == "success", (result, run.stderr)
        assert result["failed"] == []
        assert result["crawls"] == 8 and result["crawl_pool"] == cluster.CRAWL_POOL
        # The mapped crawls were spread over both workers.
        assert set(result["crawls_by_worker"]) == {"worker1", "worker2"}, result
        summary = json.loads((work / "data" / "runs" / "2025-11-13_2025-11-15" / "summary.json").read_text())
        assert summary["failed_outlets"] == [] and summary["versions"] > 50
        from quxian.lakeviews import connect

        con = connect(work / "data" / "lake")
        assert con.execute("SELECT count(*) FROM article_versions").fetchone()[0] == summary["versions"]
    finally:
        down = subprocess.run([str(SCRIPTS / "cluster-down.sh")], env=env, capture_output=True, text=True)
    assert down.returncode == 0, down.stdout + down.stderr
    for pid in pids.values():
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)  # the whole group is gone
