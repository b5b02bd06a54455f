"""An S3-compatible server for tests: moto in server mode on 127.0.0.1, reached over HTTP.

The server runs in a thread of the test process on a free port (never an in-process patch of
client calls); each :class:`S3TestServer` gets a fresh bucket. Needs the ``moto[server]`` and
``boto3`` packages (test dependencies, imported when a server starts).
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any

__all__ = ["S3Endpoint", "S3TestServer", "shared_s3_server", "stop_shared_s3_server"]

ACCESS_KEY = "datajoint-test-key"
SECRET_KEY = "datajoint-test-secret"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Endpoint:
    """Where a test S3 server listens and the bucket and credentials to use."""

    endpoint: str
    bucket: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    @property
    def endpoint_url(self) -> str:
        """The endpoint with its scheme (plain HTTP)."""
        return f"http://{self.endpoint}"

    def store_spec(self, location: str, **settings: Any) -> dict[str, Any]:
        """The settings of an ``s3`` store in this bucket under ``location``."""
        return {
            "protocol": "s3",
            "endpoint": self.endpoint,
            "bucket": self.bucket,
            "location": location,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "secure": False,
            **settings,
        }


class S3TestServer:
    """A moto S3 server on 127.0.0.1 at a free port, with a fresh bucket.

    ``start()`` returns the :class:`S3Endpoint`; ``stop()`` shuts the server down (again: no-op).
    """

    def __init__(self) -> None:
        self._server: Any = None
        self.endpoint: S3Endpoint | None = None

    def start(self) -> S3Endpoint:
        """Start the server and create the bucket (the server's request log is kept quiet)."""
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        self._server = server
        host, port = server.get_host_and_port()
        endpoint = S3Endpoint(endpoint=f"{host}:{port}", bucket=f"djtest-{uuid.uuid4().hex[:12]}")
        self._client(endpoint).create_bucket(Bucket=endpoint.bucket)
        self.endpoint = endpoint
        return endpoint

    def new_bucket(self) -> S3Endpoint:
        """Another fresh bucket on the running server."""
        if self.endpoint is None:
            raise RuntimeError("S3TestServer.new_bucket() needs a started server")
        endpoint = S3Endpoint(self.endpoint.endpoint, f"djtest-{uuid.uuid4().hex[:12]}")
        self._client(endpoint).create_bucket(Bucket=endpoint.bucket)
        return endpoint

    def stop(self) -> None:
        """Shut the server down."""
        server, self._server, self.endpoint = self._server, None, None
        if server is not None:
            server.stop()

    @staticmethod
    def _client(endpoint: S3Endpoint) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=endpoint.endpoint_url,
            aws_access_key_id=endpoint.access_key,
            aws_secret_access_key=endpoint.secret_key,
            region_name=REGION,
        )


_shared: S3TestServer | None = None
_shared_lock = threading.Lock()


def shared_s3_server() -> S3Endpoint:
    """The S3 server of this test process, started on first use (one per process)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.endpoint is None:
            server = S3TestServer()
            server.start()
            _shared = server
        assert _shared.endpoint is not None
        return _shared.endpoint


def stop_shared_s3_server() -> None:
    """Stop the server of :func:`shared_s3_server`, if it runs."""
    global _shared
    with _shared_lock:
        server, _shared = _shared, None
    if server is not None:
        server.stop()
