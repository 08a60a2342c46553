"""The heart-disease Flower App (deploy/heart_fl): its pieces in-process (fast), and the real
thing (``slow``): a SuperLink and four SuperNodes as OS processes with TLS and node
authentication, the failure drill, and Flower's simulation engine -- each compared with
:func:`fedlite.run_federated` on the same hospitals, seeds and initial model.

Every process a test starts binds 127.0.0.1, runs with ``FLWR_HOME`` in the test's temporary
folder and ``FLWR_DISABLE_UPDATE_CHECK=1``, and is stopped (whole process groups, plus anything
carrying that ``FLWR_HOME``) when the test ends, passed or failed.
"""

from __future__ import annotations

import http.client
import shutil
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

pytest.importorskip("flwr", reason="Flower is an optional extra: pip install -e '.[flower]'")

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "deploy"), str(REPO / "deploy" / "heart_fl")]

import flower_local as fl  # noqa: E402
from heart_fl.client_app import local_scores, local_update  # noqa: E402
from heart_fl.server_app import CountingGrid  # noqa: E402
from heart_fl.task import (CHOL, fingerprint, hospital_of, impute_summaries, load_hospital,  # noqa: E402
                           make_global_model, missing_chol_count)

from fedlite import LocalConfig, pool, run_federated  # noqa: E402
from fedlite.data import Data  # noqa: E402
from fedlite.datasets import load_heart_disease  # noqa: E402
from fedlite.datasets.heart import heart_hospitals  # noqa: E402
from fedlite.datasets.catalog import HOSPITALS  # noqa: E402
from fedlite.heterogeneity.normalize import (combine_summaries, federated_mean_std, impute_missing,  # noqa: E402
                                             standardize, summary_stats)
from fedlite.simulation import round_seed  # noqa: E402
from fedlite.client import local_train  # noqa: E402

ROUNDS = 2
SETTINGS = {"num-server-rounds": ROUNDS, "round-timeout": 600.0}
TOL = 1e-6   # Flower averages in float32, fedlite in float64 (see notebook 08)


# ---------------------------------------------------------------- fast: the pieces, in one process

def test_node_config_names_the_hospital() -> None:
    assert hospital_of({"hospital": "VA"}) == "va"
    assert hospital_of({"partition-id": 1, "num-partitions": 4}) == "hungarian"
    with pytest.raises(ValueError, match="does not say which hospital"):
        hospital_of({})
    with pytest.raises(ValueError, match="partition-id 4"):
        hospital_of({"partition-id": 4})
    with pytest.raises(ValueError, match="unknown hospital"):
        hospital_of({"hospital": "mayo"})


def test_a_node_reads_its_own_file_only(tmp_path: Path) -> None:
    heart = load_heart_disease()
    for h in HOSPITALS:
        splits, source = load_hospital(h)
        assert source == "synthetic" or source.endswith(f"processed.{h}.data")
        assert fingerprint(splits["train"]) == fingerprint(heart[h]["train"])
        assert fingerprint(splits["test"]) == fingerprint(heart[h]["test"])
    wrong = tmp_path / "processed.va.data"
    wrong.write_text("")
    with pytest.raises(ValueError, match="hospital='cleveland' but data-file is 'processed.va.data'"):
        load_hospital("cleveland", str(wrong))
    with pytest.raises(ValueError, match="does not exist"):
        load_hospital("va", str(tmp_path / "missing" / "processed.va.data"))


def test_combine_summaries_is_the_pooled_mean_and_std() -> None:
    g = torch.Generator().manual_seed(0)
    parts = [torch.randn(n, 3, generator=g, dtype=torch.float64) * s + m
             for n, s, m in ((5, 1.0, 0.0), (40, 3.0, 10.0), (2, 0.5, -4.0))]   # unequal sizes
    pooled = torch.cat(parts)
    from fedlite.data import Data
    datas = [Data(p.float(), torch.zeros(len(p), dtype=torch.long)) for p in parts]
    mean, std = combine_summaries([summary_stats(d) for d in datas])
    x = torch.cat([d.x for d in datas]).double()
    assert torch.allclose(mean.double(), x.mean(0), atol=1e-5)
    assert torch.allclose(std.double(), x.std(0, unbiased=False), atol=1e-5)
    assert torch.equal(torch.stack(federated_mean_std(datas)), torch.stack((mean, std)))
    assert pooled.shape == (47, 3)
    with pytest.raises(ValueError, match="at least one"):
        combine_summaries([])


def test_server_imputation_from_sums_is_the_courses() -> None:
    """Raw sums + counts of missing cholesterol give heart_hospitals()'s fill, mean and std."""
    heart = load_heart_disease()
    trains = [heart[h]["train"] for h in HOSPITALS]
    missing = [missing_chol_count(d) for d in trains]
    assert missing[HOSPITALS.index("switzerland")] == len(heart["switzerland"]["train"]) or heart.synthetic
    fill, stats = impute_summaries([summary_stats(d) for d in trains], missing)
    mean, std = combine_summaries(stats)
    course = heart_hospitals(heart)
    assert mean.shape == (14,) and torch.allclose(mean, course.mean, rtol=1e-6, atol=0)
    assert torch.allclose(std, course.std, rtol=1e-6, atol=0)
    # answer key by hand: unequal hospitals, chol in column CHOL; 0 = not measured
    rows = [[[0.0] * CHOL + [200.0]], [[0.0] * CHOL + [0.0], [0.0] * CHOL + [260.0], [0.0] * CHOL + [0.0]]]
    parts = [Data(torch.tensor(r), torch.zeros(len(r), dtype=torch.long)) for r in rows]
    fill, stats = impute_summaries([summary_stats(d) for d in parts], [missing_chol_count(d) for d in parts])
    assert fill == 230.0                                   # (200 + 260) / 2 measured values
    chol_mean, chol_std = combine_summaries(stats)
    assert chol_mean[CHOL] == pytest.approx((200 + 260 + 2 * 230) / 4)
    assert chol_mean[-1] == pytest.approx(0.5) and chol_std[-1] == pytest.approx(0.5)   # 2 of 4 missing
    pooled = torch.cat([impute_missing(d, CHOL, fill).x for d in parts]).double()
    assert torch.allclose(chol_std.double(), pooled.std(0, unbiased=False), atol=1e-4)
    with pytest.raises(ValueError, match="missing in every training row"):
        impute_summaries([summary_stats(parts[1])], [3])
    with pytest.raises(ValueError, match="between 0 and its n_k"):
        impute_summaries([summary_stats(parts[1])], [4])


def test_one_client_step_is_fedlites_local_training() -> None:
    """The ClientApp's train/evaluate, called directly, equal local_train/evaluate on heart_hospitals()'s rows."""
    heart = load_heart_disease()
    course = heart_hospitals(heart)
    trains = [heart[h]["train"] for h in HOSPITALS]
    fill, _ = impute_summaries([summary_stats(d) for d in trains], [missing_chol_count(d) for d in trains])
    config = {"seed": 3, "lr": 0.05, "batch-size": 16, "local-epochs": 1, "server-round": 2,
              "chol-fill": fill, "mean": course.mean.tolist(), "std": course.std.tolist()}
    state = make_global_model(3).state_dict()
    got = local_update("switzerland", heart["switzerland"]["train"], state, config)
    model = make_global_model(3)
    k = course.names.index("switzerland")
    want = local_train(model, course.trains[k], LocalConfig(batch_size=16, lr=0.05), seed=round_seed(3, 2, 2))
    assert got.num_samples == len(heart["switzerland"]["train"]) and got.loss == want.loss
    for key in want.state:
        assert torch.equal(got.state[key], want.state[key])
    scores = local_scores(heart["va"]["test"], want.state, config)
    from fedlite.metrics import evaluate
    model.load_state_dict(want.state)
    assert scores == evaluate(model, course.tests[course.names.index("va")])


def test_certificates_are_what_flower_loads(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_ssh_private_key, load_ssh_public_key
    subprocess.run([sys.executable, str(REPO / "deploy" / "certs.py"), str(tmp_path), "--ip", "127.0.0.1",
                    "--ip", "10.77.0.1", "--node", "va"], check=True, capture_output=True, timeout=60)
    cert = x509.load_pem_x509_certificate((tmp_path / "server.pem").read_bytes())
    ips = {str(ip) for ip in cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
           .get_values_for_type(x509.IPAddress)}
    assert ips == {"127.0.0.1", "10.77.0.1"}
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.crt").read_bytes())
    cert.verify_directly_issued_by(ca)
    private = load_ssh_private_key((tmp_path / "va").read_bytes(), None)
    public = load_ssh_public_key((tmp_path / "va.pub").read_bytes())
    assert isinstance(private, ec.EllipticCurvePrivateKey) and private.curve.name == "secp384r1"
    assert private.public_key().public_numbers() == public.public_numbers()
    assert oct((tmp_path / "va").stat().st_mode & 0o777) == "0o600"


def test_counting_grid_logs_who_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    import heart_fl.server_app as server_app
    monkeypatch.setattr(server_app, "wire_bytes", lambda msg: 10)
    class Reply:
        def __init__(self, node: int, error: bool) -> None:
            self.metadata = type("M", (), {"src_node_id": node, "message_type": "train",
                                           "reply_to_message_id": f"m{node}"})()
            self.error = type("E", (), {"reason": "gone"})()
            self._error, self.content = error, type("C", (), {"array_records": {}})()

        def has_error(self) -> bool:
            return self._error

    class Grid:
        def send_and_receive(self, messages, timeout=None):
            return [Reply(1, False), Reply(2, True)]

    grid = CountingGrid(Grid())  # type: ignore[arg-type]
    replies = grid.send_and_receive([], timeout=1)
    assert len(list(replies)) == 2
    assert grid.log[0]["replied"] == [1] and grid.log[0]["errors"] == [{"node": 2, "reason": "gone"}]
    assert grid.log[0]["bytes_up"] == 10          # only the reply that arrived counts


def test_processes_are_stopped_with_their_children(tmp_path: Path) -> None:
    """A parent that starts a child in its own session (as a SuperNode starts flower-superexec):
    stopping the parent's group alone would leave the child; Processes stops both."""
    env = fl.flower_env(tmp_path / "home")
    child = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True); print('ready', flush=True); time.sleep(60)"
    with fl.Processes(tmp_path / "logs", env) as procs:
        parent = procs.start("parent", [sys.executable, "-c", child])
        procs.wait_for(parent, "ready", 30)
        time.sleep(0.3)
        procs.watch()
        assert len(procs.alive()) == 2
    assert procs.alive() == []
    with fl.Processes(tmp_path / "logs2", env) as procs:
        dead = procs.start("dead", [sys.executable, "-c", "raise SystemExit(3)"])
        with pytest.raises(RuntimeError, match="exited with code 3"):
            procs.wait_for(dead, "never", 30)


# ---------------------------------------------------------------- slow: real processes

def reference(settings: dict, drop: tuple[str, int] | None = None) -> tuple[list[dict], dict]:
    """fedlite's run of the same settings; ``drop=(hospital, round)``: that hospital's
    updates stop arriving from that round on (the failure drill)."""
    history, state = fl.fedlite_reference(settings, drop=drop)
    return [r.test for r in history.rounds], state


def assert_same_model(out: Path, state: dict) -> float:
    got = fl.load_state(out)
    assert list(got) == list(state)
    gap = max(float((got[k] - state[k]).abs().max()) for k in state)
    assert gap < TOL, f"Flower's final weights differ from fedlite's by {gap:.2e}"
    return gap


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("deploy")
    procs = fl.Processes(work / "logs", fl.flower_env(work / "flwr_home"))
    try:
        yield fl.start_deployment(procs, work, timeout=180)
    finally:
        procs.stop_all()
        assert procs.alive() == [], "Flower processes survived the test"


@pytest.mark.slow
def test_deployment_equals_fedlite(deployment: fl.Deployment) -> None:
    report = deployment.run(SETTINGS, timeout=600)
    metrics, state = reference(SETTINGS)
    assert_same_model(report.out, state)
    for t, want in enumerate(metrics, start=1):
        got = report.result["evaluate"][str(t)]
        assert got["accuracy"] == pytest.approx(want["accuracy"], abs=1e-9)
        assert got["loss"] == pytest.approx(want["loss"], abs=1e-5)
    heart = load_heart_disease()
    loaded = report.result["loaded"]
    assert sorted(loaded) == sorted(HOSPITALS)
    for h, who in loaded.items():   # each SuperNode read its own hospital's rows, and only those
        assert who["train-fingerprint"] == fingerprint(heart[h]["train"])
        assert who["test-fingerprint"] == fingerprint(heart[h]["test"])
        assert who["n-train"] == len(heart[h]["train"])
        assert who["source"] == "synthetic" or who["source"].endswith(f"processed.{h}.data")
    train_msgs = [m for m in report.result["messages"] if m["type"] == "train"]
    assert len(train_msgs) == ROUNDS and all(sorted(m["replied"]) == sorted(HOSPITALS) for m in train_msgs)
    assert all(m["payload_up"] >= 4 * 120 for m in train_msgs)   # at least the 30 float32 weights x 4


@pytest.mark.slow
def test_tls_is_on_and_plaintext_is_refused(deployment: fl.Deployment) -> None:
    host, port = fl.read_address(deployment.work)
    plain = http.client.HTTPConnection(host, port, timeout=10)
    with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
        plain.request("GET", "/health")
        plain.getresponse().read()
    context = ssl.create_default_context(cafile=str(deployment.work / "certs" / "ca.crt"))
    secure = http.client.HTTPSConnection(host, port, timeout=10, context=context)
    secure.request("GET", "/health")
    assert secure.getresponse().status < 500          # the same port speaks TLS with our CA
    untrusted = http.client.HTTPSConnection(host, port, timeout=10, context=ssl.create_default_context())
    with pytest.raises(ssl.SSLError):
        untrusted.request("GET", "/health")


@pytest.mark.slow
def test_an_unregistered_supernode_is_refused(deployment: fl.Deployment) -> None:
    certs = deployment.work / "certs"
    subprocess.run([sys.executable, str(REPO / "deploy" / "certs.py"), str(deployment.work / "intruder"),
                    "--node", "intruder"], check=True, capture_output=True, timeout=60)
    host, port = fl.read_address(deployment.work)
    intruder = deployment.procs.start("intruder", [str(fl.BIN / "flower-supernode"), "--superlink", f"{host}:{port}",
                                                  "--root-certificates", str(certs / "ca.crt"),
                                                  "--auth-supernode-private-key", str(deployment.work / "intruder" / "intruder"),
                                                  "--node-config", 'hospital="va"', "--port", str(fl.free_port()),
                                                  "--max-retries", "2", "--max-wait-time", "20"])
    try:
        intruder.popen.wait(timeout=120)
    except subprocess.TimeoutExpired:
        pass
    log = intruder.text()
    deployment.procs.kill("intruder")
    assert "SuperNode ID:" not in log, log[-2000:]                      # never admitted
    assert "Failed to activate SuperNode" in log, log[-2000:]           # Flower 1.42: exit code 305
    superlink = deployment.procs.procs["superlink"].text()
    assert "No SuperNode found with the given public key" in superlink  # refused for its unknown key


@pytest.mark.slow
def test_failure_drill_a_killed_hospital_is_left_out(deployment: fl.Deployment) -> None:
    """VA's SuperNode is killed between rounds 1 and 2. Round 2 is still sent to VA (Flower does
    not know yet), waits until the SuperLink declares VA unavailable (missed heartbeats), and FedAvg
    averages the three that answered -- what fedlite's dropout (an update that never arrives) computes."""
    drill = fl.run_drill(deployment, rounds=2, hospital="va")
    train = [m for m in drill["messages"] if m["type"] == "train"]
    assert sorted(train[0]["replied"]) == sorted(HOSPITALS)
    assert sorted(train[1]["sent_to"]) == sorted(HOSPITALS)                  # VA was still "connected" ...
    assert sorted(train[1]["replied"]) == sorted(set(HOSPITALS) - {"va"})    # ... but never answered
    assert [e["node"] for e in train[1]["errors"]] == ["va"]
    assert "Unavailable" in train[1]["errors"][0]["reason"]
    assert train[1]["seconds"] < drill["round_timeout"] - 1                   # ended by Flower, not our clock
    _, state = reference({"num-server-rounds": 2}, drop=("va", 2))
    assert_same_model(deployment.work / "drill", state)


@pytest.mark.slow
def test_simulation_equals_fedlite(tmp_path: Path) -> None:
    try:
        report = fl.simulate(tmp_path, SETTINGS, timeout=600)
    except fl.RayUnavailable as err:
        pytest.skip(f"Flower's simulation engine (Ray) could not start on this machine: {err}")
    _, state = reference(SETTINGS)
    assert_same_model(report.out, state)
    assert sorted(report.result["loaded"]) == sorted(HOSPITALS)


def _netns_available() -> str:
    """'' if this machine lets us make network namespaces, else why not."""
    if sys.platform != "linux" or not shutil.which("ip"):
        return "needs Linux with iproute2 (`ip`)"
    import os
    if os.geteuid() != 0:
        return "needs root (CI runs as root) to create network namespaces"
    probe = f"flprobe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, timeout=30)
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=30)
    return "" if made.returncode == 0 else f"`ip netns add` failed: {made.stderr.strip()}"


@pytest.mark.slow
def test_across_a_network_link_in_namespaces(tmp_path: Path) -> None:
    """SuperLink in one network namespace, the four SuperNodes (and the flwr CLI) in another,
    joined by a veth pair: the traffic really crosses a (virtual) link, and the result is fedlite's."""
    why = _netns_available()
    if why:
        pytest.skip(f"network-namespace test skipped: {why}")
    import os
    tag = os.getpid() % 200 + 20
    link_ns, site_ns = f"fllink{os.getpid()}", f"flsite{os.getpid()}"
    link_ip, site_ip = f"10.77.{tag}.1", f"10.77.{tag}.2"
    veth_link, veth_site = f"vl{os.getpid() % 100000}", f"vs{os.getpid() % 100000}"

    def ip(*args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)

    procs = fl.Processes(tmp_path / "logs", fl.flower_env(tmp_path / "flwr_home"))
    try:
        ip("netns", "add", link_ns)
        ip("netns", "add", site_ns)
        ip("link", "add", veth_link, "type", "veth", "peer", "name", veth_site)
        ip("link", "set", veth_link, "netns", link_ns)
        ip("link", "set", veth_site, "netns", site_ns)
        for ns, dev, addr in ((link_ns, veth_link, link_ip), (site_ns, veth_site, site_ip)):
            ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            ip("-n", ns, "link", "set", dev, "up")
            ip("-n", ns, "link", "set", "lo", "up")
        in_link, in_site = ["ip", "netns", "exec", link_ns], ["ip", "netns", "exec", site_ns]
        dep = fl.start_deployment(procs, tmp_path, superlink_host=link_ip, superlink_prefix=in_link,
                                  node_prefix=lambda h: in_site, cli_prefix=in_site, timeout=180)
        report = dep.run({"num-server-rounds": 1, "round-timeout": 600.0}, timeout=900)
        _, state = reference({"num-server-rounds": 1})
        assert_same_model(report.out, state)
        stats = subprocess.run(["ip", "-n", site_ns, "-s", "-j", "link", "show", veth_site], check=True,
                               capture_output=True, text=True, timeout=30).stdout
        import json
        counters = json.loads(stats)[0]["stats64"]
        assert counters["tx"]["bytes"] > 10_000 and counters["rx"]["bytes"] > 10_000, counters
    finally:
        procs.stop_all()
        for ns in (link_ns, site_ns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
    assert procs.alive() == []
