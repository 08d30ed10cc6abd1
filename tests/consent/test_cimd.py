"""Client ID Metadata Documents, served by the test itself over HTTPS on loopback (MCP
2025-11-25; draft-ietf-oauth-client-id-metadata-document)."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.test import Client

from consent.models import ClientRegistration, OAuthClient
from tests.consent.helpers import (
    authorize_params,
    authorize_url,
    consent,
    exchange,
    logged_in,
    pkce_pair,
)

REDIRECT = "http://127.0.0.1/callback"


def _self_signed(directory) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


class DocumentServer:
    """An HTTPS server on 127.0.0.1 answering from `routes` and counting hits per path."""

    def __init__(self, cert: str, key: str) -> None:
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.hits: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                status, headers, body = server.routes.get(self.path, (404, {}, b"{}"))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.base = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def document(self, path: str, data: dict | None = None, *, headers=None, status=200, raw=None):
        url = self.base + path
        body = (
            raw
            if raw is not None
            else json.dumps(
                data
                if data is not None
                else {"client_id": url, "client_name": "Doc Client", "redirect_uris": [REDIRECT]}
            ).encode()
        )
        self.routes[path] = (status, {"Content-Type": "application/json", **(headers or {})}, body)
        return url

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def documents(tmp_path, settings):
    cert, key = _self_signed(tmp_path)
    settings.CIMD_ALLOW_PRIVATE_ADDRESSES = True
    settings.CIMD_CA_BUNDLE = cert
    server = DocumentServer(cert, key)
    yield server
    server.close()


def _authorize(browser, client_id, **overrides):
    verifier, challenge = pkce_pair()
    overrides.setdefault("redirect_uri", "http://127.0.0.1:4567/callback")
    params = authorize_params(
        OAuthClient(client_id=client_id, redirect_uris=[REDIRECT]), challenge, **overrides
    )
    return browser.get(authorize_url(params)), params, verifier


def test_metadata_document_client_completes_the_flow(user, documents):
    client_id = documents.document("/clients/tool.json", headers={"Cache-Control": "max-age=600"})
    browser = logged_in(user)
    page, params, verifier = _authorize(browser, client_id)
    assert page.status_code == 200, page.content[:300]
    html = page.content.decode()
    assert "Client information published by <strong>127.0.0.1</strong>" in html
    assert "Unverified application" in html
    assert "<strong>127.0.0.1:4567</strong>" in html
    client = OAuthClient.objects.get(client_id=client_id)
    assert client.registration == ClientRegistration.METADATA_DOCUMENT
    assert client.client_name == "Doc Client"
    query = consent(browser, params)
    client.redirect_uris = ["http://127.0.0.1:4567/callback"]
    result = exchange(Client(), client, query["code"], verifier)
    assert result["status"] == 200, result["body"]
    # Cached per Cache-Control: the second authorization does not fetch again.
    _authorize(browser, client_id)
    assert documents.hits["/clients/tool.json"] == 1


def test_a_no_store_document_is_fetched_again(user, documents):
    client_id = documents.document("/clients/nostore.json", headers={"Cache-Control": "no-store"})
    browser = logged_in(user)
    _authorize(browser, client_id)
    _authorize(browser, client_id)
    assert documents.hits["/clients/nostore.json"] == 2


@pytest.mark.parametrize(
    ("data", "case"),
    [
        (
            {
                "client_id": "https://elsewhere.example/doc.json",
                "client_name": "X",
                "redirect_uris": [REDIRECT],
            },
            "client_id mismatch",
        ),
        ({"client_name": "X", "redirect_uris": [REDIRECT]}, "no client_id"),
        ({"client_id": "{url}", "redirect_uris": [REDIRECT]}, "no client_name"),
        ({"client_id": "{url}", "client_name": "X"}, "no redirect_uris"),
        (
            {
                "client_id": "{url}",
                "client_name": "X",
                "redirect_uris": [REDIRECT],
                "token_endpoint_auth_method": "client_secret_basic",
            },
            "secret auth",
        ),
    ],
)
def test_unacceptable_documents_are_refused_with_an_error_page(user, documents, data, case):
    path = "/clients/bad.json"
    url = documents.base + path
    documents.document(path, json.loads(json.dumps(data).replace("{url}", url)))
    page, _, _ = _authorize(logged_in(user), url)
    assert page.status_code == 400, case
    assert "Location" not in page
    assert not OAuthClient.objects.filter(client_id=url).exists()


def test_redirect_uri_must_be_listed_in_the_document(user, documents):
    client_id = documents.document("/clients/tool.json")
    page, _, _ = _authorize(logged_in(user), client_id, redirect_uri="https://attacker.example/cb")
    assert page.status_code == 400
    assert "Location" not in page


def test_private_addresses_are_refused_unless_allowed(user, documents, settings):
    settings.CIMD_ALLOW_PRIVATE_ADDRESSES = False
    client_id = documents.document("/clients/tool.json")
    page, _, _ = _authorize(logged_in(user), client_id)
    assert page.status_code == 400
    assert b"non-public address" in page.content
    assert documents.hits.get("/clients/tool.json") is None


def test_redirects_are_not_followed(user, documents):
    target = documents.document("/clients/real.json")
    path = "/clients/moved.json"
    documents.routes[path] = (302, {"Location": target}, b"")
    page, _, _ = _authorize(logged_in(user), documents.base + path)
    assert page.status_code == 400
    assert documents.hits.get("/clients/real.json") is None


def test_oversized_documents_are_refused(user, documents):
    url = documents.base + "/clients/big.json"
    big = {"client_id": url, "client_name": "Big", "redirect_uris": [REDIRECT], "pad": "x" * 70000}
    documents.document("/clients/big.json", big)
    page, _, _ = _authorize(logged_in(user), url)
    assert page.status_code == 400
    assert b"too large" in page.content


def test_an_untrusted_certificate_is_refused(user, documents, settings):
    settings.CIMD_CA_BUNDLE = None
    client_id = documents.document("/clients/tool.json")
    page, _, _ = _authorize(logged_in(user), client_id)
    assert page.status_code == 400
    assert not OAuthClient.objects.filter(client_id=client_id).exists()


@pytest.mark.parametrize(
    "client_id",
    ["http://127.0.0.1/client.json", "https://127.0.0.1/", "https://127.0.0.1/a/../b.json"],
)
def test_client_ids_that_are_not_https_urls_with_a_path_are_unknown_clients(user, client_id):
    page, _, _ = _authorize(logged_in(user), client_id)
    assert page.status_code == 400
    assert "Location" not in page


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 30000 + b"]" * 30000,
        b'{"a":' * 10000 + b"1" + b"}" * 10000,
        b'{"client_id":"x","pad":' + b"[" * 900 + b"]" * 900 + b"}",
    ],
    ids=["arrays-30000", "objects-10000", "arrays-900-inside-a-document"],
)
def test_a_deeply_nested_document_is_refused_not_a_500(user, documents, raw):
    url = documents.document("/clients/deep.json", raw=raw)
    page, _, _ = _authorize(logged_in(user), url)
    assert page.status_code == 400
    assert b"nested too deeply" in page.content
    assert not OAuthClient.objects.filter(client_id=url).exists()
