"""`plugboard dev` flags: provided serving certificates, client-certificate authentication, bad flags; the allocator tuning."""
import os
import subprocess

import requests

from conftest import DevServer, plugboard_binary


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(d):
    """A CA, a serving certificate for 127.0.0.1 and a client certificate, made with openssl."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
            "-days", "2", "-subj", "/CN=test-ca", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign", cwd=d)
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost", cwd=d)
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext", cwd=d)
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "client.key", "-out", "client.csr", "-subj", "/O=dev/CN=alice", cwd=d)
    openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.crt", "-days", "2", "-extfile", "client.ext", cwd=d)
    (d / "chain.crt").write_text((d / "server.crt").read_text() + (d / "ca.crt").read_text())


def test_provided_certificate_and_client_ca(tmp_path):
    make_pki(tmp_path)
    server = DevServer(tmp_path, extra_args=["--tls-cert-file", str(tmp_path / "chain.crt"), "--tls-key-file", str(tmp_path / "server.key"),
                                             "--client-ca-file", str(tmp_path / "ca.crt")])
    try:
        plain = requests.Session()
        plain.trust_env = False
        ca = str(tmp_path / "ca.crt")
        # The server presents the provided certificate: a client trusting only our CA verifies it.
        assert plain.get(server.url + "/healthz", verify=ca, timeout=5).status_code == 200
        # A client certificate from the client CA authenticates without a token...
        cert = (str(tmp_path / "client.crt"), str(tmp_path / "client.key"))
        assert plain.get(server.url + "/api/v1/namespaces", verify=ca, cert=cert, timeout=5).status_code == 200
        # ...and without either the request is refused.
        assert plain.get(server.url + "/api/v1/namespaces", verify=ca, timeout=5).status_code == 401
        # kubectl with the written kubeconfig (token, provided chain as CA) works too.
        assert "default" in server.kubectl("get", "namespaces").stdout
    finally:
        server.stop()
    assert server.process.returncode == 0


def test_bad_flags_are_rejected_with_the_flag_named(tmp_path):
    cases = [
        (["--listen", "nowhere"], "--listen"),
        (["--listen", "127.0.0.1:99999"], "--listen"),
        (["--tls-cert-file", str(tmp_path / "missing.crt")], "--tls-cert-file and --tls-key-file go together"),
        (["--tls-cert-file", str(tmp_path / "missing.crt"), "--tls-key-file", str(tmp_path / "missing.key")], "--tls-cert-file: cannot read"),
        (["--log-level", "loud"], "--log-level"),
        (["--metrics-address", "nowhere"], "--metrics-address"),
        (["--metrics-address", "127.0.0.1:70000"], "--metrics-address"),
        (["--api-only", "--metrics-address", "127.0.0.1:0"], "--api-only cannot be combined with --metrics-address"),
        (["--no-auth", "--client-ca-file", "x"], "--no-auth cannot be combined"),
    ]
    for args, message in cases:
        result = subprocess.run([str(plugboard_binary()), "dev", "--kubeconfig-out", str(tmp_path / "kc"), *args],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode != 0, args
        assert message in result.stderr, (args, result.stderr)


def largest_anonymous_writable_mapping_mib(pid):
    """The largest readable and writable anonymous mapping of a process, in MiB, from /proc/PID/maps."""
    largest = 0
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            fields = line.split()
            if fields[1] == "rw-p" and len(fields) == 5:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                largest = max(largest, (end - start) >> 20)
    return largest


def test_allocator_tuning_opens_glibc_heaps_whole_unless_the_environment_sets_malloc(tmp_path):
    """glibc heaps opened whole (64 MiB read-write) by the top pad; a malloc setting in the environment is kept instead."""
    (tmp_path / "tuned").mkdir()
    server = DevServer(tmp_path / "tuned")
    try:
        tuned = largest_anonymous_writable_mapping_mib(server.process.pid)
    finally:
        server.stop()
    assert "tuning=applied (top pad 64 MiB, mmap threshold 4 MiB)" in server.log_path.read_text()
    assert tuned >= 64

    (tmp_path / "kept").mkdir()
    env = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.top_pad=131072")
    server = DevServer(tmp_path / "kept", env=env)
    try:
        kept = largest_anonymous_writable_mapping_mib(server.process.pid)
    finally:
        server.stop()
    assert "tuning=kept the malloc settings of GLIBC_TUNABLES" in server.log_path.read_text()
    assert kept < 64
